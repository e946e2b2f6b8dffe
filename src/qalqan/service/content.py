"""Terrorist-content indicators: imported, listed, shared and retracted; URLs and files checked
against them (docs/content.md).

An indicator this node holds of its own is a row of `content_indicators`. One a partner shared is
the STIX indicator the exchange stored (`exchange_objects`, kind indicator, with our content
extension): it is never copied, so the partner's retraction, pulled by the next sync, takes it
out of matching by itself. Everything that leaves the node leaves through the exchange
(`service.exchange.publish`, the egress filter, TAXII), under the indicator's own TLP and the
distribution the liaison officer chooses.

Matching uses one `content.index.ContentIndex` over every active indicator, rebuilt only when an
indicator was added, changed or retracted here or arrived from a partner (a cheap generation
query per check). Whether an indicator applies (valid from / until) is decided at the moment of
the check by the context's clock.

A checked file is hashed (MD5, SHA-1, SHA-256, and PDQ for images: one hash per sampled frame of
an animated image) and forgotten, unless the analyst asks to keep it (`content_samples`). Every
check, import, share and retraction is audited.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from qalqan.content import hashes as hashing
from qalqan.content import patterns, urls
from qalqan.content.index import ContentIndex, ContentMatch
from qalqan.content.indicators import (
    CATEGORIES,
    DEFAULT_TLP,
    Indicator,
    IndicatorError,
    read_csv,
    read_hash_bank,
)
from qalqan.content.pdqindex import DEFAULT_MAX_DISTANCE
from qalqan.exchange import stix
from qalqan.service import exchange
from qalqan.service.common import iso, utc
from qalqan.service.context import Context
from qalqan.store.tables import ContentIndicatorRow, ContentSample, ExchangeObject

#: Import formats (``auto`` tells them apart by their content).
FORMATS = ("auto", "csv", "hashbank", "stix")
#: Largest import and largest checked file (bytes).
MAX_IMPORT_BYTES = 50_000_000
MAX_CHECK_BYTES = 200_000_000
#: PDQ match distance, QALQAN_PDQ_DISTANCE (bits of 256; PDQ's and HMA's default 31).
PDQ_DISTANCE_ENV = "QALQAN_PDQ_DISTANCE"


class ContentError(ValueError):
    """A content request that cannot be done; `field` (and `row` for a file) name the input at fault."""

    def __init__(self, message: str, *, field: str = "", row: int = 0):
        super().__init__(message)
        self.field = field
        self.row = row


class ContentNotFound(ContentError):
    """No such indicator."""


def pdq_distance(environ: Mapping[str, str] | None = None) -> int:
    """The configured PDQ match distance (QALQAN_PDQ_DISTANCE, 0-128; default 31)."""
    raw = (os.environ if environ is None else environ).get(PDQ_DISTANCE_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_DISTANCE
    if not raw.isdigit() or not 0 <= int(raw) <= 128:
        raise ContentError(f"{PDQ_DISTANCE_ENV}={raw!r}: a whole number of bits from 0 to 128", field=PDQ_DISTANCE_ENV)
    return int(raw)


def _check_distance(value: int | None) -> int:
    if value is None:
        return pdq_distance()
    if not 0 <= value <= 128:
        raise ContentError(f"max_distance {value}: from 0 to 128 bits", field="max_distance")
    return value


# --- reading files ----------------------------------------------------------------------------


def detect_format(data: bytes, filename: str = "") -> str:
    """csv, hashbank or stix, by the file's name and first characters: a JSON object is a STIX
    bundle, a first line naming the columns value and type is CSV, anything else a hash bank."""
    name = filename.lower()
    text = data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if name.endswith(".json") or text.startswith("{"):
        return "stix"
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    cells = {c.strip().strip('"').lower() for c in first.split(",")}
    if name.endswith(".csv") or {"value", "type"} <= cells:
        return "csv"
    return "hashbank"


def _stix_category(obj: Mapping[str, Any], default: str) -> str:
    ext = (obj.get("extensions") or {}).get(stix.CONTENT_EXT) or {}
    if ext.get("category") in CATEGORIES:
        return str(ext["category"])
    return next((str(label) for label in obj.get("labels") or () if label in CATEGORIES), default)


def read_stix(data: bytes, *, source_org: str, source_list: str, category: str, tlp: str) -> tuple[list[Indicator], list[str]]:
    """Content indicators from a STIX bundle: every ``indicator`` whose pattern is one we read
    (see `content.patterns`); other objects are skipped with a warning. Category from our content
    extension, else a label that is a category, else `category`."""
    try:
        objects = list(stix.parse_bundle(data, max_bytes=MAX_IMPORT_BYTES))
    except stix.StixError as exc:
        raise ContentError(f"not a STIX bundle: {exc}", field=exc.field or "bundle") from None
    found: list[Indicator] = []
    warnings: list[str] = []
    skipped: dict[str, int] = {}
    for number, obj in enumerate(objects, start=1):
        oid = str(obj.get("id", f"#{number}"))
        if obj.get("type") != "indicator":
            skipped[str(obj.get("type"))] = skipped.get(str(obj.get("type")), 0) + 1
            continue
        if obj.get("revoked"):
            warnings.append(f"object {oid}: revoked, skipped")
            continue
        try:
            ind = patterns.from_stix({**obj, "extensions": {**(obj.get("extensions") or {}),
                                                           stix.CONTENT_EXT: {"category": _stix_category(obj, category)}}},
                                     source_org=source_org, tlp=stix.tlp_of(obj) or tlp)
        except patterns.PatternError as exc:
            raise ContentError(f"object {number} ({oid}): {exc}", field="pattern", row=number) from None
        found.append(Indicator(**{**asdict(ind), "id": "", "source_list": source_list, "metadata": ind.metadata}))
    warnings += [f"{n} {t} object(s) skipped (not indicators)" for t, n in sorted(skipped.items())]
    return found, warnings


def read_indicators(data: bytes, *, format: str = "auto", filename: str = "", source_list: str = "", category: str = "",
                    tlp: str = DEFAULT_TLP, source_org: str = "") -> tuple[list[Indicator], list[str], str]:
    """(indicators, warnings, format) of an import file; `ContentError` names the row and field
    of the first bad record. A hash bank needs `category` (its lines carry none)."""
    if format not in FORMATS:
        raise ContentError(f"format {format!r}: one of {', '.join(FORMATS)}", field="format")
    if len(data) > MAX_IMPORT_BYTES:
        raise ContentError(f"the file is {len(data):,} bytes, more than {MAX_IMPORT_BYTES:,}", field="file")
    kind = detect_format(data, filename) if format == "auto" else format
    if category and category not in CATEGORIES:
        raise ContentError(f"unknown category {category!r} (one of {', '.join(sorted(CATEGORIES))})", field="category")
    try:
        if kind == "csv":
            found, warnings = read_csv(data, source_list=source_list, default_tlp=tlp)
            if source_org:
                found = [ind if ind.source_org else Indicator(**{**asdict(ind), "id": "", "source_org": source_org, "metadata": ind.metadata}) for ind in found]
        elif kind == "hashbank":
            if not category:
                raise ContentError("a hash bank carries no category: name one (category)", field="category")
            found, warnings = read_hash_bank(data, category=category, source_org=source_org, source_list=source_list, tlp=tlp)
        else:
            found, warnings = read_stix(data, source_org=source_org, source_list=source_list, category=category or "other", tlp=tlp)
    except IndicatorError as exc:
        raise ContentError(str(exc), field=exc.field, row=exc.row) from None
    if not found:
        raise ContentError(f"no indicators in the file (read as {kind})", field="file")
    unique: dict[str, Indicator] = {}
    for ind in found:
        if ind.id in unique:
            warnings.append(f"{ind.type} {ind.value}: given twice, the first kept")
        else:
            unique[ind.id] = ind
    return list(unique.values()), warnings, kind


def _stamp(ctx: Context, s: Any) -> Any:
    """The time of a write to `content_indicators`: now, or just after the newest stamp there,
    so every write moves what `content_index` compares, even within one clock tick."""
    now = ctx.clock.now()
    last = utc(s.execute(select(func.max(ContentIndicatorRow.updated_at))).scalar())
    return last + timedelta(milliseconds=1) if last is not None and now <= last else now


# --- importing --------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    format: str
    source_list: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    still_retracted: int = 0
    retracted: int = 0
    shared: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["shared"] = len(self.shared)
        return out


_FIELDS = ("type", "value", "category", "source_org", "source_list", "tlp", "valid_from", "valid_until")


def _row_values(ind: Indicator) -> dict[str, Any]:
    return {"type": ind.type, "value": ind.value, "category": ind.category, "source_org": ind.source_org, "source_list": ind.source_list,
            "tlp": ind.tlp, "valid_from": ind.valid_from, "valid_until": ind.valid_until}


def _same(row: ContentIndicatorRow, values: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
    return all((utc(getattr(row, k)) if k.startswith("valid") else getattr(row, k)) == values[k] for k in _FIELDS) and dict(row.meta or {}) == dict(meta)


def import_indicators(ctx: Context, data: bytes, *, actor: str, format: str = "auto", filename: str = "", source_list: str = "", category: str = "",
                      tlp: str = DEFAULT_TLP, source_org: str = "", replace: bool = False, share: Mapping[str, Any] | None = None) -> ImportSummary:
    """Import indicators, all or nothing (a bad record stores nothing; `ContentError` names it).

    New indicators are added, changed ones updated; one retracted here stays retracted (a
    retraction is not undone by a file). With `replace`, the indicators of `source_list` the
    file no longer has are retracted. With `share` (distribution, group, recipients), what was
    added or changed is then published to partners under each indicator's TLP."""
    name = source_list.strip() or (os.path.splitext(os.path.basename(filename))[0] if filename else "")
    if replace and not name:
        raise ContentError("replace needs the list's name (source_list)", field="source_list")
    marking_args = dict(share or {})
    if share is not None:
        exchange.make_marking(ctx, tlp="amber", **marking_args)  # the distribution is checked before anything is stored
    found, warnings, kind = read_indicators(data, format=format, filename=filename, source_list=name, category=category, tlp=tlp, source_org=source_org)
    summary = ImportSummary(format=kind, source_list=name, read=len(found), warnings=warnings)
    changed: list[str] = []
    with ctx.transaction() as s:
        now = _stamp(ctx, s)
        wanted = [i.id for i in found]
        existing = {r.id: r for start in range(0, len(wanted), 5_000)
                    for r in s.execute(select(ContentIndicatorRow).where(ContentIndicatorRow.id.in_(wanted[start:start + 5_000]))).scalars()}
        new_rows: list[dict[str, Any]] = []
        for ind in found:
            values, meta = _row_values(ind), dict(ind.metadata)
            row = existing.get(ind.id)
            if row is None:
                new_rows.append({"id": ind.id, **values, "meta": meta, "created_at": now, "created_by": actor, "updated_at": now})
                summary.added += 1
                changed.append(ind.id)
            elif row.retracted_at is not None:
                summary.still_retracted += 1
            elif _same(row, values, meta):
                summary.unchanged += 1
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                row.meta, row.updated_at = meta, now
                summary.updated += 1
                changed.append(ind.id)
        for start in range(0, len(new_rows), 5_000):
            s.execute(insert(ContentIndicatorRow), new_rows[start:start + 5_000])
        if summary.still_retracted:
            summary.warnings.append(f"{summary.still_retracted} indicator(s) were retracted here before and stay retracted")
        gone: list[ContentIndicatorRow] = []
        if replace:
            ids = {i.id for i in found}
            gone = [r for r in s.execute(select(ContentIndicatorRow).where(ContentIndicatorRow.source_list == name, ContentIndicatorRow.retracted_at.is_(None))).scalars()
                    if r.id not in ids]
            for r in gone:
                r.retracted_at, r.retracted_by, r.retract_reason, r.updated_at = now, actor, f"not in the new import of list {name!r}", now
            summary.retracted = len(gone)
        ctx.audit(s, actor=actor, action="content.import", target=f"list:{name}" if name else "",
                  detail={k: v for k, v in summary.as_dict().items() if k != "warnings"} | {"warnings": len(summary.warnings)})
        shared_gone = [r.stix_id for r in gone if r.stix_id]
    for sid in shared_gone:
        exchange.retract(ctx, sid, actor=actor, reason=f"not in the new import of list {name!r}")
    if share is not None and changed:
        summary.shared = share_indicators(ctx, ids=changed, actor=actor, **marking_args)
    return summary


