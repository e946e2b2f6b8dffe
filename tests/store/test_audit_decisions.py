"""`audit verify` covers the decisions on alerts: each decision row is bound to the audit entry
that records it (count and digest in the entry's MAC'd detail), and each alert's status must be
where its decisions leave it — so editing the decisions or alerts tables is found and named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.service import alerts, subjects, users
from qalqan.service import audit as audit_log
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import Alert, Decision
from tests.store.test_monitor import KARIM, LIST, POPULATION, SAMIRA, TARIQ, write_list


@pytest.fixture
def q(db: Database, tmp_path: Path) -> Qalqan:
    q = Qalqan(db, audit_key=bytes(32))
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA, TARIQ]), actor="admin", name=LIST)
    subjects.add_subjects(q, POPULATION, actor="loader")
    users.create_user(q, "ana", "analyst", actor="admin")
    for a in alerts.list_alerts(q, status="open").items:
        alerts.decide(q, a["id"], actor="ana", action="escalate", reason="needs a second look")
    # A system closure binds its decisions to the re-screen's entry.
    subjects.remove_subject(q, "C4", actor="admin", reason="account closed")
    return q


def problems(q: Qalqan) -> list[tuple[str, str]]:
    report = audit_log.verify(q.db, q.key)
    return [(p.kind, p.message) for p in report.problems]


def test_an_untouched_store_verifies(q: Qalqan) -> None:
    assert problems(q) == []
    with q.db.session() as s:
        assert s.execute(select(Decision).where(Decision.audit_seq.is_(None))).first() is None


def test_an_edited_decision_is_named(q: Qalqan) -> None:
    with q.db.transaction() as s:
        first = s.execute(select(Decision).order_by(Decision.id)).scalars().first()
        assert first is not None
        s.execute(update(Decision).where(Decision.id == first.id).values(reason="confirmed by phone"))
    assert problems(q) == [("decision", f"decision(s) {first.id} differ from what audit entry {first.audit_seq} recorded")]


def test_a_deleted_or_inserted_decision_is_named(q: Qalqan) -> None:
    with q.db.transaction() as s:
        last = s.execute(select(Decision).order_by(Decision.id.desc())).scalars().first()
        assert last is not None
        seq, alert_id, at = last.audit_seq, last.alert_id, last.at
        s.execute(delete(Decision).where(Decision.id == last.id))
        s.add(Decision(alert_id=alert_id, actor="mallory", action="confirm", from_status="open", to_status="confirmed", reason="x", at=at))
    kinds = problems(q)
    assert ("decision", f"audit entry {seq} records 1 decision(s); 0 found") in kinds
    assert any(k == "decision" and "is recorded by no audit entry" in m for k, m in kinds)


def test_an_alert_status_edited_behind_the_log_is_named(q: Qalqan) -> None:
    with q.db.transaction() as s:
        alert = s.execute(select(Alert).where(Alert.status == "escalated").order_by(Alert.id)).scalars().first()
        assert alert is not None
        s.execute(update(Alert).where(Alert.id == alert.id).values(status="false_positive"))
    assert problems(q) == [("alert", f"alert {alert.id} is false_positive, but its recorded decisions leave it escalated")]


def test_the_cli_reports_it(q: Qalqan, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QALQAN_DATABASE_URL", q.db.url)
    monkeypatch.setenv("QALQAN_AUDIT_KEY", bytes(32).hex())
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    with q.db.transaction() as s:
        s.execute(update(Decision).values(reason="rewritten"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "differ from what audit entry" in result.output
