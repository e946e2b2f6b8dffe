"""Small things every use case shares: pages of results, chunked lookups, stored times."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

#: Keys per `IN (...)` lookup: well below SQLite's bound-parameter limit (32,766) and
#: PostgreSQL's (65,535), with room for the other parameters of the statement.
LOOKUP_CHUNK = 1_000
#: Page sizes: default and the most a caller may ask for.
PAGE_DEFAULT = 50
PAGE_MAX = 1_000

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def utc(value: datetime | None) -> datetime | None:
    """A stored time, timezone-aware. SQLite hands back naive datetimes; they were written as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 to the second, UTC."""
    v = utc(value)
    return v.isoformat(timespec="seconds") if v is not None else None


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "offset": self.offset, "limit": self.limit}


def page_bounds(offset: int, limit: int) -> tuple[int, int]:
    return max(0, int(offset)), max(1, min(PAGE_MAX, int(limit)))
