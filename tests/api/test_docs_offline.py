"""`--public-docs` serves Swagger UI from the package: the page references nothing outside the
app, every asset it references is served, and its policy allows only 'self' (and its one
inline bootstrap script, by hash)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from qalqan.api import create_app
from qalqan.api.app import SWAGGER_UI_DIR
from qalqan.store.db import Database

from .conftest import make_service

ASSET = re.compile(r"""(?:src|href)="([^"]+)"|url:\s*'([^']+)'""")


@pytest.fixture()
def docs(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_service(db, with_list=False), public_docs=True, data_dir=tmp_path)) as client:
        yield client


def _page(client: TestClient) -> tuple[str, list[str]]:
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    return r.text, [a or b for a, b in ASSET.findall(r.text)]


def test_the_docs_page_references_nothing_outside_the_app(docs: TestClient) -> None:
    html, urls = _page(docs)
    assert not re.search(r"https?://|//[a-z]", html, re.I), "the page names an absolute URL"
    assert urls and all(not u.startswith("/") for u in urls), urls  # relative: work under a proxy prefix too


def test_every_asset_the_page_references_is_served(docs: TestClient) -> None:
    _html, urls = _page(docs)
    served = {u: docs.get(urljoin("http://testserver/docs", u)) for u in urls}
    assert all(r.status_code == 200 and r.content for r in served.values()), {u: r.status_code for u, r in served.items()}
    kinds = {u.rsplit(".", 1)[-1]: r.headers["content-type"] for u, r in served.items()}
    assert "javascript" in kinds["js"] and kinds["css"].startswith("text/css") and kinds["json"].startswith("application/json")
    assert b"SwaggerUIBundle" in served[next(u for u in urls if u.endswith(".js"))].content


def test_the_docs_policy_allows_only_the_app_itself(docs: TestClient) -> None:
    r = docs.get("/docs")
    csp = r.headers["content-security-policy"]
    assert "http" not in csp and "cdn" not in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    script = directives["script-src"].split()
    assert script[0] == "'self'" and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline] == script[1:]


def test_redoc_is_not_served_and_the_vendored_files_carry_their_licence(docs: TestClient) -> None:
    assert docs.get("/redoc").status_code == 404
    assert "Apache License" in (SWAGGER_UI_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "5." in (SWAGGER_UI_DIR / "README.md").read_text(encoding="utf-8")


def test_no_docs_assets_without_public_docs(db: Database, tmp_path: Path) -> None:
    with TestClient(create_app(make_service(db, with_list=False), data_dir=tmp_path)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/swagger-ui/swagger-ui-bundle.js").status_code == 404
