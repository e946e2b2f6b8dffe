"""`serve`'s list resolution order, without a server or the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from qalqan.cli import UN_FILE, demo_list_path, resolve_serve_lists
from qalqan.model import ListError


class RecordingFetcher:
    def __init__(self, writes: bool):
        self.writes, self.calls = writes, []  # type: ignore[var-annotated]

    def __call__(self, url: str, dest: Path, timeout: float) -> Path:
        self.calls.append((url, dest, timeout))
        if self.writes:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text("<CONSOLIDATED_LIST/>")
        return dest


def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/consolidated.xml"


def test_explicit_lists_and_file_win(tmp_path: Path) -> None:
    fetcher = RecordingFetcher(True)
    env = {"QALQAN_UN_XML": str(tmp_path / "env.xml"), "QALQAN_DATA": str(tmp_path)}
    got = resolve_serve_lists(["ofac:x.xml"], tmp_path / "un.xml", env=env, fetcher=fetcher)
    assert got.origin == "explicit" and got.specs == ["ofac:x.xml", f"un:{tmp_path / 'un.xml'}"]
    assert fetcher.calls == []


def test_env_file_before_data_dir(tmp_path: Path) -> None:
    env_file = tmp_path / "env.xml"
    env_file.write_text("x")
    (tmp_path / UN_FILE).parent.mkdir(parents=True)
    (tmp_path / UN_FILE).write_text("x")
    fetcher = RecordingFetcher(True)
    got = resolve_serve_lists(env={"QALQAN_UN_XML": str(env_file), "QALQAN_DATA": str(tmp_path)}, fetcher=fetcher)
    assert got.origin == "env" and got.specs == [f"un:{env_file}"] and fetcher.calls == []


def test_env_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="QALQAN_UN_XML"):
        resolve_serve_lists(env={"QALQAN_UN_XML": str(tmp_path / "missing.xml")}, fetcher=RecordingFetcher(True))


def test_previously_fetched_file_before_fetching(tmp_path: Path) -> None:
    local = tmp_path / UN_FILE
    local.parent.mkdir(parents=True)
    local.write_text("x")
    fetcher = RecordingFetcher(True)
    got = resolve_serve_lists(env={"QALQAN_DATA": str(tmp_path)}, fetcher=fetcher)
    assert got.origin == "data-dir" and got.specs == [f"un:{local}"] and fetcher.calls == []


def test_fetch_when_nothing_local(tmp_path: Path) -> None:
    fetcher = RecordingFetcher(True)
    got = resolve_serve_lists(env={"QALQAN_DATA": str(tmp_path)}, url="http://example.invalid/c.xml", fetcher=fetcher, timeout=3.0)
    assert got.origin == "fetched" and got.specs == [f"un:{tmp_path / UN_FILE}"]
    assert fetcher.calls == [("http://example.invalid/c.xml", tmp_path / UN_FILE, 3.0)]


def test_demo_when_fetch_fails(tmp_path: Path) -> None:
    # The real downloader against a closed local port: no network needed, fails at once.
    got = resolve_serve_lists(env={"QALQAN_DATA": str(tmp_path)}, url=closed_url(), timeout=2.0)
    assert got.demo and got.specs == [f"csv:{demo_list_path()}"]
    assert got.notes == [f"offline: could not fetch the UN list ({got.failure})"]  # one line
    assert got.failure is not None and got.failure.startswith("127.0.0.1:") and got.failure.endswith("Connection refused")
    assert got.fetch_attempted
    assert not (tmp_path / UN_FILE).exists()  # nothing half-downloaded left behind


def test_fallback_copy_when_fetch_fails(tmp_path: Path) -> None:
    copy = tmp_path / "un_copy.xml"
    copy.write_text("<CONSOLIDATED_LIST/>")
    url = closed_url()
    got = resolve_serve_lists(env={"QALQAN_DATA": str(tmp_path), "QALQAN_UN_FALLBACK": str(copy)}, url=url, timeout=2.0)
    assert got.origin == "fallback" and got.specs == [f"un:{copy}"] and got.fetch_attempted
    # Nothing printed yet: `prepare_store` prints one line with the copy's date once it is read.
    assert got.notes == [] and got.failure == f"{url.split('/')[2]}: Connection refused"


def test_no_download_tried_when_the_list_is_local(tmp_path: Path) -> None:
    env_file = tmp_path / "env.xml"
    env_file.write_text("x")
    assert not resolve_serve_lists(env={"QALQAN_UN_XML": str(env_file)}, fetcher=RecordingFetcher(True)).fetch_attempted


def test_demo_list_is_bundled() -> None:
    assert demo_list_path().is_file()
    header = demo_list_path().read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,schema,name,aliases")