# --- reading what the node holds -------------------------------------------------------------


def _indicator(row: ContentIndicatorRow) -> Indicator:
    return Indicator(id=row.id, type=row.type, value=row.value, category=row.category, source_org=row.source_org, source_list=row.source_list,
                     tlp=row.tlp, valid_from=utc(row.valid_from), valid_until=utc(row.valid_until), retracted=row.retracted_at is not None,
                     metadata=tuple(sorted((str(k), str(v)) for k, v in (row.meta or {}).items())))


def _received(ctx: Context, *, include_revoked: bool = False) -> list[tuple[Indicator, ExchangeObject]]:
    """Content indicators partners shared with us (newest versions)."""
    with ctx.db.session() as s:
        q = select(ExchangeObject).where(ExchangeObject.kind == "indicator", ExchangeObject.latest.is_(True), ExchangeObject.source.is_not(None))
        if not include_revoked:
            q = q.where(ExchangeObject.revoked.is_(False))
        rows = s.execute(q.order_by(ExchangeObject.stix_id)).scalars().all()
    out = []
    for row in rows:
        if not patterns.is_content(row.data):
            continue
        try:
            out.append((patterns.from_stix(row.data, source_org=row.originator, tlp=row.tlp), row))
        except patterns.PatternError:
            continue  # checked on arrival; a pattern we no longer read matches nothing
    return out


