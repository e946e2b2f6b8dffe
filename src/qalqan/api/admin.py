"""Administration: users and API keys. Admins only; keys for auditors are made only on the
server's command line (see `service.auth`, separation of duties)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from qalqan.api.models import (
    DEFAULT_PAGE,
    MAX_PAGE,
    ErrorResponse,
    KeyCreate,
    KeyCreated,
    Page,
    UserCreate,
)
from qalqan.api.security import client_address, require
from qalqan.service import auth, roles, users
from qalqan.service.roles import Principal

router = APIRouter(tags=["Administration"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})


@router.post("/users", status_code=201, summary="Add a user with a role", responses={409: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
def create_user(principal: Annotated[Principal, Depends(require("users:admin"))], request: Request, body: UserCreate) -> dict[str, Any]:
    try:
        return users.create_user(request.app.state.service, body.name, body.role, actor=principal.user)
    except roles.Conflict as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except roles.AuthError as exc:  # a bad or reserved name, an unknown role
        raise HTTPException(422, detail=[{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]) from None


@router.get("/users", summary="Users and their keys (prefixes only; keys are never shown again)", response_model=Page)
def list_users(
    principal: Annotated[Principal, Depends(require("users:admin"))],
    request: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> Page:
    items, total = users.list_users(request.app.state.service, offset=offset, limit=limit)
    return Page(total=total, offset=offset, limit=limit, items=items)


@router.post(
    "/users/{name}/keys",
    status_code=201,
    summary="Make an API key for a user: shown in this answer only",
    description="A key for another user is audited as `key.issue` (issuer and holder) and shows its issuer in the user list. "
    "Keys for auditors are refused (403): only the server's command line (`qalqan keys create NAME`) makes them.",
    response_model=KeyCreated,
    responses={404: {"model": ErrorResponse}},
)
def create_key(
    principal: Annotated[Principal, Depends(require("users:admin"))],
    request: Request,
    name: Annotated[str, Path(max_length=100)],
    body: KeyCreate | None = None,
) -> KeyCreated:
    service = request.app.state.service
    label = body.label if body is not None else ""
    try:
        key = users.create_key(service, name, actor=principal.user, label=label, via_api=True)
    except roles.NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except roles.Forbidden as exc:
        auth.record_denied(service, principal, str(exc), client=client_address(request), route=f"{request.method} {request.url.path}")
        raise HTTPException(403, detail=str(exc)) from None
    except roles.AuthError as exc:
        loc = ["body", "label"] if exc.field == "label" else ["path", "name"]
        raise HTTPException(422, detail=[{"loc": loc, "msg": str(exc), "type": "value_error"}]) from None
    return KeyCreated(user=name, prefix=auth.parse_key(key) or "", label=label, key=key)


@router.delete("/keys/{prefix}", summary="Revoke an API key (by its prefix)", responses={404: {"model": ErrorResponse}})
def revoke_key(principal: Annotated[Principal, Depends(require("users:admin"))], request: Request, prefix: Annotated[str, Path(max_length=32)]) -> dict[str, Any]:
    if not users.revoke_key(request.app.state.service, prefix, actor=principal.user):
        raise HTTPException(404, detail=f"No active key with prefix {prefix!r}")
    return {"prefix": prefix, "revoked": True}
