"""TAXII 2.1 without HTTP: query filters, object selection, paging, envelopes and manifests.

What a TAXII 2.1 server (OASIS TAXII Version 2.1, https://docs.oasis-open.org/cti/taxii/v2.1/)
does between reading its store and writing a response:

- `parse_filters` reads the query parameters of §3.4 (``added_after``, ``limit``, ``next``,
  ``match[id]``, ``match[type]``, ``match[version]``, ``match[spec_version]``; match values are
  comma-separated, the values of one field are ORed, different fields are ANDed). A bad value is a
  `TaxiiError` with status 400 naming the parameter.
- `select` applies them to the records of a collection: match filters, ``added_after`` (strictly
  after), the spec-version default (the newest specification version of each object) and the
  version filter (``last`` by default), ordered by (date_added, id, version).
- `page` cuts one page of at most ``limit`` records and an opaque ``next`` cursor that continues
  exactly after the page's last record, so paging never skips or repeats a record even when many
  records share one date_added. The page's first and last date_added are what the
  ``X-TAXII-Date-Added-First`` / ``-Last`` headers carry (`date_headers`).
- `envelope`, `manifest` and `versions` write the §3.7 envelope, the §5.6 manifest and the §5.8
  versions resources (``more``; ``next`` only when there is more; the list left out when empty).

The policy (who may read what) is not here: records reach `select` already through the egress
filter (`exchange.policy`).

Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

#: The TAXII 2.1 media type of every TAXII resource.
TAXII_MEDIA = "application/taxii+json;version=2.1"
#: The STIX 2.1 media type, as a manifest record names it.
STIX_MEDIA = "application/stix+json;version=2.1"

#: The version filter when the request names none (§3.4.2: the newest version of each object).
DEFAULT_VERSION = ("last",)
#: The keywords match[version] takes besides timestamps.
VERSION_KEYWORDS = frozenset({"first", "last", "all"})
#: The match fields an objects or manifest request may filter on (§3.4.1).
MATCH_FIELDS = ("id", "type", "version", "spec_version")


class TaxiiError(ValueError):
    """A request TAXII refuses: `status` is the HTTP status to answer (400 for a bad query
    parameter), `field` the parameter or field at fault."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.field = field


# --- timestamps --------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def format_timestamp(dt: datetime) -> str:
    """`2026-12-01T09:00:00.123Z`: RFC 3339 in UTC with millisecond precision, as TAXII writes
    timestamps. Finer precision is cut off, never rounded up, so a client that sends the value
    back as ``added_after`` sees the same record again rather than missing one."""
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise TaxiiError(f"timestamp: {dt!r} has no time zone; TAXII timestamps are in UTC", status=500, field="timestamp")
    u = dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond // 1000:03d}Z"


def parse_timestamp(value: str, *, field: str = "timestamp") -> datetime:
    """An RFC 3339 timestamp (``Z`` or a numeric offset; any fraction, kept to the
    microsecond) as an aware UTC datetime. Raises TaxiiError (400) naming `field`."""
    if not isinstance(value, str):
        raise TaxiiError(f"{field}: a timestamp string is required, not {value!r}", field=field)
    m = _TIMESTAMP.fullmatch(value.strip())
    if m is None:
        raise TaxiiError(f"{field}: {value!r} is not an RFC 3339 timestamp such as 2026-12-01T09:00:00.000Z", field=field)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = m.groups()
    micro = int((fraction or "").ljust(6, "0")[:6])
    try:
        tz = UTC if zulu else timezone((1 if sign == "+" else -1) * timedelta(hours=int(off_h), minutes=int(off_m)))
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise TaxiiError(f"{field}: {value!r} is not a valid date and time ({exc})", field=field) from None


