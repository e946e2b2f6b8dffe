"""Qalqan's objects as STIX 2.1, built and parsed with the `stix2` library.

What a node exchanges, and the STIX it becomes:

- a **subject of interest** (a foreign terrorist fighter, returnee, relocator, facilitator): an
  `identity` (identity_class individual) carrying our *subject* property extension — names in
  every script with their kind and quality, birth dates in every form, places, nationalities,
  documents, gender, UN reference and programmes, status and last known location
  (`subject_to_stix`, `stix_to_subject`). Special categories of personal data (ethnicity,
  religion, political opinion, health, sex life, ...) are refused both ways (`SpecialCategoryError`);
- a **group**: `threat-actor` or `intrusion-set`, linked to subjects by `relationship`
  (member-of, affiliated-with);
- an **early warning**: a `report` with our *warning* extension (priority, valid until, targeted
  critical-infrastructure sectors, physical or cyber, acknowledgement required and its deadline),
  its cyber observables as `indicator`s (`warning_report`, `indicator`);
- a **hit report**: a `sighting` of a subject, optionally without `where_sighted_refs` (`sighting`);
- an **acknowledgement** (of a warning or a retraction) and a **proposal** (a partner's suggested
  change to an object it may not edit): `note`s with our *ack* / *proposal* extensions;
- a **best-practice document**: a `report` with our *document* extension and an `artifact`
  holding the file (`document_report`, `document_content`);
- a **retraction**: a new version with ``revoked: true`` (`revoked_version`).

Every object carries TLP 2.0 marking references (the OASIS marking definitions in `TLP_MARKINGS`)
and our *distribution* extension (MISP's distribution level, sharing group and hop count:
`with_distribution`, `distribution_of`). Our six extension definitions are published objects
(`EXTENSION_DEFINITIONS`) whose JSON schemas are committed under ``docs/stix/``.

Objects are plain JSON-able dicts (what the store keeps and the wire carries). Pure functions,
no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import stix2
from stix2.exceptions import STIXError as _Stix2Error

from qalqan.model.entity import DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate

#: Qalqan's namespace for deterministic identifiers (organisation identities, subjects).
NAMESPACE = uuid.UUID("5b0f6f1e-8c3c-4c1e-9d0a-6a1c4a7a9e55")

#: The identity that publishes our extension definitions.
QALQAN_IDENTITY = f"identity--{uuid.uuid5(NAMESPACE, 'qalqan-project')}"

SCHEMA_BASE = "https://github.com/qalqan/qalqan/blob/main/docs/stix/"


class StixError(ValueError):
    """An object that is not what we exchange: `object_id` and `field` name the object and the
    property at fault."""

    def __init__(self, message: str, *, object_id: str = "", field: str = ""):
        super().__init__(message)
        self.object_id = object_id
        self.field = field


class SpecialCategoryError(StixError):
    """A special category of personal data (GDPR art. 9): never stored, never sent."""


# --- markings -----------------------------------------------------------------------------

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

#: The OASIS TLP 2.0 marking definitions (cti-stix-common-objects), keyed by label.
TLP_MARKINGS: dict[str, dict[str, Any]] = {
    label: {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{label.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": label}},
    }
    for label, mid in _TLP2_IDS.items()
}

#: TLP 1.0 as STIX 2.1 predefines it (what older peers mark with): WHITE reads as CLEAR.
_TLP1_IDS = {
    str(stix2.TLP_WHITE.id): "clear",
    str(stix2.TLP_GREEN.id): "green",
    str(stix2.TLP_AMBER.id): "amber",
    str(stix2.TLP_RED.id): "red",
}
_TLP_BY_ID = {**{v: k for k, v in _TLP2_IDS.items()}, **_TLP1_IDS}
#: Strictest first: an object marked twice is read as the stricter label.
_TLP_ORDER = ("red", "amber+strict", "amber", "green", "clear")


def tlp_of(obj: Mapping[str, Any]) -> str | None:
    """The TLP label of an object from its marking references (TLP 2.0 or 1.0), the strictest
    if it has several; None when it has none."""
    labels = {_TLP_BY_ID[ref] for ref in obj.get("object_marking_refs") or () if ref in _TLP_BY_ID}
    for label in _TLP_ORDER:
        if label in labels:
            return label
    return None


def tlp_label(marking_definition: Mapping[str, Any]) -> str | None:
    """The label a marking-definition object defines (TLP 2.0 extension or TLP 1.0 form)."""
    ext = (marking_definition.get("extensions") or {}).get(TLP2_EXTENSION)
    if isinstance(ext, Mapping) and ext.get("tlp_2_0") in _TLP2_IDS:
        return str(ext["tlp_2_0"])
    if marking_definition.get("definition_type") == "tlp":
        value = str((marking_definition.get("definition") or {}).get("tlp", "")).lower()
        return "clear" if value == "white" else value if value in _TLP2_IDS else None
    return None


# --- our extension definitions ------------------------------------------------------------


def _ext_id(name: str) -> str:
    return f"extension-definition--{uuid.uuid5(NAMESPACE, 'extension/' + name)}"


SUBJECT_EXT = _ext_id("subject")
WARNING_EXT = _ext_id("warning")
ACK_EXT = _ext_id("acknowledgement")
PROPOSAL_EXT = _ext_id("proposal")
DOCUMENT_EXT = _ext_id("document")
DISTRIBUTION_EXT = _ext_id("distribution")
CONTENT_EXT = _ext_id("content")

_EXTENSIONS = {
    "subject": (SUBJECT_EXT, "Qalqan subject of interest", "What screening needs of a person of interest (FTF, returnee, relocator, facilitator)."),
    "warning": (WARNING_EXT, "Qalqan early warning", "Priority, validity, targeted critical-infrastructure sectors and acknowledgement of an early warning."),
    "acknowledgement": (ACK_EXT, "Qalqan acknowledgement", "A recipient's acknowledgement of a warning or of a retraction."),
    "proposal": (PROPOSAL_EXT, "Qalqan proposal", "A partner's proposed change to an object only its originator may edit."),
    "document": (DOCUMENT_EXT, "Qalqan shared document", "File name, media type and digest of a best-practice document."),
    "distribution": (DISTRIBUTION_EXT, "Qalqan distribution", "Distribution level (MISP's), sharing group and hop count of a shared object."),
    "content": (CONTENT_EXT, "Qalqan content indicator", "Category, source list and PDQ quality of a terrorist-content indicator (URL, domain, address, file or perceptual hash)."),
}

#: The published extension-definition objects (one per extension), schemas in docs/stix/.
EXTENSION_DEFINITIONS: dict[str, dict[str, Any]] = {
    name: {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": ext_id,
        "created_by_ref": QALQAN_IDENTITY,
        "created": "2026-12-01T00:00:00.000Z",
        "modified": "2026-12-01T00:00:00.000Z",
        "name": title,
        "description": description,
        "schema": f"{SCHEMA_BASE}{name}.schema.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
    for name, (ext_id, title, description) in _EXTENSIONS.items()
}

# --- vocabularies -------------------------------------------------------------------------

STATUSES = ("suspected", "travelling", "returned", "relocated", "detained", "deceased")
PRIORITIES = ("flash", "priority", "routine")
SECTORS = ("energy", "transport", "water", "finance", "health", "telecommunications", "government")
DOMAINS = ("physical", "cyber")
ACK_KINDS = ("warning", "retraction")
GROUP_RELATIONSHIPS = ("member-of", "affiliated-with")
DISTRIBUTIONS = ("organisation", "community", "connected", "all", "sharing-group")
GENDERS = ("male", "female", "other")
#: Terrorist-content categories (`qalqan.content.indicators.CATEGORIES` documents each).
CONTENT_CATEGORIES = ("attacker-manifesto", "livestream", "violent-propaganda", "recruitment", "instruction", "glorification", "threat", "other")

#: Special categories of personal data (GDPR art. 9, EU PNR Directive art. 13(4)), by the words
#: a field name of them would contain.
SPECIAL_CATEGORY_WORDS = (
    "ethnic", "race", "racial", "religio", "faith", "belief", "political", "trade_union", "union_member",
    "health", "medical", "disab", "sex_life", "sexual", "orientation", "genetic", "biometric", "caste", "tribe",
)


_SPECIAL_RE = re.compile(r"(?:^|[_\W])(?:" + "|".join(re.escape(w) for w in SPECIAL_CATEGORY_WORDS) + ")")


def _special(name: str) -> bool:
    """Whether a field name is one of a special category (a word of it starts with one of
    SPECIAL_CATEGORY_WORDS: "religion", "x_ethnicity", not "trace_id")."""
    return _SPECIAL_RE.search(name.lower().replace("-", "_")) is not None


# --- helpers ------------------------------------------------------------------------------


def _ts(value: datetime) -> str:
    """A STIX timestamp with millisecond precision (the form versions are compared in)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _now() -> datetime:
    return datetime.now(UTC)


