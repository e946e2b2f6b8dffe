from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.model import DateKind, Document, ListError, NameKind, NameQuality, PartialDate
from qalqan.sources.registry import read_list


@pytest.fixture(scope="module")
def small(fixtures: Path):
    return read_list(str(fixtures / "ofac_small.xml"))


def by_id(loaded, eid):
    [e] = [e for e in loaded.entities if e.id == eid]
    return e


def test_other_namespace_is_read(small) -> None:
    # The fixture uses the old treasury "tempuri" namespace, the shared file a newer one.
    assert small.info.format == "ofac" and small.info.name == "ofac"
    assert small.info.published == "2029-12-31"
    assert small.info.counts == {"Organization": 1, "Person": 1, "Vessel": 1}


def test_unsupported_type_and_empty_name_are_reported(small) -> None:
    errors = {(i.record, i.field) for i in small.report.errors}
    assert errors == {("900004", "sdnType"), ("900005", "lastName")}


def test_individual(small) -> None:
    e = by_id(small, "ofac-900001")
    assert e.schema == "Person" and e.source_id == "900001" and e.reference == "900001"
    assert e.names[0].value == "Testan Abdul FAKEMAN"
    assert dict(e.names[0].parts) == {"given": "Testan Abdul", "family": "FAKEMAN"}
    names = {(n.value, n.kind, n.quality) for n in e.names}
    assert ("Testan FAKEMANN", NameKind.ALIAS, NameQuality.GOOD) in names
    assert ("ABU TEST", NameKind.ALIAS, NameQuality.LOW) in names
    assert e.birth_dates == (PartialDate(1980, 2, 8), PartialDate(1975, kind=DateKind.APPROXIMATE))
    assert e.birth_places == ("Qom, Iran",)
    assert e.nationalities == ("ir",)
    assert e.gender == "male"
    assert e.documents == (Document("P9988776", "Passport", "ir"),)
    assert e.extra["email"] == ("fake@example.org",)
    assert e.countries == ("ir",) and e.addresses == ("Tehran, Iran",)
    assert e.programs == ("SDGT", "IRAN")
    assert any(i.record == "900001" and i.field == "citizenshipList/country" for i in small.report.warnings)


def test_entity_and_vessel(small) -> None:
    org = by_id(small, "ofac-900002")
    assert org.schema == "Organization"
    assert org.documents == (Document("7700000000", "Tax ID No.", "ru"),)  # sanctions metadata is not a document
    assert ("OLD FICTIONAL TRADING", NameKind.FORMER) in {(n.value, n.kind) for n in org.names}
    ship = by_id(small, "ofac-900003")
    assert ship.schema == "Vessel"
    assert ship.extra["imoNumber"] == ("IMO 9999999",)
    assert ship.flags == ("pa",) and Document("ABCD", "Call sign") in ship.documents
    assert ship.properties()["flag"] == ["pa"] and ship.properties()["callSign"] == ["ABCD"]


def test_record_count_mismatch_is_refused(tmp_path: Path, fixtures: Path) -> None:
    text = (fixtures / "ofac_small.xml").read_text().replace("<Record_Count>5<", "<Record_Count>6<")
    bad = tmp_path / "ofac.xml"
    bad.write_text(text)
    with pytest.raises(ListError, match="Record_Count"):
        read_list(str(bad))


def test_real_ofac(shared: Path) -> None:
    loaded = read_list(str(shared / "ofac" / "ofac_consolidated_non_sdn_2025-03-28.xml"))
    assert loaded.info.counts == {"Organization": 363, "Person": 80}
    assert sum(loaded.info.counts.values()) == 443
    assert loaded.info.published == "2025-03-28"
    e = by_id(loaded, "ofac-9639")
    assert e.caption == "Ismail Abdul Salah HANIYA"
    assert {n.value for n in e.names} >= {"Ismail HANIYA", "Ismaeel HANIYYA"}
    assert e.birth_dates == (PartialDate(1962),) and e.birth_places == ("Shati",)
    assert e.programs == ("NS-PLC",)
    bank = by_id(loaded, "ofac-17017")
    assert bank.caption == "BM BANK JSC"
    assert Document("1027700159497", "Registration ID", "ru") in bank.documents
    assert ("BANK OF MOSCOW", NameKind.FORMER) in {(n.value, n.kind) for n in bank.names}
    weak = sum(1 for x in loaded.entities for n in x.names if n.quality is NameQuality.LOW)
    assert 0 < weak <= 70  # 70 weak a.k.a.s in the file; duplicates of other names collapse
