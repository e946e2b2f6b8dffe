"""Batch screening: a file of queries in, the results out in input order: one JSON line per
record, or one CSV / XLSX row per (record, match) with the main explanation flattened into columns.

The Screener is built once in the parent; workers are forked from it, so its index is shared
copy-on-write instead of being rebuilt or pickled per process. Rows are read lazily and sent in
chunks, with at most `workers * (1 + CHUNKS_IN_FLIGHT)` chunks outstanding: memory stays bounded for
files of millions of rows (multiprocessing's own `imap` would read the whole input ahead). Where
the chunks are screened is an `Engine` (`LocalEngine` here; `qalqan.distributed.RayEngine` over a
Ray cluster); every engine renders a chunk with the same `render_chunk`, so their outputs are
byte for byte the same.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, Protocol

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

#: Output formats: JSON lines (one line per record, the default), CSV and XLSX (one row per match).
FORMATS = ("jsonl", "csv", "xlsx")

ScreenerSource = Screener | Callable[[], Screener]


@dataclass(frozen=True, slots=True)
class Settings:
    """How every chunk of one run is screened and rendered (sent to each worker)."""

    top: int = DEFAULT_TOP
    threshold: float | None = None
    cutoff: float | None = None
    fmt: str = "jsonl"


#: One rendered chunk: its output (bytes of JSON lines or CSV rows; for XLSX the rows' cell
#: values, since only the parent can write the workbook), rows that could not be screened, rows
#: with a match.
Rendered = tuple[bytes | list[list[Any]], int, int]

# Set in the parent just before forking; the workers read it (copy-on-write).
_SCREENER: Screener | None = None
_SETTINGS = Settings()


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
    would otherwise carry `top` near-misses per clean row. A row screened without some of its
    values (an impossible date, an unknown country, ...) carries `warnings` naming each one
    ({field, value, message}); the key is there only when there is something to say.
    """
    if row.query is None:
        return row.error_record()
    thr = screener.threshold if threshold is None else threshold
    low = thr if cutoff is None else cutoff
    try:
        matches = screener.match(row.query, limit=top, threshold=thr, cutoff=low)
    except Exception as exc:  # one query the engine cannot handle must not sink a million-row run
        return {"id": row.id, "error": f"row {row.row} (id {row.id}): screening failed: {type(exc).__name__}: {exc}", "row": row.row, "field": None}
    out: dict[str, Any] = {"id": row.id, "matches": [m.as_dict() for m in matches if m.score >= low]}
    if row.warnings:
        out["warnings"] = row.warning_dicts()
    return out


def _screen_chunk(rows: list[Record]) -> Rendered:
    assert _SCREENER is not None, "worker started without a screener"
    return render_chunk(_SCREENER, rows, _SETTINGS)


def render_chunk(screener: Screener, records: list[Record], settings: Settings) -> Rendered:
    """Screen one chunk of records and render its output: the one function every engine (forked
    workers here, Ray tasks in `qalqan.distributed`) runs, so their outputs cannot drift apart."""
    errors = alerted = 0
    lines = bytearray()
    table: list[list[Any]] = []
    for record in records:
        row = to_query_row(record)
        rec = screen_row(screener, row, settings.top, settings.threshold, settings.cutoff)
        if "error" in rec:
            errors += 1
        elif any(m["match"] for m in rec["matches"]):
            alerted += 1
        if settings.fmt == "jsonl":
            lines += orjson.dumps(rec)
            lines += b"\n"
        else:
            table.extend(table_rows(rec, input_name(record, row)))
    if settings.fmt == "jsonl":
        return bytes(lines), errors, alerted
    if settings.fmt == "csv":
        return _csv_bytes(table), errors, alerted
    return [_xlsx_values(r) for r in table], errors, alerted


# --------------------------------------------------------------------------- tables (CSV, XLSX)

#: The explanation features flattened into columns: (column prefix, feature). The evidence
#: features get their score and both sides' values; the conflicts their score only (the values
#: are the same as the evidence feature's).
TABLE_FEATURES = (
    ("name", "name"), ("birth_date", "dob_match"), ("nationality", "nationality_match"), ("document", "document_match"),
    ("imo", "imo_match"), ("vessel_id", "vessel_id_match"),
)  # fmt: skip
TABLE_CONFLICTS = (
    ("birth_date_conflict", "dob_conflict"), ("nationality_conflict", "country_conflict"), ("document_conflict", "document_conflict"),
    ("imo_conflict", "imo_conflict"), ("flag_conflict", "flag_conflict"),
)  # fmt: skip
MATCH_COLUMNS = ("entity_id", "list", "reference", "caption", "schema", "score", "match")
#: Columns of the CSV and XLSX output: one row per (input record, match), and one row with the
#: match columns empty for a record without a match or that could not be screened.
TABLE_COLUMNS = (
    "input_id", "input_name", "rank", *MATCH_COLUMNS,
    *(f"{prefix}_{part}" for prefix, _ in TABLE_FEATURES for part in ("score", "query", "candidate")),
    *(prefix for prefix, _ in TABLE_CONFLICTS),
    "warnings", "error",
)  # fmt: skip
#: A text cell starting with one of these would be run as a formula by a spreadsheet opening the
#: CSV file (names and ids come from outside); such cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's rows per sheet; the XLSX output continues on a new sheet (with its own header) beyond.
XLSX_SHEET_ROWS = 1_048_576
XLSX_SHEET = "results"


