"""Versioned list imports: atomic, diffed against the live version, and guarded.

An import reads the whole file first (`sources.registry.read_list`; a `ListError` writes nothing),
then writes the new version, its entity records, its membership, its diff against the live
version, the move of the live pointer and the audit entry in ONE transaction. A failed or killed
import therefore leaves the previous version live and no partial rows behind.

The guard (`monitoring.guard`): a version that removes more than a share of the live entities,
is older than the live one, or changes the list's format is stored with its diff but held as
*pending*; the live pointer moves only when an admin confirms it (`confirm_version`, or `force`
at import). Re-screening and closing alerts on delisted entries follow a version going live, and
are the composition's business (`service.core.Qalqan`), not this module's.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from qalqan.model import Entity, ListError, ListInfo
from qalqan.model.codec import IDENTITY_FIELDS, content_hash, entity_to_dict
from qalqan.monitoring.diff import ADDED, AMENDED, CHANGES, REMOVED, dict_changes, stable_keys
from qalqan.monitoring.guard import DEFAULT_MAX_REMOVED_SHARE, Facts, Hold, holds
from qalqan.service.common import LOOKUP_CHUNK, chunks
from qalqan.service.context import Context
from qalqan.service.live import READ_CHUNK
from qalqan.service.versions import NotFound, version_row
from qalqan.sources.registry import read_list
from qalqan.store.bulk import insert_returning_ids, write_rows
from qalqan.store.tables import KEY, CODE, EntityRecord, ListChange, ListSource, ListVersion, VersionEntity

#: Rows per progress report and per executemany call (SQLAlchemy batches the rows of each call into
#: multi-row INSERTs itself): a million entities report 200 times; a chunk's rows stay small in memory.
WRITE_CHUNK = 5_000
#: Column sizes of `lists.name` and `lists.url` (store/tables.py).
LIST_NAME_MAX = 64
URL_MAX = 1000
#: Version statuses (`ListVersion.status`).
ACCEPTED, PENDING, REJECTED = "accepted", "pending", "rejected"

#: Progress callback: (stage, done, total). Stages: "downloading" (bytes), "reading", "comparing",
#: "writing entities", "writing membership", "writing changes", "committing".
Progress = Callable[[str, int, int], None]


class VersionStateError(ValueError):
    """A confirm or reject that does not apply to the version as it stands (says why)."""


def max_removed_share(env: Mapping[str, str] | None = None) -> float:
    """`QALQAN_MAX_REMOVED_SHARE` (0..1) or the guard's default (10%)."""
    raw = (os.environ if env is None else env).get("QALQAN_MAX_REMOVED_SHARE", "")
    if not raw.strip():
        return DEFAULT_MAX_REMOVED_SHARE
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"QALQAN_MAX_REMOVED_SHARE must be between 0 and 1, not {raw!r}")
    return value


def report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def record_hash(data: Mapping[str, Any]) -> str:
    """The stored record's hash: `entity_hash` (what the entity says about the listed party) plus
    the record id, so a record re-issued under a new id is a new record (and shows in the diff)."""
    inner = content_hash(dict(data), IDENTITY_FIELDS)
    return hashlib.sha256(f"{inner}\n{data['id']}".encode()).hexdigest()


def _schema_counts(items: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(items).items()))


@dataclass(slots=True)
class ImportResult:
    list_name: str
    version_id: int | None
    number: int | None
    created: bool  # False: the content equals the live version's (same sha256); nothing new
    counts: dict[str, Any]  # entities per schema of the (new or unchanged live) version
    changes: dict[str, Any]  # {"added": {"Person": n}, "removed": {...}, "amended": {...}}
    previous_id: int | None
    rescreen: Any = None  # set by Qalqan.import_list: the re-screen's summary
    sha256: str | None = None
    published: str | None = None
    warnings: int = 0
    status: str = ACCEPTED  # "pending": stored, held for an admin, not live
    held: list[dict[str, str]] = field(default_factory=list)  # why ({rule, detail})
    forced: bool = False  # held by a rule, made live by `force`

    @property
    def live(self) -> bool:
        """Whether this import made a new version live (so the population must be re-screened)."""
        return self.created and self.status == ACCEPTED

    def as_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "rescreen"}
        rescreen = self.rescreen
        out["rescreen"] = rescreen.as_dict() if hasattr(rescreen, "as_dict") else rescreen
        return out


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


def _lock_source(session: Session, name: str) -> ListSource | None:
    # FOR UPDATE: two imports of one list queue here (PostgreSQL); SQLite's writers are already
    # serialised by BEGIN IMMEDIATE. The live version is read after the lock, so the diff is
    # always against the version this import replaces.
    return session.execute(select(ListSource).where(ListSource.name == name).with_for_update()).scalar_one_or_none()


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


