"""Screening many subjects at once, in-process or over forked worker processes (as
`qalqan.batch` does): records on arrival (`Screening`), and stored subjects by id for the re-screen
(`screen_stored_ids`, whose workers read the store themselves).
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.util
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from qalqan.matching.compiled import compile_query
from qalqan.matching.screener import Screener
from qalqan.model import Query
from qalqan.monitoring.rescreen import Hit, query_of, screen, subject_tokens
from qalqan.service.common import chunks
from qalqan.service.context import Context
from qalqan.store.tables import Subject

#: At most this many alerts per subject per screen: a person matching more listed parties than
#: this is a name problem for an analyst, not ten more alerts.
ALERT_LIMIT = 10
#: Subjects per task sent to a worker process.
WORK_CHUNK = 500
#: Screen in worker processes only from this many subjects at once: forking costs ~50 ms and a
#: few MB, which pays off only on thousands of subjects (~1 ms each).
PARALLEL_FROM = 4_000


def auto_workers(workers: int | None) -> int:
    """Worker processes to screen with: `workers` if given; else every CPU in a single-threaded
    process (the command line, a batch job) and none (in-process) in a multi-threaded one (the
    web server), where a forked child could inherit a lock another thread held at the fork."""
    if workers is not None:
        return max(1, workers)
    return (os.cpu_count() or 1) if threading.active_count() == 1 else 1


# Set in the parent just before forking; the workers read it (copy-on-write), as in qalqan.batch.
_WORKER: tuple[Screener, int, float] | None = None

#: One screening task: (caller's key, query, whether to compute the subject's prefilter tokens).
Task = tuple[int, Query, bool]
Result = tuple[int, str | None, list[Hit]]


def _run(screener: Screener, limit: int, threshold: float, tasks: Sequence[Task]) -> list[Result]:
    out: list[Result] = []
    for key, query, want_tokens in tasks:
        tokens = subject_tokens(compile_query(query)) if want_tokens else None
        out.append((key, tokens, screen(screener, query, limit, threshold)))
    return out


def _work(tasks: Sequence[Task]) -> list[Result]:
    assert _WORKER is not None, "worker started without a screener"
    return _run(*_WORKER, tasks)


@dataclass(slots=True)
class _Done:
    results: list[Result]

    def get(self) -> list[Result]:
        return self.results


@dataclass(slots=True)
class _Flatten:
    parts: Any  # multiprocessing AsyncResult of list[list[Result]]

    def get(self) -> list[Result]:
        return [r for part in self.parts.get() for r in part]


class Screening:
    """Screens tasks against one screener; forks `workers` processes (once, lazily) when a call
    brings at least PARALLEL_FROM tasks and fork is available."""

    def __init__(self, screener: Screener, threshold: float, workers: int | None):
        self.screener = screener
        self.threshold = threshold
        self.workers = auto_workers(workers)
        self._pool: Any = None

    def submit(self, tasks: Sequence[Task]) -> Any:
        """Start screening `tasks`; `.get()` on the answer waits for the results. With worker
        processes the caller can store the previous batch meanwhile."""
        if self._parallel(tasks):
            parts = self._pool.map_async(_work, list(chunks(tasks, WORK_CHUNK)))
            return _Flatten(parts)
        return _Done(_run(self.screener, ALERT_LIMIT, self.threshold, tasks) if tasks else [])

    def _parallel(self, tasks: Sequence[Task]) -> bool:
        global _WORKER
        if len(tasks) >= PARALLEL_FROM and self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            if self._pool is None:
                _WORKER = (self.screener, ALERT_LIMIT, self.threshold)
                gc.freeze()  # see _screen_candidates
                try:
                    self._pool = multiprocessing.get_context("fork").Pool(self.workers)
                finally:
                    gc.unfreeze()
                    _WORKER = None
            return True
        return False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self._pool is not None:
            self._pool.terminate()
        self.close()


# -- re-screening stored subjects, in-process or over forked workers that read the store ---------

#: Candidate subjects per task of the re-screen: each task reads its subjects' data itself.
RESCREEN_CHUNK = 1_000
# Set in the parent just before forking: (delta screener, database URL, threshold).
_RESCREEN: tuple[Screener, str, float] | None = None
_CHILD_SESSIONS: Callable[[], Session] | None = None

Stored = tuple[int, str, list[Hit]]  # (subject id, subject hash, hits)


def _screen_stored(sessions: Callable[[], Session], screener: Screener, threshold: float, ids: Sequence[int]) -> list[Stored]:
    with sessions() as s:
        rows = s.execute(select(Subject.id, Subject.external_id, Subject.data, Subject.hash).where(Subject.id.in_(ids), Subject.removed_at.is_(None))).all()
    out: list[Stored] = []
    for sid, ext, data, digest in rows:
        hits = screen(screener, query_of(ext, data), ALERT_LIMIT, threshold)
        if hits:
            out.append((int(sid), digest, hits))
    return out


def _rescreen_task(ids: Sequence[int]) -> list[Stored]:
    global _CHILD_SESSIONS
    assert _RESCREEN is not None, "worker started without a screener"
    screener, url, threshold = _RESCREEN
    if _CHILD_SESSIONS is None:
        # The worker's own engine (the parent's connections may not cross a fork), for reads
        # only: a plain engine, because the store's SQLite engine begins every transaction
        # IMMEDIATE (taking the write lock), which would make the workers' reads take turns.
        engine = create_engine(url)
        multiprocessing.util.Finalize(None, engine.dispose, exitpriority=10)
        _CHILD_SESSIONS = sessionmaker(engine)
    return _screen_stored(_CHILD_SESSIONS, screener, threshold, ids)


def screen_stored_ids(ctx: Context, screener: Screener, ids: Sequence[int], workers: int | None) -> Iterator[Stored]:
    """Screen stored subjects by id: the workers read the data themselves (loading and parsing a
    subject costs a tenth of screening it, so the parent must not do it for them)."""
    global _RESCREEN
    workers = auto_workers(workers)
    parts = list(chunks(list(ids), RESCREEN_CHUNK))
    shared_store = ":memory:" not in ctx.db.url and ctx.db.url not in ("sqlite://", "sqlite:///")
    if len(ids) >= PARALLEL_FROM and workers > 1 and shared_store and "fork" in multiprocessing.get_all_start_methods():
        _RESCREEN = (screener, ctx.db.url, ctx.threshold)
        # Objects inherited from the parent are left out of the workers' garbage collection:
        # scanning them (millions, with the full screener) would copy the parent's heap page by
        # page and stall the workers.
        gc.freeze()
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for part in pool.imap_unordered(_rescreen_task, parts):
                    yield from part
                pool.close()
                pool.join()
        finally:
            gc.unfreeze()
            _RESCREEN = None
        return
    for chunk in parts:
        yield from _screen_stored(ctx.db.session, screener, ctx.threshold, chunk)


