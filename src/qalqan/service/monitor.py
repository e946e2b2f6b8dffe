"""The watched population, the delta re-screen and the alerts: the monitoring use cases.

- Subjects are upserted by the client's own id; new and changed ones are screened on arrival
  against every live list version. Bulk imports go in batches (bounded memory for millions of
  rows), each batch one transaction with its audit entry.
- `on_new_version` screens the population against only what a version added or amended, with
  an exact prefilter on stored tokens (`monitoring.rescreen`), and closes the alerts on what it
  removed ("delisted on <date>"). An amendment touching no field the matching reads (notes,
  record ids) is re-checked against the subjects already alerted on that entity only.
- Screening of many subjects runs in forked worker processes (as `qalqan.batch` does); in the
  re-screen each worker reads its subjects from the store itself.

Known limits: the delta re-screen does not follow rarity drift (a new version changes token
frequencies, so a pair on an *unchanged* entity may score a hair differently in a full re-screen);
`screened_version` is set when a subject is screened on arrival, not by every re-screen (writing
a million rows per version would cost more than the re-screen).
- Alerts follow the lifecycle in `monitoring.alerts`; every decision is a Decision row plus an
  audit entry in the same transaction.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.util
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import ColumnElement, create_engine, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from qalqan.matching.compiled import compile_query
from qalqan.matching.screener import Screener
from qalqan.model import Query
from qalqan.model.codec import content_hash
from qalqan.monitoring.alerts import (
    ACTIVE,
    DELISTED_REASON,
    SUBJECT_REMOVED_REASON,
    SYSTEM_CLOSE,
    AlertStatus,
    DecisionError,
    Rehit,
    Trigger,
    entity_changes,
    explanation_changes,
    on_rehit,
    subject_changes,
    transition,
)
from qalqan.monitoring.rescreen import (
    Hit,
    Prefilter,
    RowError,
    SubjectRecord,
    changes_matching,
    delta_screener,
    prepare_subject,
    query_of,
    screen,
    subject_tokens,
)
from qalqan.sources.queries import QueryRow, read_records
from qalqan.store.tables import (
    Alert,
    Decision,
    EntityRecord,
    ListVersion,
    Subject,
    VersionEntity,
)

if TYPE_CHECKING:
    from qalqan.service.core import Qalqan

__all__ = [
    "AlertNotFound",
    "DecisionError",
    "Page",
    "RescreenSummary",
    "SubjectError",
    "SubjectImport",
    "SubjectNotFound",
    "add_subjects",
    "decide",
    "get_alert",
    "get_subject",
    "import_subjects_file",
    "list_alerts",
    "list_subjects",
    "on_new_version",
    "remove_subject",
    "update_subject",
]

#: Subject records per batch (one transaction each): large enough that per-transaction costs
#: (the audit entry, the lookups) vanish, small enough that a batch's rows stay a few MB.
SUBJECT_BATCH = 5_000
#: (id, tokens) rows read per query by the re-screen's prefilter pass.
PREFILTER_BATCH = 50_000
#: Ids per IN (...) lookup: well under SQLite's bound on query parameters.
LOOKUP_CHUNK = 1_000
#: At most this many alerts per subject per screen: a person matching more listed parties than
#: this is a name problem for an analyst, not ten more alerts.
ALERT_LIMIT = 10
#: Subjects per task sent to a worker process.
WORK_CHUNK = 500
#: Screen in worker processes only from this many subjects at once: forking costs ~50 ms and a
#: few MB, which pays off only on thousands of subjects (~1 ms each).
PARALLEL_FROM = 4_000
#: Errors kept in a SubjectImport (the rest are counted): a broken file of a million rows must
#: not become a million-line response.
MAX_ERRORS = 1_000
#: Page sizes: default and the most a caller may ask for.
PAGE_DEFAULT = 50
PAGE_MAX = 1_000

T = TypeVar("T")


class SubjectError(ValueError):
    """A subject record that cannot be stored: names the row (or id) and the field."""

    def __init__(self, message: str, field: str | None = None, row: int | None = None):
        super().__init__(message)
        self.field = field
        self.row = row


class SubjectNotFound(LookupError):
    pass


class AlertNotFound(LookupError):
    pass


@dataclass(slots=True)
class SubjectImport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {row, field, message}
    error_count: int = 0
    alerts_new: int = 0
    alerts_updated: int = 0
    suppressed: int = 0
    rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class RescreenSummary:
    version_id: int
    list_name: str = ""
    added: int = 0  # entities the version added
    amended: int = 0
    removed: int = 0
    amended_cosmetic: int = 0  # ... of which no field the matching reads changed
    subjects: int = 0  # active subjects considered by the prefilter
    candidates: int = 0  # ... that passed it
    screened: int = 0  # ... screened against the added and matching-amended entities
    rechecked: int = 0  # subjects with an alert on a cosmetically amended entity, screened again
    alerts_new: int = 0
    alerts_updated: int = 0
    suppressed: int = 0  # hits on dismissed pairs where neither side changed
    kept_confirmed: int = 0  # hits on confirmed pairs (the decision stands)
    closed_delisted: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "offset": self.offset, "limit": self.limit}


# -- helpers ------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # SQLite hands back naive datetimes; they were written as UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _page_bounds(offset: int, limit: int) -> tuple[int, int]:
    return max(0, int(offset)), max(1, min(PAGE_MAX, int(limit)))


# -- screening, in-process or over forked workers -----------------------------------------------


def auto_workers(workers: int | None) -> int:
    """Worker processes to screen with: `workers` if given; else every CPU in a single-threaded
    process (the command line, a batch job) and none (in-process) in a multi-threaded one (the
    web server), where a forked child could inherit a lock another thread held at the fork."""
    if workers is not None:
        return max(1, workers)
    return (os.cpu_count() or 1) if threading.active_count() == 1 else 1


# Set in the parent just before forking; the workers read it (copy-on-write), as in qalqan.batch.
_WORKER: tuple[Screener, int, float] | None = None

#: One screening task: (caller's key, query, whether to compute the subject's prefilter tokens).
Task = tuple[int, Query, bool]
Result = tuple[int, str | None, list[Hit]]


def _run(screener: Screener, limit: int, threshold: float, tasks: Sequence[Task]) -> list[Result]:
    out: list[Result] = []
    for key, query, want_tokens in tasks:
        tokens = subject_tokens(compile_query(query)) if want_tokens else None
        out.append((key, tokens, screen(screener, query, limit, threshold)))
    return out


def _work(tasks: Sequence[Task]) -> list[Result]:
    assert _WORKER is not None, "worker started without a screener"
    return _run(*_WORKER, tasks)


@dataclass(slots=True)
class _Done:
    results: list[Result]

    def get(self) -> list[Result]:
        return self.results


@dataclass(slots=True)
class _Flatten:
    parts: Any  # multiprocessing AsyncResult of list[list[Result]]

    def get(self) -> list[Result]:
        return [r for part in self.parts.get() for r in part]


class _Screening:
    """Screens tasks against one screener; forks `workers` processes (once, lazily) when a call
    brings at least PARALLEL_FROM tasks and fork is available."""

    def __init__(self, screener: Screener, threshold: float, workers: int | None):
        self.screener = screener
        self.threshold = threshold
        self.workers = auto_workers(workers)
        self._pool: Any = None

    def submit(self, tasks: Sequence[Task]) -> Any:
        """Start screening `tasks`; `.get()` on the answer waits for the results. With worker
        processes the caller can store the previous batch meanwhile."""
        if self._parallel(tasks):
            parts = self._pool.map_async(_work, list(_chunks(tasks, WORK_CHUNK)))
            return _Flatten(parts)
        return _Done(_run(self.screener, ALERT_LIMIT, self.threshold, tasks) if tasks else [])

    def _parallel(self, tasks: Sequence[Task]) -> bool:
        global _WORKER
        if len(tasks) >= PARALLEL_FROM and self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            if self._pool is None:
                _WORKER = (self.screener, ALERT_LIMIT, self.threshold)
                gc.freeze()  # see _screen_candidates
                try:
                    self._pool = multiprocessing.get_context("fork").Pool(self.workers)
                finally:
                    gc.unfreeze()
                    _WORKER = None
            return True
        return False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self._pool is not None:
            self._pool.terminate()
        self.close()


# -- re-screening stored subjects, in-process or over forked workers that read the store ---------

#: Candidate subjects per task of the re-screen: each task reads its subjects' data itself.
RESCREEN_CHUNK = 1_000
# Set in the parent just before forking: (delta screener, database URL, threshold).
_RESCREEN: tuple[Screener, str, float] | None = None
_CHILD_SESSIONS: Callable[[], Session] | None = None

Stored = tuple[int, str, list[Hit]]  # (subject id, subject hash, hits)


def _screen_stored(sessions: Callable[[], Session], screener: Screener, threshold: float, ids: Sequence[int]) -> list[Stored]:
    with sessions() as s:
        rows = s.execute(select(Subject.id, Subject.external_id, Subject.data, Subject.hash).where(Subject.id.in_(ids), Subject.removed_at.is_(None))).all()
    out: list[Stored] = []
    for sid, ext, data, digest in rows:
        hits = screen(screener, query_of(ext, data), ALERT_LIMIT, threshold)
        if hits:
            out.append((int(sid), digest, hits))
    return out


def _rescreen_task(ids: Sequence[int]) -> list[Stored]:
    global _CHILD_SESSIONS
    assert _RESCREEN is not None, "worker started without a screener"
    screener, url, threshold = _RESCREEN
    if _CHILD_SESSIONS is None:
        # The worker's own engine (the parent's connections may not cross a fork), for reads
        # only: a plain engine, because the store's SQLite engine begins every transaction
        # IMMEDIATE (taking the write lock), which would make the workers' reads take turns.
        engine = create_engine(url)
        multiprocessing.util.Finalize(None, engine.dispose, exitpriority=10)
        _CHILD_SESSIONS = sessionmaker(engine)
    return _screen_stored(_CHILD_SESSIONS, screener, threshold, ids)


def _screen_candidates(q: Qalqan, screener: Screener, ids: Sequence[int], workers: int | None) -> Iterator[Stored]:
    """Screen stored subjects by id: the workers read the data themselves (loading and parsing a
    subject costs a tenth of screening it, so the parent must not do it for them)."""
    global _RESCREEN
    workers = auto_workers(workers)
    chunks = list(_chunks(list(ids), RESCREEN_CHUNK))
    shared_store = ":memory:" not in q.db.url and q.db.url not in ("sqlite://", "sqlite:///")
    if len(ids) >= PARALLEL_FROM and workers > 1 and shared_store and "fork" in multiprocessing.get_all_start_methods():
        _RESCREEN = (screener, q.db.url, q.threshold)
        # Objects inherited from the parent are left out of the workers' garbage collection:
        # scanning them (millions, with the full screener) would copy the parent's heap page by
        # page and stall the workers.
        gc.freeze()
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for part in pool.imap_unordered(_rescreen_task, chunks):
                    yield from part
                pool.close()
                pool.join()
        finally:
            gc.unfreeze()
            _RESCREEN = None
        return
    for chunk in chunks:
        yield from _screen_stored(q.db.session, screener, q.threshold, chunk)


# -- the live entities: id -> (list, key, record) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Listed:
    list_name: str
    key: str
    record_id: int
    version_id: int
    caption: str


_LIVE_CACHE: weakref.WeakKeyDictionary[Qalqan, tuple[dict[str, int], dict[str, _Listed]]] = weakref.WeakKeyDictionary()


def _live_records(q: Qalqan, versions: Mapping[str, int]) -> dict[str, _Listed]:
    """Entity id -> its identity and stored content in the live versions (cached per set of
    live versions: it changes only with a list import)."""
    cached = _LIVE_CACHE.get(q)
    if cached is not None and cached[0] == dict(versions):
        return cached[1]
    out: dict[str, _Listed] = {}
    with q.db.session() as s:
        for list_name, vid in versions.items():
            rows = s.execute(
                select(EntityRecord.entity_id, EntityRecord.key, EntityRecord.id, EntityRecord.caption)
                .join(VersionEntity, VersionEntity.record_id == EntityRecord.id)
                .where(VersionEntity.version_id == vid)
            )
            for eid, key, rid, caption in rows:
                out[eid] = _Listed(list_name, key, int(rid), int(vid), caption)
    _LIVE_CACHE[q] = (dict(versions), out)
    return out


# -- alerts from hits ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    """One hit to turn into (or onto) an alert."""

    subject_id: int
    subject_hash: str
    old_subject: dict[str, Any] | None  # the subject's data before this update, when known
    new_subject: dict[str, Any] | None  # ... and after it
    listed: _Listed
    entity_id: str
    hit: Hit
    trigger: Trigger


@dataclass(slots=True)
class _Counts:
    new: int = 0
    updated: int = 0
    suppressed: int = 0
    kept: int = 0


def _latest_alerts(session: Session, subject_ids: Iterable[int]) -> dict[tuple[int, str, str], Alert]:
    latest: dict[tuple[int, str, str], Alert] = {}
    for chunk in _chunks(sorted(set(subject_ids)), LOOKUP_CHUNK):
        for alert in session.execute(select(Alert).where(Alert.subject_id.in_(chunk))).scalars():
            pair = (alert.subject_id, alert.list_name, alert.entity_key)
            if pair not in latest or latest[pair].generation < alert.generation:
                latest[pair] = alert
    return latest


def _apply_hits(session: Session, pending: Sequence[_Pending], now: datetime) -> _Counts:
    """Raise, refresh or suppress alerts for `pending` hits (see `monitoring.alerts.on_rehit`)."""
    counts = _Counts()
    if not pending:
        return counts
    latest = _latest_alerts(session, (p.subject_id for p in pending))
    records: dict[int, dict[str, Any]] = {}

    def record_data(record_id: int) -> dict[str, Any] | None:
        if record_id not in records:
            row = session.get(EntityRecord, record_id)
            records[record_id] = row.data if row is not None else {}
        return records[record_id]

    for p in pending:
        pair = (p.subject_id, p.listed.list_name, p.listed.key)
        alert = latest.get(pair)
        entity_diff: list[dict[str, Any]] = []
        subject_changed = False
        if alert is not None and alert.status not in ACTIVE:
            subject_changed = alert.subject_hash != p.subject_hash
            if alert.record_id != p.listed.record_id:
                entity_diff = entity_changes(record_data(alert.record_id), record_data(p.listed.record_id) or {})
        rule = on_rehit(alert.status if alert else None, subject_changed, bool(entity_diff))
        if rule is Rehit.UPDATE:
            assert alert is not None
            alert.score, alert.explanation = p.hit.score, p.hit.explanation
            alert.version_id, alert.record_id, alert.subject_hash = p.listed.version_id, p.listed.record_id, p.subject_hash
            alert.entity_id, alert.entity_caption, alert.updated_at = p.entity_id, p.listed.caption, now
            counts.updated += 1
            continue
        if rule is Rehit.KEEP:
            counts.kept += 1
            continue
        if rule is Rehit.SUPPRESS:
            counts.suppressed += 1
            continue
        trigger, changes = p.trigger, []
        if rule is Rehit.RERAISE:
            assert alert is not None
            trigger, changes = Trigger.DATA_CHANGED, list(entity_diff)
            if subject_changed:
                cited = []
                if p.old_subject is not None and p.new_subject is not None and content_hash(p.old_subject) == alert.subject_hash:
                    cited = subject_changes(p.old_subject, p.new_subject)
                if not cited:
                    cited = explanation_changes(alert.explanation, p.hit.explanation)
                changes += cited or [{"side": "subject", "field": "data", "old": alert.subject_hash, "new": p.subject_hash}]
        elif rule is Rehit.RELISTED:
            trigger, changes = Trigger.RELISTED, list(entity_diff)
        new = Alert(
            subject_id=p.subject_id,
            list_name=p.listed.list_name,
            entity_key=p.listed.key,
            generation=(alert.generation + 1) if alert is not None else 1,
            entity_id=p.entity_id,
            entity_caption=p.listed.caption,
            record_id=p.listed.record_id,
            version_id=p.listed.version_id,
            subject_hash=p.subject_hash,
            score=p.hit.score,
            explanation=p.hit.explanation,
            status=AlertStatus.OPEN.value,
            trigger=trigger.value,
            changes=changes,
            assignee=None,
            created_at=now,
            updated_at=now,
        )
        session.add(new)
        latest[pair] = new
        counts.new += 1
    session.flush()
    return counts


def _close_alerts(session: Session, where: ColumnElement[bool], to_status: AlertStatus, reason: str, actor: str, now: datetime) -> int:
    """Close every active alert matching `where`: a Decision row each, by `actor`."""
    alerts = session.execute(select(Alert).where(where, Alert.status.in_([s.value for s in ACTIVE])).order_by(Alert.id)).scalars().all()
    for alert in alerts:
        session.add(Decision(alert_id=alert.id, actor=actor, action=SYSTEM_CLOSE, from_status=alert.status, to_status=to_status.value, reason=reason, at=now))
        alert.status, alert.updated_at = to_status.value, now
    session.flush()
    return len(alerts)


# -- subjects -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Existing:
    id: int
    hash: str
    data: dict[str, Any]
    removed: bool


def _existing(session: Session, external_ids: Sequence[str]) -> dict[str, _Existing]:
    found: dict[str, _Existing] = {}
    for chunk in _chunks(list(external_ids), LOOKUP_CHUNK):
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
    listed: dict[str, _Listed]
    fresh: list[SubjectRecord]
    changed: list[tuple[SubjectRecord, _Existing]]
    pending: Any  # .get() -> list[Result]
    ids: set[str]
    last_row: int = 0  # input records read when the batch was cut (errors included)


def _start(q: Qalqan, batch: Sequence[SubjectRecord], screening: _Screening, result: SubjectImport, first_row: int) -> _Batch | None:
    """Classify a batch (new / changed / unchanged) and start screening the new and changed."""
    if not batch:
        return None
    versions = q.live_versions()
    listed = _live_records(q, versions)
    with q.db.session() as s:
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


def _finish(q: Qalqan, started: _Batch, *, actor: str, purpose: str, result: SubjectImport) -> None:
    """Store a started batch (one transaction with its audit entry) and its alerts."""
    versions, listed, fresh, changed, first_row = started.versions, started.listed, started.fresh, started.changed, started.first_row
    todo = fresh + [rec for rec, _ in changed]
    results = started.pending.get()
    tokens = {key: tok or "" for key, tok, _ in results}
    hits = {key: h for key, _, h in results if h}
    screened = dict(versions)
    now = _now()
    with q.transaction() as s:
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
        pending: list[_Pending] = []
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
                        pending.append(_Pending(sid, rec.hash, old_data, rec.data, where, hit.entity_id, hit, trigger))
        counts = _apply_hits(s, pending, now)
        q.audit(
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
    q: Qalqan,
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
    rest are stored. `progress(n)` is called with the number of records handled so far.
    """
    started = time.perf_counter()
    result = SubjectImport()
    batch: list[SubjectRecord] = []
    batch_ids: set[str] = set()
    first_row = 1
    screening = _Screening(q.screener, q.threshold, workers)

    def error(err: RowError) -> None:
        result.error_count += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(err.as_dict())

    in_flight: _Batch | None = None
    stored = 0

    def finish() -> None:
        nonlocal in_flight, stored
        if in_flight is not None:
            _finish(q, in_flight, actor=actor, purpose=purpose, result=result)
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
        started = _start(q, batch, screening, result, first_row)
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
    q: Qalqan,
    path: str | Path,
    *,
    actor: str,
    purpose: str = "",
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> SubjectImport:
    """Bulk import of a CSV or JSON-lines file in the screening-input schema; `id` (the client's
    system id) is required on every row. Raises ListError for an unusable file (bad header)."""
    return add_subjects(q, read_records(path), actor=actor, purpose=purpose, progress=progress, workers=workers)


