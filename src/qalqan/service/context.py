"""What every use case depends on, passed explicitly: the store, the audit recorder (its key),
the clock, and the live screener with its configuration.

The use-case modules (`lists`, `fetch`, `subjects`, `rescreen`, `alerts`, `auth`, `audit`) take a
`Context` as their first argument and never import one another's composition: the one place that
wires them together is `service.core.Qalqan`, which nothing in `service/` imports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
import os
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from qalqan.matching.config import MatchConfig, load_config
from qalqan.matching.screener import Screener
from qalqan.service import audit as audit_log
from qalqan.service.clock import SYSTEM_CLOCK, Clock
from qalqan.service.live import LiveScreener
from qalqan.service.sealing import Sealer, travel_key
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, Decision

#: The actor recorded for work the service does on its own (scheduled fetches, re-screens,
#: closing alerts on delisted entries). No user may take this name.
SYSTEM = "system"
#: The actor of a request that carried no usable key.
ANONYMOUS = "anonymous"


#: Values of QALQAN_FOUR_EYES that turn four-eyes confirmation off (anything else leaves it on).
FOUR_EYES_OFF = frozenset({"0", "false", "off", "no"})


def four_eyes_setting(environ: Mapping[str, str] | None = None) -> bool:
    """QALQAN_FOUR_EYES: whether an analyst's confirm must be approved by a supervisor. On unless
    set to 0 / false / off / no."""
    value = (os.environ if environ is None else environ).get("QALQAN_FOUR_EYES", "")
    return value.strip().lower() not in FOUR_EYES_OFF


class Context:
    def __init__(
        self,
        db: Database,
        *,
        audit_key: bytes | None = None,
        config: MatchConfig | None = None,
        threshold: float | None = None,
        clock: Clock | None = None,
        org: str | None = None,
        org_name: str | None = None,
        four_eyes: bool | None = None,
        travel_key: bytes | None = None,
    ):
        self.db = db
        #: This node's organisation for exchange with partners (QALQAN_ORG / QALQAN_ORG_NAME).
        self.org = (org or os.environ.get("QALQAN_ORG", "").strip() or "local")
        self.org_name = (org_name or os.environ.get("QALQAN_ORG_NAME", "").strip() or self.org)
        self.key = audit_key if audit_key is not None else audit_log.audit_key()
        self.config = config or load_config()
        self.threshold = self.config.threshold if threshold is None else threshold
        self.clock: Clock = clock or SYSTEM_CLOCK
        #: An analyst's confirm awaits a supervisor's approval (QALQAN_FOUR_EYES; on by default).
        self.four_eyes: bool = four_eyes_setting() if four_eyes is None else bool(four_eyes)
        self.live = LiveScreener(db, self.config, self.threshold, self.clock)
        self._travel_key = travel_key
        self._sealer: Sealer | None = None

    @property
    def sealer(self) -> Sealer:
        """Seals depersonalised passenger data (the travel key is read on first use)."""
        if self._sealer is None:
            self._sealer = Sealer(self._travel_key if self._travel_key is not None else travel_key())
        return self._sealer

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
        decisions: Sequence[Decision] = (),
    ) -> AuditEntry:
        """Append an audit entry in `session`'s transaction, stamped with this context's clock.

        `decisions` (alert decision rows flushed in the same transaction) are bound to the entry:
        its detail records their count and digest, and each row names the entry, so editing the
        decisions table is found by `audit verify`."""
        if decisions:
            detail = {**(detail or {}), "decisions": audit_log.decisions_detail(decisions)}
        entry = audit_log.record(
            session, self.key, actor=actor, action=action, target=target, purpose=purpose, detail=detail, input_hash=input_hash, at=self.clock.now()
        )
        for decision in decisions:
            decision.audit_seq = entry.seq
        return entry

    @property
    def screener(self) -> Screener:
        """The screener over every list's live version."""
        return self.live.screener

    def live_versions(self) -> dict[str, int]:
        return self.live.versions()

    def invalidate(self) -> None:
        self.live.invalidate()