def _dump(obj: Any) -> dict[str, Any]:
    return orjson.loads(obj.serialize())  # type: ignore[no-any-return]


def _common(created_by: str, markings: Sequence[str], created: datetime | None) -> dict[str, Any]:
    when = _ts(created or _now())
    out: dict[str, Any] = {"created_by_ref": created_by, "created": when, "modified": when}
    if markings:
        out["object_marking_refs"] = list(markings)
    return out


def _build(cls: type, object_id: str = "", **kwargs: Any) -> dict[str, Any]:
    try:
        return _dump(cls(**kwargs))
    except (_Stix2Error, ValueError, TypeError) as exc:
        raise StixError(f"{cls.__name__.lower()}: {exc}", object_id=object_id, field=getattr(exc, "prop_name", "") or "") from None


#: Build a STIX object with `stix2` (checked) and return it as plain JSON data; `StixError` names
#: the property at fault.
build_object = _build


def _ext(name_id: str, **fields: Any) -> dict[str, Any]:
    return {name_id: {"extension_type": "property-extension", **{k: v for k, v in fields.items() if v not in (None, [], (), "")}}}


def org_identity(org: str, name: str) -> dict[str, Any]:
    """The organisation identity of a node (deterministic id from its organisation code)."""
    if not org or not org.strip():
        raise StixError("an organisation code is required", field="org")
    oid = f"identity--{uuid.uuid5(NAMESPACE, 'org/' + org.strip().lower())}"
    return _build(stix2.Identity, oid, id=oid, name=name or org, identity_class="organization", created="2020-01-01T00:00:00.000Z",
                  modified="2020-01-01T00:00:00.000Z", x_qalqan_org=org.strip().lower(), allow_custom=True)


