"""/exchange/...: partners, sharing groups, publishing and retracting, warnings and their
acknowledgements, what partners sent, sync. One permission per route (service/roles.py): the
liaison officer publishes, analysts read and acknowledge, the admin manages partners."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from qalqan.api.models import ErrorResponse
from qalqan.api.security import require
from qalqan.exchange import policy
from qalqan.exchange import stix as stixmap
from qalqan.service import exchange
from qalqan.service.roles import Principal

router = APIRouter(prefix="/exchange", tags=["Exchange"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})


class MarkingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tlp: str = Field(exchange.DEFAULT_TLP, description="clear | green | amber | amber+strict | red")
    distribution: str = Field(exchange.DEFAULT_DISTRIBUTION, description="organisation | community | connected | all | sharing-group")
    group: str | None = Field(None, description="the sharing group (distribution sharing-group)")
    recipients: list[str] = Field(default_factory=list, description="named recipient organisations (required for TLP:RED)")


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org: str
    name: str
    url: str | None = None
    collection: str | None = None
    credential: str | None = None
    community: bool = False
    connected: bool = True
    relay: bool = False


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[str]


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: dict[str, Any] = Field(..., description="A FollowTheMoney entity: {schema, properties: {name, alias, birthDate, nationality, passportNumber, gender, ...}}")
    status: str = "suspected"
    last_location: str | None = None
    marking: MarkingIn = Field(default_factory=MarkingIn)


class WarningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    description: str = ""
    priority: str = "routine"
    valid_until: str
    sectors: list[str] = Field(default_factory=list)
    domain: str = "physical"
    ack_required: bool = False
    ack_deadline: str | None = None
    indicators: list[tuple[str, str]] = Field(default_factory=list, description="[[kind, value], ...]: ipv4, ipv6, domain, url, md5, sha1, sha256")
    marking: MarkingIn = Field(default_factory=MarkingIn)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    description: str = ""
    filename: str
    media_type: str
    content_base64: str
    marking: MarkingIn = Field(default_factory=MarkingIn)


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    reason: str


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    changes: dict[str, Any]
    comment: str = ""


def _svc(request: Request) -> Any:
    return request.app.state.service


def _bad(exc: Exception) -> HTTPException:
    if isinstance(exc, exchange.NotOriginator):
        return HTTPException(403, detail=str(exc))
    if isinstance(exc, exchange.UnknownPartner):
        return HTTPException(404, detail=str(exc))
    field = getattr(exc, "field", "") or "body"
    return HTTPException(422, detail=[{"loc": ["body", field], "msg": str(exc), "type": "value_error"}])


def _marking(request: Request, m: MarkingIn) -> policy.Marking:
    return exchange.make_marking(_svc(request), distribution=m.distribution, tlp=m.tlp, group=m.group, recipients=m.recipients)


_ERRORS = (exchange.ExchangeError, stixmap.StixError, policy.PolicyError, ValueError)


@router.get("/partners", summary="Partner organisations")
def partners(principal: Annotated[Principal, Depends(require("exchange:read"))], request: Request) -> list[dict[str, Any]]:
    return exchange.list_partners(_svc(request))


@router.post("/partners", summary="Add or update a partner (returns its TAXII key once)")
def add_partner(principal: Annotated[Principal, Depends(require("exchange:admin"))], request: Request, body: PartnerIn) -> dict[str, Any]:
    try:
        return exchange.add_partner(_svc(request), body.org, body.name, actor=principal.user, url=body.url, collection=body.collection,
                                    credential=body.credential, community=body.community, connected=body.connected, relay=body.relay)
    except _ERRORS as exc:
        raise _bad(exc) from None


@router.delete("/partners/{org}", summary="Remove a partner (its keys are revoked)")
def remove_partner(principal: Annotated[Principal, Depends(require("exchange:admin"))], request: Request, org: str) -> dict[str, Any]:
    try:
        return exchange.remove_partner(_svc(request), org, actor=principal.user)
    except _ERRORS as exc:
        raise _bad(exc) from None


@router.get("/groups", summary="Sharing groups")
def groups(principal: Annotated[Principal, Depends(require("exchange:read"))], request: Request) -> list[dict[str, Any]]:
    return exchange.list_groups(_svc(request))


@router.put("/groups/{name}", summary="Create or replace a sharing group")
def set_group(principal: Annotated[Principal, Depends(require("exchange:admin"))], request: Request, name: str, body: GroupIn) -> dict[str, Any]:
    try:
        return exchange.set_group(_svc(request), name, body.members, actor=principal.user)
    except _ERRORS as exc:
        raise _bad(exc) from None


@router.post("/subjects", summary="Share a subject of interest")
def share_subject(principal: Annotated[Principal, Depends(require("exchange:publish"))], request: Request, body: SubjectIn) -> dict[str, Any]:
    try:
        entity = exchange.entity_from_ftm(_svc(request), body.entity)
        sid = exchange.share_subject(_svc(request), entity, _marking(request, body.marking), actor=principal.user, status=body.status, last_location=body.last_location)
    except _ERRORS as exc:
        raise _bad(exc) from None
    return {"id": sid}


@router.post("/warnings", summary="Issue an early warning")
def share_warning(principal: Annotated[Principal, Depends(require("exchange:publish"))], request: Request, body: WarningIn) -> dict[str, Any]:
    try:
        fields = exchange.warning_fields(title=body.title, description=body.description, priority=body.priority, valid_until=body.valid_until,
                                         sectors=body.sectors, domain=body.domain, ack_required=body.ack_required, ack_deadline=body.ack_deadline)
        sid = exchange.share_warning(_svc(request), _marking(request, body.marking), actor=principal.user, indicators=[tuple(i) for i in body.indicators], **fields)
    except _ERRORS as exc:
        raise _bad(exc) from None
    return {"id": sid}


@router.post("/documents", summary="Share a best-practice document")
def share_document(principal: Annotated[Principal, Depends(require("exchange:publish"))], request: Request, body: DocumentIn) -> dict[str, Any]:
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, detail=[{"loc": ["body", "content_base64"], "msg": "not base64", "type": "value_error"}]) from None
    try:
        sid = exchange.share_document(_svc(request), _marking(request, body.marking), actor=principal.user, title=body.title, description=body.description,
                                      filename=body.filename, media_type=body.media_type, content=content)
    except _ERRORS as exc:
        raise _bad(exc) from None
    return {"id": sid}


@router.post("/retractions", summary="Retract an object this node made")
def retract(principal: Annotated[Principal, Depends(require("exchange:publish"))], request: Request, body: RetractIn) -> dict[str, Any]:
    try:
        version = exchange.retract(_svc(request), body.id, actor=principal.user, reason=body.reason)
    except _ERRORS as exc:
        raise _bad(exc) from None
    return {"id": body.id, "version": version}


@router.get("/retractions/{object_id}", summary="Who acknowledged a retraction")
def retraction(principal: Annotated[Principal, Depends(require("exchange:read"))], request: Request, object_id: str) -> dict[str, Any]:
    try:
        return exchange.retraction_acks(_svc(request), object_id)
    except _ERRORS as exc:
        raise HTTPException(404, detail=str(exc)) from None


@router.post("/proposals", summary="Propose a change to a partner's object")
def propose(principal: Annotated[Principal, Depends(require("exchange:ack"))], request: Request, body: ProposalIn) -> dict[str, Any]:
    try:
        return {"id": exchange.propose(_svc(request), body.id, body.changes, body.comment, actor=principal.user)}
    except _ERRORS as exc:
        raise _bad(exc) from None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Literal["accepted", "rejected"]
    comment: str = ""


@router.post("/proposals/{note_id}/answer", summary="Accept or reject a partner's proposal about one of our objects")
def answer_proposal(principal: Annotated[Principal, Depends(require("exchange:publish"))], request: Request, note_id: str, body: AnswerIn) -> dict[str, Any]:
    try:
        return {"id": exchange.answer_proposal(_svc(request), note_id, body.answer, actor=principal.user, comment=body.comment)}
    except _ERRORS as exc:
        raise _bad(exc) from None


@router.get("/warnings", summary="Early warnings, received and issued, with acknowledgements")
def warnings(principal: Annotated[Principal, Depends(require("exchange:read"))], request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    return exchange.warnings(_svc(request), limit=limit)


@router.post("/warnings/{object_id}/ack", summary="Acknowledge a received warning")
def ack(principal: Annotated[Principal, Depends(require("exchange:ack"))], request: Request, object_id: str) -> dict[str, Any]:
    try:
        note = exchange.ack_warning(_svc(request), object_id, actor=principal.user)
    except exchange.ExchangeError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return {"id": object_id, "note": note, "already": note is None}


@router.get("/escalations", summary="Our warnings not acknowledged by their deadline")
def escalations(principal: Annotated[Principal, Depends(require("exchange:read"))], request: Request) -> list[dict[str, Any]]:
    return exchange.escalate(_svc(request), actor=principal.user)


@router.get("/objects", summary="Objects held: made here and pulled from partners")
def objects(
    principal: Annotated[Principal, Depends(require("exchange:read"))],
    request: Request,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    originator: Annotated[str | None, Query(max_length=64)] = None,
    about: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return exchange.list_objects(_svc(request), kind=kind, originator=originator, about=about, limit=limit)


@router.post("/sync", summary="Pull from partners now")
def sync(principal: Annotated[Principal, Depends(require("exchange:sync"))], request: Request, partner: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
    try:
        return _svc(request).sync(partner or None, actor=principal.user)  # type: ignore[no-any-return]
    except exchange.ExchangeError as exc:
        raise _bad(exc) from None