def _fits(value: str | None, size: int) -> str | None:
    # A validator too long for its column is dropped, not cut: a cut ETag would never match, and
    # without one the next fetch simply downloads again.
    return value if value is not None and len(value) <= size else None


def _remember_download(ctx: Context, source: ListSource, url: str | None, etag: str | None, last_modified: str | None) -> None:
    if url is not None and len(url) <= URL_MAX:
        source.url = url
        # Validators belong to the URL they came from: a new URL starts without them.
        source.etag = _fits(etag, KEY)
        source.last_modified = _fits(last_modified, KEY)
        source.checked_at = ctx.clock.now()


def _upsert_source(ctx: Context, session: Session, source: ListSource | None, info: ListInfo, url: str | None, etag: str | None, last_modified: str | None) -> ListSource:
    if source is None:
        source = ListSource(name=info.name, format=info.format, title=(info.title or "")[:KEY])
        session.add(source)
    _remember_download(ctx, source, url, etag, last_modified)
    session.flush()
    return source


def _go_live(source: ListSource, version: ListVersion, info_title: str | None) -> None:
    """Move the live pointer (the list takes the version's format and, if it has one, title)."""
    source.current_version_id = version.id
    source.format = version.format
    if info_title:
        source.title = info_title[:KEY]


def _check_size(info: ListInfo, keyed: Mapping[str, Entity]) -> None:
    if len(info.name) > LIST_NAME_MAX:
        raise ListError(info.source, f"list name longer than {LIST_NAME_MAX} characters: {info.name[:80]!r}")
    for key, entity in keyed.items():
        # Checked before anything is written: the store's key and id columns hold KEY characters.
        if len(entity.id) > KEY:
            raise ListError(info.source, f"record id longer than {KEY} characters", record=entity.id[:80], field="id")
        if len(key) > KEY:
            raise ListError(info.source, f"reference longer than {KEY} characters", record=entity.id, field="reference")


@dataclass(slots=True)
class _Compared:
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


def _compare(session: Session, keyed: Mapping[str, Entity], live: ListVersion | None) -> _Compared:
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
    return _Compared(new, old, added, amended, removed, fields)


def _write_contents(session: Session, list_name: str, version: ListVersion, cmp: _Compared, has_records: bool, progress: Progress | None) -> None:
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


def _supersede_pending(ctx: Context, session: Session, list_name: str, actor: str, by_number: int) -> None:
    """A version going live replaces any version of the list still waiting for confirmation (its
    diff was against a version that is no longer live)."""
    session.execute(
        update(ListVersion)
        .where(ListVersion.list_name == list_name, ListVersion.status == PENDING)
        .values(status=REJECTED, decided_by=actor, decided_at=ctx.clock.now(), decision_reason=f"superseded by version {by_number}")
    )


