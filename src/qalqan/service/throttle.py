"""Failed authentications: back-off per source, and audit entries aggregated per minute.

Both are in memory, per service, bounded, and read time only from the `now` they are given
(the context's monotonic clock), so tests move a `FixedClock` instead of sleeping.

**Back-off.** A *source* is a client address (`client:<host>`, as the API sees it) or a key
prefix (`key:<prefix>`, charged only for failures that cost an argon2 verification: a wrong
secret, and a revoked key or disabled user). `FAILURE_LIMIT` failures of one source within
`FAILURE_WINDOW_SECONDS` block it for `BACKOFF_BASE_SECONDS`; while blocked, attempts are refused
(HTTP 429 with Retry-After) before any hash or database look-up. The first failure after a block
ends blocks the source again for twice as long (capped at `BACKOFF_MAX_SECONDS`); a source quiet
for `FORGIVE_SECONDS` after its last block is forgotten. Only failures count: a success resets
nothing, so interleaving a valid key does not buy an attacker more attempts, and one source's
success never touches another source's count. Refused (429) attempts do not lengthen a block.

**Aggregated audit entries.** Failures are grouped by (source, kind) — e.g. (`client:10.0.0.7`,
"unknown key"). For each group:

- the first failure is written at once, with `count` 1, and opens a one-minute period;
- later failures in that period are only counted (the latest one's actor, route and target kept);
- when the period is over, the counted failures are written as one entry whose `count` is their
  number (by the first authentication attempt after that, or by `Aggregator.drain` at shutdown),
  and a new period opens then; a group whose period ends with nothing counted is dropped, so
  its next failure is again written at once.

So a group writes at most one entry per `AUDIT_PERIOD_SECONDS`, and the counts of its entries add
up exactly to its failures. When `MAX_SOURCES` groups are held, the oldest is written out early
(its count is never lost; only the once-a-minute bound is given up for it).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Failures of one source within `FAILURE_WINDOW_SECONDS` that block it.
FAILURE_LIMIT = 5
FAILURE_WINDOW_SECONDS = 60.0
#: The first block; each further one (a failure right after a block) doubles it, up to the cap.
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0
#: A blocked source quiet this long after its block ends starts again with a clean slate.
FORGIVE_SECONDS = 600.0
#: One audit entry per (source, kind) per this period at most.
AUDIT_PERIOD_SECONDS = 60.0
#: Bounds the memory of both the back-off and the aggregation, whatever the number of clients.
MAX_SOURCES = 10_000


@dataclass
class _Source:
    failures: list[float] = field(default_factory=list)  # times within the window, at most the limit
    blocks: int = 0  # how many times blocked in a row (the back-off's exponent)
    until: float = 0.0  # blocked until (monotonic seconds)


class Throttle:
    """Failures per source and the back-off they earn (thread-safe)."""

    def __init__(
        self,
        *,
        limit: int = FAILURE_LIMIT,
        window: float = FAILURE_WINDOW_SECONDS,
        base: float = BACKOFF_BASE_SECONDS,
        cap: float = BACKOFF_MAX_SECONDS,
        forgive: float = FORGIVE_SECONDS,
        max_sources: int = MAX_SOURCES,
    ):
        self.limit, self.window, self.base, self.cap, self.forgive, self.max_sources = limit, window, base, cap, forgive, max_sources
        self._sources: OrderedDict[str, _Source] = OrderedDict()  # least recently failed first
        self._lock = threading.Lock()

    def blocked(self, sources: Iterable[str], now: float) -> tuple[str, float] | None:
        """(the blocking source, seconds left) for the first of `sources` that is blocked, else None."""
        with self._lock:
            for name in sources:
                st = self._sources.get(name)
                if st is not None and st.until > now:
                    return name, st.until - now
        return None

    def failed(self, sources: Iterable[str], now: float) -> float | None:
        """Count a failure against each of `sources`; the longest block that this starts, if any."""
        started: float | None = None
        with self._lock:
            for name in sources:
                st = self._sources.pop(name, None)
                if st is None or (st.blocks and now >= st.until + self.forgive):
                    st = _Source()
                self._make_room()
                self._sources[name] = st  # most recently failed last
                if st.until > now:  # already blocked by a concurrent failure: nothing more to earn
                    continue
                st.failures = [t for t in st.failures if t > now - self.window] + [now]
                if st.blocks or len(st.failures) >= self.limit:  # a failure right after a block, or the limit
                    seconds = min(self.base * 2**st.blocks, self.cap)
                    st.until, st.blocks, st.failures = now + seconds, st.blocks + 1, []
                    started = max(started or 0.0, seconds)
        return started

    def _make_room(self) -> None:
        """Drop the least recently failed sources beyond the bound (the lock is held). Dropping
        a blocked source lifts its block early: the price of bounded memory under a flood of
        distinct addresses, each of which still has only `limit` attempts."""
        while len(self._sources) >= self.max_sources:
            self._sources.popitem(last=False)

    def __len__(self) -> int:
        return len(self._sources)


def retry_after_header(seconds: float) -> str:
    """Whole seconds for a Retry-After header, at least 1 (never early)."""
    return str(max(1, math.ceil(seconds)))


# -- aggregated audit entries ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One refused request, as it would be audited."""

    actor: str
    action: str
    target: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Entry:
    """An audit entry to write: `event` (the latest counted) standing for `count` failures."""

    event: Event
    count: int

    def detail(self) -> dict[str, Any]:
        return {**self.event.detail, "count": self.count}


@dataclass
class _Group:
    opened: float  # when its period opened (its last entry was written)
    pending: int = 0  # failures counted since then, not yet written
    last: Event | None = None


class Aggregator:
    """Failures grouped by (source, kind), at most one entry per group per period (thread-safe).
    It decides what to write; the caller writes it."""

    def __init__(self, *, period: float = AUDIT_PERIOD_SECONDS, max_groups: int = MAX_SOURCES):
        self.period, self.max_groups = period, max_groups
        self._groups: OrderedDict[tuple[str, str], _Group] = OrderedDict()  # oldest period first
        self._lock = threading.Lock()

    def add(self, group: tuple[str, str], event: Event, now: float) -> list[Entry]:
        """Count `event` in `group`; the entries to write now (due periods of any group included)."""
        with self._lock:
            out = self._due(now)
            st = self._groups.get(group)
            if st is not None:
                st.pending += 1
                st.last = event
                return out
            while len(self._groups) >= self.max_groups:
                _, oldest = self._groups.popitem(last=False)
                if oldest.pending and oldest.last is not None:
                    out.append(Entry(oldest.last, oldest.pending))
            self._groups[group] = _Group(opened=now)
            out.append(Entry(event, 1))
            return out

    def due(self, now: float) -> list[Entry]:
        """The counts of periods that are over (to write now)."""
        with self._lock:
            return self._due(now)

    def drain(self) -> list[Entry]:
        """Every count not yet written (at shutdown, or to read the log now); forgets all groups."""
        with self._lock:
            out = [Entry(g.last, g.pending) for g in self._groups.values() if g.pending and g.last is not None]
            self._groups.clear()
            return out

    def _due(self, now: float) -> list[Entry]:
        out: list[Entry] = []
        while self._groups:
            key, st = next(iter(self._groups.items()))
            if now - st.opened < self.period:
                break  # ordered by `opened`: the rest are newer
            del self._groups[key]
            if st.pending and st.last is not None:
                out.append(Entry(st.last, st.pending))
                self._groups[key] = _Group(opened=now)  # its entry is written now: a new period
        return out

    def __len__(self) -> int:
        return len(self._groups)