# --- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """A request's filters (§3.4). Empty match tuples filter nothing; `match_version` holds
    ``first``, ``last``, ``all`` or timestamps; `next` is a cursor from an earlier page."""

    added_after: datetime | None = None
    limit: int | None = None
    next: str | None = None
    match_id: tuple[str, ...] = ()
    match_type: tuple[str, ...] = ()
    match_version: tuple[str, ...] = DEFAULT_VERSION
    match_spec_version: tuple[str, ...] = ()


#: A STIX type name: lowercase ASCII letters, digits and hyphens, 3 to 250 characters (STIX 2.1 §3.1).
_STIX_TYPE = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]")
_SPEC_VERSION = re.compile(r"\d+\.\d+")


def _values(params: Mapping[str, str | Sequence[str]], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def _single(params: Mapping[str, str | Sequence[str]], name: str) -> str | None:
    values = _values(params, name)
    if not values:
        return None
    if len(values) > 1:
        raise TaxiiError(f"{name}: given {len(values)} times; it takes one value", field=name)
    if not isinstance(values[0], str) or not values[0].strip():
        raise TaxiiError(f"{name}: empty value", field=name)
    return values[0].strip()


def _listed(params: Mapping[str, str | Sequence[str]], name: str) -> tuple[str, ...]:
    """The comma-separated values of a match parameter (repeated parameters add up), in order,
    without repeats."""
    out: list[str] = []
    for raw in _values(params, name):
        if not isinstance(raw, str):
            raise TaxiiError(f"{name}: {raw!r} is not text", field=name)
        for item in raw.split(","):
            item = item.strip()
            if not item:
                raise TaxiiError(f"{name}: empty value in {raw!r}", field=name)
            if item not in out:
                out.append(item)
    return tuple(out)


def _check_id(value: str, name: str) -> str:
    kind, sep, rest = value.partition("--")
    try:
        if not sep or not _STIX_TYPE.fullmatch(kind):
            raise ValueError
        uuid.UUID(rest)
    except ValueError:
        raise TaxiiError(f"{name}: {value!r} is not a STIX identifier (type--UUID)", field=name) from None
    if len(rest) != 36:
        raise TaxiiError(f"{name}: {value!r} is not a STIX identifier (type--UUID)", field=name)
    return value


def _check_type(value: str, name: str) -> str:
    if not _STIX_TYPE.fullmatch(value):
        raise TaxiiError(f"{name}: {value!r} is not a STIX type (lowercase letters, digits, hyphens)", field=name)
    return value


def _check_version(value: str, name: str) -> str:
    if value in VERSION_KEYWORDS:
        return value
    parse_timestamp(value, field=name)
    return value


def _check_spec_version(value: str, name: str) -> str:
    if not _SPEC_VERSION.fullmatch(value):
        raise TaxiiError(f"{name}: {value!r} is not a STIX specification version such as 2.1", field=name)
    return value


def parse_limit(value: str | None, *, max_limit: int) -> int | None:
    """The ``limit`` parameter: a positive whole number, clamped to `max_limit`; None if absent."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise TaxiiError(f"limit: {value!r} is not a positive whole number", field="limit")
    return min(int(value), max_limit)


def parse_filters(params: Mapping[str, str | Sequence[str]], *, max_limit: int) -> Filters:
    """The filters of a TAXII request's query parameters (§3.4). A parameter given as a list was
    repeated in the query string. Parameters outside TAXII's are ignored; an unknown
    ``match[...]`` field is refused, since ignoring it would answer a question not asked.
    Raises TaxiiError (status 400) naming the parameter."""
    if max_limit < 1:
        raise ValueError(f"max_limit must be at least 1, not {max_limit}")
    for name in params:
        if name.startswith("match[") and (not name.endswith("]") or name[6:-1] not in MATCH_FIELDS):
            raise TaxiiError(f"{name}: not a filter this server supports (match[{'], match['.join(MATCH_FIELDS)}])", field=name)
    added = _single(params, "added_after")
    cursor = _single(params, "next")
    if cursor is not None:
        cursor_key(cursor)
    versions = tuple(_check_version(v, "match[version]") for v in _listed(params, "match[version]"))
    return Filters(
        added_after=parse_timestamp(added, field="added_after") if added is not None else None,
        limit=parse_limit(_single(params, "limit"), max_limit=max_limit),
        next=cursor,
        match_id=tuple(_check_id(v, "match[id]") for v in _listed(params, "match[id]")),
        match_type=tuple(_check_type(v, "match[type]") for v in _listed(params, "match[type]")),
        match_version=versions or DEFAULT_VERSION,
        match_spec_version=tuple(_check_spec_version(v, "match[spec_version]") for v in _listed(params, "match[spec_version]")),
    )


