"""Travel: API and PNR messages in (raw EDIFACT, as carriers' gateways send them), the stored
and quarantined messages, a message's travellers (audited, with purpose), the lost and stolen
documents list, case holds, the retention run and re-personalisation with four eyes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from qalqan.api.models import DEFAULT_PAGE, MAX_BIGINT, ErrorResponse, Limit, Offset, Page
from qalqan.api.security import require, stated_purpose
from qalqan.service.roles import Principal

router = APIRouter(tags=["Travel"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})

MessageId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="The stored message's id")]
Id = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
_EDIFACT = {"application/EDIFACT": {"schema": {"type": "string", "format": "binary"}}, "text/plain": {"schema": {"type": "string"}}}


def _travel_error(exc: Exception) -> HTTPException:
    from qalqan.service.travel import TravelError, TravelNotFound

    if isinstance(exc, TravelNotFound):
        return HTTPException(404, detail=str(exc))
    assert isinstance(exc, TravelError)
    if exc.field in ("four-eyes", "role", "actor"):
        return HTTPException(403, detail=str(exc))
    if exc.field in ("status", "expired", "traveller"):
        return HTTPException(409, detail=str(exc))
    return HTTPException(422, detail=[{"loc": ["body", exc.field or "body"], "msg": str(exc), "type": "value_error"}])


@router.post("/travel/messages", summary="Take in an API (PAXLST) or PNR (PNRGOV) message: stored and screened, or quarantined",
             status_code=201, openapi_extra={"requestBody": {"required": True, "content": _EDIFACT}},
             responses={200: {"description": "The same message was already received (nothing screened twice)"},
                        422: {"model": ErrorResponse, "description": "The message does not read: quarantined (the body says where)"}})
async def post_message(principal: Annotated[Principal, Depends(require("travel:ingest"))], request: Request, response: Response) -> dict[str, Any]:
    """The body is the interchange exactly as the carrier sent it. Every traveller is screened;
    hits become alerts in the queue for a named official. A malformed message is kept in
    quarantine and answered 422 with the error, its segment and position."""
    from starlette.concurrency import run_in_threadpool

    from qalqan.service import travel

    data = await request.body()
    try:
        result = await run_in_threadpool(travel.ingest, request.app.state.service, data, actor=principal.user, source="api")
    except travel.TravelError as exc:
        raise _travel_error(exc) from None
    if result.status == travel.QUARANTINED and not result.duplicate:
        raise HTTPException(422, detail={"msg": result.error, "segment": result.segment, "position": result.position, "message_id": result.message_id})
    if result.duplicate:
        response.status_code = 200
    return result.as_dict()


@router.get("/travel/messages", summary="Stored and quarantined messages, newest first (flights and counts; no personal data)", response_model=Page)
def list_messages(
    principal: Annotated[Principal, Depends(require("travel:read"))],
    request: Request,
    status: Annotated[str | None, Query(pattern="^(stored|quarantined)$")] = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> Page:
    from qalqan.service import travel

    page = travel.list_messages(request.app.state.service, status=status, offset=offset, limit=limit)
    return Page(total=page.total, offset=page.offset, limit=page.limit, items=page.items)


@router.get("/travel/messages/{message_id}", summary="A message with its travellers (masked once depersonalised; the view is audited)",
            responses={404: {"model": ErrorResponse}})
def get_message(principal: Annotated[Principal, Depends(require("travel:read"))], purpose: Annotated[str, Depends(stated_purpose)], request: Request,
                message_id: MessageId) -> dict[str, Any]:
    from qalqan.service import travel

    try:
        return travel.get_message(request.app.state.service, message_id, actor=principal.user, purpose=purpose)
    except (travel.TravelError, travel.TravelNotFound) as exc:
        raise _travel_error(exc) from None


@router.get("/travel/messages/{message_id}/travellers.csv", summary="A message's travellers as CSV (masked alike; the export is audited)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}, 404: {"model": ErrorResponse}})
def export_message(principal: Annotated[Principal, Depends(require("travel:read"))], purpose: Annotated[str, Depends(stated_purpose)], request: Request,
                   message_id: MessageId) -> Response:
    from qalqan.service import travel

    try:
        text = travel.export_travellers(request.app.state.service, message_id, actor=principal.user, purpose=purpose)
    except (travel.TravelError, travel.TravelNotFound) as exc:
        raise _travel_error(exc) from None
    return Response(text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="travellers-{message_id}.csv"'})


@router.get("/travel/documents/search", summary="Travellers who carried a document number (masked records included; audited)")
def search_document(principal: Annotated[Principal, Depends(require("travel:read"))], purpose: Annotated[str, Depends(stated_purpose)], request: Request,
                    number: Annotated[str, Query(min_length=1, max_length=200)]) -> list[dict[str, Any]]:
    from qalqan.service import travel

    try:
        return travel.find_by_document(request.app.state.service, number, actor=principal.user, purpose=purpose)
    except travel.TravelError as exc:
        raise _travel_error(exc) from None


@router.post("/travel/documents", summary="Import the lost and stolen travel documents list (CSV: number, issuing country, type, reported date)",
             status_code=201, openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
             responses={422: {"model": ErrorResponse}})
async def import_documents(principal: Annotated[Principal, Depends(require("travel:admin"))], request: Request) -> dict[str, Any]:
    """The whole list, as the new version of "travel-documents": a file that does not read
    leaves the previous version live (422 naming the row and field)."""
    from starlette.concurrency import run_in_threadpool

    from qalqan.service import travel

    data = await request.body()
    try:
        return await run_in_threadpool(travel.import_documents, request.app.state.service, data, actor=principal.user, source="api")
    except travel.lostdocs.DocumentListError as exc:
        raise HTTPException(422, detail=[{"loc": ["body", exc.field or "body"], "msg": str(exc), "type": "value_error", "row": exc.row}]) from None
    except UnicodeDecodeError:
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": "the document list must be UTF-8 CSV", "type": "value_error"}]) from None


class HoldBody(BaseModel):
    case: str | None = Field(default=None, max_length=200, description="The case that holds the message; empty or null releases it")


@router.put("/travel/messages/{message_id}/hold", summary="A case holds a message past its deletion date (or releases it)", responses={404: {"model": ErrorResponse}})
def hold(principal: Annotated[Principal, Depends(require("travel:admin"))], request: Request, message_id: MessageId, body: HoldBody) -> dict[str, Any]:
    from qalqan.service import travel

    try:
        return travel.set_hold(request.app.state.service, message_id, actor=principal.user, case=body.case)
    except travel.TravelNotFound as exc:
        raise _travel_error(exc) from None


@router.post("/travel/retention", summary="Apply the passenger-data rules now: depersonalise and delete what is due")
def retention(principal: Annotated[Principal, Depends(require("travel:admin"))], request: Request) -> dict[str, Any]:
    from qalqan.service import travel

    return travel.apply_retention(request.app.state.service, actor=principal.user)


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class DecisionBody(ReasonBody):
    approve: bool


@router.post("/travel/travellers/{traveller_id}/repersonalisation", summary="Ask to see a depersonalised traveller in clear (a supervisor approves)",
             status_code=201, responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def request_repersonalisation(principal: Annotated[Principal, Depends(require("travel:read"))], request: Request, traveller_id: Id,
                              body: ReasonBody) -> dict[str, Any]:
    from qalqan.service import travel

    try:
        return travel.request_repersonalisation(request.app.state.service, traveller_id, actor=principal.user, reason=body.reason)
    except (travel.TravelError, travel.TravelNotFound) as exc:
        raise _travel_error(exc) from None


@router.get("/travel/repersonalisations", summary="Re-personalisation requests (pending by default)")
def list_requests(principal: Annotated[Principal, Depends(require("travel:read"))], request: Request,
                  status: Annotated[str | None, Query(pattern="^(pending|approved|refused|all)$")] = "pending") -> list[dict[str, Any]]:
    from qalqan.service import travel

    return travel.list_requests(request.app.state.service, status=None if status == "all" else status)


@router.post("/travel/repersonalisations/{request_id}/decision", summary="A supervisor other than the requester approves or refuses",
             responses={403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def decide(principal: Annotated[Principal, Depends(require("travel:approve"))], request: Request, request_id: Id,
           body: Annotated[DecisionBody, Body()]) -> dict[str, Any]:
    from qalqan.service import travel

    try:
        return travel.decide_repersonalisation(request.app.state.service, request_id, actor=principal.user, approve=body.approve, reason=body.reason)
    except (travel.TravelError, travel.TravelNotFound) as exc:
        raise _travel_error(exc) from None


@router.get("/travel/repersonalisations/{request_id}/traveller", summary="The traveller in clear, for the requester of an approved request (audited)",
            responses={403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def repersonalised(principal: Annotated[Principal, Depends(require("travel:read"))], purpose: Annotated[str, Depends(stated_purpose)], request: Request,
                   request_id: Id) -> dict[str, Any]:
    from qalqan.service import travel

    try:
        return travel.repersonalised(request.app.state.service, request_id, actor=principal.user, purpose=purpose)
    except (travel.TravelError, travel.TravelNotFound) as exc:
        raise _travel_error(exc) from None
