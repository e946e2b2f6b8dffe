"""Authentication and authorisation of HTTP requests, declared per route.

Every route takes its principal from `Depends(require("<permission>"))` (or is marked
`Depends(public)`); `route_permission` reads that declaration back off a route, so a test walks
`app.routes` and fails for a route that declares neither.

401: no key, or a key that does not authenticate (malformed, unknown, revoked, wrong, disabled
user). 429 with Retry-After: the client (its address as the API sees it, `request.client.host`)
or the key's prefix failed too often and backs off (see `service.throttle`). 403: an
authenticated user whose role lacks the route's permission. Each refusal is audited (aggregated)
with the actor, the route (method and path), the client and the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import BaseRoute

from qalqan.model.identifiers import check_text
from qalqan.service import auth, roles
from qalqan.service.roles import Principal
from qalqan.service.throttle import retry_after_header

#: Marks a route that needs no key (only /healthz).
PUBLIC = "public"
#: Longest stated purpose kept (the audit column's width).
MAX_PURPOSE_CHARS = 1000

# auto_error=False: we answer 401 ourselves (FastAPI's HTTPBearer answers 403 for a missing header).
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer qk_...`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key, as an alternative to the Authorization header")

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


class Require:
    """A dependency that authenticates the request and checks one permission; returns the
    principal. `permission` is kept on the instance so the route table can be checked."""

    def __init__(self, permission: str):
        if permission not in roles.PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}")
        self.permission = permission

    def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        # A plain function: argon2 and the store are blocking, so FastAPI runs it in its thread pool.
        service = request.app.state.service
        key = (bearer.credentials if bearer is not None else api_key) or ""
        basic_user = None
        if not key:
            basic_user, key = _basic(request)
        client, route = client_address(request), f"{request.method} {request.url.path}"
        try:
            principal = auth.check_key(service, key.strip(), client=client, route=route)
        except auth.Refused as exc:
            raise _refusal(exc) from None
        if basic_user is not None and basic_user != principal.user:
            # HTTP Basic (TAXII clients): the password is the key, the user name must be its holder's.
            auth.record_denied(service, principal, f"HTTP Basic user {basic_user[:80]!r} is not the key's holder", client=client, route=route, permission=self.permission)
            raise HTTPException(401, detail="invalid, unknown or revoked API key", headers=_UNAUTHORIZED_HEADERS)
        if not principal.allows(self.permission):
            reason = f"role {principal.role!r} may not do this (needs permission {self.permission!r})"
            auth.record_denied(service, principal, reason, client=client, route=route, permission=self.permission)
            raise HTTPException(403, detail=reason)
        request.state.principal = principal
        return principal

    def __repr__(self) -> str:
        return f"require({self.permission!r})"


def _basic(request: Request) -> tuple[str | None, str]:
    """(user, key) from `Authorization: Basic ...` — how TAXII clients (taxii2-client, OpenCTI,
    MISP) send credentials: the user name and, as the password, that user's API key."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None, ""
    import base64
    import binascii

    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, ""
    return (user, password) if sep else (None, "")


def client_address(request: Request) -> str:
    """The client's address as the API sees it (behind a proxy: the proxy's, unless uvicorn is
    told to trust its forwarded headers)."""
    return request.client.host if request.client is not None else "unknown"


def _refusal(exc: auth.Refused) -> HTTPException:
    if exc.retry_after is not None:
        wait = retry_after_header(exc.retry_after)
        return HTTPException(429, detail=f"too many failed authentications from this client or for this key: retry after {wait} s", headers={"Retry-After": wait})
    if exc.reason == auth.NO_KEY:
        return HTTPException(401, detail="authentication required: send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'", headers=_UNAUTHORIZED_HEADERS)
    return HTTPException(401, detail="invalid, unknown or revoked API key", headers=_UNAUTHORIZED_HEADERS)


_required: dict[str, Require] = {}


def require(permission: str) -> Require:
    """The dependency for `permission` (one instance per permission)."""
    if permission not in _required:
        _required[permission] = Require(permission)
    return _required[permission]


def public() -> None:
    """Marks a route that anyone may call (declared, so the route table test can tell it from
    a route that forgot its rule)."""


def route_permission(route: APIRoute) -> str | None:
    """The permission `route` declares (`PUBLIC` for a public route), or None if it declares none."""
    found: list[str] = []

    def walk(dependant: Any) -> None:
        for dep in dependant.dependencies:
            # Require (API keys) or the web pages' session check (`web.auth.WebRequire`): both
            # carry the permission they check.
            if isinstance(dep.call, Require) or isinstance(getattr(dep.call, "permission", None), str):
                found.append(dep.call.permission)
            elif dep.call is public:
                found.append(PUBLIC)
            walk(dep)

    walk(route.dependant)
    if len(set(found)) > 1:
        raise ValueError(f"route {route.path} declares several permissions: {sorted(set(found))}")
    return found[0] if found else None


def leaf_routes(app: Any) -> list[BaseRoute]:
    """Every route `app` serves, with included routers expanded (FastAPI >= 0.16x keeps an
    included router as one lazy entry in `app.routes`; older versions copy its routes in)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        return list(app.routes)
    return [ctx.original_route for ctx in iter_route_contexts(app.routes)]


def route_permissions(app: Any) -> dict[tuple[str, str], str | None]:
    """(method, path) -> permission for every API route of `app` (None: it declares none)."""
    out: dict[tuple[str, str], str | None] = {}
    for route in leaf_routes(app):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods or ()):
                out[(method, route.path)] = route_permission(route)
    return out


PurposeQuery = Annotated[str | None, Query(description="Why this is looked at (recorded in the audit log), e.g. 'KYC onboarding, case 4711'; or send header X-Purpose")]
PurposeHeader = Annotated[str | None, Header(alias="X-Purpose", description="The purpose, as an alternative to the query parameter")]


def _purpose(purpose: str | None, header: str | None) -> str:
    text = (purpose or header or "").strip()
    try:
        check_text(text, "purpose")  # NUL or a lone surrogate would fail the audit write (500)
    except ValueError as exc:
        raise HTTPException(422, detail=[{"loc": ["query", "purpose"], "msg": str(exc), "type": "value_error"}]) from None
    if len(text) > MAX_PURPOSE_CHARS:
        raise HTTPException(422, detail=[{"loc": ["query", "purpose"], "msg": f"purpose is {len(text)} characters long; at most {MAX_PURPOSE_CHARS}", "type": "value_error"}])
    return text


def stated_purpose(purpose: PurposeQuery = None, x_purpose: PurposeHeader = None) -> str:
    """The purpose of a screening request or of a view of personal data (an alert, a subject):
    query parameter `purpose` or header `X-Purpose`; required."""
    text = _purpose(purpose, x_purpose)
    if not text:
        raise HTTPException(
            422,
            detail=[{"loc": ["query", "purpose"], "msg": "a purpose is required (screening and every view of personal data are audited with it): give the query parameter 'purpose' or the header 'X-Purpose' (e.g. 'KYC onboarding, case 4711')", "type": "missing"}],
        )
    return text


def optional_purpose(purpose: PurposeQuery = None, x_purpose: PurposeHeader = None) -> str:
    """The purpose of a view, when stated ('' otherwise)."""
    return _purpose(purpose, x_purpose)


async def body_hash(request: Request) -> str:
    """SHA-256 of the request body as sent (Starlette caches the body, so the route still reads it)."""
    from qalqan.service.audit import input_hash

    return input_hash(await request.body())
