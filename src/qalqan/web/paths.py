"""Where the interface lives: pages at `/` and under `/ui/`, assets under `/ui/static`."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/ui/static"


def is_web_path(path: str) -> bool:
    """Whether `path` is one of the interface's (pages and their assets)."""
    return path == "/" or path == "/ui" or path.startswith("/ui/")
