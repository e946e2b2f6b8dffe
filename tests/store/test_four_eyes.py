"""Four-eyes confirmation against a real store (each backend): an analyst's confirm waits in
pending_approval for another supervisor; approve makes it final, reject sends it back; the
proposer never approves; with four eyes off a confirm is final; a sighting to a partner goes out
only when a confirmation is final; a delisting closes a pending alert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qalqan.monitoring.alerts import DecisionError
from qalqan.service import alerts, exchange, subjects, users
from qalqan.service.context import four_eyes_setting
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry
from tests.store.test_monitor import KARIM, LIST, POPULATION, SAMIRA, TARIQ, alerts_of, decisions, write_list


def _store(db: Database, tmp_path: Path, **kw: Any) -> tuple[Qalqan, int]:
    q = Qalqan(db, audit_key=bytes(32), **kw)
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA, TARIQ]), actor="admin", name=LIST)
    subjects.add_subjects(q, POPULATION, actor="loader")
    for name, role in [("ana", "analyst"), ("bea", "analyst"), ("sam", "supervisor"), ("sue", "supervisor"), ("root", "admin")]:
        users.create_user(q, name, role, actor="admin")
    (alert,) = alerts_of(q, "C1")
    return q, alert.id


def test_the_setting(monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
    assert four_eyes_setting({}) is True
    for off in ("0", "false", "OFF", " no "):
        assert four_eyes_setting({"QALQAN_FOUR_EYES": off}) is False
    for on in ("1", "true", "on", ""):
        assert four_eyes_setting({"QALQAN_FOUR_EYES": on}) is True
    monkeypatch.setenv("QALQAN_FOUR_EYES", "off")
    assert Qalqan(db, audit_key=bytes(32)).four_eyes is False
    assert Qalqan(db, audit_key=bytes(32), four_eyes=True).four_eyes is True
    monkeypatch.delenv("QALQAN_FOUR_EYES")
    assert Qalqan(db, audit_key=bytes(32)).four_eyes is True


def test_an_analysts_confirm_waits_for_another_supervisor(db: Database, tmp_path: Path) -> None:
    q, alert_id = _store(db, tmp_path)
    out = alerts.decide(q, alert_id, actor="ana", action="confirm", reason="same date of birth")
    assert out["status"] == "pending_approval"
    assert out["pending_confirmation"] == {"by": "ana", "at": out["decisions"][-1]["at"], "reason": "same date of birth"}
    shown = alerts.get_alert(q, alert_id, actor="sue", purpose="approval")
    assert shown is not None and shown["pending_confirmation"]["by"] == "ana"
    assert [a["id"] for a in alerts.list_alerts(q, status="pending_approval").items] == [alert_id]
    # From pending only approve or reject.
    for action in ("confirm", "false_positive", "close", "escalate"):
        with pytest.raises(DecisionError) as info:
            alerts.decide(q, alert_id, actor="sam", action=action, reason="x")
        assert info.value.kind == "transition"
    with pytest.raises(DecisionError) as info:  # an analyst neither approves nor rejects
        alerts.decide(q, alert_id, actor="bea", action="approve", reason="fine by me")
    assert info.value.kind == "role"
    # The proposer may not approve, even with a supervisor's role (promoted since).
    with pytest.raises(DecisionError) as info:
        alerts.decide(q, alert_id, actor="ana", role="supervisor", action="approve", reason="I am sure")
    assert info.value.kind == "four-eyes"

    out = alerts.decide(q, alert_id, actor="sam", action="reject", reason="the birth year differs in the passport")
    assert out["status"] == "open" and "pending_confirmation" not in out
    # Proposed again by another analyst: the proposer is the latest confirm's actor.
    alerts.decide(q, alert_id, actor="bea", action="confirm", reason="passport number matches")
    with pytest.raises(DecisionError) as info:
        alerts.decide(q, alert_id, actor="bea", role="supervisor", action="approve", reason="x")
    assert info.value.kind == "four-eyes"
    out = alerts.decide(q, alert_id, actor="ana", role="supervisor", action="approve", reason="agreed")  # ana did not propose this one
    assert out["status"] == "confirmed"
    assert [(d["actor"], d["action"], d["from"], d["to"]) for d in out["decisions"]] == [
        ("ana", "confirm", "open", "pending_approval"),
        ("sam", "reject", "pending_approval", "open"),
        ("bea", "confirm", "open", "pending_approval"),
        ("ana", "approve", "pending_approval", "confirmed"),
    ]
    with q.db.session() as s:
        refused = [json.loads(e.detail)["refused"] for e in s.execute(select(AuditEntry).where(AuditEntry.action == "alert.decide.refused").order_by(AuditEntry.seq)).scalars()]
    assert refused == ["transition"] * 4 + ["role", "four-eyes", "four-eyes"]  # every refusal is audited


def test_a_supervisors_confirm_is_final_and_four_eyes_off(db: Database, tmp_path: Path) -> None:
    q, alert_id = _store(db, tmp_path)
    assert alerts.decide(q, alert_id, actor="sam", action="confirm", reason="same person")["status"] == "confirmed"
    (c3,) = alerts_of(q, "C3")
    assert alerts.decide(q, c3.id, actor="root", action="confirm", reason="same person")["status"] == "confirmed"
    q.four_eyes = False
    (c4,) = alerts_of(q, "C4")
    assert alerts.decide(q, c4.id, actor="ana", action="confirm", reason="same person")["status"] == "confirmed"


def test_a_delisting_closes_a_pending_alert(db: Database, tmp_path: Path) -> None:
    q, _ = _store(db, tmp_path)
    (samira,) = alerts_of(q, "C3")
    alerts.decide(q, samira.id, actor="ana", action="confirm", reason="looks like her")
    held = q.import_list(write_list(tmp_path / "v2.csv", [KARIM, TARIQ]), actor="admin", name=LIST)
    assert held.status == "pending"  # removes 1 of 3: held by the guard
    v2 = q.confirm_version(LIST, held.number, actor="admin", reason="delisting announced today")  # type: ignore[arg-type]
    assert v2.rescreen.closed_delisted == 1
    (closed,) = alerts_of(q, "C3")
    assert closed.status == "closed_delisted"
    last = decisions(q, closed.id)[-1]
    assert (last.actor, last.from_status, last.to_status) == ("system", "pending_approval", "closed_delisted")


def test_the_sighting_goes_only_when_the_confirmation_is_final(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    q, alert_id = _store(db, tmp_path)
    sent: list[tuple[int, str]] = []

    def report_hit(ctx: Any, alert_id: int, *, actor: str, anonymised: bool = False) -> str:
        sent.append((alert_id, actor))
        return f"sighting--{len(sent)}"

    monkeypatch.setattr(exchange, "report_hit", report_hit)
    out = q.decide(alert_id, actor="ana", action="confirm", reason="same date of birth")
    assert out["status"] == "pending_approval" and "sighting" not in out and sent == []
    out = q.decide(alert_id, actor="sam", action="reject", reason="look again")
    assert "sighting" not in out and sent == []
    q.decide(alert_id, actor="ana", action="confirm", reason="looked again: same passport")
    assert sent == []
    out = q.decide(alert_id, actor="sue", action="approve", reason="agreed")
    assert out["status"] == "confirmed" and out["sighting"] == "sighting--1" and sent == [(alert_id, "sue")]
    # A supervisor's own confirm is final: the sighting goes at once.
    (c3,) = alerts_of(q, "C3")
    out = q.decide(c3.id, actor="sam", action="confirm", reason="same person")
    assert out["sighting"] == "sighting--2" and sent[-1] == (c3.id, "sam")
