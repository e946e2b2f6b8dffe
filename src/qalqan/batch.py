"""Batch screening: a file of queries in, one JSON line per record out, in input order.

The Screener is built once in the parent; workers are forked from it, so its index is shared
copy-on-write instead of being rebuilt or pickled per process. Rows are read lazily and sent in
chunks, with at most `workers * (1 + CHUNKS_IN_FLIGHT)` chunks outstanding: memory stays bounded for
files of millions of rows (multiprocessing's own `imap` would read the whole input ahead).
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from qalqan.matching.screener import Screener
from qalqan.sources.queries import QueryRow, Record, Warn, read_records, to_query_row

#: Rows per task sent to a worker: large enough that pickling and IPC overhead are small next to
#: scoring, small enough that the progress bar moves and memory per chunk stays a few MB.
DEFAULT_CHUNK = 500
#: Chunks queued per worker beyond the one it is working on, so no worker waits for the parent.
CHUNKS_IN_FLIGHT = 2
#: Candidates reported per record unless the caller asks for another number.
DEFAULT_TOP = 5

ScreenerSource = Screener | Callable[[], Screener]

# Set in the parent just before forking; the workers read it (copy-on-write).
_SCREENER: Screener | None = None
_SETTINGS: tuple[int, float | None, float | None] = (DEFAULT_TOP, None, None)


@dataclass(slots=True)
class BatchStats:
    rows: int = 0
    errors: int = 0  # rows that could not be screened (each has an error line in the output)
    alerted: int = 0  # rows with at least one match at the threshold
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def screen_row(screener: Screener, row: QueryRow, top: int, threshold: float | None, cutoff: float | None) -> dict[str, Any]:
    """The output record for one input row.

    Candidates scoring below `cutoff` (default: the threshold) are left out: a batch of millions
    would otherwise carry `top` near-misses per clean row.
    """
    if row.query is None:
        return row.error_record()
    thr = screener.threshold if threshold is None else threshold
    low = thr if cutoff is None else cutoff
    try:
        matches = screener.match(row.query, limit=top, threshold=thr, cutoff=low)
    except Exception as exc:  # one query the engine cannot handle must not sink a million-row run
        return {"id": row.id, "error": f"row {row.row} (id {row.id}): screening failed: {type(exc).__name__}: {exc}", "row": row.row, "field": None}
    return {"id": row.id, "matches": [m.as_dict() for m in matches if m.score >= low]}


def _screen_chunk(rows: list[Record]) -> tuple[bytes, int, int]:
    assert _SCREENER is not None, "worker started without a screener"
    top, threshold, cutoff = _SETTINGS
    return _render(_SCREENER, rows, top, threshold, cutoff)


def _render(screener: Screener, records: list[Record], top: int, threshold: float | None, cutoff: float | None) -> tuple[bytes, int, int]:
    out = bytearray()
    errors = alerted = 0
    for record in records:
        rec = screen_row(screener, to_query_row(record), top, threshold, cutoff)
        if "error" in rec:
            errors += 1
        elif any(m["match"] for m in rec["matches"]):
            alerted += 1
        out += orjson.dumps(rec)
        out += b"\n"
    return bytes(out), errors, alerted


def _chunks(rows: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def screen_file(
    screener: ScreenerSource,
    input_path: str | Path,
    out: IO[bytes] | IO[str] | str | Path,
    threshold: float | None = None,
    top: int = DEFAULT_TOP,
    workers: int = 2,
    chunk: int = DEFAULT_CHUNK,
    cutoff: float | None = None,
    progress: bool | None = None,
    on_warning: Warn | None = None,
) -> BatchStats:
    """Screen every record of `input_path` and write one JSON line per record to `out`.

    `screener` is a Screener or a zero-argument factory (called once, here, before forking).
    The input's columns are checked before anything is written (ListError on a bad column).
    `progress`: None shows a Rich bar on stderr only when stderr is a terminal. `on_warning`
    hears what the caller should know about the input (e.g. the encoding it was read in).
    """
    global _SCREENER, _SETTINGS
    rows = read_records(input_path, on_warning)  # settles encoding and columns now, before any output
    built: Screener = screener if isinstance(screener, Screener) or hasattr(screener, "match") else screener()  # type: ignore[assignment,operator]
    if progress is None:
        progress = sys.stderr.isatty()
    stats = BatchStats()
    started = time.perf_counter()

    close = False
    if isinstance(out, (str, Path)):
        sink: IO[Any] = open(out, "wb")
        close = True
    else:
        sink = out
    binary = not isinstance(sink, io.TextIOBase)

    def write(data: bytes) -> None:
        if binary:
            sink.write(data)
        else:
            sink.write(data.decode("utf-8"))

    bar = _Progress(progress)
    try:
        if workers <= 1 or not _fork_available():
            with bar:
                _consume(((len(c), _render(built, c, top, threshold, cutoff)) for c in _chunks(rows, chunk)), write, stats, bar)
        else:
            _SCREENER, _SETTINGS = built, (top, threshold, cutoff)
            ctx = multiprocessing.get_context("fork")
            try:
                # Fork before the progress bar starts its refresh thread: a fork copies no threads
                # but does copy any lock such a thread holds.
                with ctx.Pool(workers) as pool, bar:
                    _consume(_ordered(pool, _chunks(rows, chunk), workers * (1 + CHUNKS_IN_FLIGHT)), write, stats, bar)
            finally:
                _SCREENER = None
    finally:
        if close:
            sink.close()
        else:
            sink.flush()
    stats.seconds = time.perf_counter() - started
    return stats


def _ordered(pool: Any, chunks: Iterator[list[Record]], in_flight: int) -> Iterator[tuple[int, tuple[bytes, int, int]]]:
    """Results in submission order, with at most `in_flight` chunks submitted but not yet taken."""
    pending: deque[tuple[int, Any]] = deque()
    for c in chunks:
        pending.append((len(c), pool.apply_async(_screen_chunk, (c,))))
        if len(pending) >= in_flight:
            n, res = pending.popleft()
            yield n, res.get()
    while pending:
        n, res = pending.popleft()
        yield n, res.get()


def _consume(results: Iterable[tuple[int, tuple[bytes, int, int]]], write: Callable[[bytes], None], stats: BatchStats, bar: "_Progress") -> None:
    for n, (data, errors, alerted) in results:
        write(data)
        stats.rows += n
        stats.errors += errors
        stats.alerted += alerted
        bar.advance(n)


class _Progress:
    """A Rich progress bar (rows, rows/s, elapsed) on stderr, or nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("screening"),
                TextColumn("{task.completed:,} rows"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("screen", total=None, rate="")
        return self

    def advance(self, n: int) -> None:
        if self._progress is not None:
            task = self._progress.tasks[0]
            speed = task.speed
            self._progress.update(self._task, advance=n, rate=f"{speed:,.0f} rows/s" if speed else "")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
