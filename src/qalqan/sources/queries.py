"""The screening-input reader: a CSV or JSON-lines file of people (or organisations) to screen.

Columns: `id,schema,name,birth_date,nationality,gender,document_number,imo,mmsi,call_sign,flag`.
Only `name` is required; `schema` defaults to Person (Vessel when a vessel column is filled) and
`id` to the row number. Any other column makes the
whole file unusable (ListError naming it) before a single row is yielded, so a typo'd header
never screens silently without its data. A bad value in one row does not stop the file, nor
hide the row: an impossible date, an unknown country or gender, a malformed document number is
left out of the query with a `FieldWarning` naming the field and the value, and the row is
screened on everything else (a typo in a date must not hide a listed person). Only a row with
no usable name cannot be screened: it comes out as a `QueryRow` with `error` and `field` set, so
it appears in the output in its place instead of vanishing.

Rows are streamed (a generator), so memory stays bounded however long the file is.

Spreadsheet exports are often not UTF-8 (Excel on Western Windows writes cp1252). A file that is
not valid UTF-8 is read in the encoding charset-normalizer detects, and the caller is told which
(`on_warning`), instead of every accented name becoming a row error; a file that decodes in no
detectable encoding is refused as a whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from qalqan.model import SCHEMATA, Document, ListError, PartialDate, Query
from qalqan.model.query import FieldWarning
from qalqan.sources.idnumbers import call_sign_problem, imo_problem, mmsi_problem
from qalqan.sources.schemata import screening_schema
from qalqan.sources.values import country_code, document_problem, parse_date
from qalqan.sources.xlsx import SheetReader, is_workbook

#: A vessel's columns: its IMO number, MMSI, radio call sign (each an identifier with that kind)
#: and flag.
VESSEL_COLUMNS = ("imo", "mmsi", "call_sign", "flag")
#: The document type each vessel identifier column is recorded with (`Document.kind` reads it).
_VESSEL_ID_TYPES = {"imo": "IMO number", "mmsi": "MMSI", "call_sign": "Call sign"}
#: The columns an input file may have, in the documented order.
QUERY_COLUMNS = ("id", "schema", "name", "birth_date", "nationality", "gender", "document_number", *VESSEL_COLUMNS)
REQUIRED_COLUMNS = ("name",)

#: No real name is this long (the longest UN names are ~150 characters); anything longer is a
#: broken export or an attack on the matcher's quadratic comparisons, so the row is rejected.
MAX_NAME_CHARS = 1000
#: Longest value accepted in any other column: dates, codes and document numbers are short.
MAX_VALUE_CHARS = 200
#: Python's csv module refuses fields over 128 KiB by default; a 10 MB field must reach our own
#: per-row check (and a clear message) instead of aborting the whole file. 64 MiB bounds memory.
CSV_FIELD_LIMIT = 64 * 1024 * 1024

#: Unknown columns named in an error, and the length each name is cut to: a file with a million
#: junk columns (or one 10 MB header cell) gets a short error, not one that echoes it all.
SHOWN_COLUMNS = 10
SHOWN_COLUMN_CHARS = 64

#: Bytes of text handed to the encoding detector: its guess is as good at 256 KiB as on the
#: whole file, and detection then costs milliseconds on a file of millions of rows.
DETECT_SAMPLE_BYTES = 256 * 1024
#: Bytes read per step when checking that a whole file decodes.
DECODE_CHUNK_BYTES = 1 << 20
#: When the detector finds several encodings equally likely (short Western-European samples
#: decode identically in cp1250, cp1252, cp1257 ...), the one spreadsheet programs write most.
PREFERRED_ENCODINGS = ("cp1252",)
#: What files that are UTF-8 (with or without a byte-order mark) are opened with.
UTF8 = "utf-8-sig"

#: Several values in one cell (two nationalities, two dates) are separated like list aliases.
MULTI_SEPARATOR = ";"
#: What a row of an unknown schema is screened as: LegalEntity is compatible with people,
#: organisations and vessels alike, so a typo in the schema cannot hide a listed entity.
FALLBACK_SCHEMA = "LegalEntity"

_GENDERS = {
    "male": "male", "m": "male", "man": "male",
    "female": "female", "f": "female", "woman": "female", "w": "female",
    "other": "other", "o": "other", "x": "other", "diverse": "other", "d": "other", "non-binary": "other",
}


log = logging.getLogger(__name__)

#: Receives one line per thing the caller should know about the input (e.g. its encoding).
Warn = Callable[[str], None]


def normalise_gender(text: str) -> str | None:
    """FtM's gender value (male / female / other) for common spellings; None if unrecognised."""
    return _GENDERS.get(text.strip().lower())


