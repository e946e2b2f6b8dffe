"""Versioned list imports: atomic, diffed against the live version, and guarded.

An import reads the whole file first (`sources.registry.read_list`; a `ListError` writes nothing),
then writes the new version, its entity records, its membership, its diff against the live
version, the move of the live pointer and the audit entry in ONE transaction. A failed or killed
import therefore leaves the previous version live and no partial rows behind.

The guard (`monitoring.guard`): a version that removes more than a share of the live entities,
is older than the live one, or changes the list's format is stored with its diff but held as
*pending*; the live pointer moves only when an admin confirms it (`confirm_version`, or `force`
at import). Re-screening and closing alerts on delisted entries follow a version going live, and
are the composition's business (`service.core.Qalqan`), not this module's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qalqan.model import Entity, ListError, ListInfo
from qalqan.monitoring.diff import CHANGES, stable_keys
from qalqan.monitoring.guard import DEFAULT_MAX_REMOVED_SHARE, Facts, Hold, holds
from qalqan.service.context import Context
from qalqan.service.records import Progress, compare, report, write_contents
from qalqan.service.versions import NotFound, version_row
from qalqan.sources.registry import LoadedList, read_list
from qalqan.store.tables import CODE, KEY, EntityRecord, ListSource, ListVersion

#: Column sizes of `lists.name` and `lists.url` (store/tables.py).
LIST_NAME_MAX = 64
URL_MAX = 1000
#: Version statuses (`ListVersion.status`).
ACCEPTED, PENDING, REJECTED = "accepted", "pending", "rejected"



class VersionStateError(ValueError):
    """A confirm or reject that does not apply to the version as it stands (says why)."""


def max_removed_share(env: Mapping[str, str] | None = None) -> float:
    """`QALQAN_MAX_REMOVED_SHARE` (0..1) or the guard's default (10%)."""
    raw = (os.environ if env is None else env).get("QALQAN_MAX_REMOVED_SHARE", "")
    if not raw.strip():
        return DEFAULT_MAX_REMOVED_SHARE
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"QALQAN_MAX_REMOVED_SHARE must be between 0 and 1, not {raw!r}")
    return value


@dataclass(slots=True)
class ImportResult:
    list_name: str
    version_id: int | None
    number: int | None
    created: bool  # False: the content equals the live version's (same sha256); nothing new
    counts: dict[str, Any]  # entities per schema of the (new or unchanged live) version
    changes: dict[str, Any]  # {"added": {"Person": n}, "removed": {...}, "amended": {...}}
    previous_id: int | None
    rescreen: Any = None  # set by Qalqan.import_list: the re-screen's summary
    sha256: str | None = None
    published: str | None = None
    warnings: int = 0
    status: str = ACCEPTED  # "pending": stored, held for an admin, not live
    held: list[dict[str, str]] = field(default_factory=list)  # why ({rule, detail})
    forced: bool = False  # held by a rule, made live by `force`

    @property
    def live(self) -> bool:
        """Whether this import made a new version live (so the population must be re-screened)."""
        return self.created and self.status == ACCEPTED

    def as_dict(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "rescreen"}
        rescreen = self.rescreen
        out["rescreen"] = rescreen.as_dict() if hasattr(rescreen, "as_dict") else rescreen
        return out


def _lock_source(session: Session, name: str) -> ListSource | None:
    # FOR UPDATE: two imports of one list queue here (PostgreSQL); SQLite's writers are already
    # serialised by BEGIN IMMEDIATE. The live version is read after the lock, so the diff is
    # always against the version this import replaces.
    return session.execute(select(ListSource).where(ListSource.name == name).with_for_update()).scalar_one_or_none()


def _fits(value: str | None, size: int) -> str | None:
    # A validator too long for its column is dropped, not cut: a cut ETag would never match, and
    # without one the next fetch simply downloads again.
    return value if value is not None and len(value) <= size else None


def _remember_download(ctx: Context, source: ListSource, url: str | None, etag: str | None, last_modified: str | None) -> None:
    if url is not None and len(url) <= URL_MAX:
        source.url = url
        # Validators belong to the URL they came from: a new URL starts without them.
        source.etag = _fits(etag, KEY)
        source.last_modified = _fits(last_modified, KEY)
        source.checked_at = ctx.clock.now()


