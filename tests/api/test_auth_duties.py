"""Separation of duties and reserved names: a key made for someone else is `key.issue` and
shows its issuer; the API makes no key for an auditor (only the server's command line does);
no user may take the name of one of the service's own actors."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select

from qalqan.service import auth, roles, users
from qalqan.store.db import Database
from qalqan.store.tables import ApiKey, AuditEntry

from .conftest import Api, make_service


def audit(api: Api, action: str) -> list[AuditEntry]:
    with api.service.db.session() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def keys_of(api: Api, name: str) -> list[dict[str, object]]:
    users = api.get("admin", "/users", params={"limit": 100}).json()["items"]
    return next(u["keys"] for u in users if u["name"] == name)


@pytest.mark.parametrize("name", ["system", "anonymous", "System", "ANONYMOUS", "key:0123456789ab", "cli:root"])
def test_the_services_own_actor_names_are_refused(db: Database, name: str) -> None:
    service = make_service(db, with_list=False)
    with pytest.raises(roles.AuthError, match="user name") as caught:
        users.create_user(service, name, "admin", actor="test")
    assert caught.value.field == "name"
    with service.db.session() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.create")).scalar_one() == 0


def test_the_api_refuses_reserved_names(api: Api) -> None:
    for name in ("system", "anonymous"):
        r = api.post("admin", "/users", json={"name": name, "role": "analyst"})
        assert r.status_code == 422, r.text
        detail = r.json()["detail"][0]
        assert detail["loc"] == ["body", "name"] and "reserved" in detail["msg"]


def test_a_key_for_someone_else_is_issued_and_shows_its_issuer(api: Api) -> None:
    assert api.post("admin", "/users", json={"name": "dana", "role": "analyst"}).status_code == 201
    r = api.post("admin", "/users/dana/keys", json={"label": "laptop"})
    assert r.status_code == 201, r.text
    prefix = r.json()["prefix"]
    [issued] = [e for e in audit(api, "key.issue") if e.target == f"key:{prefix}"]
    detail = orjson.loads(issued.detail)
    assert issued.actor == "admin" and detail["issuer"] == "admin" and detail["holder"] == "dana" and detail["role"] == "analyst"
    assert not [e for e in audit(api, "key.create") if e.target == f"key:{prefix}"]
    [listed] = keys_of(api, "dana")
    assert listed["prefix"] == prefix and listed["created_by"] == "admin"
    # An admin's own key stays `key.create`.
    r = api.post("admin", "/users/admin/keys", json={"label": "second"})
    assert r.status_code == 201
    own = r.json()["prefix"]
    [made] = [e for e in audit(api, "key.create") if e.target == f"key:{own}"]
    assert made.actor == "admin" and orjson.loads(made.detail)["user"] == "admin"
    assert {k["prefix"]: k["created_by"] for k in keys_of(api, "admin")}[own] == "admin"
    with api.service.db.session() as s:
        assert s.execute(select(ApiKey.created_by).where(ApiKey.prefix == prefix)).scalar_one() == "admin"


def test_the_api_makes_no_key_for_an_auditor(api: Api) -> None:
    with api.service.db.session() as s:
        before = s.execute(select(func.count()).select_from(ApiKey)).scalar_one()
    r = api.post("admin", "/users/auditor/keys", json={"label": "to act as them"})
    assert r.status_code == 403, r.text
    assert "auditor" in r.json()["detail"] and "qalqan keys create auditor" in r.json()["detail"]
    # Nor for a user the admin has just made an auditor.
    assert api.post("admin", "/users", json={"name": "eve", "role": "auditor"}).status_code == 201
    r = api.post("admin", "/users/eve/keys")
    assert r.status_code == 403 and "command line" in r.json()["detail"]
    with api.service.db.session() as s:
        assert s.execute(select(func.count()).select_from(ApiKey)).scalar_one() == before
    denied = [orjson.loads(e.detail) | {"actor": e.actor} for e in audit(api, "access.denied")]
    assert [(d["actor"], d["route"]) for d in denied] == [("admin", "POST /users/auditor/keys"), ("admin", "POST /users/eve/keys")]
    # The service itself (the command line's path) still can.
    key = users.create_key(api.service, "eve", actor="cli:operator")
    assert auth.authenticate(api.service, key) == roles.Principal("eve", "auditor", auth.parse_key(key) or "")
    [issued] = [e for e in audit(api, "key.issue") if orjson.loads(e.detail)["holder"] == "eve"]
    assert issued.actor == "cli:operator"


def test_bootstrap_admin_key_is_issued_by_the_system(db: Database) -> None:
    service = make_service(db, with_list=False)
    key = users.ensure_admin(service)
    assert key is not None
    [k] = users.list_keys(service, "admin")
    assert k["created_by"] == "system" and k["prefix"] == auth.parse_key(key)
    with pytest.raises(roles.NotFound):
        users.list_keys(service, "nobody")
