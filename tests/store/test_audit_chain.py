"""The audit chain: every edit, insertion and deletion of a row is found and named."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from qalqan.monitoring.audit import entry_hash
from qalqan.service import audit
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry

KEY = bytes(range(32))


def _fill(db: Database, n: int = 6) -> None:
    for i in range(n):
        with db.transaction() as s:
            audit.record(s, KEY, actor=f"user{i % 2}", action="alert.view", target=f"alert:{i}", purpose="case 17", detail={"i": i, "ü": "ä"})


def test_clean_chain_verifies(db: Database) -> None:
    _fill(db)
    report = audit.verify(db, KEY)
    assert report.ok and report.checked == 6
    assert not audit.verify(db, b"another key" * 3).ok  # the MAC really depends on the key


def test_rolled_back_action_leaves_no_entry(db: Database) -> None:
    _fill(db, 2)
    with pytest.raises(RuntimeError), db.transaction() as s:
        audit.record(s, KEY, actor="a", action="alert.decide")
        raise RuntimeError("the decision failed")
    report = audit.verify(db, KEY)
    assert report.ok and report.checked == 2


def test_edited_row_is_named(db: Database) -> None:
    _fill(db)
    with db.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone else"))
    problems = audit.verify(db, KEY).problems
    assert [(p.seq, p.kind) for p in problems] == [(3, "edited")]


def test_deleted_row_is_named(db: Database) -> None:
    _fill(db)
    with db.transaction() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    problems = audit.verify(db, KEY).problems
    assert [(p.seq, p.kind) for p in problems] == [(5, "deleted")]
    assert "4" in problems[0].message


def test_deleted_tail_is_found(db: Database) -> None:
    _fill(db)
    with db.transaction() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq >= 5))
    problems = audit.verify(db, KEY).problems
    assert [(p.seq, p.kind) for p in problems] == [(6, "deleted")]
    assert "5..6" in problems[0].message


def test_inserted_row_is_named(db: Database) -> None:
    """A row inserted without the key (seq shifted to make room) is found where it sits."""
    _fill(db)
    with db.transaction() as s:
        for seq in range(6, 3, -1):  # move 4..6 up by one, from the top
            s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        prev = s.execute(select(AuditEntry.hash).where(AuditEntry.seq == 3)).scalar_one()
        forged = {"seq": 4, "at": "2026-01-01T00:00:00.000000+00:00", "actor": "intruder", "action": "alert.view", "target": "alert:9", "purpose": "", "input_hash": "", "detail": "{}"}
        s.add(AuditEntry(prev_hash=prev, hash=entry_hash(b"guessed key", prev, forged), **forged))
    kinds = {(p.seq, p.kind) for p in audit.verify(db, KEY).problems}
    assert (4, "edited") in kinds  # the forged row's MAC
    assert {(5, "edited"), (6, "edited"), (7, "edited")} <= kinds  # the renumbered rows


def test_appended_row_is_found(db: Database) -> None:
    _fill(db)
    with db.transaction() as s:
        last = s.execute(select(AuditEntry).where(AuditEntry.seq == 6)).scalar_one()
        forged = {"seq": 7, "at": last.at, "actor": "intruder", "action": "login", "target": "", "purpose": "", "input_hash": "", "detail": "{}"}
        s.add(AuditEntry(prev_hash=last.hash, hash=entry_hash(b"guessed key", last.hash, forged), **forged))
    kinds = {(p.seq, p.kind) for p in audit.verify(db, KEY).problems}
    assert kinds == {(7, "edited"), (7, "inserted")}  # forged MAC; beyond the head


def test_sql_seen_as_text_is_exactly_what_was_hashed(db: Database) -> None:
    """Detail is stored as the hashed text, not re-serialised by the database."""
    _fill(db, 1)
    with db.engine.connect() as conn:
        detail = conn.execute(text("SELECT detail FROM audit_log WHERE seq = 1")).scalar_one()
    assert detail == '{"i":0,"ü":"ä"}'