def _local_stamp(ctx: Context) -> Any:
    """The newest write to our own indicators (every write moves it: `_stamp`; indexed)."""
    with ctx.db.session() as s:
        return s.execute(select(func.max(ContentIndicatorRow.updated_at))).scalar()


@dataclass
class _Cached:
    local: Any
    exchange_seen: int
    index: ContentIndex
    shared_by: dict[str, str]


_CACHE: weakref.WeakKeyDictionary[Context, _Cached] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()

_COLUMNS = (ContentIndicatorRow.id, ContentIndicatorRow.type, ContentIndicatorRow.value, ContentIndicatorRow.category, ContentIndicatorRow.source_org,
            ContentIndicatorRow.source_list, ContentIndicatorRow.tlp, ContentIndicatorRow.valid_from, ContentIndicatorRow.valid_until)


def _own_active(ctx: Context) -> list[Indicator]:
    """Our own active indicators, read as plain rows (no ORM objects, no re-checking)."""
    with ctx.db.session() as s:
        rows = s.execute(select(*_COLUMNS).where(ContentIndicatorRow.retracted_at.is_(None))).all()
    return [Indicator.stored(id=r[0], type=r[1], value=r[2], category=r[3], source_org=r[4], source_list=r[5], tlp=r[6],
                             valid_from=utc(r[7]), valid_until=utc(r[8])) for r in rows]


