"""Fetching lists into the store with ETag / If-Modified-Since, and the fetch schedule, against a
real local HTTP server (no network)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.model import ListError
from qalqan.service import fetch, live, versions
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import ListSource

KEY = bytes(32)
runner = CliRunner()


def shared_data() -> Path:
    """As tests/conftest.py's `shared_data` (a rootdir conftest is not importable by name)."""
    return Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))


UN_2025 = shared_data() / "un" / "un_consolidated_2025-04-19_reserialized.xml"
UN_2026 = shared_data() / "un" / "un_consolidated_2026-02-27.xml"


@dataclass
class ListServer:
    """Serves one body at /un.xml with an ETag and Last-Modified, answering 304 to a matching
    If-None-Match; records every request's headers. /flaky fails its first `failures` requests."""

    body: bytes = b""
    etag: str = '"v1"'
    last_modified: str = "Sat, 19 Apr 2025 23:00:04 GMT"
    failures: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def set(self, body: bytes, etag: str, last_modified: str | None = None) -> None:
        self.body, self.etag = body, etag
        if last_modified:
            self.last_modified = last_modified


@pytest.fixture
def server() -> Iterator[ListServer]:
    state = ListServer(body=UN_2025.read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
            if self.path == "/flaky" and state.failures > 0:
                state.failures -= 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path not in ("/un.xml", "/flaky"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == state.etag:
                self.send_response(304)
                self.send_header("ETag", state.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(state.body)))
            self.send_header("ETag", state.etag)
            self.send_header("Last-Modified", state.last_modified)
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def q(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Qalqan:
    monkeypatch.setenv("QALQAN_DATA", str(tmp_path / "data"))
    return Qalqan(db, audit_key=KEY)


def source_row(db: Database, name: str = "un") -> ListSource:
    with db.session() as s:
        row = s.get(ListSource, name)
        assert row is not None
        return row


def test_fetch_imports_then_304_then_new_version(q: Qalqan, db: Database, server: ListServer, tmp_path: Path) -> None:
    url = f"{server.url}/un.xml"
    first = q.fetch_list("un", url, actor="system")
    assert first.status == "imported" and first.import_result is not None and first.import_result.number == 1
    assert "if-none-match" not in server.requests[0]  # nothing stored yet
    row = source_row(db)
    assert (row.url, row.etag, row.last_modified) == (url, '"v1"', server.last_modified)
    assert versions.get_version(db, "un")["source"] == url

    again = q.fetch_list("un", actor="system")  # the stored URL
    assert again.status == "not-modified" and again.import_result is None
    assert server.requests[-1]["if-none-match"] == '"v1"'
    assert server.requests[-1]["if-modified-since"] == server.last_modified
    assert len(versions.versions(db, "un")) == 1 and source_row(db).checked_at is not None
    assert (source_row(db).fetch_status, source_row(db).fetch_error) == ("not-modified", None)

    server.set(UN_2026.read_bytes(), '"v2"', "Fri, 27 Feb 2026 00:00:09 GMT")
    new = q.fetch_list("un", actor="system")
    assert new.status == "imported" and new.import_result is not None and new.import_result.number == 2
    assert new.import_result.changes["added"] == {"Organization": 80, "Person": 50}
    assert source_row(db).etag == '"v2"'

    server.set(server.body, '"v3"')  # a new ETag for the same bytes: downloaded, but no version
    same = q.fetch_list("un", actor="system")
    assert same.status == "unchanged" and same.import_result is not None and not same.import_result.created
    assert len(versions.versions(db, "un")) == 2 and source_row(db).etag == '"v3"'
    assert source_row(db).fetch_status == "unchanged"
    assert list((tmp_path / "data" / fetch.DOWNLOAD_DIR).iterdir()) == []  # no download left behind


def test_failed_fetch_keeps_the_live_version(q: Qalqan, db: Database, server: ListServer, tmp_path: Path) -> None:
    q.fetch_list("un", f"{server.url}/un.xml", actor="system")
    before = live.live_versions(db)
    assert source_row(db).fetch_status == "imported"
    with pytest.raises(ListError, match="HTTP 404"):
        q.fetch_list("un", f"{server.url}/missing.xml", actor="system")
    row = source_row(db)  # the dashboard shows how the last fetch ended, and why
    assert row.fetch_status == "failed" and row.fetch_error is not None and "404" in row.fetch_error
    assert [entry["fetch_status"] for entry in versions.lists(db) if entry["name"] == "un"] == ["failed"]
    server.set(UN_2026.read_bytes()[:50_000], '"cut"')  # a truncated list: read whole or not at all
    with pytest.raises(ListError):
        q.fetch_list("un", f"{server.url}/un.xml", actor="system")
    assert live.live_versions(db) == before and len(versions.versions(db, "un")) == 1
    with pytest.raises(ListError, match="no URL"):
        q.fetch_list("other", actor="system")
    assert list((tmp_path / "data" / fetch.DOWNLOAD_DIR).iterdir()) == []


def test_schedule_survives_errors(q: Qalqan, db: Database, server: ListServer) -> None:
    server.failures = 1
    results: list[Any] = []
    stop = threading.Event()

    def on_result(name: str, outcome: Any) -> None:
        results.append((name, outcome))
        if len(results) == 3:
            stop.set()

    # A tiny interval keeps the test short; it ends on the third result, not on a clock.
    thread = threading.Thread(target=fetch.run_schedule, args=(lambda name, url: q.fetch_list(name, url, actor="system"), {"un": f"{server.url}/flaky"}, 0.01, stop, on_result))
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert isinstance(results[0][1], ListError) and "503" in str(results[0][1])
    assert results[1][1].status == "imported" and results[2][1].status == "not-modified"
    assert versions.get_version(db, "un")["number"] == 1


def test_scheduler_thread_stops() -> None:
    calls: list[str] = []
    seen = threading.Event()

    def offline(name: str, url: Any) -> Any:
        calls.append(name)
        seen.set()
        raise ConnectionError("offline")

    sched = fetch.ListScheduler(offline, ["un", "ofac"], 3600)
    sched.start()
    assert seen.wait(30)
    sched.stop(timeout=30)
    assert not sched.is_alive() and calls[:1] == ["un"]


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("45", 45), ("1.5h", 5400), (" 2H ", 7200)])
def test_parse_interval(text: str, seconds: float) -> None:
    assert fetch.parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1w", "-1h", "0m", "1 hour"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        fetch.parse_interval(text)


