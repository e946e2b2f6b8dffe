"""The web interface's defences, through TestClient (no browser): data shown as text, CSRF on
every state-changing route, the security headers and a page HTML the CSP can hold to (no
inline script or style, nothing from another site), the session cookie, and the route table
(every page declares a permission; a role is refused what it may not open)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from qalqan.api.security import PUBLIC, leaf_routes, route_permission
from qalqan.service import alerts, roles, subjects
from qalqan.web import is_web_path
from qalqan.web.auth import SESSION_COOKIE

from .conftest import PASSWORD, Web, csrf, login

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD_NAME = f"Karim Yusuf al-Fayruzi {SCRIPT}"
PAYLOAD_NAME_2 = f"Karim Yusuf al-Fayruzi {IMG}"
HEADER = "id,schema,name,aliases,birth_date,nationality,gender,document_number,document_type,country,program,listed_on,reference\n"


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def payload(web: Web) -> dict[str, Any]:
    """A list `xss` whose entity's name and alias carry markup, and two subjects whose names
    (and a document number) do: open alerts pairing them."""
    path = web.folder / "xss.csv"
    path.write_text(HEADER + f"X001,Person,{csv_cell(PAYLOAD_NAME)},{csv_cell(IMG)},1971-03-14,Jordan,male,,,,XSS,2024-01-15,XSS.001\n", encoding="utf-8")
    web.service.import_list(f"csv:{path}", actor="test", name="xss")
    subjects.add_subjects(web.service, [
        {"id": "XSS-1", "schema": "Person", "name": PAYLOAD_NAME, "birth_date": "1971-03-14", "document_number": IMG},
        {"id": "XSS-2", "schema": "Person", "name": PAYLOAD_NAME_2, "birth_date": "1971-03-14"},
    ], actor="test", purpose="web tests")
    found = alerts.list_alerts(web.service, subject="XSS-1", list_name="xss").items
    assert found, "the payload subject raised no alert against the payload entity"
    return {"alert": found[0]["id"], "subject": "XSS-1", "subject2": "XSS-2"}


def assert_escaped(html: str, where: str) -> None:
    assert SCRIPT not in html, f"{where}: the <script> payload is in the page as markup"
    assert "<img src=x" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), f"{where}: the <img> payload is in the page as markup"


def assert_shown_as_text(html: str, where: str, *texts: str) -> None:
    assert_escaped(html, where)
    for text in texts:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        variants = {escaped, escaped.replace('"', "&#34;"), escaped.replace('"', "&quot;")}
        assert any(v in html for v in variants), f"{where}: {text!r} is not shown (escaped) in the page"


# --- data is shown as text -------------------------------------------------------------------

def test_payloads_are_escaped_on_the_queue(web: Web, payload: dict[str, Any]) -> None:
    client = web.client("analyst")
    r = client.get("/ui/alerts", params={"list": "xss"})
    assert r.status_code == 200, r.text[:300]
    assert_shown_as_text(r.text, "queue", SCRIPT)
    r = client.get("/ui/alerts", params={"list": "xss"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert_shown_as_text(r.text, "queue (htmx)", SCRIPT)
    r = client.get("/ui/alerts")
    assert r.status_code == 200
    assert_escaped(r.text, "queue (all)")
    assert "Karim Yusuf al-Fayruzi" in r.text


def test_payloads_are_escaped_on_the_review(web: Web, payload: dict[str, Any]) -> None:
    client = web.client("analyst")
    r = client.get(f"/ui/alerts/{payload['alert']}")
    assert r.status_code == 200, r.text[:300]
    assert_shown_as_text(r.text, "review", SCRIPT)


def test_payloads_are_escaped_on_the_subject_pages(web: Web, payload: dict[str, Any]) -> None:
    client = web.client("analyst")
    r = client.get(f"/ui/subjects/{payload['subject']}")
    assert r.status_code == 200, r.text[:300]
    assert_shown_as_text(r.text, "subject", SCRIPT, IMG)
    r = client.get(f"/ui/subjects/{payload['subject2']}")
    assert r.status_code == 200, r.text[:300]
    assert_shown_as_text(r.text, "subject 2", IMG)
    r = client.get("/ui/subjects", params={"q": "XSS-"})
    assert r.status_code == 200
    assert_shown_as_text(r.text, "subjects list", SCRIPT, IMG)


def test_payloads_are_escaped_on_the_screening_page(web: Web, payload: dict[str, Any]) -> None:
    client = web.client("analyst")
    token = csrf(client, "/ui/screen")
    for name in (PAYLOAD_NAME, PAYLOAD_NAME_2):
        for htmx in (False, True):
            r = client.post("/ui/screen", data={"name": name, "purpose": "web tests", "csrf": token}, headers={"HX-Request": "true"} if htmx else {})
            assert r.status_code == 200, r.text[:300]
            assert_escaped(r.text, f"screening {name!r}")
            assert 'id="h-results"' in r.text, "no results section"
            # the payload entity is found, its name and alias shown as text
            assert_shown_as_text(r.text, f"screening {name!r}", SCRIPT, IMG)


# --- CSRF ------------------------------------------------------------------------------------

def web_routes(web: Web) -> list[APIRoute]:
    return [r for r in leaf_routes(web.app) if isinstance(r, APIRoute) and is_web_path(r.path)]


def role_for(permission: str | None) -> str:
    for role in roles.ROLES:
        if permission and permission != PUBLIC and roles.allowed(role, permission):
            return role
    raise AssertionError(f"no role holds {permission!r}")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_web_post_needs_the_csrf_token(web: Web) -> None:
    posts = [r for r in web_routes(web) if "POST" in (r.methods or ()) and r.path not in ("/ui/login", "/ui/lang")]
    assert any(r.path == "/ui/logout" for r in posts)
    clients: dict[str, TestClient] = {}
    refused = []
    for route in posts:
        role = role_for(route_permission(route))
        client = clients.get(role) or clients.setdefault(role, web.client(role, purpose=None if role == "partner" else "web tests"))
        path = concrete(route.path)
        for label, data, headers in (("no token", {"reason": "x"}, {}), ("wrong token", {"reason": "x", "csrf": "not-the-token"}, {}),
                                     ("wrong header", {"reason": "x"}, {"X-CSRF-Token": "not-the-token"})):
            r = client.post(path, data=data, headers=headers)
            assert r.status_code == 403, f"POST {route.path} with {label} as {role}: {r.status_code}"
            assert "security token" in r.text, f"POST {route.path} with {label}: 403 but not for the CSRF token: {r.text[:300]}"
        refused.append(route.path)
    # the session survived all that (logout without a token did not log out)
    r = clients["analyst"].get("/")
    assert r.status_code == 200
    assert len(refused) >= 1


# --- headers and the HTML the CSP allows -------------------------------------------------------

class PageScan(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block, and assets from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if not a.get("src"):
                self.problems.append("an inline <script> (no src)")
        if "style" in a:
            self.problems.append(f"a style= attribute on <{tag}>")
        if tag == "style":
            self.problems.append("a <style> element")
        for key, value in a.items():
            if key.startswith("on") or key.startswith("hx-on"):
                self.problems.append(f"an inline event handler {key}= on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"a javascript: URL in {key}= on <{tag}>")
        assets = [a.get("src"), a.get("srcset"), a.get("poster"), a.get("data")]
        if tag == "link":
            assets.append(a.get("href"))
        for url in assets:
            if url and re.match(r"\s*(https?:)?//", url, re.I):
                self.problems.append(f"an asset from another site: <{tag}> {url}")


def pages_to_check(web: Web, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, path) for every GET page without path parameters (as a role that may open it),
    and the pages with one."""
    out = []
    for route in web_routes(web):
        if "GET" not in (route.methods or ()) or "{" in route.path:
            continue
        permission = route_permission(route)
        role = "analyst" if permission == PUBLIC else role_for(permission)
        out.append((role, route.path))
    out += [("analyst", f"/ui/alerts/{payload['alert']}"), ("analyst", f"/ui/subjects/{payload['subject']}"), ("analyst", "/ui/lists/demo"),
            ("analyst", "/ui/screen?name=Karim+Yusuf+al-Fayruzi"), ("analyst", "/ui/nonexistent"), ("analyst", "/ui/audit")]
    return out


