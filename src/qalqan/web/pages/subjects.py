"""The watched population: the list (search, pages, removed ones), one subject (an audited view
with the session's purpose, its alerts), the add / edit form, removal with a reason, the bulk
upload (a background job, as `POST /subjects/import`), and the CSV export.

The pages call the service functions the JSON API calls (`service.subjects.list_subjects`,
`get_subject`, `add_subjects`, `update_subject`, `remove_subject`, `import_subjects_file`) and
map their errors as `api.subjects` does; the search is `list_subjects(search=...)`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from qalqan.api.uploads import Upload
from qalqan.model import ListError
from qalqan.model.identifiers import check_identifier
from qalqan.service import subjects
from qalqan.service.common import PAGE_MAX
from qalqan.sources.queries import VESSEL_COLUMNS
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import is_htmx, render
from qalqan.web.uploads import receive_form_upload

router = APIRouter(include_in_schema=False)

#: Subjects per page of the list.
PAGE_SIZE = 50
SEARCH_SCAN = 0  # kept for the template: the service searches in SQL, nothing is cut short
MAX_QUERY_CHARS = 200
#: The schemata the form offers (the screening-input schema accepts these and LegalEntity).
SCHEMATA: tuple[str, ...] = ("Person", "Organization", "Vessel", "LegalEntity")
GENDERS: tuple[str, ...] = ("male", "female", "other")
#: The form's fields, in the record format's order (`sources.queries.QUERY_COLUMNS`, less id).
FIELDS: tuple[str, ...] = ("schema", "name", "birth_date", "nationality", "gender", "document_number", *VESSEL_COLUMNS)
#: Longest text a form field takes (the service checks the real limits and names the field).
MAX_FIELD_CHARS = 2000
#: The CSV export's columns: the screening-input format (so an export imports again as it is),
#: then when and by whom each subject was added and last changed.
EXPORT_COLUMNS: tuple[str, ...] = ("id", *FIELDS, "created_at", "updated_at", "created_by")
JOB_KIND = "subjects.import"

SubjectId = Annotated[str, Path(max_length=200)]


def _checked_id(value: str) -> str:
    try:
        return check_identifier(value, "subject id")
    except ValueError:
        raise HTTPException(404, detail="No such subject") from None


def _int(value: str | None, default: int = 0) -> int:
    try:
        return max(0, min(int(value or default), 10**9))
    except ValueError:
        return default


# --- the list ----------------------------------------------------------------------------------


def _search(service: Any, query: str, include_removed: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    """Subjects whose id or name contains `query`, one page of them, and their total (the
    service searches in SQL; the third value, "the scan stopped early", is always False)."""
    page = subjects.list_subjects(service, offset=offset, limit=limit, include_removed=include_removed, search=query)
    return list(page.items), page.total, False


@router.get("/ui/subjects")
def subject_list(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:read"))]) -> HTMLResponse:
    """The watched population in the order added; `q` searches ids and names, `removed=1`
    includes removed subjects (their data is erased: id only)."""
    params = request.query_params
    query = (params.get("q") or "").strip()[:MAX_QUERY_CHARS]
    removed = params.get("removed") in ("1", "on", "true")
    offset = _int(params.get("offset"))
    limit = max(1, min(_int(params.get("limit"), PAGE_SIZE) or PAGE_SIZE, PAGE_MAX))
    service = request.app.state.service
    truncated = False
    if query:
        items, total, truncated = _search(service, query, removed, offset, limit)
    else:
        page = subjects.list_subjects(service, offset=offset, limit=limit, include_removed=removed)
        items, total = page.items, page.total
    pairs = [(k, v) for k, v in (("q", query), ("removed", "1" if removed else ""), ("limit", str(limit) if limit != PAGE_SIZE else "")) if v]
    values = {
        "items": items, "query": query, "removed": removed, "truncated": truncated, "scan": SEARCH_SCAN,
        "page": {"total": total, "offset": offset, "limit": limit}, "params": urlencode(pairs),
    }
    return render(request, "subjects/list.html", values, user=user)


# --- the export --------------------------------------------------------------------------------


def _export_rows(service: Any) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + flush()  # a byte-order mark: spreadsheet programs then read UTF-8
    at = 0
    while True:
        page = subjects.list_subjects(service, offset=at, limit=PAGE_MAX, with_data=True)
        for item in page.items:
            data = item.get("data") or {}
            row = {**{k: v for k, v in data.items() if k != "id"}, **{k: item.get(k) for k in ("id", "schema", "created_at", "updated_at", "created_by")}}
            row.setdefault("name", item.get("caption", ""))
            writer.writerow([_cell(row.get(c)) for c in EXPORT_COLUMNS])
        yield flush()
        at += len(page.items)
        if not page.items or at >= page.total:
            break


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet program will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/ui/subjects/export")
def export(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:read", personal_data=True))]) -> Response:
    """The watched population (active subjects) as CSV: id, schema, name and when it was added;
    the export is audited ("subjects.export") with the session's purpose."""
    service = request.app.state.service
    total = subjects.list_subjects(service, limit=1).total
    with service.transaction() as s:
        service.audit(s, actor=user.name, action="subjects.export", target="subjects", purpose=user.purpose,
                      detail={"subjects": total, "columns": list(EXPORT_COLUMNS), "format": "csv"})
    stamp = service.clock.now().strftime("%Y%m%d-%H%M")
    headers = {"Content-Disposition": f'attachment; filename="subjects-{stamp}.csv"', "Cache-Control": "no-store"}
    return StreamingResponse(_export_rows(service), media_type="text/csv; charset=utf-8", headers=headers)


