from __future__ import annotations

from importlib import resources

from qalqan.model import NameKind
from qalqan.sources.registry import read_list


def test_demo_list_is_clean_and_varied() -> None:
    path = resources.files("qalqan") / "data" / "demo.csv"
    loaded = read_list(str(path), name="demo")
    assert loaded.report.issues == []
    assert loaded.info.counts["Person"] >= 25 and loaded.info.counts["Organization"] >= 5 and loaded.info.counts["Vessel"] >= 1
    assert all(e.programs == ("DEMO-FICTIONAL",) for e in loaded.entities)  # labelled fictional
    names = [n.value for e in loaded.entities for n in e.names]
    assert any("\u0600" <= c <= "\u06ff" for n in names for c in n)  # Arabic script
    assert any(c in "ҚқҒғҮүҰұӘәӨөҺһІіҢң" for n in names for c in n)  # Kazakh Cyrillic letters
    assert any(n.startswith("ТОО") for n in names) and any(n.endswith("LLC") for n in names)
    assert any(n.endswith("JSC") for n in names)
    assert all(any(n.kind is NameKind.ALIAS for n in e.names) for e in loaded.entities)
