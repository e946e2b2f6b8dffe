"""Fixtures for the adapter tests: a few fictional entities on two small lists, and a stand-in
for the list registry so CLI tests do not depend on the readers."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from qalqan.matching.screener import Screener
from qalqan.model import Document, Entity, ListError, ListInfo, Name, NameKind, NameQuality, PartialDate, Report

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("QALQAN_SHARED", REPO.parent / "shared" / "data"))
UN_XML = SHARED / "un" / "un_consolidated_2026-02-27.xml"


def make_entities() -> list[Entity]:
    return [
        Entity(
            "tl-1", "Person", "tl", "1",
            (Name("Borislav Quennerstedt"), Name("Boris Kvennerstedt", NameKind.ALIAS), Name("B. Q.", NameKind.ALIAS, NameQuality.LOW)),
            reference="TLi.001",
            birth_dates=(PartialDate(1971, 5, 2),),
            nationalities=("kz",),
            gender="male",
            documents=(Document("N1234567", "Passport", "kz"),),
            listed_on="2011-03-04",
        ),
        Entity("tl-2", "Person", "tl", "2", (Name("Ottoline Vasquez-Marrow"),), reference="TLi.002", birth_dates=(PartialDate(1980),), gender="female"),
        Entity("tl-3", "Organization", "tl", "3", (Name("Zephyrine Maritime Holdings"),), reference="TLe.001", countries=("pa",)),
        Entity("ol-1", "Person", "ol", "1", (Name("Gunnvald Treadwick"),), reference="OL-1"),
    ]


LIST_INFOS = [
    ListInfo("tl", "csv", "tl.csv", title="Test list", published="2026-02-27", loaded_at="2026-03-01T10:00:00+00:00", sha256="ab" * 32, counts={"Person": 2, "Organization": 1}),
    ListInfo("ol", "csv", "ol.csv", title="Other list", published="2025-12-31", counts={"Person": 1}),
]


@pytest.fixture(scope="session")
def screener() -> Screener:
    return Screener(make_entities(), LIST_INFOS)


class FakeRegistry:
    """Stands in for qalqan.sources.registry.read_list: any spec ending in a known list name
    gives that list; a spec containing 'broken' raises ListError as a bad file would."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, spec: str, report: Report | None = None) -> Any:
        self.calls.append(spec)
        if "broken" in spec:
            raise ListError(spec.split(":", 1)[-1], "XML is truncated", record="42", field="INDIVIDUAL")
        infos = {i.name: i for i in LIST_INFOS}
        stem = Path(spec.split(":", 1)[-1]).stem
        name = stem if stem in infos else "tl"
        rep = Report()
        rep.warn(spec, "7", "DATE_OF_BIRTH", "unreadable date '19xx'")
        return SimpleNamespace(info=infos[name], entities=[e for e in make_entities() if e.list == name], report=rep)


@pytest.fixture()
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    fake = FakeRegistry()
    monkeypatch.setattr("qalqan.cli._read_list", fake)
    return fake
