"""What a page answers when it cannot be shown: the login form (no session), the purpose form
(personal data, no stated purpose), or an error page in the user's language. API paths keep
FastAPI's JSON errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qalqan.web.paths import is_web_path
from qalqan.web.auth import LoginRequired, PurposeRequired, login_location
from qalqan.web.templating import is_htmx, render

TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 409: "Conflict", 413: "Too large", 422: "Cannot be done", 429: "Too many attempts"}


async def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    location = login_location(exc.next_path)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def purpose_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PurposeRequired)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": exc.next_path})
    return render(request, "purpose.html", {"next": exc.next_path, "error": None})


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not is_web_path(request.url.path):
        return await http_exception_handler(request, exc)
    detail: Any = exc.detail
    message = detail if isinstance(detail, str) else ""
    return render(request, "error.html", {"status": exc.status_code, "title": TITLES.get(exc.status_code, "Error"), "message": message},
                  status=exc.status_code, headers=getattr(exc, "headers", None))


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PurposeRequired, purpose_required)
    app.add_exception_handler(StarletteHTTPException, http_error)