def import_list(
    ctx: Context,
    spec: str,
    *,
    actor: str,
    name: str | None = None,
    source: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
    reason: str = "",
) -> ImportResult:
    """Import a list file ("PATH" or "FORMAT:PATH") as the list's new version, atomically.

    The version goes live unless the guard holds it (then `status` is "pending" and `held` says
    why); `force` (an admin's, with a `reason`) makes a held version live at once. `source` is
    where the file came from when it is not the path (a URL: then it is remembered on the list
    together with `etag` / `last_modified` for the next fetch). A file whose bytes equal the live
    version's creates no version; the attempt is audited as unchanged.
    Raises ListError (nothing written) when the file cannot be used as a whole.
    """
    if force and not reason.strip():
        raise ValueError("forcing a held import live needs a reason")
    report(progress, "reading", 0, 1)
    loaded = read_list(spec, name=name)
    report(progress, "reading", 1, 1)
    info = loaded.info
    list_name, origin = info.name, source or info.source
    keyed = stable_keys(loaded.entities)
    _check_size(info, keyed)
    url = source if source and "://" in source else None

    with ctx.transaction() as session:
        src = _lock_source(session, list_name)
        live = session.get(ListVersion, src.current_version_id) if src is not None and src.current_version_id is not None else None
        if src is not None and live is not None and live.sha256 == info.sha256:
            _remember_download(ctx, src, url, etag, last_modified)
            detail = {"unchanged": True, "version": live.number, "sha256": info.sha256, "source": origin}
            ctx.audit(session, actor=actor, action="list.import", target=f"list:{list_name}", detail=detail)
            return ImportResult(list_name, live.id, live.number, False, dict(live.counts), {c: {} for c in CHANGES}, live.previous_id, sha256=live.sha256, published=live.published, warnings=live.warnings)

        report(progress, "comparing", 0, len(keyed))
        cmp = _compare(session, keyed, live)
        report(progress, "comparing", len(keyed), len(keyed))
        held: list[Hold] = []
        if live is not None:
            facts = Facts(live.total, len(cmp.removed), live.published, info.published, live.format, info.format)
            held = holds(facts, max_removed_share())
        status = PENDING if held and not force else ACCEPTED

        src = _upsert_source(ctx, session, src, info, url, etag, last_modified)
        number = (session.execute(select(func.max(ListVersion.number)).where(ListVersion.list_name == list_name)).scalar() or 0) + 1
        changes = cmp.changes()
        now = ctx.clock.now()
        version = ListVersion(
            list_name=list_name, number=number, source=origin[:1000], format=info.format, fetched_at=now,
            published=info.published[:CODE] if info.published else None, sha256=info.sha256 or "", counts=dict(info.counts),
            total=len(keyed), warnings=info.warnings, imported_by=actor, previous_id=live.id if live is not None else None,
            changes=changes, status=status, held=[h.as_dict() for h in held],
            decided_by=actor if held and force else None, decided_at=now if held and force else None, decision_reason=reason.strip() if held and force else None,
        )
        session.add(version)
        session.flush()
        has_records = live is not None or session.execute(select(EntityRecord.id).where(EntityRecord.list_name == list_name).limit(1)).first() is not None
        _write_contents(session, list_name, version, cmp, has_records, progress)

        if status == ACCEPTED:
            _supersede_pending(ctx, session, list_name, actor, number)
            _go_live(src, version, info.title)
        report(progress, "committing", 0, 1)
        # Audited last: the audit head is locked from here to the commit, not for the whole import.
        detail = {
            "version": number, "version_id": version.id, "sha256": info.sha256, "source": origin, "published": info.published,
            "counts": dict(info.counts), "changes": changes, "status": status, "held": [h.as_dict() for h in held],
        }
        if held and force:
            detail.update(forced=True, reason=reason.strip())
        ctx.audit(session, actor=actor, action="list.import", target=f"list:{list_name}", detail=detail)
        session.flush()
        result = ImportResult(
            list_name, version.id, number, True, dict(info.counts), changes, version.previous_id, sha256=info.sha256, published=info.published,
            warnings=info.warnings, status=status, held=[h.as_dict() for h in held], forced=bool(held and force),
        )
    report(progress, "committing", 1, 1)
    if result.live:
        ctx.invalidate()  # the new version is live: the next screening uses it
    return result


def _pending_version(session: Session, name: str, number: int) -> tuple[ListSource, ListVersion]:
    src, version = version_row(session, name, number)
    if version.status != PENDING:
        raise VersionStateError(f"version {number} of list {name!r} is {version.status}, not pending")
    return src, version


def confirm_version(ctx: Context, name: str, number: int, *, actor: str, reason: str) -> ImportResult:
    """An admin's confirmation: the held version `number` goes live. Refused (VersionStateError)
    when the version is not pending or the live version is no longer the one it was compared with
    (its diff would be wrong: import the file again). NotFound for an unknown list or version."""
    text = (reason or "").strip()
    if not text:
        raise ValueError("confirming a held version needs a reason")
    with ctx.transaction() as session:
        src = _lock_source(session, name)
        if src is None:
            raise NotFound(f"no list {name!r} in the store")
        src, version = _pending_version(session, name, number)
        if version.previous_id != src.current_version_id:
            raise VersionStateError(f"version {number} of list {name!r} was compared with a version that is no longer live: import the file again")
        version.status, version.decided_by, version.decided_at, version.decision_reason = ACCEPTED, actor, ctx.clock.now(), text
        _supersede_pending(ctx, session, name, actor, number)
        _go_live(src, version, None)
        ctx.audit(session, actor=actor, action="list.confirm", target=f"list:{name}", detail={"version": number, "version_id": version.id, "held": list(version.held or []), "reason": text})
        result = ImportResult(
            name, version.id, number, True, dict(version.counts), dict(version.changes or {}), version.previous_id, sha256=version.sha256,
            published=version.published, warnings=version.warnings, status=ACCEPTED, held=list(version.held or []), forced=True,
        )
    ctx.invalidate()
    return result


def reject_version(ctx: Context, name: str, number: int, *, actor: str, reason: str) -> None:
    """An admin's refusal of a held version: it stays stored (with its diff) and never goes live."""
    text = (reason or "").strip()
    if not text:
        raise ValueError("rejecting a held version needs a reason")
    with ctx.transaction() as session:
        _, version = _pending_version(session, name, number)
        version.status, version.decided_by, version.decided_at, version.decision_reason = REJECTED, actor, ctx.clock.now(), text
        ctx.audit(session, actor=actor, action="list.reject", target=f"list:{name}", detail={"version": number, "version_id": version.id, "reason": text})