# --- the bulk upload ---------------------------------------------------------------------------


def _count_records(upload: Upload) -> int | None:
    """Records in an upload, for the job's progress (as `api.subjects._count_records`); None for
    a workbook, whose rows are known only once read."""
    from qalqan.api.subjects import _count_records as count
    from qalqan.sources.queries import read_records
    from qalqan.sources.xlsx import is_workbook

    if is_workbook(upload.path):
        next(iter(read_records(upload.path)), None)  # reports a bad header before the job starts
        return None
    return count(upload)


def load_job(request: Request, user: WebUser, job_id: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    """A job as `GET /jobs/{id}` shows it (404 for an unknown one or one of another kind)."""
    from qalqan.api.jobs import get_job

    try:
        job_id = check_identifier(job_id, "job id")
    except ValueError:
        raise HTTPException(404, detail="No such job") from None
    job: dict[str, Any] = get_job(user.principal, request, job_id)
    if job.get("kind") not in kinds:
        raise HTTPException(404, detail="No such job")
    return job


@router.get("/ui/subjects/import")
def import_page(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write"))]) -> HTMLResponse:
    return render(request, "subjects/import.html", {"error": None, "job": None}, user=user)


@router.post("/ui/subjects/import")
async def import_upload(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write"))]) -> Response:
    """A CSV, JSON-lines or XLSX file of subjects from the upload form (multipart, sent by htmx
    with its progress shown): run as a background job like `POST /subjects/import`."""
    upload, _form = await receive_form_upload(request)
    template = "subjects/_import_job.html" if is_htmx(request) else "subjects/import.html"
    if upload is None:
        return render(request, template, {"error": "Choose a file to upload.", "job": None}, user=user, status=422 if not is_htmx(request) else 200)
    jobs = request.app.state.jobs
    try:
        total = await run_in_threadpool(_count_records, upload)
    except ListError as exc:
        upload.remove()
        message = jobs.redact(str(exc), upload.redactions)
        return render(request, template, {"error": message, "job": None}, user=user, status=422 if not is_htmx(request) else 200)
    except BaseException:
        upload.remove()
        raise
    service = request.app.state.service
    actor, purpose = user.name, user.purpose

    def work(progress: Any) -> dict[str, Any]:
        result = subjects.import_subjects_file(service, upload.path, actor=actor, purpose=purpose, progress=lambda done: progress(done, total)).as_dict()
        return {**result, "done": result["rows"], "total": result["rows"]}

    job_id = await run_in_threadpool(lambda: jobs.start(JOB_KIND, actor, work, cleanup=upload.remove, total=total, redactions=upload.redactions))
    if not is_htmx(request):
        return RedirectResponse(f"/ui/subjects/jobs/{job_id}", status_code=303)
    job = load_job(request, user, job_id, (JOB_KIND,))
    return render(request, "subjects/_import_job.html", {"job": job, "error": None}, user=user)


@router.get("/ui/subjects/jobs/{job_id}")
def import_job(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write"))],
               job_id: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    """A bulk upload's progress (polled every 2 s while it runs), then its counts and the rows
    refused, by row number and field."""
    job = load_job(request, user, job_id, (JOB_KIND,))
    if is_htmx(request):
        return render(request, "subjects/_import_job.html", {"job": job, "error": None}, user=user)
    return render(request, "subjects/import.html", {"job": job, "error": None}, user=user)


# --- add and edit ------------------------------------------------------------------------------


def _form_record(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's values, as a subject record (blank fields left out)."""
    out: dict[str, str] = {}
    for key in FIELDS:
        value = form.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = value.strip()[:MAX_FIELD_CHARS]
    return out


def _form_values(request: Request, user: WebUser, *, mode: str, record: Mapping[str, Any], external_id: str = "",
                 errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"mode": mode, "record": dict(record), "external_id": external_id, "errors": dict(errors or {}),
            "schemata": SCHEMATA, "genders": GENDERS, "vessel_fields": VESSEL_COLUMNS}


@router.get("/ui/subjects/new")
def new_form(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write"))]) -> HTMLResponse:
    return render(request, "subjects/form.html", _form_values(request, user, mode="add", record={"schema": "Person"}), user=user)


def _saved(request: Request, user: WebUser, external_id: str, warnings: list[dict[str, Any]], what: str) -> Response:
    """After a save: the subject's page; with warnings (values left out), shown on it."""
    if not warnings:
        return RedirectResponse(f"/ui/subjects/{external_id}?saved={what}", status_code=303)
    return _view(request, user, external_id, saved=what, warnings=warnings)


@router.post("/ui/subjects/new")
async def add(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write", personal_data=True))]) -> Response:
    """Add (or replace, by id, as `POST /subjects` does) one subject; screened at once."""
    form = await request.form()
    raw_id = form.get("id")
    external_id = raw_id.strip()[:MAX_FIELD_CHARS] if isinstance(raw_id, str) else ""
    record = _form_record(form)
    errors: dict[str, str] = {}
    if not external_id:
        errors["id"] = "An id is required: the subject's id in your own system."
    if not record.get("name"):
        errors["name"] = "A name is required."
    if not errors:
        service = request.app.state.service
        result = await run_in_threadpool(lambda: subjects.add_subjects(service, [{"id": external_id, **record}], actor=user.name, purpose=user.purpose))
        for e in result.errors:
            errors[str(e.get("field") or "id")] = str(e.get("message") or "invalid")
        if not errors:
            return _saved(request, user, external_id, list(result.warnings), "added")
    values = _form_values(request, user, mode="add", record={"id": external_id, **record}, errors=errors)
    return render(request, "subjects/form.html", values, user=user, status=422)


@router.get("/ui/subjects/{external_id}/edit")
def edit_form(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write", personal_data=True))], external_id: SubjectId) -> HTMLResponse:
    """The edit form, filled with the subject's data (reading it is an audited view)."""
    external_id = _checked_id(external_id)
    found = subjects.get_subject(request.app.state.service, external_id, actor=user.name, purpose=user.purpose)
    if found is None or found.get("removed_at"):
        raise HTTPException(404, detail="No such subject")
    record = {k: v for k, v in found["data"].items() if k in FIELDS}
    return render(request, "subjects/form.html", _form_values(request, user, mode="edit", record=record, external_id=external_id), user=user)


@router.post("/ui/subjects/{external_id}/edit")
async def edit(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write", personal_data=True))], external_id: SubjectId) -> Response:
    """Replace a subject's data (screened again if it changed), as `PUT /subjects/{id}`."""
    external_id = _checked_id(external_id)
    form = await request.form()
    record = _form_record(form)
    errors: dict[str, str] = {}
    if not record.get("name"):
        errors["name"] = "A name is required."
    else:
        service = request.app.state.service
        try:
            result = await run_in_threadpool(lambda: subjects.update_subject(service, external_id, record, actor=user.name, purpose=user.purpose))
        except subjects.SubjectNotFound:
            raise HTTPException(404, detail="No such subject") from None
        except subjects.SubjectError as exc:
            errors[exc.field or "name"] = str(exc)
        else:
            return _saved(request, user, external_id, list(result.get("result", {}).get("warnings", [])), "updated")
    values = _form_values(request, user, mode="edit", record=record, external_id=external_id, errors=errors)
    return render(request, "subjects/form.html", values, user=user, status=422)


@router.post("/ui/subjects/{external_id}/remove")
def remove(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:write", personal_data=True))], external_id: SubjectId,
           reason: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    """Remove a subject (its data is erased, its open alerts closed), with a mandatory reason."""
    external_id = _checked_id(external_id)
    text = reason.strip()
    if not text:
        return _view(request, user, external_id, remove_error="A reason is required to remove a subject.", status=422)
    try:
        removed = subjects.remove_subject(request.app.state.service, external_id, actor=user.name, reason=text)
    except subjects.SubjectError as exc:
        return _view(request, user, external_id, remove_error=str(exc), reason=text, status=422)
    if not removed:
        raise HTTPException(404, detail="No such subject")
    return RedirectResponse(f"/ui/subjects/{external_id}?saved=removed", status_code=303)


# --- one subject -------------------------------------------------------------------------------


def _view(request: Request, user: WebUser, external_id: str, *, saved: str | None = None, warnings: list[dict[str, Any]] | None = None,
          remove_error: str | None = None, reason: str = "", status: int = 200) -> HTMLResponse:
    found = subjects.get_subject(request.app.state.service, external_id, actor=user.name, purpose=user.purpose)
    if found is None:
        raise HTTPException(404, detail="No such subject")
    data = found["data"]
    fields = [(key, data[key]) for key in FIELDS if key not in ("schema", "name") and data.get(key)]
    values = {"subject": found, "fields": fields, "saved": saved if saved in ("added", "updated", "removed") else None,
              "warnings": warnings or [], "remove_error": remove_error, "reason": reason}
    return render(request, "subjects/view.html", values, user=user, status=status)


@router.get("/ui/subjects/{external_id}")
def view(request: Request, user: Annotated[WebUser, Depends(web_require("subjects:read", personal_data=True))], external_id: SubjectId) -> HTMLResponse:
    """One subject: its data as written, and its alerts (the view is audited with the purpose)."""
    return _view(request, user, _checked_id(external_id), saved=request.query_params.get("saved"))
