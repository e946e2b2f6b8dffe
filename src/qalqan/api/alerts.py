"""Alerts: filter and page, view (audited), decide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from qalqan.api.models import DEFAULT_PAGE, MAX_BIGINT, Decide, ErrorResponse, Limit, Offset, Page, StorableFilter
from qalqan.api.security import require, stated_purpose
from qalqan.monitoring.alerts import DecisionError
from qalqan.service.roles import Principal

router = APIRouter(tags=["Alerts"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})


AlertId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="The alert's id")]


def _decision_error(exc: DecisionError) -> HTTPException:
    if exc.kind in ("role", "assigned", "actor"):
        return HTTPException(403, detail=str(exc))
    if exc.kind == "transition":
        return HTTPException(409, detail=str(exc))
    return HTTPException(422, detail=[{"loc": ["body", exc.kind], "msg": str(exc), "type": "value_error"}])


@router.get("/alerts", summary="Alerts, newest first, filtered", response_model=Page, responses={422: {"model": ErrorResponse}})
def list_alerts(
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    request: Request,
    status: Annotated[str | None, Query(description="open, escalated, confirmed, false_positive, closed, closed_delisted")] = None,
    list_: Annotated[str | None, Query(alias="list", max_length=64, description="Only alerts on this list"), StorableFilter] = None,
    subject: Annotated[str | None, Query(max_length=200, description="Only alerts of this subject (the client's id)"), StorableFilter] = None,
    assignee: Annotated[str | None, Query(max_length=200), StorableFilter] = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> Page:
    from qalqan.service import alerts

    try:
        page = alerts.list_alerts(request.app.state.service, status=status, list_name=list_, subject=subject, assignee=assignee, offset=offset, limit=limit)
    except DecisionError as exc:
        raise HTTPException(422, detail=[{"loc": ["query", exc.kind], "msg": str(exc), "type": "value_error"}]) from None
    return Page(total=page.total, offset=page.offset, limit=page.limit, items=page.items)


@router.get("/alerts/{alert_id}", summary="An alert: subject, listed entity, explanation, decisions (the view is audited)", responses={404: {"model": ErrorResponse}})
def get_alert(
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    purpose: Annotated[str, Depends(stated_purpose)],
    request: Request,
    alert_id: AlertId,
) -> dict[str, Any]:
    from qalqan.service import alerts

    found = alerts.get_alert(request.app.state.service, alert_id, actor=principal.user, purpose=purpose)
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
    reassign are for supervisors, an alert assigned to someone else is theirs or a supervisor's),
    409 when the alert's status does not allow it. Every refusal is audited."""
    from qalqan.service import alerts

    service = request.app.state.service
    try:
        return service.decide(alert_id, actor=principal.user, role=principal.role, action=body.action, reason=body.reason, assignee=body.assignee)
    except alerts.AlertNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except DecisionError as exc:
        raise _decision_error(exc) from None
