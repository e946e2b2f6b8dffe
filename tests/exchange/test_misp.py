"""MISP events into our STIX objects: the real PyMISP/CIRCL test events, persons as subjects,
TLP and distribution, sharing groups, and what is refused."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qalqan.exchange import misp, stix
from qalqan.exchange.misp import MispError, misp_distribution, misp_event_to_stix, misp_sharing_groups, misp_tlp, read_misp_event
from qalqan.model import Document, NameKind, PartialDate

EVENT_FILES = (
    "misp_event.json",
    "57c4445b-c548-4654-af0b-4be3950d210f.json",
    "new_misp_event.json",
    "mispevent_testfiles_existing_event.json",
    "reportlab_testfiles_sighting_1.json",
)
EXISTING = "mispevent_testfiles_existing_event.json"
CLEAR = stix.TLP_MARKINGS["clear"]["id"]
AMBER = stix.TLP_MARKINGS["amber"]["id"]
RED = stix.TLP_MARKINGS["red"]["id"]
PARTNER = stix.org_identity("kg-border", "Border Service")["id"]


def misp_dir() -> Path:
    """As tests/conftest.py's `shared_data` (../shared/data, or QALQAN_SHARED). CI always has it:
    missing data fails the tests, never skips them."""
    d = Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data")) / "messages" / "misp"
    assert d.is_dir(), f"the shared MISP data is missing: {d}"
    return d


def load(name: str) -> Any:
    return json.loads((misp_dir() / name).read_text(encoding="utf-8"))


def body(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("Event", event)


def all_attributes(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The event's attributes and those of its objects, read straight from the file."""
    b = body(event)
    yield from b.get("Attribute", [])
    for obj in b.get("Object", []):
        yield from obj.get("Attribute", [])


def patterns(objects: list[dict[str, Any]], stix_type: str) -> list[str]:
    """The values of the indicators whose pattern is on `stix_type` (e.g. domain-name)."""
    out = []
    for o in objects:
        if o["type"] == "indicator":
            m = re.fullmatch(rf"\[{re.escape(stix_type)}(?::value|:hashes\.'[A-Z0-9-]+') = '(.*)'\]", o["pattern"])
            if m:
                out.append(m.group(1))
    return out


# --- the real events ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVENT_FILES)
def test_every_event_converts_and_every_object_parses(name: str) -> None:
    event = load(name)
    objects = misp_event_to_stix(event, created_by=None)
    for obj in objects:
        assert stix.parse_object(obj) == obj
    b = body(event)
    org = (b.get("Orgc") or b["Org"])["name"]
    identity = objects[0]
    assert identity["type"] == "identity" and identity["identity_class"] == "organization" and identity["name"] == org
    assert identity["id"] == stix.org_identity(re.sub(r"[^a-z0-9]+", "-", org.lower()), org)["id"]
    assert [o for o in objects if o["type"] == "identity" and o.get("identity_class") == "organization"] == [identity]
    rest = objects[1:]
    assert all(o["created_by_ref"] == identity["id"] for o in rest)
    assert stix.distribution_of(identity) is None

    # TLP and distribution, read from the file independently.
    tags = [t["name"] for t in b.get("Tag", [])]
    want_tlp = "clear" if "tlp:white" in tags else "amber"
    want_level = {"0": "organisation", "3": "all", None: "organisation"}[b.get("distribution")]
    for o in rest:
        assert stix.tlp_of(o) == want_tlp, o["id"]
        assert stix.distribution_of(o) == {"level": want_level, "sharing_group": None, "hops": 0}, o["id"]

    # One report, the event, referring to everything else.
    reports = [o for o in rest if o["type"] == "report"]
    assert len(reports) == 1 and reports[0] is rest[-1]
    report = reports[0]
    assert report["name"] == b["info"]
    refs = [o["id"] for o in rest[:-1]]
    assert report["object_refs"] == (refs or [identity["id"]])
    assert sorted(report.get("labels", [])) == sorted(t for t in tags if not t.startswith(("tlp:", "misp-galaxy:")))


@pytest.mark.parametrize("name", EVENT_FILES)
def test_a_reimport_is_the_same_objects(name: str) -> None:
    """Ids and versions come from the event, not the clock: importing an event twice offers the
    store the same (id, modified) pairs, which it keeps once."""
    event = load(name)

    def versions() -> list[tuple[str, str]]:
        return [(o["id"], o.get("modified", "")) for o in misp_event_to_stix(event, created_by=None)]

    first = versions()
    assert versions() == first and len(set(first)) == len(first)


