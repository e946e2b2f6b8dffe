"""Opening the store: the database URL, the engine, transactions and migrations.

Embedded default: a SQLite file `qalqan.db` in the data directory (`QALQAN_DATA`, default
`./data`). Production: PostgreSQL via `QALQAN_DATABASE_URL` (e.g.
`postgresql+psycopg://qalqan@db/qalqan`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATA_DIR = "data"
SQLITE_FILE = "qalqan.db"
#: How long a SQLite writer waits for another's lock before failing: list imports and bulk
#: subject loads hold the write lock for seconds; API requests must wait them out, not fail.
SQLITE_BUSY_MS = 60_000
MIGRATIONS = Path(__file__).parent / "migrations"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("QALQAN_DATA") or DEFAULT_DATA_DIR)


def database_url(env: Mapping[str, str] | None = None) -> str:
    """`QALQAN_DATABASE_URL`, else the SQLite file in the data directory."""
    env = os.environ if env is None else env
    url = env.get("QALQAN_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(data_dir(env) / SQLITE_FILE).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer, nor it them
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at every checkpoint; safe with WAL
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


#: Set while a thread is inside `Database.transaction()` on SQLite: its BEGIN takes the write lock.
_writing = threading.local()


def _sqlite_begin(conn: Any) -> None:
    # A write transaction takes the write lock at BEGIN (IMMEDIATE): two writers then queue on
    # busy_timeout instead of one failing with "database is locked" when it upgrades a read lock
    # (and the audit chain needs writers in sequence anyway). Reads begin DEFERRED and, in WAL
    # mode, never wait for a writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if getattr(_writing, "active", False) else "BEGIN")


class Database:
    """An engine plus a session factory. `with db.transaction() as s:` commits on success and
    rolls back on any exception."""

    def __init__(self, url: str | None = None, *, echo: bool = False):
        self.url = url or database_url()
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock: threading.RLock | None = threading.RLock() if self.dialect == "sqlite" else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self._write_lock is None:
            with self._sessions() as session, session.begin():
                yield session
            return
        # SQLite has one writer at a time; threads of this process queue on a lock (handed over
        # at once) instead of on SQLite's busy handler, which sleeps up to 100 ms between retries
        # and turned 50 concurrent API writers into seconds of latency.
        with self._write_lock:
            _writing.active = True
            try:
                with self._sessions() as session, session.begin():
                    yield session
            finally:
                _writing.active = False

    def session(self) -> Session:
        """A session for reads (the caller closes it)."""
        return self._sessions()

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` with Alembic (idempotent)."""
        from alembic import command

        with self.engine.begin() as connection:
            cfg = alembic_config(connection)
            command.upgrade(cfg, revision)

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """The store at `url` (default: `database_url()`), migrated to the latest schema."""
    db = Database(url)
    if migrate:
        db.migrate()
    return db
