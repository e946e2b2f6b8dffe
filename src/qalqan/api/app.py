"""The FastAPI application of the monitoring service: screening (yente-compatible), lists,
subjects, alerts, audit and administration, over one `Qalqan` service.

Every route but /healthz needs an API key (see `api.security`); requests are bounded in size;
every response carries security headers; an unexpected error answers 500 with an error id and
no stack trace (the traceback goes to the server log under the same id).

No redirects: a path with a trailing slash is a 404, not a redirect to the path without it
(Starlette builds such a redirect's absolute Location from the request's Host header, so any
client could have the server point elsewhere). The interactive docs (`public_docs`) load
Swagger UI from the package (`api/static/swagger-ui`), never from a CDN: they work offline and
their Content-Security-Policy allows only 'self'.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
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
from qalqan.api.exchange import router as exchange_router
from qalqan.api.taxii import router as taxii_router
from qalqan.api.content import router as content_router
from qalqan.api.travel import router as travel_router
from qalqan.api.uploads import UPLOADS, BodyTooLarge, UploadDir
from qalqan.web import mount_web
from qalqan.web.paths import is_web_path

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
UPLOAD_PATHS = re.compile(r"^/(ui/)?(subjects/import|lists/[^/]+/import)$|^/ui/lists/import$|^/ui/batch$|^/(ui/)?travel/(messages|documents)$|^/(ui/)?content/(indicators|check)$")

#: Sent with every response. JSON answers need no content at all; the interactive docs load
#: Swagger UI from this app and run one inline bootstrap script (allowed by its hash).
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
    b"cross-origin-resource-policy": b"same-origin",
}
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
#: The docs page's policy: everything from this app; the one inline script by its hash (filled
#: in by `docs_csp`); inline styles, which Swagger UI's React sets on elements; data: images,
#: which its stylesheet uses for icons.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' {script_hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs",)
#: The web interface's policy (`qalqan.web`): scripts, styles and images from this app only; no
#: inline script or style, no eval; forms post only here; never framed.
WEB_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The vendored Swagger UI (swagger-ui-dist; see its README), served under `SWAGGER_ASSETS`.
SWAGGER_UI_DIR = Path(__file__).parent / "static" / "swagger-ui"
SWAGGER_ASSETS = "/docs/swagger-ui"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
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
    """Adds `SECURITY_HEADERS` and a Content-Security-Policy to every response (`docs_csp` for
    the docs page)."""

    def __init__(self, app: ASGIApp, docs_csp: bytes = API_CSP):
        self.app, self.docs_csp = app, docs_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = self.docs_csp if path in DOCS_PATHS else WEB_CSP if is_web_path(path) else API_CSP
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


def swagger_page(title: str) -> HTMLResponse:
    """The Swagger UI page, all of whose URLs are relative to `/docs` (so the page works behind
    a proxy that mounts the app under a prefix) and point into this app."""
    return get_swagger_ui_html(
        openapi_url="openapi.json",
        title=f"{title} - API docs",
        swagger_js_url=f"{SWAGGER_ASSETS.lstrip('/')}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_ASSETS.lstrip('/')}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_ASSETS.lstrip('/')}/favicon-32x32.png",
        # Swagger UI would otherwise send the description to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )


def docs_csp(page: HTMLResponse) -> bytes:
    """`DOCS_CSP` allowing exactly the inline scripts of `page` (by their SHA-256)."""
    body = bytes(page.body).decode()
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'" for m in _INLINE_SCRIPT.findall(body))
    return DOCS_CSP.format(script_hashes=hashes).encode()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _printable(value: Any) -> Any:
    """A JSON-like value with lone surrogates replaced by U+FFFD, so it can be encoded."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, made safe to encode: the errors echo the offending input, and an input
    refused for holding a lone surrogate would otherwise fail to encode (a 500)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": _printable(jsonable_encoder(exc.errors()))})


def _private_dirs(data: Path) -> list[str]:
    """Server directories no message a job stores may show (see `JobRunner`)."""
    return [str(data.resolve()), tempfile.gettempdir(), str(Path(tempfile.gettempdir()).resolve())]


def create_app(
    service: Qalqan,
    *,
    banner: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    upload_max_bytes: int = UPLOAD_MAX_BYTES,
    public_docs: bool = False,
    data_dir: Path | None = None,
) -> FastAPI:
    """The HTTP API over `service`. `banner` (e.g. the demo-list warning) is shown in the API
    description and repeated in every screening answer. Uploads are kept in `data_dir`
    (default: the store's, QALQAN_DATA) under `uploads/`.

    Every route but `/healthz` needs a key, the API description included: `GET /openapi.json`
    answers any role. `public_docs=True` (`qalqan serve --public-docs`, for development) serves
    an unauthenticated `/docs` (Swagger UI, from the package) and `/openapi.json` instead: a
    browser cannot send a key when it loads the interactive pages.

    Creating the app is its start: upload files a crashed process left are removed, and jobs
    left queued or running are marked interrupted (`api.jobs`)."""
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
    common: dict[str, Any] = {"title": "Qalqan", "version": _version(), "description": description, "docs_url": None, "redoc_url": None, "redirect_slashes": False, "lifespan": _lifespan}
    page_csp = API_CSP
    if public_docs:
        app = FastAPI(**common)
        page = swagger_page(app.title)
        page_csp = docs_csp(page)

        @app.get("/docs", include_in_schema=False)
        def swagger_ui() -> HTMLResponse:
            return page

        app.mount(SWAGGER_ASSETS, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    else:
        app = FastAPI(**common, openapi_url=None)

        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require("docs:read"))])
        def openapi_document() -> dict[str, Any]:
            return app.openapi()
    app.add_exception_handler(RequestValidationError, validation_error)
    app.state.service = service
    app.state.banner = banner
    app.state.derived = _Derived()
    data = data_dir if data_dir is not None else _store_data_dir()
    app.state.uploads = UploadDir(data / UPLOADS)
    if app.state.uploads.removed:
        log.info("removed %d upload(s) left by an earlier run", len(app.state.uploads.removed))
    app.state.jobs = JobRunner(service, private_dirs=_private_dirs(data))
    app.state.jobs.interrupt_unfinished()
    for r in (router, lists_router, subjects_router, alerts_router, jobs_router, audit_router, admin_router, exchange_router, taxii_router, travel_router, content_router):
        app.include_router(r)
    mount_web(app)
    # Added innermost first: SecurityHeaders wraps CatchAll wraps BodyLimit wraps the routes.
    app.add_middleware(BodyLimit, limit=max_body_bytes, upload_limit=upload_max_bytes)
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders, docs_csp=page_csp)
    app.state.route_permissions = route_permissions(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Failed logins of the last minute are only counted in memory: write them before exit.
    from qalqan.service import auth

    auth.flush_failures(app.state.service)


def _store_data_dir() -> Path:
    from qalqan.store.db import data_dir

    return data_dir()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qalqan")
    except PackageNotFoundError:
        return "0"


__all__ = ["MAX_BODY_BYTES", "UPLOAD_MAX_BYTES", "create_app"]