def content_index(ctx: Context) -> tuple[ContentIndex, dict[str, str]]:
    """The index over every indicator held (own and partners'), and for each received indicator
    the partner that shared it. Rebuilt only when one of ours was written (the newest
    `updated_at` moved) or a partner's indicator arrived (objects the exchange stored since the
    last look include an indicator). Both are index look-ups: a check on a node holding millions
    of indicators does not count them."""
    local = _local_stamp(ctx)
    with ctx.db.session() as s:
        newest = int(s.execute(select(func.max(ExchangeObject.id))).scalar() or 0)
        with _LOCK:
            cached = _CACHE.get(ctx)
        if cached is not None and cached.local == local:
            if newest == cached.exchange_seen:
                return cached.index, cached.shared_by
            arrived = s.execute(select(ExchangeObject.id).where(ExchangeObject.id > cached.exchange_seen, ExchangeObject.kind == "indicator").limit(1)).first()
            if arrived is None:
                cached.exchange_seen = newest
                return cached.index, cached.shared_by
    received = _received(ctx)
    shared_by = {ind.id: row.originator for ind, row in received}
    index = ContentIndex([*_own_active(ctx), *(ind for ind, _ in received)])
    with _LOCK:
        _CACHE[ctx] = _Cached(local, newest, index, shared_by)
    return index, shared_by