def test_every_page_has_the_security_headers_and_csp_safe_html(web: Web, payload: dict[str, Any]) -> None:
    clients: dict[str, TestClient] = {}
    anonymous = web.client(None)
    checked = []
    for role, path in [*pages_to_check(web, payload), (None, "/ui/login")]:
        if role is None:
            client = anonymous
        else:
            client = clients.get(role) or clients.setdefault(role, web.client(role, purpose=None if role == "partner" else "web tests"))
        r = client.get(path)
        if r.status_code in (301, 302, 303, 307):
            continue  # a redirect (e.g. an htmx fragment's page): its target is checked on its own
        csp = r.headers.get("content-security-policy", "")
        directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
        script_src = directives.get("script-src", "")
        assert script_src == "script-src 'self'" or ("'self'" in script_src and "unsafe-inline" not in script_src), f"{path}: {csp!r}"
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, f"{path}: {csp!r}"
        assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{path}: {csp!r}"
        assert "unsafe-inline" not in directives.get("style-src", ""), f"{path}: {csp!r}"
        assert r.headers.get("x-frame-options") == "DENY", path
        assert r.headers.get("x-content-type-options") == "nosniff", path
        if r.headers.get("content-type", "").startswith("text/html"):
            scan = PageScan()
            scan.feed(r.text)
            assert not scan.problems, f"{path} ({r.status_code}): " + "; ".join(sorted(set(scan.problems)))
        checked.append((path, r.status_code))
    assert ("/ui/login", 200) in checked
    assert len(checked) >= 5, checked


