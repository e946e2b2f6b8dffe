"""Background jobs (bulk subject imports, list imports and fetches): a row in table `jobs` with
status and progress, run on a small thread pool so the request that starts one returns at once.

`GET /jobs/{id}` shows a job's progress. A job's id is random (128 bits), so it is not guessable.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from sqlalchemy import func, select

from qalqan.api.models import DEFAULT_PAGE, MAX_PAGE, ErrorResponse, JobResponse, Page
from qalqan.api.security import require
from qalqan.model import ListError
from qalqan.service.auth import Principal
from qalqan.store.tables import Job

if TYPE_CHECKING:
    from qalqan.service.core import Qalqan

log = logging.getLogger("qalqan.api.jobs")

#: Jobs run at once: imports are CPU- and write-heavy; two keep a 2-core server answering.
JOB_WORKERS = 2
#: Errors a job reports to its caller verbatim: bad input, named by record and field.
USER_ERRORS = (ListError, ValueError, LookupError)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


class Progress:
    """Passed to a job's work: call it with (done, total) or (stage, done, total).

    Progress is kept in memory and shown by GET /jobs/{id} of this process; the row gets the
    final counts when the job ends. Writing it to the row as it goes would deadlock on SQLite:
    a list import calls back from inside its own write transaction, and SQLite has one writer.
    """

    def __init__(self, runner: JobRunner, job_id: str):
        self.runner, self.job_id = runner, job_id

    def __call__(self, *args: Any) -> None:
        stage: str | None = None
        if len(args) == 3:
            stage, done, total = args
        else:
            done, total = args[0], (args[1] if len(args) > 1 else None)
        with self.runner.lock:
            self.runner.progress[self.job_id] = (int(done), int(total) if total is not None else None, stage)


Work = Callable[[Progress], dict[str, Any]]


class JobRunner:
    def __init__(self, service: Qalqan):
        self.service = service
        self.executor = ThreadPoolExecutor(JOB_WORKERS, thread_name_prefix="qalqan-job")
        self.lock = threading.Lock()
        #: job id -> (done, total, stage) of the jobs running in this process
        self.progress: dict[str, tuple[int, int | None, str | None]] = {}

    def start(self, kind: str, actor: str, work: Work, *, cleanup: Callable[[], None] | None = None, total: int | None = None) -> str:
        """Record a queued job and run `work` in the background; returns the job id."""
        job_id = secrets.token_hex(16)
        with self.service.transaction() as s:
            s.add(Job(id=job_id, kind=kind, status=QUEUED, total=total, done=0, result={}, created_by=actor, created_at=_now()))
        try:
            self.executor.submit(self._run, job_id, work, cleanup)
        except RuntimeError:  # the executor is shut down (the server is stopping)
            self._finish(job_id, FAILED, error="the server is shutting down")
            if cleanup is not None:
                cleanup()
        return job_id

    def _run(self, job_id: str, work: Work, cleanup: Callable[[], None] | None) -> None:
        try:
            with self.service.transaction() as s:
                job = s.get(Job, job_id)
                if job is not None:
                    job.status = RUNNING
            result = work(Progress(self, job_id))
            self._finish(job_id, DONE, result=result)
        except USER_ERRORS as exc:
            self._finish(job_id, FAILED, error=str(exc))
        except Exception:
            error_id = secrets.token_hex(8)
            log.exception("job %s failed: internal error %s", job_id, error_id)
            self._finish(job_id, FAILED, error=f"internal error (error id {error_id})")
        finally:
            with self.lock:
                self.progress.pop(job_id, None)
            if cleanup is not None:
                cleanup()

    def _finish(self, job_id: str, status: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        try:
            with self.service.transaction() as s:
                job = s.get(Job, job_id)
                if job is None:
                    return
                job.status, job.error, job.finished_at = status, error, _now()
                if result is not None:
                    job.result = result
                    done = result.get("done")
                    if isinstance(done, int):
                        job.done = done
                    total = result.get("total")
                    if isinstance(total, int):
                        job.total = total
        except Exception:
            log.exception("could not record the end of job %s", job_id)

    def job(self, job: Job) -> dict[str, Any]:
        """The job's row, with its live progress when it runs in this process."""
        out = job_dict(job)
        with self.lock:
            live = self.progress.get(job.id)
        if live is not None and out["status"] in (QUEUED, RUNNING):
            out["done"], total, stage = live
            out["total"] = total if total is not None else out["total"]
            if stage:
                out["result"] = {**out["result"], "stage": stage}
        return out

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the jobs started so far (tests; shutdown)."""
        self.executor.shutdown(wait=True)
        self.executor = ThreadPoolExecutor(JOB_WORKERS, thread_name_prefix="qalqan-job")


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "result": dict(job.result or {}),
        "created_by": job.created_by,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
    }


def started(job_id: str) -> dict[str, str]:
    return {"job": job_id, "status": QUEUED, "url": f"/jobs/{job_id}"}


router = APIRouter(tags=["Jobs"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})


@router.get("/jobs", summary="Background jobs, newest first", response_model=Page)
def list_jobs(
    principal: Annotated[Principal, Depends(require("jobs:read"))],
    request: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> Page:
    service = request.app.state.service
    with service.db.session() as s:
        total = s.execute(select(func.count()).select_from(Job)).scalar_one()
        rows = s.execute(select(Job).order_by(Job.created_at.desc(), Job.id).offset(offset).limit(limit)).scalars().all()
        runner = request.app.state.jobs
        return Page(total=total, offset=offset, limit=limit, items=[runner.job(j) for j in rows])


@router.get("/jobs/{job_id}", summary="A background job's status and progress", response_model=JobResponse, responses={404: {"model": ErrorResponse}})
def get_job(
    principal: Annotated[Principal, Depends(require("jobs:read"))],
    request: Request,
    job_id: Annotated[str, Path(max_length=64)],
) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise HTTPException(404, detail=f"No such job: {job_id!r}")
        return request.app.state.jobs.job(job)  # type: ignore[no-any-return]
