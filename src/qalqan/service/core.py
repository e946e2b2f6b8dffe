"""`Qalqan`: the running service — a store, its audit key, and the screener over the live list
versions. The HTTP API and the command line both drive the system through one of these.

Use cases live in the modules beside this one (`lists`, `monitor`, `auth`, `audit`); this class
holds what they share and wires the one cross-cutting rule: a new list version is re-screened
against the watched population as soon as it is live.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from qalqan.matching.config import MatchConfig, load_config
from qalqan.matching.screener import Screener
from qalqan.service import audit as audit_log
from qalqan.store.db import Database, open_database
from qalqan.store.tables import AuditEntry

#: The actor recorded for work the service does on its own (scheduled fetches, re-screens).
SYSTEM = "system"
#: How long the screener trusts its last look at which versions are live. A version imported by
#: another process (the CLI, a second server) is screened against within this; one imported
#: through this object at once. Asking the database on every request cost ~12% of a screening
#: request's time under load.
LIVE_CHECK_SECONDS = 1.0


class Qalqan:
    def __init__(
        self,
        db: Database,
        *,
        audit_key: bytes | None = None,
        config: MatchConfig | None = None,
        threshold: float | None = None,
    ):
        self.db = db
        self.key = audit_key if audit_key is not None else audit_log.audit_key()
        self.config = config or load_config()
        self.threshold = self.config.threshold if threshold is None else threshold
        self._screener: Screener | None = None
        self._screener_versions: dict[str, int] = {}
        self._checked_at = 0.0  # time.monotonic() of the last live-version check
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str | None = None, **kwargs: Any) -> Qalqan:
        """The store at `url` (default: QALQAN_DATABASE_URL or the SQLite file), migrated."""
        return cls(open_database(url), **kwargs)

    # -- transactions and audit ---------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.db.transaction() as session:
            yield session

    def audit(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        target: str = "",
        purpose: str = "",
        detail: Mapping[str, Any] | None = None,
        input_hash: str = "",
    ) -> AuditEntry:
        """Append an audit entry in `session`'s transaction."""
        return audit_log.record(session, self.key, actor=actor, action=action, target=target, purpose=purpose, detail=detail, input_hash=input_hash)

    # -- the screener over the live versions --------------------------------------------------

    def live_versions(self) -> dict[str, int]:
        from qalqan.service.lists import live_versions

        return live_versions(self.db)

    @property
    def screener(self) -> Screener:
        """The screener over every list's live version; rebuilt when a live version changes.

        Requests in flight keep the screener they started with (it is immutable); the next one
        sees the new version.
        """
        current = self._screener
        if current is not None and time.monotonic() - self._checked_at < LIVE_CHECK_SECONDS:
            return current
        live = self.live_versions()
        if current is not None and live == self._screener_versions:
            self._checked_at = time.monotonic()
            return current
        with self._lock:
            if self._screener is not None and live == self._screener_versions:
                return self._screener
            from qalqan.service.lists import load_live

            entities, infos, versions = load_live(self.db)
            self._screener = Screener(entities, infos, self.threshold, self.config)
            self._screener_versions = versions
            self._checked_at = time.monotonic()
            return self._screener

    def invalidate(self) -> None:
        """Look at the live versions again on the next use (called after every import through
        this object, so its own imports are screened against at once)."""
        self._checked_at = 0.0

    # -- the cross-cutting rule ---------------------------------------------------------------

    def import_list(self, spec: str, *, actor: str, name: str | None = None, **kwargs: Any) -> Any:
        """Import a list file as a new version (atomically), then re-screen the watched
        population against what it added and amended, and close alerts on what it removed.

        Returns `service.lists.ImportResult`, with `rescreen` set to the re-screen's summary.
        """
        from qalqan.service import lists, monitor

        self.catch_up(actor=actor)  # a re-screen left unfinished runs while its version is live
        result = lists.import_list(self, spec, actor=actor, name=name, **kwargs)
        if result.created and result.version_id is not None:
            result.rescreen = monitor.on_new_version(self, result.version_id, actor=actor)
        return result

    def catch_up(self, *, actor: str = SYSTEM) -> list[Any]:
        """Re-screen the population against every live version whose re-screen never finished.

        An import commits before its re-screen runs (a list of a million entities must not hold
        the write lock for the whole re-screen), so a process stopped in between leaves a live
        version nobody was screened against; it is marked by `rescreened_at` being empty. `serve`
        calls this at start, and every import calls it first.
        """
        from sqlalchemy import select

        from qalqan.service import monitor
        from qalqan.store.tables import ListSource, ListVersion

        with self.db.session() as session:
            pending = session.execute(
                select(ListVersion.id)
                .join(ListSource, ListSource.current_version_id == ListVersion.id)
                .where(ListVersion.rescreened_at.is_(None))
                .order_by(ListVersion.id)
            ).scalars().all()
        return [monitor.on_new_version(self, version_id, actor=actor) for version_id in pending]
