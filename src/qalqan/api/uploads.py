"""Uploads for the import routes: the request body is the file (`curl --data-binary @file`),
streamed to a temporary file, never held in memory; `app.BodyLimit` counts it against the upload
limit as it streams. (Multipart forms would need python-multipart, a dependency for no gain:
every HTTP client can send a file as the body.)"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"request body too large (limit {limit} bytes)")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Upload:
    path: Path
    filename: str
    size: int

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


async def receive_upload(request: Request) -> Upload:
    """The uploaded file: the raw request body (`curl --data-binary @x.csv`); its name may be
    given in the header `X-Filename` (kept as the version's source). 413 over the upload limit,
    415 for a multipart form, 422 for an empty body."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise HTTPException(415, detail="send the file as the request body (curl --data-binary @FILE), not as a multipart form")
    fd, name = tempfile.mkstemp(prefix="qalqan-upload-", suffix=".part")
    path = Path(name)
    size = 0
    filename = request.headers.get("x-filename", "")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise HTTPException(422, detail=[{"loc": ["body"], "msg": "the upload is empty", "type": "value_error"}])
        return Upload(path, filename[:200], size)
    except BodyTooLarge as exc:
        path.unlink(missing_ok=True)
        raise HTTPException(413, detail=str(exc)) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
