"""The live list versions: which version of each list is live, their entities, and the screener
over them (rebuilt when a live version changes).

Only reads: the move of a live pointer is `service.lists`' business.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qalqan.matching.config import MatchConfig
from qalqan.matching.screener import Screener
from qalqan.model import Entity, ListInfo
from qalqan.model.codec import entity_from_dict
from qalqan.service.clock import Clock
from qalqan.service.common import iso
from qalqan.store.db import Database
from qalqan.store.tables import EntityRecord, ListSource, ListVersion, VersionEntity

#: Rows read per round trip when streaming a version's entities.
READ_CHUNK = 10_000
#: How long the screener trusts its last look at which versions are live. A version imported by
#: another process (the CLI, a second server) is screened against within this; one imported
#: through this process at once (`invalidate`). Asking the database on every request cost ~12%
#: of a screening request's time under load.
LIVE_CHECK_SECONDS = 1.0


def live_versions(db: Database) -> dict[str, int]:
    """List name -> live version id (one small query)."""
    with db.session() as s:
        rows = s.execute(select(ListSource.name, ListSource.current_version_id).where(ListSource.current_version_id.is_not(None)))
        return {name: int(vid) for name, vid in rows if vid is not None}


def list_info(source: ListSource, version: ListVersion) -> ListInfo:
    return ListInfo(
        name=source.name,
        format=version.format,
        source=version.source,
        title=source.title,
        published=version.published,
        loaded_at=iso(version.fetched_at),
        sha256=version.sha256,
        counts=dict(version.counts),
        warnings=version.warnings,
    )


def stream_version(session: Session, version_id: int) -> Iterator[Entity]:
    stmt = (
        select(EntityRecord.data)
        .join(VersionEntity, VersionEntity.record_id == EntityRecord.id)
        .where(VersionEntity.version_id == version_id)
        .order_by(VersionEntity.record_id)
        .execution_options(yield_per=READ_CHUNK)
    )
    for (data,) in session.execute(stmt):
        yield entity_from_dict(data)


def load_live(db: Database) -> tuple[list[Entity], list[ListInfo], dict[str, int]]:
    """The entities of every list's live version, a ListInfo per list, and name -> version id."""
    entities: list[Entity] = []
    infos: list[ListInfo] = []
    versions: dict[str, int] = {}
    with db.session() as s:
        rows = s.execute(
            select(ListSource, ListVersion).join(ListVersion, ListVersion.id == ListSource.current_version_id).order_by(ListSource.name)
        ).all()
        for source, version in rows:
            entities.extend(stream_version(s, version.id))
            infos.append(list_info(source, version))
            versions[source.name] = version.id
    return entities, infos, versions


def version_entities(db: Database, version_id: int) -> list[Entity]:
    """Every entity of one version."""
    with db.session() as s:
        return list(stream_version(s, version_id))


@dataclass(frozen=True, slots=True)
class Listed:
    """Where a live entity comes from: its list, stable key, stored record and version."""

    list_name: str
    key: str
    record_id: int
    version_id: int
    caption: str


class LiveScreener:
    """The screener over every list's live version, and entity id -> `Listed` for it; both
    rebuilt when a live version changes. Requests in flight keep the screener they started with
    (it is immutable); the next one sees the new version."""

    def __init__(self, db: Database, config: MatchConfig, threshold: float, clock: Clock):
        self.db, self.config, self.threshold, self.clock = db, config, threshold, clock
        self._screener: Screener | None = None
        self._versions: dict[str, int] = {}
        self._checked_at: float | None = None
        self._listed: tuple[dict[str, int], dict[str, Listed]] | None = None
        self._lock = threading.Lock()

    def versions(self) -> dict[str, int]:
        return live_versions(self.db)

    @property
    def screener(self) -> Screener:
        current = self._screener
        checked = self._checked_at
        if current is not None and checked is not None and self.clock.monotonic() - checked < LIVE_CHECK_SECONDS:
            return current
        live = self.versions()
        if current is not None and live == self._versions:
            self._checked_at = self.clock.monotonic()
            return current
        with self._lock:
            if self._screener is not None and live == self._versions:
                return self._screener
            entities, infos, versions = load_live(self.db)
            self._screener = Screener(entities, infos, self.threshold, self.config)
            self._versions = versions
            self._checked_at = self.clock.monotonic()
            return self._screener

    def invalidate(self) -> None:
        """Look at the live versions again on the next use (after an import by this process)."""
        self._checked_at = None

    def listed(self, versions: Mapping[str, int]) -> dict[str, Listed]:
        """Entity id -> its identity and stored record in `versions` (cached per set of live
        versions: it changes only with a list import)."""
        cached = self._listed
        if cached is not None and cached[0] == dict(versions):
            return cached[1]
        out: dict[str, Listed] = {}
        with self.db.session() as s:
            for list_name, vid in versions.items():
                rows = s.execute(
                    select(EntityRecord.entity_id, EntityRecord.key, EntityRecord.id, EntityRecord.caption)
                    .join(VersionEntity, VersionEntity.record_id == EntityRecord.id)
                    .where(VersionEntity.version_id == vid)
                )
                for eid, key, rid, caption in rows:
                    out[eid] = Listed(list_name, key, int(rid), int(vid), caption)
        self._listed = (dict(versions), out)
        return out
