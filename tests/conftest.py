"""Suite-wide settings and the store fixtures (every store test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from qalqan.store.db import Database

# Property tests check behaviour, not speed: the first example pays for loading rigour's and
# ICU's data, and CI machines are shared, so no per-example deadline.
settings.register_profile("qalqan", deadline=None, max_examples=100)
settings.load_profile("qalqan")

# The compiled-index cache of `qalqan screen` goes to a directory of this run's own (subprocesses
# inherit it), never to the user's ~/.cache/qalqan.
os.environ["QALQAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="qalqan-test-cache-")

#: Set by tests/support/pgcluster.sh (which `make test` runs the suite under).
PG_URL = os.environ.get("QALQAN_TEST_PG_URL")
#: `make test` sets this, so a run that lost its PostgreSQL cluster fails instead of quietly
#: testing SQLite alone.
if os.environ.get("QALQAN_REQUIRE_PG") == "1" and not PG_URL:
    raise RuntimeError("QALQAN_REQUIRE_PG=1 but QALQAN_TEST_PG_URL is not set: run the suite through tests/support/pgcluster.sh")

BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
_counter = itertools.count()
_TEMPLATE = "qalqan_template"


def shared_data() -> Path:
    return Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real public data (../shared/data, or QALQAN_SHARED). CI always has it."""
    return shared_data()


def _pg_admin_url() -> str:
    assert PG_URL
    return make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> str:
    """A migrated template database; each test gets a copy (CREATE DATABASE ... TEMPLATE is fast)."""
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {_TEMPLATE}"))
        conn.execute(text(f"CREATE DATABASE {_TEMPLATE}"))
    url = make_url(PG_URL).set(database=_TEMPLATE).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    db.dispose()
    admin.dispose()
    return _TEMPLATE


def make_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'qalqan.db'}")
        db.migrate()
        return db
    template = request.getfixturevalue("pg_template")
    name = f"qalqan_t{os.getpid()}_{next(_counter)}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()
    return Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated store on each backend."""
    database = make_database(request.param, tmp_path, request)
    yield database
    database.dispose()
    if request.param == "postgresql":
        admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {make_url(database.url).database} WITH (FORCE)"))
        admin.dispose()
