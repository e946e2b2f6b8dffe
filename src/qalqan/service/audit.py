"""The append-only audit log: record an entry inside the caller's transaction, verify the chain.

Every screening request, alert view, decision, list change and login is recorded by the service
that performs it, in the same transaction, so an action is never stored without its entry.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qalqan.model.codec import canonical_json

from qalqan.monitoring.audit import (
    DECISION_FIELDS,
    GENESIS,
    ChainEntry,
    ChainProblem,
    check_alert_status,
    check_decisions,
    decisions_digest,
    entry_hash,
    head_mac,
    verify_chain,
)
from qalqan.store.db import Database, data_dir, private_dir
from qalqan.store.tables import Alert, AuditEntry, AuditHead, Decision

KEY_FILE = "audit.key"
#: Entries read per query while verifying: bounds memory on a log of millions.
VERIFY_BATCH = 5_000


def audit_key(env: Mapping[str, str] | None = None) -> bytes:
    """The MAC key: `QALQAN_AUDIT_KEY` (hex), else `<data dir>/audit.key`, created on first use
    (mode 0600). It must live outside the database: whoever holds it can rewrite the chain."""
    env = os.environ if env is None else env
    if env.get("QALQAN_AUDIT_KEY"):
        return bytes.fromhex(env["QALQAN_AUDIT_KEY"])
    path = data_dir(env) / KEY_FILE
    if not path.exists():
        private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(Path(path).read_text().strip())


def input_hash(body: bytes | str | Any) -> str:
    """SHA-256 of a request body (bytes / text as sent; other values as canonical JSON)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = canonical_json(body)
    return hashlib.sha256(body).hexdigest()


def record(
    session: Session,
    key: bytes,
    *,
    actor: str,
    action: str,
    target: str = "",
    purpose: str = "",
    detail: Mapping[str, Any] | None = None,
    input_hash: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry in `session`'s transaction (committed or rolled back with the action),
    stamped `at` (default: now, UTC).

    The head row is locked first (FOR UPDATE on PostgreSQL; SQLite's writers are serialised by
    BEGIN IMMEDIATE), so concurrent appenders number and chain their entries one at a time.
    """
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS, mac=head_mac(key, 0, GENESIS))
        session.add(head)
        session.flush()
    values: dict[str, object] = {
        "seq": head.seq + 1,
        "at": (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "purpose": purpose,
        "input_hash": input_hash,
        "detail": canonical_json(dict(detail or {})).decode("utf-8"),
    }
    digest = entry_hash(key, head.hash, values)
    entry = AuditEntry(prev_hash=head.hash, hash=digest, **values)
    session.add(entry)
    head.seq, head.hash, head.mac = int(values["seq"]), digest, head_mac(key, int(values["seq"]), digest)  # type: ignore[call-overload]
    session.flush()
    return entry


def decision_record(d: Decision) -> dict[str, object]:
    """A decision row as the digest covers it."""
    at = d.at if d.at.tzinfo is not None else d.at.replace(tzinfo=UTC)
    values = {name: getattr(d, name) for name in DECISION_FIELDS}
    values["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return values


def decisions_detail(decisions: Sequence[Decision]) -> dict[str, object]:
    """What an audit entry records of the decisions it binds: their count and digest."""
    return {"count": len(decisions), "digest": decisions_digest(decision_record(d) for d in decisions)}


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "problems": [p.as_dict() for p in self.problems]}


def _entries(db: Database) -> Iterator[ChainEntry]:
    last = 0
    while True:
        with db.session() as session:
            rows = session.execute(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(VERIFY_BATCH)).scalars().all()
        if not rows:
            return
        for r in rows:
            yield ChainEntry(r.seq, r.at, r.actor, r.action, r.target, r.purpose, r.input_hash, r.detail, r.prev_hash, r.hash)
        last = rows[-1].seq


def _decision_problems(db: Database) -> list[ChainProblem]:
    """Decision rows against the entries that record them, and alert statuses against their
    decisions. The entries' details are trusted only because the chain's MAC covers them."""
    recorded: dict[int, tuple[int, str]] = {}
    bound: dict[int, list[dict[str, object]]] = {}
    unbound: list[int] = []
    problems: list[ChainProblem] = []
    with db.session() as s:
        rows = s.execute(select(AuditEntry.seq, AuditEntry.detail).where(AuditEntry.detail.contains('"decisions"')).execution_options(yield_per=VERIFY_BATCH))
        for seq, detail in rows:
            found = orjson.loads(detail).get("decisions")
            if isinstance(found, dict) and "digest" in found:
                recorded[int(seq)] = (int(found.get("count", 0)), str(found["digest"]))
        # Decisions deleted by a retention rule (travel alerts past their deletion date): the
        # entry that deleted them names their entries, and is itself covered by the chain's MAC.
        erased: set[int] = set()
        for (detail,) in s.execute(select(AuditEntry.detail).where(AuditEntry.detail.contains('"erased_decisions"'))):
            erased.update(int(q) for q in orjson.loads(detail).get("erased_decisions") or [])
        for d in s.execute(select(Decision).order_by(Decision.id).execution_options(yield_per=VERIFY_BATCH)).scalars():
            if d.audit_seq is None:
                unbound.append(d.id)
            else:
                bound.setdefault(int(d.audit_seq), []).append(decision_record(d))
        for seq in erased - set(bound):
            recorded.pop(seq, None)
        problems += check_decisions(bound, recorded, unbound)
        last = select(Decision.alert_id, func.max(Decision.id).label("last")).group_by(Decision.alert_id).subquery()
        stmt = (
            select(Alert.id, Alert.status, Decision.to_status)
            .outerjoin(last, last.c.alert_id == Alert.id)
            .outerjoin(Decision, Decision.id == last.c.last)
            .order_by(Alert.id)
            .execution_options(yield_per=VERIFY_BATCH)
        )
        for alert_id, status, to_status in s.execute(stmt):
            problem = check_alert_status(int(alert_id), status, to_status)
            if problem is not None:
                problems.append(problem)
    return problems


def verify(db: Database, key: bytes) -> VerifyReport:
    """Check the whole chain and its head, every alert decision against the entry that records
    it, and every alert's status against its decisions; each problem is named."""
    with db.session() as session:
        head = session.get(AuditHead, 1)
        head_values = None if head is None else (head.seq, head.hash, head.mac)
    checked, problems = verify_chain(key, _entries(db), head_values)
    return VerifyReport(checked, problems + _decision_problems(db))