def with_distribution(obj: dict[str, Any], level: str, group: str | None, hops: int) -> dict[str, Any]:
    """`obj` with our distribution extension set (in place, and returned)."""
    if level not in DISTRIBUTIONS:
        raise StixError(f"unknown distribution {level!r}", object_id=str(obj.get("id", "")), field="distribution")
    if (level == "sharing-group") != bool(group):
        raise StixError("a sharing group is named if and only if the distribution is sharing-group", object_id=str(obj.get("id", "")), field="sharing_group")
    ext = dict(obj.get("extensions") or {})
    fields: dict[str, Any] = {"extension_type": "property-extension", "level": level, "hops": int(hops)}
    if group:
        fields["sharing_group"] = group
    ext[DISTRIBUTION_EXT] = fields
    obj["extensions"] = ext
    return obj


def distribution_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """{level, sharing_group, hops} of an object, None when it carries no distribution."""
    ext = (obj.get("extensions") or {}).get(DISTRIBUTION_EXT)
    if not isinstance(ext, Mapping):
        return None
    return {"level": ext.get("level", "organisation"), "sharing_group": ext.get("sharing_group"), "hops": int(ext.get("hops", 0))}


# --- subjects -----------------------------------------------------------------------------


def _check_special(entity: Entity) -> None:
    for prop in entity.extra:
        if _special(prop):
            raise SpecialCategoryError(f"subject {entity.id}: {prop!r} is a special category of personal data and is never shared", object_id=entity.id, field=prop)


def _date_dict(d: PartialDate) -> dict[str, Any]:
    out: dict[str, Any] = {"year": d.year}
    if d.month is not None:
        out["month"] = d.month
    if d.day is not None:
        out["day"] = d.day
    if d.kind is not DateKind.EXACT:
        out["kind"] = d.kind.value
    if d.year_to is not None:
        out["year_to"] = d.year_to
    return out


def _subject_fields(entity: Entity, status: str, last_location: str | None) -> dict[str, Any]:
    names = []
    for n in entity.names:
        item: dict[str, Any] = {"value": n.value, "kind": n.kind.value, "quality": n.quality.value}
        if n.parts:
            item["parts"] = dict(n.parts)
        names.append(item)
    documents = [{k: v for k, v in (("number", d.number), ("type", d.type), ("country", d.country)) if v} for d in entity.documents]
    fields: dict[str, Any] = {
        "schema": entity.schema,
        "names": names,
        "birth_dates": [_date_dict(d) for d in entity.birth_dates],
        "birth_places": list(entity.birth_places),
        "nationalities": list(entity.nationalities),
        "countries": list(entity.countries),
        "documents": documents,
        "gender": entity.gender,
        "addresses": list(entity.addresses),
        "programs": list(entity.programs),
        "status": status,
        "last_location": last_location,
    }
    if entity.list == "un" and entity.reference:
        fields["un_reference"] = entity.reference
        fields["listed_on"] = entity.listed_on
    return fields


def subject_id(created_by: str, entity_id: str) -> str:
    """A subject's STIX id: stable for the same entity shared by the same organisation, so a
    re-share is a new version of the same object."""
    return f"identity--{uuid.uuid5(NAMESPACE, f'subject/{created_by}/{entity_id}')}"


def subject_to_stix(entity: Entity, *, created_by: str, status: str = "suspected", last_location: str | None = None,
                    markings: Sequence[str] = (), created: datetime | None = None) -> dict[str, Any]:
    """A subject of interest as an `identity` with our subject extension."""
    _check_special(entity)
    if status not in STATUSES:
        raise StixError(f"subject {entity.id}: status {status!r} is not one of {', '.join(STATUSES)}", object_id=entity.id, field="status")
    sid = subject_id(created_by, entity.id)
    klass = {"Person": "individual", "Organization": "organization", "LegalEntity": "unknown"}.get(entity.schema, "unknown")
    return _build(stix2.Identity, sid, id=sid, name=entity.caption, identity_class=klass, **_common(created_by, markings, created),
                  extensions=_ext(SUBJECT_EXT, **_subject_fields(entity, status, last_location)))