def _subject_dict(row: Subject) -> dict[str, Any]:
    return {
        "id": row.external_id,
        "schema": row.schema,
        "caption": row.caption,
        "data": dict(row.data or {}),
        "hash": row.hash,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "created_by": row.created_by,
        "removed_at": _iso(row.removed_at),
        "screened_version": dict(row.screened_version or {}),
    }


def get_subject(q: Qalqan, external_id: str, *, actor: str, purpose: str = "") -> dict[str, Any] | None:
    """A subject with its alerts (latest first); the view is audited ("subject.view")."""
    with q.transaction() as s:
        row = s.execute(select(Subject).where(Subject.external_id == external_id)).scalar_one_or_none()
        if row is None:
            return None
        out = _subject_dict(row)
        alerts = s.execute(select(Alert).where(Alert.subject_id == row.id).order_by(Alert.id.desc())).scalars().all()
        out["alerts"] = [_alert_summary(a, row.external_id) for a in alerts]
        q.audit(s, actor=actor, action="subject.view", target=f"subject:{external_id}", purpose=purpose)
    return out


def update_subject(q: Qalqan, external_id: str, record: Mapping[str, Any], *, actor: str, purpose: str = "") -> dict[str, Any]:
    """Replace a subject's data (re-screened if it changed). SubjectNotFound when there is no
    such (active) subject; SubjectError naming the field for a bad value."""
    with q.db.session() as s:
        row = s.execute(select(Subject.removed_at).where(Subject.external_id == external_id)).first()
    if row is None or row[0] is not None:
        raise SubjectNotFound(f"no subject with id {external_id!r}")
    if "id" in record and str(record["id"]).strip() != external_id:
        raise SubjectError(f"subject {external_id}: the record's id {record['id']!r} differs from the subject's", "id")
    prepared = prepare_subject({**record, "id": external_id}, 1)
    if isinstance(prepared, RowError):
        raise SubjectError(f"subject {external_id}: field {prepared.field}: {prepared.message}", prepared.field)
    result = SubjectImport()
    with _Screening(q.screener, q.threshold, 1) as screening:
        started = _start(q, [prepared], screening, result, 1)
        if started is not None:
            started.last_row = 1
            _finish(q, started, actor=actor, purpose=purpose, result=result)
    with q.db.session() as s:
        current = s.execute(select(Subject).where(Subject.external_id == external_id)).scalar_one()
        out = _subject_dict(current)
    out["result"] = {"updated": result.updated, "alerts_new": result.alerts_new, "alerts_updated": result.alerts_updated, "suppressed": result.suppressed}
    return out


