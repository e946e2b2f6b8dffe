"""Alembic environment: runs on the connection `qalqan.store.db.Database.migrate` passes in, or
on `sqlalchemy.url` / `QALQAN_DATABASE_URL` when run as `alembic -c ...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from qalqan.store.db import database_url
from qalqan.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or database_url())
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
