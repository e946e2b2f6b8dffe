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


def paxlst(*groups: str, flight: str = "KC0123", origin: str = "ALA", destination: str = "IST", departs: str = "2703011000", reference: str = "REF1") -> bytes:
    """A small PAXLST D:05B message: one flight leg and the passenger groups given (each
    "NAD+FL+++SURNAME:GIVEN'ATT+2++M'..."), with a true UNT count."""
    body = (
        "UNA:+.? '"
        f"UNB+UNOA:4+KCAIRLINE+KZPIU+270301:0900+{reference}'"
        f"UNH+1+PAXLST:D:05B:UN:IATA+{reference}+01:F'"
        "BGM+745'"
        "NAD+MS+++OPERATIONS'"
        f"TDT+20+{flight}+++{flight[:2]}'"
        f"LOC+125+{origin}'DTM+189:{departs}:201'"
        f"LOC+87+{destination}'DTM+232:{departs[:6]}2300:201'"
        + "".join(groups)
        + f"CNT+42:{len(groups)}'UNT+0+1'UNZ+1+{reference}'"
    )
    return recount(body.encode())


def pax(surname: str, given: str, *, born: str = "700101", nationality: str = "KAZ", document: str = "", gender: str = "M") -> str:
    group = f"NAD+FL+++{surname}:{given}'ATT+2++{gender}'DTM+329:{born}'NAT+2+{nationality}'"
    return group + (f"DOC+P:110:111+{document}'" if document else "")
