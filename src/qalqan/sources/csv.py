"""The CSV template for national lists (documented in docs/list-csv-template.md).

One row per entity, UTF-8, a header row naming columns from `COLUMNS`; `id` and `name` are
required, every other column is optional, and an unknown column is an error (a typo such as
`birthdate` must not silently drop every date of birth). Multi-valued cells (aliases,
birth_date, nationality, country, program, document_number) separate values with `;`.
"""

from __future__ import annotations

import csv as _csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qalqan.model import DateKind, Document, Entity, ListError, Name, NameKind, NameQuality, PartialDate, Report
from qalqan.sources.schemata import screening_schema
from qalqan.sources.values import date_note, parse_date
from qalqan.sources.common import Countries, Parsed, add_name, bounded_name, clean, dedupe

COLUMNS = (
    "id",
    "schema",
    "name",
    "aliases",
    "birth_date",
    "nationality",
    "gender",
    "document_number",
    "document_type",
    "country",
    "program",
    "listed_on",
    "reference",
)
REQUIRED = ("id", "name")
SEPARATOR = ";"
GENDERS = {"male": "male", "m": "male", "female": "female", "f": "female", "other": "other"}
#: csv's default cell limit is 128 kB; names far beyond that are still reported, not crashed on,
#: so the limit is raised to this while reading (cells larger than this make the file unreadable).
MAX_CELL_BYTES = 64 * 1024 * 1024
#: Unknown columns named in an error, and the length each name is cut to (a broken export can
#: have thousands of junk columns, or one header cell of megabytes).
SHOWN_COLUMNS = 10
SHOWN_COLUMN_CHARS = 64


def _split(cell: str) -> list[str]:
    return [v for v in (clean(x) for x in cell.split(SEPARATOR)) if v]


def _row(row: dict[str, str], line: int, file: str, report: Report, list_name: str, seen: set[str]) -> Entity | None:
    rid = clean(row.get("id") or "")[:200]
    if not rid:
        report.error(file, f"line {line}", "id", "row without id; skipped")
        return None
    if rid in seen:
        report.error(file, rid, "id", f"duplicate id (line {line}); skipped")
        return None
    seen.add(rid)
    raw_schema = clean(row.get("schema") or "") or "Person"
    schema = screening_schema(raw_schema)
    if schema is None:
        # A misspelt schema must not drop a listed entity: LegalEntity matches every kind.
        report.warn(file, rid, "schema", f"unknown schema {raw_schema[:80]!r}; read as LegalEntity")
        schema = "LegalEntity"
    names: list[Name] = []
    add_name(names, bounded_name(row.get("name") or "", report, file, rid, "name"))
    for alias in (row.get("aliases") or "").split(SEPARATOR):
        add_name(names, bounded_name(alias, report, file, rid, "aliases"), NameKind.ALIAS, NameQuality.GOOD)
    if not names:
        report.error(file, rid, "name", "empty name; row skipped")
        return None
    if names[0].kind is not NameKind.PRIMARY:
        report.warn(file, rid, "name", f"empty name; listed under its aliases ({names[0].value[:80]!r} first)")
    notes: list[str] = []
    lookup = Countries(report, file)
    birth_dates: list[PartialDate] = []
    for text in _split(row.get("birth_date") or ""):
        try:
            birth_dates.append(d := parse_date(text))
        except ValueError as exc:
            report.warn(file, rid, "birth_date", f"{exc}; kept in notes")
            notes.append(f"birth_date: {text}")
            continue
        if note := date_note(text, d):
            notes.append(note)
    nationalities = [lookup.code(v, rid, "nationality", notes) for v in _split(row.get("nationality") or "")]
    countries = [lookup.code(v, rid, "country", notes) for v in _split(row.get("country") or "")]
    gender = None
    raw_gender = clean(row.get("gender") or "")
    if raw_gender:
        gender = GENDERS.get(raw_gender.lower())
        if gender is None:
            report.warn(file, rid, "gender", f"unknown gender {raw_gender[:40]!r}; ignored")
    doc_type = clean(row.get("document_type") or "") or None
    documents = [Document(n, doc_type) for n in _split(row.get("document_number") or "")]
    if doc_type and not documents:
        report.warn(file, rid, "document_type", "document_type without document_number; ignored")
    listed_on = None
    raw_listed = clean(row.get("listed_on") or "")
    if raw_listed:
        try:
            d = parse_date(raw_listed)
            listed_on = d.iso()
        except ValueError as exc:
            report.warn(file, rid, "listed_on", f"{exc}; ignored")
    return Entity(
        id=f"{list_name}-{rid}",
        schema=schema,
        list=list_name,
        source_id=rid,
        names=tuple(names),
        reference=clean(row.get("reference") or "") or rid,
        birth_dates=tuple(dict.fromkeys(birth_dates)),
        nationalities=dedupe([n for n in nationalities if n]),
        countries=dedupe([c for c in countries if c]),
        documents=tuple(dict.fromkeys(documents)),
        gender=gender,
        programs=dedupe(_split(row.get("program") or "")),
        listed_on=listed_on,
        notes=dedupe(notes),
    )


