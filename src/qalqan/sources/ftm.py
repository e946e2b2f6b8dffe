"""FollowTheMoney JSON lines (OpenSanctions exports): one `{"id", "schema", "properties"}` per line.

Schemata and properties are checked against followthemoney's model. Person -> Person;
Organization and its descendants (Company, PublicBody, ...) -> Organization; LegalEntity ->
LegalEntity; Vessel -> Vessel. Other schemata (Sanction, Address, Ownership, ...) are normal in
exports and are skipped with one warning per schema. Entity ids `<list>-<ftm id>`.

A line that is not JSON means a damaged or truncated file: ListError naming the line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from followthemoney import model
from followthemoney.types import registry

from qalqan.model import Document, Entity, ListError, Name, NameKind, NameQuality, PartialDate, Report
from qalqan.sources.schemata import screening_schema
from qalqan.sources.values import date_note, parse_date
from qalqan.sources.common import Parsed, add_name, bounded_name, clean, dedupe
from qalqan.sources.idnumbers import identifier_problem

NAME_PROPS: tuple[tuple[str, NameKind, NameQuality], ...] = (
    ("name", NameKind.PRIMARY, NameQuality.GOOD),
    ("alias", NameKind.ALIAS, NameQuality.GOOD),
    ("weakAlias", NameKind.ALIAS, NameQuality.LOW),
    ("previousName", NameKind.FORMER, NameQuality.GOOD),
)
DOCUMENT_PROPS = {
    "passportNumber": "Passport",
    "idNumber": "National ID",
    "registrationNumber": "Registration Number",
    "taxNumber": "Tax Number",
    "innCode": "INN",
    "ogrnCode": "OGRN",
    "imoNumber": "IMO number",
    "mmsi": "MMSI",
    "swiftBic": "SWIFT/BIC",
    "leiCode": "LEI",
    "vatCode": "VAT number",
    "callSign": "Call sign",
}
#: A Vessel's flag states: `Entity.flags`, the current flag first.
FLAG_PROPS = ("flag", "pastFlags")
#: Further FtM properties kept verbatim in `Entity.extra` (for display and yente-shaped output).
EXTRA_PROPS = ("title", "position", "birthCountry", "type", "buildDate", "website", "email", "topics")
#: One JSON line longer than this is not an entity record (largest OpenSanctions entities are a
#: few hundred kB); refusing it bounds memory per line.
MAX_LINE_BYTES = 64 * 1024 * 1024


def _strings(values: Any) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, list):
        return [v for v in values if isinstance(v, str)]
    return []


def _entity(data: dict[str, Any], line_no: int, file: str, report: Report, list_name: str, skipped: Counter[str]) -> Entity | None:
    fid = data.get("id")
    rid = str(fid) if isinstance(fid, (str, int)) and str(fid).strip() else f"line {line_no}"
    schema_name = data.get("schema")
    if not isinstance(schema_name, str) or model.get(schema_name) is None:
        report.error(file, rid, "schema", f"unknown FtM schema {schema_name!r}; skipped")
        return None
    target = screening_schema(schema_name)
    if target is None:
        skipped[schema_name] += 1
        return None
    if rid.startswith("line "):
        report.error(file, rid, "id", "entity without an id; skipped")
        return None
    schema = model.get(schema_name)
    assert schema is not None
    raw_props = data.get("properties") or {}
    if not isinstance(raw_props, dict):
        report.error(file, rid, "properties", "properties is not an object; skipped")
        return None
    props: dict[str, list[str]] = {}
    for prop, values in raw_props.items():
        if schema.get(prop) is None:
            report.warn(file, rid, prop, f"property {prop!r} is not part of FtM schema {schema_name}; ignored")
            continue
        vals = [clean(v) if len(v) < 4096 else v for v in _strings(values)]
        vals = [v for v in vals if v]
        if vals:
            props[prop] = vals

    names: list[Name] = []
    for prop, kind, quality in NAME_PROPS:
        for v in props.get(prop, []):
            add_name(names, bounded_name(v, report, file, rid, prop), kind, quality)
    if not names:
        report.error(file, rid, "name", "empty name; record skipped")
        return None
    if not any(n.kind is NameKind.PRIMARY for n in names):
        # A listed entity must not be lost to one empty property: its aliases still find it.
        report.warn(file, rid, "name", f"no 'name'; listed under its other names ({names[0].value[:80]!r} first)")
    notes: list[str] = []

    def countries(*fields: str) -> tuple[str, ...]:
        out = []
        for fld in fields:
            for v in props.get(fld, []):
                code = registry.country.clean(v)
                if code is None:
                    report.warn(file, rid, fld, f"unknown country {v[:80]!r}; kept in notes")
                    notes.append(f"{fld}: {v}")
                else:
                    out.append(code)
        return dedupe(out)

    birth_dates: list[PartialDate] = []
    for fld in ("birthDate", "incorporationDate"):
        for v in props.get(fld, []):
            try:
                birth_dates.append(d := parse_date(v))
            except ValueError as exc:
                report.warn(file, rid, fld, f"{exc}; kept in notes")
                notes.append(f"{fld}: {v}")
                continue
            if note := date_note(v, d):
                notes.append(note)
    gender = None
    for v in props.get("gender", []):
        gender = registry.gender.clean(v)
        if gender is None:
            report.warn(file, rid, "gender", f"unknown gender {v!r}; ignored")
    documents = []
    for prop, doc_type in DOCUMENT_PROPS.items():
        for value in props.get(prop, []):
            documents.append(doc := Document(value, doc_type))
            if problem := identifier_problem(doc):  # an IMO number, MMSI, BIC failing its check
                report.warn(file, rid, prop, f"{problem}; kept, compared as written")
    flags = countries(*FLAG_PROPS)  # before `notes` is read: an unknown flag is kept there
    notes = props.get("notes", []) + notes
    created = props.get("createdAt", [])
    return Entity(
        id=f"{list_name}-{rid}",
        schema=target,
        list=list_name,
        source_id=rid,
        names=tuple(names),
        reference=rid,
        birth_dates=tuple(dict.fromkeys(birth_dates)),
        birth_places=dedupe(props.get("birthPlace", [])),
        nationalities=countries("nationality", "citizenship"),
        countries=countries("country", "jurisdiction", "mainCountry"),
        documents=tuple(dict.fromkeys(documents)),
        gender=gender,
        addresses=dedupe(props.get("address", [])),
        programs=dedupe(props.get("program", []) + props.get("programId", [])),
        listed_on=created[0][:10] if created else None,
        notes=dedupe(notes),
        extra={p: dedupe(props[p]) for p in EXTRA_PROPS if p in props},
        flags=flags,
    )


def entity_from_dict(data: dict[str, Any], list_name: str, *, source: str = "input") -> tuple[Entity | None, Report]:
    """One FtM entity (a dict as in FtM JSON lines) as our Entity, with the report of what was
    wrong with it (None when it cannot be used: unknown schema, no id, no name)."""
    report = Report()
    return _entity(data, 1, source, report, list_name, Counter()), report


def read(path: Path, report: Report, list_name: str | None = None) -> Parsed:
    file = str(path)
    name = list_name or path.stem
    entities: list[Entity] = []
    skipped: Counter[str] = Counter()
    latest: str | None = None
    try:
        with path.open("rb") as fh:
            for line_no, line in enumerate(fh, 1):
                if len(line) > MAX_LINE_BYTES:
                    raise ListError(file, f"line of {len(line)} bytes is too long for an entity", record=f"line {line_no}")
                if not line.strip():
                    continue
                try:
                    data = orjson.loads(line)  # also rejects invalid UTF-8
                except orjson.JSONDecodeError as exc:
                    raise ListError(file, f"line {line_no} is not valid JSON (damaged or truncated file): {exc}", record=f"line {line_no}") from None
                if not isinstance(data, dict):
                    raise ListError(file, f"line {line_no} is not a JSON object", record=f"line {line_no}")
                report.records_read += 1
                entity = _entity(data, line_no, file, report, name, skipped)
                if entity is not None:
                    entities.append(entity)
                    changed = data.get("last_change")
                    if isinstance(changed, str) and (latest is None or changed > latest):
                        latest = changed
    except OSError as exc:
        raise ListError(file, f"cannot read: {exc}") from None
    for schema_name, count in sorted(skipped.items()):
        report.warn(file, None, "schema", f"{count} {schema_name} entities skipped: only Person, Organization, LegalEntity and Vessel are screened")
    return Parsed(entities, published=latest, title=f"FollowTheMoney entities ({path.name})")
