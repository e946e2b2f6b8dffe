"""The audit log's hash chain.

Each entry's hash is an HMAC (key held outside the database) over its own fields and the previous
entry's hash, and a one-row head records the last entry's sequence number and hash under the same
key. So anyone with write access to the database but not the key cannot edit, delete (in the
middle or at the end) or insert an entry without `verify_chain` naming where.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

#: The `prev_hash` of the first entry.
GENESIS = "0" * 64
#: The fields an entry's hash covers, in order (the stored row has these plus `prev_hash`, `hash`).
FIELDS = ("seq", "at", "actor", "action", "target", "purpose", "input_hash", "detail")


@dataclass(frozen=True, slots=True)
class ChainEntry:
    seq: int
    at: str
    actor: str
    action: str
    target: str
    purpose: str
    input_hash: str
    detail: str  # canonical JSON text
    prev_hash: str
    hash: str


def entry_hash(key: bytes, prev_hash: str, values: dict[str, object]) -> str:
    """HMAC-SHA-256 over the previous hash and the entry's fields, each length-prefixed so no two
    different entries serialise alike."""
    mac = hmac.new(key, prev_hash.encode("ascii"), hashlib.sha256)
    for name in FIELDS:
        data = str(values[name]).encode("utf-8")
        mac.update(f"|{name}:{len(data)}:".encode("ascii"))
        mac.update(data)
    return mac.hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    """The MAC of the chain head (the last entry's seq and hash): catches a truncated tail."""
    return hmac.new(key, f"head|{seq}|{last_hash}".encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int  # the entry where the chain breaks (for a deletion: the first entry after the gap)
    kind: str  # "edited" | "deleted" | "inserted" | "head"
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


def verify_chain(
    key: bytes, entries: Iterable[ChainEntry], head: tuple[int, str, str] | None
) -> tuple[int, list[ChainProblem]]:
    """Walk the entries in `seq` order against the head `(seq, hash, mac)`; return how many
    entries were checked and every break found, each naming the entry.

    - edited: an entry's hash is not the MAC of its fields (changed, or written without the key);
    - deleted: `seq` skips numbers, or the last entries are gone (the head names a later one);
    - inserted: an entry with a valid MAC of its own that does not chain to the entry before it.
    """
    problems: list[ChainProblem] = []
    prev_hash, expected, last_seq, last_hash, checked = GENESIS, 1, 0, GENESIS, 0
    for e in entries:
        checked += 1
        values = {name: getattr(e, name) for name in FIELDS}
        own_ok = hmac.compare_digest(entry_hash(key, e.prev_hash, values), e.hash)
        what = f"entry {e.seq} ({e.action} by {e.actor} at {e.at})"
        if not own_ok:
            problems.append(ChainProblem(e.seq, "edited", f"{what} does not match its MAC: changed, or written outside Qalqan"))
        if e.seq > expected:
            gap = f"entry {expected} is" if e.seq == expected + 1 else f"entries {expected}..{e.seq - 1} are"
            problems.append(ChainProblem(e.seq, "deleted", f"{gap} missing before entry {e.seq}"))
        elif e.prev_hash != prev_hash and own_ok:
            problems.append(ChainProblem(e.seq, "inserted", f"{what} does not chain to entry {e.seq - 1}: an entry was inserted or replaced"))
        prev_hash, expected, last_seq, last_hash = e.hash, e.seq + 1, e.seq, e.hash
    if head is None:
        if checked:
            problems.append(ChainProblem(last_seq, "head", "the chain head is missing"))
        return checked, problems
    head_seq, head_hash, mac = head
    if not hmac.compare_digest(head_mac(key, head_seq, head_hash), mac):
        problems.append(ChainProblem(head_seq, "head", f"the chain head (entry {head_seq}) does not match its MAC"))
    elif head_seq > last_seq:
        gap = f"entry {head_seq} is" if head_seq == last_seq + 1 else f"entries {last_seq + 1}..{head_seq} are"
        problems.append(ChainProblem(head_seq, "deleted", f"{gap} missing at the end of the log"))
    elif head_seq < last_seq or head_hash != last_hash:
        problems.append(ChainProblem(last_seq, "inserted", f"entries after {head_seq} were added outside Qalqan (the head names entry {head_seq})"))
    return checked, problems


# -- decisions bound to the chain -----------------------------------------------------------------

#: The fields of a decision row the digest covers.
DECISION_FIELDS = ("id", "alert_id", "actor", "action", "from_status", "to_status", "reason", "at")


def decisions_digest(records: Iterable[dict[str, object]]) -> str:
    """SHA-256 over the decisions one audit entry records (each a dict of DECISION_FIELDS, `at` as
    ISO text), in id order. The entry's detail carries it, so the chain's MAC covers the rows."""
    h = hashlib.sha256()
    for record in sorted(records, key=lambda r: int(r["id"])):  # type: ignore[call-overload]
        for name in DECISION_FIELDS:
            data = str(record[name]).encode("utf-8")
            h.update(f"|{name}:{len(data)}:".encode("ascii"))
            h.update(data)
    return h.hexdigest()


def check_decisions(
    bound: dict[int, list[dict[str, object]]], recorded: dict[int, tuple[int, str]], unbound: Iterable[int]
) -> list[ChainProblem]:
    """Decisions against the audit entries that record them.

    `bound`: audit seq -> the decision rows that name it; `recorded`: audit seq -> (count, digest)
    as the entries' details say (every entry that recorded decisions); `unbound`: ids of decision
    rows that name no entry. Each mismatch is named: rows edited or added behind the log's back
    (the digest differs), rows deleted (the entry counts more than there are), rows bound to no
    entry or to one that never recorded decisions.
    """
    problems: list[ChainProblem] = []
    for decision_id in unbound:
        problems.append(ChainProblem(0, "decision", f"decision {decision_id} is recorded by no audit entry"))
    for seq in sorted(set(bound) | set(recorded)):
        rows = bound.get(seq, [])
        if seq not in recorded:
            ids = ", ".join(str(r["id"]) for r in rows)
            problems.append(ChainProblem(seq, "decision", f"decisions {ids} name audit entry {seq}, which records no decisions"))
            continue
        count, digest = recorded[seq]
        if len(rows) != count:
            problems.append(ChainProblem(seq, "decision", f"audit entry {seq} records {count} decision(s); {len(rows)} found"))
        elif not hmac.compare_digest(decisions_digest(rows), digest):
            ids = ", ".join(str(r["id"]) for r in sorted(rows, key=lambda r: int(r["id"])))  # type: ignore[call-overload]
            problems.append(ChainProblem(seq, "decision", f"decision(s) {ids} differ from what audit entry {seq} recorded"))
    return problems


def check_alert_status(alert_id: int, status: str, last_decision_to: str | None) -> ChainProblem | None:
    """An alert's status must be where its decisions left it (open when it has none): a status
    edited in the alerts table is named."""
    expected = last_decision_to or "open"
    if status != expected:
        return ChainProblem(0, "alert", f"alert {alert_id} is {status}, but its recorded decisions leave it {expected}")
    return None
