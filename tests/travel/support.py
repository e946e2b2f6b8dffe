"""Helpers for travel tests: edit a real message and keep its UNT segment count true."""

from __future__ import annotations

import re

_SEGMENT = re.compile(rb"(?:\?.|[^'?])*'", re.S)


def recount(message: bytes) -> bytes:
    """`message` (default separators) with every UNT's segment count set to the number of
    segments from its UNH to it, both included."""
    out: list[bytes] = []
    count = 0
    for m in _SEGMENT.finditer(message):
        seg = m.group(0)
        tag = seg.lstrip(b"\r\n")[:3]
        if tag == b"UNH":
            count = 0
        count += 1
        if tag == b"UNT":
            lead = seg[: len(seg) - len(seg.lstrip(b"\r\n"))]
            parts = seg.lstrip(b"\r\n").split(b"+")
            parts[1] = str(count).encode()
            seg = lead + b"+".join(parts)
        out.append(seg)
    tail = message[sum(len(s) for s in out):] if out else message
    return b"".join(out) + tail


def with_first_passenger(text: bytes, group: str) -> bytes:
    """A PAXLST whose first passenger's group (from its NAD+FL to the next) is `group`."""
    first = text.index(b"NAD+FL")
    end = text.index(b"NAD+FL", first + 1)
    return recount(text[:first] + group.encode() + text[end:])
