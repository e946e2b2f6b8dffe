"""Terrorist-content indicators (GIFCT hash-sharing / TCAP-like) and the files they come in.

An `Indicator` is one URL, domain, IP address, IP network, file hash or PDQ perceptual hash,
its value canonical from creation (`canonical_value`): URLs by `urls.canonical_url` (a value
ending in ``/*`` is a URL prefix, see `qalqan.content.urls`), domains by `urls.canonical_domain`,
addresses and networks in compressed form, hashes lower-case hex of their exact length
(MD5 32, SHA-1 40, SHA-256 64, PDQ 64 = 256 bits).

Readers, each returning ``(indicators, warnings)`` and raising `IndicatorError` naming the row
and field of the first bad record:

- `read_csv`: a header row with ``value,type,category`` and optionally ``tlp``, ``valid_from``,
  ``valid_until``, ``source`` (the contributing organisation), ``id``. Rows are numbered by their
  line in the file, as a spreadsheet shows them: the header is row 1, blank lines count (a
  record with a quoted line break is numbered by its last line). Unknown columns and duplicate indicators are
  warnings (the first of duplicates is kept).
- `read_hash_bank`: a hash bank as Meta's ThreatExchange tools write one — one PDQ hash per line
  (ThreatExchange's local-file exchange), optionally led by the signal type ``pdq`` (the form
  its file exchange appends: ``pdq <hash>``) and optionally followed by metadata separated by
  commas, tabs or spaces: a bare number is the PDQ quality (0-100, what ``pdq-photo-hasher``
  writes as ``hash,quality,filename``), ``key=value`` pairs are kept (``quality=`` too, and the
  ``hash=...,quality=...`` lines of ``--details`` output), any other bare word is the file name.
  Blank lines and ``#`` comments are skipped; lines are numbered from 1.
  Quality under `PDQ_MIN_QUALITY` is a warning: PDQ's authors advise not to match such hashes.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from qalqan.content import urls
from qalqan.exchange.stix import NAMESPACE, TLP_MARKINGS

#: Indicator types.
INDICATOR_TYPES: frozenset[str] = frozenset({"url", "domain", "ip", "cidr", "md5", "sha1", "sha256", "pdq"})
#: Other names files use for them.
TYPE_ALIASES: dict[str, str] = {
    "ipv4": "ip", "ipv6": "ip", "ip-addr": "ip", "domain-name": "domain", "hostname": "domain",
    "sha-1": "sha1", "sha-256": "sha256", "url-prefix": "url",
}
#: Hex digits of each hash type.
HASH_LENGTHS: dict[str, int] = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}

#: Content categories, after GIFCT's hash-sharing labels and TCAP's classification:
#: - attacker-manifesto: a perpetrator's manifesto or statement (GIFCT "attacker manifesto");
#: - livestream: a perpetrator's recording or livestream of an attack (GIFCT Content Incident Protocol);
#: - violent-propaganda: official or affiliated propaganda of a designated group;
#: - recruitment: calls to join, travel to or fund a group;
#: - instruction: attack planning, weapons, explosives or operational security manuals;
#: - glorification: praise of attacks, perpetrators or groups;
#: - threat: a threat of violence against a person, group or place;
#: - other: terrorist or violent-extremist content of no category above.
CATEGORIES: frozenset[str] = frozenset({
    "attacker-manifesto", "livestream", "violent-propaganda", "recruitment", "instruction",
    "glorification", "threat", "other",
})
#: TLP 2.0 labels (the same as `qalqan.exchange.stix.TLP_MARKINGS`).
TLP_LABELS: frozenset[str] = frozenset(TLP_MARKINGS)
#: The label of an indicator whose file gives none: amber (the recipient organisation and its
#: clients), as hash-sharing databases are members-only.
DEFAULT_TLP = "amber"
#: PDQ quality below which a hash is unreliable (PDQ's README: discard quality under 50).
PDQ_MIN_QUALITY = 50

_HEX = re.compile(r"^[0-9a-f]+$")


class IndicatorError(ValueError):
    """A bad indicator: `row` (0 when not from a file) and `field` name the record and field."""

    def __init__(self, message: str, *, row: int = 0, field: str = ""):
        where = ", ".join(p for p in (f"row {row}" if row else "", f"field {field!r}" if field else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.row = row
        self.field = field
        self.reason = message


def canonical_type(text: str) -> str:
    """An indicator type, aliases resolved; `IndicatorError` (field type) when unknown."""
    t = text.strip().lower()
    t = TYPE_ALIASES.get(t, t)
    if t not in INDICATOR_TYPES:
        raise IndicatorError(f"unknown type {text!r} (one of {', '.join(sorted(INDICATOR_TYPES))})", field="type")
    return t


def canonical_hash(kind: str, text: str) -> str:
    """A hash as lower-case hex of the length its type has."""
    h = text.strip().lower()
    n = HASH_LENGTHS[kind]
    if len(h) != n or not _HEX.match(h):
        raise IndicatorError(f"{text!r} is not a {kind} hash ({n} hex digits)", field="value")
    return h


def canonical_value(kind: str, text: str) -> str:
    """The canonical value of an indicator of a type; `IndicatorError` (field value) when bad."""
    if not text.strip():
        raise IndicatorError("empty value", field="value")
    try:
        if kind == "url":
            return urls.canonical_prefix(text) if urls.is_prefix(text.strip()) else urls.canonical_url(text)
        if kind == "domain":
            return urls.canonical_domain(text)
        if kind == "ip":
            if "/" in text:
                raise IndicatorError(f"{text!r} is a network: use type cidr", field="value")
            return urls.canonical_ip(text)
        if kind == "cidr":
            return urls.canonical_cidr(text)
    except urls.UrlError as exc:
        raise IndicatorError(str(exc), field="value") from None
    return canonical_hash(kind, text)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_when(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time (naive is UTC). A bare date is the start of that day, or
    with `end_of_day` the end of it (a ``valid_until`` date includes the whole day)."""
    s = text.strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            start = datetime.combine(d, time(), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        return _aware(datetime.fromisoformat(s.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time") from None


def make_id(source_org: str, kind: str, value: str) -> str:
    """A stable id for an indicator: the same value from the same organisation, the same id."""
    return f"content--{uuid.uuid5(NAMESPACE, f'content/{source_org}/{kind}/{value}')}"


@dataclass(frozen=True)
class Indicator:
    """One terrorist-content indicator; type, value, category and tlp are checked and made
    canonical on creation (`IndicatorError` naming the field)."""

    id: str
    type: str
    value: str
    category: str
    source_org: str = ""
    source_list: str = ""
    tlp: str = DEFAULT_TLP
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    retracted: bool = False
    #: Extra facts a file gave (PDQ quality, file name): sorted (key, value) pairs.
    metadata: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        kind = canonical_type(self.type)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "value", canonical_value(kind, self.value))
        category = self.category.strip().lower()
        if category not in CATEGORIES:
            raise IndicatorError(f"unknown category {self.category!r} (one of {', '.join(sorted(CATEGORIES))})", field="category")
        object.__setattr__(self, "category", category)
        tlp = self.tlp.strip().lower().removeprefix("tlp:")
        tlp = "clear" if tlp == "white" else tlp
        if tlp not in TLP_LABELS:
            raise IndicatorError(f"unknown TLP {self.tlp!r} (one of {', '.join(sorted(TLP_LABELS))})", field="tlp")
        object.__setattr__(self, "tlp", tlp)
        for name in ("valid_from", "valid_until"):
            when = getattr(self, name)
            if when is not None:
                object.__setattr__(self, name, _aware(when))
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise IndicatorError("valid_until is not after valid_from", field="valid_until")
        if not self.id:
            object.__setattr__(self, "id", make_id(self.source_org, kind, self.value))

    @classmethod
    def stored(cls, *, id: str, type: str, value: str, category: str, source_org: str, source_list: str, tlp: str,
               valid_from: datetime | None, valid_until: datetime | None, retracted: bool = False,
               metadata: tuple[tuple[str, str], ...] = ()) -> Indicator:
        """An indicator from values already checked and canonical (read back from the store, where
        only checked indicators are written): built without checking them again, which is most
        of the cost of loading a million."""
        obj = object.__new__(cls)
        for name, v in (("id", id), ("type", type), ("value", value), ("category", category), ("source_org", source_org),
                        ("source_list", source_list), ("tlp", tlp), ("valid_from", valid_from and _aware(valid_from)),
                        ("valid_until", valid_until and _aware(valid_until)), ("retracted", retracted), ("metadata", metadata)):
            object.__setattr__(obj, name, v)
        return obj

    @property
    def is_prefix(self) -> bool:
        """Whether this is a URL prefix (a url value ending with ``/*``)."""
        return self.type == "url" and urls.is_prefix(self.value)

    def is_active(self, at: datetime | None = None) -> bool:
        """Whether the indicator applies at a moment (now by default): not retracted, and
        ``valid_from <= at < valid_until`` for the bounds it has."""
        when = _aware(at) if at else datetime.now(UTC)
        if self.retracted:
            return False
        if self.valid_from and when < self.valid_from:
            return False
        return not (self.valid_until and when >= self.valid_until)

    def retract(self) -> Indicator:
        """This indicator, retracted."""
        return replace(self, retracted=True)


def _text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise IndicatorError("the file is not UTF-8 text") from None
    return data.removeprefix("\ufeff")


# --- CSV ------------------------------------------------------------------------------------

CSV_REQUIRED = ("value", "type", "category")
CSV_OPTIONAL = ("tlp", "valid_from", "valid_until", "source", "id")


def _csv_indicator(row: Mapping[str, str], number: int, source_list: str, default_tlp: str) -> Indicator:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    for name in CSV_REQUIRED:
        if not cell(name):
            raise IndicatorError(f"{name} is empty", row=number, field=name)
    dates: dict[str, datetime | None] = {}
    for name in ("valid_from", "valid_until"):
        try:
            dates[name] = parse_when(cell(name), end_of_day=name == "valid_until") if cell(name) else None
        except ValueError as exc:
            raise IndicatorError(str(exc), row=number, field=name) from None
    try:
        return Indicator(id=cell("id"), type=cell("type"), value=cell("value"), category=cell("category"),
                         source_org=cell("source"), source_list=source_list, tlp=cell("tlp") or default_tlp,
                         valid_from=dates["valid_from"], valid_until=dates["valid_until"])
    except IndicatorError as exc:
        raise IndicatorError(exc.reason, row=number, field=exc.field) from None


def read_csv(data: str | bytes, *, source_list: str = "", default_tlp: str = DEFAULT_TLP) -> tuple[list[Indicator], list[str]]:
    """Indicators from CSV text (see the module docstring); the first bad row raises."""
    reader = csv.DictReader(io.StringIO(_text(data), newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    missing = [h for h in CSV_REQUIRED if h not in header]
    if missing:
        raise IndicatorError(f"the header lacks {', '.join(missing)} (needs {','.join(CSV_REQUIRED)})", row=1, field=missing[0])
    warnings = [f"row 1: unknown column {h!r} ignored" for h in header if h not in CSV_REQUIRED + CSV_OPTIONAL]
    reader.fieldnames = header
    found: list[Indicator] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        number = reader.line_num
        if None in row:
            raise IndicatorError(f"{len(row[None])} more cell(s) than the header has", row=number)  # type: ignore[index]
        if not any((v or "").strip() for v in row.values()):
            continue
        ind = _csv_indicator(row, number, source_list, default_tlp)
        key = (ind.type, ind.value)
        if key in seen:
            warnings.append(f"row {number}: duplicate of row {seen[key]} ({ind.type} {ind.value}) skipped")
            continue
        seen[key] = number
        found.append(ind)
    return found, warnings


# --- hash banks --------------------------------------------------------------------------------

_SPLIT = re.compile(r"[,\t ]+")


def _bank_line(tokens: list[str], number: int) -> tuple[str, dict[str, str]]:
    """(hash, metadata) of one hash-bank line's tokens."""
    meta: dict[str, str] = {}
    bare: list[str] = []
    for token in tokens:
        key, eq, value = token.partition("=")
        if eq:
            meta[key.strip().lower()] = value.strip()
        else:
            bare.append(token)
    if bare and bare[0].lower() == "pdq" and len(bare) > 1:
        bare = bare[1:]
    if "hash" in meta:
        digest = meta.pop("hash")
    elif bare:
        digest = bare.pop(0)
    else:
        raise IndicatorError("no hash on the line", row=number, field="hash")
    for token in bare:
        if re.fullmatch(r"\d{1,3}", token) and "quality" not in meta:
            meta["quality"] = token
        elif "filename" not in meta:
            meta["filename"] = token
        else:
            raise IndicatorError(f"unexpected {token!r} after the hash", row=number, field="metadata")
    return digest, meta


def read_hash_bank(data: str | bytes, *, category: str, source_org: str = "", source_list: str = "",
                   tlp: str = DEFAULT_TLP) -> tuple[list[Indicator], list[str]]:
    """PDQ indicators from a hash bank (see the module docstring), all of one category."""
    found: list[Indicator] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(_text(data).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        digest, meta = _bank_line([t for t in _SPLIT.split(text) if t], number)
        try:
            value = canonical_hash("pdq", digest)
        except IndicatorError as exc:
            raise IndicatorError(exc.reason, row=number, field="hash") from None
        if "quality" in meta:
            q = meta["quality"]
            if not q.isdigit() or not 0 <= int(q) <= 100:
                raise IndicatorError(f"quality {q!r} is not a whole number from 0 to 100", row=number, field="quality")
            if int(q) < PDQ_MIN_QUALITY:
                warnings.append(f"line {number}: PDQ quality {q} is under {PDQ_MIN_QUALITY}: the hash is unreliable")
        if value in seen:
            warnings.append(f"line {number}: duplicate of line {seen[value]} skipped")
            continue
        seen[value] = number
        try:
            found.append(Indicator(id="", type="pdq", value=value, category=category, source_org=source_org,
                                   source_list=source_list, tlp=tlp, metadata=tuple(sorted(meta.items()))))
        except IndicatorError as exc:
            raise IndicatorError(exc.reason, row=number, field=exc.field) from None
    return found, warnings


def by_type(indicators: Iterable[Indicator]) -> dict[str, list[Indicator]]:
    """Indicators grouped by type."""
    groups: dict[str, list[Indicator]] = {}
    for ind in indicators:
        groups.setdefault(ind.type, []).append(ind)
    return groups


__all__ = [
    "CATEGORIES", "DEFAULT_TLP", "HASH_LENGTHS", "INDICATOR_TYPES", "PDQ_MIN_QUALITY", "TLP_LABELS", "TYPE_ALIASES",
    "Indicator", "IndicatorError", "by_type", "canonical_hash", "canonical_type", "canonical_value", "make_id",
    "parse_when", "read_csv", "read_hash_bank",
]
