"""Low-level UN/EDIFACT reading shared by the travel readers (PAXLST, PNRGOV).

`segments(text)` turns an interchange into a flat list of `Segment`s (tag, elements, 1-based
position), honouring the `UNA` service string advice; syntax problems become `MessageError`s
naming the segment and its position. `check_counts` checks each UNH..UNT message's UNT count and
reference. `element` and `edifact_date` are small safe accessors.

Positions count the segments of the text from 1 (UNB or the first segment); the UNA service string
advice is not a segment (an error in it has position 0).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser

from qalqan.travel.model import MessageError

__all__ = ["Segment", "segments", "check_counts", "element", "edifact_date", "DATE_FORMATS"]

_WHITESPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Segment:
    tag: str  # "UNH", "NAD", ...
    elements: list[str | list[str]]  # data elements after the tag; a composite is a list of components
    position: int  # 1-based index in the text (UNA not counted)


def _characters(una: str) -> Characters:
    """Characters from the 6 characters following "UNA"; MessageError(segment="UNA", position=0)."""
    if len(una) < 6:
        raise MessageError("UNA service string advice is truncated", segment="UNA", position=0)
    component, data, decimal, escape, _reserved, terminator = (una[0], una[1], una[2], una[3], una[4], una[5])
    separators = [component, data, terminator] + [c for c in (escape, _reserved) if c != " "]
    if len(set(separators)) != len(separators):
        raise MessageError(f"UNA service string advice repeats a separator: {una[:6]!r}", segment="UNA", position=0)
    for ch in separators:
        if ch.isalnum() or ch in "\r\n" or (ch == " " and ch != escape):
            raise MessageError(f"UNA service string advice has an unusable separator {ch!r}", segment="UNA", position=0)
    if decimal not in ".,":
        raise MessageError(f"UNA decimal mark must be '.' or ',', not {decimal!r}", segment="UNA", position=0)
    return Characters(component, data, decimal, escape, _reserved, terminator)


def _split(body: str, chars: Characters) -> tuple[list[str], str]:
    """Raw segment strings (terminator removed, surrounding whitespace stripped) and the
    trailing text after the last terminator."""
    raw: list[str] = []
    start = 0
    i = 0
    n = len(body)
    esc, term = chars.escape_character, chars.segment_terminator
    while i < n:
        ch = body[i]
        if ch == esc and esc != " ":
            i += 2
            continue
        if ch == term:
            raw.append(body[start:i].strip(_WHITESPACE))
            start = i + 1
        i += 1
    return raw, body[start:]


def _tag_of(raw: str, chars: Characters) -> str:
    for i, ch in enumerate(raw):
        if ch in (chars.data_separator, chars.component_separator):
            return raw[:i]
    return raw


def _decode(text: str | bytes) -> str:
    if isinstance(text, str):
        return text
    for encoding in ("utf-8", "cp1252"):
        try:
            return text.decode(encoding)
        except UnicodeDecodeError:
            pass
    return text.decode("latin-1")  # C1 control characters are then rejected as invalid


def segments(text: str | bytes) -> list[Segment]:
    """All segments of an EDIFACT interchange (or a bare UNH..UNT message).

    Bytes are decoded as UTF-8, else Windows-1252 (as real API files are), else Latin-1.
    Whitespace and line breaks between segments are ignored; so is text after the final UNZ that
    has no segment terminator (e.g. a trailing date line). Any other syntax problem, a control
    character inside a segment, or an empty text → MessageError(segment=tag, position=n)."""
    text = _decode(text)
    body = text.lstrip(_WHITESPACE + "\ufeff")
    chars = Characters()
    if body.startswith("UNA"):
        chars = _characters(body[3:9])
        body = body[9:]
    elif not body:
        raise MessageError("empty EDIFACT text", position=0)
    raw, trailing = _split(body, chars)
    if trailing.strip(_WHITESPACE):
        last = _tag_of(raw[-1], chars) if raw else ""
        if last != "UNZ":
            tag = _tag_of(trailing.strip(_WHITESPACE), chars)[:3]
            raise MessageError("truncated: segment without a terminator", segment=tag or "?", position=len(raw) + 1)
    tags: list[str] = []
    for pos, r in enumerate(raw, 1):
        tag = _tag_of(r, chars)
        if tag != tag.rstrip(_WHITESPACE):  # "UNG *PAXLST" (airline2.edi): blank after the tag
            r = raw[pos - 1] = tag.rstrip(_WHITESPACE) + r[len(tag):]
            tag = tag.rstrip(_WHITESPACE)
        tags.append(tag)
        if not r:
            raise MessageError("empty segment", segment="?", position=pos)
        if len(tag) != 3 or not tag.isalnum() or not tag.isupper():
            raise MessageError(f"invalid segment tag {tag[:10]!r}", segment=tag[:10] or "?", position=pos)
        for ch in r:
            o = ord(ch)
            if o < 32 and ch not in "\r\n" or 127 <= o < 160 or ch == "\ufffd":
                raise MessageError(f"invalid character U+{o:04X}", segment=tag, position=pos)
        if tag == "UNA":
            raise MessageError("UNA service string advice is only allowed at the start", segment="UNA", position=pos)
    joined = "".join(r + chars.segment_terminator for r in raw)
    out: list[Segment] = []
    parser = Parser(characters=chars)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydifact: "segments.xml not found" for service segments
            for seg in parser.parse(joined, characters=chars):
                if seg.tag == "UNA":
                    continue
                pos = len(out) + 1
                elements = [e if isinstance(e, str) else list(e) for e in seg.elements]
                out.append(Segment(seg.tag, elements, pos))
    except (EDISyntaxError, ValueError, IndexError, TypeError) as exc:
        pos = len(out) + 1
        tag = tags[pos - 1] if pos <= len(tags) else "?"
        raise MessageError(f"EDIFACT syntax error: {exc}", segment=tag, position=pos) from exc
    if len(out) != len(raw):  # pragma: no cover - defensive
        pos = len(out) + 1
        raise MessageError("EDIFACT syntax error", segment=tags[pos - 1] if pos <= len(tags) else "?", position=pos)
    return out


def check_counts(segs: list[Segment], *, strict: bool = True) -> list[str]:
    """Each UNH..UNT message: UNT's count = segments UNH..UNT inclusive, UNT ref = UNH ref.
    A UNH without UNT (or UNT without UNH) → MessageError as well.

    strict=False: a wrong UNT count or reference is returned as a warning instead (real files get
    them wrong, e.g. GTAS Test1.txt, airline2.edi); a missing UNT still raises. Returns the warnings."""
    found: list[str] = []
    open_unh: Segment | None = None
    for seg in segs:
        if seg.tag == "UNH":
            if open_unh is not None:
                raise MessageError(f"message {element(open_unh, 0)!r} has no UNT before the next UNH", segment="UNH", position=seg.position)
            open_unh = seg
        elif seg.tag == "UNT":
            if open_unh is None:
                raise MessageError("UNT without UNH", segment="UNT", position=seg.position)
            expected = seg.position - open_unh.position + 1
            count = element(seg, 0)
            if not count.isdigit() or int(count) != expected:
                problem = f"UNT segment count {count!r} but the message has {expected} segments"
                if strict or not count.isdigit():
                    raise MessageError(problem, segment="UNT", position=seg.position)
                found.append(f"{problem} (segment {seg.position}: UNT)")
            if element(seg, 1) != element(open_unh, 0):
                problem = f"UNT reference {element(seg, 1)!r} does not match UNH reference {element(open_unh, 0)!r}"
                if strict:
                    raise MessageError(problem, segment="UNT", position=seg.position)
                found.append(f"{problem} (segment {seg.position}: UNT)")
            open_unh = None
        elif seg.tag in ("UNZ", "UNE") and open_unh is not None:
            raise MessageError(f"message {element(open_unh, 0)!r} is truncated: no UNT", segment="UNT", position=seg.position)
    if open_unh is not None:
        last = segs[-1].position + 1 if segs else 0
        raise MessageError(f"message {element(open_unh, 0)!r} is truncated: no UNT", segment="UNT", position=last)
    return found


def element(seg: Segment, i: int, j: int = 0) -> str:
    """Component j of data element i (0-based, after the tag); "" when absent. For a simple
    element, j=0 is its value."""
    if i < 0 or i >= len(seg.elements):
        return ""
    e = seg.elements[i]
    if isinstance(e, str):
        return e if j == 0 else ""
    return e[j] if 0 <= j < len(e) else ""


#: EDIFACT 2379 date/time format qualifiers handled by `edifact_date`.
DATE_FORMATS = {"101": "YYMMDD", "102": "CCYYMMDD", "201": "YYMMDDHHMM", "203": "CCYYMMDDHHMM"}
_BY_LENGTH = {6: "101", 8: "102", 10: "201", 12: "203"}


def edifact_date(value: str, fmt_qualifier: str = "", *, today: date | None = None) -> str | None:
    """An EDIFACT date (2379 format 101/102/201/203, or inferred from the length when the
    qualifier is empty/unknown) as an ISO string: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM".

    Two-digit years: with `today` given (birth dates), the century that puts the date on or before
    `today`; without it (travel dates, expiries), 20YY. None when empty or not a valid date."""
    value = (value or "").strip()
    if not value.isdigit():
        return None
    fmt = fmt_qualifier if fmt_qualifier in DATE_FORMATS else _BY_LENGTH.get(len(value), "")
    if not fmt or len(value) != len(DATE_FORMATS[fmt]):
        fmt = _BY_LENGTH.get(len(value), "")
        if not fmt:
            return None
    if fmt in ("101", "201"):
        yy = int(value[:2])
        rest = value[2:]
        year = 2000 + yy
        if today is not None:
            year = (today.year // 100) * 100 + yy
            if year > today.year or (year == today.year and rest[:4] > today.strftime("%m%d")):
                year -= 100
        value = f"{year:04d}{rest}"
    try:
        if len(value) == 8:
            return datetime.strptime(value, "%Y%m%d").date().isoformat()
        return datetime.strptime(value, "%Y%m%d%H%M").strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return None