def test_cli_fetch_into_the_store(db: Database, server: ListServer, tmp_path: Path) -> None:
    env = {"QALQAN_DATABASE_URL": db.url, "QALQAN_DATA": str(tmp_path / "data"), "QALQAN_AUDIT_KEY": KEY.hex(), "COLUMNS": "250", "USER": "tester"}
    r = runner.invoke(app, ["lists", "fetch", "un", "--url", f"{server.url}/un.xml"], env=env)
    assert r.exit_code == 0, r.output
    assert "un version 1 is live" in r.stdout
    r = runner.invoke(app, ["lists", "fetch", "un"], env=env)
    assert r.exit_code == 0, r.output
    assert "not modified" in r.stdout and server.requests[-1]["if-none-match"] == '"v1"'
    assert versions.versions(db, "un")[0]["imported_by"] == "cli:tester"
    r = runner.invoke(app, ["lists", "fetch", "un", "--url", f"{server.url}/missing.xml"], env=env)
    assert r.exit_code == 2 and "404" in r.stderr
    assert runner.invoke(app, ["lists", "fetch", "un", "--every", "1s"], env=env).exit_code == 2  # under the minimum
    assert runner.invoke(app, ["lists", "fetch", "un", "--every", "soon"], env=env).exit_code == 2


def test_cli_fetch_unknown_list_creates_no_store(tmp_path: Path) -> None:
    r = runner.invoke(app, ["lists", "fetch", "nowhere"], env={"QALQAN_DATA": str(tmp_path / "data"), "QALQAN_DATABASE_URL": ""})
    assert r.exit_code == 2 and "nowhere" in r.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://example.org/lists/national.csv?x=1", "national.csv"),
        ("https://scsanctions.un.org/resources/xml/en/consolidated.xml", "consolidated.xml"),
        ("https://example.org/export", "export"),
        ("https://example.org/", "kz.download"),
        ("https://example.org/%2E%2E", "kz.download"),
        ("https://example.org/.hidden", "kz.download"),
    ],
)
def test_a_download_is_kept_under_the_urls_file_name(url: str, name: str) -> None:
    # Readers that title a list after its file (CSV, FtM) then name what was fetched.
    assert fetch.download_name(url, "kz") == name
