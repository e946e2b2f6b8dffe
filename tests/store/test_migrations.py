"""The Alembic migrations build exactly the schema the table classes describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from qalqan.store.db import Database
from qalqan.store.tables import Base


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"lists", "list_versions", "subjects", "alerts", "audit_log", "api_keys"} <= db.tables()


#: The newest migration.
HEAD = "0010"


def test_migrate_is_idempotent(db: Database) -> None:
    db.migrate()
    db.migrate()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD


def test_0009_keeps_alerts_and_their_decisions_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0009 copies `alerts` on SQLite (a column becomes nullable) while `alert_decisions` refers
    to it: the rows and their links survive, and foreign keys are enforced again after."""
    from sqlalchemy import text

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate("0008")
    at = "2026-01-01 00:00:00"
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO lists (name, format, title) VALUES ('w', 'csv', '')"))
        conn.execute(text("INSERT INTO list_versions (id, list_name, number, source, format, fetched_at, sha256, counts, total, warnings, imported_by, changes) "
                          f"VALUES (1, 'w', 1, 'x', 'csv', '{at}', 'h', '{{}}', 1, 0, 't', '{{}}')"))
        conn.execute(text(f"INSERT INTO entity_records (id, list_name, key, hash, entity_id, schema, caption, data) VALUES (1, 'w', 'k', 'h', 'e', 'Person', 'c', '{{}}')"))
        conn.execute(text("INSERT INTO subjects (id, external_id, schema, caption, data, hash, tokens, created_at, updated_at, created_by, screened_version) "
                          f"VALUES (1, 's', 'Person', 'c', '{{}}', 'h', '', '{at}', '{at}', 't', '{{}}')"))
        conn.execute(text("INSERT INTO alerts (id, subject_id, list_name, entity_key, generation, entity_id, entity_caption, record_id, version_id, subject_hash, score, "
                          f"explanation, status, trigger, changes, created_at, updated_at) VALUES (7, 1, 'w', 'k', 1, 'e', 'c', 1, 1, 'h', 0.9, '[]', 'closed', 'new-subject', '[]', '{at}', '{at}')"))
        conn.execute(text(f"INSERT INTO alert_decisions (id, alert_id, actor, action, from_status, to_status, reason, at) VALUES (3, 7, 'a', 'close', 'open', 'closed', 'r', '{at}')"))
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT a.id, d.id FROM alerts a JOIN alert_decisions d ON d.alert_id = a.id")).all() == [(7, 3)]
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
    db.dispose()