def test_a_threat_actor_from_misp_is_not_called_terrorist() -> None:
    groups = [o for o in misp_event_to_stix(load(EXISTING), created_by=None) if o["type"] == "threat-actor"]
    assert groups and all("threat_actor_types" not in g for g in groups)


def test_existing_event_counts_and_sofacy() -> None:
    event = load(EXISTING)
    result = read_misp_event(event, created_by=None)
    objects = result.objects
    attrs = list(all_attributes(event))
    domains = {a["value"] for a in attrs if a["type"] == "domain"}
    ips = {a["value"] for a in attrs if a["type"] == "ip-dst"}
    sha1s = {a["value"] for a in attrs if a["type"] == "sha1"}
    assert (len(domains), len(ips), len(sha1s)) == (18, 11, 37)  # 19 domain attributes, one value twice; 12 ip-dst, one twice
    assert sorted(patterns(objects, "domain-name")) == sorted(domains)
    assert sorted(patterns(objects, "ipv4-addr")) == sorted(ips)
    assert sorted(patterns(objects, "file")) == sorted(sha1s)
    assert sum(o["type"] == "indicator" for o in objects) == len(domains) + len(ips) + len(sha1s)
    assert result.skipped == [] and result.refused_indicators == 0
    # No person objects here: no subjects, so no relationships.
    assert not [o for o in objects if o["type"] == "relationship" or (o["type"] == "identity" and stix.SUBJECT_EXT in o.get("extensions", {}))]

    actors = [o for o in objects if o["type"] == "threat-actor"]
    assert [a["name"] for a in actors] == ["Sofacy"]  # the galaxy and the tag name it once
    synonyms = body(event)["Galaxy"][0]["GalaxyCluster"][0]["meta"]["synonyms"]
    assert actors[0]["aliases"] == synonyms and "APT28" in actors[0]["aliases"]
    # The other galaxies (tools, malware, exploit kits) are not threat actors.
    assert not [o for o in objects if o["type"] in ("threat-actor", "intrusion-set") and o["name"] != "Sofacy"]

    assert result.tlp == "clear" and all(CLEAR in o["object_marking_refs"] for o in objects[1:])
    assert result.distribution == ("all", None)
    assert all(stix.distribution_of(o)["level"] == "all" for o in objects[1:])  # type: ignore[index]
    # valid_from is the attribute's own timestamp (of its first occurrence, for a value given twice).
    by_value: dict[str, dict[str, Any]] = {}
    for a in attrs:
        by_value.setdefault(a["value"], a)
    for ind in objects:
        if ind["type"] == "indicator" and ind["pattern"].startswith("[domain-name"):
            value = patterns([ind], "domain-name")[0]
            ts = stix.parse_object(ind)["valid_from"]
            assert ts == datetime.fromtimestamp(int(by_value[value]["timestamp"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_xorist_event_hashes_and_org() -> None:
    event = load("57c4445b-c548-4654-af0b-4be3950d210f.json")
    objects = misp_event_to_stix(event, created_by=None)
    attrs = {a["type"]: a["value"] for a in all_attributes(event)}
    assert objects[0]["x_qalqan_org"] == "circl"
    indicators = sorted(o["pattern"] for o in objects if o["type"] == "indicator")
    assert indicators == sorted(
        [f"[file:hashes.'MD5' = '{attrs['md5']}']", f"[file:hashes.'SHA-1' = '{attrs['sha1']}']", f"[file:hashes.'SHA-256' = '{attrs['sha256']}']"]
    )
    # links, comments, text, file names and registry keys are context, not indicators.
    assert len(indicators) == 3
    # No distribution in this export: the safest, organisation only.
    assert misp_distribution(event) == ("organisation", None)
    assert misp_tlp(event) == "clear"
    report = objects[-1]
    assert report["published"].startswith("2016-08-30")  # publish_timestamp 1472548231


def test_plain_event_without_event_key() -> None:
    event = load("misp_event.json")
    assert "Event" not in event
    objects = misp_event_to_stix(event, created_by=None)
    assert patterns(objects, "url") == ["http://fake.website.com/malware/is/here"]
    assert misp_tlp(event) == "amber"  # no tlp: tag
    assert all(AMBER in o["object_marking_refs"] for o in objects[1:])
    assert objects[0]["x_qalqan_org"] == "orgname"
    # publish_timestamp 0: the event's date.
    assert objects[-1]["published"].startswith("2016-06-09T00:00:00")


def test_sighting_event_and_other_galaxies() -> None:
    event = load("reportlab_testfiles_sighting_1.json")
    objects = misp_event_to_stix(event, created_by=None)
    b = body(event)
    assert objects[0]["name"] == b["Orgc"]["name"] == "Synovus Financial" and objects[0]["x_qalqan_org"] == "synovus-financial"
    assert sorted(patterns(objects, "domain-name")) == sorted(a["value"] for a in b["Attribute"] if a["type"] == "domain")
    assert patterns(objects, "url") == [a["value"] for a in b["Attribute"] if a["type"] == "url"]
    assert not [o for o in objects if o["type"] == "threat-actor"]  # Gozi is a banker galaxy
    assert objects[-1]["labels"] == ["PasteBin: MALWAREMESSIAGH"]


def test_empty_event_report_refers_to_its_creator() -> None:
    objects = misp_event_to_stix(load("new_misp_event.json"), created_by=None)
    assert [o["type"] for o in objects] == ["identity", "report"]
    assert objects[1]["object_refs"] == [objects[0]["id"]]


def test_given_creator_makes_no_identity() -> None:
    objects = misp_event_to_stix(load(EXISTING), created_by=PARTNER)
    assert not [o for o in objects if o["type"] == "identity"]
    assert all(o["created_by_ref"] == PARTNER for o in objects)
    assert objects[-1]["type"] == "report" and len(objects[-1]["object_refs"]) == len(objects) - 1
    with pytest.raises(MispError) as err:
        misp_event_to_stix(load(EXISTING), created_by="circl")
    assert err.value.field == "created_by"


def test_stix20_bundle_is_not_a_misp_event() -> None:
    data = load("pymisp_stix20_export_bundle.json")
    assert data["spec_version"] == "2.0"
    with pytest.raises(MispError) as err:
        misp_event_to_stix(data, created_by=None)
    assert err.value.field == "Event.info"
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("bad", [None, [], "event", 3, {"Event": []}, {"Event": "x"}])
def test_not_a_dict_is_refused(bad: Any) -> None:
    with pytest.raises(MispError) as err:
        misp_event_to_stix(bad, created_by=None)
    assert err.value.field == "Event"


def test_no_organisation_and_no_creator() -> None:
    event = {"info": "x", "date": "2024-01-01"}
    with pytest.raises(MispError) as err:
        misp_event_to_stix(event, created_by=None)
    assert err.value.field == "Event.Orgc"
    assert misp_event_to_stix(event, created_by=PARTNER)[0]["type"] == "report"


# --- sharing groups ----------------------------------------------------------------------------


def test_sharing_groups_from_file() -> None:
    data = load("sharing_groups.json")
    want = {
        g["SharingGroup"]["name"]: frozenset({g["Organisation"]["name"].lower()} | {m["Organisation"]["name"].lower() for m in g["SharingGroupOrg"]})
        for g in data
    }
    assert want == {"PrivateTrustedGroup": frozenset({"circl", "pifpafpoum"}), "test": frozenset({"circl", "pifpafpoum"})}
    assert misp_sharing_groups(data) == want
    assert misp_sharing_groups({"response": data}) == want
    assert misp_sharing_groups(data[0]) == {"PrivateTrustedGroup": want["PrivateTrustedGroup"]}


def test_sharing_groups_codes_and_inactive() -> None:
    data = copy.deepcopy(load("sharing_groups.json"))
    data[0]["SharingGroupOrg"][1]["Organisation"]["name"] = "Kyrgyz Border Service"
    data[1]["SharingGroup"]["active"] = False
    assert misp_sharing_groups(data) == {"PrivateTrustedGroup": frozenset({"circl", "kyrgyz-border-service"})}
    del data[0]["SharingGroup"]["name"]
    with pytest.raises(MispError) as err:
        misp_sharing_groups(data)
    assert err.value.field == "[0].SharingGroup.name"
    with pytest.raises(MispError):
        misp_sharing_groups("nope")


# --- TLP and distribution ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "want"),
    [
        (["tlp:white"], "clear"),
        (["tlp:clear"], "clear"),
        (["tlp:green"], "green"),
        (["TLP:AMBER"], "amber"),
        (["tlp:amber+strict"], "amber+strict"),
        (["tlp:red"], "red"),
        ([], "amber"),
        (["osint:source-type=\"blog-post\""], "amber"),
        (["tlp:green", "tlp:red"], "red"),  # the strictest
        (["tlp:white", "tlp:ex:chr"], "clear"),  # Chatham House is not a level
        (["tlp:white", "tlp:purple"], "amber"),  # unknown label: the safe default
    ],
)
def test_misp_tlp(tags: list[str], want: str) -> None:
    assert misp_tlp({"Event": {"info": "x", "Tag": [{"name": t} for t in tags]}}) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [("0", "organisation"), (1, "community"), ("2", "connected"), ("3", "all"), (None, "organisation"), ("", "organisation"), ("5", "organisation")],
)
def test_misp_distribution_levels(raw: Any, want: str) -> None:
    event: dict[str, Any] = {"info": "x"}
    if raw is not None:
        event["distribution"] = raw
    assert misp_distribution(event) == (want, None)


def test_sharing_group_distribution() -> None:
    event = {"info": "x", "distribution": "4", "sharing_group_id": "1", "SharingGroup": {"id": "1", "name": "PrivateTrustedGroup"}}
    assert misp_distribution(event) == ("sharing-group", "PrivateTrustedGroup")
    event["Orgc"] = {"name": "CIRCL"}
    event["date"] = "2024-01-09"
    objects = misp_event_to_stix(event, created_by=None)
    assert stix.distribution_of(objects[-1]) == {"level": "sharing-group", "sharing_group": "PrivateTrustedGroup", "hops": 0}
    del event["SharingGroup"]
    with pytest.raises(MispError) as err:
        misp_distribution(event)
    assert err.value.field == "Event.SharingGroup.name"
    with pytest.raises(MispError):
        misp_event_to_stix(event, created_by=None)


@pytest.mark.parametrize("raw", ["7", 7, "-1", "all", True, "3.5"])
def test_bad_distribution(raw: Any) -> None:
    with pytest.raises(MispError) as err:
        misp_distribution({"info": "x", "distribution": raw})
    assert err.value.field == "Event.distribution"


def test_attributes_narrow_never_widen() -> None:
    def attr(value: str, distribution: str, **more: Any) -> dict[str, Any]:
        return {"type": "domain", "value": value, "distribution": distribution, "timestamp": "1700000000", **more}

    event = {
        "Event": {
            "info": "narrowing",
            "date": "2024-01-09",
            "distribution": "2",
            "Orgc": {"name": "CIRCL"},
            "Tag": [{"name": "tlp:white"}],
            "Attribute": [
                attr("inherit.example.com", "5"),
                attr("org-only.example.com", "0"),
                attr("wider.example.com", "3"),  # "all" inside a connected event stays connected
                attr("red.example.com", "5", Tag=[{"name": "tlp:red"}]),
                attr("group.example.com", "4", SharingGroup={"name": "ftf"}),  # a group inside connected: cannot intersect
            ],
        }
    }
    objects = misp_event_to_stix(event, created_by=None)
    by_value = {patterns([o], "domain-name")[0]: o for o in objects if o["type"] == "indicator"}
    level = {v: stix.distribution_of(o)["level"] for v, o in by_value.items()}  # type: ignore[index]
    assert level == {
        "inherit.example.com": "connected",
        "org-only.example.com": "organisation",
        "wider.example.com": "connected",
        "red.example.com": "connected",
        "group.example.com": "organisation",
    }
    assert {v: stix.tlp_of(o) for v, o in by_value.items()} == {
        "inherit.example.com": "clear", "org-only.example.com": "clear", "wider.example.com": "clear", "red.example.com": "red", "group.example.com": "clear",
    }
    event["Event"]["Attribute"][1]["distribution"] = "9"
    with pytest.raises(MispError) as err:
        misp_event_to_stix(event, created_by=None)
    assert err.value.field == "Event.Attribute[1].distribution"


def test_narrower() -> None:
    n = misp.narrower
    assert n(("all", None), ("sharing-group", "g")) == ("sharing-group", "g")
    assert n(("sharing-group", "g"), ("all", None)) == ("sharing-group", "g")
    assert n(("sharing-group", "g"), ("sharing-group", "h")) == ("organisation", None)
    assert n(("sharing-group", "g"), ("organisation", None)) == ("organisation", None)
    assert n(("community", None), ("connected", None)) == ("community", None)
    assert n(("connected", None), None) == ("connected", None)


def test_refused_values_are_counted_not_fatal() -> None:
    event = {
        "info": "mixed",
        "date": "2024-01-09",
        "Orgc": {"name": "CIRCL"},
        "Attribute": [
            {"type": "ip-dst", "value": "not-an-ip"},
            {"type": "md5", "value": "abc"},
            {"type": "domain", "value": "bad domain.com"},
            {"type": "ip-dst|port", "value": "203.0.113.7|443"},
            {"type": "ip-src", "value": "2001:db8::1"},
            {"type": "filename|sha256", "value": "a.exe|" + "ab" * 32},
            {"type": "hostname", "value": "c2.example.org"},
            {"type": "url", "value": "https://c2.example.org/x"},
            {"type": "domain", "value": "deleted.example.org", "deleted": True},
            {"type": "text", "value": "context"},
        ],
    }
    result = read_misp_event(event, created_by=None)
    assert result.refused_indicators == 3
    assert [s.where for s in result.skipped if s.reason.startswith("indicator refused")] == ["Event.Attribute[0]", "Event.Attribute[1]", "Event.Attribute[2]"]
    assert sorted(o["pattern"] for o in result.objects if o["type"] == "indicator") == sorted(
        [
            "[ipv4-addr:value = '203.0.113.7']",
            "[ipv6-addr:value = '2001:db8::1']",
            f"[file:hashes.'SHA-256' = '{'ab' * 32}']",
            "[domain-name:value = 'c2.example.org']",
            "[url:value = 'https://c2.example.org/x']",
        ]
    )
    # No attribute timestamp: valid from the event's date.
    assert all(o["valid_from"].startswith("2024-01-09T00:00:00") for o in result.objects if o["type"] == "indicator")


# --- persons -----------------------------------------------------------------------------------

RELIGION = "Adherent of the Zoroastrian faith"


def person_event() -> dict[str, Any]:
    def a(relation: str, value: str, misp_type: str = "text") -> dict[str, Any]:
        return {"object_relation": relation, "type": misp_type, "value": value, "distribution": "5", "timestamp": "1700000000"}

    return {
        "Event": {
            "info": "Returnees via the southern route",
            "date": "2024-03-01",
            "publish_timestamp": "1709280000",
            "distribution": "1",
            "uuid": "11111111-2222-4333-8444-555555555555",
            "Orgc": {"name": "KNB Kazakhstan"},
            "Tag": [{"name": "tlp:amber"}, {"name": "misp-galaxy:threat-actor=\"Katibat al-Tawhid\""}, {"name": "returnees"}],
            "Object": [
                {
                    "name": "person",
                    "uuid": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                    "distribution": "5",
                    "Attribute": [
                        a("full-name", "Aslan Serikovich Nurlanov", "full-name"),
                        a("alias", "Abu Yusuf al-Kazakhi"),
                        a("date-of-birth", "1985-03", "date-of-birth"),
                        a("nationality", "Kazakhstan", "nationality"),
                        a("passport-number", "N12345678", "passport-number"),
                        a("passport-country", "Kazakhstan", "passport-country"),
                        a("gender", "Male", "gender"),
                        a("religion", RELIGION),
                        a("ethnicity", "Kazakh"),
                        a("text", "travelled via Istanbul"),
                    ],
                },
                {
                    "name": "person",
                    "uuid": "99999999-8888-4777-8666-555555555555",
                    "Attribute": [a("date-of-birth", "1990", "date-of-birth"), a("nationality", "Kyrgyzstan", "nationality"), a("religion", RELIGION)],
                },
            ],
        }
    }


def test_person_objects_become_subjects() -> None:
    result = read_misp_event(person_event(), created_by=None)
    objects = result.objects
    for obj in objects:
        stix.parse_object(obj)
    subjects = [o for o in objects if o["type"] == "identity" and stix.SUBJECT_EXT in o.get("extensions", {})]
    assert len(subjects) == 1  # the second person has no name
    assert [s.where for s in result.skipped] == ["Event.Object[1]"]
    subject = subjects[0]
    assert subject["identity_class"] == "individual" and subject["name"] == "Aslan Serikovich Nurlanov"
    assert subject["extensions"][stix.SUBJECT_EXT]["status"] == "suspected"
    assert stix.tlp_of(subject) == "amber"
    assert stix.distribution_of(subject) == {"level": "community", "sharing_group": None, "hops": 0}

    entity = stix.stix_to_subject(subject, list_name="partner-knb-kazakhstan")
    assert [(n.value, n.kind) for n in entity.names] == [("Aslan Serikovich Nurlanov", NameKind.PRIMARY), ("Abu Yusuf al-Kazakhi", NameKind.ALIAS)]
    assert entity.birth_dates == (PartialDate(1985, 3),)
    assert entity.nationalities == ("kz",)
    assert entity.documents == (Document("N12345678", "Passport", "kz"),)
    assert entity.gender == "male"
    assert entity.schema == "Person"

    # Special categories and free text go nowhere.
    wire = json.dumps(objects)
    assert RELIGION not in wire and "Zoroastrian" not in wire and "religion" not in wire.lower()
    assert "ethnicity" not in wire.lower() and "Istanbul" not in wire

    # The threat-actor tag becomes a group, the subject affiliated with it.
    [group] = [o for o in objects if o["type"] == "threat-actor"]
    assert group["name"] == "Katibat al-Tawhid"
    [link] = [o for o in objects if o["type"] == "relationship"]
    assert (link["source_ref"], link["relationship_type"], link["target_ref"]) == (subject["id"], "affiliated-with", group["id"])
    report = objects[-1]
    assert set(report["object_refs"]) == {subject["id"], group["id"], link["id"]}
    assert report["labels"] == ["returnees"]
    assert objects[0]["x_qalqan_org"] == "knb-kazakhstan"


def test_person_to_entity_names_and_values() -> None:
    obj = {
        "name": "person",
        "uuid": "0f0f0f0f-1111-4222-8333-444444444444",
        "Attribute": [
            {"object_relation": "first-name", "value": "Ilyas"},
            {"object_relation": "middle-name", "value": "Bakytovich"},
            {"object_relation": "last-name", "value": "Tokhtarov"},
            {"object_relation": "nickname", "value": "Ilya"},
            {"object_relation": "date-of-birth", "value": "1980-05-02"},
            {"object_relation": "date-of-birth", "value": "1980"},
            {"object_relation": "date-of-birth", "value": "sometime"},
            {"object_relation": "nationality", "value": "Kyrgyz"},
            {"object_relation": "nationality", "value": "Atlantis"},
            {"object_relation": "identity-card-number", "value": "ID7788990"},
            {"object_relation": "place-of-birth", "value": "Osh"},
            {"object_relation": "gender", "value": "Prefer not to say"},
            {"object_relation": "sexual-orientation", "value": "x"},
            {"object_relation": "last-name", "value": "Deleted", "deleted": True},
        ],
    }
    skipped: list[misp.Skipped] = []
    entity = misp.person_to_entity(obj, where="Event.Object[0]", skipped=skipped)
    assert entity is not None
    assert entity.id == "misp-0f0f0f0f-1111-4222-8333-444444444444" and entity.list == "misp" and entity.source_id == obj["uuid"]
    assert [(n.value, n.kind) for n in entity.names] == [("Ilyas Bakytovich Tokhtarov", NameKind.PRIMARY), ("Ilya", NameKind.ALIAS)]
    assert dict(entity.names[0].parts) == {"given": "Ilyas", "middle": "Bakytovich", "family": "Tokhtarov"}
    assert entity.birth_dates == (PartialDate(1980, 5, 2), PartialDate(1980))
    assert entity.nationalities == ("kg",)
    assert entity.documents == (Document("ID7788990", "Identity card", None),)
    assert entity.birth_places == ("Osh",)
    assert entity.gender is None
    assert {s.where for s in skipped} == {"Event.Object[0].date-of-birth", "Event.Object[0].nationality"}
    assert misp.person_to_entity({"name": "person", "uuid": "x", "Attribute": [{"object_relation": "religion", "value": "y"}]}) is None
    with pytest.raises(MispError) as err:
        misp.person_to_entity({"name": "person", "Attribute": []}, where="Event.Object[4]")
    assert err.value.field == "Event.Object[4].uuid"


def test_special_categories_are_never_read() -> None:
    assert not misp.SPECIAL_CATEGORY_RELATIONS & misp.PERSON_RELATIONS
    # And none of the relations read would be taken for one by the STIX layer's own rule.
    assert not [r for r in misp.PERSON_RELATIONS if any(w in r.replace("-", "_") for w in stix.SPECIAL_CATEGORY_WORDS)]
