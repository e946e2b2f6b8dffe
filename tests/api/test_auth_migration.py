"""Migration 0002 adds `api_keys.created_by` to a store that already has keys (their issuer is
unknown: NULL, listed as such) and is undone by its downgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from qalqan.service import users
from qalqan.store.db import Database, alembic_config

from .conftest import make_service


def columns(db: Database) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("api_keys")}


def test_key_issuer_migration_keeps_existing_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate("0001")
    assert "created_by" not in columns(db)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, role, active, created_at) VALUES ('old', 'analyst', 1, :t)"), {"t": datetime(2025, 1, 1, tzinfo=UTC)})
        conn.execute(
            text("INSERT INTO api_keys (user_id, prefix, hash, label, created_at) VALUES (1, '0123456789ab', 'x', 'before', :t)"), {"t": datetime(2025, 1, 1, tzinfo=UTC)}
        )
    db.migrate("0002")
    assert "created_by" in columns(db)
    db.migrate()
    [old] = users.list_keys(make_service(db, with_list=False), "old")
    assert old["prefix"] == "0123456789ab" and old["created_by"] is None
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert "created_by" not in columns(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT label FROM api_keys")).scalar_one() == "before"
    db.dispose()