def _shown(name: str) -> str:
    return repr(name if len(name) <= SHOWN_COLUMN_CHARS else name[:SHOWN_COLUMN_CHARS] + "…")


def _check_header(file: str, header: list[str]) -> None:
    unknown = list(dict.fromkeys(c for c in header if c not in COLUMNS))
    if unknown:
        more = f" and {len(unknown) - SHOWN_COLUMNS:,} more" if len(unknown) > SHOWN_COLUMNS else ""
        raise ListError(
            file,
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(_shown, unknown[:SHOWN_COLUMNS]))}{more}; allowed: {', '.join(COLUMNS)}",
            field=unknown[0][:SHOWN_COLUMN_CHARS],
        )
    for col in REQUIRED:
        if col not in header:
            raise ListError(file, f"missing required column {col!r}", field=col)
    dupes = sorted(c for c, n in Counter(header).items() if n > 1)
    if dupes:
        raise ListError(file, f"column {dupes[0]!r} appears twice", field=dupes[0])


def _records(file: str, reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record. The reader is strict, so a quote that never closes
    is an error naming the line it opened on (a lenient reader makes the rest of the file one
    cell), and so is text after a closing quote."""
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except _csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise ListError(file, f"unterminated quote: a quoted field opened on line {start} is never closed", record=f"line {start}") from None
            raise ListError(file, f"malformed CSV record starting on line {start}: {exc}", record=f"line {start}") from None
        yield start, values


def read(path: Path, report: Report, list_name: str | None = None) -> Parsed:
    file = str(path)
    name = list_name or path.stem
    entities: list[Entity] = []
    seen: set[str] = set()
    old_limit = _csv.field_size_limit(MAX_CELL_BYTES)
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            records = _records(file, _csv.reader(fh, strict=True))
            first = next(records, None)
            if first is None:
                raise ListError(file, "empty file: no header row")
            header = [clean(h).lower() for h in first[1]]
            _check_header(file, header)
            for line, values in records:
                if not any(v.strip() for v in values):
                    continue
                report.records_read += 1
                if len(values) != len(header):
                    report.error(file, clean(values[0])[:200] if values else f"line {line}", None,
                                 f"line {line} has {len(values)} cells, the header has {len(header)}; row skipped")
                    continue
                entity = _row(dict(zip(header, values)), line, file, report, name, seen)
                if entity is not None:
                    entities.append(entity)
    except UnicodeDecodeError as exc:
        raise ListError(file, f"not UTF-8 text: {exc}") from None
    except _csv.Error as exc:
        raise ListError(file, f"unreadable CSV: {exc}") from None
    except OSError as exc:
        raise ListError(file, f"cannot read: {exc}") from None
    finally:
        _csv.field_size_limit(old_limit)
    return Parsed(entities, title=f"National list ({path.name})")


def _date_text(d: PartialDate) -> str:
    if d.kind is DateKind.BETWEEN:
        return f"{d.year}-{d.year_to}"
    if d.kind is DateKind.APPROXIMATE:
        return f"circa {d.iso()}"
    return d.iso()


def write(entities: Iterable[Entity], target: Path | io.TextIOBase) -> None:
    """Write entities in the template (the inverse of `read` for the fields it carries)."""

    def rows() -> Iterable[list[str]]:
        yield list(COLUMNS)
        for e in entities:
            yield [
                e.source_id,
                e.schema,
                e.caption,
                SEPARATOR.join(n.value for n in e.names if n.kind is not NameKind.PRIMARY),
                SEPARATOR.join(_date_text(d) for d in e.birth_dates),
                SEPARATOR.join(e.nationalities),
                e.gender or "",
                SEPARATOR.join(d.number for d in e.documents),
                next((d.type for d in e.documents if d.type), ""),
                SEPARATOR.join(e.countries),
                SEPARATOR.join(e.programs),
                e.listed_on or "",
                e.reference or "",
            ]

    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as fh:
            _csv.writer(fh).writerows(rows())
    else:
        _csv.writer(target).writerows(rows())
