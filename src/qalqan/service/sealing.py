"""Sealing depersonalised passenger data: AES-256-GCM under the deployment's travel key, which
lives outside the database (`QALQAN_TRAVEL_KEY`, hex, else `<data dir>/travel.key`, created
0600 on first use). A database copy alone then holds only masked travellers; the clear values
come back only through an approved re-personalisation, which reads them with the key.

Keyed hashes of document numbers (`doc_key`) use a key derived from the same secret, so masked
records can still be looked up by a document number an officer types, and a database copy does
not let anyone test guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qalqan.store.db import data_dir, private_dir

KEY_FILE = "travel.key"
_NONCE = 12


class SealError(ValueError):
    """Sealed data that does not open: a different travel key, or tampered bytes."""


def travel_key(env: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if env is None else env
    if env.get("QALQAN_TRAVEL_KEY"):
        key = bytes.fromhex(env["QALQAN_TRAVEL_KEY"].strip())
        if len(key) != 32:
            raise ValueError("QALQAN_TRAVEL_KEY must be 32 bytes, written as 64 hex digits")
        return key
    path = data_dir(env) / KEY_FILE
    if not path.exists():
        private_dir(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return bytes.fromhex(Path(path).read_text().strip())


class Sealer:
    def __init__(self, key: bytes):
        self._aead = AESGCM(hashlib.sha256(b"qalqan travel seal\0" + key).digest())
        self._lookup = hashlib.sha256(b"qalqan travel lookup\0" + key).digest()

    def seal(self, value: Any, *, context: str) -> bytes:
        """`value` (JSON-able) encrypted; `context` (e.g. "traveller:12") is bound to it, so
        sealed data moved to another row does not open there."""
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, orjson.dumps(value), context.encode())

    def open(self, blob: bytes, *, context: str) -> Any:
        try:
            return orjson.loads(self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode()))
        except Exception as exc:  # InvalidTag, a short blob
            raise SealError(f"sealed data for {context} does not open with this deployment's travel key") from exc

    def doc_key(self, key: str) -> str:
        """A keyed hash of a normalised document number (`travel.documents.document_key`)."""
        return hmac.new(self._lookup, key.encode(), hashlib.sha256).hexdigest()[:32]
