"""Downloading a list: to a temporary file next to the target, then an atomic rename.

A download that fails half-way never replaces the list already on disk.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from qalqan.model import ListError

UN_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
#: Seconds to wait for the server at each step (connect, each read). The UN list is ~2 MB.
DEFAULT_TIMEOUT = 60.0
#: Largest download accepted. Published lists are a few MB (OFAC SDN advanced ~100 MB); more
#: than this is not a sanctions list and would only fill the disk.
MAX_BYTES = 512 * 1024 * 1024
CHUNK_BYTES = 1 << 16


#: Called as the body arrives: (bytes so far, expected total or 0 when the server does not say).
DownloadProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Download:
    """What a conditional download found: `modified` False means HTTP 304 (nothing written)."""

    modified: bool
    etag: str | None = None
    last_modified: str | None = None


def download(
    url: str,
    dest: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
    progress: DownloadProgress | None = None,
) -> Download:
    """Download `url` to `dest` atomically, asking only for a newer copy than `etag` /
    `last_modified` (If-None-Match / If-Modified-Since). On 304 `dest` is not touched. Raises
    ListError on any failure; `dest` is then never half-written."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    http = client if client is not None else httpx.Client(timeout=timeout, follow_redirects=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            with http.stream("GET", url, headers=headers, timeout=timeout) as resp:
                if resp.status_code == 304 and headers:
                    return Download(False, etag, last_modified)
                if resp.status_code != 200:
                    raise ListError(url, f"download failed: HTTP {resp.status_code}")
                declared = resp.headers.get("Content-Length", "")
                expected = int(declared) if declared.isdigit() else 0
                size = 0
                for chunk in resp.iter_bytes(CHUNK_BYTES):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise ListError(url, f"download larger than {MAX_BYTES} bytes; refused")
                    out.write(chunk)
                    if progress is not None:
                        progress(size, max(expected, size))
                found = Download(True, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ListError(url, "download is empty")
        os.replace(tmp, dest)
        return found
    except httpx.HTTPError as exc:
        raise ListError(url, f"download failed: {type(exc).__name__}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
        if client is None:
            http.close()


def fetch(url: str, dest: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Download `url` to `dest` atomically (unconditionally); returns `dest`. Raises ListError on
    any failure."""
    download(url, dest, timeout=timeout)
    return Path(dest)
