"""Alerts: filter and page, view (audited), decide."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from qalqan.api.models import DEFAULT_PAGE, MAX_BIGINT, Decide, ErrorResponse, Limit, Offset, Page, StorableFilter
from qalqan.api.security import require, stated_purpose
from qalqan.monitoring.alerts import DecisionError
from qalqan.service.roles import Principal

router = APIRouter(tags=["Alerts"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})


AlertId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="The alert's id")]


def _decision_error(exc: DecisionError) -> HTTPException:
    if exc.kind in ("role", "assigned", "actor", "four-eyes"):
        return HTTPException(403, detail=str(exc))
    if exc.kind == "transition":
        return HTTPException(409, detail=str(exc))
    return HTTPException(422, detail=[{"loc": ["body", exc.kind], "msg": str(exc), "type": "value_error"}])


def _status_values(values: list[str] | None) -> list[str]:
    """`status` repeated and/or comma-separated: "?status=open&status=escalated" or "?status=open,escalated"."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@router.get("/alerts", summary="Alerts, filtered and sorted (newest first by default)", response_model=Page, responses={422: {"model": ErrorResponse}})
def list_alerts(
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    request: Request,
    status: Annotated[
        list[str] | None,
        Query(max_length=200, description="open, escalated, pending_approval, confirmed, false_positive, closed, closed_delisted; "
              "repeat it or separate by commas for any of several"),
    ] = None,
    list_: Annotated[str | None, Query(alias="list", max_length=64, description="Only alerts on this list"), StorableFilter] = None,
    subject: Annotated[str | None, Query(max_length=200, description="Only alerts of this subject (the client's id)"), StorableFilter] = None,
    assignee: Annotated[str | None, Query(max_length=200, description='Only alerts assigned to this user; "-" for alerts assigned to nobody'), StorableFilter] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, description="Only alerts scoring at least this")] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1, description="Only alerts scoring at most this")] = None,
    trigger: Annotated[str | None, Query(max_length=64, description="new-subject, subject-changed, list-added, list-amended, data-changed, relisted"), StorableFilter] = None,
    created_after: Annotated[datetime | None, Query(description="Only alerts raised at or after this time (ISO 8601; UTC if no offset)")] = None,
    created_before: Annotated[datetime | None, Query(description="Only alerts raised before this time")] = None,
    sort: Annotated[str, Query(max_length=16, description="created, -created (default), score, -score, updated, -updated; ties by id")] = "-created",
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> Page:
    """One page of the alert queue. Deep offsets cost a walk over the skipped rows: page by a
    narrower filter (created_before the last item seen, say) rather than by offsets in the tens
    of thousands."""
    from qalqan.service import alerts

    try:
        page = alerts.list_alerts(
            request.app.state.service, statuses=_status_values(status), list_name=list_, subject=subject, assignee=assignee,
            min_score=min_score, max_score=max_score, trigger=trigger, created_after=created_after, created_before=created_before,
            sort=sort, offset=offset, limit=limit,
        )
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
    summary="Decide an alert: escalate, confirm, false_positive, close; supervisors also reopen, reassign, approve and reject",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def decide(
    principal: Annotated[Principal, Depends(require("alerts:decide"))],
    request: Request,
    alert_id: AlertId,
    body: Decide,
) -> dict[str, Any]:
    """A reason is mandatory. A false positive stops re-alerting on the same subject and entity
    until either side's data changes. With four eyes on (the default), an analyst's confirm leaves
    the alert pending_approval until a supervisor other than the proposer approves it (confirmed)
    or rejects it (back to open). 403 when the role may not take the action (reopen, reassign,
    approve and reject are for supervisors, an alert assigned to someone else is theirs or a
    supervisor's) or when the proposer would approve their own confirmation, 409 when the alert's
    status does not allow it. Every refusal is audited."""
    from qalqan.service import alerts

    service = request.app.state.service
    try:
        return service.decide(alert_id, actor=principal.user, role=principal.role, action=body.action, reason=body.reason, assignee=body.assignee)
    except alerts.AlertNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except DecisionError as exc:
        raise _decision_error(exc) from None
