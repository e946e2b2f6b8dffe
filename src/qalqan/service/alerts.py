"""Alerts: the queue (filtered, paginated), one alert in full (audited view), and the decisions
analysts and supervisors take on them (each a Decision row plus an audit entry, one transaction).

Who may take which decision is `monitoring.alerts.transition`'s rule; this module stores it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from qalqan.monitoring.alerts import ACTIVE, PARTNER_LIST_PREFIX, Action, AlertStatus, DecisionError, Trigger, transition
from qalqan.service import travel
from qalqan.service.common import PAGE_DEFAULT, Page, iso, page_bounds
from qalqan.service.context import Context
from qalqan.store.tables import Alert, Decision, EntityRecord, ExchangeObject, ListVersion, Subject, User

__all__ = [
    "SORTS",
    "UNASSIGNED",
    "AlertNotFound",
    "DecisionError",
    "PurposeRequired",
    "alert_summary",
    "count_alerts_by_age",
    "decide",
    "get_alert",
    "list_alerts",
    "require_purpose",
]


class AlertNotFound(LookupError):
    pass


class PurposeRequired(ValueError):
    """A view of personal data without a stated purpose."""



def alert_summary(a: Alert, subject_external_id: str | None, subject_caption: str | None = None) -> dict[str, Any]:
    out = {
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
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "traveller_id": a.traveller_id,
        "departure_at": iso(a.departure_at),
    }
    if subject_caption is not None:
        out["subject_caption"] = subject_caption
    return out


def _with_travellers(s: Session, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A traveller's alerts in a page get the traveller's name and flight (`travel`)."""
    ids = [i["traveller_id"] for i in items if i.get("traveller_id") is not None]
    if ids:
        found = travel.traveller_captions(s, ids)
        for item in items:
            info = found.get(item.get("traveller_id"))  # type: ignore[arg-type]
            if info is not None:
                item["travel"] = info
                item.setdefault("subject_caption", info["caption"])
    return items


#: The queue's sort orders: "-" first is descending; ties are broken by id in the same direction.
SORTS: dict[str, tuple[Any, bool]] = {
    "created": (Alert.created_at, False),
    "-created": (Alert.created_at, True),
    "score": (Alert.score, False),
    "-score": (Alert.score, True),
    "updated": (Alert.updated_at, False),
    "-updated": (Alert.updated_at, True),
    # Travellers' alerts by time to departure, the soonest first (alerts without one last).
    "departure": (Alert.departure_at, False),
    "-departure": (Alert.departure_at, True),
}
#: The `assignee` filter value for alerts assigned to nobody.
UNASSIGNED = "-"
#: The dashboard's buckets (`count_alerts_by_age`): by age since raised, and by score.
AGE_BUCKETS = ("<1d", "1-7d", "7-30d", ">30d")
SCORE_BUCKETS = (">=0.95", "0.9-0.95", "0.8-0.9", "<0.8")