def remove_subject(q: Qalqan, external_id: str, *, actor: str, reason: str) -> bool:
    """Remove a subject from the watched population: its data is erased (the row stays, for its
    alerts and the audit log) and its open alerts are closed. False if there was none."""
    text = (reason or "").strip()
    if not text:
        raise SubjectError("removing a subject needs a reason", "reason")
    now = _now()
    with q.transaction() as s:
        row = s.execute(select(Subject).where(Subject.external_id == external_id, Subject.removed_at.is_(None)).with_for_update()).scalar_one_or_none()
        if row is None:
            return False
        closed = _close_alerts(s, Alert.subject_id == row.id, AlertStatus.CLOSED, f"{SUBJECT_REMOVED_REASON}: {text}", actor, now)
        row.removed_at, row.updated_at = now, now
        row.data, row.caption, row.tokens, row.hash = {}, "", "", ""
        q.audit(s, actor=actor, action="subject.remove", target=f"subject:{external_id}", detail={"reason": text, "alerts_closed": closed})
    return True


def list_subjects(q: Qalqan, *, offset: int = 0, limit: int = PAGE_DEFAULT, include_removed: bool = False) -> Page:
    offset, limit = _page_bounds(offset, limit)
    cond = [] if include_removed else [Subject.removed_at.is_(None)]
    with q.db.session() as s:
        total = s.execute(select(func.count()).select_from(Subject).where(*cond)).scalar_one()
        rows = s.execute(select(Subject).where(*cond).order_by(Subject.id).offset(offset).limit(limit)).scalars().all()
        items = [{k: v for k, v in _subject_dict(r).items() if k != "data"} for r in rows]
    return Page(items, int(total), offset, limit)


