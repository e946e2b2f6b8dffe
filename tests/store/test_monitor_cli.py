"""`qalqan subjects` and `qalqan alerts` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.service import users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from tests.store.test_monitor import KARIM, SAMIRA, write_list


@pytest.fixture
def env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Qalqan:
    monkeypatch.setenv("QALQAN_DATABASE_URL", db.url)
    monkeypatch.setenv("QALQAN_AUDIT_KEY", "00" * 32)
    q = Qalqan(db, audit_key=bytes(32))
    q.import_list(write_list(tmp_path / "v1.csv", [KARIM, SAMIRA]), actor="admin", name="watch")
    return q


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_subjects_and_alerts_commands(env: Qalqan, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,birth_date\nC1,Kareem Yousef Al Fairouzi,1971\nC2,Jane Doe,\n,No Id,\n", encoding="utf-8")
    code, out, err = run("subjects", "import", str(path), "--as", "loader", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["added"], summary["alerts_new"], summary["errors"][0]["row"], summary["errors"][0]["field"]) == (2, 1, 3, "id")

    code, out, _ = run("alerts", "list", "--status", "open", "--json")
    page = json.loads(out)
    assert code == 0 and page["total"] == 1 and page["items"][0]["subject"] == "C1"
    alert_id = str(page["items"][0]["id"])

    code, _, err = run("alerts", "decide", alert_id, "false_positive", "--as", "ana")
    assert code == 2 and "--reason" in err  # a decision needs a reason
    code, _, err = run("alerts", "decide", alert_id, "false_positive", "--as", "ana", "--reason", "x")
    assert code == 2 and "no active user 'ana'" in err  # a named user of the store decides
    users.create_user(env, "audrey", "auditor", actor="admin")
    users.create_user(env, "ana", "analyst", actor="admin")
    code, _, err = run("alerts", "decide", alert_id, "false_positive", "--as", "audrey", "--reason", "x")
    assert code == 2 and "may not" in err  # in the role the store gives her
    code, _, err = run("alerts", "decide", alert_id, "false_positive", "--as", "ana", "--role", "admin", "--reason", "x")
    assert code == 2 and "--role" in err  # no such option: the role is not the caller's to state
    code, out, err = run("alerts", "decide", alert_id, "false_positive", "--as", "ana", "--reason", "born 1985")
    assert code == 0, err
    assert "false_positive" in out

    code, out, _ = run("alerts", "show", alert_id, "--purpose", "review", "--as", "audrey", "--json")
    shown = json.loads(out)
    assert code == 0 and [d["reason"] for d in shown["decisions"]] == ["born 1985"] and shown["explanation"]
    code, _, err = run("alerts", "show", "999999", "--purpose", "review")
    assert code == 1 and "no alert" in err
    code, _, err = run("alerts", "show", alert_id)
    assert code == 2 and "purpose" in err

    code, _, err = run("subjects", "show", "C1", "--json")
    assert code == 2 and "purpose" in err
    code, out, _ = run("subjects", "show", "C1", "--purpose", "review", "--json")
    assert code == 0 and json.loads(out)["alerts"][0]["status"] == "false_positive"
    code, out, _ = run("subjects", "remove", "C2", "--reason", "account closed")
    assert code == 0 and "removed" in out
    code, _, err = run("subjects", "remove", "C2", "--reason", "again")
    assert code == 1 and "no (active) subject" in err
