"""The FastAPI application of the monitoring service: screening (yente-compatible), lists,
subjects, alerts, audit and administration, over one `Qalqan` service.

Every route but /healthz needs an API key (see `api.security`); requests are bounded in size;
every response carries security headers; an unexpected error answers 500 with an error id and
no stack trace (the traceback goes to the server log under the same id).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qalqan.api.admin import router as admin_router
from qalqan.api.alerts import router as alerts_router
from qalqan.api.audit import router as audit_router
from qalqan.api.jobs import JobRunner
from qalqan.api.jobs import router as jobs_router
from qalqan.api.lists import router as lists_router
from qalqan.api.routes import router
from qalqan.api.security import require, route_permissions
from qalqan.api.subjects import router as subjects_router
from qalqan.api.uploads import BodyTooLarge

if TYPE_CHECKING:
    from qalqan.service.core import Qalqan

log = logging.getLogger("qalqan.api")

#: Largest request body accepted: 100 queries of generous size fit in well under 1 MiB; beyond
#: that a body is an error or an attempt to tie up the server.
MAX_BODY_BYTES = 1024 * 1024
#: Largest upload to an import route (a subject population or a list file), streamed to a
#: temporary file, never held in memory: two million subjects in CSV are ~200 MB; the OFAC
#: advanced XML is ~150 MB.
UPLOAD_MAX_BYTES = 512 * 1024 * 1024
#: The routes that take an upload (method POST): they get `UPLOAD_MAX_BYTES` and are streamed.
UPLOAD_PATHS = re.compile(r"^/(subjects/import|lists/[^/]+/import)$")

#: Sent with every response. JSON answers need no content at all; the interactive docs load
#: Swagger UI / ReDoc from jsDelivr (FastAPI's defaults) and run an inline bootstrap script.
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
    b"cross-origin-resource-policy": b"same-origin",
}
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    b"connect-src 'self'; worker-src blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
#: Sent when the request came over TLS (directly, or via a proxy uvicorn trusts): one year.
HSTS = b"max-age=31536000"


def _json_response(status: int, body: bytes) -> tuple[Message, Message]:
    start = {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    """Answers 413 when a request body (declared or streamed) exceeds its limit: `limit` bytes,
    or `upload_limit` for the upload routes. Ordinary bodies are read here (at most `limit`
    bytes held) and replayed to the app; uploads pass through, counted as they stream, and the
    route turns `BodyTooLarge` into a 413."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int = UPLOAD_MAX_BYTES):
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope.get("method") == "POST" and UPLOAD_PATHS.match(scope.get("path", "")) is not None
        limit = self.upload_limit if upload else self.limit
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                await self._reject(send, limit)
                return
        if upload:
            await self.app(scope, _counting(receive, limit), send)
            return
        # Read the body here, then replay it to the app: an error raised inside the app's own
        # body reading would be turned into a 400.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._reject(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        for message in _json_response(413, b'{"detail":"request body too large (limit %d bytes)"}' % limit):
            await send(message)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class CatchAll:
    """Turns any exception that escapes the app into a 500 carrying only an error id; the
    traceback is logged server-side under that id. (Inside Starlette's own error middleware,
    which would also answer 500 but then re-raise into the server.)"""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except BodyTooLarge as exc:
            if started:
                raise
            for message in _json_response(413, b'{"detail":"request body too large (limit %d bytes)"}' % exc.limit):
                await send(message)
        except Exception:
            error_id = secrets.token_hex(8)
            log.exception("internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:  # the client already has a status line; nothing more can be said
                return
            for message in _json_response(500, b'{"detail":"internal error","error_id":"%s"}' % error_id.encode()):
                await send(message)


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` and a Content-Security-Policy to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = DOCS_CSP if path in DOCS_PATHS else API_CSP
        tls = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in SECURITY_HEADERS and k.lower() != b"content-security-policy"]
                headers.extend(SECURITY_HEADERS.items())
                headers.append((b"content-security-policy", csp))
                if tls:
                    headers.append((b"strict-transport-security", HSTS))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class _Derived:
    """What the screening routes compute from a screener (list names, feature docs), computed
    once per screener: the service rebuilds its screener when a live version changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.screener: Any = None
        self.values: tuple[set[str], dict[str, Any]] = (set(), {})

    def get(self, screener: Any) -> tuple[set[str], dict[str, Any]]:
        with self.lock:
            if screener is not self.screener:
                from qalqan.api.convert import feature_docs
                from qalqan.api.models import FeatureDoc

                names = {info.name for info in screener.lists} | {e.list for e in screener.entities()}
                docs = {k: FeatureDoc.model_validate(v) for k, v in feature_docs(screener).items()}
                self.screener, self.values = screener, (names, docs)
            return self.values


def create_app(
    service: Qalqan,
    *,
    banner: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    upload_max_bytes: int = UPLOAD_MAX_BYTES,
    public_docs: bool = False,
) -> FastAPI:
    """The HTTP API over `service`. `banner` (e.g. the demo-list warning) is shown in the API
    description and repeated in every screening answer.

    Every route but `/healthz` needs a key, the API description included: `GET /openapi.json`
    answers any role. `public_docs=True` (`qalqan serve --public-docs`, for development) serves
    FastAPI's usual unauthenticated `/docs`, `/redoc` and `/openapi.json` instead: a browser
    cannot send a key when it loads the interactive pages."""
    description = (
        "Sanctions screening with explained cross-script scores, and the monitoring service: "
        "versioned lists, a watched population re-screened on every list change, alerts and "
        "decisions, and a tamper-evident audit log.\n\n"
        "Every route but `/healthz` needs an API key: `Authorization: Bearer qk_...` (or "
        "`X-API-Key`). Screening requests state a `purpose` (query parameter or `X-Purpose` "
        "header), recorded in the audit log. `POST /match/{list}` accepts and answers yente's "
        "`/match` JSON, so a yente client switches by adding the key and the purpose."
    )
    if banner:
        description = f"**{banner}**\n\n" + description
    if public_docs:
        app = FastAPI(title="Qalqan", version=_version(), description=description)
    else:
        app = FastAPI(title="Qalqan", version=_version(), description=description, docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require("docs:read"))])
        def openapi_document() -> dict[str, Any]:
            return app.openapi()
    app.state.service = service
    app.state.banner = banner
    app.state.derived = _Derived()
    app.state.jobs = JobRunner(service)
    for r in (router, lists_router, subjects_router, alerts_router, jobs_router, audit_router, admin_router):
        app.include_router(r)
    # Added innermost first: SecurityHeaders wraps CatchAll wraps BodyLimit wraps the routes.
    app.add_middleware(BodyLimit, limit=max_body_bytes, upload_limit=upload_max_bytes)
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)
    app.state.route_permissions = route_permissions(app)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qalqan")
    except PackageNotFoundError:
        return "0"


__all__ = ["MAX_BODY_BYTES", "UPLOAD_MAX_BYTES", "create_app"]
