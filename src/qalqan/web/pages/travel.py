"""The travel pages: the API and PNR messages received (stored or quarantined, with the error, its
segment and position), one message's flights and travellers (audited, with the session's
purpose; depersonalised travellers shown masked), the travellers' CSV export, the upload of an
EDIFACT message, and, for supervisors, the upload of the lost and stolen documents list, case
holds and the retention run. Passenger-data protection: a depersonalised traveller may be asked
for in clear with a reason; a supervisor other than the requester approves or refuses (four
eyes); the requester then reads the traveller in clear (audited with the session's purpose).

The pages call the service functions the JSON API calls (`api/travel.py`): `travel.list_messages`,
`get_message`, `export_travellers`, `ingest`, `import_documents`, `set_hold`, `apply_retention`,
`request_repersonalisation`, `list_requests`, `decide_repersonalisation` and `repersonalised`,
with the API routes' permissions, and answer the service's refusals with the API's status codes.
A traveller's hit is an alert in the alert queue (`pages/alerts.py` shows it with the flight).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from qalqan.api.uploads import BodyTooLarge
from qalqan.service import travel
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import render
from qalqan.web.uploads import receive_form_upload

router = APIRouter(include_in_schema=False)

#: Messages per page of the list.
PAGE_SIZE = 50
STATUSES: tuple[str, ...] = (travel.STORED, travel.QUARANTINED)

MessageId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: The re-personalisation requests' status filter (the API's values; "all" is every status).
REQUEST_STATUSES: tuple[str, ...] = ("pending", "approved", "refused", "all")
#: As the API's bodies allow (`api.travel.HoldBody`, `ReasonBody`).
MAX_CASE_CHARS = 200
MAX_REASON_CHARS = 2000


def _error_status(exc: Exception) -> int:
    """The status the JSON API answers the same refusal with (`api.travel._travel_error`)."""
    if isinstance(exc, travel.TravelNotFound):
        return 404
    field = getattr(exc, "field", None)
    if field in ("four-eyes", "role", "actor"):
        return 403
    if field in ("status", "expired", "traveller"):
        return 409
    return 422


def _error(exc: Exception, **more: Any) -> dict[str, Any]:
    return {"kind": "not-found" if isinstance(exc, travel.TravelNotFound) else (getattr(exc, "field", None) or "refused"), "message": str(exc), **more}


def _list_values(request: Request) -> dict[str, Any]:
    q = request.query_params
    status = q.get("status", "")
    status = status if status in STATUSES else ""
    try:
        offset = min(max(0, int(q.get("offset") or 0)), 10**9)
    except ValueError:
        offset = 0
    page = travel.list_messages(request.app.state.service, status=status or None, offset=offset, limit=PAGE_SIZE)
    return {
        "page": page,
        "status": status,
        "statuses": STATUSES,
        "params": urlencode([("status", status)] if status else []),
        "ingested": None,
        "ingest_error": None,
        "documents": None,
        "documents_error": None,
        "retention": None,
    }


def _page(request: Request, user: WebUser, status: int = 200, **values: Any) -> HTMLResponse:
    out = _list_values(request)
    out.update(values)
    return render(request, "travel/index.html", out, user=user, status=status)


@router.get("/ui/travel")
def messages(request: Request, user: Annotated[WebUser, Depends(web_require("travel:read"))]) -> HTMLResponse:
    """The messages received, newest first (flights and counts: no personal data)."""
    return _page(request, user)


async def _uploaded(request: Request) -> tuple[bytes | None, str, str | None]:
    """(the uploaded file's bytes, its client name made safe, an error code)."""
    try:
        upload, _form = await receive_form_upload(request)
    except BodyTooLarge:
        return None, "", "too-large"
    if upload is None:
        return None, "", "file-required"
    try:
        data = await run_in_threadpool(upload.path.read_bytes)
    finally:
        upload.remove()
    return data, upload.filename, None


@router.post("/ui/travel/messages")
async def upload_message(request: Request, user: Annotated[WebUser, Depends(web_require("travel:ingest"))]) -> HTMLResponse:
    """An EDIFACT interchange (PAXLST or PNRGOV) from the upload form, taken in as the API takes
    it: stored and screened (its hits become alerts), or quarantined with the error."""
    data, filename, error = await _uploaded(request)
    if data is None:
        return _page(request, user, status=413 if error == "too-large" else 422, ingest_error={"code": error})
    service = request.app.state.service
    try:
        result = await run_in_threadpool(lambda: travel.ingest(service, data, actor=user.name, source=f"web:{filename}"))
    except travel.TravelError as exc:
        return _page(request, user, status=422, ingest_error={"code": "refused", "message": str(exc)})
    status = 422 if result.status == travel.QUARANTINED and not result.duplicate else 200
    return _page(request, user, status=status, ingested={**result.as_dict(), "filename": filename})


@router.post("/ui/travel/documents")
async def upload_documents(request: Request, user: Annotated[WebUser, Depends(web_require("travel:admin"))]) -> HTMLResponse:
    """The lost and stolen travel documents CSV, as the new version of the list: a file that does
    not read leaves the previous version live (the error names the row)."""
    data, filename, error = await _uploaded(request)
    if data is None:
        return _page(request, user, status=413 if error == "too-large" else 422, documents_error={"code": error})
    service = request.app.state.service
    try:
        result = await run_in_threadpool(lambda: travel.import_documents(service, data, actor=user.name, source=f"web:{filename}"))
    except travel.lostdocs.DocumentListError as exc:
        return _page(request, user, status=422, documents_error={"code": "invalid", "message": str(exc), "row": exc.row, "field": exc.field})
    except UnicodeDecodeError:
        return _page(request, user, status=422, documents_error={"code": "encoding"})
    return _page(request, user, documents={**result, "filename": filename})


@router.post("/ui/travel/retention")
def retention(request: Request, user: Annotated[WebUser, Depends(web_require("travel:admin"))]) -> HTMLResponse:
    """Apply the passenger-data rules now (as the API's `POST /travel/retention`): depersonalise
    and delete what is due; the page shows the counts."""
    result = travel.apply_retention(request.app.state.service, actor=user.name)
    return _page(request, user, retention=result)


def _message(request: Request, user: WebUser, message_id: int) -> dict[str, Any]:
    try:
        return travel.get_message(request.app.state.service, message_id, actor=user.name, purpose=user.purpose)
    except travel.TravelNotFound:
        raise HTTPException(404, detail=f"No such travel message: {message_id}") from None
    except travel.TravelError as exc:
        raise HTTPException(422, detail=str(exc)) from None


def _own_requests(request: Request, user: WebUser, message: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """traveller id -> the user's latest re-personalisation request for that traveller of `message`."""
    masked = {t["id"] for t in message.get("traveller_list") or [] if t.get("masked")}
    if not masked:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for r in travel.list_requests(request.app.state.service, status=None):
        if r["traveller_id"] in masked and r["requested_by"] == user.name:
            out[r["traveller_id"]] = r  # in id order: the latest wins
    return out


def _message_page(request: Request, user: WebUser, message_id: int, status: int = 200, **values: Any) -> HTMLResponse:
    found = _message(request, user, message_id)
    q = request.query_params
    out: dict[str, Any] = {
        "message": found,
        "requests": _own_requests(request, user, found),
        "hold_done": q.get("hold") if q.get("hold") in ("set", "released") else None,
        "hold_error": None,
        "case": found.get("hold") or "",
        "asked": None,
        "ask_error": None,
    }
    out.update(values)
    return render(request, "travel/message.html", out, user=user, status=status)


@router.get("/ui/travel/messages/{message_id}")
def message(request: Request, user: Annotated[WebUser, Depends(web_require("travel:read", personal_data=True))], message_id: MessageId) -> HTMLResponse:
    """One message: its flights and travellers (the view is audited with the session's purpose),
    the case hold, and for a masked traveller the form to ask to see them in clear."""
    return _message_page(request, user, message_id)


@router.post("/ui/travel/messages/{message_id}/hold")
def hold(
    request: Request,
    user: Annotated[WebUser, Depends(web_require("travel:admin", personal_data=True))],
    message_id: MessageId,
    case: Annotated[str, Form(max_length=MAX_CASE_CHARS * 10)] = "",
    release: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A case holds the message past its deletion date (`case`), or the hold is released
    (`release`), as the API's `PUT /travel/messages/{id}/hold`. Back to the message page."""
    case = "" if release else case.strip()
    if len(case) > MAX_CASE_CHARS:
        return _message_page(request, user, message_id, status=422, hold_error={"kind": "case", "message": f"at most {MAX_CASE_CHARS} characters"}, case=case)
    if not release and not case:
        return _message_page(request, user, message_id, status=422, hold_error={"kind": "case-required", "message": ""}, case="")
    try:
        travel.set_hold(request.app.state.service, message_id, actor=user.name, case=case or None)
    except travel.TravelNotFound:
        raise HTTPException(404, detail=f"No such travel message: {message_id}") from None
    return RedirectResponse(f"/ui/travel/messages/{message_id}?hold={'set' if case else 'released'}#hold", status_code=303)


def _message_of(request: Request, traveller_id: int) -> int | None:
    found = travel.traveller_places(request.app.state.service, [traveller_id]).get(traveller_id)
    return found["message_id"] if found is not None else None


@router.post("/ui/travel/travellers/{traveller_id}/repersonalisation")
def ask_repersonalisation(
    request: Request,
    user: Annotated[WebUser, Depends(web_require("travel:read", personal_data=True))],
    traveller_id: Id,
    reason: Annotated[str, Form(max_length=MAX_REASON_CHARS * 4)] = "",
) -> Response:
    """Ask to see a depersonalised traveller in clear, with a reason (as the API's `POST
    /travel/travellers/{id}/repersonalisation`): a supervisor other than the requester decides.
    Success: the requests list, naming the request; a refusal: the message page, the error at
    the traveller's form, with the API's status code."""
    error: Exception | None = None
    if len(reason.strip()) > MAX_REASON_CHARS:
        error = travel.TravelError(f"the reason is at most {MAX_REASON_CHARS} characters", field="reason")
    else:
        try:
            made = travel.request_repersonalisation(request.app.state.service, traveller_id, actor=user.name, reason=reason)
        except (travel.TravelError, travel.TravelNotFound) as exc:
            error = exc
    if error is not None:
        message_id = _message_of(request, traveller_id)
        if message_id is None:
            raise HTTPException(_error_status(error), detail=str(error))
        return _message_page(request, user, message_id, status=_error_status(error), ask_error=_error(error, traveller=traveller_id, reason=reason))
    return RedirectResponse(f"/ui/travel/repersonalisations?requested={made['id']}", status_code=303)


def _requests_values(request: Request, user: WebUser, status: str | None = None) -> dict[str, Any]:
    q = request.query_params
    chosen = status if status is not None else q.get("status", "pending")
    chosen = chosen if chosen in REQUEST_STATUSES else "pending"
    service = request.app.state.service
    items = travel.list_requests(service, status=None if chosen == "all" else chosen)
    travellers = travel.traveller_places(service, [r["traveller_id"] for r in items])
    decided = q.get("decided", "")
    to = q.get("to", "")
    requested = q.get("requested", "")
    return {
        "items": items,
        "travellers": travellers,
        "status": chosen,
        "statuses": REQUEST_STATUSES,
        "may_decide": user.allows("travel:approve"),
        "decided": {"id": int(decided), "to": to} if decided.isdigit() and to in ("approved", "refused") else None,
        "requested": int(requested) if requested.isdigit() else None,
        "error": None,
        "form": {"request": None, "reason": ""},
    }


@router.get("/ui/travel/repersonalisations")
def requests_list(request: Request, user: Annotated[WebUser, Depends(web_require("travel:read"))]) -> HTMLResponse:
    """The re-personalisation requests (pending by default; a status filter): a supervisor
    decides others' requests; the requester of an approved one opens the traveller in clear."""
    return render(request, "travel/requests.html", _requests_values(request, user), user=user)


@router.post("/ui/travel/repersonalisations/{request_id}/decision")
def decide(
    request: Request,
    user: Annotated[WebUser, Depends(web_require("travel:approve"))],
    request_id: Id,
    decision: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=MAX_REASON_CHARS * 4)] = "",
    status: Annotated[str, Form(max_length=16)] = "pending",
) -> Response:
    """A supervisor other than the requester approves or refuses (as the API's `POST
    /travel/repersonalisations/{id}/decision`). Success: the list, naming the request and its new
    status; a refusal: the list again, the service's error at the form, the API's status code."""
    error: Exception | None = None
    if decision not in ("approve", "refuse"):
        error = travel.TravelError("choose approve or refuse", field="approve")
    elif len(reason.strip()) > MAX_REASON_CHARS:
        error = travel.TravelError(f"the reason is at most {MAX_REASON_CHARS} characters", field="reason")
    else:
        try:
            result = travel.decide_repersonalisation(request.app.state.service, request_id, actor=user.name, approve=decision == "approve", reason=reason)
        except (travel.TravelError, travel.TravelNotFound) as exc:
            error = exc
    if error is not None:
        values = _requests_values(request, user, status=status if status in REQUEST_STATUSES else "pending")
        values["error"] = _error(error, request=request_id)
        values["form"] = {"request": request_id, "reason": reason}
        return render(request, "travel/requests.html", values, user=user, status=_error_status(error))
    query = urlencode({"decided": request_id, "to": result.get("status", "")})
    return RedirectResponse(f"/ui/travel/repersonalisations?{query}", status_code=303)


@router.get("/ui/travel/repersonalisations/{request_id}")
def repersonalised(request: Request, user: Annotated[WebUser, Depends(web_require("travel:read", personal_data=True))], request_id: Id) -> HTMLResponse:
    """The traveller of an approved request in clear, for its requester until the approval
    expires (as the API's `GET /travel/repersonalisations/{id}/traveller`; audited
    "travel.repersonalise.view" with the session's purpose). Never cached."""
    try:
        clear = travel.repersonalised(request.app.state.service, request_id, actor=user.name, purpose=user.purpose)
    except (travel.TravelError, travel.TravelNotFound) as exc:
        raise HTTPException(_error_status(exc), detail=str(exc)) from None
    approved = next((r for r in travel.list_requests(request.app.state.service, status="approved") if r["id"] == request_id), None)
    return render(request, "travel/repersonalised.html", {"t": clear, "req": approved}, user=user, headers={"Cache-Control": "no-store"})


@router.get("/ui/travel/messages/{message_id}/travellers.csv")
def export(request: Request, user: Annotated[WebUser, Depends(web_require("travel:read", personal_data=True))], message_id: MessageId) -> Response:
    """The message's travellers as CSV (masked alike; the export is audited with the purpose)."""
    try:
        text = travel.export_travellers(request.app.state.service, message_id, actor=user.name, purpose=user.purpose)
    except travel.TravelNotFound:
        raise HTTPException(404, detail=f"No such travel message: {message_id}") from None
    except travel.TravelError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    headers = {"Content-Disposition": f'attachment; filename="travellers-{message_id}.csv"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
