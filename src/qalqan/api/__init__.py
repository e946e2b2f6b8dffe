"""HTTP adapter: the FastAPI app of the monitoring service over a `Qalqan` (screening is
yente-compatible /match)."""

from qalqan.api.app import create_app

__all__ = ["create_app"]