@dataclass(frozen=True, slots=True)
class QueryRow:
    """One input record: a query, or the reason it could not be made into one."""

    row: int  # 1-based data row (line of a JSON-lines file, record after the header of a CSV)
    id: str | int  # the input's own id, or the row number
    query: Query | None
    error: str | None = None
    field: str | None = None
    #: Values left out of the query (the row is screened without them).
    warnings: tuple[FieldWarning, ...] = ()

    def error_record(self) -> dict[str, Any]:
        """The output line for a row that could not be screened."""
        where = f"row {self.row} (id {self.id})" + (f" field {self.field}" if self.field else "")
        out: dict[str, Any] = {"id": self.id, "error": f"{where}: {self.error}", "row": self.row, "field": self.field}
        if self.warnings:
            out["warnings"] = self.warning_dicts()
        return out

    def warning_dicts(self) -> list[dict[str, Any]]:
        """The warnings as the output writes them: {field, value, message} each."""
        return [w.as_dict() for w in self.warnings]


class _RowError(ValueError):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


def detect_input_format(path: Path, encoding: str = UTF8) -> str:
    """'jsonl' when the first non-blank character opens a JSON object, else 'csv'."""
    with open(path, "rb") as fh:
        head = fh.read(4096).decode(encoding, errors="ignore")
    return "jsonl" if head.lstrip("\ufeff \t\r\n").startswith("{") else "csv"


def _first_undecodable(path: Path, encoding: str) -> int | None:
    """The offset of the first byte `path` cannot be decoded at in `encoding`, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(DECODE_CHUNK_BYTES)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            if not chunk:
                return None
            offset += len(chunk)


def _detection_sample(path: Path) -> bytes:
    """The file's start and then the lines with non-ASCII bytes (the ones that tell encodings
    apart), up to DETECT_SAMPLE_BYTES, cut at line ends so no character is split."""
    with open(path, "rb") as fh:
        head = fh.read(DETECT_SAMPLE_BYTES // 4)
        if len(head) < DETECT_SAMPLE_BYTES // 4 or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return head  # all of a small file; a UTF-16/32 file must be sampled from its mark on
        sample = bytearray(head[: head.rfind(b"\n") + 1] or head)
        fh.seek(len(sample))
        for line in fh:
            if len(sample) >= DETECT_SAMPLE_BYTES:
                break
            if not line.isascii():
                sample += line
    return bytes(sample)


def _guess_encoding(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    results = from_bytes(sample)
    best = results.best()
    if best is None:
        return None
    tied = [r for r in results if r.chaos == best.chaos and r.coherence == best.coherence]
    for preferred in PREFERRED_ENCODINGS:
        if any(preferred in r.could_be_from_charset for r in tied):
            return preferred
    return str(best.encoding)


def detect_encoding(path: Path, warn: Warn | None = None) -> str:
    """The encoding to read `path` with: UTF-8 (a byte-order mark is dropped) when the whole file
    is valid UTF-8; otherwise the one charset-normalizer detects, named through `warn` (default:
    the log). ListError when nothing detected decodes the whole file: guessing further would
    screen mangled names."""
    bad = _first_undecodable(path, "utf-8")
    if bad is None:
        return UTF8
    guess = _guess_encoding(_detection_sample(path))
    if guess is None:
        raise ListError(str(path), f"not UTF-8 (byte {bad} is invalid) and its encoding could not be detected; save it as UTF-8")
    encoding = codecs.lookup(guess).name
    still_bad = _first_undecodable(path, encoding)
    if still_bad is not None:
        raise ListError(str(path), f"not UTF-8 (byte {bad} is invalid), nor {encoding} as detected (byte {still_bad}); save it as UTF-8")
    (warn or log.warning)(f"{path.name} is not UTF-8; read as {encoding} (detected)")
    return encoding


def _shown(name: str) -> str:
    return repr(name if len(name) <= SHOWN_COLUMN_CHARS else name[:SHOWN_COLUMN_CHARS] + "…")


def _check_columns(path: str, columns: list[str], record: str | None = None, required: bool = True) -> None:
    unknown = list(dict.fromkeys(c for c in columns if c not in QUERY_COLUMNS))
    if unknown:
        shown = ", ".join(map(_shown, unknown[:SHOWN_COLUMNS]))
        more = f" and {len(unknown) - SHOWN_COLUMNS:,} more" if len(unknown) > SHOWN_COLUMNS else ""
        raise ListError(
            path,
            f"unknown column{'s' if len(unknown) > 1 else ''} {shown}{more}; allowed columns: {', '.join(QUERY_COLUMNS)}",
            record=record,
            field=unknown[0][:SHOWN_COLUMN_CHARS],
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns] if required else []
    if missing:
        raise ListError(path, f"missing required column {missing[0]!r}", record=record, field=missing[0])


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(MULTI_SEPARATOR) if v.strip()]


def _text(values: dict[str, Any], key: str) -> str:
    raw = values.get(key)
    if raw is None:
        return ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise _RowError(key, f"expected text, got {type(raw).__name__}")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes: the file is not UTF-8 here
        raise _RowError(key, "value is not valid UTF-8") from None
    limit = MAX_NAME_CHARS if key == "name" else MAX_VALUE_CHARS
    if len(raw) > limit:
        raise _RowError(key, f"value is {len(raw)} characters long; at most {limit} are accepted")
    return raw.strip()


def make_query(values: dict[str, Any], row_id: str | int) -> Query:
    """A Query from one record's column values (see `read_query`; its warnings are dropped)."""
    return read_query(values, row_id)[0]


