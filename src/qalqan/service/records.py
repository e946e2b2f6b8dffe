"""The entity records behind list versions: how a version is compared with the live one, and how
its new records, membership and diff lines are written (in the import's transaction).

A record is one content of one listed party, stored once however many versions carry it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from qalqan.model import Entity
from qalqan.model.codec import IDENTITY_FIELDS, content_hash, entity_to_dict
from qalqan.monitoring.diff import ADDED, AMENDED, REMOVED, dict_changes
from qalqan.service.common import LOOKUP_CHUNK, chunks
from qalqan.service.live import READ_CHUNK
from qalqan.store.bulk import insert_returning_ids, write_rows
from qalqan.store.tables import EntityRecord, ListChange, ListVersion, VersionEntity

#: Rows per progress report and per executemany call (SQLAlchemy batches the rows of each call into
#: multi-row INSERTs itself): a million entities report 200 times; a chunk's rows stay small in memory.
WRITE_CHUNK = 5_000

#: Progress callback: (stage, done, total). Stages: "downloading" (bytes), "reading", "comparing",
#: "writing entities", "writing membership", "writing changes", "committing".
Progress = Callable[[str, int, int], None]


def report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def _schema_counts(items: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(items).items()))


def record_hash(data: Mapping[str, Any]) -> str:
    """The stored record's hash: `entity_hash` (what the entity says about the listed party) plus
    the record id, so a record re-issued under a new id is a new record (and shows in the diff)."""
    inner = content_hash(dict(data), IDENTITY_FIELDS)
    return hashlib.sha256(f"{inner}\n{data['id']}".encode()).hexdigest()


@dataclass(slots=True)
class _New:
    # No `entity_to_dict` form kept here: for a million entities it would double the memory of
    # the list; it is made again for the few that are stored or compared.
    key: str
    entity: Entity
    hash: str
    record_id: int | None = None


@dataclass(slots=True)
class _Old:
    record_id: int
    hash: str
    schema: str
    caption: str
    entity_id: str


def _previous_records(session: Session, version_id: int) -> dict[str, _Old]:
    stmt = (
        select(EntityRecord.key, EntityRecord.id, EntityRecord.hash, EntityRecord.schema, EntityRecord.caption, EntityRecord.entity_id)
        .join(VersionEntity, VersionEntity.record_id == EntityRecord.id)
        .where(VersionEntity.version_id == version_id)
        .execution_options(yield_per=READ_CHUNK)
    )
    return {key: _Old(int(rid), h, schema, caption, eid) for key, rid, h, schema, caption, eid in session.execute(stmt)}


def _record_data(session: Session, record_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for chunk in chunks(record_ids, LOOKUP_CHUNK):
        out.update({int(i): d for i, d in session.execute(select(EntityRecord.id, EntityRecord.data).where(EntityRecord.id.in_(chunk)))})
    return out


def _existing_records(session: Session, list_name: str, items: Sequence[_New]) -> dict[tuple[str, str], int]:
    """Records this list already holds for these (key, hash) pairs (e.g. a party delisted and
    listed again with the same record): stored once, reused."""
    found: dict[tuple[str, str], int] = {}
    for chunk in chunks(items, LOOKUP_CHUNK):
        keys = sorted({i.key for i in chunk})
        stmt = select(EntityRecord.key, EntityRecord.hash, EntityRecord.id).where(EntityRecord.list_name == list_name, EntityRecord.key.in_(keys))
        found.update({(k, h): int(i) for k, h, i in session.execute(stmt)})
    return found


def _insert_records(session: Session, list_name: str, items: Sequence[_New], progress: Progress | None) -> None:
    total, done = len(items), 0
    table: Table = EntityRecord.__table__  # type: ignore[assignment]
    report(progress, "writing entities", 0, total)
    for chunk in chunks(items, WRITE_CHUNK):
        rows: list[dict[str, Any]] = [
            {
                "list_name": list_name, "key": i.key, "hash": i.hash, "entity_id": i.entity.id,
                "schema": i.entity.schema, "caption": i.entity.caption[:1000], "data": entity_to_dict(i.entity),
            }
            for i in chunk
        ]
        for item, rid in zip(chunk, insert_returning_ids(session, table, rows), strict=True):
            item.record_id = rid
        done += len(chunk)
        report(progress, "writing entities", done, total)


def _insert_rows(session: Session, table: Any, rows: Sequence[dict[str, Any]], stage: str, progress: Progress | None) -> None:
    total, done = len(rows), 0
    report(progress, stage, 0, total)
    for chunk in chunks(rows, WRITE_CHUNK):
        write_rows(session, table.__table__, chunk)
        done += len(chunk)
        report(progress, stage, done, total)


@dataclass(slots=True)
class Compared:
    new: list[_New]
    old: dict[str, _Old]
    added: list[_New]
    amended: list[_New]
    removed: list[str]
    fields: dict[str, list[dict[str, Any]]]

    def changes(self) -> dict[str, dict[str, int]]:
        return {
            ADDED: _schema_counts(n.entity.schema for n in self.added),
            REMOVED: _schema_counts(self.old[k].schema for k in self.removed),
            AMENDED: _schema_counts(n.entity.schema for n in self.amended),
        }


def compare(session: Session, keyed: Mapping[str, Entity], live: ListVersion | None) -> Compared:
    """The import against the live version: same key and hash -> unchanged, the record is reused."""
    new = [_New(key, entity, record_hash(entity_to_dict(entity))) for key, entity in keyed.items()]
    old = _previous_records(session, live.id) if live is not None else {}
    added = sorted((n for n in new if n.key not in old), key=lambda n: n.key)
    amended = sorted((n for n in new if n.key in old and old[n.key].hash != n.hash), key=lambda n: n.key)
    removed = sorted(set(old) - {n.key for n in new})
    for n in new:
        o = old.get(n.key)
        if o is not None and o.hash == n.hash:
            n.record_id = o.record_id
    old_data = _record_data(session, [old[n.key].record_id for n in amended])
    fields = {n.key: [c.as_dict() for c in dict_changes(old_data[old[n.key].record_id], entity_to_dict(n.entity))] for n in amended}
    return Compared(new, old, added, amended, removed, fields)


def write_contents(session: Session, list_name: str, version: ListVersion, cmp: Compared, has_records: bool, progress: Progress | None) -> None:
    """The version's new records (reusing any this list already holds), membership and diff."""
    to_store = [n for n in cmp.new if n.record_id is None]
    if to_store and has_records:
        existing = _existing_records(session, list_name, to_store)
        for n in to_store:
            n.record_id = existing.get((n.key, n.hash))
        to_store = [n for n in to_store if n.record_id is None]
    _insert_records(session, list_name, to_store, progress)
    _insert_rows(session, VersionEntity, [{"version_id": version.id, "record_id": n.record_id} for n in cmp.new], "writing membership", progress)

    def line(key: str, change: str, schema: str, caption: str, old_id: int | None, new_id: int | None, fields: list[Any]) -> dict[str, Any]:
        return {"version_id": version.id, "key": key, "change": change, "schema": schema, "caption": caption[:1000], "old_record_id": old_id, "new_record_id": new_id, "fields": fields}

    lines = [line(n.key, ADDED, n.entity.schema, n.entity.caption, None, n.record_id, []) for n in cmp.added]
    lines += [line(k, REMOVED, cmp.old[k].schema, cmp.old[k].caption, cmp.old[k].record_id, None, []) for k in cmp.removed]
    lines += [line(n.key, AMENDED, n.entity.schema, n.entity.caption, cmp.old[n.key].record_id, n.record_id, cmp.fields[n.key]) for n in cmp.amended]
    _insert_rows(session, ListChange, lines, "writing changes", progress)
