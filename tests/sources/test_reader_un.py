from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.model import DateKind, Document, NameKind, NameQuality, PartialDate
from qalqan.sources.registry import read_list


@pytest.fixture(scope="module")
def small(fixtures: Path):
    return read_list(str(fixtures / "un_small.xml"))


def by_ref(loaded, ref):
    [e] = [e for e in loaded.entities if e.reference == ref]
    return e


def test_small_counts_and_metadata(small) -> None:
    assert small.info.format == "un"
    assert small.info.name == "un"
    assert small.info.published == "2030-01-02T03:04:05.000Z"
    assert small.info.counts == {"Organization": 1, "Person": 2}
    assert small.info.skipped == 1


def test_empty_name_record_is_reported_not_dropped_silently(small) -> None:
    [err] = small.report.errors
    assert err.record == "9000002"
    assert err.field == "FIRST_NAME"
    assert "empty name" in err.message
    assert small.report.records_read == 4


def test_name_parts_original_script_and_alias_quality(small) -> None:
    e = by_ref(small, "QDi.901")
    assert e.id == "un-9000001" and e.source_id == "9000001" and e.schema == "Person"
    primary = e.names[0]
    assert primary.kind is NameKind.PRIMARY
    assert primary.value == "TESTAMIR QARIN ABD AL-FAKE ZUHRAWI"
    assert dict(primary.parts) == {"given": "TESTAMIR", "middle": "QARIN ABD AL-FAKE", "family": "ZUHRAWI"}
    kinds = {(n.value, n.kind, n.quality) for n in e.names}
    assert ("تستامير قرين عبد الفيك زهراوي", NameKind.ORIGINAL_SCRIPT, NameQuality.GOOD) in kinds
    assert ("Testamir al-Zuhrawi", NameKind.ALIAS, NameQuality.GOOD) in kinds
    assert ("Abu Test", NameKind.ALIAS, NameQuality.LOW) in kinds
    assert len(e.names) == 4  # the empty placeholder alias adds nothing


def test_every_date_of_birth_form(small) -> None:
    e = by_ref(small, "QDi.901")
    assert e.birth_dates == (
        PartialDate(1963, 4, 11),
        PartialDate(1961),
        PartialDate(1958, kind=DateKind.APPROXIMATE),
        PartialDate(1955, kind=DateKind.BETWEEN, year_to=1957),
        PartialDate(1960),  # 1960-00-00: year only
        PartialDate(1975, kind=DateKind.APPROXIMATE),  # NOTE "circa 1975"
        PartialDate(1973, 11),  # NOTE "Nov. 1973"
    )
    [warn] = [i for i in small.report.warnings if i.field == "INDIVIDUAL_DATE_OF_BIRTH/NOTE"]
    assert warn.record == "9000001" and "30-35 years old" in warn.message
    assert "date of birth: 30-35 years old" in e.notes


def test_places_nationality_documents_gender_address(small) -> None:
    e = by_ref(small, "QDi.901")
    assert e.birth_places == ("Shibin El Kom, Monufia, Egypt",)
    assert e.nationalities == ("eg",)
    assert e.gender == "male"
    assert e.documents == (
        Document("X1234567", "Passport / Diplomatic", "eg", "expired"),
        Document("29001011234567", "National Identification Number", "jo", None),
    )
    assert e.addresses == ("1 Fake Street, Cairo, Egypt (as of 2020)",)
    assert e.countries == ("eg",)
    assert e.programs == ("Al-Qaida",)
    assert e.listed_on == "2001-01-25"
    assert e.extra["title"] == ("Sheikh",)


def test_unknown_country_is_warned_and_kept_in_notes(small) -> None:
    e = by_ref(small, "QDi.901")
    [w] = [i for i in small.report.warnings if i.field == "NATIONALITY"]
    assert w.record == "9000001" and "Atlantis" in w.message
    assert "NATIONALITY: Atlantis" in e.notes
    org = by_ref(small, "QDe.901")
    assert org.countries == ("pk",)
    assert any(i.record == "9100001" and "Narnia" in i.message for i in small.report.warnings)


