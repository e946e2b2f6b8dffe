"""The compiled index of a set of lists, kept on disk between runs of the command line.

`load_screener(specs)` hashes the list files (and the matching code, `matching.cache`), and reads
the Screener built earlier for exactly that content from the cache directory; a missing, corrupt
or stale cache is ignored (and replaced), never trusted: `matching.cache.loads` checks it. On a
miss the lists are read and compiled as always, and the result written atomically (a temporary
file in the same directory, then a rename), so a reader never sees half a file and two runs at
once never corrupt one.

The cache directory is QALQAN_CACHE_DIR, else $XDG_CACHE_HOME/qalqan, else ~/.cache/qalqan;
it is created private (0700), and a cache file is used only if it belongs to this user and
nobody else may write it.

This module imports nothing heavy at start-up (no list readers, no store): on a hit, a
command line pays for hashing the files and loading the index only.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qalqan.matching.cache import CacheError, code_version, dumps, loads
from qalqan.matching.screener import Screener
from qalqan.sources.files import file_sha256

#: Mirrors `sources.registry`'s "FORMAT:PATH" (a path that exists as written wins), to find the
#: file to hash without importing the readers. The spec as written is part of the key too.
_SPEC = re.compile(r"^(un|ofac|canada|ftm|csv):(.+)$", re.I)
SUFFIX = ".qix"


@dataclass(frozen=True, slots=True)
class ListSummary:
    """What the command line says about each list it loaded."""

    name: str
    format: str
    entities: int
    published: str | None
    warnings: int
    skipped: int
    issues: bool


@dataclass(slots=True)
class Loaded:
    screener: Screener
    lists: list[ListSummary]
    cached: bool  # read from the cache (True) or built now (False)
    path: Path | None  # the cache file, when there is one
    note: str | None = None  # why a cache file there was not used, if one was there


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("QALQAN_CACHE_DIR"):
        return Path(env["QALQAN_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "qalqan"
    return Path.home() / ".cache" / "qalqan"


def spec_path(spec: str) -> Path:
    m = _SPEC.match(spec)
    return Path(m.group(2)) if m and not Path(spec).exists() else Path(spec)


def lists_key(specs: Sequence[str]) -> str:
    """The cache key of these lists: each spec as written and its file's content hash, plus the
    code version. OSError if a file cannot be read."""
    digest = hashlib.sha256(code_version().encode())
    for spec in specs:
        digest.update(f"\0{spec}\0{file_sha256(spec_path(spec))}".encode())
    return digest.hexdigest()


def _trusted(path: Path) -> bool:
    """A cache file this user wrote and nobody else may change (nor swap: its folder likewise)."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    for item in (path, path.parent):
        st = item.stat()
        if uid is not None and st.st_uid != uid:
            return False
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return stat.S_ISREG(path.stat().st_mode)


def read_cached(path: Path, key: str) -> tuple[Screener, list[ListSummary]]:
    """The screener cached at `path` for `key`; CacheError (or OSError) if it cannot be used."""
    if not _trusted(path):
        raise CacheError(f"{path} is not private to this user")
    screener, extra = loads(path.read_bytes(), key)
    if not isinstance(extra, list) or not all(isinstance(s, ListSummary) for s in extra):
        raise CacheError("no list summary")
    return screener, extra


def write_cached(path: Path, key: str, screener: Screener, lists: list[ListSummary]) -> None:
    """Write atomically: a private temporary file beside `path`, renamed over it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(dumps(screener, key, lists))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(
    specs: Sequence[str],
    threshold: float | None = None,
    on_read: Callable[[str], None] | None = None,
    read: Callable[[str], Any] | None = None,
) -> tuple[Screener, list[ListSummary]]:
    """Read every list (ListError if one is unusable) and build one Screener over them.
    `read` reads one list by spec (default: `sources.registry.read_list`)."""
    reader = read
    if reader is None:
        from qalqan.sources.registry import read_list

        reader = read_list
    loaded = []
    for spec in specs:
        if on_read is not None:
            on_read(spec)
        loaded.append(reader(spec))
    summaries = [
        ListSummary(
            item.info.name, item.info.format, len(item.entities), item.info.published,
            len(item.report.warnings), item.report.records_skipped, bool(item.report.issues),
        )
        for item in loaded
    ]
    screener = Screener([e for item in loaded for e in item.entities], [item.info for item in loaded], threshold)
    return screener, summaries


def load_screener(
    specs: Sequence[str],
    threshold: float | None = None,
    *,
    directory: Path | None = None,
    use_cache: bool = True,
    on_read: Callable[[str], None] | None = None,
    read: Callable[[str], Any] | None = None,
) -> Loaded:
    """The Screener over `specs`: from the cache when it holds one for this content and code,
    else built (and cached). `on_read(spec)` is called before a list is read (a miss only)."""
    key: str | None = None
    path: Path | None = None
    note: str | None = None
    if use_cache:
        try:
            key = lists_key(specs)
        except OSError:
            key = None  # a file that cannot be read: the readers say why
        if key is not None:
            path = (directory or cache_dir()) / f"index-{key[:40]}{SUFFIX}"
            if path.exists():
                try:
                    screener, lists = read_cached(path, key)
                except (CacheError, OSError, ValueError) as exc:
                    note = f"ignored the cached index {path} ({exc}); rebuilding it"
                else:
                    screener.threshold = screener.config.threshold if threshold is None else threshold
                    return Loaded(screener, lists, True, path)
    screener, lists = build(specs, threshold, on_read, read)
    if path is not None and key is not None:
        try:
            write_cached(path, key, screener, lists)
        except OSError as exc:  # a read-only home, a full disk: screening goes on uncached
            note = f"could not write the index cache {path} ({exc.strerror or exc})"
            path = None
    return Loaded(screener, lists, False, path, note)
