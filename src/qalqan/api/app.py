"""The FastAPI application over one built Screener."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qalqan.api.convert import feature_docs
from qalqan.api.models import FeatureDoc
from qalqan.api.routes import router
from qalqan.matching.screener import Screener

#: Largest request body accepted: 100 queries of generous size fit in well under 1 MiB; beyond
#: that a body is an error or an attempt to tie up the server.
MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """Answers 413 when a request body (declared or streamed) exceeds `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._reject(send)
                return
        # Read the body here (at most `limit` bytes are held), then replay it to the app: an
        # error raised inside the app's own body reading would be turned into a 400.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._reject(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _reject(self, send: Send) -> None:
        body = b'{"detail":"request body too large (limit %d bytes)"}' % self.limit
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def create_app(screener: Screener, *, max_body_bytes: int = MAX_BODY_BYTES, banner: str | None = None) -> FastAPI:
    """The HTTP API over `screener`. `banner` (e.g. the demo-list warning) is shown in /docs."""
    description = (
        "Sanctions screening with explained cross-script scores. `POST /match/{list}` accepts and "
        "answers yente's `/match` JSON, so a yente client switches without code changes."
    )
    if banner:
        description = f"**{banner}**\n\n" + description
    app = FastAPI(title="Qalqan", version=_version(), description=description)
    app.state.screener = screener
    app.state.banner = banner
    # Computed once: every list that has loaded info or entities.
    app.state.list_names = {info.name for info in screener.lists} | {e.list for e in screener.entities()}
    app.state.feature_docs = {k: FeatureDoc.model_validate(v) for k, v in feature_docs(screener).items()}
    app.include_router(router)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qalqan")
    except PackageNotFoundError:
        return "0"


__all__: list[Any] = ["create_app", "MAX_BODY_BYTES"]
