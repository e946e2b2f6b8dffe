"""The delta re-screen: when a list version goes live, the watched population is screened
against only what it added and amended, and the alerts on what it removed are closed
("delisted on <date>").

An exact prefilter on stored tokens (`monitoring.rescreen`) skips subjects the delta index could
never retrieve. An amendment touching no field the matching reads (notes, record ids) is
re-checked against the subjects already alerted on that entity only. Only a version that is live
is re-screened: a version held by the import guard closes nothing.

Known limits: the delta re-screen does not follow rarity drift (a new version changes token
frequencies, so a pair on an *unchanged* entity may score a hair differently in a full re-screen);
`screened_version` is set when a subject is screened on arrival, not by every re-screen (writing
a million rows per version would cost more than the re-screen).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import select, update

from qalqan.monitoring.alerts import PARTNER_LIST_PREFIX, AlertStatus, Trigger, removal_reason
from qalqan.monitoring.rescreen import Prefilter, changes_matching, delta_screener
from qalqan.service.common import LOOKUP_CHUNK, chunks
from qalqan.service.context import SYSTEM, Context
from qalqan.service.hits import PendingHit, apply_hits, close_alerts
from qalqan.service.live import Listed
from qalqan.service.screening import Stored, screen_stored_ids
from qalqan.service.versions import changed_entities
from qalqan.store.tables import Alert, Decision, ListSource, ListVersion, Subject

#: (id, tokens) rows read per query by the re-screen's prefilter pass.
PREFILTER_BATCH = 50_000


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



def _delisted_date(version: ListVersion) -> str:
    published = (version.published or "").strip()
    if len(published) >= 10 and published[4] == "-" and published[7] == "-":
        return published[:10]
    if published:
        return published
    fetched = version.fetched_at if version.fetched_at.tzinfo else version.fetched_at.replace(tzinfo=UTC)
    return fetched.date().isoformat()


def _prefilter_pass(ctx: Context, prefilter: Prefilter, summary: RescreenSummary) -> list[int]:
    """Ids of the active subjects that pass the prefilter, streaming (id, tokens) in batches."""
    candidates: list[int] = []
    last = 0
    while True:
        with ctx.db.session() as s:
            rows = s.execute(
                select(Subject.id, Subject.tokens).where(Subject.removed_at.is_(None), Subject.id > last).order_by(Subject.id).limit(PREFILTER_BATCH)
            ).all()
        if not rows:
            return candidates
        summary.subjects += len(rows)
        test = prefilter.candidate
        candidates.extend(sid for sid, tokens in rows if test(tokens))
        last = rows[-1][0]


def _alerted_subjects(ctx: Context, list_name: str, keys: Sequence[str]) -> list[int]:
    """Active subjects with an alert (any status) on one of these entities."""
    found: set[int] = set()
    with ctx.db.session() as s:
        for chunk in chunks(list(keys), LOOKUP_CHUNK):
            rows = s.execute(
                select(Alert.subject_id)
                .join(Subject, Subject.id == Alert.subject_id)
                .where(Alert.list_name == list_name, Alert.entity_key.in_(chunk), Subject.removed_at.is_(None))
                .distinct()
            )
            found.update(int(sid) for (sid,) in rows)
    return sorted(found)


def on_new_version(ctx: Context, version_id: int, *, actor: str, workers: int | None = None) -> RescreenSummary:
    """Re-screen the watched population against what `version_id` (now live) added and amended,
    and close the alerts on what it removed. One transaction writes every alert change and the
    audit entry ("monitor.rescreen", with the summary).

    The delta screener weighs tokens with the full live screener's rarity, so every pair scores
    as in a full screen; the prefilter drops only subjects the delta index cannot retrieve. A
    subject read for screening is screened as stored at that moment."""
    started = time.perf_counter()
    ctx.invalidate()  # the version may have just become live: screen with its screener
    summary = RescreenSummary(version_id)
    with ctx.db.session() as s:
        version = s.get(ListVersion, version_id)
        if version is None:
            raise LookupError(f"no list version {version_id}")
        source = s.get(ListSource, version.list_name)
        if source is None or source.current_version_id != version_id:
            # Only a live version speaks for the list: a held or replaced one closes nothing.
            raise ValueError(f"version {version_id} of list {version.list_name!r} is not live; only a live version is re-screened")
        s.expunge(version)
    summary.list_name = version.list_name
    changed, removed = changed_entities(ctx.db, version_id)
    summary.added = sum(1 for c in changed if c.change == "added")
    summary.amended = len(changed) - summary.added
    summary.removed = len(removed)
    summary.timings["diff"] = time.perf_counter() - started
    pending: list[PendingHit] = []
    by_entity = {c.entity.id: c for c in changed}

    def collect(results: Iterable[Stored]) -> None:
        for sid, digest, hits in results:
            for hit in hits:
                c = by_entity[hit.entity_id]
                listed = Listed(version.list_name, c.key, c.record_id, version_id, c.entity.caption)
                trigger = Trigger.LIST_ADDED if c.change == "added" else Trigger.LIST_AMENDED
                pending.append(PendingHit(sid, digest, None, None, listed, hit.entity_id, hit, trigger))

    # Entities whose matching fields changed (or are new) are screened against everyone; an
    # amendment of other fields only (notes, record ids) cannot make a new match, so it is
    # re-checked against the subjects already alerted on it (to refresh open alerts and to let
    # a dismissed one see the change).
    relevant = [c for c in changed if changes_matching(c.change, c.fields)]
    cosmetic = [c for c in changed if not changes_matching(c.change, c.fields)]
    summary.amended_cosmetic = len(cosmetic)
    with ctx.db.session() as s:
        watched = s.execute(select(Subject.id).where(Subject.removed_at.is_(None)).limit(1)).first() is not None
    # Nobody watched: nothing to screen (and no delta index worth building).
    full = ctx.screener if changed and watched else None
    infos = [i for i in full.lists if i.name == version.list_name] if full is not None else []
    if relevant and full is not None:
        delta = delta_screener([c.entity for c in relevant], infos, full.index.rarity, ctx.threshold, ctx.config)
        mark = time.perf_counter()
        candidates = _prefilter_pass(ctx, Prefilter(delta), summary)
        summary.candidates = len(candidates)
        summary.timings["prefilter"] = time.perf_counter() - mark
        mark = time.perf_counter()
        summary.screened = len(candidates)
        collect(screen_stored_ids(ctx, delta, candidates, workers))
        summary.timings["screen"] = time.perf_counter() - mark
    if cosmetic and full is not None:
        mark = time.perf_counter()
        recheck = delta_screener([c.entity for c in cosmetic], infos, full.index.rarity, ctx.threshold, ctx.config)
        alerted = _alerted_subjects(ctx, version.list_name, [c.key for c in cosmetic])
        summary.rechecked = len(alerted)
        collect(screen_stored_ids(ctx, recheck, alerted, workers))
        summary.timings["recheck"] = time.perf_counter() - mark
    mark = time.perf_counter()
    now = ctx.clock.now()
    closed: list[Decision] = []
    with ctx.transaction() as s:
        if removed:
            reason = removal_reason(version.list_name, _delisted_date(version))
            for chunk in chunks([r.key for r in removed], LOOKUP_CHUNK):
                where = (Alert.list_name == version.list_name) & Alert.entity_key.in_(chunk)
                closed += close_alerts(s, where, AlertStatus.CLOSED_DELISTED, reason, SYSTEM, now, confirmed_too=version.list_name.startswith(PARTNER_LIST_PREFIX))
        summary.closed_delisted = len(closed)
        counts = apply_hits(s, pending, now)
        summary.alerts_new, summary.alerts_updated = counts.new, counts.updated
        summary.suppressed, summary.kept_confirmed = counts.suppressed, counts.kept
        summary.seconds = time.perf_counter() - started
        detail = {k: v for k, v in summary.as_dict().items() if k != "timings"}
        ctx.audit(s, actor=actor, action="monitor.rescreen", target=f"version:{version_id}", detail=detail, decisions=closed)
        s.execute(update(ListVersion).where(ListVersion.id == version_id).values(rescreened_at=now))
    summary.timings["write"] = time.perf_counter() - mark
    summary.seconds = time.perf_counter() - started
    return summary





def unfinished(ctx: Context) -> list[int]:
    """Live versions whose re-screen never finished, oldest first.

    An import commits before its re-screen runs (a list of a million entities must not hold the
    write lock for the whole re-screen), so a process stopped in between leaves a live version
    nobody was screened against; it is marked by `rescreened_at` being empty. `serve` runs these
    at start, and every import first.
    """
    with ctx.db.session() as session:
        return list(
            session.execute(
                select(ListVersion.id)
                .join(ListSource, ListSource.current_version_id == ListVersion.id)
                .where(ListVersion.rescreened_at.is_(None))
                .order_by(ListVersion.id)
            ).scalars()
        )
