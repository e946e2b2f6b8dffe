"""Downloading a list: to a temporary file next to the target, then an atomic rename.

A download that fails half-way never replaces the list already on disk.
"""

from __future__ import annotations

import os
import tempfile
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


def fetch(url: str, dest: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Download `url` to `dest` atomically; returns `dest`. Raises ListError on any failure."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as resp:
                if resp.status_code != 200:
                    raise ListError(url, f"download failed: HTTP {resp.status_code}")
                size = 0
                for chunk in resp.iter_bytes(CHUNK_BYTES):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise ListError(url, f"download larger than {MAX_BYTES} bytes; refused")
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ListError(url, "download is empty")
        os.replace(tmp, dest)
        return dest
    except httpx.HTTPError as exc:
        raise ListError(url, f"download failed: {exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
