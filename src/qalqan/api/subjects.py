"""The watched population: subjects one by one, and bulk imports as background jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator

from qalqan.api.jobs import started
from qalqan.api.models import (
    DEFAULT_PAGE,
    ErrorResponse,
    JobStarted,
    Limit,
    Offset,
    Page,
    SubjectCreate,
    SubjectIn,
)
from qalqan.api.security import optional_purpose, require, stated_purpose
from qalqan.api.uploads import Upload, receive_upload
from qalqan.model import ListError
from qalqan.model.identifiers import check_identifier, check_text
from qalqan.service.roles import Principal

router = APIRouter(tags=["Subjects"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})



def _subject_id(value: str) -> str:
    return check_identifier(value, "subject id")


def _reason(value: str) -> str:
    return check_text(value, "reason")


ExternalId = Annotated[str, Path(description="The client's own system id", max_length=200), AfterValidator(_subject_id)]


def _record(body: SubjectIn) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump(by_alias=True).items() if v is not None}


def _rejected(errors: list[dict[str, Any]]) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["body", e.get("field") or "body"], "msg": e.get("message", "invalid"), "type": "value_error"} for e in errors])


@router.get("/subjects", summary="The watched population, in the order added", response_model=Page)
def list_subjects(
    principal: Annotated[Principal, Depends(require("subjects:read"))],
    request: Request,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
    removed: Annotated[bool, Query(description="Include removed subjects (their data is erased)")] = False,
) -> Page:
    from qalqan.service import subjects

    page = subjects.list_subjects(request.app.state.service, offset=offset, limit=limit, include_removed=removed)
    return Page(total=page.total, offset=page.offset, limit=page.limit, items=page.items)


@router.post("/subjects", status_code=201, summary="Add (or replace) one subject; screened at once against the live lists", responses={422: {"model": ErrorResponse}})
def add_subject(
    principal: Annotated[Principal, Depends(require("subjects:write"))],
    purpose: Annotated[str, Depends(optional_purpose)],
    request: Request,
    body: SubjectCreate,
) -> dict[str, Any]:
    from qalqan.service import subjects

    result = subjects.add_subjects(request.app.state.service, [_record(body)], actor=principal.user, purpose=purpose)
    if result.errors:
        raise _rejected(result.errors)
    return {"id": body.id, **result.as_dict()}


@router.get("/subjects/{external_id}", summary="A subject and its alerts (the view is audited)", responses={404: {"model": ErrorResponse}})
def get_subject(
    principal: Annotated[Principal, Depends(require("subjects:read"))],
    purpose: Annotated[str, Depends(stated_purpose)],
    request: Request,
    external_id: ExternalId,
) -> dict[str, Any]:
    from qalqan.service import subjects

    found = subjects.get_subject(request.app.state.service, external_id, actor=principal.user, purpose=purpose)
    if found is None:
        raise HTTPException(404, detail=f"No such subject: {external_id!r}")
    return found


@router.put("/subjects/{external_id}", summary="Replace a subject's data (screened again if it changed)", responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
def update_subject(
    principal: Annotated[Principal, Depends(require("subjects:write"))],
    purpose: Annotated[str, Depends(optional_purpose)],
    request: Request,
    external_id: ExternalId,
    body: SubjectIn,
) -> dict[str, Any]:
    from qalqan.service import subjects

    try:
        return subjects.update_subject(request.app.state.service, external_id, _record(body), actor=principal.user, purpose=purpose)
    except subjects.SubjectNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except subjects.SubjectError as exc:
        raise HTTPException(422, detail=[{"loc": ["body", exc.field or "body"], "msg": str(exc), "type": "value_error"}]) from None


@router.delete("/subjects/{external_id}", summary="Remove a subject: its data is erased, its open alerts closed", responses={404: {"model": ErrorResponse}})
def remove_subject(
    principal: Annotated[Principal, Depends(require("subjects:write"))],
    request: Request,
    external_id: ExternalId,
    reason: Annotated[str, Query(min_length=1, max_length=10_000, description="Why (recorded with the closed alerts and in the audit log)"), AfterValidator(_reason)],
) -> dict[str, Any]:
    from qalqan.service import subjects

    try:
        removed = subjects.remove_subject(request.app.state.service, external_id, actor=principal.user, reason=reason)
    except subjects.SubjectError as exc:
        raise HTTPException(422, detail=[{"loc": ["query", exc.field or "reason"], "msg": str(exc), "type": "value_error"}]) from None
    if not removed:
        raise HTTPException(404, detail=f"No such subject: {external_id!r}")
    return {"id": external_id, "removed": True}


def _count_records(upload: Upload) -> int:
    """Records in an upload, for the job's progress: non-blank lines, less a CSV's header."""
    from qalqan.sources.queries import detect_input_format, read_records

    # Reading the header now reports a file with unknown columns before the job starts.
    next(iter(read_records(upload.path)), None)
    lines = 0
    with open(upload.path, "rb") as fh:
        for line in fh:
            if line.strip():
                lines += 1
    return max(0, lines - 1) if detect_input_format(upload.path) == "csv" else lines


@router.post(
    "/subjects/import",
    status_code=202,
    summary="Bulk import of a CSV or JSON-lines file of subjects, in the background",
    response_model=JobStarted,
    responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def import_subjects(
    principal: Annotated[Principal, Depends(require("subjects:write"))],
    purpose: Annotated[str, Depends(optional_purpose)],
    request: Request,
) -> dict[str, str]:
    """The screening-input schema plus the client's id on every row: columns
    `id,schema,name,birth_date,nationality,gender,document_number` (CSV with a header, or one JSON
    object per line). Send the file as the body (`curl --data-binary @people.csv`). Rows are upserted by id and screened on arrival; bad rows are
    reported in the job's result by row and field. Follow the job at /jobs/{id}."""
    from qalqan.service import subjects

    upload = await receive_upload(request)
    try:
        total = await run_in_threadpool(_count_records, upload)
    except ListError as exc:
        upload.remove()
        message = request.app.state.jobs.redact(str(exc), upload.redactions)
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": message, "type": "value_error"}]) from None
    except BaseException:
        upload.remove()
        raise
    service = request.app.state.service

    def work(progress: Any) -> dict[str, Any]:
        result = subjects.import_subjects_file(service, upload.path, actor=principal.user, purpose=purpose, progress=lambda done: progress(done, total)).as_dict()
        return {**result, "done": result["rows"], "total": result["rows"]}

    jobs = request.app.state.jobs
    job = await run_in_threadpool(lambda: jobs.start("subjects.import", principal.user, work, cleanup=upload.remove, total=total, redactions=upload.redactions))
    return started(job)
