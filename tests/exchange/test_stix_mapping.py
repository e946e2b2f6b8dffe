"""Qalqan's objects to STIX 2.1 and back (`qalqan.exchange.stix`): subjects in every script,
special categories refused, indicator values checked and canonicalised, TLP, distribution,
retractions, bundle limits and shared documents."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stix2

from qalqan.exchange import stix
from qalqan.exchange.stix import SpecialCategoryError, StixError
from qalqan.model.entity import DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BY = stix.org_identity("kz-knb", "National Security Committee")["id"]
TLP = {label: m["id"] for label, m in stix.TLP_MARKINGS.items()}

NAMES = (
    Name("Aidar Kasymov", NameKind.PRIMARY, NameQuality.GOOD, (("given", "Aidar"), ("family", "Kasymov"))),
    Name("Қасымов Айдар Серікұлы", NameKind.ORIGINAL_SCRIPT),
    Name("Касымов Айдар", NameKind.ALIAS),
    Name("عيدار قاسموف", NameKind.ALIAS, NameQuality.LOW),
    Name("Aidar Kassymov", NameKind.FORMER),
)
DATES = (
    PartialDate(1980, 5, 2),
    PartialDate(1981, 7),
    PartialDate(1982),
    PartialDate(1983, kind=DateKind.APPROXIMATE),
    PartialDate(1979, kind=DateKind.BETWEEN, year_to=1984),
)
DOCS = (Document("N12345678", "Passport", "kz"), Document("800502300123", "National Identification Number", "kz"), Document("X-1"))


def entity(**changes: Any) -> Entity:
    fields: dict[str, Any] = dict(
        id="un-6908555", schema="Person", list="un", source_id="6908555", names=NAMES, reference="QDi.999", birth_dates=DATES,
        birth_places=("Shymkent",), nationalities=("kz", "ru"), countries=("sy",), documents=DOCS, gender="male",
        addresses=("Idlib, Syria",), programs=("Al-Qaida",), listed_on="2020-01-15",
    )
    fields.update(changes)
    return Entity(**fields)


def shared(e: Entity | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("created", T0)
    return stix.subject_to_stix(e or entity(), created_by=BY, **kwargs)


def ext_of(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["extensions"][stix.SUBJECT_EXT]  # type: ignore[no-any-return]


def over_the_wire(obj: dict[str, Any]) -> dict[str, Any]:
    return stix.parse_object(json.loads(json.dumps(obj, ensure_ascii=False)))


# --- subjects -----------------------------------------------------------------------------


def test_subject_round_trip_keeps_everything() -> None:
    obj = shared(status="travelling", last_location="Idlib", markings=[TLP["amber"]])
    assert obj["type"] == "identity" and obj["identity_class"] == "individual" and obj["name"] == "Aidar Kasymov"
    back = stix.stix_to_subject(over_the_wire(obj), list_name="kz-knb")
    assert back.names == NAMES  # values, kinds, qualities and parts in Latin, Cyrillic (Kazakh letters) and Arabic
    assert back.birth_dates == DATES
    assert back.documents == DOCS
    assert back.nationalities == ("kz", "ru") and back.countries == ("sy",)
    assert back.gender == "male"
    assert back.birth_places == ("Shymkent",) and back.addresses == ("Idlib, Syria",) and back.programs == ("Al-Qaida",)
    assert back.listed_on == "2020-01-15"
    assert back.extra == {"status": ("travelling",), "lastLocation": ("Idlib",), "unReference": ("QDi.999",)}
    assert back.schema == "Person" and back.list == "kz-knb"
    assert back.reference == back.source_id == obj["id"]
    assert back.caption == "Aidar Kasymov"


def test_subject_ids_are_stable_across_re_share() -> None:
    first = shared()
    again = shared(created=T0 + timedelta(days=3), status="detained")
    assert first["id"] == again["id"] == stix.subject_id(BY, "un-6908555")
    assert again["modified"] > first["modified"]
    one = stix.stix_to_subject(first, list_name="kz-knb")
    two = stix.stix_to_subject(again, list_name="kz-knb")
    assert one.id == two.id == f"kz-knb-{first['id'].split('--', 1)[1]}"
    other_org = stix.subject_to_stix(entity(), created_by=stix.org_identity("kg-border", "Border")["id"], created=T0)
    assert other_org["id"] != first["id"]
    assert shared(entity(id="un-1"))["id"] != first["id"]


def test_un_reference_only_for_un_entities() -> None:
    assert "un_reference" not in ext_of(shared(entity(list="ofac", id="ofac-1")))
    assert ext_of(shared())["un_reference"] == "QDi.999"


def test_minimal_subject() -> None:
    e = Entity(id="kz-1", schema="Organization", list="kz", source_id="1", names=(Name("Jamaat X"),))
    obj = shared(e)
    assert obj["identity_class"] == "organization"
    assert set(ext_of(obj)) == {"extension_type", "schema", "names", "status"}  # empty fields are not written
    back = stix.stix_to_subject(over_the_wire(obj), list_name="p")
    assert back.names == (Name("Jamaat X"),) and back.birth_dates == () and back.gender is None


def test_a_subject_without_primary_name_gets_one() -> None:
    obj = shared()
    ext_of(obj)["names"] = [{"value": "Abu Aidar", "kind": "alias", "quality": "low"}, {"value": "Қасымов", "kind": "alias"}]
    back = stix.stix_to_subject(stix.parse_object(obj), list_name="p")
    assert back.names[0] == Name("Abu Aidar", NameKind.PRIMARY, NameQuality.LOW)
    assert back.names[1] == Name("Қасымов", NameKind.ALIAS)
    ext_of(obj)["names"] = [{"value": "Қасымов"}]  # kind and quality default to primary, good
    assert stix.stix_to_subject(obj, list_name="p").names == (Name("Қасымов"),)


def test_unknown_status_refused_on_share() -> None:
    with pytest.raises(StixError) as info:
        shared(status="wanted")
    assert info.value.field == "status"


@pytest.mark.parametrize("prop", ["religion", "ethnicity", "politicalOpinion", "health", "sexual_orientation", "x_tribe"])
def test_special_category_never_shared(prop: str) -> None:
    with pytest.raises(SpecialCategoryError) as info:
        shared(entity(extra={prop: ("x",)}))
    assert info.value.field == prop


def test_harmless_extra_is_not_a_special_category() -> None:
    assert shared(entity(extra={"title": ("Sheikh",), "trace_id": ("1",)}))["type"] == "identity"


@pytest.mark.parametrize("prop", ["ethnicity", "religion", "x_health_status", "biometric_template"])
def test_received_special_category_refused(prop: str) -> None:
    obj = shared()
    ext_of(obj)[prop] = "x"
    with pytest.raises(SpecialCategoryError) as info:
        stix.parse_object(obj)
    assert info.value.field == prop and info.value.object_id == obj["id"]
    with pytest.raises(SpecialCategoryError):
        stix.stix_to_subject(obj, list_name="p")


def test_received_special_category_as_custom_property_refused() -> None:
    obj = shared()
    obj["x_religion"] = "x"
    with pytest.raises(SpecialCategoryError):
        stix.parse_object(obj)


def test_unknown_subject_property_refused() -> None:
    obj = shared()
    ext_of(obj)["shoe_size"] = 44
    with pytest.raises(StixError) as info:
        stix.parse_object(obj)
    assert not isinstance(info.value, SpecialCategoryError)
    assert info.value.field == "shoe_size"


@pytest.mark.parametrize("bad", [{"year": 1980, "month": 13}, {"month": 5}, {"year": "soon"}, {"year": 1980, "kind": "between"},
                                 {"year": 1980, "kind": "roughly"}, {"year": 1980, "day": 3}, "1980", {"year": 99}])
def test_one_bad_birth_date_is_dropped_not_the_subject(bad: Any) -> None:
    obj = shared()
    ext_of(obj)["birth_dates"] = [ext_of(obj)["birth_dates"][0], bad]
    back = stix.stix_to_subject(stix.parse_object(obj), list_name="p")
    assert back.birth_dates == (PartialDate(1980, 5, 2),)
    assert back.names == NAMES


def test_bad_document_is_dropped() -> None:
    obj = shared()
    ext_of(obj)["documents"] = [{"number": "  "}, {"type": "Passport"}, "N1", {"number": "N2", "country": "KZ"}]
    assert stix.stix_to_subject(obj, list_name="p").documents == (Document("N2", None, "kz"),)


@pytest.mark.parametrize(("field", "value"), [("names", []), ("names", [{"value": " "}]), ("names", [{"value": "A", "kind": "nickname"}]),
                                             ("names", [{"value": "A", "quality": "great"}]), ("gender", "unknown"), ("status", "wanted"),
                                             ("schema", "Animal"), ("nationalities", "kz")])
def test_bad_subject_field_refused(field: str, value: Any) -> None:
    obj = shared()
    ext_of(obj)[field] = value
    with pytest.raises(StixError) as info:
        stix.stix_to_subject(obj, list_name="p")
    assert info.value.field == field


def test_subject_extension_only_on_identity() -> None:
    obj = stix.group_to_stix("X", created_by=BY)
    obj["extensions"] = {stix.SUBJECT_EXT: ext_of(shared())}
    with pytest.raises(StixError, match="belongs on an identity"):
        stix.parse_object(obj)
    with pytest.raises(StixError, match="not a subject"):
        stix.stix_to_subject(stix.org_identity("kz-knb", "KNB"), list_name="p")


# --- indicators ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value", "pattern"), [
    ("ipv4", "203.0.113.7", "[ipv4-addr:value = '203.0.113.7']"),
    ("ipv4", " 203.0.113.7/32 ", "[ipv4-addr:value = '203.0.113.7']"),
    ("ipv4", "10.0.0.5/24", "[ipv4-addr:value = '10.0.0.0/24']"),
    ("ipv6", "2001:0DB8:0000::0001", "[ipv6-addr:value = '2001:db8::1']"),
    ("ipv6", "2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']"),
    ("domain", "Bad.Example.ORG.", "[domain-name:value = 'bad.example.org']"),
    ("domain", "пример.қаз", "[domain-name:value = 'xn--e1afmkfd.xn--80ao21a']"),
    ("domain", "bücher.de", "[domain-name:value = 'xn--bcher-kva.de']"),
    ("url", "https://bad.example.org/a'b", "[url:value = 'https://bad.example.org/a\\'b']"),
    ("url", "ftp://files.example.org", "[url:value = 'ftp://files.example.org']"),
    ("md5", "D41D8CD98F00B204E9800998ECF8427E", "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']"),
    ("sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"),
    ("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
     "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
])
def test_indicator_values_canonicalised(kind: str, value: str, pattern: str) -> None:
    assert stix.indicator_pattern(kind, value) == pattern
    obj = stix.indicator(kind, value, created_by=BY, valid_from=T0, created=T0)
    assert obj["pattern"] == pattern and obj["pattern_type"] == "stix"
    assert stix.parse_object(obj) == obj


@pytest.mark.parametrize(("kind", "value"), [
    ("ipv4", "256.1.1.1"), ("ipv4", "1.2.3"), ("ipv4", "1.2.3.4/33"), ("ipv4", "example.org"), ("ipv4", "2001:db8::1"), ("ipv4", "::ffff:1.2.3.4"),
    ("ipv6", "203.0.113.7"), ("ipv6", "2001:db8:::1"), ("ipv6", "gggg::1"),
    ("domain", "-bad.example.org"), ("domain", "localhost"), ("domain", "a..b"), ("domain", "exa mple.com"), ("domain", "1.2.3.4"),
    ("domain", "x" * 64 + ".org"), ("domain", ""),
    ("url", "bad.example.org/payload"), ("url", "//bad.example.org"), ("url", "https://bad.example.org/a b"), ("url", "https://"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427"), ("md5", "d41d8cd98f00b204e9800998ecf8427ez"), ("sha1", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha256", "da39a3ee5e6b4b0d3255bfef95601890afd80709"), ("sha256", "g" * 64),
])
def test_indicator_values_refused(kind: str, value: str) -> None:
    with pytest.raises(StixError) as info:
        stix.indicator_pattern(kind, value)
    assert info.value.field == "value"


def test_unknown_indicator_kind_refused() -> None:
    with pytest.raises(StixError) as info:
        stix.indicator("email", "a@example.org", created_by=BY, valid_from=T0)
    assert info.value.field == "kind"


def test_indicator_id_stable_for_the_same_pattern() -> None:
    a = stix.indicator("md5", "D41D8CD98F00B204E9800998ECF8427E", created_by=BY, valid_from=T0)
    b = stix.indicator("md5", "d41d8cd98f00b204e9800998ecf8427e", created_by=BY, valid_from=T0 + timedelta(days=1))
    assert a["id"] == b["id"]


# --- TLP ----------------------------------------------------------------------------------


def test_tlp_of_tlp2_and_tlp1() -> None:
    assert tlp_for(TLP["amber+strict"]) == "amber+strict"
    assert tlp_for(str(stix2.TLP_WHITE.id)) == "clear"
    assert tlp_for(str(stix2.TLP_GREEN.id)) == "green"
    assert tlp_for(str(stix2.TLP_AMBER.id)) == "amber"
    assert tlp_for(str(stix2.TLP_RED.id)) == "red"
    assert stix.tlp_of({}) is None
    assert tlp_for("marking-definition--00000000-0000-4000-8000-000000000000") is None


def tlp_for(*refs: str) -> str | None:
    return stix.tlp_of({"object_marking_refs": list(refs)})


def test_tlp_strictest_wins() -> None:
    assert tlp_for(TLP["green"], TLP["red"]) == "red"
    assert tlp_for(TLP["amber"], TLP["amber+strict"]) == "amber+strict"
    assert tlp_for(str(stix2.TLP_WHITE.id), TLP["green"]) == "green"
    assert tlp_for(TLP["clear"], str(stix2.TLP_AMBER.id)) == "amber"


def test_tlp_label_of_marking_definitions() -> None:
    for label, marking in stix.TLP_MARKINGS.items():
        assert stix.tlp_label(marking) == label
    assert stix.tlp_label(json.loads(stix2.TLP_WHITE.serialize())) == "clear"
    assert stix.tlp_label(json.loads(stix2.TLP_RED.serialize())) == "red"
    assert stix.tlp_label({"type": "marking-definition", "definition_type": "statement", "definition": {"statement": "x"}}) is None


# --- distribution -------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "group", "hops"), [("organisation", None, 0), ("community", None, 1), ("connected", None, 2), ("all", None, 3),
                                                      ("sharing-group", "central-asia", 1)])
def test_distribution_round_trip(level: str, group: str | None, hops: int) -> None:
    obj = stix.with_distribution(shared(), level, group, hops)
    parsed = over_the_wire(obj)
    assert stix.distribution_of(parsed) == {"level": level, "sharing_group": group, "hops": hops}
    assert stix.SUBJECT_EXT in parsed["extensions"], "the other extensions are kept"


def test_no_distribution() -> None:
    assert stix.distribution_of(shared()) is None


@pytest.mark.parametrize(("level", "group"), [("sharing-group", None), ("sharing-group", ""), ("all", "central-asia"), ("everyone", None)])
def test_distribution_consistency_on_share(level: str, group: str | None) -> None:
    with pytest.raises(StixError):
        stix.with_distribution(shared(), level, group, 0)


@pytest.mark.parametrize("ext", [{"level": "sharing-group", "hops": 0}, {"level": "all", "sharing_group": "g", "hops": 0},
                                 {"level": "everyone", "hops": 0}, {"level": "all", "hops": -1}, {"level": "all", "hops": "1"}])
def test_distribution_consistency_on_receipt(ext: dict[str, Any]) -> None:
    obj = stix.with_distribution(shared(), "all", None, 0)
    obj["extensions"][stix.DISTRIBUTION_EXT] = {"extension_type": "property-extension", **ext}
    with pytest.raises(StixError):
        stix.parse_object(obj)


# --- retractions --------------------------------------------------------------------------


def test_revoked_version_is_the_next_version() -> None:
    obj = stix.group_to_stix("X", created_by=BY, created=T0)
    new = stix.revoked_version(obj, modified=T0 + timedelta(seconds=1))
    assert new["revoked"] is True and new["id"] == obj["id"] and new["modified"] > obj["modified"]
    assert "revoked" not in obj, "the original is not changed"
    assert stix.parse_object(new) == new


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(microseconds=500), timedelta(days=-1)])
def test_revoked_version_must_be_later(delta: timedelta) -> None:
    obj = stix.group_to_stix("X", created_by=BY, created=T0)
    with pytest.raises(StixError) as info:
        stix.revoked_version(obj, modified=T0 + delta)
    assert info.value.field == "modified"


def test_observable_cannot_be_revoked() -> None:
    _, artifact = stix.document_report(created_by=BY, title="t", description="", filename="a.txt", media_type="text/plain", content=b"x")
    with pytest.raises(StixError):
        stix.revoked_version(artifact, modified=T0)


# --- parsing limits -----------------------------------------------------------------------


def test_parse_bundle_and_envelope() -> None:
    objects = [shared(), stix.group_to_stix("X", created_by=BY)]
    assert list(stix.parse_bundle(json.dumps(stix.bundle(objects)))) == objects
    assert list(stix.parse_bundle(json.dumps({"objects": objects}).encode())) == objects  # a TAXII envelope
    assert list(stix.parse_bundle({"type": "bundle", "id": "bundle--1"})) == []


def test_parse_bundle_too_many_objects() -> None:
    body = stix.bundle([stix.group_to_stix(f"G{i}", created_by=BY) for i in range(3)])
    assert len(list(stix.parse_bundle(body, max_objects=3))) == 3
    with pytest.raises(StixError) as info:
        list(stix.parse_bundle(body, max_objects=2))
    assert info.value.field == "objects"


def test_parse_bundle_too_large() -> None:
    data = json.dumps(stix.bundle([shared()]))
    with pytest.raises(StixError) as info:
        list(stix.parse_bundle(data, max_bytes=len(data.encode()) - 1))
    assert info.value.field == "bundle"
    assert len(list(stix.parse_bundle(data, max_bytes=len(data.encode())))) == 1


@pytest.mark.parametrize("data", ['{"type": "bundle", "objects": [', b"\xff\xfe", "", "{'type': 'bundle'}"])
def test_parse_bundle_malformed_json(data: str | bytes) -> None:
    with pytest.raises(StixError, match="malformed JSON"):
        list(stix.parse_bundle(data))


@pytest.mark.parametrize("data", ["[]", '"bundle"', '{"type": "indicator", "id": "indicator--1"}', '{"type": "bundle", "objects": {}}',
                                  '{"type": "bundle", "objects": [1]}'])
def test_parse_bundle_not_a_bundle(data: str) -> None:
    with pytest.raises(StixError):
        list(stix.parse_bundle(data))


def test_parse_object_limits() -> None:
    obj = shared()
    with pytest.raises(StixError, match="larger than"):
        stix.parse_object(obj, max_bytes=100)
    with pytest.raises(StixError, match="spec_version"):
        stix.parse_object({**obj, "spec_version": "2.0"})
    with pytest.raises(StixError):
        stix.parse_object({k: v for k, v in obj.items() if k != "type"})
    with pytest.raises(StixError):
        stix.parse_object([obj])
    with pytest.raises(StixError):
        stix.parse_object({**obj, "created": "yesterday"})


# --- warnings, notes, documents ------------------------------------------------------------


def warning(**changes: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(created_by=BY, object_refs=[shared()["id"]], published=T0, title="Attack plan", description="d", priority="flash",
                                  valid_until=T0 + timedelta(days=1), sectors=["energy", "energy", "water"], domain="physical", ack_required=True,
                                  ack_deadline=T0 + timedelta(hours=2), created=T0)
    kwargs.update(changes)
    return stix.warning_report(**kwargs)


def test_warning_report() -> None:
    obj = stix.parse_object(warning())
    ext = obj["extensions"][stix.WARNING_EXT]
    assert ext == {"extension_type": "property-extension", "priority": "flash", "valid_until": "2026-12-02T10:00:00.000Z", "sectors": ["energy", "water"],
                   "domain": "physical", "ack_required": True, "ack_deadline": "2026-12-01T12:00:00.000Z"}
    assert obj["labels"] == ["priority:flash", "sector:energy", "sector:water"]
    assert warning(ack_required=False, ack_deadline=None)["extensions"][stix.WARNING_EXT]["ack_required"] is False


@pytest.mark.parametrize(("changes", "field"), [({"priority": "urgent"}, "priority"), ({"sectors": ["space"]}, "sectors"), ({"domain": "both"}, "domain"),
                                                ({"ack_deadline": None}, "ack_deadline"), ({"valid_until": T0}, "valid_until"), ({"title": " "}, "title")])
def test_warning_report_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(StixError) as info:
        warning(**changes)
    assert info.value.field == field


def test_received_bad_warning_refused() -> None:
    obj = warning()
    obj["extensions"][stix.WARNING_EXT]["priority"] = "urgent"
    with pytest.raises(StixError):
        stix.parse_object(obj)


def test_ack_and_proposal_notes() -> None:
    w = warning()
    ack = stix.parse_object(stix.ack_note(created_by=BY, object_ref=w["id"], kind="retraction", at=T0))
    assert ack["object_refs"] == [w["id"]] and ack["extensions"][stix.ACK_EXT]["kind"] == "retraction"
    with pytest.raises(StixError):
        stix.ack_note(created_by=BY, object_ref=w["id"], kind="receipt", at=T0)
    bad = copy.deepcopy(ack)
    bad["extensions"][stix.ACK_EXT]["kind"] = "receipt"
    with pytest.raises(StixError):
        stix.parse_object(bad)
    proposal = stix.proposal_note(created_by=BY, object_ref=w["id"], changes={"priority": "routine"}, comment="")
    assert proposal["extensions"][stix.PROPOSAL_EXT] == {"extension_type": "property-extension", "changes": {"priority": "routine"}}
    answer = stix.proposal_note(created_by=BY, object_ref=proposal["id"], changes={}, comment="", answer="rejected")
    assert answer["object_refs"] == [proposal["id"]] and answer["extensions"][stix.PROPOSAL_EXT]["answer"] == "rejected"
    with pytest.raises(StixError):
        stix.proposal_note(created_by=BY, object_ref=w["id"], changes={}, comment=" ")
    with pytest.raises(StixError):
        stix.proposal_note(created_by=BY, object_ref=proposal["id"], changes={}, comment="", answer="maybe")


def test_sighting_anonymised_has_no_where() -> None:
    s = stix.sighting(created_by=BY, sighting_of_ref=shared()["id"], observed_at=T0, where_sighted_refs=[BY], anonymised=True, count=0)
    assert "where_sighted_refs" not in s and s["count"] == 1
    assert stix.sighting(created_by=BY, sighting_of_ref=shared()["id"], observed_at=T0, where_sighted_refs=[BY])["where_sighted_refs"] == [BY]


PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.mark.parametrize(("filename", "media_type", "content"), [("guide.md", "text/markdown", "# Нұсқаулық\n".encode()), ("h.pdf", "application/pdf", PDF)])
def test_document_round_trip(filename: str, media_type: str, content: bytes) -> None:
    report, artifact = stix.document_report(created_by=BY, title="Guide", description="", filename=filename, media_type=media_type, content=content)
    assert report["object_refs"] == [artifact["id"]]
    assert stix.document_content(over_the_wire(report), over_the_wire(artifact)) == (filename, media_type, content)


def test_document_digest_mismatch_refused() -> None:
    report, artifact = stix.document_report(created_by=BY, title="Guide", description="", filename="g.txt", media_type="text/plain", content=b"original")
    tampered = {**artifact, "payload_bin": base64.b64encode(b"tampered").decode()}
    with pytest.raises(StixError) as info:
        stix.document_content(report, tampered)
    assert info.value.field == "hashes"
    with pytest.raises(StixError) as info:
        stix.document_content(report, {**artifact, "payload_bin": "not base64!"})
    assert info.value.field == "payload_bin"


@pytest.mark.parametrize(("media_type", "content"), [("application/zip", b"PK"), ("application/pdf", b"not a pdf"), ("text/plain", b"")])
def test_document_refused(media_type: str, content: bytes) -> None:
    with pytest.raises(StixError):
        stix.document_report(created_by=BY, title="t", description="", filename="f", media_type=media_type, content=content)


def test_groups_and_relationships() -> None:
    a = stix.group_to_stix(" Islamic State ", created_by=BY, aliases=["ISIL"])
    assert a["id"] == stix.group_to_stix("islamic state", created_by=BY)["id"] and a["threat_actor_types"] == ["terrorist"]
    i = stix.group_to_stix("CCA", created_by=BY, kind="intrusion-set")
    assert i["type"] == "intrusion-set" and "threat_actor_types" not in i
    with pytest.raises(StixError):
        stix.group_to_stix("X", created_by=BY, kind="campaign")
    with pytest.raises(StixError):
        stix.group_to_stix(" ", created_by=BY)
    s = shared()
    r = stix.relationship(s["id"], "member-of", a["id"], created_by=BY)
    assert r["id"] == stix.relationship(s["id"], "member-of", a["id"], created_by=BY)["id"]
    assert stix.parse_object(r) == r


@pytest.mark.parametrize("ext_id", [stix.SUBJECT_EXT, stix.WARNING_EXT, stix.ACK_EXT, stix.PROPOSAL_EXT, stix.DOCUMENT_EXT, stix.DISTRIBUTION_EXT])
def test_extension_that_is_not_an_object_refused(ext_id: str) -> None:
    obj = stix.group_to_stix("X", created_by=BY)
    with pytest.raises(StixError):
        stix.parse_object({**obj, "extensions": {ext_id: ["not", "an", "object"]}})
