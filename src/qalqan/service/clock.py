"""The clock every use case reads: wall time (UTC, for what is stored and audited) and a
monotonic clock (for durations, caches and rate limits).

Passed in, never read from `datetime.now()` inside a use case, so retention rules, warning
deadlines, cache expiry and back-off can be tested by moving a `FixedClock` forward.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences mean anything)."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FixedClock:
    """A clock that moves only when told to (tests): `advance(seconds)` moves both clocks."""

    def __init__(self, start: datetime | None = None, monotonic: float = 1_000.0):
        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._monotonic = monotonic

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float | timedelta) -> None:
        delta = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if delta < 0:
            raise ValueError("a clock does not go back")
        self._now += timedelta(seconds=delta)
        self._monotonic += delta


SYSTEM_CLOCK = SystemClock()
