"""Batch screening: upload a CSV or XLSX file of names (the columns `qalqan screen` reads), get
its results as CSV and XLSX.

Screening a file is the CLI's `qalqan.batch.screen_file`, run here as a background job (the
API's `JobRunner`, kind "batch-screen") over the live `service.screener`, in this process (one
worker: no fork from a threaded server). Its XLSX output is written by `screen_file` itself; the
CSV is the same table rows in `qalqan.batch`'s CSV rendering, teed off as each chunk is screened
(one screening, two files), and the chunk count drives the job's progress.

The upload is saved under the app's upload directory (`api.uploads.UploadDir`, in the data
directory), in a folder of its own that also receives the two result files; the input is removed
when the job ends, the results stay until the server stops (the upload directory is this
process's and is swept at the next start). Messages never show a server path: the job runner
replaces the upload's path by its file name. Only the user who started a job, or a supervisor,
sees it and downloads its results; each start and each download is recorded in the audit log
with the purpose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from qalqan import batch
from qalqan.api.jobs import DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, Progress
from qalqan.api.uploads import BodyTooLarge, UploadDir
from qalqan.matching.screener import Screener
from qalqan.sources.queries import QUERY_COLUMNS, read_records
from qalqan.store.tables import Job
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import is_htmx, render
from qalqan.web.uploads import copy_upload

router = APIRouter(include_in_schema=False)

KIND = "batch-screen"
RESULTS = {"csv": "results.csv", "xlsx": "results.xlsx"}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: Rows per screened chunk: small enough that the progress bar moves on a file of a few hundred.
CHUNK = 100
#: Candidates reported per input row (the CLI's default).
TOP = batch.DEFAULT_TOP
#: Problem rows (errors, warnings) kept on the job to show; the counts are complete.
SHOWN_PROBLEMS = 10
#: Batch jobs listed on the page.
JOBS_SHOWN = 20
_FOLDER = re.compile(r"^[0-9a-f]{16}$")
_COL = {name: i for i, name in enumerate(batch.TABLE_COLUMNS)}


@dataclass
class _Recorder:
    """An `Engine` for `screen_file`: screens in this process (`LocalEngine(1)`), and as each
    chunk comes back writes its rows as CSV, counts the records with warnings, keeps the first
    problem rows, and reports progress."""

    progress: Callable[..., None]
    total: int
    csv_out: Any
    records: int = 0
    warned: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @contextmanager
    def open(self, screener: Screener, settings: batch.Settings) -> Iterator[batch.Run]:
        with batch.LocalEngine(1).open(screener, settings) as run:

            def recorded(chunks: Iterator[list[Any]]) -> Iterator[tuple[int, batch.Rendered]]:
                done = 0
                for n, rendered in run(chunks):
                    rows = rendered[0]
                    assert isinstance(rows, list)
                    self._record(rows)
                    done += n
                    self.progress(done, max(self.total, done))
                    yield n, rendered

            yield recorded

    def _record(self, rows: list[list[Any]]) -> None:
        self.csv_out.write(batch._csv_bytes(rows))  # the CLI's CSV rendering of the same rows
        for row in rows:
            if row[_COL["rank"]] not in (None, 1):
                continue  # a record's further matches repeat its warnings
            self.records += 1
            error, warnings = row[_COL["error"]], row[_COL["warnings"]]
            if warnings:
                self.warned += 1
            for kind, message in (("error", error), ("warning", warnings)):
                if message and len(self.problems) < SHOWN_PROBLEMS:
                    self.problems.append({"record": self.records, "id": row[_COL["input_id"]], "kind": kind, "message": str(message)})


def _work(screener: Screener, path: Path, threshold: float | None, filename: str) -> Callable[[Progress], dict[str, Any]]:
    def work(progress: Progress) -> dict[str, Any]:
        notices: list[str] = []
        progress("reading", 0, None)
        total = sum(1 for _ in read_records(path, notices.append))  # also checks the columns (ListError)
        progress("screening", 0, total)
        folder = path.parent
        with (folder / RESULTS["csv"]).open("wb") as csv_out:
            csv_out.write("\ufeff".encode() + batch._csv_bytes([batch.TABLE_COLUMNS]))  # BOM: Excel reads UTF-8
            recorder = _Recorder(progress, total, csv_out)
            stats = batch.screen_file(screener, path, folder / RESULTS["xlsx"], threshold=threshold, top=TOP, workers=1, chunk=CHUNK,
                                      progress=False, fmt="xlsx", engine=recorder)
        return {
            "file": filename, "folder": folder.name, "done": stats.rows, "total": stats.rows, "rows": stats.rows, "alerted": stats.alerted,
            "errors": stats.errors, "warned": recorder.warned, "problems": recorder.problems, "notices": notices,
            "threshold": screener.threshold if threshold is None else threshold, "seconds": round(stats.seconds, 1),
        }

    return work


# --- reading the form -------------------------------------------------------------------------


def _threshold(text: str, errors: dict[str, str]) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        errors["threshold"] = "threshold-range"
        return None
    return value


async def _save(uploads: UploadDir, file: UploadFile) -> tuple[Path, str, int, str]:
    """The uploaded file copied into a folder of its own under the upload directory: (path, the
    client's file name made safe, size, SHA-256)."""
    upload, digest = await copy_upload(uploads, file)
    return upload.path, upload.filename, upload.size, digest


def _remove_folder(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


# --- jobs -------------------------------------------------------------------------------------


def _may_see(user: WebUser, job: dict[str, Any]) -> bool:
    """The user who started a batch, or a supervisor (who sees every job)."""
    return job["created_by"] == user.name or user.allows("jobs:read")


def _job(request: Request, user: WebUser, job_id: str) -> dict[str, Any]:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise HTTPException(404, detail="Not found")
    with request.app.state.service.db.session() as s:
        row = s.get(Job, job_id)
        if row is None or row.kind != KIND:
            raise HTTPException(404, detail="Not found")
        job = request.app.state.jobs.job(row)
    if not _may_see(user, job):
        raise HTTPException(403, detail="forbidden")
    return _shown(request, job)


def _shown(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    """The job as the page shows it: whether it still runs, and which result files exist."""
    result = job.get("result") or {}
    folder = str(result.get("folder") or "")
    job["running"] = job["status"] in (QUEUED, RUNNING)
    job["files"] = {}
    if job["status"] == DONE and _FOLDER.match(folder):
        base = request.app.state.uploads.path / folder
        job["files"] = {fmt: (base / name).is_file() for fmt, name in RESULTS.items()}
    job["expired"] = job["status"] == DONE and not any(job["files"].values())
    return job


def _jobs(request: Request, user: WebUser) -> list[dict[str, Any]]:
    runner = request.app.state.jobs
    query = select(Job).where(Job.kind == KIND)
    if not user.allows("jobs:read"):
        query = query.where(Job.created_by == user.name)
    with request.app.state.service.db.session() as s:
        rows = s.execute(query.order_by(Job.created_at.desc(), Job.id).limit(JOBS_SHOWN)).scalars().all()
        return [_shown(request, runner.job(j)) for j in rows]


def _page_values(request: Request, user: WebUser, form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "form": form, "errors": errors, "jobs": _jobs(request, user), "columns": QUERY_COLUMNS, "top": TOP,
        "threshold": request.app.state.service.screener.threshold, "statuses": {"done": DONE, "failed": FAILED, "interrupted": INTERRUPTED},
    }


# --- routes -----------------------------------------------------------------------------------


@router.get("/ui/batch")
def batch_page(request: Request, user: Annotated[WebUser, Depends(web_require("screen"))]) -> HTMLResponse:
    form = {"purpose": user.purpose, "threshold": ""}
    return render(request, "batch/page.html", _page_values(request, user, form, {}), user=user)


@router.post("/ui/batch")
async def upload(request: Request, user: Annotated[WebUser, Depends(web_require("screen"))]) -> Response:
    """Start screening the uploaded file (a multipart form: `file`, `purpose`, `threshold`).
    An htmx request gets the page's upload area back (the new job first, polled while it runs);
    a plain form post is sent to the job's page."""
    errors: dict[str, str] = {}
    try:
        data = await request.form(max_files=1, max_fields=10)
    except BodyTooLarge as exc:
        form = {"purpose": user.purpose, "threshold": ""}
        return _area(request, user, form, {"file": f"too-large:{exc.limit}"}, status=413)
    purpose = str(data.get("purpose") or "").strip()[:1000]
    form = {"purpose": purpose, "threshold": str(data.get("threshold") or "").strip()[:20]}
    threshold = _threshold(form["threshold"], errors)
    if not purpose:
        errors["purpose"] = "purpose-required"
    file = data.get("file")
    if not isinstance(file, UploadFile) or not (file.filename or "").strip():
        errors["file"] = "file-required"
    if errors:
        return _area(request, user, form, errors, status=422)
    assert isinstance(file, UploadFile)
    uploads: UploadDir = request.app.state.uploads
    path, filename, size, digest = await _save(uploads, file)
    if size == 0:
        _remove_folder(path.parent)
        return _area(request, user, form, {"file": "file-empty"}, status=422)
    service = request.app.state.service
    with service.transaction() as session:
        service.audit(session, actor=user.name, action="screen", target=f"batch:{filename}", purpose=purpose, input_hash=digest,
                      detail={"file": filename, "bytes": size, "threshold": threshold})
    runner = request.app.state.jobs
    redactions = {str(path): filename, str(path.resolve()): filename}
    job_id = runner.start(KIND, user.name, _work(service.screener, path, threshold, filename), cleanup=lambda: path.unlink(missing_ok=True),
                          redactions=redactions)
    if is_htmx(request):
        return _area(request, user, {"purpose": purpose, "threshold": form["threshold"]}, {}, started=job_id)
    return RedirectResponse(f"/ui/batch/{job_id}", status_code=303)


def _area(request: Request, user: WebUser, form: dict[str, str], errors: dict[str, str], *, status: int = 200, started: str | None = None) -> HTMLResponse:
    values = {**_page_values(request, user, form, errors), "started": started}
    if is_htmx(request):
        # htmx swaps only 2xx answers: the errors come back as a 200 with the form marked.
        return render(request, "batch/_area.html", values, user=user)
    return render(request, "batch/page.html", values, user=user, status=status)


JobId = Annotated[str, PathParam(max_length=64)]


@router.get("/ui/batch/{job_id}")
def job_page(request: Request, user: Annotated[WebUser, Depends(web_require("screen"))], job_id: JobId) -> HTMLResponse:
    """One batch job: its progress (an htmx request gets the row only, polled while it runs)."""
    job = _job(request, user, job_id)
    if is_htmx(request):
        return render(request, "batch/_job.html", {"job": job}, user=user)
    return render(request, "batch/job.html", {"job": job}, user=user)


@router.get("/ui/batch/{job_id}/results.{fmt}")
def results(request: Request, user: Annotated[WebUser, Depends(web_require("screen", personal_data=True))], job_id: JobId, fmt: str) -> Response:
    """A finished job's results as an attachment (CSV or XLSX): personal data, so the session
    states its purpose first, and the download is audited with it."""
    if fmt not in RESULTS:
        raise HTTPException(404, detail="Not found")
    job = _job(request, user, job_id)
    if not job["files"].get(fmt):
        raise HTTPException(404, detail="Not found")
    result = job["result"]
    path = request.app.state.uploads.path / str(result["folder"]) / RESULTS[fmt]
    stem = Path(str(result.get("file") or "batch")).stem or "batch"
    service = request.app.state.service
    with service.transaction() as session:
        service.audit(session, actor=user.name, action="screen.results", target=f"batch:{job_id}", purpose=user.purpose,
                      detail={"file": result.get("file"), "format": fmt, "started_by": job["created_by"]})
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=f"{stem}-results.{fmt}", content_disposition_type="attachment")
