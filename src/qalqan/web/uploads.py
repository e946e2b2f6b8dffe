"""Files sent with a page's multipart form, copied into the server's upload directory (the one
`api.uploads.UploadDir` keeps for the JSON API's uploads): one folder per upload, removed if the
copy fails."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from qalqan.api.uploads import Upload, UploadDir, safe_filename

#: Bytes copied at a time.
COPY_CHUNK = 1 << 20


async def copy_upload(uploads: UploadDir, sent: UploadFile) -> tuple[Upload, str]:
    """`sent` copied into a folder of its own under `uploads`: the Upload (path, the client's file
    name made safe, size) and the file's SHA-256."""
    filename = safe_filename(sent.filename or "")
    path = uploads.new(filename)
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := await sent.read(COPY_CHUNK):
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        Upload(path, filename, size).remove()
        raise
    return Upload(path, filename, size), digest.hexdigest()


async def receive_form_upload(request: Request, field: str = "file") -> tuple[Upload | None, Any]:
    """The file of a multipart form's `field`, copied to the upload directory, and the parsed
    form. None when no file or an empty one was sent."""
    form = await request.form()
    sent = form.get(field)
    if not isinstance(sent, UploadFile) or not sent.filename:
        return None, form
    upload, _digest = await copy_upload(request.app.state.uploads, sent)
    if upload.size == 0:
        upload.remove()
        return None, form
    return upload, form