# --- records and selection ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One stored version of one object: its id and type, its version (the object's
    ``modified``, or ``created`` for an unversioned object), its STIX spec version, when this
    server added it, and the object itself (opaque here)."""

    id: str
    type: str
    version: str
    spec_version: str
    date_added: datetime
    obj: Any


def _version_time(record: Record) -> datetime:
    try:
        return parse_timestamp(record.version, field="version")
    except TaxiiError:
        raise TaxiiError(f"record {record.id}: version {record.version!r} is not a timestamp", status=500, field="version") from None


def _spec_key(spec: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in spec.split("."))
    except ValueError:
        return (-1,)


def _newest_spec_only(records: list[Record]) -> list[Record]:
    """§3.4.2: without match[spec_version], the newest specification version of each object."""
    newest: dict[str, tuple[int, ...]] = {}
    for r in records:
        key = _spec_key(r.spec_version)
        if r.id not in newest or key > newest[r.id]:
            newest[r.id] = key
    return [r for r in records if _spec_key(r.spec_version) == newest[r.id]]


def _by_version(records: list[Record], wanted: tuple[str, ...]) -> list[Record]:
    """The records match[version] keeps: per object, ``last`` its newest version, ``first`` its
    oldest, ``all`` every one, a timestamp the version of exactly that time; several values add up."""
    if "all" in wanted:
        return records
    exact = {parse_timestamp(v, field="match[version]") for v in wanted if v not in VERSION_KEYWORDS}
    stamped = [(r, _version_time(r)) for r in records]
    oldest: dict[str, datetime] = {}
    newest: dict[str, datetime] = {}
    for r, t in stamped:
        oldest[r.id] = min(t, oldest.get(r.id, t))
        newest[r.id] = max(t, newest.get(r.id, t))
    out = []
    for r, t in stamped:
        if t in exact or ("first" in wanted and t == oldest[r.id]) or ("last" in wanted and t == newest[r.id]):
            out.append(r)
    return out


def sort_key(record: Record) -> tuple[datetime, str, str, str]:
    """The order records are served in: (date_added, id, version), spec version last."""
    return (record.date_added, record.id, record.version, record.spec_version)


def _aware(records: Sequence[Record]) -> list[Record]:
    """The records, each checked to have an aware date_added (a naive one cannot be ordered
    against the others or against added_after)."""
    for r in records:
        if not isinstance(r.date_added, datetime) or r.date_added.utcoffset() is None:
            raise TaxiiError(f"record {r.id}: date_added {r.date_added!r} has no time zone", status=500, field="date_added")
    return list(records)


def select(records: Sequence[Record], filters: Filters) -> list[Record]:
    """The records a request selects, in serving order: match[type] and match[id], then
    ``added_after`` (added strictly after it), match[spec_version] (by default the newest
    specification version of each object), then match[version] among what is left (by default
    the newest version of each object). The cursor `filters.next` is `page`'s business."""
    kept = _aware(records)
    if filters.match_type:
        types = set(filters.match_type)
        kept = [r for r in kept if r.type in types]
    if filters.match_id:
        ids = set(filters.match_id)
        kept = [r for r in kept if r.id in ids]
    if filters.added_after is not None:
        kept = [r for r in kept if r.date_added > filters.added_after]
    if filters.match_spec_version:
        specs = set(filters.match_spec_version)
        kept = [r for r in kept if r.spec_version in specs]
    else:
        kept = _newest_spec_only(kept)
    kept = _by_version(kept, tuple(filters.match_version) or DEFAULT_VERSION)
    return sorted(kept, key=sort_key)


# --- paging ------------------------------------------------------------------------------------