def read_query(values: dict[str, Any], row_id: str | int) -> tuple[Query, tuple[FieldWarning, ...]]:
    """A Query from one record's column values, and the values left out of it.

    Raises _RowError only when the record has no usable name: every other bad value (an
    impossible date, an unknown country, gender or schema, a malformed document number, a value
    that is too long or not text) is dropped with a warning naming the field and the value.
    """
    name = _text(values, "name")
    if not name:
        raise _RowError("name", "empty name")
    warnings: list[FieldWarning] = []

    def warn(key: str, raw: object, message: str) -> None:
        warnings.append(FieldWarning.of(key, raw, f"{message}; screened without it"))

    def field(key: str) -> str:
        try:
            return _text(values, key)
        except _RowError as exc:
            warn(key, values.get(key), str(exc))
            return ""

    schema_raw = field("schema")
    schema = screening_schema(schema_raw) if schema_raw else ("Vessel" if _has_vessel_columns(values) else "Person")
    if schema is None:
        warnings.append(FieldWarning.of("schema", schema_raw, f"unknown schema {schema_raw!r} (expected one of {', '.join(SCHEMATA)}); screened as {FALLBACK_SCHEMA}, which matches every kind of entity"))
        schema = FALLBACK_SCHEMA
    dates: list[PartialDate] = []
    for text in _split(field("birth_date")):
        try:
            dates.append(parse_date(text))
        except ValueError as exc:
            warn("birth_date", text, str(exc))
    nationalities: list[str] = []
    for text in _split(field("nationality")):
        code = country_code(text)
        if code is None:
            warn("nationality", text, f"unknown country {text!r}")
        elif code not in nationalities:
            nationalities.append(code)
    gender_raw = field("gender")
    gender = None
    if gender_raw:
        gender = normalise_gender(gender_raw)
        if gender is None:
            warn("gender", gender_raw, f"unknown gender {gender_raw!r}; expected male, female or other")
    documents: list[Document] = []
    for number in _split(field("document_number")):
        problem = document_problem(number)
        if problem is not None:
            warn("document_number", number, problem)
        else:
            documents.append(Document(number))
    vessel_documents, flags = _vessel_fields(field, warn, schema)
    documents += vessel_documents
    nationalities += [f for f in flags if f not in nationalities]  # a ship's nationality is its flag
    query = Query(
        names=(name,),
        schema=schema,
        id=str(row_id),
        birth_dates=tuple(dates),
        nationalities=tuple(nationalities),
        gender=gender,
        documents=tuple(documents),
    )
    return query, tuple(warnings)


