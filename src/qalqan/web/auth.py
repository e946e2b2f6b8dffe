"""Who is looking at a page: the session cookie, the role's permissions, the CSRF token, and the
purpose of the session's views of personal data.

People log in with a user name and password (`service.web_sessions`); the session token travels
in an HttpOnly, SameSite=Strict cookie (Secure when the request came over HTTPS). Every page
declares one permission, as every API route does (`web_require`); a page a role may not open
answers 403, and the navigation never shows it. Every state-changing request (POST) carries the
session's CSRF token, as the form field `csrf` or the header `X-CSRF-Token` (htmx sends it from
the page's `hx-headers`), compared in constant time.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request

from qalqan.service import roles, web_sessions
from qalqan.service.roles import Principal

SESSION_COOKIE = "qalqan_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class WebUser:
    """The person behind a page request."""

    session: web_sessions.WebSession
    token: str

    @property
    def name(self) -> str:
        return self.session.user

    @property
    def role(self) -> str:
        return self.session.role

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def purpose(self) -> str:
        return self.session.purpose or ""

    @property
    def principal(self) -> Principal:
        return Principal(self.session.user, self.session.role)

    def allows(self, permission: str) -> bool:
        return roles.allowed(self.role, permission)


class LoginRequired(Exception):
    """No live session: the page answers with the login form (a redirect for a full page, an
    `HX-Redirect` for an htmx request)."""

    def __init__(self, next_path: str):
        self.next_path = next_path


class PurposeRequired(Exception):
    """The page shows personal data and the session has not stated why yet."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def _next_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def current_user(request: Request) -> WebUser | None:
    """The live session's user, or None (no cookie, unknown, expired or ended session)."""
    cached = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    session = web_sessions.resume(request.app.state.service, token)
    if session is None:
        return None
    user = WebUser(session, token)
    request.state.web_user = user
    return user


class WebRequire:
    """A page dependency: a live session whose role holds `permission` (403 otherwise); POST
    requests must carry the CSRF token. `permission` is kept on the instance so the route
    table test reads it like an API route's."""

    def __init__(self, permission: str, *, personal_data: bool = False):
        if permission not in roles.PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        self.permission = permission
        self.personal_data = personal_data

    async def __call__(self, request: Request) -> WebUser:
        user = current_user(request)
        if user is None:
            raise LoginRequired(_next_path(request) if request.method == "GET" else "/")
        if not user.allows(self.permission):
            from qalqan.service import auth

            auth.record_denied(request.app.state.service, user.principal, f"role {user.role!r} may not open this page (needs {self.permission!r})",
                               client=client_of(request), route=f"{request.method} {request.url.path}", permission=self.permission)
            raise HTTPException(403, detail="forbidden")
        if request.method not in ("GET", "HEAD"):
            await check_csrf(request, user)
        if self.personal_data and not user.purpose:
            raise PurposeRequired(_next_path(request) if request.method == "GET" else "/")
        request.state.principal = user.principal
        return user

    def __repr__(self) -> str:
        return f"web_require({self.permission!r})"


_required: dict[tuple[str, bool], WebRequire] = {}


def web_require(permission: str, *, personal_data: bool = False) -> WebRequire:
    """The page dependency for `permission`; `personal_data=True` for a page that shows personal
    data (it asks for the session's purpose first, and each view is audited with it)."""
    key = (permission, personal_data)
    if key not in _required:
        _required[key] = WebRequire(permission, personal_data=personal_data)
    return _required[key]


async def check_csrf(request: Request, user: WebUser) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent.encode(), user.csrf.encode()):
        raise HTTPException(403, detail="the form's security token is missing or stale: reload the page and try again")


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def login_location(next_path: str) -> str:
    return "/ui/login" + (f"?next={quote(next_path, safe='')}" if next_path and next_path != "/" else "")


def safe_next(value: Any) -> str:
    """A local path to go to after login (never another site: '//host' or a scheme is refused)."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text or any(ord(c) < 32 for c in text):
        return "/"
    return text
