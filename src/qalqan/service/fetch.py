"""Fetching lists: downloads with ETag / If-Modified-Since into the data directory, and a
schedule that fetches every so often.

A download is handed to an `Importer` (in the service, `Qalqan.import_list`: import, then
re-screen the population), so this module knows nothing of what an import sets off.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit
from typing import Any, Protocol

import httpx

from qalqan.model import ListError
from qalqan.service.context import Context
from qalqan.service.lists import ImportResult
from qalqan.service.records import Progress, report
from qalqan.sources.fetch import UN_URL, download
from qalqan.store.db import data_dir, private_dir
from qalqan.store.tables import ListSource

log = logging.getLogger(__name__)

#: Where each list is downloaded from when neither `--url` nor a stored URL says otherwise.
DEFAULT_URLS = {"un": UN_URL}
#: Seconds to wait for a list server at each step (connect, each read); the UN list is ~2 MB.
FETCH_TIMEOUT = 120.0
#: Sub-directory of the data directory that holds downloads while they are imported.
DOWNLOAD_DIR = "downloads"
#: A download's file name taken from its URL: short, and nothing a path could misread.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class Importer(Protocol):
    def __call__(
        self, spec: str, *, actor: str, name: str | None = ..., source: str | None = ..., etag: str | None = ..., last_modified: str | None = ..., progress: Progress | None = ...
    ) -> ImportResult: ...


@dataclass(slots=True)
class FetchResult:
    status: str  # "not-modified" (HTTP 304) | "unchanged" (same bytes as live) | "imported"
    url: str
    import_result: ImportResult | None
    etag: str | None
    last_modified: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "url": self.url,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "import": self.import_result.as_dict() if self.import_result is not None else None,
        }


def download_name(url: str, name: str) -> str:
    """The file name a download is kept under: the URL path's last part when it is a plain file
    name, else the list's name."""
    base = PurePosixPath(urlsplit(url).path).name
    return base if _PLAIN_NAME.fullmatch(base) and base not in (".", "..") else f"{name}.download"


def default_url(name: str) -> str | None:
    return DEFAULT_URLS.get(name)


#: Longest fetch error kept on the list (the message names the URL and what went wrong).
MAX_FETCH_ERROR = 2000


def _touch_checked(ctx: Context, name: str, status: str, error: str | None = None) -> None:
    """Record the fetch attempt: when, and how it ended."""
    with ctx.transaction() as s:
        src = s.get(ListSource, name)
        if src is not None:
            src.checked_at = ctx.clock.now()
            src.fetch_status = status
            src.fetch_error = error[:MAX_FETCH_ERROR] if error else None


def fetch_list(
    ctx: Context,
    name: str,
    url: str | None = None,
    *,
    importer: Importer,
    actor: str,
    timeout: float = FETCH_TIMEOUT,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """Download list `name` (from `url`, else its stored URL, else its default) and import it.

    Sends If-None-Match / If-Modified-Since from the last download of the same URL: HTTP 304 ->
    "not-modified" (nothing read). HTTP 200 -> the body goes to a temporary file in the data
    directory and through `importer` (the service's import-then-re-screen); its ETag
    and Last-Modified are stored with the new version. Raises ListError on any failure; the live
    version is then untouched.
    """
    with ctx.db.session() as s:
        src = s.get(ListSource, name)
        stored = (src.url, src.etag, src.last_modified, src.format) if src is not None else (None, None, None, None)
    target = url or stored[0] or default_url(name)
    if not target:
        raise ListError(name, f"no URL known for list {name!r}: give one")
    same_url = target == stored[0]  # validators of another URL's copy mean nothing here
    fmt = stored[3] or ("un" if name == "un" else None)
    folder = private_dir(data_dir() / DOWNLOAD_DIR)
    # A folder of its own per download, holding the file under the URL's own name: a reader
    # that titles a list after its file (CSV, FtM) then names what was fetched, not a temp file.
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
    tmp = work / download_name(target, name)
    try:
        found = download(
            target, tmp, timeout=timeout, client=client,
            etag=stored[1] if same_url else None, last_modified=stored[2] if same_url else None,
            progress=(lambda done, total: report(progress, "downloading", done, total)) if progress else None,
        )
        if not found.modified:
            _touch_checked(ctx, name, "not-modified")
            return FetchResult("not-modified", target, None, stored[1], stored[2])
        spec = f"{fmt}:{tmp}" if fmt else str(tmp)
        result = importer(spec, actor=actor, name=name, source=target, etag=found.etag, last_modified=found.last_modified, progress=progress)
        outcome = FetchResult("imported" if result.created else "unchanged", target, result, found.etag, found.last_modified)
        _touch_checked(ctx, name, outcome.status)
        return outcome
    except ListError as exc:
        try:
            _touch_checked(ctx, name, "failed", str(exc))
        except Exception:  # the store itself failing must not hide the download's error
            log.exception("could not record the failed fetch of %s", name)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- schedule -------------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in "90s", "30m", "1h", "2d" (or plain seconds). Raises ValueError."""
    m = _INTERVAL.match(text)
    if not m:
        raise ValueError(f"not an interval: {text!r} (use e.g. 90s, 30m, 1h, 2d)")
    seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"interval must be positive: {text!r}")
    return seconds


OnResult = Callable[[str, "FetchResult | Exception"], None]
#: One fetch of the schedule: (list name, URL or None) -> its result.
Fetch = Callable[[str, "str | None"], FetchResult]


def run_schedule(
    fetch: Fetch,
    names: Sequence[str] | Mapping[str, str | None],
    every_seconds: float,
    stop: threading.Event,
    on_result: OnResult | None = None,
    *,
    start_after: float = 0.0,
) -> None:
    """Fetch each list after `start_after` seconds and then every `every_seconds` until `stop`
    is set.

    `names` is a list of list names or a mapping name -> URL (None: stored / default URL). An error
    (network, unreadable list, store) is logged and passed to `on_result`; it never ends the loop.
    """
    targets: Mapping[str, str | None] = names if isinstance(names, Mapping) else dict.fromkeys(names)
    if start_after > 0:
        stop.wait(start_after)
    while not stop.is_set():
        for name, url in targets.items():
            if stop.is_set():
                return
            outcome: FetchResult | Exception
            try:
                outcome = fetch(name, url)
                log.info("scheduled fetch of %s: %s", name, outcome.status)
            except Exception as exc:  # noqa: BLE001 - a schedule outlives any one failed fetch
                log.warning("scheduled fetch of %s failed: %s", name, exc)
                outcome = exc
            if on_result is not None:
                try:
                    on_result(name, outcome)
                except Exception:
                    log.exception("on_result failed for %s", name)
        stop.wait(every_seconds)


class ListScheduler(threading.Thread):
    """`run_schedule` in a daemon thread; `.stop()` ends it after the fetch in progress."""

    def __init__(self, fetch: Fetch, names: Sequence[str] | Mapping[str, str | None], every_seconds: float, on_result: OnResult | None = None, **kwargs: Any):
        super().__init__(name="qalqan-list-schedule", daemon=True)
        self._stop_event = threading.Event()
        self._args = (fetch, names, every_seconds, self._stop_event, on_result)
        self._kwargs = kwargs

    def run(self) -> None:
        run_schedule(*self._args, **self._kwargs)

    def stop(self, timeout: float | None = None) -> None:
        self._stop_event.set()
        self.join(timeout)
