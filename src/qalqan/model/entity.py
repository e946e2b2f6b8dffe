"""The one entity model every list reader yields.

It follows FollowTheMoney (schemata Person / Organization / LegalEntity / Vessel and FtM property
names in `Entity.properties()`), but keeps what FtM flattens away and screening needs: alias
quality, the form of a date of birth (exact, year only, approximate, a range of years) and
structured identity documents.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from enum import StrEnum

#: FtM schemata an entity may have. LegalEntity is FtM's "could be a person or a company".
SCHEMATA = ("Person", "Organization", "LegalEntity", "Vessel")

class NameKind(StrEnum):
    PRIMARY = "primary"  # the listing's main name
    ALIAS = "alias"  # a.k.a.
    ORIGINAL_SCRIPT = "original_script"  # e.g. UN NAME_ORIGINAL_SCRIPT
    FORMER = "former"  # f.k.a. / previous name


class NameQuality(StrEnum):
    GOOD = "good"
    LOW = "low"  # UN "Low" quality alias, OFAC "weak" a.k.a.: too broad to rely on alone


@dataclass(frozen=True, slots=True)
class Name:
    """One name of an entity, as the source spells it."""

    value: str
    kind: NameKind = NameKind.PRIMARY
    quality: NameQuality = NameQuality.GOOD
    #: Name parts where the source gives them, e.g. {"given": "Abu Bakr", "family": "al-Baghdadi"}.
    #: Keys: given, middle, family, patronymic, matronymic, title.
    parts: tuple[tuple[str, str], ...] = ()


class DateKind(StrEnum):
    EXACT = "exact"  # a full or partial calendar date known exactly (1971, 1971-05, 1971-05-02)
    APPROXIMATE = "approximate"  # "circa", UN APPROXIMATELY: give or take a few years
    BETWEEN = "between"  # UN BETWEEN: from `year` to `year_to` inclusive


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date of birth in any of the forms lists publish.

    `year` is always set; `month` and `day` only when known. For BETWEEN, `year_to` is the last
    year of the range.
    """

    year: int
    month: int | None = None
    day: int | None = None
    kind: DateKind = DateKind.EXACT
    year_to: int | None = None

    def __post_init__(self) -> None:
        if not 1000 <= self.year <= 2999:
            raise ValueError(f"year out of range: {self.year}")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")
        if self.day is not None and (self.month is None or not 1 <= self.day <= 31):
            raise ValueError(f"day out of range: {self.day}")
        if self.kind is DateKind.BETWEEN and (self.year_to is None or self.year_to < self.year):
            raise ValueError("a BETWEEN date needs year_to >= year")

    @property
    def first_year(self) -> int:
        return self.year

    @property
    def last_year(self) -> int:
        return self.year_to if self.year_to is not None else self.year

    def iso(self) -> str:
        """FtM's date form: the known prefix of YYYY-MM-DD (a range gives its first year)."""
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
            if self.day is not None:
                out += f"-{self.day:02d}"
        return out

    def __str__(self) -> str:
        if self.kind is DateKind.BETWEEN:
            return f"{self.year}..{self.year_to}"
        if self.kind is DateKind.APPROXIMATE:
            return f"~{self.iso()}"
        return self.iso()


class IdKind(StrEnum):
    """What an identifier identifies, read from its type as lists write it (`identifier_kind`)."""

    IMO = "imo"  # a ship's (or a shipping company's) IMO number: the hull's for life
    MMSI = "mmsi"  # Maritime Mobile Service Identity: 9 digits, re-issued with a new flag
    CALL_SIGN = "call_sign"  # a ship's radio call sign
    REGISTRATION = "registration"  # company registration numbers (OGRN, LEI, USCC, C.R. No., ...)
    TAX_ID = "tax_id"  # tax numbers (INN, Kazakh BIN/IIN, VAT, ...)
    BIC = "bic"  # SWIFT/BIC bank codes
    IBAN = "iban"
    CRYPTO = "crypto"  # digital currency (wallet) addresses


#: Identifiers only vessels carry: matched by their own features (`imo_match`, ...), not as
#: identity documents.
VESSEL_KINDS = frozenset({IdKind.IMO, IdKind.MMSI, IdKind.CALL_SIGN})

#: (pattern on the lower-cased document type, kind), first match wins: IMO before
#: "registration" (OFAC writes a ship's IMO number as "Vessel Registration Identification"),
#: and Russia's BIK before SWIFT/BIC (a domestic bank code, not a BIC).
_KIND_PATTERNS: tuple[tuple[re.Pattern[str], IdKind | None], ...] = (
    (re.compile(r"\bimo\b|vessel registration identification"), IdKind.IMO),
    (re.compile(r"\bmmsi\b"), IdKind.MMSI),
    (re.compile(r"\bcall ?sign\b"), IdKind.CALL_SIGN),
    (re.compile(r"digital currency|crypto|wallet"), IdKind.CRYPTO),
    (re.compile(r"\biban\b"), IdKind.IBAN),
    (re.compile(r"\bbik\b"), None),
    (re.compile(r"\bswift\b|\bbic\b"), IdKind.BIC),
    (re.compile(r"\btax\b|\binn\b|\bbin\b|\biin\b|\bv\.?a\.?t\b"), IdKind.TAX_ID),
    (re.compile(r"registration|\bcompany number\b|\bc\.?r\.? no\b|\bogrn\b|\blei\b|legal entity number|\buscc\b"), IdKind.REGISTRATION),
)


