"""Canada's Consolidated Autonomous Sanctions List (SEMA / JVCFOA), `<data-set><record>` XML.

A record is a person (LastName / GivenName) or an entity or ship (EntityOrShip). Ships are the
EntityOrShip records with an IMO number or a ship type in TitleOrShip ("Oil Tanker", ...) ->
Vessel. The `Country` element names the sanctions *regime* (e.g. "Russia / Russie", or the
JVCFOR regulations), not the person's nationality, so it goes to `programs` with the schedule.

The list has no record id. Records are keyed by (regime, schedule, item), which is unique in the
list; entity ids are `ca-<n>` with n the record's 1-based position in the file, and the key is
kept as `source_id` / `reference`.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from qalqan.model import Document, Entity, ListError, Name, NameKind, NameQuality, PartialDate, Report
from qalqan.sources.values import date_note, parse_date
from qalqan.sources.common import Parsed, add_name, bounded_name, clean, dedupe
from qalqan.sources.idnumbers import imo_problem
from qalqan.sources.xmlsafe import child_text, iter_records, localname

#: Alias lists separate names by ";" and give bilingual / bi-script variants as "A / B".
_ALIAS_SPLIT = re.compile(r"\s*;\s*|\s+/\s+")
#: "1963 or 1964", "1965-07-15 OR 1969-09-28": several possible dates of birth.
_OR_SPLIT = re.compile(r"\s+or\s+", re.I)
#: TitleOrShip values on EntityOrShip records that are vessel types, not titles.
_SHIP_WORDS = ("tanker", "cargo", "ro-ro", "carrier", "vessel", "fso", "container", "bulk")


def _regime(text: str) -> str:
    """The English half of a bilingual "English / Français" regime name."""
    text = clean(text)
    return text.split(" / ", 1)[0].strip() if " / " in text else text


def _is_ship(el: etree._Element) -> bool:
    if child_text(el, "ShipIMONumber"):
        return True
    kind = child_text(el, "TitleOrShip").lower()
    return any(w in kind for w in _SHIP_WORDS)


def _record(el: etree._Element, n: int, file: str, report: Report, list_name: str) -> Entity | None:
    regime = _regime(child_text(el, "Country"))
    schedule, item = clean(child_text(el, "Schedule")), clean(child_text(el, "Item"))
    key = "/".join((regime, schedule, item))
    rid = str(n)
    last = bounded_name(child_text(el, "LastName"), report, file, rid, "LastName")
    given = bounded_name(child_text(el, "GivenName"), report, file, rid, "GivenName")
    org = bounded_name(child_text(el, "EntityOrShip"), report, file, rid, "EntityOrShip")
    title = clean(child_text(el, "TitleOrShip"))
    names: list[Name] = []
    notes: list[str] = []
    extra: dict[str, tuple[str, ...]] = {}
    documents: list[Document] = []
    if last or given:
        schema = "Person"
        parts = tuple((k, v) for k, v in (("given", given), ("family", last)) if v)
        add_name(names, " ".join(p for p in (given, last) if p), NameKind.PRIMARY, NameQuality.GOOD, parts)
        if title:
            extra["title"] = (title,)
    elif org:
        schema = "Vessel" if _is_ship(el) else "Organization"
        add_name(names, org)
        if schema == "Vessel":
            if title:
                extra["type"] = (title,)
            imo = clean(child_text(el, "ShipIMONumber"))
            if imo:
                extra["imoNumber"] = (imo,)
                documents.append(Document(imo, "IMO number"))
                if problem := imo_problem(imo, vessel_only=True):
                    report.warn(file, rid, "ShipIMONumber", f"{problem}; kept, compared as a plain document number")
        elif title:
            notes.append(title)
    else:
        # Neither a person's nor an entity's name: only aliases can still find the record.
        schema = "LegalEntity"
    aliases = clean(child_text(el, "Aliases"))
    for alias in _ALIAS_SPLIT.split(aliases) if aliases else ():
        add_name(names, bounded_name(alias, report, file, rid, "Aliases"), NameKind.ALIAS)
    if not names:
        report.error(file, rid, "LastName", f"record {key} has no name; skipped")
        return None
    if schema == "LegalEntity":
        report.warn(file, rid, "LastName", f"record {key} has no LastName, GivenName or EntityOrShip; listed under its aliases as LegalEntity")
    birth_dates: list[PartialDate] = []
    dob = clean(child_text(el, "DateOfBirthOrShipBuildDate"))
    if dob:
        for one in _OR_SPLIT.split(dob):
            try:
                birth_dates.append(d := parse_date(one))
            except ValueError as exc:
                # One bad alternative must not lose the others ("1963-13-01 or 1964").
                report.warn(file, rid, "DateOfBirthOrShipBuildDate", f"{exc}; kept in notes")
                notes.append(f"date of birth: {one}")
                continue
            if note := date_note(one, d):
                notes.append(note)
    if schema == "Vessel" and birth_dates:
        extra["buildDate"] = tuple(d.iso() for d in birth_dates)
        birth_dates = []  # a ship's build date is not a date of birth to match people on
    listed = clean(child_text(el, "DateOfListing"))
    programs = [regime] + ([f"{regime} Schedule {schedule}"] if schedule else [])
    return Entity(
        id=f"{list_name}-{n}",
        schema=schema,
        list=list_name,
        source_id=key,
        names=tuple(names),
        reference=key,
        birth_dates=tuple(dict.fromkeys(birth_dates)),
        documents=tuple(documents),
        programs=dedupe(programs),
        listed_on=listed or None,
        notes=dedupe(notes),
        extra=extra,
    )


def read(path: Path, report: Report, list_name: str = "ca") -> Parsed:
    file = str(path)

    def on_root(root: etree._Element) -> None:
        if localname(root) != "data-set":
            raise ListError(file, f"not Canada's consolidated list: root element is <{localname(root)}>")

    entities: list[Entity] = []
    n = 0
    latest: str | None = None

    def record_id(_el: etree._Element) -> str:
        return str(n + 1)

    for el in iter_records(path, frozenset({"record"}), record_id=record_id, on_root=on_root):
        n += 1
        report.records_read += 1
        entity = _record(el, n, file, report, list_name)
        if entity is not None:
            entities.append(entity)
            if entity.listed_on and (latest is None or entity.listed_on > latest):
                latest = entity.listed_on
    # The file carries no publication date; the newest listing date is the best stand-in.
    return Parsed(entities, published=latest, title="Canada Consolidated Autonomous Sanctions List")