# -- the delta re-screen ------------------------------------------------------------------------


def _delisted_date(version: ListVersion) -> str:
    published = (version.published or "").strip()
    if len(published) >= 10 and published[4] == "-" and published[7] == "-":
        return published[:10]
    if published:
        return published
    fetched = version.fetched_at if version.fetched_at.tzinfo else version.fetched_at.replace(tzinfo=UTC)
    return fetched.date().isoformat()


def _prefilter_pass(q: Qalqan, prefilter: Prefilter, summary: RescreenSummary) -> list[int]:
    """Ids of the active subjects that pass the prefilter, streaming (id, tokens) in batches."""
    candidates: list[int] = []
    last = 0
    while True:
        with q.db.session() as s:
            rows = s.execute(
                select(Subject.id, Subject.tokens).where(Subject.removed_at.is_(None), Subject.id > last).order_by(Subject.id).limit(PREFILTER_BATCH)
            ).all()
        if not rows:
            return candidates
        summary.subjects += len(rows)
        test = prefilter.candidate
        candidates.extend(sid for sid, tokens in rows if test(tokens))
        last = rows[-1][0]


def _alerted_subjects(q: Qalqan, list_name: str, keys: Sequence[str]) -> list[int]:
    """Active subjects with an alert (any status) on one of these entities."""
    found: set[int] = set()
    with q.db.session() as s:
        for chunk in _chunks(list(keys), LOOKUP_CHUNK):
            rows = s.execute(
                select(Alert.subject_id)
                .join(Subject, Subject.id == Alert.subject_id)
                .where(Alert.list_name == list_name, Alert.entity_key.in_(chunk), Subject.removed_at.is_(None))
                .distinct()
            )
            found.update(int(sid) for (sid,) in rows)
    return sorted(found)


