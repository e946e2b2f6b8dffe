"""HTTP adapter: a FastAPI app over a built Screener (yente-compatible /match)."""

from qalqan.api.app import create_app

__all__ = ["create_app"]
