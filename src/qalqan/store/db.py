"""Opening the store: the database URL, the engine, transactions and migrations.

Embedded default: a SQLite file `qalqan.db` in the data directory (`QALQAN_DATA`, default
`./data`). Production: PostgreSQL via `QALQAN_DATABASE_URL` (e.g.
`postgresql+psycopg://qalqan@db/qalqan`).

The SQLite file holds personal data (watched people, alerts, the audit log): Qalqan creates it
readable by its owner only (0600, and so its -wal / -shm companions, which SQLite gives the
database's mode), in a data directory of mode 0700 when it creates that too.
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
#: Modes of what Qalqan creates to hold personal data or secrets: its owner's alone.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
#: Files SQLite keeps beside the database in WAL mode.
SQLITE_COMPANIONS = ("-wal", "-shm")


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


def private_dir(path: Path) -> Path:
    """`path` as a directory, created (with its parents) if missing; the directory created itself
    gets mode 0700. An existing one keeps its mode: where it lives is the operator's choice."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another process made it first
            return path
        os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is narrowed by the umask, never widened: be exact
    return path


def _create_private_file(path: Path) -> bool:
    """Create an empty `path` with mode 0600 (an empty file is a valid SQLite database);
    False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return True


def _make_private(database: Path) -> Any:
    """A connect hook that keeps the database and its companions at 0600: SQLite copies the
    database's mode to the -wal / -shm files it creates, but builds differ, so check."""

    def hook(_dbapi_connection: Any, _record: Any) -> None:
        for path in (database, *(database.with_name(database.name + s) for s in SQLITE_COMPANIONS)):
            try:
                if path.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
                    os.chmod(path, PRIVATE_FILE_MODE)
            except FileNotFoundError:
                pass

    return hook


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed in the file, not left in free pages: masked and
    # deleted passenger data (and erased subjects) must be gone from the database itself.
    cursor.execute("PRAGMA secure_delete=ON")
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
        created: Path | None = None
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
                path = Path(parsed.database)
                private_dir(path.parent)
                if _create_private_file(path):
                    created = path
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
            if created is not None:  # a file the operator made keeps the mode they gave it
                event.listen(self.engine, "connect", _make_private(created))
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

        if self.dialect != "sqlite":
            with self.engine.begin() as connection:
                command.upgrade(alembic_config(connection), revision)
            return
        # SQLite changes a column by copying its table (Alembic's batch mode), which a table other
        # tables refer to survives only with foreign-key enforcement off; the pragma is a no-op
        # inside a transaction, so it is set before, and the keys are checked before commit.
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection  # pysqlite, autocommit: no BEGIN is sent
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    command.upgrade(alembic_config(connection), revision)
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left {len(broken)} broken foreign key(s), first: {tuple(broken[0])}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")

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
