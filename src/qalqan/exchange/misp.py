"""MISP events read into our STIX 2.1 objects: a MISP event's person objects become subjects.

A MISP event (the JSON MISP and PyMISP write: ``{"Event": {...}}``, or the event itself) becomes
the objects `qalqan.exchange.stix` makes for a partner's data, so an event a partner (or a feed
relayed by a national hub) hands over goes through the same ingest as a STIX bundle:

- the originating organisation (``Orgc``, else ``Org``) → an organisation ``identity``, first,
  when the caller gives no ``created_by`` of its own;
- ``person`` objects (MISP object template "person") → subjects (`stix.subject_to_stix`): names
  (full name, or first/middle/last; aliases and nicknames as aliases), dates of birth, places of
  birth, nationalities, gender, addresses and identity documents. A person without a usable name
  is skipped. Only the relations named in `PERSON_RELATIONS` are read; everything else is left
  behind — free text, photos, roles, contact details and, whatever a sender adds, the special
  categories of personal data (`SPECIAL_CATEGORY_RELATIONS`: religion, ethnicity, health, ...),
  which Qalqan never carries;
- attributes of the event and of its other objects (``file``, ``domain-ip``, ``url``, ...) of the
  types in `INDICATOR_TYPES` → ``indicator`` objects (a composite type such as ``ip-dst|port`` or
  ``filename|sha256`` gives its address or hash part). Every attribute of those types is taken,
  ``to_ids`` or not (feeds mark context that way); a value `stix.indicator` refuses is skipped
  and counted (`MispImport.skipped`), and so is a deleted attribute;
- threat-actor galaxy clusters and ``misp-galaxy:threat-actor="X"`` tags → threat-actor groups
  (`stix.group_to_stix`, with the cluster's synonyms as aliases), each subject linked to each
  group by an ``affiliated-with`` relationship;
- the event itself → a ``report`` (`stix.event_report`) referring to all of the above; the
  event's other tags (not ``tlp:``, not ``misp-galaxy:``) become its labels.

Markings. The event's ``tlp:`` tags give the TLP (`misp_tlp`; no tag: AMBER, the safe default);
an attribute or object tagged with a stricter TLP keeps the stricter one. MISP's distribution
(`misp_distribution`: 0 organisation, 1 community, 2 connected, 3 all, 4 sharing group, 5
"inherit") marks every object but the identity (`stix.with_distribution`, hops 0). An object's
or attribute's own distribution can only narrow the event's (`narrower`), as in MISP.

Pure functions: no I/O. Bad input raises `MispError` naming the field.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from rigour.text import ascii_text

from qalqan.exchange import stix
from qalqan.exchange.policy import TLP, Distribution
from qalqan.model import Document, Entity, Name, NameKind, PartialDate
from qalqan.sources.values import country_code, document_problem, parse_date

#: The list a MISP event's subjects are read into (entity ids ``misp-<object uuid>``).
LIST_NAME = "misp"


class MispError(ValueError):
    """A MISP event (or sharing group) that cannot be read; `field` names where, e.g.
    ``Event.distribution`` or ``Event.Object[3].uuid``."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


# --- vocabularies -------------------------------------------------------------------------------

#: MISP distribution numbers; 5 ("inherit event") is handled by `narrower`.
DISTRIBUTIONS: dict[int, Distribution] = {
    0: Distribution.ORGANISATION,
    1: Distribution.COMMUNITY,
    2: Distribution.CONNECTED,
    3: Distribution.ALL,
    4: Distribution.GROUP,
}
INHERIT = 5

#: The ``tlp:`` taxonomy tags of MISP (lower case) and the TLP 2.0 label each means.
TLP_TAGS: dict[str, TLP] = {
    "tlp:white": TLP.CLEAR,
    "tlp:clear": TLP.CLEAR,
    "tlp:green": TLP.GREEN,
    "tlp:amber": TLP.AMBER,
    "tlp:amber+strict": TLP.AMBER_STRICT,
    "tlp:red": TLP.RED,
}
#: ``tlp:`` tags of MISP's taxonomy that are not disclosure levels (Chatham House rule, "unclear").
TLP_NOT_LEVELS = frozenset({"tlp:ex:chr", "tlp:unclear"})
#: An event without a TLP tag, or with a ``tlp:`` tag not known here, is AMBER.
DEFAULT_TLP = TLP.AMBER
_TLP_ORDER = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)