def _row_dict(ind: Indicator, *, shared_by: str | None, stix_id: str | None, retracted_at: Any = None, retract_reason: str | None = None) -> dict[str, Any]:
    return {"id": ind.id, "type": ind.type, "value": ind.value, "category": ind.category, "source_org": ind.source_org, "source_list": ind.source_list,
            "tlp": ind.tlp, "valid_from": iso(ind.valid_from), "valid_until": iso(ind.valid_until), "metadata": dict(ind.metadata),
            "shared_by": shared_by, "stix_id": stix_id, "retracted": ind.retracted, "retracted_at": iso(retracted_at), "retract_reason": retract_reason}


def list_indicators(ctx: Context, *, type: str | None = None, source_list: str | None = None, origin: str | None = None,
                    include_retracted: bool = False, offset: int = 0, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of indicators held: `origin` "local" for our own, a partner's org for its."""
    items: list[dict[str, Any]] = []
    if origin in (None, "local"):
        with ctx.db.session() as s:
            q = select(ContentIndicatorRow).order_by(ContentIndicatorRow.created_at, ContentIndicatorRow.id)
            if type:
                q = q.where(ContentIndicatorRow.type == type)
            if source_list:
                q = q.where(ContentIndicatorRow.source_list == source_list)
            if not include_retracted:
                q = q.where(ContentIndicatorRow.retracted_at.is_(None))
            items += [_row_dict(_indicator(r), shared_by=None, stix_id=r.stix_id, retracted_at=r.retracted_at, retract_reason=r.retract_reason)
                      for r in s.execute(q).scalars()]
    if origin != "local":
        for ind, row in _received(ctx, include_revoked=include_retracted):
            if (origin and row.originator != origin) or (type and ind.type != type) or (source_list and ind.source_list != source_list):
                continue
            items.append(_row_dict(ind, shared_by=row.originator, stix_id=row.stix_id, retracted_at=utc(row.date_added) if row.revoked else None,
                                   retract_reason="retracted by originator" if row.revoked else None))
    return len(items), items[offset:offset + limit]


def get_indicator(ctx: Context, indicator_id: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        row = s.get(ContentIndicatorRow, indicator_id)
        if row is not None:
            return _row_dict(_indicator(row), shared_by=None, stix_id=row.stix_id, retracted_at=row.retracted_at, retract_reason=row.retract_reason)
    for ind, obj in _received(ctx, include_revoked=True):
        if ind.id == indicator_id or obj.stix_id == indicator_id:
            return _row_dict(ind, shared_by=obj.originator, stix_id=obj.stix_id, retracted_at=utc(obj.date_added) if obj.revoked else None,
                             retract_reason="retracted by originator" if obj.revoked else None)
    raise ContentNotFound(f"no indicator {indicator_id!r}", field="id")


# --- sharing and retracting ----------------------------------------------------------------------


def share_indicators(ctx: Context, *, actor: str, ids: Sequence[str] | None = None, source_list: str | None = None,
                     distribution: str = exchange.DEFAULT_DISTRIBUTION, group: str | None = None, recipients: Sequence[str] = ()) -> list[str]:
    """Publish our own active indicators (by id, or every one of a list) to partners: each a STIX
    indicator under its own TLP and this distribution. Returns the STIX ids published."""
    if not ids and not source_list:
        raise ContentError("name the indicators to share (ids) or their list (source_list)", field="ids")
    with ctx.db.session() as s:
        q = select(ContentIndicatorRow).where(ContentIndicatorRow.retracted_at.is_(None))
        q = q.where(ContentIndicatorRow.id.in_(list(ids))) if ids else q.where(ContentIndicatorRow.source_list == source_list)
        rows = s.execute(q.order_by(ContentIndicatorRow.id)).scalars().all()
        if ids and len(rows) != len(set(ids)):
            missing = sorted(set(ids) - {r.id for r in rows})
            raise ContentNotFound(f"no active indicator of ours {missing[0]!r}", field="ids")
        indicators = [_indicator(r) for r in rows]
    if not indicators:
        raise ContentNotFound(f"no active indicator in list {source_list!r}", field="source_list")
    me = exchange.identity_id(exchange.node_org(ctx))
    now = ctx.clock.now()
    by_tlp: dict[str, list[Indicator]] = {}
    for ind in indicators:
        by_tlp.setdefault(ind.tlp, []).append(ind)
    # Every group's marking is checked before anything is published: a share is all or nothing.
    markings = {}
    for tlp in sorted(by_tlp):
        try:
            markings[tlp] = exchange.make_marking(ctx, distribution=distribution, tlp=tlp, group=group, recipients=recipients)
        except ValueError as exc:
            raise ContentError(f"indicators marked TLP:{tlp.upper()}: {exc}", field="marking") from None
    published: list[str] = []
    for tlp, marking in markings.items():
        objects = [patterns.to_stix(ind, created_by=me, created=now, markings=[str(stix.TLP_MARKINGS[tlp]["id"])]) for ind in by_tlp[tlp]]
        published += exchange.publish(ctx, objects, marking, actor=actor, action="content.share")
    with ctx.transaction() as s:
        for ind in indicators:
            row = s.get(ContentIndicatorRow, ind.id)
            if row is not None:
                row.stix_id = patterns.stix_id(ind)
    return published


def retract_indicator(ctx: Context, indicator_id: str, *, actor: str, reason: str) -> dict[str, Any]:
    """Retract one of our indicators: it stops matching here at once and, if it was shared, its
    retraction goes to every partner (a revoked STIX version) and stops it matching there at
    their next sync. A partner's indicator is retracted only by that partner."""
    if not reason.strip():
        raise ContentError("a retraction needs a reason", field="reason")
    with ctx.db.session() as s:
        known = s.get(ContentIndicatorRow, indicator_id) is not None
    if not known:
        if any(ind.id == indicator_id or obj.stix_id == indicator_id for ind, obj in _received(ctx, include_revoked=True)):
            raise ContentError(f"{indicator_id} was shared by a partner: only its originator retracts it", field="id")
        raise ContentNotFound(f"no indicator {indicator_id!r}", field="id")
    with ctx.transaction() as s:
        now = _stamp(ctx, s)
        row = s.get(ContentIndicatorRow, indicator_id)
        if row is None:
            raise ContentNotFound(f"no indicator {indicator_id!r}", field="id")
        if row.retracted_at is not None:
            raise ContentError(f"{indicator_id} is already retracted", field="id")
        row.retracted_at, row.retracted_by, row.retract_reason, row.updated_at = now, actor, reason.strip(), now
        stix_id = row.stix_id
        ctx.audit(s, actor=actor, action="content.retract", target=indicator_id, detail={"reason": reason.strip(), "stix_id": stix_id})
    if stix_id:
        exchange.retract(ctx, stix_id, actor=actor, reason=reason)
    return get_indicator(ctx, indicator_id)


# --- checking ----------------------------------------------------------------------------------


def _matches(found: Sequence[ContentMatch], shared_by: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for m in found:
        d = m.as_dict()
        d["indicator"]["shared_by"] = shared_by.get(m.indicator.id)
        out.append(d)
    return out


def check_url(ctx: Context, url: str, *, actor: str) -> dict[str, Any]:
    """The indicators a URL matches (exact URL, URL prefix, domain, address, network); audited."""
    try:
        canonical = urls.canonical_url(url)
    except urls.UrlError as exc:
        raise ContentError(str(exc), field="url") from None
    index, shared_by = content_index(ctx)
    found = index.match_url(canonical, at=ctx.clock.now())
    result = {"input": {"kind": "url", "url": url, "canonical": canonical}, "matches": _matches(found, shared_by), "checked_against": len(index)}
    with ctx.transaction() as s:
        ctx.audit(s, actor=actor, action="content.check", target=f"url:{canonical}"[:200], detail={"matches": len(found), "indicators": [m.indicator.id for m in found][:20]})
    return result


def hash_file(data: bytes) -> dict[str, Any]:
    """A file's hashes: md5, sha1, sha256, and its PDQ hash(es) with their quality: one for a
    still image, one per sampled frame of an animated image or a video (with the frame's time in
    seconds for a video); or why it has none (`unhashable`)."""
    out: dict[str, Any] = {"size": len(data), **hashing.file_hashes(data), "pdq": [], "unhashable": None, "media": None}
    try:
        results = hashing.image_pdq_hashes(bytes(data))
        out["pdq"] = [{"hash": r.hash_hex, "quality": r.quality} for r in results]
        out["media"] = "image"
        return out
    except hashing.Unhashable as exc:
        if not exc.reason.startswith("not an image"):
            out["media"], out["unhashable"] = "image", exc.reason
            return out
    try:
        frames = hashing.video_pdq_hashes(bytes(data))
        out["pdq"] = [{"hash": r.hash_hex, "quality": r.quality, "time": round(t, 3)} for t, r in frames]
        out["media"] = "video"
    except hashing.Unhashable as exc:
        out["unhashable"] = "not an image or a video" if exc.reason.startswith("not a video") else exc.reason
        out["media"] = None if exc.reason.startswith("not a video") else "video"
    return out


def check_file(ctx: Context, data: bytes, *, actor: str, filename: str = "", media_type: str = "", keep: bool = False,
               max_distance: int | None = None) -> dict[str, Any]:
    """The indicators a file matches: by its exact hashes, and for an image by PDQ within
    `max_distance` bits. The file is forgotten unless `keep`; audited (by its SHA-256)."""
    if len(data) > MAX_CHECK_BYTES:
        raise ContentError(f"the file is {len(data):,} bytes, more than {MAX_CHECK_BYTES:,}", field="file")
    distance = _check_distance(max_distance)
    facts = hash_file(data)
    index, shared_by = content_index(ctx)
    at = ctx.clock.now()
    found = index.match_file(facts, at=at) + index.match_pdq([p["hash"] for p in facts["pdq"]], max_distance=distance, at=at)
    with ctx.transaction() as s:
        if keep and s.get(ContentSample, facts["sha256"]) is None:
            s.add(ContentSample(sha256=facts["sha256"], filename=filename[:1000], media_type=media_type[:200], size=len(data), data=bytes(data), kept_by=actor, kept_at=at))
        ctx.audit(s, actor=actor, action="content.check", target=f"sha256:{facts['sha256']}", input_hash=facts["sha256"],
                  detail={"matches": len(found), "indicators": [m.indicator.id for m in found][:20], "kept": keep, "max_distance": distance})
    matches = _matches(found, shared_by)
    for m in matches:
        if m.get("frame") is not None and "time" in facts["pdq"][m["frame"]]:
            m["time"] = facts["pdq"][m["frame"]]["time"]
    return {"input": {"kind": "file", "filename": filename, **facts}, "max_distance": distance, "matches": matches,
            "checked_against": len(index), "kept": keep}


def get_sample(ctx: Context, sha256: str) -> tuple[dict[str, Any], bytes]:
    with ctx.db.session() as s:
        row = s.get(ContentSample, sha256.lower())
        if row is None:
            raise ContentNotFound(f"no kept file {sha256!r}", field="sha256")
        return {"sha256": row.sha256, "filename": row.filename, "media_type": row.media_type, "size": row.size, "kept_by": row.kept_by,
                "kept_at": iso(row.kept_at)}, bytes(row.data)


def stats(ctx: Context) -> dict[str, Any]:
    """Indicators held, by origin and type."""
    index, shared_by = content_index(ctx)
    with ctx.db.session() as s:
        own = dict(s.execute(select(ContentIndicatorRow.type, func.count()).where(ContentIndicatorRow.retracted_at.is_(None)).group_by(ContentIndicatorRow.type)).all())
    partners: dict[str, int] = {}
    for org in shared_by.values():
        partners[org] = partners.get(org, 0) + 1
    return {"active": len(index), "own": {str(k): int(v) for k, v in sorted(own.items())}, "from_partners": dict(sorted(partners.items())), "index": index.counts}


__all__ = [
    "FORMATS", "ContentError", "ContentNotFound", "ImportSummary", "check_file", "check_url", "content_index", "detect_format", "get_indicator",
    "get_sample", "hash_file", "import_indicators", "list_indicators", "pdq_distance", "read_indicators", "retract_indicator", "share_indicators", "stats",
]
