"""Fixtures for the web interface tests: a store with the bundled demo list live and the demo
population watched (so there are open alerts), one user per role with a password, and
TestClients logged in as each role (with the session's purpose stated).

The browser tests (Playwright driving Debian's Chromium) have their fixtures in
`tests/web/browser.py`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qalqan.api import create_app
from qalqan.service import roles, subjects, users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database

AUDIT_KEY = bytes(range(32))
PASSWORD = "correct-horse-battery-staple"
PURPOSE = "web tests, case 4711"
CSRF_META = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def demo_list() -> Path:
    return Path(str(files("qalqan") / "data" / "demo.csv"))


def demo_population() -> Path:
    return Path(str(files("qalqan") / "data" / "demo_population.csv"))


def build_service(folder: Path) -> Qalqan:
    """A SQLite store in `folder`: demo list live, demo population watched, a user per role
    (named after it) with password `PASSWORD`."""
    db = Database(f"sqlite:///{folder / 'qalqan.db'}")
    db.migrate()
    service = Qalqan(db, audit_key=AUDIT_KEY)
    service.import_list(f"csv:{demo_list()}", actor="test")
    subjects.import_subjects_file(service, demo_population(), actor="test", purpose="web tests")
    for role in roles.ROLES:
        users.create_user(service, role, role, actor="test")
        users.set_password(service, role, PASSWORD, actor="test")
    return service


@dataclass
class Web:
    service: Qalqan
    app: object
    folder: Path
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, role: str | None = None, *, purpose: str | None = PURPOSE, lang: str | None = "en") -> TestClient:
        """A new TestClient; logged in as the user named `role` (and its purpose stated) unless None."""
        client = TestClient(self.app, raise_server_exceptions=True, follow_redirects=False)  # type: ignore[arg-type]
        if lang:
            client.cookies.set("qalqan_lang", lang)
        if role is not None:
            login(client, role)
            if purpose:
                r = client.post("/ui/purpose", data={"purpose": purpose, "next": "/", "csrf": csrf(client)})
                assert r.status_code == 303, r.text
        return client


def login(client: TestClient, name: str, password: str = PASSWORD) -> None:
    r = client.post("/ui/login", data={"name": name, "password": password, "next": "/"})
    assert r.status_code == 303, f"login as {name} failed: {r.status_code} {r.text[:300]}"


def csrf(client: TestClient, path: str = "/ui/purpose") -> str:
    """The session's CSRF token, as a page carries it (`hx-headers` on <body>)."""
    r = client.get(path)
    found = CSRF_META.search(r.text)
    assert found, f"no CSRF token on {path} ({r.status_code})"
    return found.group(1)


def wait_for_job(web: Web, client: TestClient, url: str) -> str:
    """The page of a background job at `url` once the job has finished (it stops polling)."""
    web.app.state.jobs.wait()  # type: ignore[attr-defined]
    for _ in range(50):
        html = client.get(url).text
        if "every 2s" not in html:
            return html
        time.sleep(0.1)
    raise AssertionError(f"the job at {url} never finished")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    folder = tmp_path_factory.mktemp("web")
    service = build_service(folder)
    app = create_app(service, data_dir=folder)
    yield Web(service, app, folder)
    service.db.dispose()
from .browser import browser, context, live, page, playwright_driver  # noqa: E402,F401  the browser tests' fixtures
