"""The SQLite store holds personal data: what Qalqan creates is readable by its owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from qalqan.store.db import Database, open_database, private_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 0: anything not created with an explicit mode would come out world-writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_new_sqlite_store_and_data_dir_are_private(tmp_path: Path, permissive_umask: None) -> None:
    data = tmp_path / "nested" / "data"
    db = open_database(f"sqlite:///{data / 'qalqan.db'}")
    try:
        with db.transaction() as s:  # a write, so the WAL and shared-memory files exist
            s.execute(text("CREATE TABLE probe (x INTEGER)"))
            s.execute(text("INSERT INTO probe VALUES (1)"))
        files = {p.name: mode(p) for p in data.iterdir()}
        assert {"qalqan.db", "qalqan.db-wal", "qalqan.db-shm"} <= files.keys()
        assert files == dict.fromkeys(files, 0o600)
        assert mode(data) == 0o700
    finally:
        db.dispose()


def test_an_existing_data_dir_and_file_keep_their_modes(tmp_path: Path, permissive_umask: None) -> None:
    tmp_path.chmod(0o750)
    existing = tmp_path / "qalqan.db"
    existing.touch(0o640)
    existing.chmod(0o640)
    db = Database(f"sqlite:///{existing}")
    try:
        with db.transaction() as s:
            s.execute(text("CREATE TABLE probe (x INTEGER)"))
        assert mode(tmp_path) == 0o750 and mode(existing) == 0o640
    finally:
        db.dispose()


def test_private_dir_mode_does_not_depend_on_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        made = private_dir(tmp_path / "a" / "b")
    finally:
        os.umask(old)
    assert made.is_dir() and mode(made) == 0o700