def on_new_version(q: Qalqan, version_id: int, *, actor: str, workers: int | None = None) -> RescreenSummary:
    """Re-screen the watched population against what `version_id` (now live) added and amended,
    and close the alerts on what it removed. One transaction writes every alert change and the
    audit entry ("monitor.rescreen", with the summary).

    The delta screener weighs tokens with the full live screener's rarity, so every pair scores
    as in a full screen; the prefilter drops only subjects the delta index cannot retrieve. A
    subject read for screening is screened as stored at that moment."""
    from qalqan.service import lists

    started = time.perf_counter()
    q.invalidate()  # the version may have just become live: screen with its screener
    summary = RescreenSummary(version_id)
    with q.db.session() as s:
        version = s.get(ListVersion, version_id)
        if version is None:
            raise LookupError(f"no list version {version_id}")
        s.expunge(version)
    summary.list_name = version.list_name
    changed, removed = lists.changed_entities(q.db, version_id)
    summary.added = sum(1 for c in changed if c.change == "added")
    summary.amended = len(changed) - summary.added
    summary.removed = len(removed)
    summary.timings["diff"] = time.perf_counter() - started
    pending: list[_Pending] = []
    by_entity = {c.entity.id: c for c in changed}

    def collect(results: Iterable[Stored]) -> None:
        for sid, digest, hits in results:
            for hit in hits:
                c = by_entity[hit.entity_id]
                listed = _Listed(version.list_name, c.key, c.record_id, version_id, c.entity.caption)
                trigger = Trigger.LIST_ADDED if c.change == "added" else Trigger.LIST_AMENDED
                pending.append(_Pending(sid, digest, None, None, listed, hit.entity_id, hit, trigger))

    # Entities whose matching fields changed (or are new) are screened against everyone; an
    # amendment of other fields only (notes, record ids) cannot make a new match, so it is
    # re-checked against the subjects already alerted on it (to refresh open alerts and to let
    # a dismissed one see the change).
    relevant = [c for c in changed if changes_matching(c.change, c.fields)]
    cosmetic = [c for c in changed if not changes_matching(c.change, c.fields)]
    summary.amended_cosmetic = len(cosmetic)
    with q.db.session() as s:
        watched = s.execute(select(Subject.id).where(Subject.removed_at.is_(None)).limit(1)).first() is not None
    # Nobody watched: nothing to screen (and no delta index worth building).
    full = q.screener if changed and watched else None
    infos = [i for i in full.lists if i.name == version.list_name] if full is not None else []
    if relevant and full is not None:
        delta = delta_screener([c.entity for c in relevant], infos, full.index.rarity, q.threshold, q.config)
        mark = time.perf_counter()
        candidates = _prefilter_pass(q, Prefilter(delta), summary)
        summary.candidates = len(candidates)
        summary.timings["prefilter"] = time.perf_counter() - mark
        mark = time.perf_counter()
        summary.screened = len(candidates)
        collect(_screen_candidates(q, delta, candidates, workers))
        summary.timings["screen"] = time.perf_counter() - mark
    if cosmetic and full is not None:
        mark = time.perf_counter()
        recheck = delta_screener([c.entity for c in cosmetic], infos, full.index.rarity, q.threshold, q.config)
        alerted = _alerted_subjects(q, version.list_name, [c.key for c in cosmetic])
        summary.rechecked = len(alerted)
        collect(_screen_candidates(q, recheck, alerted, workers))
        summary.timings["recheck"] = time.perf_counter() - mark
    mark = time.perf_counter()
    now = _now()
    with q.transaction() as s:
        if removed:
            reason = DELISTED_REASON.format(date=_delisted_date(version))
            for chunk in _chunks([r.key for r in removed], LOOKUP_CHUNK):
                where = (Alert.list_name == version.list_name) & Alert.entity_key.in_(chunk)
                summary.closed_delisted += _close_alerts(s, where, AlertStatus.CLOSED_DELISTED, reason, SYSTEM_ACTOR, now)
        counts = _apply_hits(s, pending, now)
        summary.alerts_new, summary.alerts_updated = counts.new, counts.updated
        summary.suppressed, summary.kept_confirmed = counts.suppressed, counts.kept
        summary.seconds = time.perf_counter() - started
        detail = {k: v for k, v in summary.as_dict().items() if k != "timings"}
        q.audit(s, actor=actor, action="monitor.rescreen", target=f"version:{version_id}", detail=detail)
        s.execute(update(ListVersion).where(ListVersion.id == version_id).values(rescreened_at=now))
    summary.timings["write"] = time.perf_counter() - mark
    summary.seconds = time.perf_counter() - started
    return summary