#: MISP attribute types read as indicators: type → (kind for `stix.indicator`, or None for an IP
#: address, whose kind is read from the value; which ``|``-separated part holds the value).
INDICATOR_TYPES: dict[str, tuple[tuple[str | None, int], ...]] = {
    "ip-src": ((None, 0),),
    "ip-dst": ((None, 0),),
    "ip-src|port": ((None, 0),),
    "ip-dst|port": ((None, 0),),
    "domain": (("domain", 0),),
    "hostname": (("domain", 0),),
    "domain|ip": (("domain", 0), (None, 1)),
    "hostname|port": (("domain", 0),),
    "url": (("url", 0),),
    "md5": (("md5", 0),),
    "sha1": (("sha1", 0),),
    "sha256": (("sha256", 0),),
    "filename|md5": (("md5", 1),),
    "filename|sha1": (("sha1", 1),),
    "filename|sha256": (("sha256", 1),),
}

#: Relations of the MISP "person" template (misp-objects ``objects/person/definition.json``,
#: version 19) that are read; every other relation is dropped.
NAME_RELATIONS = ("full-name", "first-name", "middle-name", "last-name", "title", "alias", "nickname")
#: Identity-document relations → (document type as we write it, country when the relation implies one).
DOCUMENT_RELATIONS: dict[str, tuple[str, str | None]] = {
    "passport-number": ("Passport", None),
    "identity-card-number": ("Identity card", None),
    "social-security-number": ("Social security number", None),
    "birth-certificate-number": ("Birth certificate", None),
    "redress-number": ("DHS redress number", "us"),
    "ofac-identification-number": ("OFAC identification number", None),
    "dni": ("National identification number (DNI)", "es"),
    "nie": ("Foreign national identification number (NIE)", "es"),
    "nif": ("Tax identification number (NIF)", "es"),
}
PERSON_RELATIONS = frozenset(
    {*NAME_RELATIONS, *DOCUMENT_RELATIONS, "date-of-birth", "place-of-birth", "nationality", "gender", "passport-country", "address"}
)
#: Special categories of personal data (GDPR Art. 9 and its equivalents): never carried, whatever
#: a sender puts in a person object. None of them is in `PERSON_RELATIONS`; the list documents the
#: rule and guards it (a test checks that the two never meet).
SPECIAL_CATEGORY_RELATIONS = frozenset(
    {
        "religion", "religious-belief", "ethnicity", "ethnic-origin", "race", "racial-origin",
        "political-opinion", "political-opinions", "political-affiliation", "health", "health-status",
        "medical-condition", "disability", "sexual-orientation", "sex-life", "trade-union",
        "trade-union-membership", "philosophical-belief", "genetic-data", "biometric-data",
    }
)
_GENDERS = {"male": "male", "m": "male", "female": "female", "f": "female", "other": "other"}


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Skipped:
    """What was left out of an event and why: `where` is the MISP path (``Event.Attribute[4]``)."""

    where: str
    reason: str


@dataclass(slots=True)
class MispImport:
    """The STIX objects of one MISP event (the identity first, when made), and what was left out."""

    objects: list[dict[str, Any]]
    identity_id: str
    tlp: str
    distribution: tuple[str, str | None]
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def refused_indicators(self) -> int:
        """Attribute values `stix.indicator` refused."""
        return sum(1 for s in self.skipped if s.reason.startswith("indicator refused"))


# --- small readers ------------------------------------------------------------------------------


def org_code(name: str, *, field: str = "Orgc.name") -> str:
    """Our organisation code for a MISP organisation name: transliterated to ASCII, lower case,
    runs of anything but letters and digits turned into one ``-`` ("CIRCL" → "circl",
    "Synovus Financial" → "synovus-financial"), at most 41 characters. Raises MispError for a
    name with no letter or digit."""
    text = ascii_text(str(name)).lower()
    code = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:41].rstrip("-")
    if not code:
        raise MispError(f"organisation name {name!r} has no letter or digit", field=field)
    return code


