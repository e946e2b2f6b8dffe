"""A built Screener as bytes, and back: what lets a command line that screens ten rows skip
reading and compiling a list it has seen before.

Pure: this module turns a Screener into bytes and bytes into a Screener, and says which code
built it (`code_version`, from the package's own files, read through `importlib.resources`);
where the bytes are kept (a cache directory, atomic writes) is the caller's business
(`qalqan.service.index_cache`).

The payload is a pickle, read back only after every check passes: the magic and format, the
code version that wrote it, the key the caller expects (the content hash of the lists), the
payload's length and SHA-256; and even then by an unpickler that builds nothing but Qalqan's own
types and a few containers (no callables from other modules: a tampered file cannot run code
through `find_class`). Anything that fails is `CacheError`, and the caller rebuilds.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from functools import lru_cache
from importlib import resources
from typing import Any

import qalqan
from qalqan.matching.screener import Screener

#: Bumped whenever what is stored changes shape in a way the code hash would not show.
FORMAT = 1
MAGIC = b"QALQAN-INDEX\n"
#: Packages whose code decides what a compiled index holds (tokens, keys, weights, features).
_CODE_PACKAGES = ("model", "names", "sources", "matching")
_HEADER_LIMIT = 4096


class CacheError(ValueError):
    """A cached index that must not be used (corrupt, stale, or not what was asked for)."""


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the Qalqan version, the cache format and every file of the packages that
    shape a compiled index (their source and data, e.g. `calibration.json`): any change to the
    matching code or its data makes earlier caches stale."""
    digest = hashlib.sha256(f"qalqan {qalqan.__version__} format {FORMAT}\n".encode())
    root = resources.files("qalqan")
    files = []
    stack = [(root.joinpath(package), package) for package in _CODE_PACKAGES]
    while stack:
        folder, where = stack.pop()
        for item in folder.iterdir():
            if item.name == "__pycache__" or item.name.startswith("."):
                continue
            if item.is_dir():
                stack.append((item, f"{where}/{item.name}"))
            elif not item.name.endswith((".pyc", ".pyo")):
                files.append((f"{where}/{item.name}", item))
    for name, item in sorted(files, key=lambda pair: pair[0]):
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256(item.read_bytes()).digest())
    return digest.hexdigest()


def dumps(screener: Screener, key: str, extra: Any = None) -> bytes:
    """The screener (and `extra`, any picklable summary the caller wants back) as cache bytes,
    bound to `key` and to this code version."""
    payload = pickle.dumps((screener, extra), protocol=pickle.HIGHEST_PROTOCOL)
    header = {
        "format": FORMAT,
        "code": code_version(),
        "key": key,
        "length": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload


def loads(data: bytes | memoryview, key: str) -> tuple[Screener, Any]:
    """(screener, extra) from cache bytes written by `dumps` for `key` by this code version;
    CacheError if anything does not check out."""
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise CacheError("not a Qalqan index cache")
    end = bytes(view[len(MAGIC) : len(MAGIC) + _HEADER_LIMIT]).find(b"\n")
    if end < 0:
        raise CacheError("no header")
    start = len(MAGIC) + end + 1
    try:
        header = json.loads(bytes(view[len(MAGIC) : start - 1]))
    except ValueError:
        raise CacheError("unreadable header") from None
    if not isinstance(header, dict):
        raise CacheError("unreadable header")
    if header.get("format") != FORMAT:
        raise CacheError(f"format {header.get('format')!r}, expected {FORMAT}")
    if header.get("code") != code_version():
        raise CacheError("written by another version of the matching code")
    if header.get("key") != key:
        raise CacheError("for other list content")
    payload = view[start:]
    if header.get("length") != len(payload):
        raise CacheError("truncated")
    if header.get("sha256") != hashlib.sha256(payload).hexdigest():
        raise CacheError("checksum mismatch")
    try:
        screener, extra = _Unpickler(io.BytesIO(payload)).load()
    except CacheError:
        raise
    except Exception as exc:  # a payload that passed the checksum and still does not load
        raise CacheError(f"cannot load: {type(exc).__name__}: {exc}") from None
    if not isinstance(screener, Screener):
        raise CacheError("not a screener")
    return screener, extra


#: What a cached index may be made of beyond Qalqan's own classes.
_ALLOWED: dict[str, frozenset[str]] = {
    "builtins": frozenset({"set", "frozenset", "list", "dict", "tuple", "int", "float", "str", "bytes", "bool", "object", "slice", "complex", "bytearray"}),
    "collections": frozenset({"defaultdict", "OrderedDict", "Counter", "deque"}),
    "copyreg": frozenset({"_reconstructor"}),
    "array": frozenset({"array", "_array_reconstructor"}),
    "datetime": frozenset({"date", "datetime", "timezone", "timedelta"}),
    "numpy": frozenset({"ndarray", "dtype"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.numeric": frozenset({"_frombuffer"}),
    "numpy.core.numeric": frozenset({"_frombuffer"}),
    "numpy.dtypes": frozenset({"Float64DType", "Int32DType", "Int64DType", "BoolDType"}),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "qalqan" or module.startswith("qalqan."):
            found = super().find_class(module, name)
            if isinstance(found, type):  # classes only: no function of ours is called either
                return found
        elif name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise CacheError(f"a cached index may not hold {module}.{name}")
