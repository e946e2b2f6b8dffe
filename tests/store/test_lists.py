"""Versioned list imports in the store: versions, the stored diff, atomicity, the CLI (both backends)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.model import ListError
from qalqan.service import audit, lists, live, records, versions
from qalqan.service.core import Qalqan
from qalqan.sources import registry
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, EntityRecord, ListChange, ListSource, ListVersion, VersionEntity

KEY = bytes(32)
UN_2025 = "un_consolidated_2025-04-19_reserialized.xml"
UN_2026 = "un_consolidated_2026-02-27.xml"
REISSUED = {"HTi.002", "HTi.003", "HTi.004", "HTi.005", "HTi.006", "HTi.007"}
runner = CliRunner()


def shared_data() -> Path:
    """As tests/conftest.py's `shared_data` (a rootdir conftest is not importable by name)."""
    return Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))


def un(file: str) -> str:
    return str(shared_data() / "un" / file)


_READ_CACHE: dict[tuple[str, str | None], registry.LoadedList] = {}


@pytest.fixture(autouse=True)
def cached_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each real UN file is parsed once per session (the parse is not what these tests test)."""

    def read(spec: str, report: Any = None, name: str | None = None) -> registry.LoadedList:
        if (spec, name) not in _READ_CACHE:
            _READ_CACHE[(spec, name)] = registry.read_list(spec, report, name)
        return _READ_CACHE[(spec, name)]

    monkeypatch.setattr(lists, "read_list", read)


@pytest.fixture
def q(db: Database) -> Iterator[Qalqan]:
    yield Qalqan(db, audit_key=KEY)


def count(db: Database, table: Any) -> int:
    with db.session() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def snapshot(db: Database) -> dict[str, Any]:
    with db.session() as s:
        live = {n: v for n, v in s.execute(select(ListSource.name, ListSource.current_version_id))}
    return {
        "live": live,
        **{t.__tablename__: count(db, t) for t in (ListVersion, EntityRecord, VersionEntity, ListChange, AuditEntry)},
    }


def test_two_un_versions_and_their_stored_diff(q: Qalqan, db: Database) -> None:
    first = lists.import_list(q, un(UN_2025), actor="tester")
    assert first.created and first.number == 1 and first.previous_id is None
    assert first.counts == {"Organization": 193, "Person": 684}
    assert first.changes["added"] == {"Organization": 193, "Person": 684}
    second = lists.import_list(q, un(UN_2026), actor="tester")
    assert second.created and second.number == 2 and second.previous_id == first.version_id
    assert second.changes == {"added": {"Organization": 80, "Person": 50}, "removed": {"Person": 4}, "amended": {"Person": 17}}
    assert second.published and second.published.startswith("2026-02-27")
    assert live.live_versions(db) == {"un": second.version_id}

    diff = versions.get_diff(db, "un")
    assert diff["totals"] == {"added": 130, "removed": 4, "amended": 17} and diff["total"] == 151
    assert diff["version"]["number"] == 2 and diff["previous"]["number"] == 1
    amended = versions.get_diff(db, "un", 2, change="amended", limit=1000)["lines"]
    reissued = {x["key"]: x for x in amended if any(f["field"] == "id" for f in x["fields"])}
    assert set(reissued) == REISSUED
    ids = next(f for f in reissued["HTi.002"]["fields"] if f["field"] == "id")
    assert ids["old"] != ids["new"] and ids["new"].startswith("un-")
    removed = versions.get_diff(db, "un", change="removed")["lines"]
    assert {x["key"] for x in removed} == {"IQi.074", "QDi.317", "QDi.328", "QDi.336"}
    # Paging: two pages together are the first page of twice the size.
    assert versions.get_diff(db, "un", limit=10)["lines"] + versions.get_diff(db, "un", offset=10, limit=10)["lines"] == versions.get_diff(db, "un", limit=20)["lines"]
    assert versions.get_diff(db, "un", 1)["totals"] == {"added": 877, "removed": 0, "amended": 0}

    changed, gone = versions.changed_entities(db, second.version_id)  # type: ignore[arg-type]
    assert sum(c.change == "added" for c in changed) == 130 and sum(c.change == "amended" for c in changed) == 17
    hti = next(c for c in changed if c.key == "HTi.002")
    assert hti.entity.reference == "HTi.002" and any(f["field"] == "id" for f in hti.fields)
    assert {r.key for r in gone} == {"IQi.074", "QDi.317", "QDi.328", "QDi.336"}
    assert all(r.entity_id.startswith("un-") and r.caption for r in gone)

    entities, infos, live_ids = live.load_live(db)
    assert len(entities) == 1003 and live_ids == {"un": second.version_id}
    assert infos[0].name == "un" and infos[0].counts == {"Organization": 273, "Person": 730} and infos[0].sha256 == second.sha256
    assert infos[0].published == second.published and infos[0].loaded_at

    # Unchanged entities share their record with the version before: 877 + 130 added + 17 amended.
    assert count(db, EntityRecord) == 877 + 130 + 17
    assert [v["number"] for v in versions.versions(db, "un")] == [2, 1] and versions.versions(db, "un")[0]["live"]
    summary = versions.lists(db)
    assert summary[0]["name"] == "un" and summary[0]["versions"] == 2 and summary[0]["live"]["number"] == 2
    report = audit.verify(db, KEY)
    assert report.ok and report.checked == 2
    with db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.seq == 2)).scalar_one()
    assert entry.action == "list.import" and entry.target == "list:un" and entry.actor == "tester"
    assert orjson.loads(entry.detail)["changes"]["added"] == {"Organization": 80, "Person": 50}


def test_identical_content_creates_no_version(q: Qalqan, db: Database) -> None:
    first = lists.import_list(q, un(UN_2026), actor="a")
    before = snapshot(db)
    again = lists.import_list(q, un(UN_2026), actor="b")
    assert not again.created and again.version_id == first.version_id and again.number == 1
    after = snapshot(db)
    assert after["list_versions"] == before["list_versions"] and after["entity_records"] == before["entity_records"]
    assert after["audit_log"] == before["audit_log"] + 1  # the attempt is audited, as unchanged
    with db.session() as s:
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert orjson.loads(entry.detail)["unchanged"] is True and entry.actor == "b"


def test_relisted_content_reuses_its_records(q: Qalqan, db: Database) -> None:
    lists.import_list(q, un(UN_2025), actor="a")
    lists.import_list(q, un(UN_2026), actor="a")
    records = count(db, EntityRecord)
    held = lists.import_list(q, un(UN_2025), actor="a")  # e.g. a publisher's rollback
    # Older than the live version and removing 13% of it: stored with its diff, held for an admin.
    assert held.status == "pending" and {h["rule"] for h in held.held} == {"removes-too-many", "older-than-live"}
    assert len(live.load_live(db)[0]) == 1003
    back = lists.confirm_version(q, "un", 3, actor="a", reason="the UN withdrew its 2026 file")
    assert back.number == 3 and back.live
    assert back.changes == {"added": {"Person": 4}, "removed": {"Organization": 80, "Person": 50}, "amended": {"Person": 17}}
    assert count(db, EntityRecord) == records  # every content was stored before
    assert len(live.load_live(db)[0]) == 877


def test_unreadable_list_writes_nothing(q: Qalqan, db: Database, tmp_path: Path) -> None:
    lists.import_list(q, un(UN_2025), actor="a")
    before = snapshot(db)
    data = Path(un(UN_2026)).read_bytes()
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ListError):
        lists.import_list(q, f"un:{truncated}", actor="a")
    assert snapshot(db) == before


def test_id_too_long_for_the_store_is_refused_by_name(q: Qalqan, db: Database, tmp_path: Path) -> None:
    before = snapshot(db)
    long_id = "X" * 250
    path = tmp_path / "long.csv"
    path.write_text(f"id,name\nok1,Ann Example\n{long_id},Bob Example\n")
    with pytest.raises(ListError) as caught:
        lists.import_list(q, f"csv:{path}", actor="a")
    assert caught.value.field == "id" and caught.value.record and caught.value.record.startswith("long-XXX")
    assert snapshot(db) == before


@pytest.mark.parametrize("where", ["records", "changes", "audit"])
def test_failure_inside_the_transaction_leaves_the_store_unchanged(q: Qalqan, db: Database, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    lists.import_list(q, un(UN_2025), actor="a")
    before = snapshot(db)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected failure")

    real_rows = records._insert_rows
    if where == "records":
        monkeypatch.setattr(records, "_insert_records", boom)
    elif where == "changes":  # after the new records and the membership rows were written

        def rows(session: Any, table: Any, items: Any, stage: str, progress: Any) -> None:
            if table is ListChange:
                raise RuntimeError("injected failure")
            real_rows(session, table, items, stage, progress)

        monkeypatch.setattr(records, "_insert_rows", rows)
    else:  # the last step, after the live pointer moved
        monkeypatch.setattr(q, "audit", boom)
    with pytest.raises(RuntimeError, match="injected"):
        lists.import_list(q, un(UN_2026), actor="a")
    assert snapshot(db) == before
    assert audit.verify(db, KEY).ok
    monkeypatch.undo()
    assert lists.import_list(q, un(UN_2026), actor="a").number == 2  # and the store still works


def test_unknown_list_and_version(db: Database) -> None:
    with pytest.raises(versions.NotFound):
        versions.versions(db, "nope")
    with pytest.raises(versions.NotFound):
        versions.get_diff(db, "nope")
    with pytest.raises(ValueError):
        versions.get_diff(db, "nope", limit=0)


def cli_env(db: Database, tmp_path: Path) -> dict[str, str]:
    return {"QALQAN_DATABASE_URL": db.url, "QALQAN_DATA": str(tmp_path / "data"), "QALQAN_AUDIT_KEY": KEY.hex(), "COLUMNS": "250", "USER": "tester"}


def test_cli_import_versions_and_diff(db: Database, tmp_path: Path) -> None:
    env = cli_env(db, tmp_path)
    r = runner.invoke(app, ["lists", "import", un(UN_2025)], env=env)
    assert r.exit_code == 0, r.output
    assert "un version 1 is live" in r.stdout and "+877" in r.stdout
    r = runner.invoke(app, ["lists", "import", f"un:{un(UN_2026)}"], env=env)
    assert r.exit_code == 0, r.output
    assert "un version 2 is live" in r.stdout and "+130 −4 ~17" in r.stdout
    assert "added Organization 80, Person 50" in r.stdout and "removed Person 4" in r.stdout
    assert "writing entities" in r.stderr  # progress on stderr, result on stdout

    r = runner.invoke(app, ["lists", "diff", "un"], env=env)
    assert r.exit_code == 0, r.output
    assert "version 2" in r.stdout and "against version 1" in r.stdout
    table = r.stdout.split("Entities")[0]
    for row in (("added", "Organization", "80"), ("added", "Person", "50"), ("removed", "Person", "4"), ("amended", "Person", "17")):
        assert any(all(cell in line for cell in row) for line in table.splitlines()), row
    assert "HTi.002" in r.stdout and "id: un-" in r.stdout  # the re-issue, with its id change

    r = runner.invoke(app, ["lists", "diff", "un", "--json"], env=env)
    assert r.exit_code == 0, r.output
    got = orjson.loads(r.stdout)
    assert got["totals"] == {"added": 130, "removed": 4, "amended": 17} and len(got["lines"]) == 151
    r = runner.invoke(app, ["lists", "diff", "un", "--version", "1", "--json", "--change", "added", "--limit", "5"], env=env)
    assert r.exit_code == 0, r.output
    assert len(orjson.loads(r.stdout)["lines"]) == 5

    r = runner.invoke(app, ["lists", "versions", "un"], env=env)
    assert r.exit_code == 0, r.output
    assert "2026-02-27" in r.stdout and "2025-04-19" in r.stdout and "cli:tester" in r.stdout

    r = runner.invoke(app, ["lists", "import", un(UN_2026), "--actor", "ops"], env=env)
    assert r.exit_code == 0 and "unchanged" in r.stdout
    assert runner.invoke(app, ["lists", "diff", "nope"], env=env).exit_code == 2
    bad = tmp_path / "bad.xml"
    bad.write_text("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>")
    r = runner.invoke(app, ["lists", "import", f"un:{bad}"], env=env)
    assert r.exit_code == 2 and "bad.xml" in r.stderr
    assert live.live_versions(db) == {"un": versions.get_version(db, "un", 2)["id"]}