def identifier_kind(doc_type: str | None) -> IdKind | None:
    """The kind of an identifier from its type as written ("IMO number", "Digital Currency
    Address - XBT", "SWIFT/BIC", "Tax ID No."); None for identity documents (passports, national
    ids) and types not recognised. Derived rather than stored, so entities stored before kinds
    existed read the same, and every reader only has to write a recognisable type."""
    if not doc_type:
        return None
    text = doc_type.lower()
    for pattern, kind in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class Document:
    """An identity document or identifier: passport, national id, tax number, IMO number, ..."""

    number: str
    type: str | None = None  # free text as the source says it, e.g. "Passport", "National Identification Number"
    country: str | None = None  # ISO 3166-1 alpha-2, lower case, as FtM
    note: str | None = None

    @property
    def kind(self) -> IdKind | None:
        """What the number identifies (`identifier_kind` of its type)."""
        return identifier_kind(self.type)


@dataclass(slots=True)
class Entity:
    """A listed person, organisation or vessel from one list.

    `id` is unique across all loaded lists: `<list>-<source id>` (e.g. "un-6908555").
    Countries are ISO 3166-1 alpha-2 codes in lower case (FtM's form), or FtM's own codes for
    entities that are not ISO countries (e.g. "suhh" for the Soviet Union).
    """

    id: str
    schema: str
    list: str
    source_id: str
    names: tuple[Name, ...]
    reference: str | None = None  # e.g. "QDi.001" (UN), the SDN uid (OFAC)
    birth_dates: tuple[PartialDate, ...] = ()
    birth_places: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # residence, address or jurisdiction countries
    documents: tuple[Document, ...] = ()
    gender: str | None = None  # FtM: "male", "female", "other"
    addresses: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()  # UN list type ("Al-Qaida", "DPRK"), OFAC program, ...
    listed_on: str | None = None  # ISO date
    notes: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other FtM properties
    #: A vessel's flag states (ISO alpha-2), the current one first, then past flags where the
    #: list gives them. A vessel's names include its former names (NameKind.FORMER) and its IMO
    #: number, MMSI and call sign are `documents` of those kinds (`Document.kind`).
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.schema not in SCHEMATA:
            raise ValueError(f"unknown schema {self.schema!r}; expected one of {SCHEMATA}")
        if not self.names:
            raise ValueError(f"entity {self.id} has no name")

    @property
    def caption(self) -> str:
        for name in self.names:
            if name.kind is NameKind.PRIMARY:
                return name.value
        return self.names[0].value

    def properties(self) -> dict[str, builtins.list[str]]:  # `list` is a field here
        """The entity's values under FtM property names (for FtM / yente-shaped output)."""
        props: dict[str, builtins.list[str]] = {}

        def add(prop: str, values: object) -> None:
            vals = [str(v) for v in values if v]  # type: ignore[attr-defined]
            if vals:
                props.setdefault(prop, [])
                props[prop].extend(v for v in vals if v not in props[prop])

        for name in self.names:
            if name.kind is NameKind.PRIMARY:
                add("name", [name.value])
            elif name.kind is NameKind.FORMER:
                add("previousName", [name.value])
            elif name.quality is NameQuality.LOW:
                add("weakAlias", [name.value])
            else:
                add("alias", [name.value])
        if self.schema == "Person":
            add("birthDate", [d.iso() for d in self.birth_dates])
            add("birthPlace", self.birth_places)
            add("nationality", self.nationalities)
            add("gender", [self.gender] if self.gender else [])
            add("passportNumber", [d.number for d in self.documents if d.type and "passport" in d.type.lower()])
            add("idNumber", [d.number for d in self.documents if not (d.type and "passport" in d.type.lower())])
        elif self.schema == "Vessel":
            kinds = {IdKind.IMO: "imoNumber", IdKind.MMSI: "mmsi", IdKind.CALL_SIGN: "callSign"}
            for doc in self.documents:
                add(kinds[doc.kind] if doc.kind in kinds else "registrationNumber", [doc.number])
            add("flag", self.flags[:1])
            add("pastFlags", self.flags[1:])
        else:
            add("incorporationDate", [d.iso() for d in self.birth_dates])
            add("registrationNumber", [d.number for d in self.documents])
        add("country", self.countries)
        add("address", self.addresses)
        add("program", self.programs)
        add("notes", self.notes)
        if self.listed_on:
            add("createdAt", [self.listed_on])
        for prop, values in self.extra.items():
            add(prop, values)
        return props
