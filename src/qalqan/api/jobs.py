"""Background jobs (bulk subject imports, list imports and fetches): a row in table `jobs` with
status and progress, run on a small thread pool so the request that starts one returns at once.

`GET /jobs/{id}` shows a job's progress. A job's id is random (128 bits), so it is not guessable.

A job runs in the process that started it: when that process stops (a restart, a crash) its
unfinished jobs can never finish, so a new app marks every job still queued or running as
`interrupted` when it starts (`JobRunner.interrupt_unfinished`). (Two servers on one store would
mark each other's running jobs: run one server per store, or several behind one job runner.)

What a job stores for its caller (its error, its result) is shown to API clients: server paths
in it (an upload's file, the data and temporary directories) are replaced by the client's file
name or dropped (`JobRunner.redact`).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import AfterValidator
from sqlalchemy import func, select

from qalqan.api.models import DEFAULT_PAGE, ErrorResponse, JobResponse, Limit, Offset, Page
from qalqan.api.security import require
from qalqan.api.uploads import redact
from qalqan.model import ListError
from qalqan.model.identifiers import check_identifier
from qalqan.service.roles import Principal
from qalqan.store.tables import Job

if TYPE_CHECKING:
    from qalqan.service.core import Qalqan

log = logging.getLogger("qalqan.api.jobs")

#: Jobs run at once: imports are CPU- and write-heavy; two keep a 2-core server answering.
JOB_WORKERS = 2
#: Errors a job reports to its caller verbatim: bad input, named by record and field.
USER_ERRORS = (ListError, ValueError, LookupError)

QUEUED, RUNNING, DONE, FAILED, INTERRUPTED = "queued", "running", "done", "failed", "interrupted"
#: The error of a job found unfinished when the app starts.
INTERRUPTED_ERROR = "interrupted: the service restarted before the job finished; start it again"


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
    """Runs jobs on a thread pool. `private_dirs` (the data directory, the temporary directory)
    are server paths no stored error or result may show: a path under one is cut to its part
    below it."""

    def __init__(self, service: Qalqan, *, private_dirs: Iterable[str] = ()):
        self.service = service
        self.executor = ThreadPoolExecutor(JOB_WORKERS, thread_name_prefix="qalqan-job")
        self.lock = threading.Lock()
        #: job id -> (done, total, stage) of the jobs running in this process
        self.progress: dict[str, tuple[int, int | None, str | None]] = {}
        roots = sorted({d.rstrip("/\\") for d in private_dirs if d.strip("/\\")}, key=len, reverse=True)
        # A root counts only where a path starts (not inside a URL's path: https://host/tmp/x).
        self._private = re.compile(r"(?<![\w/.:~-])(?:" + "|".join(map(re.escape, roots)) + r")[/\\]") if roots else None

    def _now(self) -> datetime:
        return self.service.clock.now()

    def redact(self, text: str, paths: Mapping[str, str] | None = None) -> str:
        """`text` as a job may store it: each of `paths` (an upload's server path) replaced by
        its display name, then the private directories cut from any other path."""
        text = redact(text, paths or {})
        return self._private.sub("", text) if self._private is not None else text

    def _redacted(self, value: Any, paths: Mapping[str, str] | None) -> Any:
        """`redact` over every string of a JSON-like value (a job's result)."""
        if isinstance(value, str):
            return self.redact(value, paths)
        if isinstance(value, dict):
            return {k: self._redacted(v, paths) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redacted(v, paths) for v in value]
        return value

    def interrupt_unfinished(self) -> int:
        """Mark every job still queued or running as interrupted (see the module doc); returns
        how many. Called when the app starts, before it runs any job of its own."""
        with self.service.transaction() as s:
            jobs = s.execute(select(Job).where(Job.status.in_((QUEUED, RUNNING)))).scalars().all()
            for job in jobs:
                job.status, job.error, job.finished_at = INTERRUPTED, INTERRUPTED_ERROR, self._now()
        if jobs:
            log.warning("marked %d unfinished job(s) of an earlier run as interrupted", len(jobs))
        return len(jobs)

    def start(
        self,
        kind: str,
        actor: str,
        work: Work,
        *,
        cleanup: Callable[[], None] | None = None,
        total: int | None = None,
        redactions: Mapping[str, str] | None = None,
    ) -> str:
        """Record a queued job and run `work` in the background; returns the job id.
        `redactions` (server path -> display name) are applied to what the job stores."""
        job_id = secrets.token_hex(16)
        with self.service.transaction() as s:
            s.add(Job(id=job_id, kind=kind, status=QUEUED, total=total, done=0, result={}, created_by=actor, created_at=self._now()))
        paths = dict(redactions or {})
        try:
            self.executor.submit(self._run, job_id, work, cleanup, paths)
        except RuntimeError:  # the executor is shut down (the server is stopping)
            self._finish(job_id, FAILED, error="the server is shutting down")
            if cleanup is not None:
                cleanup()
        return job_id

    def _run(self, job_id: str, work: Work, cleanup: Callable[[], None] | None, paths: Mapping[str, str]) -> None:
        try:
            with self.service.transaction() as s:
                job = s.get(Job, job_id)
                if job is not None:
                    job.status = RUNNING
            result = work(Progress(self, job_id))
            self._finish(job_id, DONE, result=result, paths=paths)
        except USER_ERRORS as exc:
            self._finish(job_id, FAILED, error=str(exc), paths=paths)
        except Exception:
            error_id = secrets.token_hex(8)
            log.exception("job %s failed: internal error %s", job_id, error_id)
            self._finish(job_id, FAILED, error=f"internal error (error id {error_id})")
        finally:
            with self.lock:
                self.progress.pop(job_id, None)
            if cleanup is not None:
                cleanup()

    def _finish(
        self, job_id: str, status: str, *, result: dict[str, Any] | None = None, error: str | None = None, paths: Mapping[str, str] | None = None
    ) -> None:
        if error is not None:
            error = self.redact(error, paths)
        if result is not None:
            result = self._redacted(result, paths)
        try:
            with self.service.transaction() as s:
                job = s.get(Job, job_id)
                if job is None:
                    return
                job.status, job.error, job.finished_at = status, error, self._now()
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


def _job_id(value: str) -> str:
    # Compared with a column: NUL or a control character would fail on PostgreSQL (a 500).
    return check_identifier(value, "job id")


def started(job_id: str) -> dict[str, str]:
    return {"job": job_id, "status": QUEUED, "url": f"/jobs/{job_id}"}


router = APIRouter(tags=["Jobs"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})


@router.get("/jobs", summary="Background jobs, newest first", response_model=Page)
def list_jobs(
    principal: Annotated[Principal, Depends(require("jobs:read"))],
    request: Request,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
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
    job_id: Annotated[str, Path(max_length=64), AfterValidator(_job_id)],
) -> dict[str, Any]:
    with request.app.state.service.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise HTTPException(404, detail=f"No such job: {job_id!r}")
        return request.app.state.jobs.job(job)  # type: ignore[no-any-return]
