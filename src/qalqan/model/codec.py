"""Entities to and from plain JSON-able dicts (for the store and for diffs), and content hashes.

Pure functions: no I/O. `entity_from_dict(entity_to_dict(e)) == e` for every entity.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from qalqan.model.entity import DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate

#: Entity fields that identify a record rather than describe the listed party: a change in them
#: alone is still shown in a diff, but they are not "data" a match depends on.
IDENTITY_FIELDS = ("id", "list", "source_id")


def date_to_dict(d: PartialDate) -> dict[str, Any]:
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


def date_from_dict(data: dict[str, Any]) -> PartialDate:
    return PartialDate(
        year=int(data["year"]),
        month=data.get("month"),
        day=data.get("day"),
        kind=DateKind(data.get("kind", "exact")),
        year_to=data.get("year_to"),
    )


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    """Every field of the entity; empty optional fields are left out."""
    out: dict[str, Any] = {
        "id": entity.id,
        "schema": entity.schema,
        "list": entity.list,
        "source_id": entity.source_id,
        "names": [
            {
                "value": n.value,
                **({"kind": n.kind.value} if n.kind is not NameKind.PRIMARY else {}),
                **({"quality": n.quality.value} if n.quality is not NameQuality.GOOD else {}),
                **({"parts": [list(p) for p in n.parts]} if n.parts else {}),
            }
            for n in entity.names
        ],
    }
    if entity.reference:
        out["reference"] = entity.reference
    if entity.birth_dates:
        out["birth_dates"] = [date_to_dict(d) for d in entity.birth_dates]
    for key in ("birth_places", "nationalities", "countries", "addresses", "programs", "notes", "flags"):
        values = getattr(entity, key)
        if values:
            out[key] = list(values)
    if entity.documents:
        out["documents"] = [
            {k: v for k, v in (("number", d.number), ("type", d.type), ("country", d.country), ("note", d.note)) if v is not None}
            for d in entity.documents
        ]
    if entity.gender:
        out["gender"] = entity.gender
    if entity.listed_on:
        out["listed_on"] = entity.listed_on
    if entity.extra:
        out["extra"] = {k: list(v) for k, v in sorted(entity.extra.items())}
    return out


def entity_from_dict(data: dict[str, Any]) -> Entity:
    return Entity(
        id=data["id"],
        schema=data["schema"],
        list=data["list"],
        source_id=data["source_id"],
        names=tuple(
            Name(
                value=n["value"],
                kind=NameKind(n.get("kind", "primary")),
                quality=NameQuality(n.get("quality", "good")),
                parts=tuple((p[0], p[1]) for p in n.get("parts", ())),
            )
            for n in data["names"]
        ),
        reference=data.get("reference"),
        birth_dates=tuple(date_from_dict(d) for d in data.get("birth_dates", ())),
        birth_places=tuple(data.get("birth_places", ())),
        nationalities=tuple(data.get("nationalities", ())),
        countries=tuple(data.get("countries", ())),
        documents=tuple(
            Document(number=d["number"], type=d.get("type"), country=d.get("country"), note=d.get("note"))
            for d in data.get("documents", ())
        ),
        gender=data.get("gender"),
        addresses=tuple(data.get("addresses", ())),
        programs=tuple(data.get("programs", ())),
        listed_on=data.get("listed_on"),
        notes=tuple(data.get("notes", ())),
        extra={k: tuple(v) for k, v in data.get("extra", {}).items()},
        flags=tuple(data.get("flags", ())),  # absent from entities stored before vessels had flags
    )


def canonical_json(data: Any) -> bytes:
    """One byte string per value: sorted keys, no whitespace (the input of every content hash)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def content_hash(data: dict[str, Any], ignore: tuple[str, ...] = ()) -> str:
    """SHA-256 of the canonical JSON of `data` without the `ignore` keys."""
    kept = {k: v for k, v in data.items() if k not in ignore}
    return hashlib.sha256(canonical_json(kept)).hexdigest()


def entity_hash(entity: Entity) -> str:
    """Hash of what the entity says about the listed party (identity fields left out), so an
    entity re-issued under a new record id with the same content hashes the same."""
    return content_hash(entity_to_dict(entity), IDENTITY_FIELDS)