def _upsert_source(ctx: Context, session: Session, source: ListSource | None, info: ListInfo, url: str | None, etag: str | None, last_modified: str | None) -> ListSource:
    if source is None:
        source = ListSource(name=info.name, format=info.format, title=(info.title or "")[:KEY])
        session.add(source)
    _remember_download(ctx, source, url, etag, last_modified)
    session.flush()
    return source


def _go_live(source: ListSource, version: ListVersion, info_title: str | None) -> None:
    """Move the live pointer (the list takes the version's format and, if it has one, title)."""
    source.current_version_id = version.id
    source.format = version.format
    if info_title:
        source.title = info_title[:KEY]


def _check_size(info: ListInfo, keyed: Mapping[str, Entity]) -> None:
    if len(info.name) > LIST_NAME_MAX:
        raise ListError(info.source, f"list name longer than {LIST_NAME_MAX} characters: {info.name[:80]!r}")
    for key, entity in keyed.items():
        # Checked before anything is written: the store's key and id columns hold KEY characters.
        if len(entity.id) > KEY:
            raise ListError(info.source, f"record id longer than {KEY} characters", record=entity.id[:80], field="id")
        if len(key) > KEY:
            raise ListError(info.source, f"reference longer than {KEY} characters", record=entity.id, field="reference")


def _supersede_pending(ctx: Context, session: Session, list_name: str, actor: str, by_number: int) -> None:
    """A version going live replaces any version of the list still waiting for confirmation (its
    diff was against a version that is no longer live)."""
    session.execute(
        update(ListVersion)
        .where(ListVersion.list_name == list_name, ListVersion.status == PENDING)
        .values(status=REJECTED, decided_by=actor, decided_at=ctx.clock.now(), decision_reason=f"superseded by version {by_number}")
    )


def import_list(
    ctx: Context,
    spec: str,
    *,
    actor: str,
    name: str | None = None,
    source: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
    reason: str = "",
) -> ImportResult:
    """Import a list file ("PATH" or "FORMAT:PATH") as the list's new version, atomically.

    The version goes live unless the guard holds it (then `status` is "pending" and `held` says
    why); `force` (an admin's, with a `reason`) makes a held version live at once. `source` is
    where the file came from when it is not the path (a URL: then it is remembered on the list
    together with `etag` / `last_modified` for the next fetch). A file whose bytes equal the live
    version's creates no version; the attempt is audited as unchanged.
    Raises ListError (nothing written) when the file cannot be used as a whole.
    """
    if force and not reason.strip():
        raise ValueError("forcing a held import live needs a reason")
    report(progress, "reading", 0, 1)
    loaded = read_list(spec, name=name)
    report(progress, "reading", 1, 1)
    return import_loaded(ctx, loaded, actor=actor, source=source, etag=etag, last_modified=last_modified, progress=progress, force=force, reason=reason)


