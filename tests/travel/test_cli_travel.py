"""`qalqan travel ingest / watch / documents / messages / hold / retention` on a store of the
test's own (QALQAN_DATA): messages taken in and quarantined, the inbox emptied, the document
list imported and refused, a hold placed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qalqan.cli import app
from tests.travel.support import pax, paxlst


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QALQAN_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("QALQAN_DATABASE_URL", raising=False)
    return tmp_path


@pytest.mark.shared
def test_ingest_watch_documents_hold(env: Path, shared: Path) -> None:
    runner = CliRunner()
    docs = env / "lost.csv"
    docs.write_text("number,issuing country,type,reported\nN-77,KAZ,passport,2026-12-01\n", encoding="utf-8")
    r = runner.invoke(app, ["travel", "documents", str(docs)])
    assert r.exit_code == 0 and "version 1 of travel-documents" in r.output, r.output
    broken = env / "broken.csv"
    broken.write_text("number\n\n ,x\n", encoding="utf-8")
    r = runner.invoke(app, ["travel", "documents", str(broken)])
    assert r.exit_code == 2 and "row" in r.output and "previous version stays live" in r.output

    message = env / "kc123.edi"
    message.write_bytes(paxlst(pax("NURLANOV", "ASKAR", document="N77")))
    r = runner.invoke(app, ["travel", "ingest", str(message), "--json"])
    assert r.exit_code == 0, r.output
    [stored] = json.loads(r.stdout)
    assert stored["status"] == "stored" and len(stored["alerts"]) == 1  # the lost passport

    inbox = env / "inbox"
    inbox.mkdir()
    (inbox / "a.edi").write_bytes((shared / "messages" / "pnrgov" / "loader__pnr1.txt").read_bytes())
    (inbox / "b.edi").write_bytes((shared / "messages" / "pnrgov" / "parsers__pnrBadFormat.txt").read_bytes())
    (inbox / ".partial").write_bytes(b"UNA")
    r = runner.invoke(app, ["travel", "watch", str(inbox), "--once", "--settle", "0"])
    assert r.exit_code == 0, r.output
    assert "stored a.edi" in r.output and "quarantined b.edi" in r.output and "segment 28: UNZ" in r.output
    assert sorted(p.name for p in inbox.iterdir()) == [".partial"]  # taken in, then removed from the inbox

    r = runner.invoke(app, ["travel", "messages", "--json"])
    listed = json.loads(r.stdout)
    assert listed["total"] == 3 and {m["status"] for m in listed["items"]} == {"stored", "quarantined"}
    r = runner.invoke(app, ["travel", "hold", str(stored["message_id"]), "--case", "CASE-1"])
    assert r.exit_code == 0 and "held for CASE-1" in r.output
    r = runner.invoke(app, ["travel", "retention", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["depersonalised_messages"] == 0  # nothing is 6 months old
