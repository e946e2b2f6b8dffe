from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.model import Document, NameKind, PartialDate
from qalqan.sources.registry import read_list


@pytest.fixture(scope="module")
def small(fixtures: Path):
    return read_list(str(fixtures / "canada_small.xml"))


def test_small(small) -> None:
    assert small.info.format == "canada" and small.info.name == "ca"
    assert small.info.counts == {"Organization": 1, "Person": 2, "Vessel": 1}
    assert small.info.published == "2025-03-20"  # newest listing date: the file has no date of its own
    [err] = small.report.errors
    assert err.record == "5" and "Iran/Part 1/99" in err.message


def test_person_aliases_and_or_dates(small) -> None:
    e = small.entities[0]
    assert e.id == "ca-1" and e.schema == "Person"
    assert e.reference == "Russia/1, Part 1/1"
    assert e.names[0].value == "Ivan Fakeyevich TESTOVICH"
    assert [n.value for n in e.names if n.kind is NameKind.ALIAS] == [
        "Иван Фейкович ТЕСТОВИЧ",
        "Іван Фейкович ТЕСТОВИЧ",
        "Vanya Test",
    ]
    assert e.birth_dates == (PartialDate(1963), PartialDate(1964))
    assert e.programs == ("Russia", "Russia Schedule 1, Part 1")
    assert e.listed_on == "2022-03-01"


def test_entity_and_ship(small) -> None:
    org = small.entities[1]
    assert org.schema == "Organization"
    assert [n.value for n in org.names] == ["Fictional Shipping Co.", "FSC", "Fictional Shipping Company"]
    ship = small.entities[2]
    assert ship.schema == "Vessel" and ship.caption == "Steppe Ghost"
    assert ship.documents == (Document("9000009", "IMO number"),)
    assert ship.extra["buildDate"] == ("2001",) and ship.birth_dates == ()
    assert ship.extra["type"] == ("Oil Tanker",)


def test_unreadable_date_warned(small) -> None:
    e = small.entities[3]
    assert e.caption == "Fakeri" and e.extra["title"] == ("Brigadier",)
    [w] = [i for i in small.report.warnings if i.record == "4"]  # record 3's fake IMO number is warned too
    assert w.record == "4" and w.field == "DateOfBirthOrShipBuildDate"
    assert "date of birth: born in the early 1970s" in e.notes


def test_real_canada(shared: Path) -> None:
    loaded = read_list(str(shared / "national" / "canada_sema_consolidated_autonomous_sanctions.xml"))
    assert sum(loaded.info.counts.values()) == 4759
    assert loaded.info.counts["Person"] == 3334
    assert loaded.info.counts["Organization"] + loaded.info.counts["Vessel"] == 1425
    assert loaded.info.counts["Vessel"] == 109  # every record with a ShipIMONumber
    assert loaded.info.skipped == 0
    luka = loaded.entities[7]
    assert luka.id == "ca-8"
    assert luka.caption == "Aleksandr Grigoryevich Lukashenko"
    assert luka.birth_dates == (PartialDate(1954, 8, 30),)
    assert luka.programs[0] == "Belarus"
    [ship] = [e for e in loaded.entities if e.caption == "Balitiyskiy III"]
    assert ship.schema == "Vessel" and ship.extra["imoNumber"] == ("7612448",)
    with_aliases = sum(1 for e in loaded.entities if any(n.kind is NameKind.ALIAS for n in e.names))
    assert with_aliases == 2877