def _event_body(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise MispError(f"a MISP event is a JSON object, not {type(event).__name__}", field="Event")
    inner = event.get("Event", event)
    if not isinstance(inner, Mapping):
        raise MispError(f"a MISP event is a JSON object, not {type(inner).__name__}", field="Event")
    return inner


def _list(container: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = container.get(key)
    if value is None:
        return []
    if isinstance(value, Mapping):  # MISP writes a lone element without its list at times
        return [value]
    if not isinstance(value, list):
        raise MispError(f"expected a list, not {type(value).__name__}", field=f"{where}.{key}")
    return value


def _tag_names(container: Mapping[str, Any], where: str) -> list[str]:
    names: list[str] = []
    for i, tag in enumerate(_list(container, "Tag", where)):
        name = tag.get("name") if isinstance(tag, Mapping) else tag
        if not isinstance(name, str):
            raise MispError("a tag needs a name", field=f"{where}.Tag[{i}].name")
        if name.strip():
            names.append(name.strip())
    return names


def _tlp_of_tags(tags: Iterable[str]) -> TLP | None:
    found: list[TLP] = []
    for tag in tags:
        low = tag.lower().replace(" ", "")
        if not low.startswith("tlp:") or low in TLP_NOT_LEVELS:
            continue
        found.append(TLP_TAGS.get(low, DEFAULT_TLP))
    return max(found, key=_TLP_ORDER.index) if found else None


def _stricter_tlp(a: TLP, b: TLP | None) -> TLP:
    return a if b is None or _TLP_ORDER.index(a) >= _TLP_ORDER.index(b) else b


def misp_tlp(event: Mapping[str, Any]) -> str:
    """The TLP 2.0 label of a MISP event from its ``tlp:`` tags: tlp:white and tlp:clear →
    "clear", tlp:green → "green", tlp:amber → "amber", tlp:amber+strict → "amber+strict",
    tlp:red → "red". Several tags: the strictest. No tag, or an unknown ``tlp:`` label: "amber"."""
    body = _event_body(event)
    return str(_tlp_of_tags(_tag_names(body, "Event")) or DEFAULT_TLP)


def _distribution_number(container: Mapping[str, Any], where: str) -> int | None:
    """The distribution number of an event, object or attribute; None when it has none."""
    raw = container.get("distribution")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise MispError(f"{raw!r} is not a MISP distribution (0-5)", field=f"{where}.distribution")
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise MispError(f"{raw!r} is not a MISP distribution (0-5)", field=f"{where}.distribution") from None
    if number not in DISTRIBUTIONS and number != INHERIT:
        raise MispError(f"{raw!r} is not a MISP distribution (0-5)", field=f"{where}.distribution")
    return number


def _sharing_group_name(container: Mapping[str, Any], where: str) -> str:
    group = container.get("SharingGroup")
    name = group.get("name") if isinstance(group, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise MispError("distribution 4 (sharing group) needs the sharing group's name", field=f"{where}.SharingGroup.name")
    return name.strip()


def _own_distribution(container: Mapping[str, Any], where: str) -> tuple[str, str | None] | None:
    """An object's or attribute's own distribution; None for "inherit" (5) or none given."""
    number = _distribution_number(container, where)
    if number is None or number == INHERIT:
        return None
    level = DISTRIBUTIONS[number]
    return (level.value, _sharing_group_name(container, where) if level is Distribution.GROUP else None)


def misp_distribution(event: Mapping[str, Any]) -> tuple[str, str | None]:
    """(distribution level, sharing group name) of a MISP event: 0 → "organisation",
    1 → "community", 2 → "connected", 3 → "all", 4 → "sharing-group" with the name of
    ``SharingGroup`` (required). None given, or 5 (which on an event has nothing to inherit
    from) → "organisation", the safest. Anything else is a MispError naming the field."""
    body = _event_body(event)
    return _own_distribution(body, "Event") or (Distribution.ORGANISATION.value, None)


_OPEN_ORDER = (Distribution.ORGANISATION.value, Distribution.COMMUNITY.value, Distribution.CONNECTED.value, Distribution.ALL.value)


def narrower(outer: tuple[str, str | None], inner: tuple[str, str | None] | None) -> tuple[str, str | None]:
    """The distribution of an attribute or object (`inner`, None to inherit) inside an event or
    object distributed as `outer`: it may narrow, never widen. Organisation, community,
    connected and all narrow in that order; a sharing group inside "all" (or "all" inside a
    sharing group) is the sharing group; two different sharing groups, or a sharing group and
    community or connected (which cannot be intersected), give "organisation"."""
    if inner is None or inner == outer:
        return outer
    (o_level, _), (i_level, _) = outer, inner
    if o_level in _OPEN_ORDER and i_level in _OPEN_ORDER:
        return min(outer, inner, key=lambda d: _OPEN_ORDER.index(d[0]))
    if Distribution.ORGANISATION.value in (o_level, i_level):
        return (Distribution.ORGANISATION.value, None)
    if o_level == Distribution.ALL.value:
        return inner
    if i_level == Distribution.ALL.value:
        return outer
    return (Distribution.ORGANISATION.value, None)


def _timestamp(value: Any, where: str) -> datetime | None:
    """A MISP timestamp (seconds since the epoch, as a number or a string) or date
    (YYYY-MM-DD, or an ISO datetime) as an aware UTC datetime; None for none or 0."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text or text == "0":
        return None
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise MispError(f"{value!r} is not a MISP timestamp or date", field=where) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None and not isinstance(value, (Mapping, list)) else ""


# --- persons ------------------------------------------------------------------------------------


def _person_values(obj: Mapping[str, Any], where: str) -> dict[str, list[str]]:
    """relation → values of a person object's live attributes, for `PERSON_RELATIONS` only."""
    values: dict[str, list[str]] = {}
    for i, attr in enumerate(_list(obj, "Attribute", where)):
        if not isinstance(attr, Mapping):
            raise MispError("an attribute is a JSON object", field=f"{where}.Attribute[{i}]")
        if attr.get("deleted") is True:
            continue
        relation = str(attr.get("object_relation") or "").strip().lower()
        if relation in SPECIAL_CATEGORY_RELATIONS or relation not in PERSON_RELATIONS:
            continue
        value = _text(attr.get("value"))
        if value and value not in values.get(relation, []):
            values.setdefault(relation, []).append(value)
    return values


def _person_names(values: Mapping[str, list[str]]) -> tuple[Name, ...]:
    parts = tuple(
        (key, values[rel][0]) for rel, key in (("title", "title"), ("first-name", "given"), ("middle-name", "middle"), ("last-name", "family")) if values.get(rel)
    )
    composed = " ".join(values[rel][0] for rel in ("first-name", "middle-name", "last-name") if values.get(rel))
    names: list[Name] = []
    full = values.get("full-name", [])
    if full:
        names.append(Name(full[0], NameKind.PRIMARY, parts=parts))
        names.extend(Name(v, NameKind.ALIAS) for v in full[1:])
        if composed and composed.casefold() not in {n.value.casefold() for n in names}:
            names.append(Name(composed, NameKind.ALIAS, parts=parts))
    elif composed:
        names.append(Name(composed, NameKind.PRIMARY, parts=parts))
    seen = {n.value.casefold() for n in names}
    for rel in ("alias", "nickname"):
        for v in values.get(rel, []):
            if v.casefold() not in seen:
                seen.add(v.casefold())
                names.append(Name(v, NameKind.ALIAS))
    return tuple(names)


def _birth_date(text: str) -> PartialDate:
    value = text.strip()
    # MISP writes dates of birth as YYYY-MM-DD and sometimes with a time (PyMISP's date type).
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?", value)
    return parse_date(m.group(1) if m else value)


def person_to_entity(obj: Mapping[str, Any], *, where: str = "Object", skipped: list[Skipped] | None = None) -> Entity | None:
    """A MISP "person" object as a Person entity of list "misp" (id ``misp-<object uuid>``);
    None when it has no usable name. Values that cannot be read (a date, a country, a document
    number too short to compare) are left out and noted in `skipped`."""
    notes = skipped if skipped is not None else []
    uuid = _text(obj.get("uuid"))
    if not uuid:
        raise MispError("a person object needs its uuid", field=f"{where}.uuid")
    values = _person_values(obj, where)
    names = _person_names(values)
    if not names:
        notes.append(Skipped(where, "person object without a usable name"))
        return None
    births: list[PartialDate] = []
    for v in values.get("date-of-birth", []):
        try:
            d = _birth_date(v)
        except ValueError as exc:
            notes.append(Skipped(f"{where}.date-of-birth", f"date of birth {v!r} not read: {exc}"))
            continue
        if d not in births:
            births.append(d)
    nationalities: list[str] = []
    for v in values.get("nationality", []):
        code = country_code(v)
        if code is None:
            notes.append(Skipped(f"{where}.nationality", f"nationality {v!r} is not a country known here"))
        elif code not in nationalities:
            nationalities.append(code)
    passport_country: str | None = None
    for v in values.get("passport-country", [])[:1]:
        passport_country = country_code(v)
        if passport_country is None:
            notes.append(Skipped(f"{where}.passport-country", f"passport country {v!r} is not a country known here"))
    documents: list[Document] = []
    for relation, (doc_type, implied) in DOCUMENT_RELATIONS.items():
        for number in values.get(relation, []):
            problem = document_problem(number)
            if problem is not None:
                notes.append(Skipped(f"{where}.{relation}", problem))
                continue
            country = passport_country if relation == "passport-number" else implied
            documents.append(Document(number=number, type=doc_type, country=country))
    gender = next((_GENDERS[g.lower()] for g in values.get("gender", []) if g.lower() in _GENDERS), None)
    return Entity(
        id=f"{LIST_NAME}-{uuid}",
        schema="Person",
        list=LIST_NAME,
        source_id=uuid,
        names=names,
        birth_dates=tuple(births),
        birth_places=tuple(values.get("place-of-birth", [])),
        nationalities=tuple(nationalities),
        documents=tuple(documents),
        gender=gender,
        addresses=tuple(values.get("address", [])),
    )


# --- indicators and threat actors ---------------------------------------------------------------


def _indicator_values(misp_type: str, value: str) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs an attribute of `misp_type` gives."""
    parts = value.split("|") if "|" in misp_type else [value]
    for kind, index in INDICATOR_TYPES.get(misp_type, ()):
        if index >= len(parts):
            continue
        part = parts[index].strip()
        if kind is None:
            kind = "ipv6" if ":" in part else "ipv4"
            part = _bare_ip(part)
        if part:
            yield kind, part


def _bare_ip(text: str) -> str:
    """An address as STIX wants it: IPv6 without brackets; ``1.2.3.4:80`` (a port glued on, as
    some feeds write it) without the port."""
    text = text.strip().strip("[]")
    if text.count(":") == 1 and "." in text:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text  # a network or a bad value: stix.indicator decides


def _threat_actors(body: Mapping[str, Any], tags: Sequence[str]) -> dict[str, list[str]]:
    """Threat-actor name → aliases, from the event's galaxies and its ``misp-galaxy:threat-actor`` tags."""
    actors: dict[str, list[str]] = {}
    for g, galaxy in enumerate(_list(body, "Galaxy", "Event")):
        if not isinstance(galaxy, Mapping):
            raise MispError("a galaxy is a JSON object", field=f"Event.Galaxy[{g}]")
        for c, cluster in enumerate(_list(galaxy, "GalaxyCluster", f"Event.Galaxy[{g}]")):
            if not isinstance(cluster, Mapping):
                raise MispError("a galaxy cluster is a JSON object", field=f"Event.Galaxy[{g}].GalaxyCluster[{c}]")
            if str(cluster.get("type") or galaxy.get("type") or "") != "threat-actor":
                continue
            name = _text(cluster.get("value"))
            if not name:
                continue
            meta = cluster.get("meta") if isinstance(cluster.get("meta"), Mapping) else {}
            synonyms = meta.get("synonyms") if isinstance(meta, Mapping) else None
            aliases = actors.setdefault(name, [])
            for s in synonyms if isinstance(synonyms, list) else []:
                alias = _text(s)
                if alias and alias != name and alias not in aliases:
                    aliases.append(alias)
    for tag in tags:
        m = re.fullmatch(r'misp-galaxy:threat-actor="(.+)"', tag)
        if m and _text(m.group(1)):
            actors.setdefault(_text(m.group(1)), [])
    return actors


# --- the event ----------------------------------------------------------------------------------


def _creator(body: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("Orgc", "Org"):
        org = body.get(key)
        if isinstance(org, Mapping) and _text(org.get("name")):
            name = _text(org.get("name"))
            return stix.org_identity(org_code(name, field=f"Event.{key}.name"), name)
    raise MispError("the event names no organisation (Orgc or Org with a name); pass created_by", field="Event.Orgc")


def read_misp_event(event: Mapping[str, Any], *, created_by: str | None) -> MispImport:
    """The STIX 2.1 objects of a MISP event, and what was left out of it (see the module doc).

    `created_by` None: the objects are the originating organisation's (``Orgc``, else ``Org``),
    whose identity is made and comes first. Otherwise they are `created_by`'s, and no identity
    is made."""
    body = _event_body(event)
    info = body.get("info")
    if not isinstance(info, str) or not info.strip():
        raise MispError("a MISP event needs its info (title); this is not a MISP event", field="Event.info")
    if created_by is not None and not (isinstance(created_by, str) and created_by.startswith("identity--")):
        raise MispError(f"created_by must be a STIX identity id, not {created_by!r}", field="created_by")

    tags = _tag_names(body, "Event")
    tlp = _tlp_of_tags(tags) or DEFAULT_TLP
    dist = misp_distribution(body)
    event_time = _timestamp(body.get("date"), "Event.date") or _timestamp(body.get("timestamp"), "Event.timestamp")
    published = _timestamp(body.get("publish_timestamp"), "Event.publish_timestamp") or event_time
    if published is None:
        raise MispError("the event has no date, timestamp or publish_timestamp", field="Event.date")

    objects: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    if created_by is None:
        identity = _creator(body)
        objects.append(identity)
        creator = str(identity["id"])
    else:
        creator = created_by
    marked: list[dict[str, Any]] = []  # every object but the identity, in order
    seen: set[str] = set()
    # stix.indicator makes a new id each time: one value given twice (an attribute and an
    # object's attribute, say) under the same marking is one indicator.
    patterns: set[tuple[str, str, tuple[str, str | None]]] = set()

    def mark(level: TLP) -> list[str]:
        return [str(stix.TLP_MARKINGS[level.value]["id"])]

    def emit(obj: dict[str, Any], distribution: tuple[str, str | None]) -> dict[str, Any] | None:
        if obj["id"] in seen:
            return None
        seen.add(obj["id"])
        obj = stix.with_distribution(obj, distribution[0], distribution[1], 0)
        marked.append(obj)
        return obj

    def take_attribute(attr: Any, where: str, outer: tuple[str, str | None], outer_tlp: TLP) -> None:
        if not isinstance(attr, Mapping):
            raise MispError("an attribute is a JSON object", field=where)
        misp_type = str(attr.get("type") or "").strip().lower()
        if misp_type not in INDICATOR_TYPES:
            return
        if attr.get("deleted") is True:
            skipped.append(Skipped(where, "deleted attribute"))
            return
        distribution = narrower(outer, _own_distribution(attr, where))
        level = _stricter_tlp(outer_tlp, _tlp_of_tags(_tag_names(attr, where)))
        valid_from = _timestamp(attr.get("timestamp"), f"{where}.timestamp") or event_time or published
        value = _text(attr.get("value"))
        for kind, part in _indicator_values(misp_type, value):
            try:
                obj = stix.indicator(kind, part, created_by=creator, valid_from=valid_from, markings=mark(level), created=valid_from)
            except stix.StixError as exc:
                skipped.append(Skipped(where, f"indicator refused: {kind} {part!r}: {exc}"))
                continue
            key = (str(obj["pattern"]), level.value, distribution)
            if key in patterns:
                continue
            patterns.add(key)
            emit(obj, distribution)

    subjects: list[tuple[str, tuple[str, str | None], TLP]] = []
    for i, attr in enumerate(_list(body, "Attribute", "Event")):
        take_attribute(attr, f"Event.Attribute[{i}]", dist, tlp)
    for i, obj in enumerate(_list(body, "Object", "Event")):
        where = f"Event.Object[{i}]"
        if not isinstance(obj, Mapping):
            raise MispError("an object is a JSON object", field=where)
        if obj.get("deleted") is True:
            continue
        obj_dist = narrower(dist, _own_distribution(obj, where))
        obj_tlp = _stricter_tlp(tlp, _tlp_of_tags(_tag_names(obj, where)))
        if str(obj.get("name") or "").strip().lower() == "person":
            entity = person_to_entity(obj, where=where, skipped=skipped)
            if entity is None:
                continue
            subject = stix.subject_to_stix(entity, created_by=creator, status="suspected", last_location=None, markings=mark(obj_tlp), created=event_time or published)
            made = emit(subject, obj_dist)
            if made is not None:
                subjects.append((str(made["id"]), obj_dist, obj_tlp))
            continue
        for j, attr in enumerate(_list(obj, "Attribute", where)):
            take_attribute(attr, f"{where}.Attribute[{j}]", obj_dist, obj_tlp)

    for name, aliases in _threat_actors(body, tags).items():
        group = emit(stix.group_to_stix(name, created_by=creator, markings=mark(tlp), kind="threat-actor", aliases=aliases, actor_types=(), created=event_time or published), dist)
        if group is None:
            continue
        for subject_id, subject_dist, subject_tlp in subjects:
            link = stix.relationship(subject_id, "affiliated-with", str(group["id"]), created_by=creator, markings=mark(subject_tlp), created=event_time or published)
            emit(link, subject_dist)

    labels = list(dict.fromkeys(t for t in tags if not t.lower().startswith(("tlp:", "misp-galaxy:"))))
    refs = [str(o["id"]) for o in marked] or [creator]
    description = _description(body)
    report = stix.event_report(
        created_by=creator, name=info.strip(), description=description, published=published, object_refs=refs, markings=mark(tlp), labels=labels,
        key=str(event.get("uuid") or body.get("uuid") or f"{info.strip()}/{body.get('date', '')}/{body.get('timestamp', '')}"), created=event_time or published,
    )
    emit(report, dist)
    objects.extend(marked)
    return MispImport(objects=objects, identity_id=creator, tlp=tlp.value, distribution=dist, skipped=skipped)


def _description(body: Mapping[str, Any]) -> str:
    org = body.get("Orgc") if isinstance(body.get("Orgc"), Mapping) else body.get("Org")
    org_name = _text(org.get("name")) if isinstance(org, Mapping) else ""
    uuid = _text(body.get("uuid"))
    said = f"MISP event {uuid}" if uuid else "MISP event"
    return f"{said} from {org_name}" if org_name else said


def misp_event_to_stix(event: Mapping[str, Any], *, created_by: str | None) -> list[dict[str, Any]]:
    """A MISP event (the value under "Event", or the whole dict if it has none) as STIX 2.1
    objects (plain dicts): the originating organisation's identity first when `created_by` is
    None, then indicators, subjects, threat-actor groups, their relationships and the event's
    report. Raises MispError naming the field for what is not a MISP event. `read_misp_event`
    also says what was left out."""
    return read_misp_event(event, created_by=created_by).objects


# --- sharing groups -----------------------------------------------------------------------------


def misp_sharing_groups(data: Any) -> dict[str, frozenset[str]]:
    """Sharing group name → member organisation codes (`org_code`), from MISP's SharingGroup JSON:
    a list of ``{"SharingGroup": {...}, "Organisation": {...}, "SharingGroupOrg": [...]}`` (what
    ``/sharing_groups`` returns, also under ``"response"``), or one such entry. The owning
    ``Organisation`` is a member. Inactive groups are left out (default deny: an object marked
    for a group not listed goes nowhere). Servers (``SharingGroupServer``, "all organisations of
    a server") cannot be listed as organisations and are not read."""
    if isinstance(data, Mapping) and "response" in data:
        data = data["response"]
    entries = [data] if isinstance(data, Mapping) else data
    if not isinstance(entries, list):
        raise MispError(f"sharing groups are a JSON list, not {type(data).__name__}", field="SharingGroup")
    groups: dict[str, frozenset[str]] = {}
    for i, entry in enumerate(entries):
        where = f"[{i}]"
        if not isinstance(entry, Mapping):
            raise MispError("a sharing group entry is a JSON object", field=where)
        group = entry.get("SharingGroup", entry)
        if not isinstance(group, Mapping):
            raise MispError("a sharing group is a JSON object", field=f"{where}.SharingGroup")
        name = _text(group.get("name"))
        if not name:
            raise MispError("a sharing group needs its name", field=f"{where}.SharingGroup.name")
        if group.get("active") is False:
            continue
        members: set[str] = set()
        owner = entry.get("Organisation", group.get("Organisation"))
        if isinstance(owner, Mapping) and _text(owner.get("name")):
            members.add(org_code(_text(owner.get("name")), field=f"{where}.Organisation.name"))
        for j, link in enumerate(_list(entry, "SharingGroupOrg", where) or _list(group, "SharingGroupOrg", f"{where}.SharingGroup")):
            org = link.get("Organisation") if isinstance(link, Mapping) else None
            if not isinstance(org, Mapping) or not _text(org.get("name")):
                raise MispError("a member needs its organisation's name", field=f"{where}.SharingGroupOrg[{j}].Organisation.name")
            members.add(org_code(_text(org.get("name")), field=f"{where}.SharingGroupOrg[{j}].Organisation.name"))
        if name in groups:
            raise MispError(f"sharing group {name!r} is defined twice", field=f"{where}.SharingGroup.name")
        groups[name] = frozenset(members)
    return groups

