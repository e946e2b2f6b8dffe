"""The watched population and the alert lifecycle against a real store (SQLite and PostgreSQL):
subjects upserted and screened on arrival, decisions with their audit entries, false positives
suppressed until either side's data changes, alerts closed when the entity is delisted."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qalqan.monitoring.alerts import DecisionError
from qalqan.service import audit as audit_log
from qalqan.service import alerts, rescreen, screening, subjects, users
from qalqan.service.alerts import PurposeRequired
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import Alert, AuditEntry, Decision, Subject

LIST = "watch"
HEADER = ["id", "schema", "name", "aliases", "birth_date", "nationality", "reference"]
KARIM = ["W1", "Person", "Karim Yusuf al-Fayruzi", "Kareem Yousef Al Fairouzi", "1971-03-14", "Jordan", "W.1"]
SAMIRA = ["W2", "Person", "Samira Hadi al-Qamari", "", "1980", "Lebanon", "W.2"]
TARIQ = ["W3", "Person", "Tariq Nabil Haddad", "", "1966-05-01", "", "W.3"]
YUSUF = ["W4", "Person", "Yusuf Ibrahim Mansour", "", "1975", "", "W.4"]


def write_list(path: Path, rows: list[list[str]]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return f"csv:{path}"


@pytest.fixture
def q(db: Database) -> Qalqan:
    return Qalqan(db, audit_key=bytes(32))


def alerts_of(q: Qalqan, external_id: str) -> list[Alert]:
    with q.db.session() as s:
        return list(
            s.execute(select(Alert).join(Subject, Subject.id == Alert.subject_id).where(Subject.external_id == external_id).order_by(Alert.id)).scalars()
        )


def decisions(q: Qalqan, alert_id: int) -> list[Decision]:
    with q.db.session() as s:
        return list(s.execute(select(Decision).where(Decision.alert_id == alert_id).order_by(Decision.id)).scalars())


def audit_actions(q: Qalqan) -> list[tuple[str, str, str]]:
    with q.db.session() as s:
        return [(a.actor, a.action, a.target) for a in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


POPULATION: list[dict[str, Any]] = [
    {"id": "C1", "name": "Kareem Yousef Al-Fairouzi", "birth_date": "1971-03-14"},
    {"id": "C2", "name": "John Smith", "birth_date": "1980-01-01"},
    {"id": "C3", "name": "Samira Hadi Al Qamari"},
    {"id": "C4", "name": "Tariq Nabil Haddad"},
    {"id": "C5", "name": "Jane Doe"},
]


def test_subjects_are_upserted_and_screened_on_arrival(q: Qalqan, tmp_path: Path) -> None:
    v1 = q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA, TARIQ]), actor="admin", name=LIST)
    records = [*POPULATION, {"id": "C9", "name": ""}, {"name": "No Id"}, {"id": "C8", "name": "X", "birth_date": "1970-13-45"}]
    result = subjects.add_subjects(q, records, actor="loader", purpose="onboarding")
    # C8's impossible date no longer refuses it: it is stored and screened without the date.
    assert (result.added, result.updated, result.unchanged, result.rows) == (6, 0, 0, 8)
    assert [(e["row"], e["field"]) for e in result.errors] == [(6, "name"), (7, "id")]
    assert [(w["row"], w["id"], w["field"], w["value"]) for w in result.warnings] == [(8, "C8", "birth_date", "1970-13-45")]
    assert result.warning_count == 1
    assert result.alerts_new == 3  # C1, C3, C4; John Smith and Jane Doe are not listed
    (a1,) = alerts_of(q, "C1")
    with q.db.session() as s:
        subject = s.execute(select(Subject).where(Subject.external_id == "C1")).scalar_one()
    assert (a1.list_name, a1.entity_key, a1.generation, a1.status, a1.trigger) == (LIST, "W.1", 1, "open", "new-subject")
    assert a1.version_id == v1.version_id and a1.subject_hash == subject.hash and a1.score >= q.threshold
    assert a1.explanation and a1.explanation[0]["feature"] == "name"
    assert subject.tokens and "#" not in subject.tokens and subject.screened_version == {LIST: v1.version_id}
    assert alerts_of(q, "C2") == []
    # The same records again: nothing changes, nothing is screened into new alerts.
    again = subjects.add_subjects(q, POPULATION, actor="loader")
    assert (again.added, again.updated, again.unchanged, again.alerts_new, again.alerts_updated) == (0, 0, 5, 0, 0)
    # A changed record is an update; it is screened again (its open alert refreshed, not doubled).
    changed = subjects.add_subjects(q, [{"id": "C1", "name": "Kareem Yousef Al-Fairouzi", "birth_date": "1971"}], actor="loader")
    assert (changed.updated, changed.alerts_new, changed.alerts_updated) == (1, 0, 1)
    assert len(alerts_of(q, "C1")) == 1
    # One audit entry per batch, with the purpose.
    assert [a for a in audit_actions(q) if a[1] == "subjects.import"] == [("loader", "subjects.import", "subjects")] * 3
    # Duplicate ids in one input: the later row wins.
    dup = subjects.add_subjects(q, [{"id": "C7", "name": "A One"}, {"id": "C7", "name": "A Two"}], actor="loader")
    assert (dup.added, dup.updated) == (1, 1)
    assert subjects.get_subject(q, "C7", actor="analyst1", purpose="check")["data"]["name"] == "A Two"  # type: ignore[index]


def test_import_file_get_update_list_and_remove(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA]), actor="admin", name=LIST)
    path = tmp_path / "subjects.jsonl"
    path.write_text('{"id": "C1", "name": "Kareem Yousef Al-Fairouzi"}\n{"id": "C2", "name": "Jane Doe"}\n{"name": "no id"}\nnot json\n')
    ticks: list[int] = []
    result = subjects.import_subjects_file(q, path, actor="loader", progress=ticks.append)
    assert (result.added, result.alerts_new, result.error_count) == (2, 1, 2)
    assert result.errors[0] == {"row": 3, "field": "id", "message": "missing id: every subject needs the client's own system id"}
    assert result.errors[1]["row"] == 4 and "invalid JSON" in result.errors[1]["message"]
    assert ticks and ticks[-1] == 4

    page = subjects.list_subjects(q, offset=1, limit=1)
    assert (page.total, page.offset, page.limit, [i["id"] for i in page.items]) == (2, 1, 1, ["C2"])
    shown = subjects.get_subject(q, "C1", actor="ana", purpose="case 17")
    assert shown is not None and shown["data"]["name"] == "Kareem Yousef Al-Fairouzi" and len(shown["alerts"]) == 1
    assert ("ana", "subject.view", "subject:C1") in audit_actions(q)
    assert subjects.get_subject(q, "nobody", actor="ana", purpose="case 17") is None
    with pytest.raises(PurposeRequired):
        subjects.get_subject(q, "C1", actor="ana", purpose="  ")

    with pytest.raises(subjects.SubjectError) as info:
        subjects.update_subject(q, "C2", {"name": " ", "birth_date": "1970"}, actor="ana")
    assert info.value.field == "name"
    # A bad date is no longer refused: the subject is updated without it, and told so.
    soon = subjects.update_subject(q, "C2", {"name": "Jane Doe", "birth_date": "soon"}, actor="ana")
    assert [(w["field"], w["value"]) for w in soon["result"]["warnings"]] == [("birth_date", "soon")]
    with pytest.raises(subjects.SubjectNotFound):
        subjects.update_subject(q, "C99", {"name": "X"}, actor="ana")
    updated = subjects.update_subject(q, "C2", {"name": "Samira Hadi al Qamari"}, actor="ana")
    assert updated["data"]["name"] == "Samira Hadi al Qamari" and updated["result"]["alerts_new"] == 1
    (alert,) = alerts_of(q, "C2")
    assert alert.trigger == "subject-changed"

    with pytest.raises(subjects.SubjectError):
        subjects.remove_subject(q, "C2", actor="ana", reason=" ")
    assert subjects.remove_subject(q, "C2", actor="ana", reason="customer left") is True
    assert subjects.remove_subject(q, "C2", actor="ana", reason="again") is False
    with q.db.session() as s:
        gone = s.execute(select(Subject).where(Subject.external_id == "C2")).scalar_one()
    assert (gone.data, gone.caption, gone.tokens) == ({}, "", "") and gone.removed_at is not None
    (closed,) = alerts_of(q, "C2")
    assert closed.status == "closed"
    (step,) = decisions(q, closed.id)
    assert (step.actor, step.reason, step.from_status, step.to_status) == ("ana", "subject removed: customer left", "open", "closed")
    assert subjects.list_subjects(q).total == 1 and subjects.list_subjects(q, include_removed=True).total == 2


def test_decisions_roles_and_audit(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA, TARIQ]), actor="admin", name=LIST)
    subjects.add_subjects(q, POPULATION, actor="loader")
    page = alerts.list_alerts(q, status="open")
    assert page.total == 3 and [a["subject"] for a in page.items] == ["C4", "C3", "C1"]  # newest first
    assert alerts.list_alerts(q, subject="C3").total == 1 and alerts.list_alerts(q, list_name="other").total == 0
    alert_id = alerts.list_alerts(q, subject="C1").items[0]["id"]

    for kwargs, kind in [
        ({"role": "auditor", "action": "confirm", "reason": "x"}, "role"),
        ({"role": "analyst", "action": "confirm", "reason": "  "}, "reason"),
        ({"role": "analyst", "action": "reopen", "reason": "x"}, "role"),
        ({"role": "supervisor", "action": "reopen", "reason": "x"}, "transition"),
    ]:
        with pytest.raises(DecisionError) as info:
            alerts.decide(q, alert_id, actor="ana", **kwargs)  # type: ignore[arg-type]
        assert info.value.kind == kind
    with pytest.raises(alerts.AlertNotFound):
        alerts.decide(q, 10**9, actor="ana", role="analyst", action="confirm", reason="x")

    for name, role in [("ana", "analyst"), ("bea", "analyst"), ("sam", "supervisor"), ("audrey", "auditor")]:
        users.create_user(q, name, role, actor="admin")
    with pytest.raises(DecisionError, match="takes no assignee"):  # escalating hands the alert to nobody
        alerts.decide(q, alert_id, actor="ana", action="escalate", reason="same birth date", assignee="ana")
    out = alerts.decide(q, alert_id, actor="ana", action="escalate", reason="same birth date")  # role from the store
    assert (out["status"], out["assignee"]) == ("escalated", None)
    with pytest.raises(DecisionError, match="may not reassign"):
        alerts.decide(q, alert_id, actor="ana", action="reassign", reason="mine", assignee="ana")
    with pytest.raises(DecisionError, match="role 'auditor', which cannot decide alerts") as info:
        alerts.decide(q, alert_id, actor="sam", action="reassign", reason="audit it", assignee="audrey")
    assert info.value.kind == "assignee"
    out = alerts.decide(q, alert_id, actor="sam", action="reassign", reason="her case", assignee="bea")
    assert out["assignee"] == "bea"
    with pytest.raises(DecisionError, match="assigned to 'bea'") as info:  # another analyst cannot take it
        alerts.decide(q, alert_id, actor="ana", action="confirm", reason="I am sure")
    assert info.value.kind == "assigned"
    out = alerts.decide(q, alert_id, actor="sam", action="reassign", reason="back to me", assignee="sam")
    out = alerts.decide(q, alert_id, actor="sam", role="supervisor", action="false_positive", reason="different father's name")
    assert out["status"] == "false_positive"
    out = alerts.decide(q, alert_id, actor="sam", role="supervisor", action="reopen", reason="new information")
    assert out["status"] == "open"
    assert [(d["actor"], d["action"], d["from"], d["to"], d["reason"]) for d in out["decisions"]] == [
        ("ana", "escalate", "open", "escalated", "same birth date"),
        ("sam", "reassign", "escalated", "escalated", "her case"),
        ("sam", "reassign", "escalated", "escalated", "back to me"),
        ("sam", "false_positive", "escalated", "false_positive", "different father's name"),
        ("sam", "reopen", "false_positive", "open", "new information"),
    ]
    assert alerts.list_alerts(q, assignee="sam").total == 1

    shown = alerts.get_alert(q, alert_id, actor="audrey", purpose="quarterly review")
    assert shown is not None
    assert shown["subject_record"]["id"] == "C1" and shown["entity"]["reference"] == "W.1"
    assert shown["version"]["list"] == LIST and shown["explanation"] and len(shown["decisions"]) == 5
    assert alerts.get_alert(q, 10**9, actor="audrey", purpose="review") is None
    with pytest.raises(PurposeRequired):
        alerts.get_alert(q, 1, actor="audrey", purpose="")
    actions = audit_actions(q)
    assert [a for a in actions if a[1] == "alert.decide"] == [("ana", "alert.decide", f"alert:{alert_id}")] + [("sam", "alert.decide", f"alert:{alert_id}")] * 4
    # Every refusal is on the record too: the five at the top and the four assignment refusals.
    refused = [a for a in actions if a[1] == "alert.decide.refused"]
    assert len(refused) == 9 and ("ana", "alert.decide.refused", f"alert:{alert_id}") in refused
    assert ("audrey", "alert.view", f"alert:{alert_id}") in actions
    assert audit_log.verify(q.db, q.key).ok


def _fp(q: Qalqan, external_id: str) -> Alert:
    (alert,) = [a for a in alerts_of(q, external_id) if a.status == "open"]
    alerts.decide(q, alert.id, actor="ana", role="analyst", action="false_positive", reason="not our customer's namesake")
    return alert


def test_false_positive_suppressed_until_data_changes(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA, TARIQ]), actor="admin", name=LIST)
    subjects.add_subjects(q, POPULATION, actor="loader")
    karim, tariq, samira = _fp(q, "C1"), _fp(q, "C4"), _fp(q, "C3")

    # Subject side unchanged, list unchanged: arrival of the same record does nothing.
    assert subjects.add_subjects(q, POPULATION, actor="loader").alerts_new == 0
    # v2: Karim amended (a new alias), Tariq re-issued under a new id only (same reference,
    # nothing new about him), Yusuf added.
    karim2 = [*KARIM[:3], KARIM[3] + ";Karim al Fairuzi", *KARIM[4:]]
    tariq2 = ["W3-2", *TARIQ[1:]]
    v2 = q.import_list(write_list(tmp_path / "v2.csv", [karim2, SAMIRA, tariq2, YUSUF]), actor="admin", name=LIST)
    summary = v2.rescreen
    assert (summary.added, summary.amended, summary.removed) == (1, 2, 0)
    assert summary.suppressed == 1  # Tariq: an identity-only re-issue is no change
    assert summary.alerts_new == 1  # Karim re-raised
    assert [a.status for a in alerts_of(q, "C4")] == ["false_positive"]
    first, second = alerts_of(q, "C1")
    assert (first.id, first.status) == (karim.id, "false_positive")
    assert (second.generation, second.status, second.trigger, second.version_id) == (2, "open", "data-changed", v2.version_id)
    assert [(c["side"], c["field"]) for c in second.changes] == [("entity", "names")]

    # Subject side: Samira's customer record gains a birth date; still a hit -> re-raised, citing it.
    result = subjects.update_subject(q, "C3", {"name": "Samira Hadi Al Qamari", "birth_date": "1980-02-02"}, actor="ana")
    assert result["result"]["alerts_new"] == 1
    old, new = alerts_of(q, "C3")
    assert old.id == samira.id and old.status == "false_positive"
    assert (new.generation, new.trigger, new.changes) == (2, "data-changed", [{"side": "subject", "field": "birth_date", "old": None, "new": "1980-02-02"}])
    assert tariq.status == "open"  # the object we hold is the one before the decision


def test_delisting_closes_alerts_and_relisting_reraises(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA, TARIQ]), actor="admin", name=LIST)
    subjects.add_subjects(q, POPULATION, actor="loader")
    tariq = _fp(q, "C4")  # a dismissed alert stays as decided when the entity goes
    (samira,) = alerts_of(q, "C3")
    alerts.decide(q, samira.id, actor="ana", role="analyst", action="escalate", reason="close call")
    held = q.import_list(write_list(tmp_path / "v2.csv", [KARIM]), actor="admin", name=LIST)
    assert held.status == "pending" and held.rescreen is None  # removes 2 of 3: held, closes nothing
    assert [a.status for a in alerts_of(q, "C3")] == ["escalated"]
    v2 = q.confirm_version(LIST, held.number, actor="admin", reason="two delistings announced today")  # type: ignore[arg-type]
    assert (v2.rescreen.removed, v2.rescreen.closed_delisted, v2.rescreen.candidates) == (2, 1, 0)
    (closed,) = alerts_of(q, "C3")
    assert closed.status == "closed_delisted"
    today = datetime.now(UTC).date().isoformat()  # a CSV list has no publication date: its fetch date
    last = decisions(q, closed.id)[-1]
    assert (last.actor, last.from_status, last.to_status, last.reason) == ("system", "escalated", "closed_delisted", f"delisted on {today}")
    assert [a.status for a in alerts_of(q, "C4")] == ["false_positive"] and tariq.generation == 1
    with pytest.raises(DecisionError):
        alerts.decide(q, closed.id, actor="sam", role="supervisor", action="reopen", reason="was it?")
    # Samira is listed again: a new generation, trigger "relisted".
    v3 = q.import_list(write_list(tmp_path / "v3.csv", [KARIM, SAMIRA]), actor="admin", name=LIST)
    assert v3.rescreen.alerts_new == 1
    old, new = alerts_of(q, "C3")
    assert (old.status, new.generation, new.status, new.trigger) == ("closed_delisted", 2, "open", "relisted")
    assert ("admin", "monitor.rescreen", f"version:{v3.version_id}") in audit_actions(q)


def test_worker_processes_give_the_same_alerts(q: Qalqan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from qalqan.service import lists

    monkeypatch.setattr(screening, "PARALLEL_FROM", 1)
    monkeypatch.setattr(screening, "WORK_CHUNK", 2)
    monkeypatch.setattr(screening, "RESCREEN_CHUNK", 2)
    forks: list[str] = []
    real = multiprocessing.get_context

    def spy(method: str | None = None) -> Any:
        forks.append(str(method))
        return real(method)

    monkeypatch.setattr(screening.multiprocessing, "get_context", spy)
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, TARIQ]), actor="admin", name=LIST)
    forks.clear()
    loaded = subjects.add_subjects(q, POPULATION, actor="loader", workers=2)
    assert (loaded.added, loaded.alerts_new) == (5, 2) and forks == ["fork"]
    v2 = lists.import_list(q, write_list(tmp_path / "v2.csv", [KARIM, TARIQ, SAMIRA]), actor="admin", name=LIST)
    assert v2.version_id is not None
    summary = rescreen.on_new_version(q, v2.version_id, actor="admin", workers=2)
    # The re-screen's workers read their subjects from the store themselves.
    assert (summary.added, summary.candidates, summary.alerts_new) == (1, 2, 1) and forks == ["fork", "fork"]
    assert [a.entity_key for a in alerts_of(q, "C3")] == ["W.2"]


def test_pipelined_batches_with_an_id_in_two_batches(q: Qalqan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screening, "PARALLEL_FROM", 1)
    monkeypatch.setattr(subjects, "SUBJECT_BATCH", 2)
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, TARIQ]), actor="admin", name=LIST)
    people = [
        {"id": "P1", "name": "Jane Doe"},
        {"id": "P2", "name": "John Roe"},
        {"id": "P3", "name": "Tariq Nabil Haddad"},
        {"id": "P1", "name": "Kareem Yousef Al-Fairouzi"},  # P1 again, while batch 1 may be in flight
        {"id": "P4", "name": ""},
    ]
    ticks: list[int] = []
    result = subjects.add_subjects(q, people, actor="loader", workers=2, progress=ticks.append)
    assert (result.added, result.updated, result.error_count, result.alerts_new) == (3, 1, 1, 2)
    assert [a.entity_key for a in alerts_of(q, "P1")] == ["W.1"] and [a.entity_key for a in alerts_of(q, "P3")] == ["W.3"]
    assert ticks == sorted(ticks) and ticks[-1] == 5


def test_screening_stays_in_process_in_a_threaded_server() -> None:
    import threading

    assert screening.auto_workers(3) == 3
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert screening.auto_workers(None) == 1
    finally:
        stop.set()
        worker.join()