def _str_list(values: Any, field: str, sid: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise StixError(f"subject {sid}: {field} must be a list of strings", object_id=sid, field=field)
    return tuple(v.strip() for v in values if v.strip())


_SUBJECT_FIELDS = frozenset({"extension_type", "schema", "names", "birth_dates", "birth_places", "nationalities", "countries", "documents", "gender",
                             "addresses", "programs", "status", "last_location", "un_reference", "listed_on"})


def _check_subject_ext(ext: Mapping[str, Any], sid: str) -> None:
    for key in ext:
        if _special(key):
            raise SpecialCategoryError(f"subject {sid}: {key!r} is a special category of personal data; refused", object_id=sid, field=key)
        if key not in _SUBJECT_FIELDS:
            raise StixError(f"subject {sid}: unknown property {key!r} of the subject extension", object_id=sid, field=key)
    names = ext.get("names")
    if not isinstance(names, list) or not names:
        raise StixError(f"subject {sid}: names are required", object_id=sid, field="names")
    for n in names:
        if not isinstance(n, Mapping) or not isinstance(n.get("value"), str) or not n["value"].strip():
            raise StixError(f"subject {sid}: a name needs a non-empty value", object_id=sid, field="names")
        if n.get("kind", "primary") not in {k.value for k in NameKind} or n.get("quality", "good") not in {q.value for q in NameQuality}:
            raise StixError(f"subject {sid}: name {n['value']!r} has an unknown kind or quality", object_id=sid, field="names")
    if ext.get("status", "suspected") not in STATUSES:
        raise StixError(f"subject {sid}: status {ext.get('status')!r} is not one of {', '.join(STATUSES)}", object_id=sid, field="status")
    if ext.get("gender") not in (None, *GENDERS):
        raise StixError(f"subject {sid}: gender {ext.get('gender')!r} is not one of {', '.join(GENDERS)}", object_id=sid, field="gender")
    if ext.get("schema", "Person") not in ("Person", "Organization", "LegalEntity", "Vessel"):
        raise StixError(f"subject {sid}: schema {ext.get('schema')!r} unknown", object_id=sid, field="schema")


def stix_to_subject(obj: Mapping[str, Any], *, list_name: str) -> Entity:
    """A received subject as a screening entity of `list_name` (a partner list).

    The entity id is stable (`<list>-<uuid of the STIX id>`) and its `reference` is the STIX id.
    A bad birth date or document is dropped (so one bad field never loses the subject); a bad
    name or a special category refuses it (StixError)."""
    sid = str(obj.get("id", ""))
    ext = (obj.get("extensions") or {}).get(SUBJECT_EXT)
    if obj.get("type") != "identity" or not isinstance(ext, Mapping):
        raise StixError(f"{sid or 'object'} is not a subject (identity with the subject extension)", object_id=sid, field="extensions")
    _check_subject_ext(ext, sid)
    names = tuple(
        Name(str(n["value"]).strip(), NameKind(n.get("kind", "primary")), NameQuality(n.get("quality", "good")),
             tuple((str(k), str(v)) for k, v in (n.get("parts") or {}).items()))
        for n in ext["names"]
    )
    if not any(n.kind is NameKind.PRIMARY for n in names):
        names = (Name(names[0].value, NameKind.PRIMARY, names[0].quality, names[0].parts), *names[1:])
    dates = []
    for d in ext.get("birth_dates") or ():
        try:
            dates.append(PartialDate(int(d["year"]), d.get("month"), d.get("day"), DateKind(d.get("kind", "exact")), d.get("year_to")))
        except (KeyError, TypeError, ValueError):
            continue
    docs = []
    for d in ext.get("documents") or ():
        if isinstance(d, Mapping) and isinstance(d.get("number"), str) and d["number"].strip():
            docs.append(Document(d["number"].strip(), d.get("type") or None, (d.get("country") or None) and str(d["country"]).lower()))
    extra: dict[str, tuple[str, ...]] = {}
    if ext.get("status"):
        extra["status"] = (str(ext["status"]),)
    if ext.get("last_location"):
        extra["lastLocation"] = (str(ext["last_location"]),)
    if ext.get("un_reference"):
        extra["unReference"] = (str(ext["un_reference"]),)
    key = sid.split("--", 1)[-1]
    return Entity(
        id=f"{list_name}-{key}", schema=str(ext.get("schema", "Person")), list=list_name, source_id=sid, names=names, reference=sid,
        birth_dates=tuple(dates), birth_places=_str_list(ext.get("birth_places"), "birth_places", sid),
        nationalities=tuple(c.lower() for c in _str_list(ext.get("nationalities"), "nationalities", sid)),
        countries=tuple(c.lower() for c in _str_list(ext.get("countries"), "countries", sid)), documents=tuple(docs),
        gender=ext.get("gender"), addresses=_str_list(ext.get("addresses"), "addresses", sid), programs=_str_list(ext.get("programs"), "programs", sid),
        listed_on=ext.get("listed_on") if isinstance(ext.get("listed_on"), str) else None, extra=extra,
    )


# --- groups -------------------------------------------------------------------------------


def group_to_stix(name: str, *, created_by: str, markings: Sequence[str] = (), kind: str = "threat-actor", aliases: Sequence[str] = (),
                  created: datetime | None = None, actor_types: Sequence[str] = ("terrorist",)) -> dict[str, Any]:
    """A terrorist group as a `threat-actor` (or `intrusion-set` for a cyber group); the id is
    stable for the same name from the same organisation."""
    if kind not in ("threat-actor", "intrusion-set"):
        raise StixError(f"a group is a threat-actor or an intrusion-set, not {kind!r}", field="type")
    if not name.strip():
        raise StixError("a group needs a name", field="name")
    gid = f"{kind}--{uuid.uuid5(NAMESPACE, f'group/{created_by}/{name.strip().lower()}')}"
    cls = stix2.ThreatActor if kind == "threat-actor" else stix2.IntrusionSet
    extra: dict[str, Any] = {"threat_actor_types": list(actor_types)} if kind == "threat-actor" and actor_types else {}
    if aliases:
        extra["aliases"] = list(aliases)
    return _build(cls, gid, id=gid, name=name.strip(), **extra, **_common(created_by, markings, created))


def relationship(source_ref: str, relationship_type: str, target_ref: str, *, created_by: str, markings: Sequence[str] = (),
                 created: datetime | None = None) -> dict[str, Any]:
    """A subject's link to a group (member-of, affiliated-with) or any other STIX relationship;
    the id is stable for the same (source, type, target) from the same organisation."""
    rid = f"relationship--{uuid.uuid5(NAMESPACE, f'rel/{created_by}/{source_ref}/{relationship_type}/{target_ref}')}"
    return _build(stix2.Relationship, rid, id=rid, source_ref=source_ref, relationship_type=relationship_type, target_ref=target_ref,
                  **_common(created_by, markings, created))


# --- indicators ---------------------------------------------------------------------------

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9_-]{1,63}\.)+[a-z][a-z0-9-]{0,62}$")
_HEX = {"md5": 32, "sha1": 40, "sha256": 64}
_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}
INDICATOR_KINDS = ("ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def indicator_pattern(kind: str, value: str) -> str:
    """The STIX pattern for one observable, the value checked and canonicalised first."""
    v = value.strip()
    if kind in ("ipv4", "ipv6"):
        try:
            net = ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise StixError(f"{v!r} is not an IP address or network", field="value") from None
        if (net.version == 4) != (kind == "ipv4"):
            raise StixError(f"{v!r} is not an {kind} address", field="value")
        text = str(net.network_address) if net.num_addresses == 1 else str(net)
        return f"[{kind}-addr:value = '{text}']"
    if kind == "domain":
        d = v.lower().rstrip(".")
        try:
            d = d.encode("idna").decode("ascii")
        except UnicodeError:
            raise StixError(f"{v!r} is not a domain name", field="value") from None
        if not _DOMAIN.match(d):
            raise StixError(f"{v!r} is not a domain name", field="value")
        return f"[domain-name:value = '{d}']"
    if kind == "url":
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/]+", v) or any(c.isspace() for c in v):
            raise StixError(f"{v!r} is not an absolute URL", field="value")
        return f"[url:value = '{_quote(v)}']"
    if kind in _HEX:
        h = v.lower()
        if len(h) != _HEX[kind] or not re.fullmatch(r"[0-9a-f]+", h):
            raise StixError(f"{v!r} is not a {kind.upper()} hash ({_HEX[kind]} hex digits)", field="value")
        return f"[file:hashes.'{_HASH_NAMES[kind]}' = '{h}']"
    raise StixError(f"unknown indicator kind {kind!r} (one of {', '.join(INDICATOR_KINDS)})", field="kind")