def _has_vessel_columns(values: dict[str, Any]) -> bool:
    return any(isinstance(values.get(c), (str, int)) and str(values.get(c)).strip() for c in VESSEL_COLUMNS)


def _vessel_fields(field: Callable[[str], str], warn: Callable[[str, object, str], None], schema: str) -> tuple[list[Document], list[str]]:
    """The vessel columns of a row: its identifiers as documents of their kind, and its flags.

    An IMO number is checked (7 digits, the check digit; "IMO 9123456" accepted): a Vessel's
    by the ship scheme, any other's (a shipping company's) by either. A bad identifier is left
    out with a warning, never a refusal; so is a flag on a row that is no Vessel (only vessels
    fly flags; a person's country is `nationality`)."""
    documents: list[Document] = []
    for column, doc_type in _VESSEL_ID_TYPES.items():
        for number in _split(field(column)):
            if column == "imo":
                problem = imo_problem(number, vessel_only=schema == "Vessel")
            else:
                problem = mmsi_problem(number) if column == "mmsi" else call_sign_problem(number)
            if problem is not None:
                warn(column, number, problem)
            else:
                documents.append(Document(number, doc_type))
    flags: list[str] = []
    for text in _split(field("flag")):
        code = country_code(text)
        if code is None:
            warn("flag", text, f"unknown country {text!r}")
        elif schema != "Vessel":
            warn("flag", text, f"a flag is compared for vessels only, and this row is a {schema}")
        elif code not in flags:
            flags.append(code)
    return documents, flags


def _row_id(values: dict[str, Any], row: int) -> tuple[str | int, FieldWarning | None]:
    """The record's own id, or its row number (with a warning when the id given is unusable:
    the row is still screened, under its number)."""
    raw_id = values.get("id")
    if isinstance(raw_id, str):
        raw_id = raw_id.strip()
    if raw_id is None or raw_id == "":
        return row, None
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        return row, FieldWarning.of("id", raw_id, f"id must be text or a number, got {type(raw_id).__name__}; the row is identified by its number {row}")
    if isinstance(raw_id, str):
        if len(raw_id) > MAX_VALUE_CHARS:
            return row, FieldWarning.of("id", raw_id, f"id is {len(raw_id)} characters long; at most {MAX_VALUE_CHARS}; the row is identified by its number {row}")
        try:
            raw_id.encode("utf-8")
        except UnicodeEncodeError:  # the id is echoed in the output, which must stay valid UTF-8
            return row, FieldWarning.of("id", raw_id, f"id is not valid UTF-8; the row is identified by its number {row}")
    return raw_id, None


def _row(values: dict[str, Any], row: int) -> QueryRow:
    row_id, id_warning = _row_id(values, row)
    first = (id_warning,) if id_warning is not None else ()
    try:
        query, warnings = read_query(values, row_id)
        return QueryRow(row, row_id, query, warnings=first + warnings)
    except _RowError as exc:
        return QueryRow(row, row_id, None, str(exc), exc.field, warnings=first)
    except ValueError as exc:  # a model invariant the checks above did not anticipate
        return QueryRow(row, row_id, None, str(exc), None, warnings=first)


#: One input record as read: its row number and raw column values, or already a QueryRow when
#: it could not even be read as a record (invalid JSON, too many CSV values). Cheap to pickle,
#: so batch screening turns records into queries in the worker processes, not the parent.
Record = tuple[int, dict[str, Any]] | QueryRow


def to_query_row(record: Record) -> QueryRow:
    """The query (or the row's error) for one record from `read_records`."""
    if isinstance(record, QueryRow):
        return record
    row, values = record
    return _row(values, row)


def read_queries(path: str | Path, on_warning: Warn | None = None) -> Iterator[QueryRow]:
    """Stream the queries of a CSV or JSON-lines file (see `read_records` for the checks)."""
    return map(to_query_row, read_records(path, on_warning))


