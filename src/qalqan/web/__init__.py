"""The analyst's web interface: server-rendered pages (Jinja2 templates, htmx for partial
updates) on the same FastAPI app as the JSON API, calling the same service functions.

Everything a page loads comes from this package (`web/static`: htmx, the stylesheet, the
script): deployments sit on closed networks. Pages live at `/` (the dashboard) and under
`/ui/`; their Content-Security-Policy allows scripts and styles from this app only, no inline
script and no inline style (see `api.app.WEB_CSP`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qalqan.web.paths import STATIC, STATIC_PATH, is_web_path

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["STATIC", "STATIC_PATH", "is_web_path", "mount_web"]


def mount_web(app: FastAPI) -> None:
    """Add the pages, their static assets and their error pages to `app`."""
    from fastapi.staticfiles import StaticFiles

    from qalqan.web.errors import install_handlers
    from qalqan.web.pages import routers

    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="web-static")
    for router in routers():
        app.include_router(router)
    install_handlers(app)
