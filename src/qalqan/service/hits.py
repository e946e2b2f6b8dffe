"""From screening hits to alerts: raise, refresh or suppress alerts for a batch of hits (the
rules are `monitoring.alerts.on_rehit`'s), and close alerts the system closes by itself.

Shared by the subjects use case (screening on arrival) and the re-screen (a new list version).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from qalqan.model.codec import content_hash
from qalqan.monitoring.alerts import ACTIVE, SYSTEM_CLOSE, AlertStatus, Rehit, Trigger, entity_changes, explanation_changes, on_rehit, subject_changes
from qalqan.monitoring.rescreen import Hit
from qalqan.service.common import LOOKUP_CHUNK, chunks
from qalqan.service.live import Listed
from qalqan.store.tables import Alert, Decision, EntityRecord

@dataclass(slots=True)
class PendingHit:
    """One hit to turn into (or onto) an alert."""

    subject_id: int
    subject_hash: str
    old_subject: dict[str, Any] | None  # the subject's data before this update, when known
    new_subject: dict[str, Any] | None  # ... and after it
    listed: Listed
    entity_id: str
    hit: Hit
    trigger: Trigger


@dataclass(slots=True)
class HitCounts:
    new: int = 0
    updated: int = 0
    suppressed: int = 0
    kept: int = 0


def _latest_alerts(session: Session, subject_ids: Iterable[int]) -> dict[tuple[int, str, str], Alert]:
    latest: dict[tuple[int, str, str], Alert] = {}
    for chunk in chunks(sorted(set(subject_ids)), LOOKUP_CHUNK):
        for alert in session.execute(select(Alert).where(Alert.subject_id.in_(chunk))).scalars():
            pair = (alert.subject_id, alert.list_name, alert.entity_key)
            if pair not in latest or latest[pair].generation < alert.generation:
                latest[pair] = alert
    return latest


def apply_hits(session: Session, pending: Sequence[PendingHit], now: datetime) -> HitCounts:
    """Raise, refresh or suppress alerts for `pending` hits (see `monitoring.alerts.on_rehit`)."""
    counts = HitCounts()
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


def close_alerts(session: Session, where: ColumnElement[bool], to_status: AlertStatus, reason: str, actor: str, now: datetime,
                 *, confirmed_too: bool = False) -> list[Decision]:
    """Close every active alert matching `where` (and confirmed ones too with `confirmed_too`:
    a partner's retraction withdraws the subject a hit was confirmed on): a Decision row each,
    by `actor` (returned, for the caller's audit entry to bind)."""
    statuses = [s.value for s in ACTIVE] + ([AlertStatus.CONFIRMED.value] if confirmed_too else [])
    alerts = session.execute(select(Alert).where(where, Alert.status.in_(statuses)).order_by(Alert.id)).scalars().all()
    made = []
    for alert in alerts:
        made.append(Decision(alert_id=alert.id, actor=actor, action=SYSTEM_CLOSE, from_status=alert.status, to_status=to_status.value, reason=reason, at=now))
        alert.status, alert.updated_at = to_status.value, now
    session.add_all(made)
    session.flush()
    return made


