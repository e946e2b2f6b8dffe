"""The compiled-index cache: a hit gives the same screener without reading the list; a change of
list content or of matching code misses; a corrupt, tampered or foreign file is ignored and
rebuilt, never trusted."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from qalqan.matching import cache
from qalqan.model import Query
from qalqan.service import index_cache
from qalqan.service.index_cache import load_screener

HEADER = "id,schema,name,aliases,birth_date,nationality,gender,document_number,document_type,country,program,listed_on,reference\n"
ROWS = [
    "T001,Person,Borislav Quennerstedt,Boris Kvennerstedt,1971-05-02,Kazakhstan,male,,,,TEST,2024-01-15,T.1\n",
    "T002,Organization,Zephyrine Trading Company,,,,,,,,TEST,2024-01-15,T.2\n",
]


@pytest.fixture()
def listed(tmp_path: Path) -> Path:
    path = tmp_path / "tl.csv"
    path.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    return path


class Reads:
    """Counts list reads (a hit reads none)."""

    def __init__(self) -> None:
        self.specs: list[str] = []

    def __call__(self, spec: str) -> Any:
        from qalqan.sources.registry import read_list

        self.specs.append(spec)
        return read_list(spec)


def results(screener: Any, name: str) -> list[tuple[str, float]]:
    return [(m.entity.id, m.score) for m in screener.match(Query(names=(name,), schema="LegalEntity"))]


def only_file(folder: Path) -> Path:
    files = sorted(folder.glob(f"*{index_cache.SUFFIX}"))
    assert len(files) == 1, files
    return files[0]


def test_hit_reads_no_list_and_screens_the_same(tmp_path: Path, listed: Path) -> None:
    folder, reads = tmp_path / "cache", Reads()
    first = load_screener([f"csv:{listed}"], directory=folder, read=reads)
    assert not first.cached and reads.specs == [f"csv:{listed}"]
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and oct(only_file(folder).stat().st_mode & 0o777) == "0o600"
    second = load_screener([f"csv:{listed}"], 0.5, directory=folder, read=reads)
    assert second.cached and reads.specs == [f"csv:{listed}"]  # not read again
    assert second.lists == first.lists and second.lists[0].entities == 2
    assert second.screener.threshold == 0.5  # the caller's threshold, not the one cached with it
    for name in ("Borislav Quennerstedt", "Boris Kvennerstedt", "Zephyrine Trading"):
        assert results(second.screener, name) == results(first.screener, name) != []


def test_new_content_misses(tmp_path: Path, listed: Path) -> None:
    folder, reads = tmp_path / "cache", Reads()
    load_screener([f"csv:{listed}"], directory=folder, read=reads)
    listed.write_text(HEADER + ROWS[0] + ROWS[1].replace("Zephyrine", "Quillon"), encoding="utf-8")
    again = load_screener([f"csv:{listed}"], directory=folder, read=reads)
    assert not again.cached and len(reads.specs) == 2
    assert results(again.screener, "Quillon Trading Company") == [("tl-T002", 1.0)]
    assert results(again.screener, "Zephyrine Trading Company")[0][1] < 1.0


def test_other_code_version_misses(tmp_path: Path, listed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, reads = tmp_path / "cache", Reads()
    load_screener([f"csv:{listed}"], directory=folder, read=reads)
    old = only_file(folder)
    monkeypatch.setattr(cache, "code_version", lambda: "another-version")
    monkeypatch.setattr(index_cache, "code_version", lambda: "another-version")
    again = load_screener([f"csv:{listed}"], directory=folder, read=reads)
    assert not again.cached and len(reads.specs) == 2
    # A file of the old version, even under the new key's name, is refused by its header.
    key = index_cache.lists_key([f"csv:{listed}"])
    with pytest.raises(cache.CacheError, match="another version"):
        cache.loads(old.read_bytes(), key)


def test_code_version_follows_the_matching_sources() -> None:
    assert len(cache.code_version()) == 64 and cache.code_version() == cache.code_version()


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_file_is_ignored_and_rebuilt(tmp_path: Path, listed: Path, damage: str) -> None:
    folder, reads = tmp_path / "cache", Reads()
    load_screener([f"csv:{listed}"], directory=folder, read=reads)
    path = only_file(folder)
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "flip": data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:],
        "garbage": b"not a cache at all",
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    again = load_screener([f"csv:{listed}"], directory=folder, read=reads)
    assert not again.cached and len(reads.specs) == 2 and again.note and "ignored" in again.note
    assert results(again.screener, "Borislav Quennerstedt")
    assert load_screener([f"csv:{listed}"], directory=folder, read=reads).cached  # rewritten whole


class _Evil:
    def __reduce__(self) -> Any:
        return (os.system, ("echo pwned",))


def test_tampered_payload_with_a_valid_checksum_is_refused(tmp_path: Path, listed: Path) -> None:
    """Someone who rewrites the file and its checksum still cannot make loading call anything."""
    import hashlib
    import json

    key = "k" * 64
    payload = pickle.dumps((_Evil(), []))
    header = {"format": cache.FORMAT, "code": cache.code_version(), "key": key, "length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    data = cache.MAGIC + json.dumps(header).encode() + b"\n" + payload
    with pytest.raises(cache.CacheError, match="may not hold"):
        cache.loads(data, key)


def test_wrong_key_is_refused(tmp_path: Path, listed: Path) -> None:
    folder = tmp_path / "cache"
    loaded = load_screener([f"csv:{listed}"], directory=folder)
    data = cache.dumps(loaded.screener, "a" * 64, [])
    with pytest.raises(cache.CacheError, match="other list content"):
        cache.loads(data, "b" * 64)


def test_file_others_may_write_is_not_trusted(tmp_path: Path, listed: Path) -> None:
    folder, reads = tmp_path / "cache", Reads()
    load_screener([f"csv:{listed}"], directory=folder, read=reads)
    only_file(folder).chmod(0o666)
    again = load_screener([f"csv:{listed}"], directory=folder, read=reads)
    assert not again.cached and again.note and "not private" in again.note


def test_cache_directory_from_the_environment(tmp_path: Path) -> None:
    assert index_cache.cache_dir({"QALQAN_CACHE_DIR": str(tmp_path), "XDG_CACHE_HOME": "/x"}) == tmp_path
    assert index_cache.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "qalqan"
    assert index_cache.cache_dir({}) == Path.home() / ".cache" / "qalqan"


def test_unwritable_cache_directory_still_screens(tmp_path: Path, listed: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    loaded = load_screener([f"csv:{listed}"], directory=blocker / "cache")
    assert not loaded.cached and loaded.path is None and loaded.note and "could not write" in loaded.note
    assert results(loaded.screener, "Borislav Quennerstedt")
