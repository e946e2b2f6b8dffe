"""Authentication and the request rules of the API: keys shown once and hashed, revocation,
login records, purposes, audit entries of screening, errors without stack traces, security
headers, bounded pages and bodies."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from qalqan.api import create_app
from qalqan.api.models import MAX_PAGE
from qalqan.api.security import route_permissions
from qalqan.service import auth, roles, users
from qalqan.store.db import Database
from qalqan.store.tables import ApiKey, AuditEntry

from .conftest import PURPOSE, Api, demo_person, make_keys, make_service


#: Threads that use one new key at the same moment (as the load test's clients do at start).
CONCURRENT = 12


def entries(api: Api, action: str) -> list[AuditEntry]:
    with api.service.db.session() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def match_body(name: str) -> dict[str, object]:
    return {"queries": {"q": {"schema": "Person", "properties": {"name": [name]}}}}


# -- keys ---------------------------------------------------------------------------------------


def test_key_is_shown_once_and_only_its_argon2_hash_is_stored(api: Api) -> None:
    r = api.post("admin", "/users", json={"name": "dana", "role": "analyst"})
    assert r.status_code == 201, r.text
    r = api.post("admin", "/users/dana/keys", json={"label": "laptop"})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    prefix = r.json()["prefix"]
    assert key.startswith(f"qk_{prefix}_") and auth.parse_key(key) == prefix
    with api.service.db.session() as s:
        row = s.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one()
        assert row.hash.startswith("$argon2id$") and key not in row.hash
        dumped = [str(v) for k in s.execute(select(ApiKey)).scalars() for v in vars(k).values()]
    assert not any(key in v for v in dumped)
    listed = api.get("admin", "/users").text
    assert prefix in listed and key not in listed  # never shown again
    assert key not in orjson.dumps([e.detail for e in entries(api, "key.create")]).decode()
    # The key works, by either header.
    assert api.client.get("/subjects", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert api.client.get("/subjects", headers={"X-API-Key": key}).status_code == 200


def test_revoked_key_is_refused_at_once(api: Api) -> None:
    key = api.keys["analyst"]
    assert api.get("analyst", "/alerts").status_code == 200  # verified and cached
    prefix = auth.parse_key(key)
    r = api.call("admin", "DELETE", f"/keys/{prefix}")
    assert r.status_code == 200 and r.json() == {"prefix": prefix, "revoked": True}
    r = api.get("analyst", "/alerts")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert api.call("admin", "DELETE", f"/keys/{prefix}").status_code == 404  # already revoked
    failed = entries(api, "login.failed")
    assert failed and failed[-1].target == f"key:{prefix}" and "revoked" in failed[-1].detail


def test_bad_keys_are_401_and_recorded_never_cached(api: Api) -> None:
    prefix = auth.parse_key(api.keys["analyst"])
    wrong = f"qk_{prefix}_{'A' * 43}"
    for key in (wrong, wrong, "not-a-key", f"qk_{'0' * 12}_{'B' * 43}"):
        r = api.client.get("/alerts", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    # The second wrong secret of the minute is counted, not written, until the counts are flushed.
    written = [(orjson.loads(e.detail)["reason"], orjson.loads(e.detail)["count"]) for e in entries(api, "login.failed")]
    assert written == [("wrong secret", 1), ("malformed key", 1), ("unknown key", 1)]
    assert auth.flush_failures(api.service) == 1
    written = [(orjson.loads(e.detail)["reason"], orjson.loads(e.detail)["count"]) for e in entries(api, "login.failed")]
    assert written[-1] == ("wrong secret", 1) and sum(n for _, n in written) == 4
    r = api.client.get("/alerts")
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["detail"]


def test_login_is_recorded_once_per_cache_period(api: Api) -> None:
    for _ in range(3):
        assert api.get("supervisor", "/subjects").status_code == 200
    logins = [e for e in entries(api, "login") if e.actor == "supervisor"]
    assert len(logins) == 1 and logins[0].target == f"key:{auth.parse_key(api.keys['supervisor'])}"
    auth.clear_cache(api.service)  # as when CACHE_TTL_SECONDS has passed
    assert api.get("supervisor", "/subjects").status_code == 200
    assert len([e for e in entries(api, "login") if e.actor == "supervisor"]) == 2
    with api.service.db.session() as s:
        assert s.execute(select(ApiKey.last_used_at).where(ApiKey.prefix == auth.parse_key(api.keys["supervisor"]))).scalar_one() is not None


def test_wrong_role_is_403_naming_the_permission(api: Api) -> None:
    r = api.get("auditor", "/alerts")
    assert r.status_code == 403 and "alerts:read" in r.json()["detail"] and "auditor" in r.json()["detail"]
    assert api.get("admin", "/audit").status_code == 403  # admins manage accounts; auditors read the log
    assert api.get("auditor", "/audit").status_code == 200


def test_ensure_admin_bootstraps_only_an_empty_store(db: Database) -> None:
    service = make_service(db, with_list=False)
    key = users.ensure_admin(service)
    assert key is not None and auth.authenticate(service, key) == roles.Principal("admin", "admin", auth.parse_key(key) or "")
    assert users.ensure_admin(service) is None


def test_user_and_role_are_checked(api: Api) -> None:
    r = api.post("admin", "/users", json={"name": "x y", "role": "analyst"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    r = api.post("admin", "/users", json={"name": "xy", "role": "root"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "role"]
    assert api.post("admin", "/users", json={"name": "analyst", "role": "analyst"}).status_code == 409
    assert api.post("admin", "/users/nobody/keys").status_code == 404


# -- screening: purpose and audit ----------------------------------------------------------------


def test_screening_needs_a_purpose(api: Api) -> None:
    body = match_body(demo_person()["name"])
    r = api.post("analyst", "/match/default", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "purpose"] and "purpose" in r.json()["detail"][0]["msg"]
    assert not entries(api, "screen")
    assert api.post("analyst", "/match/default", json=body, params={"purpose": "   "}).status_code == 422


def test_screening_is_audited_with_purpose_and_body_hash(api: Api) -> None:
    person = demo_person()
    raw = orjson.dumps(match_body(person["name"]))
    r = api.post("analyst", "/match/default", content=raw, headers={"Content-Type": "application/json", "X-Purpose": "onboarding, case 4711"})
    assert r.status_code == 200, r.text
    top = r.json()["responses"]["q"]["results"][0]
    [entry] = entries(api, "screen")
    assert entry.actor == "analyst" and entry.purpose == "onboarding, case 4711"
    assert entry.input_hash == hashlib.sha256(raw).hexdigest()
    assert top["id"] in entry.detail  # which listed entities matched is on record
    r = api.post("analyst", "/match/default", json=match_body("Someone Else"), params={"purpose": PURPOSE})
    assert r.status_code == 200 and entries(api, "screen")[-1].purpose == PURPOSE


# -- errors, headers, bounds ---------------------------------------------------------------------


def test_internal_error_shows_no_traceback(api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr("qalqan.service.alerts.list_alerts", broken)
    with caplog.at_level(logging.ERROR, logger="qalqan.api"):
        r = api.get("analyst", "/alerts")
    assert r.status_code == 500
    body = r.json()
    assert body["detail"] == "internal error" and set(body) == {"detail", "error_id"}
    assert "hunter2" not in r.text and "Traceback" not in r.text
    logged = "\n".join(rec.getMessage() + (rec.exc_text or "") for rec in caplog.records)
    assert body["error_id"] in logged and "hunter2" in logged  # the server log has the detail
    assert r.headers["x-content-type-options"] == "nosniff"


#: (role or None, method, url, expected status): one response of each kind.
HEADER_CASES = [
    ("admin", "GET", "/subjects", 200),
    (None, "GET", "/healthz", 200),
    (None, "GET", "/subjects", 401),
    ("auditor", "GET", "/subjects", 403),
    ("admin", "GET", "/subjects/nope?purpose=API+tests", 404),
    ("admin", "GET", "/subjects?limit=0", 422),
    (None, "GET", "/no/such/route", 404),
]


def test_security_headers_on_every_response(api: Api) -> None:
    for role, method, url, status in HEADER_CASES:
        r = api.call(role, method, url) if role else api.client.request(method, url)
        assert r.status_code == status, (url, r.text)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in r.headers  # plain HTTP here


def test_api_description_needs_a_key_unless_docs_are_public(api: Api, db: Database) -> None:
    # Default: no interactive pages; the description is a route like any other, for any role.
    assert api.client.get("/docs").status_code == 404
    assert api.client.get("/openapi.json").status_code == 401
    spec = api.get("auditor", "/openapi.json").json()
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
    # --public-docs: FastAPI's pages, with a policy that lets them load.
    with TestClient(create_app(api.service, public_docs=True)) as client:
        r = client.get("/docs")
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "cdn.jsdelivr.net" not in csp and "frame-ancestors 'none'" in csp
        assert client.get("/openapi.json").status_code == 200


def test_hsts_over_tls(db: Database) -> None:
    service = make_service(db, with_list=False)
    with TestClient(create_app(service), base_url="https://qalqan.example") as client:
        assert client.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


PAGED = ["/subjects", "/alerts", "/audit", "/users", "/jobs", "/lists/demo/versions", "/lists/demo/diff"]
ROLE_FOR = {"/audit": "auditor", "/users": "admin", "/jobs": "admin"}


def test_pages_are_bounded(api: Api) -> None:
    for url in PAGED:
        role = ROLE_FOR.get(url, "admin")
        r = api.get(role, url, params={"limit": MAX_PAGE + 1})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"], url
        assert api.get(role, url, params={"offset": -1}).status_code == 422, url
        r = api.get(role, url, params={"limit": 1})
        assert r.status_code == 200, (url, r.text)
        data = r.json()
        assert data["limit"] == 1 and "total" in data and data["offset"] == 0, url


def test_oversize_bodies_are_413(db: Database) -> None:
    service = make_service(db, with_list=False)
    keys = make_keys(service)
    with TestClient(create_app(service, max_body_bytes=1000, upload_max_bytes=5000), headers={"Authorization": f"Bearer {keys['admin']}"}) as client:
        r = client.post("/users", content=b'{"name": "' + b"a" * 2000 + b'", "role": "analyst"}', headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "1000" in r.json()["detail"]
        # An upload may be larger than an ordinary body, up to its own limit ...
        ok = client.post("/subjects/import", content=b"id,name\n" + b"".join(b"c%d,Person Number %d\n" % (i, i) for i in range(100)))
        assert ok.status_code == 202, ok.text
        # ... and is counted as it streams when it declares no length.

        def chunks() -> Iterator[bytes]:
            yield b"id,name\n"
            for i in range(1000):
                yield b"c%d,Person Number %d\n" % (i, i)

        r = client.post("/subjects/import", content=chunks())
        assert r.status_code == 413 and "5000" in r.json()["detail"]
        assert r.headers["x-content-type-options"] == "nosniff"
        client.app.state.jobs.wait()  # type: ignore[attr-defined]


def test_a_route_without_a_rule_is_detected(db: Database) -> None:
    app = create_app(make_service(db, with_list=False))

    @app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    assert route_permissions(app)[("GET", "/forgotten")] is None
    assert route_permissions(app)[("GET", "/alerts")] == "alerts:read"


def test_concurrent_first_uses_of_a_key_log_in_once(db: Database) -> None:
    service = make_service(db, with_list=False)
    users.create_user(service, "busy", "analyst", actor="test")
    key = users.create_key(service, "busy", actor="test")
    start = threading.Barrier(CONCURRENT)
    found: list[roles.Principal | None] = []

    def use() -> None:
        start.wait()
        found.append(auth.authenticate(service, key))

    threads = [threading.Thread(target=use) for _ in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == CONCURRENT and all(p is not None and p.user == "busy" for p in found)
    with db.session() as s:
        logins = s.execute(select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.actor == "busy")).scalars().all()
    assert len(logins) == 1
