"""Alerts: filter and page, view (audited), decide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from sqlalchemy import select

from qalqan.api.models import DEFAULT_PAGE, MAX_PAGE, Decide, ErrorResponse, Page
from qalqan.api.security import optional_purpose, require
from qalqan.monitoring.alerts import DecisionError
from qalqan.service.auth import Principal
from qalqan.store.tables import User

router = APIRouter(tags=["Alerts"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})

#: Actions that need "alerts:supervise" on top of "alerts:decide" (the monitor checks the role too).
SUPERVISED_ACTIONS = ("reopen", "reassign")

AlertId = Annotated[int, Path(ge=1, description="The alert's id")]


def _decision_error(exc: DecisionError) -> HTTPException:
    if exc.kind == "role":
        return HTTPException(403, detail=str(exc))
    if exc.kind == "transition":
        return HTTPException(409, detail=str(exc))
    return HTTPException(422, detail=[{"loc": ["body", exc.kind], "msg": str(exc), "type": "value_error"}])


@router.get("/alerts", summary="Alerts, newest first, filtered", response_model=Page, responses={422: {"model": ErrorResponse}})
def list_alerts(
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    request: Request,
    status: Annotated[str | None, Query(description="open, escalated, confirmed, false_positive, closed, closed_delisted")] = None,
    list_: Annotated[str | None, Query(alias="list", max_length=64, description="Only alerts on this list")] = None,
    subject: Annotated[str | None, Query(max_length=200, description="Only alerts of this subject (the client's id)")] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> Page:
    from qalqan.service import monitor

    try:
        page = monitor.list_alerts(request.app.state.service, status=status, list_name=list_, subject=subject, assignee=assignee, offset=offset, limit=limit)
    except DecisionError as exc:
        raise HTTPException(422, detail=[{"loc": ["query", exc.kind], "msg": str(exc), "type": "value_error"}]) from None
    return Page(total=page.total, offset=page.offset, limit=page.limit, items=page.items)


@router.get("/alerts/{alert_id}", summary="An alert: subject, listed entity, explanation, decisions (the view is audited)", responses={404: {"model": ErrorResponse}})
def get_alert(
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    purpose: Annotated[str, Depends(optional_purpose)],
    request: Request,
    alert_id: AlertId,
) -> dict[str, Any]:
    from qalqan.service import monitor

    found = monitor.get_alert(request.app.state.service, alert_id, actor=principal.user, purpose=purpose)
    if found is None:
        raise HTTPException(404, detail=f"No such alert: {alert_id}")
    return found


@router.post(
    "/alerts/{alert_id}/decision",
    summary="Decide an alert: escalate, confirm, false_positive, close; supervisors also reopen and reassign",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def decide(
    principal: Annotated[Principal, Depends(require("alerts:decide"))],
    request: Request,
    alert_id: AlertId,
    body: Decide,
) -> dict[str, Any]:
    """A reason is mandatory. A false positive stops re-alerting on the same subject and entity
    until either side's data changes. 403 when the role may not take the action (reopen and
    reassign are for supervisors), 409 when the alert's status does not allow it."""
    from qalqan.service import monitor

    service = request.app.state.service
    if body.action in SUPERVISED_ACTIONS and not principal.allows("alerts:supervise"):
        raise HTTPException(403, detail=f"role {principal.role!r} may not {body.action} an alert (needs permission 'alerts:supervise')")
    if body.assignee is not None:
        with service.db.session() as s:
            if s.execute(select(User.id).where(User.name == body.assignee, User.active.is_(True))).first() is None:
                raise HTTPException(422, detail=[{"loc": ["body", "assignee"], "msg": f"no active user {body.assignee!r}", "type": "value_error"}])
    try:
        return monitor.decide(service, alert_id, actor=principal.user, role=principal.role, action=body.action, reason=body.reason, assignee=body.assignee)
    except monitor.AlertNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except DecisionError as exc:
        raise _decision_error(exc) from None
