"""Every route of the app, called with no key, a bad key and a key of each role: 401 without a
valid key, 403 for a role lacking the route's permission, neither for a role holding it.

The routes are collected when this module is imported, from an app built on a throwaway store,
so a route added to the app is tested here at once; a route that declares no permission fails.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from qalqan.api import create_app
from qalqan.api.security import PUBLIC, leaf_routes, route_permission
from qalqan.service import auth, roles, users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.web.paths import STATIC_PATH, is_web_path

from .conftest import BACKENDS, module_database

#: Routes FastAPI adds for its interactive documentation. The default app has none (its
#: /openapi.json is an API route needing a key); `create_app(public_docs=True)` adds them.
DOCS_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
IDENTITIES = ["no key", "bad key", *roles.ROLES]


def _collect() -> tuple[list[tuple[str, str, str | None]], set[str]]:
    with tempfile.TemporaryDirectory(prefix="qalqan-routes-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'routes.db'}")
        db.migrate()
        app = create_app(Qalqan(db, audit_key=bytes(32)))
        api, other = [], set()
        for route in leaf_routes(app):
            if is_web_path(getattr(route, "path", "")) and getattr(route, "path", "") != STATIC_PATH:
                continue  # the web pages: a session cookie, not a key (tests/web/test_web_security.py)
            if isinstance(route, APIRoute):
                api.extend((method, route.path, route_permission(route)) for method in sorted(route.methods))
            else:
                other.add(getattr(route, "path", repr(route)))
        db.dispose()
    return api, other


ROUTES, OTHER_ROUTES = _collect()


def test_the_route_table_is_not_empty() -> None:
    paths = {path for _m, path, _p in ROUTES}
    assert {"/match/{dataset}", "/subjects", "/alerts/{alert_id}/decision", "/audit/verify", "/users", "/healthz"} <= paths


def test_every_api_route_declares_a_permission() -> None:
    missing = [f"{m} {p}" for m, p, perm in ROUTES if perm is None]
    assert not missing, f"routes without Depends(require(...)) or Depends(public): {missing}"
    assert [p for _m, p, perm in ROUTES if perm == PUBLIC] == ["/healthz"]
    assert {perm for *_r, perm in ROUTES if perm != PUBLIC} <= set(roles.PERMISSIONS)


def test_every_route_is_an_api_route() -> None:
    """So every route is in the table below, the API description included (the web interface's
    static assets are the one mount: public files of the package)."""
    assert OTHER_ROUTES == {STATIC_PATH}
    assert ("GET", "/openapi.json", "docs:read") in ROUTES


@pytest.fixture(scope="module", params=BACKENDS)
def table_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One app per backend for the whole table (a store per request would make it slow)."""
    with module_database(request.param, tmp_path_factory.mktemp("route-table"), request) as db:
        service = Qalqan(db, audit_key=bytes(32))
        keys = {}
        for role in roles.ROLES:
            users.create_user(service, f"{role}-user", role, actor="test")
            keys[role] = users.create_key(service, f"{role}-user", actor="test")
        prefix = auth.parse_key(keys["analyst"])
        keys["bad key"] = f"qk_{prefix}_{'x' * 43}"  # a real prefix with a wrong secret
        with TestClient(create_app(service), raise_server_exceptions=False) as client:
            yield client, keys
            client.app.state.jobs.wait()  # type: ignore[attr-defined]


def _url(path: str) -> str:
    # Path parameters get a value every route accepts (ids are integers for alerts and versions).
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(table_app: tuple[TestClient, dict[str, str]], method: str, path: str, permission: str | None, identity: str) -> None:
    assert permission is not None, f"{method} {path} declares no permission"
    client, keys = table_app
    headers = {} if identity == "no key" else {"Authorization": f"Bearer {keys[identity]}"}
    # No body and no purpose: a request that gets past authorisation fails validation (422) or
    # finds nothing (404), which is all this test needs to know.
    if identity in ("no key", "bad key"):
        # Each case is one refused request; the throttle (tested in test_auth_throttle.py) would
        # answer the sixth from the same client 429 instead of 401.
        auth.reset_throttle(client.app.state.service)
    r = client.request(method, _url(path), headers=headers)
    if permission == PUBLIC:
        assert r.status_code == 200, r.text
    elif identity in ("no key", "bad key"):
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
    elif identity in roles.PERMISSIONS[permission]:
        assert r.status_code not in (401, 403), r.text
    else:
        assert r.status_code == 403, r.text
        assert permission in r.json()["detail"]
