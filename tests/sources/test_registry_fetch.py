from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qalqan.model import ListError
from qalqan.sources.fetch import UN_URL, fetch
from qalqan.sources.registry import LoadedList, detect_format, read_list


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("un_small.xml", "un"), ("ofac_small.xml", "ofac"), ("canada_small.xml", "canada"),
     ("ftm_small.jsonl", "ftm"), ("national_small.csv", "csv")],
)
def test_detect_format_ignores_extension(fixtures: Path, tmp_path: Path, name: str, fmt: str) -> None:
    disguised = tmp_path / "list.dat"
    shutil.copy(fixtures / name, disguised)
    assert detect_format(disguised) == fmt


def test_detect_unknown(tmp_path: Path) -> None:
    other = tmp_path / "x.xml"
    other.write_text("<rss><channel/></rss>")
    with pytest.raises(ListError, match="root element <rss>"):
        detect_format(other)
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\n")
    with pytest.raises(ListError, match="unknown list format"):
        detect_format(text)


def test_forced_format_and_info(fixtures: Path) -> None:
    path = fixtures / "un_small.xml"
    loaded = read_list(f"un:{path}")
    assert isinstance(loaded, LoadedList)
    info = loaded.info
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.loaded_at and info.loaded_at.endswith("+00:00")
    assert info.warnings == len(loaded.report.warnings) > 0
    assert info.skipped == 1
    assert info.as_dict()["total"] == len(loaded.entities) == 3


def test_missing_file() -> None:
    with pytest.raises(ListError, match="no such file"):
        read_list("/nonexistent/list.xml")


def test_caller_report_is_filled(fixtures: Path) -> None:
    from qalqan.model import Report

    report = Report()
    loaded = read_list(str(fixtures / "canada_small.xml"), report)
    assert loaded.report is report and report.records_read == 5


def test_ids_unique_across_real_lists(shared: Path) -> None:
    specs = [shared / "un" / "un_consolidated_2026-02-27.xml", shared / "ofac" / "ofac_consolidated_non_sdn_2025-03-28.xml",
             shared / "national" / "canada_sema_consolidated_autonomous_sanctions.xml"]
    ids = [e.id for s in specs for e in read_list(str(s)).entities]
    assert len(ids) == len(set(ids)) == 1003 + 443 + 4759


# --- fetch against a local server (no network) -------------------------------------------------


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "consolidated.xml").write_bytes(b"<CONSOLIDATED_LIST/>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_writes_atomically(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "lists" / "un.xml"
    assert fetch(f"{server}/consolidated.xml", dest, timeout=10) == dest
    assert dest.read_bytes() == b"<CONSOLIDATED_LIST/>"
    assert [p.name for p in dest.parent.iterdir()] == ["un.xml"]  # no temp file left


def test_failed_fetch_keeps_previous_file(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "lists" / "un.xml"
    dest.parent.mkdir()
    dest.write_bytes(b"previous version")
    with pytest.raises(ListError, match="HTTP 404"):
        fetch(f"{server}/missing.xml", dest, timeout=10)
    assert dest.read_bytes() == b"previous version"
    assert [p.name for p in dest.parent.iterdir()] == ["un.xml"]


def test_oversized_download_is_refused(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qalqan.sources.fetch as fetch_module

    monkeypatch.setattr(fetch_module, "MAX_BYTES", 5)
    dest = tmp_path / "lists" / "un.xml"
    dest.parent.mkdir()
    dest.write_bytes(b"previous version")
    with pytest.raises(ListError, match="larger than 5 bytes"):
        fetch(f"{server}/consolidated.xml", dest, timeout=10)
    assert dest.read_bytes() == b"previous version"
    assert [p.name for p in dest.parent.iterdir()] == ["un.xml"]


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="download failed"):
        fetch("http://127.0.0.1:9/x.xml", tmp_path / "x.xml", timeout=2)


def test_un_url() -> None:
    assert UN_URL == "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
