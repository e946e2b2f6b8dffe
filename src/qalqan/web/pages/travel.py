"""The travel pages: the API and PNR messages received (stored or quarantined, with the error, its
segment and position), one message's flights and travellers (audited, with the session's
purpose; depersonalised travellers shown masked), the travellers' CSV export, the upload of an
EDIFACT message, and, for supervisors, the upload of the lost and stolen documents list.

The pages call the service functions the JSON API calls (`api/travel.py`): `travel.list_messages`,
`get_message`, `export_travellers`, `ingest` and `import_documents`. A traveller's hit is an alert
in the alert queue (`pages/alerts.py` shows it with the flight).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

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


def _message(request: Request, user: WebUser, message_id: int) -> dict[str, Any]:
    try:
        return travel.get_message(request.app.state.service, message_id, actor=user.name, purpose=user.purpose)
    except travel.TravelNotFound:
        raise HTTPException(404, detail=f"No such travel message: {message_id}") from None
    except travel.TravelError as exc:
        raise HTTPException(422, detail=str(exc)) from None


@router.get("/ui/travel/messages/{message_id}")
def message(request: Request, user: Annotated[WebUser, Depends(web_require("travel:read", personal_data=True))], message_id: MessageId) -> HTMLResponse:
    """One message: its flights and travellers (the view is audited with the session's purpose)."""
    return render(request, "travel/message.html", {"message": _message(request, user, message_id)}, user=user)


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
