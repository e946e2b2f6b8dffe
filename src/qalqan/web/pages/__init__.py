"""The interface's pages, one module per area; `routers()` lists their routers.

A module here adds an `APIRouter` named `router` (include_in_schema=False) whose every route
depends on `web_require(permission)` (or is the login page, marked `public`), and registers
itself in `AREAS`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: The page modules, in navigation order.
AREAS: tuple[str, ...] = ("core", "screen", "alerts", "subjects", "lists", "batch", "travel", "content", "audit")


def routers() -> list[Any]:
    return [import_module(f"qalqan.web.pages.{area}").router for area in AREAS]
