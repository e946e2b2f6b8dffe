from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.model import DateKind, Document, ListError, NameKind, NameQuality, PartialDate
from qalqan.sources.registry import detect_format, read_list


@pytest.fixture(scope="module")
def small(fixtures: Path):
    return read_list(str(fixtures / "ftm_small.jsonl"))


def test_schemata_and_ids(small, fixtures: Path) -> None:
    assert detect_format(fixtures / "ftm_small.jsonl") == "ftm"
    assert small.info.name == "ftm_small"
    assert small.info.counts == {"LegalEntity": 1, "Organization": 1, "Person": 1, "Vessel": 1}
    ids = [e.id for e in small.entities]
    assert ids == ["ftm_small-NK-fake1", "ftm_small-NK-fake2", "ftm_small-NK-fake3", "ftm_small-NK-fake6"]
    assert small.info.published == "2030-01-01T00:00:00"


def test_person_properties(small) -> None:
    p = small.entities[0]
    names = {(n.value, n.kind, n.quality) for n in p.names}
    assert names == {
        ("Testan Fakeman", NameKind.PRIMARY, NameQuality.GOOD),
        ("Тестан Фейкман", NameKind.ALIAS, NameQuality.GOOD),
        ("Abu Test", NameKind.ALIAS, NameQuality.LOW),
        ("Testan Oldname", NameKind.FORMER, NameQuality.GOOD),
    }
    assert p.birth_dates == (PartialDate(1970, 5, 2), PartialDate(1975, kind=DateKind.APPROXIMATE))
    assert p.nationalities == ("ir",)
    assert p.gender == "male"
    assert set(p.documents) == {Document("P123", "Passport"), Document("ID-9", "National ID")}
    assert p.extra["topics"] == ("sanction",)


def test_company_maps_to_organization_and_vessel(small) -> None:
    c = small.entities[1]
    assert c.schema == "Organization" and c.countries == ("ru",)
    assert c.documents == (Document("1027700000000", "Registration Number"),)
    v = small.entities[2]
    assert v.schema == "Vessel" and v.flags == ("pa",) and v.properties()["flag"] == ["pa"]


def test_problems_are_reported(small) -> None:
    errors = {(i.record, i.field) for i in small.report.errors}
    assert errors == {("NK-fake7", "name"), ("NK-fake8", "schema")}
    warnings = {(i.record, i.field) for i in small.report.warnings}
    assert ("NK-fake1", "nationality") in warnings  # Atlantis
    assert ("NK-fake6", "notAProperty") in warnings
    skipped = [i.message for i in small.report.warnings if i.field == "schema"]
    assert skipped == [
        "1 Address entities skipped: only Person, Organization, LegalEntity and Vessel are screened",
        "1 Sanction entities skipped: only Person, Organization, LegalEntity and Vessel are screened",
    ]


def test_truncated_json_line_refuses_the_list(tmp_path: Path, fixtures: Path) -> None:
    data = (fixtures / "ftm_small.jsonl").read_bytes()
    bad = tmp_path / "cut.jsonl"
    bad.write_bytes(data.rstrip()[:-5])  # the last entity cut mid-line
    with pytest.raises(ListError, match=r"line \d+ is not valid JSON"):
        read_list(f"ftm:{bad}")


def test_list_name_override(fixtures: Path) -> None:
    loaded = read_list(str(fixtures / "ftm_small.jsonl"), name="os")
    assert loaded.entities[0].id == "os-NK-fake1" and loaded.info.name == "os"
