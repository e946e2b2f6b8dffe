"""The `qalqan` command through Typer's CliRunner, with the list registry stood in."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from qalqan import cli
from qalqan.cli import app

from .conftest import FakeRegistry

runner = CliRunner()


def lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in text.splitlines() if x.strip()]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_screen_csv_to_stdout(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,name,birth_date,nationality\na1,Borislav Quennerstedt,1971-05-02,Kazakhstan\na2,Nobody Unlisted Here,,\na3,,1960,\n")
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "--list", "csv:ol.csv", "--no-progress"])
    assert r.exit_code == cli.EXIT_ROWS_FAILED == 2, r.output  # a row could not be screened
    out = lines(r.stdout)
    assert [x["id"] for x in out] == ["a1", "a2", "a3"]
    assert out[0]["matches"][0]["entity_id"] == "tl-1" and out[0]["matches"][0]["list"] == "tl"
    assert out[1]["matches"] == []
    assert out[2]["field"] == "name" and "a3" in out[2]["error"]  # only a row without a name is refused
    assert fake_registry.calls == ["tl.csv", "csv:ol.csv"]
    assert "3 records" in r.stderr and "1 with a match" in r.stderr and "1 could not be screened" in r.stderr
    assert "1 of 3 rows could not be screened" in r.stderr and isinstance(r.exception, SystemExit)


def test_screen_jsonl_to_file(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "name": "Gunnvald Treadwick"}) + "\n" + json.dumps({"name": "Ottoline Vasquez-Marrow", "gender": "f"}) + "\n")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["screen", str(src), "--list", "ol.csv", "--list", "tl.csv", "--output", str(out), "--top", "1", "--workers", "1"])
    assert r.exit_code == 0, r.output
    got = lines(out.read_text())
    assert [x["id"] for x in got] == [1, 2]
    assert got[0]["matches"][0]["entity_id"] == "ol-1" and got[1]["matches"][0]["entity_id"] == "tl-2"
    assert r.stdout == ""


def test_screen_bad_column_names_it(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name,passport\nA B,X1\n")
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv"])
    assert r.exit_code == 2
    assert "passport" in r.stderr and "allowed columns" in r.stderr
    assert r.stdout == "" and fake_registry.calls == []  # failed before reading any list
    assert isinstance(r.exception, SystemExit)  # a message, not a traceback


def test_screen_list_error_exits_2(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name\nA B\n")
    r = runner.invoke(app, ["screen", str(src), "--list", "un:broken.xml"])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert "broken.xml" in r.stderr and "truncated" in r.stderr and "Traceback" not in r.output


def test_screen_real_reader_list_error_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>")
    src = tmp_path / "in.csv"
    src.write_text("name\nA B\n")
    r = runner.invoke(app, ["screen", str(src), "--list", f"un:{bad}"])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
    assert "bad.xml" in r.stderr


def test_lists_show(fake_registry: FakeRegistry) -> None:
    r = runner.invoke(app, ["lists", "show", "--list", "tl.csv"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "tl" in r.stdout and "2026-02-27" in r.stdout and "Person 2" in r.stdout
    assert "DATE_OF_BIRTH" in r.stdout and "19xx" in r.stdout  # the warning, naming record and field
    assert runner.invoke(app, ["lists", "show", "--list", "broken.xml"]).exit_code == 2


def test_lists_fetch_failure_leaves_no_file(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/consolidated.xml"
    r = runner.invoke(app, ["lists", "fetch", "un", "--dest", str(tmp_path), "--url", url, "--timeout", "2"])
    assert r.exit_code != 0 and "127.0.0.1" in r.stderr
    assert list(tmp_path.iterdir()) == []
    assert runner.invoke(app, ["lists", "fetch", "nowhere"]).exit_code == 2


def test_lists_fetch_keeps_a_good_download(tmp_path: Path, fake_registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_fetch(url: str, dest: Path, timeout: float) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("<CONSOLIDATED_LIST/>")
        return dest

    monkeypatch.setattr(cli, "_default_fetch", fake_fetch)
    r = runner.invoke(app, ["lists", "fetch", "un", "--dest", str(tmp_path / "un"), "--url", "http://example.invalid/x.xml"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "un" / "consolidated.xml").read_text() == "<CONSOLIDATED_LIST/>"
    assert [p.name for p in (tmp_path / "un").iterdir()] == ["consolidated.xml"]


def _serve_env(tmp_path: Path) -> dict[str, str]:
    """A store of its own in tmp_path (SQLite), no UN file anywhere, no fallback copy."""
    return {"QALQAN_DATA": str(tmp_path), "QALQAN_UN_XML": "", "QALQAN_UN_FALLBACK": "", "QALQAN_DATABASE_URL": "", "QALQAN_AUDIT_KEY": "", "COLUMNS": "300"}


def test_serve_on_demo_list_says_so_and_watches_the_demo_population(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}

    def run_server(app_: Any, host: str, port: int, on_ready: Any) -> None:
        started.update(app=app_, host=host, port=port)
        on_ready()

    monkeypatch.setattr(cli, "_run_server", run_server)
    monkeypatch.setattr(cli, "_un_url", lambda: f"http://127.0.0.1:{closed_port()}/consolidated.xml")
    monkeypatch.setattr(cli, "SERVE_FETCH_TIMEOUT", 2.0)
    r = runner.invoke(app, ["serve", "--port", "8765", "--demo-population"], env=_serve_env(tmp_path))
    assert r.exit_code == 0, r.output
    assert "DEMO LIST OF FICTIONAL NAMES — NOT FOR SCREENING" in r.stderr
    # The bootstrap key goes to a file only its owner may read, never to the (logged) terminal.
    key_file = tmp_path / "admin-bootstrap.key"
    assert f"Admin API key written to {key_file} (readable by you only)" in r.stderr
    assert key_file.read_text().startswith("qk_") and (key_file.stat().st_mode & 0o777) == 0o600
    assert "qk_" not in r.stderr
    assert "curl -s -H" in r.stderr and "http://127.0.0.1:8765/alerts?status=open" in r.stderr
    assert started["host"] == "127.0.0.1" and started["port"] == 8765
    assert (tmp_path / "qalqan.db").is_file()

    from qalqan.service import alerts, subjects
    from qalqan.service.core import Qalqan

    service = Qalqan.open(f"sqlite:///{tmp_path / 'qalqan.db'}", audit_key=bytes.fromhex((tmp_path / "audit.key").read_text()))
    assert service.live_versions().keys() == {"demo"}
    assert subjects.list_subjects(service, offset=0, limit=1).total == 256
    alerts = alerts.list_alerts(service, status="open", limit=50).items
    # The two people of the demo population spelled like fictional demo-list entries.
    assert sorted(a["entity_caption"] for a in alerts) == ["Karim Yusuf al-Fayruzi", "Samira Hadi al-Qamari"]

    # A second start finds the store ready: no new version, no second population, no new admin key.
    r = runner.invoke(app, ["serve", "--port", "8765", "--demo-population"], env=_serve_env(tmp_path))
    assert r.exit_code == 0, r.output
    assert "Admin API key" not in r.stderr
    assert subjects.list_subjects(service, offset=0, limit=1).total == 256


def test_serve_list_error_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_run_server", lambda *a, **k: pytest.fail("must not start"))
    broken = tmp_path / "broken.xml"
    broken.write_text("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>", encoding="utf-8")
    r = runner.invoke(app, ["serve", "--list", f"un:{broken}"], env=_serve_env(tmp_path))
    assert r.exit_code == 2 and "broken.xml" in r.stderr
    r = runner.invoke(app, ["serve"], env={**_serve_env(tmp_path), "QALQAN_UN_XML": "/nonexistent/un.xml"})
    assert r.exit_code == 2 and "QALQAN_UN_XML" in r.stderr