"""Logging in and out, the language menu, the purpose of a session's views, and the dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from qalqan.api.security import public
from qalqan.service import alerts, versions, web_sessions
from qalqan.web import i18n
from qalqan.web.auth import SESSION_COOKIE, WebUser, client_of, current_user, safe_next, web_require
from qalqan.web.templating import render

router = APIRouter(include_in_schema=False)

#: A year: the language choice is not personal data.
LANG_MAX_AGE = 365 * 24 * 3600


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/ui/login", dependencies=[Depends(public)])
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query parameter's name
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "error": None, "name": ""})


@router.post("/ui/login", dependencies=[Depends(public)])
def login(request: Request, name: Annotated[str, Form(max_length=200)] = "", password: Annotated[str, Form(max_length=1000)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:  # noqa: A002
    """A login form posts here. A refusal shows the same message for an unknown user and a wrong
    password; a locked account says so (and until when), without saying whether the password
    was right."""
    service = request.app.state.service
    try:
        session = web_sessions.login(service, name.strip(), password, client=client_of(request))
    except web_sessions.LoginRefused as exc:
        error = "locked" if exc.reason == "locked" else "bad"
        return render(request, "login.html", {"next": safe_next(next), "error": error, "locked_until": exc.locked_until, "name": name.strip()[:200]}, status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


@router.post("/ui/logout")
def logout(request: Request, user: Annotated[WebUser, Depends(web_require("docs:read"))]) -> Response:
    web_sessions.logout(request.app.state.service, user.token)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.post("/ui/purpose")
def set_purpose(request: Request, user: Annotated[WebUser, Depends(web_require("docs:read"))], purpose: Annotated[str, Form(max_length=1000)] = "",
                next: Annotated[str, Form(max_length=2000)] = "/") -> Response:  # noqa: A002
    """The purpose of this session's views of personal data (recorded with each view)."""
    text = purpose.strip()
    if not text:
        return render(request, "purpose.html", {"next": safe_next(next), "error": "required"}, user=user, status=422)
    web_sessions.set_purpose(request.app.state.service, user.token, text)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/ui/purpose")
def purpose_page(request: Request, user: Annotated[WebUser, Depends(web_require("docs:read"))], next: str = "/") -> HTMLResponse:  # noqa: A002
    return render(request, "purpose.html", {"next": safe_next(next), "error": None}, user=user)


@router.post("/ui/lang", dependencies=[Depends(public)])
def set_language(request: Request, lang: Annotated[str, Form(max_length=10)] = "", next: Annotated[str, Form(max_length=2000)] = "/") -> Response:  # noqa: A002
    """The language menu: remembered in a cookie (not personal data, so no CSRF token is needed:
    the worst a forged request does is change the language)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=LANG_MAX_AGE, samesite="strict", secure=_secure(request), path="/")
    return response


def _dashboard_values(request: Request) -> dict[str, Any]:
    service = request.app.state.service
    counts = {status: alerts.list_alerts(service, status=status, limit=1).total for status in ("open", "escalated", "pending_approval")}
    return {
        "lists": versions.lists(service.db),
        "open_alerts": counts["open"],
        "escalated": counts["escalated"],
        "pending": counts["pending_approval"],
        "buckets": alerts.count_alerts_by_age(service, ["open", "escalated"]),
        "warnings": None,
    }


@router.get("/")
def dashboard(request: Request, user: Annotated[WebUser, Depends(web_require("docs:read"))]) -> Response:
    """The start page. A role that reads no lists or alerts (the auditor) goes to its first page."""
    if not user.allows("lists:read"):
        from qalqan.web.templating import NAV

        first = next((path for path, _label, perm in NAV if path != "/" and user.allows(perm)), None)
        if first is not None:
            return RedirectResponse(first, status_code=303)
        return render(request, "dashboard.html", {"lists": [], "open_alerts": None, "escalated": None, "buckets": None, "pending": None,
                                                   "warnings": _open_warnings(request) if user.allows("exchange:read") else None, "jobs": []}, user=user)
    values = _dashboard_values(request)
    if user.allows("exchange:read"):
        values["warnings"] = _open_warnings(request)
    values["jobs"] = _jobs(request, user)
    return render(request, "dashboard.html", values, user=user)


def _open_warnings(request: Request) -> list[dict[str, Any]]:
    """Early warnings received and not acknowledged here, or ours still awaiting a recipient's."""
    from qalqan.service import exchange

    found = exchange.warnings(request.app.state.service, limit=100)
    return [w for w in found if w.get("acknowledged") is False or w.get("not_acknowledged")]


def _jobs(request: Request, user: WebUser) -> list[dict[str, Any]]:
    """Imports and re-screens queued or running now, with their live progress."""
    if not user.allows("jobs:read"):
        return []
    from sqlalchemy import select

    from qalqan.store.tables import Job

    runner = request.app.state.jobs
    with request.app.state.service.db.session() as s:
        rows = s.execute(select(Job).where(Job.status.in_(("queued", "running"))).order_by(Job.created_at.desc()).limit(20)).scalars().all()
        return [runner.job(j) for j in rows]


@router.get("/ui/dashboard/jobs")
def dashboard_jobs(request: Request, user: Annotated[WebUser, Depends(web_require("lists:read"))]) -> HTMLResponse:
    """The dashboard's 'running now' panel, polled by htmx while something runs."""
    return render(request, "_jobs.html", {"jobs": _jobs(request, user)}, user=user)
