"""What changed between two versions of a list: added, removed and amended entities, field by field.

Pure functions: no I/O. Entities are matched across versions by a stable key (`stable_keys`), not by
record id: the UN re-issues records under new DATAIDs while the permanent reference ("QDi.299",
"HTi.001") stays, and a re-issue is an amendment of one listing, not a removal plus an addition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qalqan.model.codec import entity_to_dict
from qalqan.model.entity import Entity

#: The change kinds, in the order a diff is reported.
ADDED, REMOVED, AMENDED = "added", "removed", "amended"
CHANGES = (ADDED, REMOVED, AMENDED)
#: Fields compared first (most telling for a reader of the diff); any other field follows, sorted.
FIELD_ORDER = (
    "id",
    "source_id",
    "reference",
    "schema",
    "names",
    "birth_dates",
    "birth_places",
    "nationalities",
    "gender",
    "documents",
    "countries",
    "addresses",
    "programs",
    "listed_on",
    "notes",
    "extra",
    "list",
)


def stable_keys(entities: Sequence[Entity]) -> dict[str, Entity]:
    """Each entity under its identity across versions.

    The key is the entity's `reference` when every entity of the version that has one has a
    unique one (UN "QDi.299", OFAC uid); entities without a reference, and every entity of a list
    whose references repeat (so cannot identify a record), are keyed by `id`.
    """
    refs = Counter(e.reference for e in entities if e.reference)
    use_refs = bool(refs) and all(n == 1 for n in refs.values())
    out: dict[str, Entity] = {}
    for e in entities:
        key = e.reference if use_refs and e.reference else e.id
        if key in out:
            # A reference equal to another entity's id (only possible in odd files): fall back to
            # ids for the whole version, which read_list guarantees unique.
            return {x.id: x for x in entities}
        out[key] = e
    return out


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an entity that differs between two versions (values as `entity_to_dict` gives
    them; None where the field is empty on that side)."""

    field: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(slots=True)
class EntityDiff:
    """Keys added and removed, and the changed fields of each amended key (all sorted by key)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    amended: dict[str, list[FieldChange]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.amended)

    def as_dict(self) -> dict[str, Any]:
        return {
            ADDED: list(self.added),
            REMOVED: list(self.removed),
            AMENDED: {k: [c.as_dict() for c in v] for k, v in self.amended.items()},
        }


def _ordered_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    present = set(old) | set(new)
    first = [f for f in FIELD_ORDER if f in present]
    return first + sorted(present - set(FIELD_ORDER))


def dict_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """The fields that differ between two `entity_to_dict` forms (a field absent on one side is
    None there)."""
    return [FieldChange(f, old.get(f), new.get(f)) for f in _ordered_fields(old, new) if old.get(f) != new.get(f)]


def field_changes(old: Entity, new: Entity) -> list[FieldChange]:
    """The fields that differ between two contents of one listed party."""
    return dict_changes(entity_to_dict(old), entity_to_dict(new))


def diff_entities(old: Mapping[str, Entity], new: Mapping[str, Entity]) -> EntityDiff:
    """Compare two versions keyed by `stable_keys`: every field of `entity_to_dict`, the record id
    and source id included (a record re-issued under a new id is amended, with its id change)."""
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    amended: dict[str, list[FieldChange]] = {}
    for key in sorted(k for k in new if k in old):
        changes = field_changes(old[key], new[key])
        if changes:
            amended[key] = changes
    return EntityDiff(added, removed, amended)


def count_by_schema(diff: EntityDiff, old: Mapping[str, Entity], new: Mapping[str, Entity]) -> dict[str, dict[str, int]]:
    """{"added": {"Person": n, ...}, "removed": {...}, "amended": {...}}: removed entities counted
    under their old schema, the others under their new one."""
    return {
        ADDED: dict(sorted(Counter(new[k].schema for k in diff.added).items())),
        REMOVED: dict(sorted(Counter(old[k].schema for k in diff.removed).items())),
        AMENDED: dict(sorted(Counter(new[k].schema for k in diff.amended).items())),
    }