def input_name(record: Record, row: QueryRow) -> str | None:
    """The name the record was screened under, or its raw name when it could not be screened."""
    if row.query is not None and row.query.names:
        return row.query.names[0]
    if isinstance(record, tuple) and isinstance(record[1].get("name"), str):
        return str(record[1]["name"]).strip()
    return None


def table_rows(rec: dict[str, Any], name: str | None) -> list[list[Any]]:
    """The output record of one input row (as `screen_row` makes it) as table rows."""
    head: list[Any] = [rec.get("id"), name]
    tail = [_warning_text(rec.get("warnings")), rec.get("error")]
    matches = rec.get("matches") or []
    if not matches:
        return [head + [None] * (len(TABLE_COLUMNS) - len(head) - len(tail)) + tail]
    return [head + [rank] + [m.get(c) for c in MATCH_COLUMNS] + _feature_cells(m.get("explanation", ())) + tail for rank, m in enumerate(matches, 1)]


def _feature_cells(explanation: Iterable[dict[str, Any]]) -> list[Any]:
    by_name = {f["feature"]: f for f in explanation}
    cells: list[Any] = []
    for _, feature in TABLE_FEATURES:
        f = by_name.get(feature, {})
        cells += [f.get("score"), f.get("query_value"), f.get("candidate_value")]
    cells += [by_name.get(feature, {}).get("score") for _, feature in TABLE_CONFLICTS]
    return cells


def _warning_text(warnings: Any) -> str | None:
    """A row's warnings ({field, value, message} each) as one cell: `field: message` joined."""
    if not warnings:
        return None
    parts = []
    for w in warnings:
        if isinstance(w, dict):
            parts.append(f"{w['field']}: {w['message']}" if w.get("field") else str(w.get("message")))
        else:
            parts.append(str(w))
    return "; ".join(parts)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for r in rows:
        writer.writerow([_csv_cell(v) for v in r])
    return buf.getvalue().encode("utf-8")


def _xlsx_values(row: list[Any]) -> list[Any]:
    """Cell values an XLSX sheet accepts: control characters XML cannot carry become U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return [ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row]


def output_format(fmt: str | None, out: object) -> str:
    """The output format: as asked, else from the output file's extension, else JSON lines."""
    if fmt is None:
        suffix = Path(out).suffix.lower() if isinstance(out, (str, Path)) else ""
        fmt = {".csv": "csv", ".xlsx": "xlsx"}.get(suffix, "jsonl")
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


class _Writer:
    """Writes rendered chunks to the sink: JSON lines and CSV as they come (CSV after its header,
    with a byte-order mark in a file, so Excel reads non-Latin names as UTF-8)."""

    def __init__(self, fmt: str, write: Callable[[bytes], None], bom: bool):
        self.fmt, self._write, self._bom = fmt, write, bom

    def start(self) -> None:
        if self.fmt == "csv":
            self._write(("\ufeff" if self._bom else "").encode("utf-8") + _csv_bytes([TABLE_COLUMNS]))

    def write(self, data: bytes | list[list[Any]]) -> None:
        assert isinstance(data, bytes)
        self._write(data)

    def finish(self) -> None:
        pass