def _statuses(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        try:
            status = AlertStatus(value).value
        except ValueError:
            raise DecisionError("status", f"unknown alert status {value!r}; expected one of: {', '.join(s.value for s in AlertStatus)}") from None
        if status not in out:
            out.append(status)
    return out


def _as_utc(value: datetime) -> datetime:
    """A bound for a stored time: naive is taken as UTC (as the store writes them)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _score_bound(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    if not math.isfinite(float(value)):
        raise DecisionError(what, f"{what} must be a finite number, not {value!r}")
    return float(value)


def list_alerts(
    ctx: Context,
    *,
    status: str | None = None,
    statuses: Sequence[str] | None = None,
    list_name: str | None = None,
    subject: str | None = None,
    assignee: str | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    trigger: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort: str = "-created",
    offset: int = 0,
    limit: int = PAGE_DEFAULT,
) -> Page:
    """Alerts, filtered and sorted (newest first by default), a page at a time.

    Filters (all optional, combined with AND): `status` and/or `statuses` (any of them), `list_name`,
    `subject` (the client's external id), `assignee` ("-" = assigned to nobody), `min_score` /
    `max_score` (inclusive), `trigger`, `created_after` (inclusive) / `created_before`
    (exclusive). `sort` is one of SORTS ("created", "-created", "score", "-score", "updated",
    "-updated"); ties are broken by id in the same direction. DecisionError ("status", "trigger",
    "sort", "min_score"/"max_score") for a value out of those."""
    offset, limit = page_bounds(offset, limit)
    if sort not in SORTS:
        raise DecisionError("sort", f"unknown sort {sort!r}; expected one of: {', '.join(SORTS)}")
    cond: list[ColumnElement[bool]] = []
    wanted = _statuses(([status] if status else []) + list(statuses or []))
    if len(wanted) == 1:
        cond.append(Alert.status == wanted[0])
    elif wanted:
        cond.append(Alert.status.in_(wanted))
    if list_name:
        cond.append(Alert.list_name == list_name)
    if assignee == UNASSIGNED:
        cond.append(Alert.assignee.is_(None))
    elif assignee:
        cond.append(Alert.assignee == assignee)
    if subject:
        cond.append(Alert.subject_id.in_(select(Subject.id).where(Subject.external_id == subject)))
    low, high = _score_bound(min_score, "min_score"), _score_bound(max_score, "max_score")
    column, descending = SORTS[sort]
    # The page query, sorted by time, compares `score + 0`: an expression no index serves, so the
    # planner walks the (status,) time index in order and stops after a page, instead of taking a
    # score range and sorting all of it (SQLite without ANALYZE statistics does that: 115 ms
    # for 20,000 rows of 100,000, against under 10 ms). The count keeps the indexable form.
    scored = Alert.score if column is Alert.score else Alert.score + 0
    score_cond: list[ColumnElement[bool]] = []
    page_score_cond: list[ColumnElement[bool]] = []
    if low is not None:
        score_cond.append(Alert.score >= low)
        page_score_cond.append(scored >= low)
    if high is not None:
        score_cond.append(Alert.score <= high)
        page_score_cond.append(scored <= high)
    if trigger:
        try:
            cond.append(Alert.trigger == Trigger(trigger).value)
        except ValueError:
            raise DecisionError("trigger", f"unknown trigger {trigger!r}; expected one of: {', '.join(t.value for t in Trigger)}") from None
    if created_after is not None:
        cond.append(Alert.created_at >= _as_utc(created_after))
    if created_before is not None:
        cond.append(Alert.created_at < _as_utc(created_before))
    order: tuple[Any, ...] = (column.desc(), Alert.id.desc()) if descending else (column.asc(), Alert.id.asc())
    if column is Alert.departure_at:
        order = (Alert.departure_at.is_(None), *order)
    with ctx.db.session() as s:
        total = s.execute(select(func.count()).select_from(Alert).where(*cond, *score_cond)).scalar_one()
        # The page's ids first (an index walk, no join), then those rows with their subjects.
        ids = s.execute(select(Alert.id).where(*cond, *page_score_cond).order_by(*order).offset(offset).limit(limit)).scalars().all()
        items: list[dict[str, Any]] = []
        if ids:
            rows = s.execute(select(Alert, Subject.external_id, Subject.caption).outerjoin(Subject, Subject.id == Alert.subject_id).where(Alert.id.in_(ids))).all()
            by_id = {a.id: (a, ext, caption) for a, ext, caption in rows}
            items = _with_travellers(s, [alert_summary(*by_id[i]) for i in ids if i in by_id])
    return Page(items, int(total), offset, limit)


def alerts_raised_by(ctx: Context, list_name: str, version_id: int, entity_keys: Sequence[str], *, limit_per_key: int = 50) -> dict[str, list[dict[str, Any]]]:
    """The alerts version `version_id` of `list_name` raised (or refreshed) for each of `entity_keys`: what
    a change in that version touched in the watched population. At most `limit_per_key` per key,
    newest first; keys without alerts are left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    keys = sorted(set(entity_keys))
    with ctx.db.session() as s:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = s.execute(
                select(Alert, Subject.external_id, Subject.caption)
                .join(Subject, Subject.id == Alert.subject_id)
                .where(Alert.list_name == list_name, Alert.entity_key.in_(chunk), Alert.version_id == version_id)  # ix_alerts_pair
                .order_by(Alert.id.desc())
            ).all()
            for a, ext, caption in rows:
                found = out.setdefault(a.entity_key, [])
                if len(found) < limit_per_key:
                    found.append(alert_summary(a, ext, caption))
    return out


def count_alerts_by_age(ctx: Context, statuses: Sequence[str] | None = None) -> dict[str, Any]:
    """For a dashboard: how many alerts in `statuses` (default: those still awaiting a decision,
    ACTIVE) there are, by age since raised (AGE_BUCKETS: "<1d", "1-7d", "7-30d", ">30d") and by
    score (SCORE_BUCKETS: ">=0.95", "0.9-0.95", "0.8-0.9", "<0.8"; lower bounds inclusive).
    Returns {"total", "age": {bucket: n}, "score": {bucket: n}, "statuses", "at"}."""
    wanted = _statuses(list(statuses) if statuses is not None else sorted(s.value for s in ACTIVE))
    now = _as_utc(ctx.clock.now())
    day, week, month = (now - timedelta(days=d) for d in (1, 7, 30))

    status = Alert.status.in_(wanted)

    def n(*cond: ColumnElement[bool]) -> Any:
        # One COUNT per bucket: each an index range on (status, created_at) or (status, score).
        return select(func.count()).select_from(Alert).where(status, *cond).scalar_subquery()

    columns = [
        n(),
        n(Alert.created_at > day),
        n(Alert.created_at <= day, Alert.created_at > week),
        n(Alert.created_at <= week, Alert.created_at > month),
        n(Alert.created_at <= month),
        n(Alert.score >= 0.95),
        n(Alert.score >= 0.9, Alert.score < 0.95),
        n(Alert.score >= 0.8, Alert.score < 0.9),
        n(Alert.score < 0.8),
    ]
    with ctx.db.session() as s:
        row = s.execute(select(*columns)).one() if wanted else (0,) * len(columns)
    values = [int(v or 0) for v in row]
    return {
        "total": values[0],
        "age": dict(zip(AGE_BUCKETS, values[1:5], strict=True)),
        "score": dict(zip(SCORE_BUCKETS, values[5:9], strict=True)),
        "statuses": wanted,
        "at": iso(now),
    }


def _pending_confirm(s: Session, alert_id: int) -> Decision | None:
    """The confirm decision an alert pending approval waits on (the latest confirm on it)."""
    return s.execute(
        select(Decision).where(Decision.alert_id == alert_id, Decision.action == Action.CONFIRM.value).order_by(Decision.id.desc()).limit(1)
    ).scalar_one_or_none()


def _alert_detail(s: Session, alert: Alert) -> dict[str, Any]:
    subject = s.get(Subject, alert.subject_id) if alert.subject_id is not None else None
    out = alert_summary(alert, subject.external_id if subject else None)
    out["subject_hash"] = alert.subject_hash
    out["explanation"] = list(alert.explanation or [])
    out["subject_record"] = (
        {"id": subject.external_id, "schema": subject.schema, "caption": subject.caption, "data": dict(subject.data or {}), "hash": subject.hash, "removed_at": iso(subject.removed_at)}
        if subject is not None
        else None
    )
    record = s.get(EntityRecord, alert.record_id) if alert.record_id is not None else None
    out["entity"] = dict(record.data) if record is not None else None
    version = s.get(ListVersion, alert.version_id)
    trip = travel.alert_travel(s, alert, out["entity"], version.format if version is not None else None)
    if trip is not None:
        out["travel"] = trip
        out["subject_caption"] = trip["traveller"]["surname"] + (", " + trip["traveller"]["given_names"] if trip["traveller"]["given_names"] else "")
    out["version"] = (
        {"id": version.id, "list": version.list_name, "number": version.number, "published": version.published, "fetched_at": iso(version.fetched_at)}
        if version is not None
        else None
    )
    decisions = s.execute(select(Decision).where(Decision.alert_id == alert.id).order_by(Decision.id)).scalars().all()
    out["decisions"] = [
        {"actor": d.actor, "action": d.action, "from": d.from_status, "to": d.to_status, "reason": d.reason, "at": iso(d.at)} for d in decisions
    ]
    if alert.status == AlertStatus.PENDING_APPROVAL.value:
        proposal = next((d for d in reversed(decisions) if d.action == Action.CONFIRM.value), None)
        out["pending_confirmation"] = {"by": proposal.actor, "at": iso(proposal.at), "reason": proposal.reason} if proposal is not None else None
    history = [] if alert.subject_id is None else s.execute(
        select(Alert.id, Alert.generation, Alert.status, Alert.trigger)
        .where(Alert.subject_id == alert.subject_id, Alert.list_name == alert.list_name, Alert.entity_key == alert.entity_key, Alert.id != alert.id)
        .order_by(Alert.generation)
    ).all()
    out["other_generations"] = [{"id": i, "generation": g, "status": st, "trigger": t} for i, g, st, t in history]
    out["shared_by"] = _shared_by(s, alert, record)
    return out


def _shared_by(s: Session, alert: Alert, record: EntityRecord | None) -> dict[str, Any] | None:
    """For an alert on a partner agency's subject: who shared it, under which TLP and
    distribution (the analyst handles the alert accordingly). None for other lists."""
    if not alert.list_name.startswith(PARTNER_LIST_PREFIX):
        return None
    stix_id = (record.data or {}).get("reference") if record is not None else None
    row = (
        s.execute(select(ExchangeObject).where(ExchangeObject.stix_id == stix_id, ExchangeObject.latest.is_(True))).scalar_one_or_none()
        if stix_id
        else None
    )
    if row is None:
        return {"originator": alert.list_name[len(PARTNER_LIST_PREFIX):], "stix_id": stix_id}
    return {"originator": row.originator, "stix_id": row.stix_id, "tlp": row.tlp, "distribution": row.distribution, "sharing_group": row.sharing_group, "revoked": row.revoked}


def require_purpose(purpose: str) -> str:
    """Every read of personal data states why (the audit log records it)."""
    text = (purpose or "").strip()
    if not text:
        raise PurposeRequired("a purpose is required to view personal data (it is recorded in the audit log)")
    return text


def get_alert(ctx: Context, alert_id: int, *, actor: str, purpose: str) -> dict[str, Any] | None:
    """An alert with its subject, the listed entity, the explanation, the decisions and the
    version that produced it. The view is audited ("alert.view") with its stated purpose
    (PurposeRequired without one)."""
    purpose = require_purpose(purpose)
    with ctx.transaction() as s:
        alert = s.get(Alert, alert_id)
        if alert is None:
            return None
        out = _alert_detail(s, alert)
        ctx.audit(s, actor=actor, action="alert.view", target=f"alert:{alert_id}", purpose=purpose)
    return out


def _active_role(s: Session, name: str) -> str | None:
    return s.execute(select(User.role).where(User.name == name, User.active.is_(True))).scalar_one_or_none()


def decide(ctx: Context, alert_id: int, *, actor: str, action: str, reason: str, assignee: str | None = None, role: str | None = None) -> dict[str, Any]:
    """Take a decision on an alert: a Decision row and an "alert.decide" audit entry, in one
    transaction. The actor's role is the store's (`role` may state it when the caller already
    read it from the store, as the API's authentication does).

    With four eyes on (`ctx.four_eyes`), an analyst's confirm leaves the alert pending_approval;
    a supervisor other than the proposer approves (confirmed) or rejects (open) it.

    DecisionError for a bad transition, a role that may not, an alert assigned to someone else,
    an assignee who could not decide it, an empty reason, an approval by the proposer
    ("four-eyes"); AlertNotFound for an unknown alert. A
    refused decision is audited too ("alert.decide.refused"), in a transaction of its own."""
    now = ctx.clock.now()
    try:
        with ctx.transaction() as s:
            alert = s.execute(select(Alert).where(Alert.id == alert_id).with_for_update()).scalar_one_or_none()
            if alert is None:
                raise AlertNotFound(f"no alert {alert_id}")
            role = role or _active_role(s, actor)
            if role is None:
                raise DecisionError("actor", f"no active user {actor!r}")
            target_role = _active_role(s, assignee.strip()) if assignee and assignee.strip() else None
            proposal = _pending_confirm(s, alert.id) if alert.status == AlertStatus.PENDING_APPROVAL.value else None
            step = transition(
                alert.status, action, role, reason, assignee, actor=actor, assigned_to=alert.assignee, assignee_role=target_role,
                four_eyes=ctx.four_eyes, proposed_by=proposal.actor if proposal is not None else None,
            )
            decision = Decision(alert_id=alert.id, actor=actor, action=step.action.value, from_status=step.from_status.value, to_status=step.to_status.value, reason=step.reason, at=now)
            s.add(decision)
            alert.status, alert.updated_at = step.to_status.value, now
            if step.assignee is not None:
                alert.assignee = step.assignee
            s.flush()
            detail = {"action": step.action.value, "from": step.from_status.value, "to": step.to_status.value, "reason": step.reason, "assignee": step.assignee, "role": role}
            ctx.audit(s, actor=actor, action="alert.decide", target=f"alert:{alert_id}", detail=detail, decisions=[decision])
            return _alert_detail(s, alert)
    except (DecisionError, AlertNotFound) as exc:
        kind = exc.kind if isinstance(exc, DecisionError) else "not-found"
        with ctx.transaction() as s:
            detail = {"action": action, "refused": kind, "message": str(exc)[:500], "role": role, "assignee": assignee}
            ctx.audit(s, actor=actor, action="alert.decide.refused", target=f"alert:{alert_id}", detail=detail)
        raise