#: The format tag inside every cursor, so a cursor of another format is refused, not misread.
_CURSOR_TAG = "q1"


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its records, whether more follow, the cursor to the next page (None when none
    follow), and the first and last date_added on it (None for an empty page)."""

    records: tuple[Record, ...]
    more: bool
    next: str | None
    date_added_first: datetime | None
    date_added_last: datetime | None


def _encode_cursor(record: Record, repeat: int) -> str:
    payload = [_CURSOR_TAG, record.date_added.astimezone(UTC).isoformat(timespec="microseconds"), record.id, record.version, record.spec_version, repeat]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[tuple[datetime, str, str, str], int]:
    bad = TaxiiError(f"next: {cursor[:80]!r} is not a cursor this server gave", field="next")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, added, sid, version, spec, repeat = json.loads(raw.decode("ascii"))
        when = datetime.fromisoformat(added)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise bad from None
    valid = (
        tag == _CURSOR_TAG and when.tzinfo is not None
        and all(isinstance(x, str) for x in (sid, version, spec))
        and isinstance(repeat, int) and not isinstance(repeat, bool) and repeat >= 1
    )
    if not valid:
        raise bad
    return (when.astimezone(UTC), sid, version, spec), repeat


def cursor_key(cursor: str) -> tuple[datetime, str, str]:
    """The (date_added, id, version) of the last record served before `cursor`: the next page
    starts after it. Raises TaxiiError (400) for a cursor this module did not write."""
    (added, sid, version, _spec), _repeat = _decode_cursor(cursor)
    return added, sid, version


def _after(ordered: list[Record], cursor: str) -> list[Record]:
    key, repeat = _decode_cursor(cursor)
    rest = []
    seen_equal = 0
    for r in ordered:
        k = sort_key(r)
        if k < key:
            continue
        if k == key and seen_equal < repeat:
            seen_equal += 1
            continue
        rest.append(r)
    return rest


def page(selected: Sequence[Record], filters: Filters, *, max_limit: int) -> Page:
    """The page of `selected` after `filters.next` (from the start without one), at most
    `filters.limit` records (`max_limit` when the request names none, never more). The cursor
    holds the last record's full sort key (date_added to the microsecond, id, version, spec
    version) and how many records with that key it has served, so the next page starts exactly
    after it, whatever else shares its date_added."""
    if max_limit < 1:
        raise ValueError(f"max_limit must be at least 1, not {max_limit}")
    ordered = sorted(_aware(selected), key=sort_key)
    # `rest` is a suffix of `ordered`: the cursor skips a prefix of the sorted records.
    rest = _after(ordered, filters.next) if filters.next else ordered
    limit = min(filters.limit or max_limit, max_limit)
    chunk = tuple(rest[:limit])
    more = len(rest) > limit
    cursor = None
    if more:
        end = len(ordered) - len(rest) + len(chunk)
        last = sort_key(chunk[-1])
        cursor = _encode_cursor(chunk[-1], sum(1 for r in ordered[:end] if sort_key(r) == last))
    return Page(
        records=chunk,
        more=more,
        next=cursor,
        date_added_first=chunk[0].date_added if chunk else None,
        date_added_last=chunk[-1].date_added if chunk else None,
    )


# --- resources ---------------------------------------------------------------------------------


def _paged(p: Page, key: str, items: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"more": p.more}
    if p.more and p.next:
        body["next"] = p.next
    if items:
        body[key] = items
    return body


def envelope(p: Page) -> dict[str, Any]:
    """The §3.7 envelope of a page: ``more``, ``next`` when more follow, ``objects`` when any."""
    return _paged(p, "objects", [r.obj for r in p.records])


def media_type(record: Record) -> str:
    """The STIX media type of a record's specification version."""
    return f"application/stix+json;version={record.spec_version}"


def manifest(p: Page) -> dict[str, Any]:
    """The §5.6 manifest resource of a page: one manifest-record (id, date_added, version,
    media_type) per record."""
    entries = [{"id": r.id, "date_added": format_timestamp(r.date_added), "version": r.version, "media_type": media_type(r)} for r in p.records]
    return _paged(p, "objects", entries)


def versions(p: Page) -> dict[str, Any]:
    """The §5.8 versions resource of a page (of one object's records, match[version]=all)."""
    return _paged(p, "versions", [r.version for r in p.records])


def date_headers(p: Page) -> dict[str, str]:
    """The X-TAXII-Date-Added-First and -Last headers of a page (none for an empty page)."""
    if p.date_added_first is None or p.date_added_last is None:
        return {}
    return {"X-TAXII-Date-Added-First": format_timestamp(p.date_added_first), "X-TAXII-Date-Added-Last": format_timestamp(p.date_added_last)}
