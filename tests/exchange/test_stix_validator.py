"""Every kind of object `qalqan.exchange.stix` emits, checked by the OASIS STIX 2.1 validator
(`stix2-validator`) and against our extensions' JSON schemas committed under docs/stix/.

The validator's errors fail a test. Its warnings (SHOULDs and best practices) are allowed only
from the known list in `KNOWN_WARNINGS`, each with the reason we accept it, so a new one is seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from stix2validator import ValidationOptions, validate_instance, validate_string

from qalqan.content import patterns
from qalqan.content.indicators import Indicator
from qalqan.exchange import stix
from qalqan.model.entity import SCHEMATA, DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "stix"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ORG = stix.org_identity("kz-knb", "National Security Committee")
BY = ORG["id"]
AMBER = stix.TLP_MARKINGS["amber"]["id"]
RED = stix.TLP_MARKINGS["red"]["id"]
OPTIONS = ValidationOptions(version="2.1")

#: Validator warnings we accept, by code, and why.
KNOWN_WARNINGS = {
    # Deterministic (UUIDv5) ids for organisations, subjects, groups, relationships, indicators
    # and our extension definitions: so a re-share is a new version of the same object. STIX
    # 2.1 only RECOMMENDS v4 for SDOs/SROs.
    "103",
    # x_qalqan_org on an organisation identity: a custom property (allowed), not an extension.
    "401",
    # member-of identity -> threat-actor is permitted but not in the spec's suggested list.
    "202",
    # indicators carry a name but no description (SHOULD have both).
    "303",
}

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def full_entity() -> Entity:
    """A subject with every field the subject extension carries filled."""
    return Entity(
        id="un-6908555", schema="Person", list="un", source_id="6908555",
        names=(
            Name("Aidar Kasymov", NameKind.PRIMARY, NameQuality.GOOD, (("given", "Aidar"), ("family", "Kasymov"), ("patronymic", "Serikovich"))),
            Name("Қасымов Айдар Серікұлы", NameKind.ORIGINAL_SCRIPT),
            Name("عيدار قاسموف", NameKind.ALIAS),
            Name("Abu Aidar", NameKind.ALIAS, NameQuality.LOW),
            Name("Aidar Kassymov", NameKind.FORMER),
        ),
        reference="QDi.999",
        birth_dates=(PartialDate(1980, 5, 2), PartialDate(1981, 7), PartialDate(1982), PartialDate(1983, kind=DateKind.APPROXIMATE),
                     PartialDate(1979, kind=DateKind.BETWEEN, year_to=1984)),
        birth_places=("Shymkent, Kazakhstan",), nationalities=("kz", "ru"), countries=("sy", "tr"),
        documents=(Document("N12345678", "Passport", "kz"), Document("800502300123", "National Identification Number", "kz"), Document("X-1")),
        gender="male", addresses=("Idlib, Syria",), programs=("Al-Qaida",), listed_on="2020-01-15",
    )


def samples() -> dict[str, dict[str, Any]]:
    """One object of every kind stix.py emits, by a descriptive key (distribution not yet set)."""
    out: dict[str, dict[str, Any]] = {"org identity": ORG}
    subject = stix.subject_to_stix(full_entity(), created_by=BY, status="travelling", last_location="Idlib", markings=[AMBER], created=T0)
    out["subject"] = subject
    actor = stix.group_to_stix("Islamic State", created_by=BY, markings=[AMBER], aliases=["ISIL", "Daesh"], created=T0)
    out["group threat-actor"] = actor
    out["group intrusion-set"] = stix.group_to_stix("Cyber Caliphate", created_by=BY, kind="intrusion-set", markings=[AMBER], aliases=["CCA"], created=T0)
    out["relationship member-of"] = stix.relationship(subject["id"], "member-of", actor["id"], created_by=BY, markings=[AMBER], created=T0)
    values = {"ipv4": "203.0.113.7", "ipv6": "2001:db8::1", "domain": "bad.example.org", "url": "https://bad.example.org/payload?x='1'",
              "md5": "d41d8cd98f00b204e9800998ecf8427e", "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
              "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    for kind, value in values.items():
        out[f"indicator {kind}"] = stix.indicator(kind, value, created_by=BY, valid_from=T0, valid_until=T0 + timedelta(days=30), markings=[AMBER], created=T0)
    out["indicator ipv4 network"] = stix.indicator("ipv4", "198.51.100.0/24", created_by=BY, valid_from=T0, markings=[AMBER], created=T0)
    # Terrorist-content indicators (qalqan.content.patterns): every pattern form, with our content extension.
    content = [("pdq", "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", (("quality", "91"),)),
               ("sha256", values["sha256"], ()), ("url", "https://propaganda.example.org/videos/*", ()), ("url", "https://example.org/post/7", ()),
               ("domain", "propaganda.example.org", ()), ("cidr", "198.51.100.0/24", ()), ("ip", "2001:db8::7", ())]
    for kind, value, meta in content:
        ind = Indicator(id="", type=kind, value=value, category="violent-propaganda", source_org="gifct", source_list="bank-1", tlp="green",
                        valid_until=T0 + timedelta(days=90), metadata=meta)
        out[f"content indicator {kind} {value[:20]}"] = patterns.to_stix(ind, created_by=BY, created=T0, markings=[stix.TLP_MARKINGS["green"]["id"]])
    refs = [out["indicator ipv4"]["id"], out["indicator domain"]["id"]]
    warning = stix.warning_report(created_by=BY, object_refs=refs, markings=[RED], published=T0, title="Planned attack on a power plant",
                                  description="Reconnaissance seen.", priority="flash", valid_until=T0 + timedelta(days=7),
                                  sectors=["energy", "telecommunications"], domain="cyber", ack_required=True, ack_deadline=T0 + timedelta(hours=4), created=T0)
    out["warning report"] = warning
    out["warning report (no ack)"] = stix.warning_report(created_by=BY, object_refs=[subject["id"]], markings=[AMBER], published=T0, title="Travel",
                                                         description="", priority="routine", valid_until=None, sectors=[], domain="physical",
                                                         ack_required=False, ack_deadline=None, created=T0)
    out["event report"] = stix.event_report(created_by=BY, name="MISP event", description="imported", published=T0, object_refs=refs, markings=[AMBER],
                                            labels=["misp:event"], key="5b0f6f1e-0000-4000-8000-000000000001", created=T0)
    md_report, md_artifact = stix.document_report(created_by=BY, title="Screening guide", description="Best practice", filename="guide.md",
                                                  media_type="text/markdown", content="# Guide\n\nҚазақша мәтін.\n".encode(), markings=[AMBER])
    out["document report markdown"], out["document artifact markdown"] = md_report, md_artifact
    pdf_report, pdf_artifact = stix.document_report(created_by=BY, title="Handbook", description="PDF", filename="handbook.pdf",
                                                    media_type="application/pdf", content=PDF, markings=[AMBER])
    out["document report pdf"], out["document artifact pdf"] = pdf_report, pdf_artifact
    out["sighting with where_sighted_refs"] = stix.sighting(created_by=BY, sighting_of_ref=subject["id"], observed_at=T0, count=2,
                                                            where_sighted_refs=[BY], markings=[AMBER])
    out["sighting anonymised"] = stix.sighting(created_by=BY, sighting_of_ref=subject["id"], observed_at=T0, where_sighted_refs=[BY], anonymised=True,
                                               markings=[AMBER])
    out["ack note warning"] = stix.ack_note(created_by=BY, object_ref=warning["id"], kind="warning", at=T0 + timedelta(hours=1), comment="seen")
    revoked = stix.revoked_version(warning, modified=T0 + timedelta(days=1))
    out["revoked warning"] = revoked
    out["ack note retraction"] = stix.ack_note(created_by=BY, object_ref=warning["id"], kind="retraction", at=T0 + timedelta(days=2))
    proposal = stix.proposal_note(created_by=BY, object_ref=subject["id"], changes={"status": "detained", "last_location": "Almaty"}, comment="arrested")
    out["proposal note"] = proposal
    out["proposal answer"] = stix.proposal_note(created_by=BY, object_ref=proposal["id"], changes={}, comment="", answer="accepted")
    out["proposal answer rejected"] = stix.proposal_note(created_by=BY, object_ref=proposal["id"], changes={}, comment="no", answer="rejected")
    return out


def distributed() -> dict[str, dict[str, Any]]:
    """Every sample with our distribution extension (levels in turn, one sharing group)."""
    out: dict[str, dict[str, Any]] = {}
    for i, (key, obj) in enumerate(samples().items()):
        level = stix.DISTRIBUTIONS[i % len(stix.DISTRIBUTIONS)]
        out[key] = stix.with_distribution(json.loads(json.dumps(obj)), level, "central-asia" if level == "sharing-group" else None, i % 3)
    return out


def every_object() -> dict[str, dict[str, Any]]:
    """All samples, plain and distributed, the TLP markings and our extension definitions."""
    out = dict(samples())
    out.update({f"{k} (distributed)": v for k, v in distributed().items()})
    out.update({f"TLP {label}": m for label, m in stix.TLP_MARKINGS.items()})
    out.update({f"extension-definition {name}": d for name, d in stix.EXTENSION_DEFINITIONS.items()})
    return out


def report(results: Any) -> str:
    return "; ".join(f"{level}: {m}" for level, msgs in (("error", results.errors), ("warning", results.warnings)) for m in msgs)


def warning_codes(results: Any) -> set[str]:
    return {m.group(1) for w in results.warnings if (m := re.search(r"\{(\d+)\}", str(w)))}


EVERY = every_object()


@pytest.mark.parametrize("key", list(EVERY))
def test_validator_accepts(key: str) -> None:
    results = validate_instance(EVERY[key], OPTIONS)
    assert results.is_valid and not results.errors, f"{key}: {report(results)}"
    unknown = warning_codes(results) - KNOWN_WARNINGS
    assert not unknown, f"{key}: new validator warnings {unknown}: {report(results)}"
    assert len(warning_codes(results)) == len(results.warnings), f"{key}: a warning without a code: {report(results)}"


def test_validator_accepts_the_bundle() -> None:
    objects = list(distributed().values())  # the warning and its revoked version: two versions of one report
    objects += [*stix.TLP_MARKINGS.values(), *stix.EXTENSION_DEFINITIONS.values()]
    body = stix.bundle(objects)
    results = validate_string(json.dumps(body, ensure_ascii=False), OPTIONS)
    assert results.is_valid and not results.errors, report(results)
    assert warning_codes(results) <= KNOWN_WARNINGS, report(results)
    # and it reads back through our own parser
    parsed = [stix.parse_object(o) for o in stix.parse_bundle(json.dumps(body))]
    assert len(parsed) == len(objects)


def test_every_kind_is_sampled() -> None:
    types = {o["type"] for o in EVERY.values()}
    assert types == {"identity", "threat-actor", "intrusion-set", "relationship", "indicator", "report", "artifact", "sighting", "note",
                     "marking-definition", "extension-definition"}
    patterns = {o["pattern"].split(":", 1)[0] for o in EVERY.values() if o["type"] == "indicator"}
    assert patterns == {"[ipv4-addr", "[ipv6-addr", "[domain-name", "[url", "[file"}
    assert any(o.get("revoked") is True for o in EVERY.values())
    assert any("where_sighted_refs" in o for o in EVERY.values() if o["type"] == "sighting")
    assert any("where_sighted_refs" not in o for o in EVERY.values() if o["type"] == "sighting")
    used = {ext for o in EVERY.values() for ext in o.get("extensions") or {}} - {stix.TLP2_EXTENSION}
    assert used == {d["id"] for d in stix.EXTENSION_DEFINITIONS.values()}, "every one of our extensions is exercised"


def test_every_object_parses_back() -> None:
    for key, obj in EVERY.items():
        assert stix.parse_object(obj) == obj, key


# --- our JSON schemas ---------------------------------------------------------------------


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


SCHEMAS = {name: load_schema(name) for name in stix.EXTENSION_DEFINITIONS}
EXT_NAME = {d["id"]: name for name, d in stix.EXTENSION_DEFINITIONS.items()}


def test_one_schema_per_extension() -> None:
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json")) == sorted(f"{n}.schema.json" for n in stix.EXTENSION_DEFINITIONS)
    for name, schema in SCHEMAS.items():
        jsonschema.validators.validator_for(schema).check_schema(schema)
        assert schema["$id"] == stix.EXTENSION_DEFINITIONS[name]["schema"], name
        assert schema["description"].strip(), name
        assert schema["properties"]["extension_type"] == {"const": "property-extension"}, name
        assert "extension_type" in schema["required"], name
        assert schema["additionalProperties"] is False, name


def extension_instances() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for key, obj in EVERY.items():
        for ext_id, ext in (obj.get("extensions") or {}).items():
            if ext_id in EXT_NAME:
                yield key, EXT_NAME[ext_id], ext


@pytest.mark.parametrize(("key", "name", "ext"), list(extension_instances()), ids=lambda v: v if isinstance(v, str) else "")
def test_extension_matches_its_schema(key: str, name: str, ext: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS[name])
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(ext)]
    assert not errors, f"{key} ({name}): {errors}"


def test_schemas_refuse_what_stix_refuses() -> None:
    subject = stix.subject_to_stix(full_entity(), created_by=BY)["extensions"][stix.SUBJECT_EXT]
    check = jsonschema.Draft202012Validator(SCHEMAS["subject"]).is_valid
    assert check(subject)
    assert not check({**subject, "ethnicity": "x"}), "special categories never allowed"
    assert not check({**subject, "religion": ["x"]})
    assert not check({**subject, "names": []})
    assert not check({**subject, "names": [{"value": "A", "kind": "nickname"}]})
    assert not check({**subject, "gender": "unknown"})
    assert not check({**subject, "status": "wanted"})
    assert not check({**subject, "birth_dates": [{"year": 1980, "kind": "between"}]})
    assert not check({**subject, "birth_dates": [{"year": 1980, "day": 3}]})
    dist = jsonschema.Draft202012Validator(SCHEMAS["distribution"]).is_valid
    assert dist({"extension_type": "property-extension", "level": "sharing-group", "sharing_group": "g", "hops": 0})
    assert not dist({"extension_type": "property-extension", "level": "sharing-group", "hops": 0})
    assert not dist({"extension_type": "property-extension", "level": "all", "sharing_group": "g", "hops": 0})
    assert not dist({"extension_type": "property-extension", "level": "all", "hops": -1})
    warn = jsonschema.Draft202012Validator(SCHEMAS["warning"]).is_valid
    assert not warn({"extension_type": "property-extension", "priority": "flash", "domain": "cyber", "ack_required": True})
    assert not warn({"extension_type": "property-extension", "priority": "urgent", "domain": "cyber", "ack_required": False})


def enum_of(schema: dict[str, Any], *path: str) -> tuple[Any, ...]:
    node: Any = schema
    for step in path:
        node = node[step]
    return tuple(node["enum"])


def test_schema_enums_equal_stix_vocabularies() -> None:
    sub, war = SCHEMAS["subject"], SCHEMAS["warning"]
    assert enum_of(sub, "properties", "status") == stix.STATUSES
    assert enum_of(sub, "properties", "gender") == stix.GENDERS
    assert enum_of(sub, "properties", "schema") == SCHEMATA
    assert enum_of(sub, "properties", "names", "items", "properties", "kind") == tuple(k.value for k in NameKind)
    assert enum_of(sub, "properties", "names", "items", "properties", "quality") == tuple(q.value for q in NameQuality)
    assert enum_of(sub, "properties", "birth_dates", "items", "properties", "kind") == tuple(k.value for k in DateKind)
    assert set(sub["properties"]) == set(stix._SUBJECT_FIELDS)
    assert enum_of(war, "properties", "priority") == stix.PRIORITIES
    assert enum_of(war, "properties", "sectors", "items") == stix.SECTORS
    assert enum_of(war, "properties", "domain") == stix.DOMAINS
    assert enum_of(SCHEMAS["acknowledgement"], "properties", "kind") == stix.ACK_KINDS
    assert enum_of(SCHEMAS["distribution"], "properties", "level") == stix.DISTRIBUTIONS
    assert enum_of(SCHEMAS["document"], "properties", "media_type") == stix.DOCUMENT_TYPES
    assert enum_of(SCHEMAS["proposal"], "properties", "answer") == ("accepted", "rejected")


def test_no_special_category_in_any_schema() -> None:
    def names(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    yield from value
                yield from names(value)
        elif isinstance(node, list):
            for value in node:
                yield from names(value)

    for name, schema in SCHEMAS.items():
        bad = [p for p in names(schema) if stix._special(p)]
        assert not bad, f"{name}: {bad}"
