"""Reading the lists in the store: each list's summary, its versions, one version's stored diff,
and what a version added, amended and removed (the re-screen's input).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qalqan.model import Entity
from qalqan.model.codec import entity_from_dict
from qalqan.monitoring.diff import ADDED, AMENDED, CHANGES, REMOVED
from qalqan.service.common import iso
from qalqan.service.live import READ_CHUNK
from qalqan.store.db import Database
from qalqan.store.tables import EntityRecord, ListChange, ListSource, ListVersion

#: Diff lines returned per page unless asked otherwise, and the most one page may hold.
DIFF_PAGE = 100
DIFF_PAGE_MAX = 1_000


class NotFound(LookupError):
    """A list or version that the store does not hold."""



@dataclass(slots=True)
class ChangedEntity:
    entity: Entity
    key: str
    change: str  # "added" | "amended"
    record_id: int
    fields: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class RemovedEntity:
    key: str
    entity_id: str
    caption: str
    record_id: int


def changed_entities(db: Database, version_id: int) -> tuple[list[ChangedEntity], list[RemovedEntity]]:
    """What `version_id` added and amended (with the new content) and what it removed."""
    changed: list[ChangedEntity] = []
    removed: list[RemovedEntity] = []
    with db.session() as s:
        stmt = (
            select(ListChange.key, ListChange.change, ListChange.new_record_id, ListChange.fields, EntityRecord.data)
            .join(EntityRecord, EntityRecord.id == ListChange.new_record_id)
            .where(ListChange.version_id == version_id, ListChange.change.in_((ADDED, AMENDED)))
            .order_by(ListChange.id)
            .execution_options(yield_per=READ_CHUNK)
        )
        for key, change, rid, fields, data in s.execute(stmt):
            changed.append(ChangedEntity(entity_from_dict(data), key, change, int(rid), list(fields or [])))
        stmt2 = (
            select(ListChange.key, EntityRecord.entity_id, ListChange.caption, ListChange.old_record_id)
            .join(EntityRecord, EntityRecord.id == ListChange.old_record_id)
            .where(ListChange.version_id == version_id, ListChange.change == REMOVED)
            .order_by(ListChange.id)
        )
        for key, eid, caption, rid in s.execute(stmt2):
            removed.append(RemovedEntity(key, eid, caption, int(rid or 0)))
    return changed, removed





def version_dict(v: ListVersion, live_id: int | None) -> dict[str, Any]:
    return {
        "id": v.id,
        "list": v.list_name,
        "number": v.number,
        "live": v.id == live_id,
        "source": v.source,
        "format": v.format,
        "fetched_at": iso(v.fetched_at),
        "published": v.published,
        "sha256": v.sha256,
        "counts": dict(v.counts),
        "total": v.total,
        "warnings": v.warnings,
        "imported_by": v.imported_by,
        "previous_id": v.previous_id,
        "changes": dict(v.changes or {}),
        "status": v.status,
        "held": list(v.held or []),
        "decided_by": v.decided_by,
        "decided_at": iso(v.decided_at),
        "decision_reason": v.decision_reason,
    }


def source_row(s: Session, name: str) -> ListSource:
    src = s.get(ListSource, name)
    if src is None:
        raise NotFound(f"no list {name!r} in the store")
    return src


def lists(db: Database) -> list[dict[str, Any]]:
    """One summary per list: its live version and where it is fetched from."""
    out = []
    with db.session() as s:
        counts = dict(s.execute(select(ListVersion.list_name, func.count()).group_by(ListVersion.list_name)).all())
        for src in s.execute(select(ListSource).order_by(ListSource.name)).scalars():
            live = s.get(ListVersion, src.current_version_id) if src.current_version_id is not None else None
            out.append(
                {
                    "name": src.name,
                    "format": src.format,
                    "title": src.title,
                    "url": src.url,
                    "etag": src.etag,
                    "last_modified": src.last_modified,
                    "checked_at": iso(src.checked_at),
                    "fetch_status": src.fetch_status,
                    "fetch_error": src.fetch_error,
                    "versions": int(counts.get(src.name, 0)),
                    "live": version_dict(live, src.current_version_id) if live is not None else None,
                }
            )
    return out


def versions(db: Database, name: str) -> list[dict[str, Any]]:
    """Every version of a list, newest first. Raises NotFound for an unknown list."""
    with db.session() as s:
        src = source_row(s, name)
        rows = s.execute(select(ListVersion).where(ListVersion.list_name == name).order_by(ListVersion.number.desc())).scalars()
        return [version_dict(v, src.current_version_id) for v in rows]


def version_row(s: Session, name: str, number: int | None) -> tuple[ListSource, ListVersion]:
    src = source_row(s, name)
    if number is None:
        if src.current_version_id is None:
            raise NotFound(f"list {name!r} has no live version")
        version = s.get(ListVersion, src.current_version_id)
    else:
        version = s.execute(select(ListVersion).where(ListVersion.list_name == name, ListVersion.number == number)).scalar_one_or_none()
    if version is None:
        raise NotFound(f"list {name!r} has no version {number}")
    return src, version


def get_version(db: Database, name: str, number: int | None = None) -> dict[str, Any]:
    """One version (default: the live one). Raises NotFound."""
    with db.session() as s:
        src, v = version_row(s, name, number)
        return version_dict(v, src.current_version_id)


def get_diff(db: Database, name: str, number: int | None = None, *, offset: int = 0, limit: int = DIFF_PAGE, change: str | None = None) -> dict[str, Any]:
    """The stored diff of version `number` (default: the live one) against the version before it:
    counts per change and schema, then one page of lines (added, then removed, then amended, each
    by key) with the changed fields of amended entities. Raises NotFound; ValueError on a bad page."""
    if offset < 0 or not 1 <= limit <= DIFF_PAGE_MAX:
        raise ValueError(f"offset must be >= 0 and limit between 1 and {DIFF_PAGE_MAX}")
    if change is not None and change not in CHANGES:
        raise ValueError(f"change must be one of {', '.join(CHANGES)}")
    with db.session() as s:
        src, v = version_row(s, name, number)
        previous = s.get(ListVersion, v.previous_id) if v.previous_id is not None else None
        where = [ListChange.version_id == v.id]
        if change is not None:
            where.append(ListChange.change == change)
        total = s.execute(select(func.count()).select_from(ListChange).where(*where)).scalar_one()
        rows = s.execute(select(ListChange).where(*where).order_by(ListChange.id).offset(offset).limit(limit)).scalars()
        lines = [{"key": r.key, "change": r.change, "schema": r.schema, "caption": r.caption, "fields": list(r.fields or [])} for r in rows]
        changes = dict(v.changes or {})
        return {
            "list": name,
            "version": version_dict(v, src.current_version_id),
            "previous": version_dict(previous, src.current_version_id) if previous is not None else None,
            "changes": changes,
            "totals": {c: sum((changes.get(c) or {}).values()) for c in CHANGES},
            "total": int(total),
            "offset": offset,
            "limit": limit,
            "lines": lines,
        }




def compare_versions(db: Database, name: str, old_number: int, new_number: int, *, offset: int = 0, limit: int = DIFF_PAGE,
                     change: str | None = None) -> dict[str, Any]:
    """The diff between any two versions of a list (`old_number` -> `new_number`, either order),
    computed from their members: an entity whose key is only in the newer is added, only in the
    older removed, in both with other content amended (with its changed fields, as
    `monitoring.diff.field_changes` gives them). Same shape as `get_diff`. Raises NotFound; a
    ValueError on a bad page or change."""
    from qalqan.monitoring.diff import field_changes
    from qalqan.store.tables import VersionEntity

    if offset < 0 or not 1 <= limit <= DIFF_PAGE_MAX:
        raise ValueError(f"offset must be >= 0 and limit between 1 and {DIFF_PAGE_MAX}")
    if change is not None and change not in CHANGES:
        raise ValueError(f"change must be one of {', '.join(CHANGES)}")
    with db.session() as s:
        src, old = version_row(s, name, old_number)
        _src, new = version_row(s, name, new_number)

        def members(version_id: int) -> dict[str, tuple[int, str, str]]:
            rows = s.execute(
                select(EntityRecord.key, EntityRecord.id, EntityRecord.schema, EntityRecord.caption)
                .join(VersionEntity, VersionEntity.record_id == EntityRecord.id)
                .where(VersionEntity.version_id == version_id)
                .execution_options(yield_per=READ_CHUNK)
            )
            return {key: (int(rid), schema, caption) for key, rid, schema, caption in rows}

        before, after = members(old.id), members(new.id)
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        amended = sorted(k for k in set(before) & set(after) if before[k][0] != after[k][0])
        counts: dict[str, dict[str, int]] = {c: {} for c in CHANGES}
        for kind, keys, side in ((ADDED, added, after), (REMOVED, removed, before), (AMENDED, amended, after)):
            for k in keys:
                counts[kind][side[k][1]] = counts[kind].get(side[k][1], 0) + 1
        ordered = [(ADDED, k) for k in added] + [(REMOVED, k) for k in removed] + [(AMENDED, k) for k in amended]
        if change is not None:
            ordered = [line for line in ordered if line[0] == change]
        page = ordered[offset : offset + limit]
        wanted = {before[k][0] for c, k in page if c == AMENDED} | {after[k][0] for c, k in page if c == AMENDED}
        data: dict[int, dict[str, Any]] = dict(s.execute(select(EntityRecord.id, EntityRecord.data).where(EntityRecord.id.in_(wanted))).all()) if wanted else {}  # type: ignore[arg-type]
        lines = []
        for kind, key in page:
            rid, schema, caption = (before if kind == REMOVED else after)[key]
            fields: list[dict[str, Any]] = []
            if kind == AMENDED:
                fields = [c.as_dict() for c in field_changes(entity_from_dict(data[before[key][0]]), entity_from_dict(data[after[key][0]]))]
            lines.append({"key": key, "change": kind, "schema": schema, "caption": caption, "fields": fields})
        return {
            "list": name,
            "version": version_dict(new, src.current_version_id),
            "previous": version_dict(old, src.current_version_id),
            "changes": counts,
            "totals": {c: sum(counts[c].values()) for c in CHANGES},
            "total": len(ordered),
            "offset": offset,
            "limit": limit,
            "lines": lines,
        }
