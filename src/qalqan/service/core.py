"""`Qalqan`: the composition of the use cases — the one place that wires them together, and that
nothing in `service/` imports. The HTTP API and the command line drive the system through it.

It is a `Context` (store, audit key, clock, live screener), so every use-case function takes it
as its first argument; on top it wires the one cross-cutting rule: a list version that goes live
is re-screened against the watched population at once (after an import, a confirmation of a held
version, a fetch, or a start-up that finds a re-screen left unfinished).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qalqan.service import fetch, lists, rescreen
from qalqan.service.context import SYSTEM, Context
from qalqan.service.fetch import FETCH_TIMEOUT, FetchResult, ListScheduler, OnResult
from qalqan.service.lists import ImportResult
from qalqan.service.rescreen import RescreenSummary
from qalqan.store.db import open_database


class Qalqan(Context):
    @classmethod
    def open(cls, url: str | None = None, **kwargs: Any) -> Qalqan:
        """The store at `url` (default: QALQAN_DATABASE_URL or the SQLite file), migrated."""
        return cls(open_database(url), **kwargs)

    def import_list(self, spec: str, *, actor: str, name: str | None = None, **kwargs: Any) -> ImportResult:
        """Import a list file as a new version (atomically); if it went live, re-screen the
        watched population against what it added and amended, and close alerts on what it
        removed. A version held by the guard is stored as pending and re-screens nothing.
        Returns `lists.ImportResult`, with `rescreen` set to the re-screen's summary."""
        self.catch_up(actor=actor)  # a re-screen left unfinished runs while its version is live
        result = lists.import_list(self, spec, actor=actor, name=name, **kwargs)
        if result.live and result.version_id is not None:
            result.rescreen = rescreen.on_new_version(self, result.version_id, actor=actor)
        return result

    def confirm_version(self, name: str, number: int, *, actor: str, reason: str) -> ImportResult:
        """An admin confirms a held version: it goes live and the population is re-screened."""
        self.catch_up(actor=actor)
        result = lists.confirm_version(self, name, number, actor=actor, reason=reason)
        if result.version_id is not None:
            result.rescreen = rescreen.on_new_version(self, result.version_id, actor=actor)
        return result

    def catch_up(self, *, actor: str = SYSTEM) -> list[RescreenSummary]:
        """Re-screen against every live version whose re-screen never finished (see
        `rescreen.unfinished`)."""
        return [rescreen.on_new_version(self, version_id, actor=actor) for version_id in rescreen.unfinished(self)]

    def fetch_list(self, name: str, url: str | None = None, *, actor: str, **kwargs: Any) -> FetchResult:
        """Download list `name` and, if it changed, import it (and re-screen)."""
        return fetch.fetch_list(self, name, url, importer=self.import_list, actor=actor, **kwargs)

    def scheduler(
        self,
        names: Sequence[str] | Mapping[str, str | None],
        every_seconds: float,
        on_result: OnResult | None = None,
        *,
        actor: str = SYSTEM,
        timeout: float = FETCH_TIMEOUT,
        start_after: float = 0.0,
    ) -> ListScheduler:
        """A (not yet started) thread fetching `names` every `every_seconds`."""
        return ListScheduler(lambda name, url: self.fetch_list(name, url, actor=actor, timeout=timeout), names, every_seconds, on_result, start_after=start_after)