def indicator(kind: str, value: str, *, created_by: str, valid_from: datetime, markings: Sequence[str] = (), valid_until: datetime | None = None,
              name: str | None = None, created: datetime | None = None) -> dict[str, Any]:
    """A cyber observable (IP, domain, URL, file hash) as a STIX `indicator`; the id is stable
    for the same pattern from the same organisation (a re-share is a new version)."""
    pattern = indicator_pattern(kind, value)
    extra: dict[str, Any] = {"valid_until": _ts(valid_until)} if valid_until else {}
    common = _common(created_by, markings, created)
    iid = f"indicator--{uuid.uuid5(NAMESPACE, f'indicator/{created_by}/{pattern}')}"
    return _build(stix2.Indicator, iid, id=iid, name=name or f"{kind} {value.strip()}", indicator_types=["malicious-activity"], pattern=pattern, pattern_type="stix",
                  valid_from=_ts(valid_from), **extra, **common)


# --- warnings and documents ---------------------------------------------------------------


def warning_report(*, created_by: str, object_refs: Sequence[str], markings: Sequence[str] = (), published: datetime, title: str, description: str,
                   priority: str, valid_until: datetime | None, sectors: Sequence[str], domain: str, ack_required: bool,
                   ack_deadline: datetime | None, created: datetime | None = None) -> dict[str, Any]:
    """An early warning of a possible attack plan as a `report` with our warning extension."""
    if not title.strip():
        raise StixError("a warning needs a title", field="title")
    if priority not in PRIORITIES:
        raise StixError(f"priority {priority!r} is not one of {', '.join(PRIORITIES)}", field="priority")
    bad = [s for s in sectors if s not in SECTORS]
    if bad:
        raise StixError(f"sectors {bad}: each one of {', '.join(SECTORS)}", field="sectors")
    if domain not in DOMAINS:
        raise StixError(f"domain {domain!r} is not one of {', '.join(DOMAINS)}", field="domain")
    if ack_required and ack_deadline is None:
        raise StixError("an acknowledgement deadline is needed when acknowledgement is required", field="ack_deadline")
    if valid_until is not None and valid_until <= published:
        raise StixError("valid_until must be after the warning is published", field="valid_until")
    ext = _ext(WARNING_EXT, priority=priority, valid_until=_ts(valid_until) if valid_until else None, sectors=list(dict.fromkeys(sectors)), domain=domain,
               ack_required=bool(ack_required), ack_deadline=_ts(ack_deadline) if ack_deadline else None)
    ext[WARNING_EXT]["ack_required"] = bool(ack_required)
    return _build(stix2.Report, name=title.strip(), description=description, report_types=["threat-report"],
                  published=_ts(published), object_refs=list(object_refs), labels=[f"priority:{priority}", *(f"sector:{s}" for s in dict.fromkeys(sectors))],
                  extensions=ext, **_common(created_by, markings, created))


