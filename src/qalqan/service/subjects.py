"""The watched population: subjects upserted by the client's own id, screened on arrival
against every live list version; views (audited), updates, removal.

Bulk imports go in batches (bounded memory for millions of rows), each batch one transaction
with its audit entry, pipelined: one batch is screened by the workers while the one before it
is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from qalqan.monitoring.alerts import SUBJECT_REMOVED_REASON, AlertStatus, Trigger
from qalqan.monitoring.rescreen import RowError, SubjectRecord, prepare_subject
from qalqan.service.alerts import alert_summary, require_purpose
from qalqan.service.common import LOOKUP_CHUNK, PAGE_DEFAULT, Page, chunks, iso, page_bounds
from qalqan.service.context import Context
from qalqan.service.hits import PendingHit, apply_hits, close_alerts
from qalqan.service.live import Listed
from qalqan.service.screening import Screening, Task
from qalqan.sources.queries import QueryRow, read_records
from qalqan.store.tables import Alert, Subject

#: Subject records per batch (one transaction each): large enough that per-transaction costs
#: (the audit entry, the lookups) vanish, small enough that a batch's rows stay a few MB.
SUBJECT_BATCH = 5_000
#: Errors kept in a SubjectImport (the rest are counted): a broken file of a million rows must
#: not become a million-line response.
MAX_ERRORS = 1_000
#: Warnings kept in a SubjectImport (values left out of subjects that were stored), likewise.
MAX_WARNINGS = 1_000


class SubjectError(ValueError):
    """A subject record that cannot be stored: names the row (or id) and the field."""

    def __init__(self, message: str, field: str | None = None, row: int | None = None):
        super().__init__(message)
        self.field = field
        self.row = row


class SubjectNotFound(LookupError):
    pass


@dataclass(slots=True)
class SubjectImport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {row, field, message}
    error_count: int = 0
    #: Values left out of subjects that were stored and screened without them (an impossible
    #: date, an unknown country, ...): {row, id, field, value, message}.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0
    alerts_new: int = 0
    alerts_updated: int = 0
    suppressed: int = 0
    rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)



@dataclass(slots=True)
class _Existing:
    id: int
    hash: str
    data: dict[str, Any]
    removed: bool


def _existing(session: Session, external_ids: Sequence[str]) -> dict[str, _Existing]:
    found: dict[str, _Existing] = {}
    for chunk in chunks(list(external_ids), LOOKUP_CHUNK):
        rows = session.execute(select(Subject.id, Subject.external_id, Subject.hash, Subject.data, Subject.removed_at).where(Subject.external_id.in_(chunk)))
        for sid, ext, h, data, removed in rows:
            found[ext] = _Existing(int(sid), h, dict(data or {}), removed is not None)
    return found


@dataclass(slots=True)
class _Batch:
    """A batch of subjects classified against the store, its screening under way."""

    rows: int
    first_row: int
    versions: dict[str, int]
    listed: dict[str, Listed]
    fresh: list[SubjectRecord]
    changed: list[tuple[SubjectRecord, _Existing]]
    pending: Any  # .get() -> list[Result]
    ids: set[str]
    last_row: int = 0  # input records read when the batch was cut (errors included)


def _start(ctx: Context, batch: Sequence[SubjectRecord], screening: Screening, result: SubjectImport, first_row: int) -> _Batch | None:
    """Classify a batch (new / changed / unchanged) and start screening the new and changed."""
    if not batch:
        return None
    versions = ctx.live_versions()
    listed = ctx.live.listed(versions)
    with ctx.db.session() as s:
        existing = _existing(s, [r.external_id for r in batch])
    fresh: list[SubjectRecord] = []
    changed: list[tuple[SubjectRecord, _Existing]] = []
    for rec in batch:
        old = existing.get(rec.external_id)
        if old is None:
            fresh.append(rec)
        elif old.removed or old.hash != rec.hash:
            changed.append((rec, old))
        else:
            result.unchanged += 1
    todo = fresh + [rec for rec, _ in changed]
    tasks: list[Task] = [(i, rec.query, True) for i, rec in enumerate(todo)]
    return _Batch(len(batch), first_row, versions, listed, fresh, changed, screening.submit(tasks), {r.external_id for r in batch})


def _finish(ctx: Context, started: _Batch, *, actor: str, purpose: str, result: SubjectImport) -> None:
    """Store a started batch (one transaction with its audit entry) and its alerts."""
    versions, listed, fresh, changed, first_row = started.versions, started.listed, started.fresh, started.changed, started.first_row
    todo = fresh + [rec for rec, _ in changed]
    results = started.pending.get()
    tokens = {key: tok or "" for key, tok, _ in results}
    hits = {key: h for key, _, h in results if h}
    screened = dict(versions)
    now = ctx.clock.now()
    with ctx.transaction() as s:
        if fresh:
            s.execute(
                insert(Subject),
                [
                    {
                        "external_id": r.external_id, "schema": r.schema, "caption": r.caption, "data": r.data, "hash": r.hash,
                        "tokens": tokens[i], "created_at": now, "updated_at": now, "created_by": actor, "removed_at": None,
                        "screened_version": screened,
                    }
                    for i, r in enumerate(fresh)
                ],
            )
        if changed:
            s.execute(
                update(Subject),
                [
                    {
                        "id": old.id, "schema": r.schema, "caption": r.caption, "data": r.data, "hash": r.hash,
                        "tokens": tokens[len(fresh) + j], "updated_at": now, "removed_at": None, "screened_version": screened,
                    }
                    for j, (r, old) in enumerate(changed)
                ],
            )
        pending: list[PendingHit] = []
        if hits:
            need = [todo[i].external_id for i in hits if i < len(fresh)]
            ids = {e: x.id for e, x in _existing(s, need).items()} if need else {}
            for i, subject_hits in hits.items():
                rec = todo[i]
                if i < len(fresh):
                    sid, old_data, trigger = ids[rec.external_id], None, Trigger.NEW_SUBJECT
                else:
                    old = changed[i - len(fresh)][1]
                    sid, old_data, trigger = old.id, old.data, Trigger.SUBJECT_CHANGED
                for hit in subject_hits:
                    where = listed.get(hit.entity_id)
                    if where is not None:
                        pending.append(PendingHit(sid, rec.hash, old_data, rec.data, where, hit.entity_id, hit, trigger))
        counts = apply_hits(s, pending, now)
        ctx.audit(
            s,
            actor=actor,
            action="subjects.import",
            target="subjects",
            purpose=purpose,
            detail={
                "rows": [first_row, started.last_row or first_row + started.rows - 1], "added": len(fresh), "updated": len(changed),
                "screened": len(todo), "alerts_new": counts.new, "versions": screened,
            },
        )
    result.added += len(fresh)
    result.updated += len(changed)
    result.alerts_new += counts.new
    result.alerts_updated += counts.updated
    result.suppressed += counts.suppressed


def add_subjects(
    ctx: Context,
    records: Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]] | QueryRow],
    *,
    actor: str,
    purpose: str = "",
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> SubjectImport:
    """Upsert subjects (screening-input records with the client's `id`) by their id, in batches;
    new and changed subjects are screened on arrival against every live list version.

    `records` are dicts, or (row, dict) / QueryRow items as `sources.queries.read_records`
    yields them. Bad records are reported in `errors` ({row, field, message}) and skipped; the
    rest are stored; values left out of a stored subject (it is screened without them) are
    reported in `warnings`. `progress(n)` is called with the number of records handled so far.
    """
    started = time.perf_counter()
    result = SubjectImport()
    batch: list[SubjectRecord] = []
    batch_ids: set[str] = set()
    first_row = 1
    screening = Screening(ctx.screener, ctx.threshold, workers)

    def error(err: RowError) -> None:
        result.error_count += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(err.as_dict())

    def warn(row: int, rec: SubjectRecord) -> None:
        result.warning_count += len(rec.warnings)
        for w in rec.warnings[: max(0, MAX_WARNINGS - len(result.warnings))]:
            result.warnings.append({"row": row, "id": rec.external_id, **w.as_dict()})

    in_flight: _Batch | None = None
    stored = 0

    def finish() -> None:
        nonlocal in_flight, stored
        if in_flight is not None:
            _finish(ctx, in_flight, actor=actor, purpose=purpose, result=result)
            stored = in_flight.last_row
            in_flight = None
            if progress is not None:
                progress(stored)

    def flush() -> None:
        # Pipelined: this batch is screened by the workers while the one before it is stored.
        # A batch sharing an id with the one in flight waits for it (it must see it stored).
        nonlocal batch, batch_ids, first_row, in_flight
        if in_flight is not None and in_flight.ids & batch_ids:
            finish()
        started = _start(ctx, batch, screening, result, first_row)
        if started is not None:
            started.last_row = result.rows
        finish()
        in_flight = started
        first_row = result.rows + 1
        batch, batch_ids = [], set()

    with screening:
        for n, item in enumerate(records, 1):
            if isinstance(item, QueryRow):
                result.rows += 1
                error(RowError(item.row, item.field, item.error or "unreadable record"))
                continue
            row, values = item if isinstance(item, tuple) else (n, item)
            prepared = prepare_subject(values, row)
            if isinstance(prepared, RowError):
                result.rows += 1
                error(prepared)
                continue
            if prepared.warnings:
                warn(row, prepared)
            if prepared.external_id in batch_ids:  # the same id twice: the later row wins, in order
                flush()
            batch.append(prepared)
            batch_ids.add(prepared.external_id)
            result.rows += 1
            if len(batch) >= SUBJECT_BATCH:
                flush()
        flush()
        finish()
        if progress is not None and stored < result.rows:
            progress(result.rows)  # trailing rows that were all errors
    result.seconds = time.perf_counter() - started
    return result


def import_subjects_file(
    ctx: Context,
    path: str | Path,
    *,
    actor: str,
    purpose: str = "",
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> SubjectImport:
    """Bulk import of a CSV or JSON-lines file in the screening-input schema; `id` (the client's
    system id) is required on every row. Raises ListError for an unusable file (bad header)."""
    return add_subjects(ctx, read_records(path), actor=actor, purpose=purpose, progress=progress, workers=workers)


def _subject_dict(row: Subject) -> dict[str, Any]:
    return {
        "id": row.external_id,
        "schema": row.schema,
        "caption": row.caption,
        "data": dict(row.data or {}),
        "hash": row.hash,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "created_by": row.created_by,
        "removed_at": iso(row.removed_at),
        "screened_version": dict(row.screened_version or {}),
    }


def get_subject(ctx: Context, external_id: str, *, actor: str, purpose: str) -> dict[str, Any] | None:
    """A subject with its alerts (latest first); the view is audited ("subject.view") with its
    stated purpose (PurposeRequired without one)."""
    purpose = require_purpose(purpose)
    with ctx.transaction() as s:
        row = s.execute(select(Subject).where(Subject.external_id == external_id)).scalar_one_or_none()
        if row is None:
            return None
        out = _subject_dict(row)
        alerts = s.execute(select(Alert).where(Alert.subject_id == row.id).order_by(Alert.id.desc())).scalars().all()
        out["alerts"] = [alert_summary(a, row.external_id) for a in alerts]
        ctx.audit(s, actor=actor, action="subject.view", target=f"subject:{external_id}", purpose=purpose)
    return out


def update_subject(ctx: Context, external_id: str, record: Mapping[str, Any], *, actor: str, purpose: str = "") -> dict[str, Any]:
    """Replace a subject's data (re-screened if it changed). SubjectNotFound when there is no
    such (active) subject; SubjectError naming the field for a bad value."""
    with ctx.db.session() as s:
        row = s.execute(select(Subject.removed_at).where(Subject.external_id == external_id)).first()
    if row is None or row[0] is not None:
        raise SubjectNotFound(f"no subject with id {external_id!r}")
    if "id" in record and str(record["id"]).strip() != external_id:
        raise SubjectError(f"subject {external_id}: the record's id {record['id']!r} differs from the subject's", "id")
    prepared = prepare_subject({**record, "id": external_id}, 1)
    if isinstance(prepared, RowError):
        raise SubjectError(f"subject {external_id}: field {prepared.field}: {prepared.message}", prepared.field)
    result = SubjectImport()
    with Screening(ctx.screener, ctx.threshold, 1) as screening:
        started = _start(ctx, [prepared], screening, result, 1)
        if started is not None:
            started.last_row = 1
            _finish(ctx, started, actor=actor, purpose=purpose, result=result)
    with ctx.db.session() as s:
        current = s.execute(select(Subject).where(Subject.external_id == external_id)).scalar_one()
        out = _subject_dict(current)
    out["result"] = {
        "updated": result.updated, "alerts_new": result.alerts_new, "alerts_updated": result.alerts_updated, "suppressed": result.suppressed,
        "warnings": [{"row": 1, "id": external_id, **w.as_dict()} for w in prepared.warnings],
    }
    return out


def remove_subject(ctx: Context, external_id: str, *, actor: str, reason: str) -> bool:
    """Remove a subject from the watched population: its data is erased (the row stays, for its
    alerts and the audit log) and its open alerts are closed. False if there was none."""
    text = (reason or "").strip()
    if not text:
        raise SubjectError("removing a subject needs a reason", "reason")
    now = ctx.clock.now()
    with ctx.transaction() as s:
        row = s.execute(select(Subject).where(Subject.external_id == external_id, Subject.removed_at.is_(None)).with_for_update()).scalar_one_or_none()
        if row is None:
            return False
        closed = close_alerts(s, Alert.subject_id == row.id, AlertStatus.CLOSED, f"{SUBJECT_REMOVED_REASON}: {text}", actor, now)
        row.removed_at, row.updated_at = now, now
        row.data, row.caption, row.tokens, row.hash = {}, "", "", ""
        ctx.audit(s, actor=actor, action="subject.remove", target=f"subject:{external_id}", detail={"reason": text, "alerts_closed": len(closed)}, decisions=closed)
    return True


def list_subjects(ctx: Context, *, offset: int = 0, limit: int = PAGE_DEFAULT, include_removed: bool = False, search: str | None = None,
                  with_data: bool = False) -> Page:
    """The watched population in the order added. `search`: only subjects whose external id or
    caption contains it: as written, or without regard to case (for every script on PostgreSQL,
    for ASCII letters on SQLite); LIKE's wildcards in it are taken literally."""
    offset, limit = page_bounds(offset, limit)
    cond: list[Any] = [] if include_removed else [Subject.removed_at.is_(None)]
    needle = (search or "").strip()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        exact, folded = f"%{escaped}%", f"%{escaped.lower()}%"
        # As written, or lower-cased on both sides (SQLite's lower() folds ASCII letters only;
        # PostgreSQL's folds every script).
        cond.append(or_(*(c for col in (Subject.external_id, Subject.caption) for c in (col.like(exact, escape="\\"), func.lower(col).like(folded, escape="\\")))))
    with ctx.db.session() as s:
        total = s.execute(select(func.count()).select_from(Subject).where(*cond)).scalar_one()
        rows = s.execute(select(Subject).where(*cond).order_by(Subject.id).offset(offset).limit(limit)).scalars().all()
        items = [{k: v for k, v in _subject_dict(r).items() if with_data or k != "data"} for r in rows]
    return Page(items, int(total), offset, limit)