def test_static_assets_have_the_headers(web: Web) -> None:
    client = web.client(None)
    for asset in ("/ui/static/qalqan.css", "/ui/static/qalqan.js", "/ui/static/htmx.min.js"):
        r = client.get(asset)
        assert r.status_code == 200, asset
        assert r.headers.get("x-content-type-options") == "nosniff"
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", "")


# --- the session cookie ----------------------------------------------------------------------

def session_cookie_header(response: Any) -> str:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith(f"{SESSION_COOKIE}="):
            return str(value)
    raise AssertionError(f"no {SESSION_COOKIE} cookie set: {response.headers.get_list('set-cookie')}")


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(web: Web) -> None:
    plain = TestClient(web.app, follow_redirects=False)  # type: ignore[arg-type]
    r = plain.post("/ui/login", data={"name": "analyst", "password": PASSWORD, "next": "/"})
    assert r.status_code == 303
    cookie = session_cookie_header(r).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    tls = TestClient(web.app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    r = tls.post("/ui/login", data={"name": "analyst", "password": PASSWORD, "next": "/"})
    assert r.status_code == 303
    cookie = session_cookie_header(r).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "; secure" in cookie
    assert "max-age" not in cookie and "expires" not in cookie, "the session cookie outlives the browser session"
    assert r.headers.get("strict-transport-security")


def test_logout_ends_the_session(web: Web) -> None:
    client = web.client("analyst")
    token = client.cookies.get(SESSION_COOKIE)
    assert token and client.get("/").status_code == 200
    r = client.post("/ui/logout", data={"csrf": csrf(client)})
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert SESSION_COOKIE in "".join(r.headers.get_list("set-cookie"))
    replay = TestClient(web.app, follow_redirects=False)  # type: ignore[arg-type]
    replay.cookies.set(SESSION_COOKIE, token)
    r = replay.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")
    r = replay.get("/ui/alerts", headers={"HX-Request": "true"})
    assert r.status_code in (204, 303) and "/ui/login" in (r.headers.get("hx-redirect") or r.headers.get("location") or "")


def test_the_login_page_does_not_tell_whether_a_user_exists(web: Web) -> None:
    client = web.client(None)
    known = client.post("/ui/login", data={"name": "supervisor", "password": "not-the-password", "next": "/"})
    unknown = client.post("/ui/login", data={"name": "nobodyatall", "password": "not-the-password", "next": "/"})
    assert known.status_code == unknown.status_code == 401
    assert known.text.replace('value="supervisor"', "") == unknown.text.replace('value="nobodyatall"', "")
    assert SESSION_COOKIE not in "".join(known.headers.get_list("set-cookie"))
    # the supervisor can still log in (one failure does not lock)
    login(web.client(None), "supervisor")


def test_login_never_redirects_to_another_site(web: Web) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client = web.client(None)
        r = client.post("/ui/login", data={"name": "analyst", "password": PASSWORD, "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/", target


# --- the route table -------------------------------------------------------------------------

def test_every_web_route_declares_a_permission(web: Web) -> None:
    missing = [f"{sorted(r.methods or ())} {r.path}" for r in web_routes(web) if route_permission(r) is None]
    assert not missing, f"web routes without a permission: {missing}"
    public = sorted(r.path for r in web_routes(web) if route_permission(r) == PUBLIC)
    assert set(public) <= {"/ui/login", "/ui/lang"}, public


@pytest.mark.parametrize("role", roles.ROLES)
def test_a_role_is_refused_the_pages_it_may_not_open(web: Web, role: str) -> None:
    client = web.client(role, purpose=None)
    refused, opened = [], []
    for route in web_routes(web):
        if "GET" not in (route.methods or ()) or "{" in route.path:
            continue
        permission = route_permission(route)
        r = client.get(route.path)
        if permission != PUBLIC and not roles.allowed(role, permission):
            assert r.status_code == 403, f"{role} opened GET {route.path} (needs {permission}): {r.status_code}"
            refused.append(route.path)
        else:
            assert r.status_code != 403 and r.status_code < 500, f"{role} may open GET {route.path} ({permission}) but got {r.status_code}"
            opened.append(route.path)
    if role == "analyst":
        assert "/" in opened
    if role == "auditor":
        assert "/" in refused or "/" in opened


def test_the_navigation_shows_only_what_the_role_may_open(web: Web) -> None:
    from qalqan.web.templating import NAV

    for role in ("analyst", "auditor", "admin"):
        client = web.client(role, purpose=None)
        r = client.get("/ui/purpose")
        assert r.status_code == 200
        nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', r.text, re.S)
        links = set(re.findall(r'href="([^"]+)"', nav.group(1))) if nav else set()
        for href, _label, permission in NAV:
            assert (href in links) == roles.allowed(role, permission), f"{role}: {href} in nav is {href in links}"


def test_artifacts_are_ignored() -> None:
    ignore = (Path(__file__).parents[2] / ".gitignore").read_text()
    assert "tests/web/artifacts" in ignore
