"""Alerts: the queue (filtered, paginated), one alert in full (audited view), and the decisions
analysts and supervisors take on them (each a Decision row plus an audit entry, one transaction).

Who may take which decision is `monitoring.alerts.transition`'s rule; this module stores it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from qalqan.monitoring.alerts import PARTNER_LIST_PREFIX, AlertStatus, DecisionError, transition
from qalqan.service.common import PAGE_DEFAULT, Page, iso, page_bounds
from qalqan.service.context import Context
from qalqan.store.tables import Alert, Decision, EntityRecord, ExchangeObject, ListVersion, Subject, User

__all__ = ["AlertNotFound", "DecisionError", "PurposeRequired", "alert_summary", "decide", "get_alert", "list_alerts", "require_purpose"]


class AlertNotFound(LookupError):
    pass


class PurposeRequired(ValueError):
    """A view of personal data without a stated purpose."""



def alert_summary(a: Alert, subject_external_id: str | None) -> dict[str, Any]:
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
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
    }


def list_alerts(
    ctx: Context,
    *,
    status: str | None = None,
    list_name: str | None = None,
    subject: str | None = None,
    assignee: str | None = None,
    offset: int = 0,
    limit: int = PAGE_DEFAULT,
) -> Page:
    """Alerts, newest first, filtered by status, list, subject (external id) and assignee."""
    offset, limit = page_bounds(offset, limit)
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
    with ctx.db.session() as s:
        base = select(Alert, Subject.external_id).join(Subject, Subject.id == Alert.subject_id).where(*cond)
        total = s.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = s.execute(base.order_by(Alert.id.desc()).offset(offset).limit(limit)).all()
        items = [alert_summary(a, ext) for a, ext in rows]
    return Page(items, int(total), offset, limit)


def _alert_detail(s: Session, alert: Alert) -> dict[str, Any]:
    subject = s.get(Subject, alert.subject_id)
    out = alert_summary(alert, subject.external_id if subject else None)
    out["subject_hash"] = alert.subject_hash
    out["explanation"] = list(alert.explanation or [])
    out["subject_record"] = (
        {"id": subject.external_id, "schema": subject.schema, "caption": subject.caption, "data": dict(subject.data or {}), "hash": subject.hash, "removed_at": iso(subject.removed_at)}
        if subject is not None
        else None
    )
    record = s.get(EntityRecord, alert.record_id)
    out["entity"] = dict(record.data) if record is not None else None
    version = s.get(ListVersion, alert.version_id)
    out["version"] = (
        {"id": version.id, "list": version.list_name, "number": version.number, "published": version.published, "fetched_at": iso(version.fetched_at)}
        if version is not None
        else None
    )
    decisions = s.execute(select(Decision).where(Decision.alert_id == alert.id).order_by(Decision.id)).scalars().all()
    out["decisions"] = [
        {"actor": d.actor, "action": d.action, "from": d.from_status, "to": d.to_status, "reason": d.reason, "at": iso(d.at)} for d in decisions
    ]
    history = s.execute(
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

    DecisionError for a bad transition, a role that may not, an alert assigned to someone else,
    an assignee who could not decide it, an empty reason; AlertNotFound for an unknown alert. A
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
            step = transition(alert.status, action, role, reason, assignee, actor=actor, assigned_to=alert.assignee, assignee_role=target_role)
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