#: Actor of the decisions the system takes on its own (closing alerts on delisted entities).
SYSTEM_ACTOR = "system"


# -- alerts -------------------------------------------------------------------------------------


def _alert_summary(a: Alert, subject_external_id: str | None) -> dict[str, Any]:
    return {
        "id": a.id,
        "subject": subject_external_id,
        "list": a.list_name,
        "entity_key": a.entity_key,
        "entity_id": a.entity_id,
        "entity_caption": a.entity_caption,
        "generation": a.generation,
        "score": round(a.score, 4),
        "status": a.status,
        "trigger": a.trigger,
        "changes": list(a.changes or []),
        "assignee": a.assignee,
        "version_id": a.version_id,
        "record_id": a.record_id,
        "created_at": _iso(a.created_at),
        "updated_at": _iso(a.updated_at),
    }


def list_alerts(
    q: Qalqan,
    *,
    status: str | None = None,
    list_name: str | None = None,
    subject: str | None = None,
    assignee: str | None = None,
    offset: int = 0,
    limit: int = PAGE_DEFAULT,
) -> Page:
    """Alerts, newest first, filtered by status, list, subject (external id) and assignee."""
    offset, limit = _page_bounds(offset, limit)
    cond: list[ColumnElement[bool]] = []
    if status:
        try:
            cond.append(Alert.status == AlertStatus(status).value)
        except ValueError:
            raise DecisionError("status", f"unknown alert status {status!r}; expected one of: {', '.join(s.value for s in AlertStatus)}") from None
    if list_name:
        cond.append(Alert.list_name == list_name)
    if assignee:
        cond.append(Alert.assignee == assignee)
    if subject:
        cond.append(Subject.external_id == subject)
    with q.db.session() as s:
        base = select(Alert, Subject.external_id).join(Subject, Subject.id == Alert.subject_id).where(*cond)
        total = s.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = s.execute(base.order_by(Alert.id.desc()).offset(offset).limit(limit)).all()
        items = [_alert_summary(a, ext) for a, ext in rows]
    return Page(items, int(total), offset, limit)