class _XlsxWriter(_Writer):
    """An XLSX workbook written in bounded memory: openpyxl's write-only mode streams each sheet
    to a temporary file (strings inline, no shared-string table) and zips them at the end. A
    sheet holds at most XLSX_SHEET_ROWS rows; the rows continue on `results 2`, `results 3`, ..."""

    def __init__(self, sink: IO[bytes]):
        from openpyxl import Workbook

        self._sink = sink
        self._book = Workbook(write_only=True)
        self._sheet: Any = None
        self._sheets = 0
        self._rows = 0

    def start(self) -> None:
        self._new_sheet()

    def _new_sheet(self) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self._close_sheet()
        self._sheets += 1
        self._sheet = self._book.create_sheet(XLSX_SHEET if self._sheets == 1 else f"{XLSX_SHEET} {self._sheets}")
        self._sheet.freeze_panes = "A2"
        header = []
        for column in TABLE_COLUMNS:
            cell = WriteOnlyCell(self._sheet, column)
            cell.font = Font(bold=True)
            header.append(cell)
        self._sheet.append(header)
        self._rows = 1

    def _close_sheet(self) -> None:
        if self._sheet is not None:
            from openpyxl.utils import get_column_letter

            self._sheet.auto_filter.ref = f"A1:{get_column_letter(len(TABLE_COLUMNS))}{self._rows}"

    def write(self, data: bytes | list[list[Any]]) -> None:
        assert isinstance(data, list)
        for row in data:
            if self._rows >= XLSX_SHEET_ROWS:
                self._new_sheet()
            self._sheet.append([self._text(v) if isinstance(v, str) else v for v in row])
            self._rows += 1

    def _text(self, value: str) -> Any:
        """A string cell that stays text: openpyxl would store `=...` as a formula and `#N/A` as
        an error; names and ids come from outside and must never be run."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ERROR_CODES

        if not (value.startswith("=") or value in ERROR_CODES):
            return value
        cell = WriteOnlyCell(self._sheet, value)
        cell.data_type = "s"
        return cell

    def finish(self) -> None:
        self._close_sheet()
        self._book.save(self._sink)


# --------------------------------------------------------------------------- engines

#: Runs the chunks of a file through the screener: the chunks' row counts and renderings, in
#: input order. An engine's `open` sets up its workers (before the progress bar starts).
Run = Callable[[Iterator[list[Record]]], Iterator[tuple[int, Rendered]]]


class Engine(Protocol):
    def open(self, screener: Screener, settings: Settings) -> AbstractContextManager[Run]: ...


@dataclass(frozen=True, slots=True)
class LocalEngine:
    """Screening on this machine: in-process for one worker, else over forked processes."""

    workers: int = 2

    @contextmanager
    def open(self, screener: Screener, settings: Settings) -> Iterator[Run]:
        global _SCREENER, _SETTINGS
        if self.workers <= 1 or not _fork_available():
            yield lambda chunks: ((len(c), render_chunk(screener, c, settings)) for c in chunks)
            return
        _SCREENER, _SETTINGS = screener, settings
        try:
            # Forked before the progress bar starts its refresh thread: a fork copies no threads
            # but does copy any lock such a thread holds.
            with multiprocessing.get_context("fork").Pool(self.workers) as pool:
                yield lambda chunks: _ordered(pool, chunks, self.workers * (1 + CHUNKS_IN_FLIGHT))
        finally:
            _SCREENER = None


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
    fmt: str | None = None,
    engine: Engine | None = None,
) -> BatchStats:
    """Screen every record of `input_path` and write the results to `out`, in input order: one
    JSON line per record, or (`fmt` csv / xlsx) one table row per (record, match).

    `screener` is a Screener or a zero-argument factory (called once, here, before any worker
    starts). The input's columns are checked before anything is written (ListError on a bad
    column). `fmt`: None takes it from `out`'s file extension (.csv, .xlsx), else JSON lines.
    `engine`: where the chunks are screened (default: `LocalEngine(workers)`; Ray:
    `qalqan.distributed.RayEngine`). `progress`: None shows a Rich bar on stderr only when
    stderr is a terminal. `on_warning` hears what the caller should know about the input (e.g.
    the encoding it was read in).
    """
    fmt = output_format(fmt, out)
    if fmt == "xlsx" and isinstance(out, io.TextIOBase):
        raise ValueError("XLSX output is binary: give a file path or a binary stream")
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

    writer = _XlsxWriter(sink) if fmt == "xlsx" else _Writer(fmt, write, bom=close)
    bar = _Progress(progress)
    try:
        with (engine or LocalEngine(workers)).open(built, Settings(top, threshold, cutoff, fmt)) as run, bar:
            writer.start()
            _consume(run(_chunks(rows, chunk)), writer.write, stats, bar)
        writer.finish()
    finally:
        if close:
            sink.close()
        else:
            sink.flush()
    stats.seconds = time.perf_counter() - started
    return stats


def _ordered(pool: Any, chunks: Iterator[list[Record]], in_flight: int) -> Iterator[tuple[int, Rendered]]:
    """Results in submission order, with at most `in_flight` chunks submitted but not yet taken."""
    return ordered_results(lambda c: pool.apply_async(_screen_chunk, (c,)), chunks, in_flight)


def ordered_results(submit: Callable[[list[Record]], Any], chunks: Iterator[list[Record]], in_flight: int) -> Iterator[tuple[int, Rendered]]:
    """Each chunk's row count and rendering in submission order, with at most `in_flight`
    chunks submitted but not yet taken: `submit(chunk)` starts one and returns a handle whose
    `get()` waits for it (a pool's AsyncResult, a Ray reference). The input is read no further
    ahead than that, so memory stays bounded however fast the workers are."""
    pending: deque[tuple[int, Any]] = deque()
    for c in chunks:
        pending.append((len(c), submit(c)))
        if len(pending) >= in_flight:
            n, res = pending.popleft()
            yield n, res.get()
    while pending:
        n, res = pending.popleft()
        yield n, res.get()


def _consume(results: Iterable[tuple[int, Rendered]], write: Callable[[Any], None], stats: BatchStats, bar: "_Progress") -> None:
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
