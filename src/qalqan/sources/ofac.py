"""OFAC sdnList XML (SDN and Consolidated non-SDN lists).

The XML namespace differs between exports (treasury.gov tempuri, sanctionslistservice, ...), so
elements are matched by local name only. sdnEntry -> Person (Individual), Organization (Entity),
Vessel (Vessel); entity ids `ofac-<uid>`. Aircraft are skipped and reported; a missing or
unknown sdnType is read as LegalEntity, with a warning. An entry without a first or last name is
kept under its a.k.a.s.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lxml import etree

from qalqan.model import Document, Entity, ListError, Name, NameKind, NameQuality, PartialDate, Report
from qalqan.sources.values import date_note, parse_date
from qalqan.sources.common import Countries, Parsed, add_name, bounded_name, clean, dedupe
from qalqan.sources.idnumbers import identifier_problem
from qalqan.sources.xmlsafe import child_text, children, iter_records, localname

SCHEMA_BY_TYPE = {"individual": "Person", "entity": "Organization", "vessel": "Vessel"}
#: sdnTypes OFAC uses for what Qalqan does not screen. Any other type (missing, misspelt) is
#: read as LegalEntity with a warning: a listed party must not be dropped for one bad field.
NOT_SCREENED_TYPES = frozenset({"aircraft"})
#: OFAC a.k.a. categories: "weak" a.k.a.s are too broad to rely on alone (OFAC's own guidance).
AKA_QUALITY = {"strong": NameQuality.GOOD, "weak": NameQuality.LOW}

#: idList types that are not identity documents. They carry sanctions metadata, contact data or
#: a person's attributes; keeping them as documents would make "document number" matches on
#: dates and e-mail addresses.
_NOT_DOCUMENT_PREFIXES = (
    "secondary sanctions risk",
    "executive order",
    "effective date",
    "listing date",
    "purchase/sales for divestment date",
    "target type",
    "organization type",
    "organization established date",
    "caatsa section",
    "issuer name",
    "equity ticker",
    "transactions prohibited",
    "additional sanctions information",
    "nationality of registration",
    "gender",
    "website",
    "email address",
    "phone number",
)
_EXTRA_PROPERTY = {"website": "website", "email address": "email", "phone number": "phone"}


def _record_id(el: etree._Element) -> str | None:
    return child_text(el, "uid") or None


def _list_items(el: etree._Element, list_tag: str, item_tag: str) -> list[etree._Element]:
    out: list[etree._Element] = []
    for group in children(el, list_tag):
        out.extend(children(group, item_tag))
    return out


def _full_name(first: str, last: str) -> str:
    return " ".join(p for p in (first, last) if p)


def _entry(el: etree._Element, file: str, report: Report, list_name: str) -> Entity | None:
    rid = _record_id(el)
    if not rid:
        report.error(file, None, "uid", "sdnEntry without uid; skipped")
        return None
    sdn_type = child_text(el, "sdnType")
    schema = SCHEMA_BY_TYPE.get(sdn_type.lower())
    if sdn_type.lower() in NOT_SCREENED_TYPES:
        report.error(file, rid, "sdnType", f"sdnType {sdn_type!r} is not screened (Person/Organization/Vessel only); skipped")
        return None
    if schema is None:
        # A missing or misspelt type must not drop a listed party: screened as "could be either".
        report.warn(file, rid, "sdnType", f"unknown sdnType {sdn_type[:40]!r}; read as LegalEntity")
        schema = "LegalEntity"
    notes: list[str] = []
    lookup = Countries(report, file)

    def country(text: str, fld: str) -> str | None:
        return lookup.code(text, rid, fld, notes)

    names: list[Name] = []
    first = bounded_name(child_text(el, "firstName"), report, file, rid, "firstName")
    last = bounded_name(child_text(el, "lastName"), report, file, rid, "lastName")
    primary = _full_name(first, last)
    parts: tuple[tuple[str, str], ...] = ()
    if schema == "Person" and first and last:
        parts = (("given", first), ("family", last))
    add_name(names, primary, NameKind.PRIMARY, NameQuality.GOOD, parts)
    for aka in _list_items(el, "akaList", "aka"):
        a_first = bounded_name(child_text(aka, "firstName"), report, file, rid, "aka/firstName")
        a_last = bounded_name(child_text(aka, "lastName"), report, file, rid, "aka/lastName")
        value = _full_name(a_first, a_last)
        if not value:
            report.warn(file, rid, "aka", "a.k.a. without a name; ignored")
            continue
        category = child_text(aka, "category").lower()
        quality = AKA_QUALITY.get(category)
        if quality is None:
            report.warn(file, rid, "aka/category", f"unknown a.k.a. category {category!r}; kept as strong")
            quality = NameQuality.GOOD
        kind = NameKind.FORMER if child_text(aka, "type").lower() == "f.k.a." else NameKind.ALIAS
        a_parts = (("given", a_first), ("family", a_last)) if schema == "Person" and a_first and a_last else ()
        add_name(names, value, kind, quality, a_parts)
    if not names:
        report.error(file, rid, "lastName", "empty name; record skipped")
        return None
    if not primary:
        # A listed party must not be lost to one empty field: its a.k.a.s still find it.
        report.warn(file, rid, "lastName", f"empty name; listed under its a.k.a.s ({names[0].value!r} first)")

    birth_dates: list[PartialDate] = []
    for item in _list_items(el, "dateOfBirthList", "dateOfBirthItem"):
        text = child_text(item, "dateOfBirth")
        if not text:
            continue
        try:
            birth_dates.append(d := parse_date(text))
        except ValueError as exc:
            report.warn(file, rid, "dateOfBirth", f"{exc}; kept in notes")
            notes.append(f"date of birth: {text}")
            continue
        if note := date_note(text, d):  # converted from another calendar: keep the original
            notes.append(note)
    birth_places = [clean(child_text(i, "placeOfBirth")) for i in _list_items(el, "placeOfBirthList", "placeOfBirthItem")]
    nationalities = [
        country(child_text(i, "country"), f"{tag}/country")
        for tag, item in (("nationalityList", "nationality"), ("citizenshipList", "citizenship"))
        for i in _list_items(el, tag, item)
    ]
    addresses, countries = [], []
    for addr in _list_items(el, "addressList", "address"):
        parts_ = [child_text(addr, t) for t in ("address1", "address2", "address3", "city", "stateOrProvince", "postalCode", "country")]
        text = ", ".join(clean(p) for p in parts_ if p)
        if text:
            addresses.append(text)
        if child_text(addr, "country"):
            countries.append(country(child_text(addr, "country"), "address/country"))

    documents: list[Document] = []
    gender: str | None = None
    extra: dict[str, list[str]] = {}
    for ident in _list_items(el, "idList", "id"):
        id_type = clean(child_text(ident, "idType"))
        number = clean(child_text(ident, "idNumber"))
        low = id_type.lower()
        if low == "gender":
            gender = {"male": "male", "female": "female"}.get(number.lower())
            if gender is None:
                report.warn(file, rid, "idList/Gender", f"unknown gender {number!r}; ignored")
            continue
        if low == "nationality of registration":
            countries.append(country(number, "idList/Nationality of Registration"))
            continue
        if low in _EXTRA_PROPERTY:
            extra.setdefault(_EXTRA_PROPERTY[low], []).append(number)
            continue
        if low.startswith(_NOT_DOCUMENT_PREFIXES):
            notes.append(f"{id_type} {number}".strip())
            continue
        if not number:
            report.warn(file, rid, "idList/idNumber", f"identifier of type {id_type!r} without a number; ignored")
            continue
        id_country = child_text(ident, "idCountry")
        code = country(id_country, "idList/idCountry") if id_country else None
        documents.append(doc := Document(number, id_type or None, code))
        if problem := identifier_problem(doc):  # an IMO, MMSI, BIC, IBAN failing its check
            report.warn(file, rid, f"idList/{id_type}", f"{problem}; kept, compared as written")
        if low == "vessel registration identification" or low.startswith("imo"):
            extra.setdefault("imoNumber", []).append(number)

    flags: list[str] = []
    if schema == "Vessel":
        for info in children(el, "vesselInfo"):
            for tag, prop in (("vesselType", "type"), ("vesselOwner", "ownerName")):
                if child_text(info, tag):
                    extra.setdefault(prop, []).append(clean(child_text(info, tag)))
            if call_sign := clean(child_text(info, "callSign")):
                documents.append(Document(call_sign, "Call sign"))
            flag = child_text(info, "vesselFlag")
            if flag and (code := country(flag, "vesselInfo/vesselFlag")):
                flags.append(code)
    remarks = clean(child_text(el, "remarks"))
    if remarks:
        notes.insert(0, remarks)
    if title := clean(child_text(el, "title")):
        extra.setdefault("title" if schema == "Person" else "summary", []).append(title)
    programs = [clean(p.text) for p in _list_items(el, "programList", "program") if clean(p.text)]
    return Entity(
        id=f"{list_name}-{rid}",
        schema=schema,
        list=list_name,
        source_id=rid,
        names=tuple(names),
        reference=rid,
        birth_dates=tuple(dict.fromkeys(birth_dates)),
        birth_places=dedupe(birth_places),
        nationalities=dedupe([n for n in nationalities if n]),
        countries=dedupe([c for c in countries if c]),
        documents=tuple(dict.fromkeys(documents)),
        gender=gender,
        addresses=dedupe(addresses),
        programs=dedupe(programs),
        notes=dedupe(notes),
        extra={k: dedupe(v) for k, v in extra.items()},
        flags=dedupe(flags),
    )


def _iso_publish_date(text: str) -> str | None:
    """OFAC writes MM/DD/YYYY."""
    text = text.strip()
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text or None


def read(path: Path, report: Report, list_name: str = "ofac") -> Parsed:
    file = str(path)

    def on_root(root: etree._Element) -> None:
        if localname(root) != "sdnList":
            raise ListError(file, f"not an OFAC sdnList: root element is <{localname(root)}>")

    published: str | None = None
    declared_count: int | None = None
    entities: list[Entity] = []
    seen = 0
    for el in iter_records(path, frozenset({"sdnEntry", "publshInformation"}), record_id=_record_id, on_root=on_root):
        if localname(el) == "publshInformation":
            published = _iso_publish_date(child_text(el, "Publish_Date"))
            count = child_text(el, "Record_Count")
            declared_count = int(count) if count.isdigit() else None
            continue
        report.records_read += 1
        seen += 1
        entity = _entry(el, file, report, list_name)
        if entity is not None:
            entities.append(entity)
    if declared_count is not None and declared_count != seen:
        # The header's count disagreeing with the entries read means a damaged export.
        raise ListError(file, f"Record_Count says {declared_count} entries but {seen} were read")
    return Parsed(entities, published=published, title="OFAC sanctions list")