def _alert_detail(s: Session, alert: Alert) -> dict[str, Any]:
    subject = s.get(Subject, alert.subject_id)
    out = _alert_summary(alert, subject.external_id if subject else None)
    out["subject_hash"] = alert.subject_hash
    out["explanation"] = list(alert.explanation or [])
    out["subject_record"] = (
        {"id": subject.external_id, "schema": subject.schema, "caption": subject.caption, "data": dict(subject.data or {}), "hash": subject.hash, "removed_at": _iso(subject.removed_at)}
        if subject is not None
        else None
    )
    record = s.get(EntityRecord, alert.record_id)
    out["entity"] = dict(record.data) if record is not None else None
    version = s.get(ListVersion, alert.version_id)
    out["version"] = (
        {"id": version.id, "list": version.list_name, "number": version.number, "published": version.published, "fetched_at": _iso(version.fetched_at)}
        if version is not None
        else None
    )
    decisions = s.execute(select(Decision).where(Decision.alert_id == alert.id).order_by(Decision.id)).scalars().all()
    out["decisions"] = [
        {"actor": d.actor, "action": d.action, "from": d.from_status, "to": d.to_status, "reason": d.reason, "at": _iso(d.at)} for d in decisions
    ]
    history = s.execute(
        select(Alert.id, Alert.generation, Alert.status, Alert.trigger)
        .where(Alert.subject_id == alert.subject_id, Alert.list_name == alert.list_name, Alert.entity_key == alert.entity_key, Alert.id != alert.id)
        .order_by(Alert.generation)
    ).all()
    out["other_generations"] = [{"id": i, "generation": g, "status": st, "trigger": t} for i, g, st, t in history]
    return out


