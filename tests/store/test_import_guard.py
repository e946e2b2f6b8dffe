"""The import guard in the store: a version that would wipe, roll back or re-format a live list
is held as pending with its diff, closes no alert, and goes live only when an admin confirms it
(both backends; real UN data)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.service import alerts, lists, live, subjects, versions
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import Alert, AuditEntry

UN_2025 = "un_consolidated_2025-04-19_reserialized.xml"
UN_2026 = "un_consolidated_2026-02-27.xml"
runner = CliRunner()


def shared_data() -> Path:
    return Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))


def un(file: str) -> str:
    return f"un:{shared_data() / 'un' / file}"


def one_record_un(tmp_path: Path) -> str:
    """A well-formed UN file holding only the first INDIVIDUAL of the 2026 list."""
    from lxml import etree

    tree = etree.parse(str(shared_data() / "un" / UN_2026), etree.XMLParser(resolve_entities=False, no_network=True))
    root = tree.getroot()
    individuals = root.find("INDIVIDUALS")
    for child in list(individuals)[1:]:
        individuals.remove(child)
    entities = root.find("ENTITIES")
    for child in list(entities):
        entities.remove(child)
    path = tmp_path / "one.xml"
    tree.write(str(path), xml_declaration=True, encoding="utf-8")
    return f"un:{path}"


@pytest.fixture
def q(db: Database) -> Iterator[Qalqan]:
    yield Qalqan(db, audit_key=bytes(32))


POPULATION = [
    {"id": "P1", "name": "Ayman al-Zawahiri", "birth_date": "1951-06-19"},
    {"id": "P2", "name": "Abu Bakr al-Baghdadi", "birth_date": "1971"},
]


def open_alerts(q: Qalqan) -> list[Alert]:
    with q.db.session() as s:
        return list(s.execute(select(Alert).where(Alert.status.in_(["open", "escalated"])).order_by(Alert.id)).scalars())


def audit(q: Qalqan, action: str) -> list[dict[str, object]]:
    with q.db.session() as s:
        return [orjson.loads(e.detail) | {"actor": e.actor} for e in s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars()]


@pytest.mark.shared
def test_a_one_record_file_is_held_and_closes_nothing_until_confirmed(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(un(UN_2026), actor="admin")
    subjects.add_subjects(q, POPULATION, actor="loader")
    before = open_alerts(q)
    assert before, "the population must raise alerts for this test to mean anything"
    alerts.decide(q, before[0].id, actor="ana", role="analyst", action="escalate", reason="looks right")

    held = q.import_list(one_record_un(tmp_path), actor="admin")
    assert held.created and held.status == "pending" and not held.live and held.rescreen is None
    assert [h["rule"] for h in held.held] == ["removes-too-many"]
    assert "removes 1,002 of 1,003 live entities" in held.held[0]["detail"]
    # The live version is untouched and every open or escalated alert stands.
    assert len(live.load_live(q.db)[0]) == 1003 and q.screener.index.size == 1003
    assert [(a.id, a.status) for a in open_alerts(q)] == [(a.id, "escalated" if a.id == before[0].id else a.status) for a in before]
    # ... and its diff can be reviewed before anyone decides.
    version = versions.get_version(q.db, "un", held.number)
    assert version["status"] == "pending" and not version["live"] and version["held"] == held.held
    assert versions.get_diff(q.db, "un", held.number)["totals"]["removed"] == 1002
    assert audit(q, "list.import")[-1]["status"] == "pending"

    confirmed = q.confirm_version("un", held.number, actor="boss", reason="the UN really did delist them")  # type: ignore[arg-type]
    assert confirmed.live and confirmed.rescreen.closed_delisted == len(before)
    assert open_alerts(q) == [] and len(live.load_live(q.db)[0]) == 1
    assert audit(q, "list.confirm")[-1]["actor"] == "boss"
    assert versions.get_version(q.db, "un", held.number)["decided_by"] == "boss"


@pytest.mark.shared
def test_an_older_file_is_held(q: Qalqan) -> None:
    q.import_list(un(UN_2026), actor="admin")
    subjects.add_subjects(q, POPULATION, actor="loader")
    count = len(open_alerts(q))
    back = q.import_list(un(UN_2025), actor="admin")
    assert back.status == "pending" and "older-than-live" in {h["rule"] for h in back.held}
    assert len(open_alerts(q)) == count
    assert live.live_versions(q.db) == {"un": back.previous_id}


@pytest.mark.shared
def test_a_csv_under_the_un_name_is_held(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(un(UN_2026), actor="admin")
    path = tmp_path / "un.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["id", "name"], ["X1", "Somebody Else"]])
    held = q.import_list(f"csv:{path}", actor="admin", name="un")
    assert held.status == "pending" and {h["rule"] for h in held.held} == {"format-changed", "removes-too-many"}
    with q.db.session() as s:
        from qalqan.store.tables import ListSource

        assert s.get(ListSource, "un").format == "un"  # type: ignore[union-attr]


@pytest.mark.shared
def test_force_needs_a_reason_and_is_audited(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(un(UN_2026), actor="admin")
    with pytest.raises(ValueError, match="reason"):
        q.import_list(one_record_un(tmp_path), actor="admin", force=True)
    forced = q.import_list(one_record_un(tmp_path), actor="admin", force=True, reason="test list on purpose")
    assert forced.live and forced.forced and forced.rescreen is not None
    entry = audit(q, "list.import")[-1]
    assert entry["forced"] is True and entry["reason"] == "test list on purpose"


@pytest.mark.shared
def test_reject_and_the_states_a_decision_needs(q: Qalqan, tmp_path: Path) -> None:
    q.import_list(un(UN_2025), actor="admin")
    q.import_list(un(UN_2026), actor="admin")
    held = q.import_list(one_record_un(tmp_path), actor="admin")
    lists.reject_version(q, "un", held.number, actor="boss", reason="a truncated export")  # type: ignore[arg-type]
    assert versions.get_version(q.db, "un", held.number)["status"] == "rejected"
    with pytest.raises(lists.VersionStateError, match="rejected, not pending"):
        q.confirm_version("un", held.number, actor="boss", reason="changed my mind")  # type: ignore[arg-type]
    with pytest.raises(lists.VersionStateError, match="not pending"):
        q.confirm_version("un", 2, actor="boss", reason="already live")
    with pytest.raises(versions.NotFound):
        q.confirm_version("un", 99, actor="boss", reason="no such version")
    # A version held against a live version that has since been replaced cannot be confirmed:
    # its diff (and so the alerts it would close) was computed against the old one.
    again = q.import_list(one_record_un(tmp_path), actor="admin")
    q.import_list(un(UN_2025), actor="admin", force=True, reason="roll back on purpose")
    assert versions.get_version(q.db, "un", again.number)["status"] == "rejected"  # superseded  # type: ignore[arg-type]
    assert "superseded" in (versions.get_version(q.db, "un", again.number)["decision_reason"] or "")  # type: ignore[arg-type]


@pytest.mark.shared
def test_the_share_comes_from_the_environment(q: Qalqan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    q.import_list(un(UN_2026), actor="admin")
    monkeypatch.setenv("QALQAN_MAX_REMOVED_SHARE", "1")
    assert q.import_list(one_record_un(tmp_path), actor="admin").live


@pytest.mark.shared
def test_cli_holds_confirms_and_rejects(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QALQAN_DATABASE_URL", db.url)
    monkeypatch.setenv("QALQAN_AUDIT_KEY", "00" * 32)
    assert runner.invoke(app, ["lists", "import", un(UN_2026), "--actor", "ops"]).exit_code == 0
    held = runner.invoke(app, ["lists", "import", one_record_un(tmp_path), "--actor", "ops"])
    assert held.exit_code == 3, held.output
    assert "is held, not live" in held.output and "qalqan lists confirm un 2" in held.output
    listing = runner.invoke(app, ["lists", "versions", "un", "--json"])
    assert [v["status"] for v in orjson.loads(listing.output)] == ["pending", "accepted"]
    assert runner.invoke(app, ["lists", "confirm", "un", "2", "--actor", "boss"]).exit_code != 0  # no reason
    done = runner.invoke(app, ["lists", "confirm", "un", "2", "--reason", "delisted", "--actor", "boss"])
    assert done.exit_code == 0 and "version 2 is live" in done.output
    assert runner.invoke(app, ["lists", "reject", "un", "2", "--reason", "x", "--actor", "boss"]).exit_code == 2
