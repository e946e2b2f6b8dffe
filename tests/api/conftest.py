"""Fixtures for the HTTP API tests: a store with the bundled demo list live, one user and key
per role, and a TestClient per role."""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from qalqan.api import create_app
from qalqan.service import roles, users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database

AUDIT_KEY = bytes(range(32))
PURPOSE = "API tests"
_counter = itertools.count()


def demo_list() -> Path:
    return Path(str(files("qalqan") / "data" / "demo.csv"))


def demo_person() -> dict[str, str]:
    """The first person of the demo list (a sure match)."""
    with demo_list().open(encoding="utf-8") as fh:
        return next(r for r in csv.DictReader(fh) if (r.get("schema") or "Person") == "Person")


def make_service(db: Database, *, with_list: bool = True) -> Qalqan:
    service = Qalqan(db, audit_key=AUDIT_KEY)
    if with_list:
        service.import_list(f"csv:{demo_list()}", actor="test")
    return service


def make_keys(service: Qalqan) -> dict[str, str]:
    """One user per role, named after it, and a key for each."""
    keys = {}
    for role in roles.ROLES:
        users.create_user(service, role, role, actor="test")
        keys[role] = users.create_key(service, role, actor="test", label=f"{role} tests")
    return keys


@dataclass
class Api:
    service: Qalqan
    keys: dict[str, str]
    client: TestClient  # no credentials

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}

    def call(self, role: str, method: str, url: str, *, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return self.client.request(method, url, headers={**self.headers(role), **(headers or {})}, **kw)

    def get(self, role: str, url: str, **kw: Any) -> httpx.Response:
        return self.call(role, "GET", url, **kw)

    def post(self, role: str, url: str, **kw: Any) -> httpx.Response:
        return self.call(role, "POST", url, **kw)

    def wait_jobs(self) -> None:
        self.client.app.state.jobs.wait()  # type: ignore[attr-defined]


@pytest.fixture()
def api(db: Database, tmp_path: Path) -> Iterator[Api]:
    """The app over a fresh store (each backend) with the demo list live and a key per role."""
    service = make_service(db)
    keys = make_keys(service)
    with TestClient(create_app(service, data_dir=tmp_path / "data"), raise_server_exceptions=False) as client:
        yield Api(service, keys, client)
        client.app.state.jobs.wait()  # type: ignore[attr-defined]


#: The backends the suite's `db` fixture runs on (tests/conftest.py): PostgreSQL when the
#: suite runs under tests/support/pgcluster.sh.
PG_URL = os.environ.get("QALQAN_TEST_PG_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@contextmanager
def module_database(backend: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh migrated store that lives as long as a module-scoped fixture (the `db` fixture is
    per test): SQLite in `folder`, or a copy of the suite's PostgreSQL template database."""
    if backend == "sqlite":
        db = Database(f"sqlite:///{folder / 'qalqan.db'}")
        db.migrate()
        yield db
        db.dispose()
        return
    assert PG_URL
    template = request.getfixturevalue("pg_template")
    name = f"qalqan_m{os.getpid()}_{next(_counter)}"
    admin = create_engine(make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
