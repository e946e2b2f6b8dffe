"""The pure list diff: stable keys across versions, added / removed / amended with changed fields."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from functools import cache
from pathlib import Path

import orjson

from qalqan.model import Entity, Name
from qalqan.monitoring.diff import (
    FieldChange,
    count_by_schema,
    diff_entities,
    stable_keys,
)
from qalqan.sources.registry import read_list


def shared_data() -> Path:
    """As tests/conftest.py's `shared_data` (a rootdir conftest is not importable by name)."""
    return Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))

UN_2025 = "un_consolidated_2025-04-19_reserialized.xml"
UN_2026 = "un_consolidated_2026-02-27.xml"
#: The Haiti listings the UN re-issued under new DATAIDs between the two files (reference kept).
REISSUED = {"HTi.002", "HTi.003", "HTi.004", "HTi.005", "HTi.006", "HTi.007"}


@cache
def un(file: str) -> list[Entity]:
    return read_list(str(shared_data() / "un" / file)).entities


def person(id_: str, name: str, reference: str | None = None, **kw: object) -> Entity:
    return Entity(id=id_, schema="Person", list="t", source_id=id_.removeprefix("t-"), names=(Name(name),), reference=reference, **kw)  # type: ignore[arg-type]


def test_un_2025_to_2026_counts() -> None:
    old, new = stable_keys(un(UN_2025)), stable_keys(un(UN_2026))
    diff = diff_entities(old, new)
    counts = count_by_schema(diff, old, new)
    assert counts["added"] == {"Organization": 80, "Person": 50}
    assert counts["removed"] == {"Person": 4}
    assert set(diff.removed) == {"IQi.074", "QDi.317", "QDi.328", "QDi.336"}
    assert all(new[k].reference == k for k in diff.added)  # keyed by the UN reference


def test_un_reissued_haiti_listings_are_amended_with_their_id_change() -> None:
    old_entities = un(UN_2025)
    old, new = stable_keys(old_entities), stable_keys(un(UN_2026))
    diff = diff_entities(old, new)
    id_changed = {k for k, changes in diff.amended.items() if any(c.field == "id" for c in changes)}
    assert id_changed == REISSUED
    for key in REISSUED:
        change = next(c for c in diff.amended[key] if c.field == "id")
        assert change.old == old[key].id and change.new == new[key].id and change.old != change.new
        # By record id alone the re-issue would be a removal plus an addition.
        assert old[key].id not in {e.id for e in un(UN_2026)}
    assert not REISSUED & set(diff.added) and not REISSUED & set(diff.removed)
    # Every field change is JSON-able, as the store keeps it.
    orjson.dumps([c.as_dict() for changes in diff.amended.values() for c in changes])


def test_stable_keys_fall_back_to_ids_when_references_repeat() -> None:
    a, b = person("t-1", "Ann", "R1"), person("t-2", "Bob", "R1")
    assert set(stable_keys([a, b])) == {"t-1", "t-2"}
    c = person("t-3", "Cy")  # no reference: keyed by id while the others use theirs
    assert set(stable_keys([person("t-1", "Ann", "R1"), person("t-2", "Bob", "R2"), c])) == {"R1", "R2", "t-3"}


def test_diff_fields_in_order_and_unchanged_not_reported() -> None:
    old = stable_keys([person("t-1", "Ann Lee", "R1"), person("t-2", "Bob", "R2"), person("t-4", "Dee", "R4")])
    new = stable_keys(
        [
            person("t-1", "Ann Lee", "R1"),
            replace(person("t-2", "Bob", "R2"), names=(Name("Bob"), Name("Robert")), nationalities=("kz",)),
            person("t-3", "Cy", "R3"),
        ]
    )
    diff = diff_entities(old, new)
    assert diff.added == ["R3"] and diff.removed == ["R4"] and list(diff.amended) == ["R2"]
    assert [c.field for c in diff.amended["R2"]] == ["names", "nationalities"]
    assert diff.amended["R2"][1] == FieldChange("nationalities", None, ["kz"])
    assert diff.amended["R2"][0].new == [{"value": "Bob"}, {"value": "Robert"}]
    assert Counter(count_by_schema(diff, old, new)["amended"]) == Counter({"Person": 1})
    assert not diff_entities(old, old)
