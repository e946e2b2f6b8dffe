"""Uploads for the import routes: the request body is the file (`curl --data-binary @file`),
streamed to a file in the data directory, never held in memory; `app.BodyLimit` counts it
against the upload limit as it streams. (Multipart forms would need python-multipart, a
dependency for no gain: every HTTP client can send a file as the body.)

Where uploads live, and why. Every upload goes to `<data dir>/uploads/`, in a folder of the
process that received it (`<pid>-<random>/`, holding a lock file locked while the process
lives), and within that in a folder of its own, under the name the client gave (`X-Filename`,
made safe) or `upload`: readers that name a list after its file (the CSV and FtM titles) then
show the client's name, never a server path. A crash leaves the files behind; the next start
(`UploadDir`) removes every process folder whose lock is free (its process is gone) and any
other entry older than this process, so a second server on the same data directory keeps its
own in-flight uploads.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fastapi import HTTPException, Request

try:  # POSIX; elsewhere a folder is known stale only by its age
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: The folder under the data directory that holds uploads.
UPLOADS = "uploads"
#: In each process's folder: locked (flock) while the process lives.
LOCK_FILE = ".lock"
#: What an upload is called when the client gives no usable name.
DEFAULT_NAME = "upload"
#: Longest file name kept from X-Filename.
MAX_NAME_CHARS = 100
#: When this process started (as near as the API can tell: when the API was imported). Entries
#: without a lock older than this were left by an earlier process.
PROCESS_STARTED = time.time()

_UNSAFE = re.compile(r"[^\w.\- ()+,=@]")


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"request body too large (limit {limit} bytes)")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Upload:
    path: Path
    #: The client's name for the file (X-Filename, made safe), or "upload": what messages show.
    filename: str
    size: int

    def remove(self) -> None:
        """Delete the upload and its folder."""
        shutil.rmtree(self.path.parent, ignore_errors=True)

    @property
    def redactions(self) -> dict[str, str]:
        """Server path -> what a message shows instead (the client's file name)."""
        return {str(self.path): self.filename, str(self.path.resolve()): self.filename}


def safe_filename(header: str) -> str:
    """The last component of the client's file name, with anything but letters, digits and a
    little punctuation replaced by `_`; "upload" when nothing usable is left."""
    name = re.split(r"[/\\]", header)[-1].strip()
    name = _UNSAFE.sub("_", name)[:MAX_NAME_CHARS].lstrip(".").strip()
    return name or DEFAULT_NAME


class UploadDir:
    """This process's folder for uploads, under `root` (`<data dir>/uploads`). Creating one
    first removes what dead processes left there (see the module doc)."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.removed = sweep(root)
        self.path = root / f"{os.getpid()}-{secrets.token_hex(4)}"
        self.path.mkdir()
        self._lock: IO[str] | None = (self.path / LOCK_FILE).open("w")
        if fcntl is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def new(self, filename: str) -> Path:
        """A fresh path for one upload named `filename` (in a folder of its own)."""
        folder = self.path / secrets.token_hex(8)
        folder.mkdir()
        return folder / filename

    def close(self) -> None:
        """Release the lock and remove this process's folder (uploads still in it go too)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        shutil.rmtree(self.path, ignore_errors=True)


def _held(folder: Path) -> bool:
    """Whether a live process holds `folder`'s lock."""
    lock = folder / LOCK_FILE
    if fcntl is None or not lock.is_file():
        return False
    try:
        with lock.open("a") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return False
    except OSError:
        return True  # cannot tell: keep it


def sweep(root: Path, started: float = PROCESS_STARTED) -> list[str]:
    """Remove from `root` the folders of processes that are gone (their lock is free) and any
    other entry last modified before `started`. Returns the names removed."""
    removed: list[str] = []
    for entry in sorted(root.iterdir()):
        try:
            locked = entry.is_dir() and (entry / LOCK_FILE).is_file()
            if locked:
                stale = not _held(entry)
            else:
                stale = entry.lstat().st_mtime < started
            if not stale:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry.name)
        except FileNotFoundError:  # another process removed it first
            continue
    return removed


def redact(text: str, paths: Mapping[str, str]) -> str:
    """`text` with each server path of `paths` replaced by what it should show, longest first
    (so a path is replaced before its folder)."""
    for path in sorted(paths, key=len, reverse=True):
        if path:
            text = text.replace(path, paths[path])
    return text


async def receive_upload(request: Request) -> Upload:
    """The uploaded file: the raw request body (`curl --data-binary @x.csv`); its name may be
    given in the header `X-Filename` (kept as the version's source and shown in messages).
    413 over the upload limit, 415 for a multipart form, 422 for an empty body."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise HTTPException(415, detail="send the file as the request body (curl --data-binary @FILE), not as a multipart form")
    uploads: UploadDir = request.app.state.uploads
    filename = safe_filename(request.headers.get("x-filename", ""))
    path = uploads.new(filename)
    upload = Upload(path, filename, 0)
    size = 0
    try:
        with path.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise HTTPException(422, detail=[{"loc": ["body"], "msg": "the upload is empty", "type": "value_error"}])
        return Upload(path, filename, size)
    except BodyTooLarge as exc:
        upload.remove()
        raise HTTPException(413, detail=str(exc)) from None
    except BaseException:
        upload.remove()
        raise