def get_alert(q: Qalqan, alert_id: int, *, actor: str, purpose: str = "") -> dict[str, Any] | None:
    """An alert with its subject, the listed entity, the explanation, the decisions and the
    version that produced it. The view is audited ("alert.view")."""
    with q.transaction() as s:
        alert = s.get(Alert, alert_id)
        if alert is None:
            return None
        out = _alert_detail(s, alert)
        q.audit(s, actor=actor, action="alert.view", target=f"alert:{alert_id}", purpose=purpose)
    return out


def decide(q: Qalqan, alert_id: int, *, actor: str, role: str, action: str, reason: str, assignee: str | None = None) -> dict[str, Any]:
    """Take a decision on an alert: a Decision row and an "alert.decide" audit entry, in one
    transaction. DecisionError for a bad transition, a role that may not, an empty reason;
    AlertNotFound for an unknown alert."""
    now = _now()
    with q.transaction() as s:
        alert = s.execute(select(Alert).where(Alert.id == alert_id).with_for_update()).scalar_one_or_none()
        if alert is None:
            raise AlertNotFound(f"no alert {alert_id}")
        step = transition(alert.status, action, role, reason, assignee)
        s.add(Decision(alert_id=alert.id, actor=actor, action=step.action.value, from_status=step.from_status.value, to_status=step.to_status.value, reason=step.reason, at=now))
        alert.status, alert.updated_at = step.to_status.value, now
        if step.assignee is not None:
            alert.assignee = step.assignee
        s.flush()
        q.audit(
            s,
            actor=actor,
            action="alert.decide",
            target=f"alert:{alert_id}",
            detail={"action": step.action.value, "from": step.from_status.value, "to": step.to_status.value, "reason": step.reason, "assignee": step.assignee, "role": role},
        )
        out = _alert_detail(s, alert)
    return out