def read_records(path: str | Path, on_warning: Warn | None = None) -> Iterator[Record]:
    """Stream the raw records of a CSV, XLSX or JSON-lines file.

    The encoding (UTF-8, else detected and named through `on_warning`) and the header (CSV) or
    the set of keys (JSON lines, checked in one streaming pass) are settled eagerly, here, so an
    unusable file raises ListError before the caller writes any output.
    """
    path = Path(path)
    try:
        workbook = is_workbook(path)  # XLSX: its first sheet, read like a CSV file (sources/xlsx.py)
        encoding = UTF8 if workbook else detect_encoding(path, on_warning)
        fmt = "xlsx" if workbook else detect_input_format(path, encoding)
    except OSError as exc:
        raise ListError(str(path), f"cannot read input: {exc.strerror or exc}") from None
    if fmt == "jsonl":
        _prescan_jsonl(path, encoding)
        return _iter_jsonl(path, encoding)
    fh: Any = SheetReader(path) if workbook else open(path, encoding=encoding, newline="")
    try:
        # strict: a malformed record (e.g. an unterminated quote) is an error, not silently merged rows.
        reader = fh if workbook else csv.reader(fh, strict=True)
        header = next(reader, None)
    except csv.Error as exc:
        fh.close()
        raise ListError(str(path), f"unreadable CSV header: {_csv_problem(exc, 'the header', 1)}") from None
    if header is None:
        fh.close()
        raise ListError(str(path), "empty input file: no header row")
    columns = [h.strip().lower() for h in header]
    try:
        _check_columns(str(path), columns)
        dupes = sorted(c for c, n in Counter(columns).items() if n > 1)
        if dupes:
            raise ListError(str(path), f"column {dupes[0]!r} appears twice in the header", field=dupes[0])
    except ListError:
        fh.close()
        raise
    return _iter_csv(path, fh, reader, columns)


def _csv_problem(exc: csv.Error, where: str, line: int) -> str:
    """What the csv module's error means, naming where the broken record starts: for a quote
    that never closes, that is where the quote opened (the module only notices at the end)."""
    if "unexpected end of data" in str(exc):
        return f"unterminated quote: a quoted field opened in {where} (line {line}) is never closed"
    return f"malformed record in {where} (line {line}): {exc}"


def _iter_csv(path: Path, fh: io.TextIOWrapper, reader: Any, columns: list[str]) -> Iterator[Record]:
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, CSV_FIELD_LIMIT))
    try:
        with fh:
            row = 0
            while True:
                start = reader.line_num + 1  # the line this record begins on
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    # The csv module cannot resynchronise after a broken record; the rest of the
                    # file would be misread, so stop with the record named.
                    raise ListError(str(path), _csv_problem(exc, f"data row {row + 1}", start), record=str(row + 1)) from None
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue  # a blank line; a row of empty cells is a record (with no name)
                row += 1
                if len(cells) > len(columns):
                    yield QueryRow(row, row, None, f"row has {len(cells)} values but the header has {len(columns)} columns", None)
                    continue
                yield row, dict(zip(columns, cells))
    finally:
        csv.field_size_limit(old_limit)


def _json_line(line: bytes | str) -> Any:
    return orjson.loads(line)


def _jsonl_lines(path: Path, encoding: str) -> Iterator[bytes | str]:
    """The file's lines: bytes for UTF-8 (orjson reads them as they are), else decoded text."""
    if encoding == UTF8:
        with open(path, "rb") as fh:
            for n, line in enumerate(fh):
                yield line[3:] if n == 0 and line.startswith(codecs.BOM_UTF8) else line
    else:
        with open(path, encoding=encoding) as text:
            yield from text


def _prescan_jsonl(path: Path, encoding: str = UTF8) -> None:
    """One streaming pass checking every record's keys, so a bad column fails before output."""
    for lineno, line in enumerate(_jsonl_lines(path, encoding), 1):
        if not line.strip():
            continue
        try:
            obj = _json_line(line)
        except orjson.JSONDecodeError:
            continue  # reported in its place by _iter_jsonl
        if isinstance(obj, dict):
            # A record without "name" is that row's own error ("empty name"), not the file's.
            _check_columns(str(path), list(obj), record=f"line {lineno}", required=False)


def _iter_jsonl(path: Path, encoding: str = UTF8) -> Iterator[Record]:
    row = 0
    for line in _jsonl_lines(path, encoding):
        if not line.strip():
            continue
        row += 1
        try:
            obj = _json_line(line)
        except orjson.JSONDecodeError as exc:
            yield QueryRow(row, row, None, f"invalid JSON: {exc}", None)
            continue
        if not isinstance(obj, dict):
            yield QueryRow(row, row, None, f"expected a JSON object, got {type(obj).__name__}", None)
            continue
        yield row, obj
