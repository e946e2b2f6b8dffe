"""Persistence adapter: SQLAlchemy tables, the database, Alembic migrations and repositories."""

from qalqan.store.db import Database, database_url, open_database

__all__ = ["Database", "database_url", "open_database"]
