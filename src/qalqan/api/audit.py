"""The audit log: read (filtered, paged) and verify the hash chain. Auditors only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select

from qalqan.api.models import (
    DEFAULT_PAGE,
    ErrorResponse,
    Limit,
    Offset,
    Page,
    StorableFilter,
    VerifyResponse,
)
from qalqan.api.security import require
from qalqan.service.roles import Principal
from qalqan.store.tables import AuditEntry

router = APIRouter(tags=["Audit"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    import orjson

    try:
        detail = orjson.loads(e.detail)
    except orjson.JSONDecodeError:  # an edited row: shown as stored, `verify` names it
        detail = e.detail
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "purpose": e.purpose,
        "input_hash": e.input_hash,
        "detail": detail,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


@router.get("/audit", summary="Audit entries, newest first, filtered by actor, action and target", response_model=Page)
def read_audit(
    principal: Annotated[Principal, Depends(require("audit:read"))],
    request: Request,
    actor: Annotated[str | None, Query(max_length=200), StorableFilter] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. screen, login, login.failed, alert.view, alert.decide, list.import"), StorableFilter] = None,
    target: Annotated[str | None, Query(max_length=200, description="e.g. alert:12, list:un, subject:CUST-1"), StorableFilter] = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> Page:
    cond = []
    if actor:
        cond.append(AuditEntry.actor == actor)
    if action:
        cond.append(AuditEntry.action == action)
    if target:
        cond.append(AuditEntry.target == target)
    with request.app.state.service.db.session() as s:
        total = s.execute(select(func.count()).select_from(AuditEntry).where(*cond)).scalar_one()
        rows = s.execute(select(AuditEntry).where(*cond).order_by(AuditEntry.seq.desc()).offset(offset).limit(limit)).scalars().all()
        return Page(total=int(total), offset=offset, limit=limit, items=[entry_dict(e) for e in rows])


@router.get("/audit/verify", summary="Verify the hash chain: every edited, inserted or deleted entry is named", response_model=VerifyResponse)
def verify_audit(principal: Annotated[Principal, Depends(require("audit:read"))], request: Request) -> dict[str, Any]:
    from qalqan.service import audit

    service = request.app.state.service
    report = audit.verify(service.db, service.key)
    return report.as_dict()