def event_report(*, created_by: str, name: str, description: str, published: datetime, object_refs: Sequence[str], markings: Sequence[str] = (),
                 labels: Sequence[str] = (), key: str | None = None, created: datetime | None = None) -> dict[str, Any]:
    """A plain `report` grouping objects (e.g. an imported MISP event); with `key` (the event's
    uuid) its id is stable, so a re-import is the same object."""
    extra: dict[str, Any] = {"labels": list(labels)} if labels else {}
    if key:
        extra["id"] = f"report--{uuid.uuid5(NAMESPACE, f'report/{created_by}/{key}')}"
    return _build(stix2.Report, name=name.strip() or "(untitled)", description=description or None, report_types=["threat-report"], published=_ts(published),
                  object_refs=list(object_refs), **extra, **_common(created_by, markings, created))


DOCUMENT_TYPES = ("application/pdf", "text/markdown", "text/plain")


def document_report(*, created_by: str, title: str, description: str, filename: str, media_type: str, content: bytes,
                    markings: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """A best-practice document: (the `report`, the `artifact` holding the file)."""
    if media_type not in DOCUMENT_TYPES:
        raise StixError(f"media type {media_type!r} is not one of {', '.join(DOCUMENT_TYPES)}", field="media_type")
    if not content:
        raise StixError("the document is empty", field="content")
    if media_type == "application/pdf" and not content.startswith(b"%PDF-"):
        raise StixError(f"{filename} is not a PDF (no %PDF- header)", field="content")
    digest = hashlib.sha256(content).hexdigest()
    artifact = _build(stix2.Artifact, mime_type=media_type, payload_bin=base64.b64encode(content).decode("ascii"), hashes={"SHA-256": digest},
                      object_marking_refs=list(markings) or None)
    report = _build(stix2.Report, name=title.strip() or filename, description=description, report_types=["threat-report"], published=_ts(_now()),
                    object_refs=[artifact["id"]], labels=["best-practice"], extensions=_ext(DOCUMENT_EXT, filename=filename, media_type=media_type, sha256=digest),
                    **_common(created_by, markings, None))
    return report, artifact


def document_content(report: Mapping[str, Any], artifact: Mapping[str, Any]) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of a shared document, its digest checked."""
    ext = (report.get("extensions") or {}).get(DOCUMENT_EXT) or {}
    try:
        data = base64.b64decode(str(artifact.get("payload_bin", "")), validate=True)
    except ValueError:
        raise StixError("the artifact's payload is not base64", object_id=str(artifact.get("id", "")), field="payload_bin") from None
    want = ext.get("sha256") or (artifact.get("hashes") or {}).get("SHA-256")
    if not want or hashlib.sha256(data).hexdigest() != want:
        raise StixError("the document does not match its SHA-256 digest", object_id=str(artifact.get("id", "")), field="hashes")
    return str(ext.get("filename") or "document"), str(ext.get("media_type") or artifact.get("mime_type") or "application/octet-stream"), data


# --- hit reports, acknowledgements, proposals --------------------------------------------


def sighting(*, created_by: str, sighting_of_ref: str, observed_at: datetime, count: int = 1, where_sighted_refs: Sequence[str] = (),
             anonymised: bool = False, markings: Sequence[str] = ()) -> dict[str, Any]:
    """A hit report: the partner's subject was seen here. Anonymised, it says neither where nor
    by whom beyond the sending organisation (which the channel reveals anyway)."""
    when = _ts(observed_at)
    extra: dict[str, Any] = {} if anonymised or not where_sighted_refs else {"where_sighted_refs": list(where_sighted_refs)}
    return _build(stix2.Sighting, sighting_of_ref=sighting_of_ref, count=max(1, int(count)), first_seen=when, last_seen=when, **extra,
                  description="confirmed by an analyst" if anonymised else "confirmed by an analyst of the reporting organisation",
                  **_common(created_by, markings, observed_at))


def ack_note(*, created_by: str, object_ref: str, kind: str, at: datetime, comment: str = "") -> dict[str, Any]:
    """An acknowledgement of a warning or of a retraction."""
    if kind not in ACK_KINDS:
        raise StixError(f"acknowledgement kind {kind!r} is not one of {', '.join(ACK_KINDS)}", field="kind")
    return _build(stix2.Note, abstract=f"acknowledged ({kind})", content=comment or f"{kind} {object_ref} acknowledged", object_refs=[object_ref],
                  extensions=_ext(ACK_EXT, kind=kind, acknowledged_at=_ts(at)), **_common(created_by, (), at))


def proposal_note(*, created_by: str, object_ref: str, changes: Mapping[str, Any], comment: str, answer: str | None = None) -> dict[str, Any]:
    """A partner's proposed change to an object, or (with `answer` accepted/rejected) the
    originator's answer to a proposal (`object_ref` is then the proposal note)."""
    if answer not in (None, "accepted", "rejected"):
        raise StixError(f"answer {answer!r} is not accepted or rejected", field="answer")
    if answer is None and not changes and not comment.strip():
        raise StixError("a proposal needs changes or a comment", field="changes")
    return _build(stix2.Note, abstract=f"proposal {answer}" if answer else "proposed change", content=comment or orjson.dumps(dict(changes)).decode(),
                  object_refs=[object_ref], extensions=_ext(PROPOSAL_EXT, changes=dict(changes) or None, answer=answer), **_common(created_by, (), None))


def revoked_version(obj: Mapping[str, Any], *, modified: datetime) -> dict[str, Any]:
    """The retraction of `obj`: its next version, ``revoked: true``."""
    if "modified" not in obj:
        raise StixError(f"{obj.get('id')} is not versioned (a cyber observable); retract the report or indicator that holds it", object_id=str(obj.get("id", "")), field="modified")
    new = dict(obj)
    new["revoked"] = True
    new["modified"] = _ts(modified)
    if new["modified"] <= str(obj["modified"]):
        raise StixError("a new version must be modified after the current one", object_id=str(obj.get("id", "")), field="modified")
    return new


# --- parsing ------------------------------------------------------------------------------

def _check_extensions(obj: Mapping[str, Any], oid: str) -> None:
    ext = obj.get("extensions") or {}
    if not isinstance(ext, Mapping):
        raise StixError(f"object {oid}: extensions must be an object", object_id=oid, field="extensions")
    for key in (SUBJECT_EXT, WARNING_EXT, ACK_EXT, PROPOSAL_EXT, DOCUMENT_EXT, DISTRIBUTION_EXT, CONTENT_EXT):
        if key in ext and not isinstance(ext[key], Mapping):
            raise StixError(f"object {oid}: extension {key} must be an object", object_id=oid, field="extensions")
    if SUBJECT_EXT in ext:
        if obj.get("type") != "identity":
            raise StixError(f"object {oid}: the subject extension belongs on an identity", object_id=oid, field="extensions")
        _check_subject_ext(ext[SUBJECT_EXT], oid)
    if WARNING_EXT in ext:
        w = ext[WARNING_EXT]
        if w.get("priority") not in PRIORITIES:
            raise StixError(f"warning {oid}: priority {w.get('priority')!r} is not one of {', '.join(PRIORITIES)}", object_id=oid, field="priority")
        if any(s not in SECTORS for s in w.get("sectors") or ()):
            raise StixError(f"warning {oid}: unknown sector in {w.get('sectors')}", object_id=oid, field="sectors")
        if w.get("domain") not in DOMAINS:
            raise StixError(f"warning {oid}: domain {w.get('domain')!r} is not one of {', '.join(DOMAINS)}", object_id=oid, field="domain")
    if ACK_EXT in ext and ext[ACK_EXT].get("kind") not in ACK_KINDS:
        raise StixError(f"note {oid}: acknowledgement kind {ext[ACK_EXT].get('kind')!r} unknown", object_id=oid, field="kind")
    if CONTENT_EXT in ext:
        c = ext[CONTENT_EXT]
        if obj.get("type") != "indicator":
            raise StixError(f"object {oid}: the content extension belongs on an indicator", object_id=oid, field="extensions")
        if c.get("category") not in CONTENT_CATEGORIES:
            raise StixError(f"indicator {oid}: content category {c.get('category')!r} is not one of {', '.join(CONTENT_CATEGORIES)}", object_id=oid, field="category")
        quality = c.get("quality")
        if quality is not None and (not isinstance(quality, int) or isinstance(quality, bool) or not 0 <= quality <= 100):
            raise StixError(f"indicator {oid}: PDQ quality {quality!r} is not a whole number from 0 to 100", object_id=oid, field="quality")
    if DISTRIBUTION_EXT in ext:
        d = ext[DISTRIBUTION_EXT]
        if d.get("level") not in DISTRIBUTIONS or not isinstance(d.get("hops", 0), int) or d.get("hops", 0) < 0:
            raise StixError(f"object {oid}: bad distribution {dict(d)}", object_id=oid, field="distribution")
        if (d.get("level") == "sharing-group") != bool(d.get("sharing_group")):
            raise StixError(f"object {oid}: a sharing group is named if and only if the distribution is sharing-group", object_id=oid, field="sharing_group")
    for key in obj:
        if key.startswith("x_") and _special(key[2:]):
            raise SpecialCategoryError(f"object {oid}: {key!r} is a special category of personal data; refused", object_id=oid, field=key)


def parse_object(raw: Any, *, max_bytes: int = 1_000_000) -> dict[str, Any]:
    """One received object, checked: a STIX 2.1 object `stix2` accepts (custom properties of
    other producers allowed), no larger than `max_bytes`, and our extensions well formed."""
    if not isinstance(raw, Mapping):
        raise StixError(f"an object must be a JSON object, not {type(raw).__name__}", field="object")
    oid = str(raw.get("id", ""))
    if not isinstance(raw.get("type"), str) or not oid:
        raise StixError("an object needs a type and an id", object_id=oid, field="type" if not raw.get("type") else "id")
    if raw.get("spec_version", "2.1") != "2.1":
        raise StixError(f"object {oid}: spec_version {raw.get('spec_version')!r} (only STIX 2.1 is exchanged)", object_id=oid, field="spec_version")
    size = len(orjson.dumps(raw))
    if size > max_bytes:
        raise StixError(f"object {oid} is {size:,} bytes, larger than {max_bytes:,}", object_id=oid, field="object")
    _check_extensions(raw, oid)
    try:
        stix2.parse(dict(raw), allow_custom=True, version="2.1")
    except (_Stix2Error, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StixError(f"object {oid}: {exc}", object_id=oid, field=getattr(exc, "prop_name", "") or "") from None
    return dict(raw)


def parse_bundle(data: bytes | str | Mapping[str, Any], *, max_bytes: int = 50_000_000, max_objects: int = 100_000) -> Iterator[dict[str, Any]]:
    """The objects of a STIX bundle or a TAXII envelope, unchecked one by one (`parse_object`)
    but size- and count-limited as a whole."""
    if isinstance(data, Mapping):
        body: Any = data
    else:
        raw = data.encode() if isinstance(data, str) else data
        if len(raw) > max_bytes:
            raise StixError(f"bundle of {len(raw):,} bytes is larger than {max_bytes:,}", field="bundle")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StixError(f"malformed JSON: {exc}", field="bundle") from None
    if not isinstance(body, Mapping):
        raise StixError("a bundle must be a JSON object", field="bundle")
    if body.get("type") not in (None, "bundle"):
        raise StixError(f"expected a bundle or a TAXII envelope, not a {body.get('type')!r}", field="type")
    objects = body.get("objects", [])
    if not isinstance(objects, list):
        raise StixError("objects must be a list", field="objects")
    if len(objects) > max_objects:
        raise StixError(f"bundle has {len(objects):,} objects, more than {max_objects:,}", field="objects")
    for item in objects:
        if not isinstance(item, Mapping):
            raise StixError("every member of objects must be an object", field="objects")
        yield dict(item)


def bundle(objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A STIX bundle of `objects` (with a random id, as bundles are transient)."""
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [dict(o) for o in objects]}
