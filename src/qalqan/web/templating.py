"""Rendering pages: one Jinja2 environment (autoescaping on, the i18n extension fed from
`web.i18n`), and `render`, which gives every template the same context: the user, the CSRF
token, the language and its direction, the navigation the user's role may see, and the purpose.

Templates hold no business rule: they format what the service functions return. Every name is
shown as written in its source, wrapped in `<bdi>` (the `name` macro in `macros.html`), so a
name in Arabic script on a Russian page, or a Latin name on an Arabic page, is laid out on its
own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from qalqan.web import i18n
from qalqan.web.auth import WebUser, current_user

TEMPLATES = Path(__file__).parent / "templates"

#: The navigation: (path, label, permission). A role sees only what it may open.
NAV: tuple[tuple[str, str, str], ...] = (
    ("/", "Dashboard", "lists:read"),
    ("/ui/screen", "Screen a name", "screen"),
    ("/ui/alerts", "Alerts", "alerts:read"),
    ("/ui/subjects", "Subjects", "subjects:read"),
    ("/ui/lists", "Lists", "lists:read"),
    ("/ui/batch", "Batch screening", "screen"),
    ("/ui/travel", "Travel", "travel:read"),
    ("/ui/content", "Content", "content:read"),
    ("/ui/audit", "Audit", "audit:read"),
)


def _percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}"
    except (TypeError, ValueError):
        return "0"


def _width(value: Any, scale: float = 1.0) -> str:
    """A bar width in percent, clamped to 0-100 (for the score and contribution bars)."""
    try:
        number = float(value) / scale * 100
    except (TypeError, ValueError, ZeroDivisionError):
        return "0"
    if math.isnan(number):
        return "0"
    return f"{max(0.0, min(100.0, number)):.1f}"


def _when(value: Any) -> str:
    """An ISO timestamp shown to the minute, in UTC."""
    if not value:
        return ""
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Isolated left to right (LRI ... PDI): on an Arabic page "2026-12-03 12:05" stays in that
    # order, in text and in attributes alike.
    return "\u2066" + dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "\u2069"


def _number(value: Any) -> str:
    try:
        return f"{int(value):,}".replace(",", "\u202f")
    except (TypeError, ValueError):
        return str(value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"], default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = _percent
    env.filters["width"] = _width
    env.filters["when"] = _when
    env.filters["number"] = _number
    # The globals read the language of the page being rendered (a context variable `render`
    # sets), so macros imported without context and included templates translate too.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals["_"] = _gettext
    return env


#: The catalogue of the page being rendered (set by `render` for the duration of one render).
_CATALOGUE: ContextVar[i18n.Catalogue | None] = ContextVar("qalqan_web_catalogue", default=None)


def _gettext(message: str) -> str:
    cat = _CATALOGUE.get()
    return cat.gettext(message) if cat is not None else message


def _ngettext(singular: str, plural: str, n: int) -> str:
    cat = _CATALOGUE.get()
    return cat.ngettext(singular, plural, n) if cat is not None else (singular if n == 1 else plural)


ENV = _environment()


def language(request: Request) -> str:
    cached = getattr(request.state, "lang", None)
    if cached:
        return str(cached)
    lang = i18n.choose(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))
    request.state.lang = lang
    return lang


def gettext(request: Request) -> Any:
    return i18n.catalogue(language(request)).gettext


def context(request: Request, user: WebUser | None = None) -> dict[str, Any]:
    user = user if user is not None else current_user(request)
    lang = language(request)
    cat = i18n.catalogue(lang)
    nav = [(path, cat.gettext(label)) for path, label, perm in NAV if user is not None and user.allows(perm)]
    return {
        "request": request,
        "user": user,
        "csrf": user.csrf if user is not None else "",
        "lang": lang,
        "dir": i18n.direction(lang),
        "languages": [(code, i18n.NATIVE_NAMES[code]) for code in i18n.LANGUAGES],
        "nav": nav,
        "path": request.url.path,
        "banner": getattr(request.app.state, "banner", None),
        "_": cat.gettext,
        "gettext": cat.gettext,
        "ngettext": cat.ngettext,
        "allows": (lambda permission: user is not None and user.allows(permission)),
    }


def render(request: Request, template: str, values: Mapping[str, Any] | None = None, *, user: WebUser | None = None, status: int = 200,
           headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """`template` rendered with the page context and `values`, as an HTML response."""
    ctx = context(request, user)
    ctx.update(values or {})
    # `_`, `gettext` and `ngettext` come with the context (the request's language), which takes
    # precedence over the environment's globals: no shared state is changed per request.
    token = _CATALOGUE.set(i18n.catalogue(ctx["lang"]))
    try:
        html = ENV.get_template(template).render(ctx)
    finally:
        _CATALOGUE.reset(token)
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


__all__ = ["ENV", "Markup", "NAV", "context", "gettext", "is_htmx", "language", "render"]
