"""UN Security Council Consolidated List, official XML schema (sc-sanctions.xsd).

INDIVIDUAL -> Person, ENTITY -> Organization; entity ids `un-<DATAID>`. Every name part, the
original-script name, aliases with their quality, every date-of-birth form, places of birth,
nationalities, documents, gender, addresses, reference number, list type and listing date are
kept. Streamed with `xmlsafe.iter_records`.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from qalqan.model import DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate, Report
from qalqan.sources.values import date_note, parse_date
from qalqan.sources.common import (
    Countries,
    Parsed,
    add_name,
    approximate,
    bounded_name,
    clean,
    dedupe,
)
from qalqan.sources.idnumbers import imo_problem
from qalqan.sources.xmlsafe import child_text, children, iter_records, localname

RECORD_TAGS = frozenset({"INDIVIDUAL", "ENTITY"})
#: An IMO number in free text: "IMO number: 5571322", "(IMO) Number: 1790183", "IMO 5434358".
_COMMENT_IMO = re.compile(r"\bIMO\)?(?:\s+(?:number|no\.?))?\s*:?\s*(\d{7})\b", re.I)
NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")

#: UN alias QUALITY values. Empty ALIAS_NAME elements with empty QUALITY are the schema's empty
#: placeholders and are skipped without a report.
ALIAS_QUALITY: dict[str, tuple[NameKind, NameQuality]] = {
    "good": (NameKind.ALIAS, NameQuality.GOOD),
    "a.k.a.": (NameKind.ALIAS, NameQuality.GOOD),
    "low": (NameKind.ALIAS, NameQuality.LOW),
    "f.k.a.": (NameKind.FORMER, NameQuality.GOOD),
}
GENDERS = {"male": "male", "female": "female"}


def _values(el: etree._Element, name: str) -> list[str]:
    """Texts of `<name><VALUE>..</VALUE>...</name>` children."""
    out: list[str] = []
    for group in children(el, name):
        out.extend(clean(v.text) for v in children(group, "VALUE") if clean(v.text))
    return out


def _record_id(el: etree._Element) -> str | None:
    return child_text(el, "DATAID") or None


class _Record:
    """Reads one INDIVIDUAL or ENTITY element into an Entity, reporting what it cannot use."""

    def __init__(self, el: etree._Element, file: str, report: Report, list_name: str):
        self.el, self.file, self.report, self.list_name = el, file, report, list_name
        self.is_person = localname(el) == "INDIVIDUAL"
        self.rid = _record_id(el)
        self.countries_lookup = Countries(report, file)
        self.notes: list[str] = []
        self.names: list[Name] = []
        self.birth_dates: list[PartialDate] = []
        self.birth_places: list[str] = []
        self.birth_countries: list[str] = []

    def warn(self, fld: str, message: str) -> None:
        self.report.warn(self.file, self.rid, fld, message)

    def country(self, text: str, fld: str) -> str | None:
        return self.countries_lookup.code(text, self.rid, fld, self.notes)

    def primary_name(self) -> None:
        raw = [child_text(self.el, p) for p in NAME_PARTS]
        parts = [bounded_name(p, self.report, self.file, self.rid, f) for p, f in zip(raw, NAME_PARTS) if p]
        value = " ".join(p for p in parts if p)
        if not value:
            return
        name_parts: tuple[tuple[str, str], ...] = ()
        if self.is_person and len(parts) >= 2:
            # UN lists given name(s) first and the family (or last) name last.
            name_parts = (("given", parts[0]),)
            if len(parts) > 2:
                name_parts += (("middle", " ".join(parts[1:-1])),)
            name_parts += (("family", parts[-1]),)
        add_name(self.names, value, NameKind.PRIMARY, NameQuality.GOOD, name_parts)

    def aliases(self) -> None:
        tag = "INDIVIDUAL_ALIAS" if self.is_person else "ENTITY_ALIAS"
        for alias in children(self.el, tag):
            value = bounded_name(child_text(alias, "ALIAS_NAME"), self.report, self.file, self.rid, "ALIAS_NAME")
            quality = child_text(alias, "QUALITY")
            if not value:
                if quality:
                    self.warn("ALIAS_NAME", f"alias of quality {quality!r} has no name; ignored")
                continue
            kind_quality = ALIAS_QUALITY.get(quality.lower())
            if kind_quality is None:
                if quality:
                    self.warn("QUALITY", f"unknown alias quality {quality!r}; alias {value!r} kept as good")
                kind_quality = (NameKind.ALIAS, NameQuality.GOOD)
            add_name(self.names, value, *kind_quality)
            note = clean(child_text(alias, "NOTE"))
            if note:
                self.notes.append(f"alias {value}: {note}")
            # Some aliases carry the date and place of birth used under that name.
            dob = child_text(alias, "DATE_OF_BIRTH")
            if dob:
                self.add_date(dob, "INDIVIDUAL_ALIAS/DATE_OF_BIRTH")
            place = ", ".join(clean(x) for x in (child_text(alias, "CITY_OF_BIRTH"), child_text(alias, "COUNTRY_OF_BIRTH")) if x)
            if place:
                self.birth_places.append(place)
            cob = child_text(alias, "COUNTRY_OF_BIRTH")
            if cob and (code := self.country(cob, "INDIVIDUAL_ALIAS/COUNTRY_OF_BIRTH")):
                self.birth_countries.append(code)
        original = bounded_name(child_text(self.el, "NAME_ORIGINAL_SCRIPT"), self.report, self.file, self.rid, "NAME_ORIGINAL_SCRIPT")
        if original:
            add_name(self.names, original, NameKind.ORIGINAL_SCRIPT)

    def add_date(self, text: str, fld: str, approx: bool = False) -> None:
        try:
            d = parse_date(text)
        except ValueError as exc:
            self.warn(fld, f"{exc}; kept in notes")
            self.notes.append(f"date of birth: {clean(text)}")
            return
        self.birth_dates.append(approximate(d) if approx else d)
        if note := date_note(text, d):  # converted from another calendar: keep the original
            self.notes.append(note)

    def dates_of_birth(self) -> None:
        for dob in children(self.el, "INDIVIDUAL_DATE_OF_BIRTH"):
            kind = child_text(dob, "TYPE_OF_DATE").upper()
            date, year, note = child_text(dob, "DATE"), child_text(dob, "YEAR"), clean(child_text(dob, "NOTE"))
            from_year, to_year = child_text(dob, "FROM_YEAR"), child_text(dob, "TO_YEAR")
            fld = "INDIVIDUAL_DATE_OF_BIRTH"
            if kind == "BETWEEN" or (from_year and to_year):
                try:
                    a, b = int(from_year), int(to_year)
                    if b < a:
                        self.warn(fld, f"BETWEEN range {a}..{b} is reversed; read as {b}..{a}")
                        a, b = b, a
                    d = PartialDate(a, kind=DateKind.BETWEEN, year_to=b) if b > a else PartialDate(a, kind=DateKind.APPROXIMATE)
                    self.birth_dates.append(d)
                except ValueError:
                    self.warn(fld, f"unreadable BETWEEN range {from_year!r}..{to_year!r}; kept in notes")
                    self.notes.append(f"date of birth: between {from_year} and {to_year}")
            elif date or year:
                self.add_date(date or year, fld, approx=kind == "APPROXIMATELY")
            elif note:
                # Free text only ("Nov. 1973", "circa 1975", "30-35 years old"): read what we can.
                self.add_date(note, fld + "/NOTE", approx=kind == "APPROXIMATELY")
                continue
            elif kind:
                self.warn(fld, f"date of birth of type {kind} without a value; ignored")
            if note:
                self.notes.append(f"date of birth note: {note}")

    def places_of_birth(self) -> None:
        for pob in children(self.el, "INDIVIDUAL_PLACE_OF_BIRTH"):
            parts = [child_text(pob, t) for t in ("STREET", "CITY", "STATE_PROVINCE", "COUNTRY")]
            place = ", ".join(clean(p) for p in parts if p)
            if place:
                self.birth_places.append(place)
            country = child_text(pob, "COUNTRY")
            if country and (code := self.country(country, "INDIVIDUAL_PLACE_OF_BIRTH/COUNTRY")):
                self.birth_countries.append(code)
            note = clean(child_text(pob, "NOTE"))
            if note:
                self.notes.append(f"place of birth note: {note}")

    def documents(self) -> list[Document]:
        docs: list[Document] = []
        for doc in children(self.el, "INDIVIDUAL_DOCUMENT"):
            types = [clean(child_text(doc, t)) for t in ("TYPE_OF_DOCUMENT", "TYPE_OF_DOCUMENT2")]
            dtype = " / ".join(t for t in types if t) or None
            number = clean(child_text(doc, "NUMBER"))
            issuer = child_text(doc, "ISSUING_COUNTRY") or child_text(doc, "COUNTRY_OF_ISSUE")
            code = self.country(issuer, "INDIVIDUAL_DOCUMENT/ISSUING_COUNTRY") if issuer else None
            extra = [clean(child_text(doc, "NOTE"))]
            if child_text(doc, "DATE_OF_ISSUE"):
                extra.append("issued " + clean(child_text(doc, "DATE_OF_ISSUE")))
            if child_text(doc, "CITY_OF_ISSUE"):
                extra.append("in " + clean(child_text(doc, "CITY_OF_ISSUE")))
            note = "; ".join(x for x in extra if x) or None
            if number:
                docs.append(Document(number, dtype, code, note))
            elif dtype or note:
                # The number is only in free text (e.g. "Libyan passport number 347834"): keep it readable.
                self.notes.append("document: " + "; ".join(x for x in (dtype, note) if x))
        return docs

    def comment_imo_numbers(self, comments: str) -> list[Document]:
        """IMO numbers the UN writes only in an entity's comments ("IMO number: 5571322",
        "International Maritime Organization (IMO) Number: 1790183", "Company Number IMO
        5434358"): DPRK shipping companies, registered owners and ship managers. A number
        failing both IMO check digits (ship, company) is warned about and left in the comments."""
        docs: list[Document] = []
        for number in dict.fromkeys(_COMMENT_IMO.findall(comments)):
            if problem := imo_problem(number):
                self.warn("COMMENTS1", f"{problem}; left in the comments")
            else:
                docs.append(Document(number, "IMO number", note="from the comments"))
        return docs

    def addresses(self) -> tuple[list[str], list[str]]:
        tag = "INDIVIDUAL_ADDRESS" if self.is_person else "ENTITY_ADDRESS"
        addresses, countries = [], []
        for addr in children(self.el, tag):
            parts = [child_text(addr, t) for t in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")]
            text = ", ".join(clean(p) for p in parts if p)
            note = clean(child_text(addr, "NOTE"))
            if text:
                addresses.append(text + (f" ({note})" if note else ""))
            country = child_text(addr, "COUNTRY")
            if country and (code := self.country(country, f"{tag}/COUNTRY")):
                countries.append(code)
        return addresses, countries

    def build(self) -> Entity | None:
        if not self.rid:
            self.report.error(self.file, None, "DATAID", "record without DATAID; skipped")
            return None
        self.primary_name()
        self.aliases()
        if not self.names:
            self.report.error(self.file, self.rid, "FIRST_NAME", "empty name; record skipped")
            return None
        if not any(n.kind is NameKind.PRIMARY for n in self.names):
            # A listed person must not be lost to one empty field: the aliases still find them.
            self.warn("FIRST_NAME", f"empty name; listed under its other names ({self.names[0].value!r} first)")
        nationalities = []
        gender = None
        docs: list[Document] = []
        extra: dict[str, tuple[str, ...]] = {}
        if self.is_person:
            for nat in _values(self.el, "NATIONALITY"):
                code = self.country(nat, "NATIONALITY")
                if code:
                    nationalities.append(code)
            self.dates_of_birth()
            self.places_of_birth()
            docs = self.documents()
            raw_gender = child_text(self.el, "GENDER")
            if raw_gender:
                gender = GENDERS.get(raw_gender.lower())
                if gender is None:
                    self.warn("GENDER", f"unknown gender {raw_gender!r}; ignored")
            if titles := _values(self.el, "TITLE"):
                extra["title"] = dedupe(titles)
            if positions := _values(self.el, "DESIGNATION"):
                extra["position"] = dedupe(positions)
            if self.birth_countries:
                extra["birthCountry"] = dedupe(self.birth_countries)
        addresses, countries = self.addresses()
        comments = clean(child_text(self.el, "COMMENTS1"))
        if comments:
            self.notes.insert(0, comments)
            if not self.is_person:
                docs.extend(self.comment_imo_numbers(comments))
        list_type = clean(child_text(self.el, "UN_LIST_TYPE"))
        return Entity(
            id=f"{self.list_name}-{self.rid}",
            schema="Person" if self.is_person else "Organization",
            list=self.list_name,
            source_id=self.rid,
            names=tuple(self.names),
            reference=clean(child_text(self.el, "REFERENCE_NUMBER")) or None,
            birth_dates=tuple(dict.fromkeys(self.birth_dates)),
            birth_places=dedupe(self.birth_places),
            nationalities=dedupe(nationalities),
            countries=dedupe(countries),
            documents=tuple(dict.fromkeys(docs)),
            gender=gender,
            addresses=dedupe(addresses),
            programs=(list_type,) if list_type else (),
            listed_on=clean(child_text(self.el, "LISTED_ON")) or None,
            notes=dedupe(self.notes),
            extra=extra,
        )


def read(path: Path, report: Report, list_name: str = "un") -> Parsed:
    file = str(path)
    root_attrs: dict[str, str] = {}

    def on_root(root: etree._Element) -> None:
        if localname(root) != "CONSOLIDATED_LIST":
            from qalqan.model import ListError

            raise ListError(file, f"not a UN consolidated list: root element is <{localname(root)}>")
        root_attrs.update(root.attrib)

    entities: list[Entity] = []
    for el in iter_records(path, RECORD_TAGS, record_id=_record_id, on_root=on_root):
        report.records_read += 1
        entity = _Record(el, file, report, list_name).build()
        if entity is not None:
            entities.append(entity)
    return Parsed(entities, published=root_attrs.get("dateGenerated"), title="UN Security Council Consolidated List")