def test_entity_aliases_aka_fka(small) -> None:
    org = by_ref(small, "QDe.901")
    assert org.schema == "Organization" and org.id == "un-9100001"
    names = {(n.value, n.kind) for n in org.names}
    assert ("FRF", NameKind.ALIAS) in names
    assert ("Old Fictional Relief", NameKind.FORMER) in names
    assert ("مؤسسة الإغاثة الخيالية", NameKind.ORIGINAL_SCRIPT) in names


def test_female_without_dates(small) -> None:
    e = by_ref(small, "CDi.999")
    assert e.gender == "female" and e.birth_dates == ()
    assert e.names[0].parts == (("given", "JANE"), ("family", "TESTOVA"))


# --- the real UN list -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def un2026(shared: Path):
    return read_list(str(shared / "un" / "un_consolidated_2026-02-27.xml"))


@pytest.fixture(scope="module")
def un2025(shared: Path):
    return read_list(str(shared / "un" / "un_consolidated_2025-04-19_reserialized.xml"))


def test_real_2026_counts(un2026) -> None:
    assert un2026.info.counts == {"Person": 730, "Organization": 273}
    assert un2026.info.published == "2026-02-27T00:00:09.554Z"
    assert un2026.info.sha256 == "66b392a4090868d2d39161e8d748efd39138377b0e6e60b7921aa67a4f99c8bf"
    assert un2026.info.skipped == 0
    people = [e for e in un2026.entities if e.schema == "Person"]
    assert sum(1 for e in people if any(n.kind is NameKind.ORIGINAL_SCRIPT for n in e.names)) == 336
    assert sum(1 for e in people if "Al-Qaida" in e.programs) == 252
    assert sum(1 for e in people if "Taliban" in e.programs) == 135
    low = sum(1 for e in people for n in e.names if n.quality is NameQuality.LOW)
    assert low == 615


def test_real_2025_counts(un2025) -> None:
    assert un2025.info.counts == {"Person": 684, "Organization": 193}
    assert un2025.info.published == "2025-04-19T23:00:04.625Z"


def test_real_qdi_001(un2026) -> None:
    e = by_ref(un2026, "QDi.001")
    assert e.id == "un-113219"
    assert e.caption == "MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE"
    names = {(n.value, n.kind, n.quality) for n in e.names}
    assert ("محمد صلاح الدين عبدالحليم زيدان", NameKind.ORIGINAL_SCRIPT, NameQuality.GOOD) in names
    assert ("Sayf-Al Adl", NameKind.ALIAS, NameQuality.GOOD) in names
    assert ("Seif al Adel", NameKind.ALIAS, NameQuality.LOW) in names
    assert set(e.birth_dates) == {PartialDate(1963, 4, 11), PartialDate(1960, 4, 11)}
    assert e.nationalities == ("eg",)
    assert e.listed_on == "2001-01-25"


def test_real_tai_005_both_versions(un2026, un2025) -> None:
    for loaded in (un2026, un2025):
        e = by_ref(loaded, "TAi.005")
        assert e.birth_dates == (PartialDate(1961, kind=DateKind.APPROXIMATE),)
        assert e.birth_places == ("Zurmat District, Paktia Province, Afghanistan",)
        assert ("Haji Mudir", NameQuality.LOW) in {(n.value, n.quality) for n in e.names}
        assert e.programs == ("Taliban",)


def test_real_between_and_document(un2026) -> None:
    assert by_ref(un2026, "CDi.030").birth_dates == (PartialDate(1973, kind=DateKind.BETWEEN, year_to=1974),)
    assert by_ref(un2026, "CDi.019").documents == (
        Document("1-78-09-44621-80", "National Identification Number / FARDC ID"),
    )
    adf = by_ref(un2026, "CDe.001")
    assert adf.caption == "ADF" and adf.countries == ("cd",)
    assert ("NALU", NameKind.FORMER) in {(n.value, n.kind) for n in adf.names}