def import_loaded(
    ctx: Context,
    loaded: LoadedList,
    *,
    actor: str,
    source: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
    reason: str = "",
    guarded: bool = True,
) -> ImportResult:
    """`import_list` for a list already read (`sources.registry.LoadedList`): a partner list
    built from pulled STIX objects comes this way. `guarded=False` skips the import guard: a
    partner's retraction is the originator's decision, not a suspicious drop to hold."""
    if force and not reason.strip():
        raise ValueError("forcing a held import live needs a reason")
    info = loaded.info
    list_name, origin = info.name, source or info.source
    keyed = stable_keys(loaded.entities)
    _check_size(info, keyed)
    url = source if source and "://" in source else None

    with ctx.transaction() as session:
        src = _lock_source(session, list_name)
        live = session.get(ListVersion, src.current_version_id) if src is not None and src.current_version_id is not None else None
        if src is not None and live is not None and live.sha256 == info.sha256:
            _remember_download(ctx, src, url, etag, last_modified)
            detail = {"unchanged": True, "version": live.number, "sha256": info.sha256, "source": origin}
            ctx.audit(session, actor=actor, action="list.import", target=f"list:{list_name}", detail=detail)
            return ImportResult(list_name, live.id, live.number, False, dict(live.counts), {c: {} for c in CHANGES}, live.previous_id, sha256=live.sha256, published=live.published, warnings=live.warnings)

        report(progress, "comparing", 0, len(keyed))
        cmp = compare(session, keyed, live)
        report(progress, "comparing", len(keyed), len(keyed))
        held: list[Hold] = []
        if live is not None:
            facts = Facts(live.total, len(cmp.removed), live.published, info.published, live.format, info.format)
            held = holds(facts, max_removed_share()) if guarded else []
        status = PENDING if held and not force else ACCEPTED

        src = _upsert_source(ctx, session, src, info, url, etag, last_modified)
        number = (session.execute(select(func.max(ListVersion.number)).where(ListVersion.list_name == list_name)).scalar() or 0) + 1
        changes = cmp.changes()
        now = ctx.clock.now()
        version = ListVersion(
            list_name=list_name, number=number, source=origin[:1000], format=info.format, fetched_at=now,
            published=info.published[:CODE] if info.published else None, sha256=info.sha256 or "", counts=dict(info.counts),
            total=len(keyed), warnings=info.warnings, imported_by=actor, previous_id=live.id if live is not None else None,
            changes=changes, status=status, held=[h.as_dict() for h in held],
            decided_by=actor if held and force else None, decided_at=now if held and force else None, decision_reason=reason.strip() if held and force else None,
        )
        session.add(version)
        session.flush()
        has_records = live is not None or session.execute(select(EntityRecord.id).where(EntityRecord.list_name == list_name).limit(1)).first() is not None
        write_contents(session, list_name, version, cmp, has_records, progress)

        if status == ACCEPTED:
            _supersede_pending(ctx, session, list_name, actor, number)
            _go_live(src, version, info.title)
        report(progress, "committing", 0, 1)
        # Audited last: the audit head is locked from here to the commit, not for the whole import.
        detail = {
            "version": number, "version_id": version.id, "sha256": info.sha256, "source": origin, "published": info.published,
            "counts": dict(info.counts), "changes": changes, "status": status, "held": [h.as_dict() for h in held],
        }
        if held and force:
            detail.update(forced=True, reason=reason.strip())
        ctx.audit(session, actor=actor, action="list.import", target=f"list:{list_name}", detail=detail)
        session.flush()
        result = ImportResult(
            list_name, version.id, number, True, dict(info.counts), changes, version.previous_id, sha256=info.sha256, published=info.published,
            warnings=info.warnings, status=status, held=[h.as_dict() for h in held], forced=bool(held and force),
        )
    report(progress, "committing", 1, 1)
    if result.live:
        ctx.invalidate()  # the new version is live: the next screening uses it
    return result


def _pending_version(session: Session, name: str, number: int) -> tuple[ListSource, ListVersion]:
    src, version = version_row(session, name, number)
    if version.status != PENDING:
        raise VersionStateError(f"version {number} of list {name!r} is {version.status}, not pending")
    return src, version


def confirm_version(ctx: Context, name: str, number: int, *, actor: str, reason: str) -> ImportResult:
    """An admin's confirmation: the held version `number` goes live. Refused (VersionStateError)
    when the version is not pending or the live version is no longer the one it was compared with
    (its diff would be wrong: import the file again). NotFound for an unknown list or version."""
    text = (reason or "").strip()
    if not text:
        raise ValueError("confirming a held version needs a reason")
    with ctx.transaction() as session:
        src = _lock_source(session, name)
        if src is None:
            raise NotFound(f"no list {name!r} in the store")
        src, version = _pending_version(session, name, number)
        if version.previous_id != src.current_version_id:
            raise VersionStateError(f"version {number} of list {name!r} was compared with a version that is no longer live: import the file again")
        version.status, version.decided_by, version.decided_at, version.decision_reason = ACCEPTED, actor, ctx.clock.now(), text
        _supersede_pending(ctx, session, name, actor, number)
        _go_live(src, version, None)
        ctx.audit(session, actor=actor, action="list.confirm", target=f"list:{name}", detail={"version": number, "version_id": version.id, "held": list(version.held or []), "reason": text})
        result = ImportResult(
            name, version.id, number, True, dict(version.counts), dict(version.changes or {}), version.previous_id, sha256=version.sha256,
            published=version.published, warnings=version.warnings, status=ACCEPTED, held=list(version.held or []), forced=True,
        )
    ctx.invalidate()
    return result


def reject_version(ctx: Context, name: str, number: int, *, actor: str, reason: str) -> None:
    """An admin's refusal of a held version: it stays stored (with its diff) and never goes live."""
    text = (reason or "").strip()
    if not text:
        raise ValueError("rejecting a held version needs a reason")
    with ctx.transaction() as session:
        _, version = _pending_version(session, name, number)
        version.status, version.decided_by, version.decided_at, version.decision_reason = REJECTED, actor, ctx.clock.now(), text
        ctx.audit(session, actor=actor, action="list.reject", target=f"list:{name}", detail={"version": number, "version_id": version.id, "reason": text})
