"""Low-level UN/EDIFACT reading shared by the travel readers (PAXLST, PNRGOV).

`segments(text)` turns an interchange into a flat list of `Segment`s (tag, elements, 1-based
position), honouring the `UNA` service string advice; syntax problems become `MessageError`s
naming the segment and its position. `check_counts` checks each UNH..UNT message's UNT count and
reference; `check_interchange` checks the UNB..UNZ (and UNG..UNE) control counts and references.
`element` and `edifact_date` are small safe accessors.

ISO 9735 rules enforced by `segments` (each a `MessageError` naming segment and position):
a release character must be followed by a service character (ISO 9735-1: it "immediately
precedes" one); every segment ends with the segment terminator (text cut mid-segment is refused);
a segment tag is 3 upper-case letters/digits; no control characters other than CR/LF, anywhere
(between segments too). Characters outside the repertoire of a declared UNOA/UNOB syntax level
are only reported (`notes`): real API files declare UNOA and send lower case.

Positions count the segments of the text from 1 (UNB or the first segment); the UNA service string
advice is not a segment (an error in it has position 0).
"""

from __future__ import annotations

import re

import warnings
from dataclasses import dataclass
from datetime import date, datetime

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser

from qalqan.travel.model import MessageError

__all__ = ["Segment", "segments", "check_counts", "check_interchange", "element", "edifact_date", "DATE_FORMATS"]

_WHITESPACE = " \r\n"  # allowed between segments; a TAB or other control character is not
#: ISO 9735 annex A: syntax level A (upper case, digits, space and these graphic characters);
#: level B adds lower case (the basic ISO 646 table without its national/alternative positions).
_LEVEL_A = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>")
_LEVEL_B = _LEVEL_A | frozenset("abcdefghijklmnopqrstuvwxyz_")
_REPERTOIRES = {"UNOA": _LEVEL_A, "UNOB": _LEVEL_B}


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


def _service_characters(chars: Characters, una: bool) -> str:
    """The characters a release character may precede (ISO 9735-1): the separators, the
    release character itself and the repetition separator (UNA position 5; "*" by default)."""
    service = chars.component_separator + chars.data_separator + chars.escape_character + chars.segment_terminator
    if chars.reserved_character != " ":
        service += chars.reserved_character
    elif not una:
        service += "*"
    return service


def _split(body: str, chars: Characters, service: str) -> tuple[list[str], str]:
    """Raw segment strings (terminator removed, surrounding whitespace stripped) and the
    trailing text after the last terminator. A release character not followed by a service
    character → MessageError naming the segment."""
    raw: list[str] = []
    start = 0
    i = 0
    n = len(body)
    esc, term = chars.escape_character, chars.segment_terminator
    while i < n:
        ch = body[i]
        if ch == esc and esc != " ":
            if i + 1 >= n or body[i + 1] not in service:
                after = "the end of the text" if i + 1 >= n else repr(body[i + 1])
                tag = _tag_of(body[start:i].strip(_WHITESPACE), chars)[:3] or "?"
                raise MessageError(
                    f"release character {esc!r} followed by {after}, not by a service character",
                    segment=tag,
                    position=len(raw) + 1,
                )
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


def _invalid(ch: str) -> bool:
    o = ord(ch)
    return (o < 32 and ch not in "\r\n") or 127 <= o < 160 or ch == "\ufffd"


#: The characters `_invalid` refuses, as one pattern (searched at C speed, segment by segment).
_INVALID = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def segments(text: str | bytes, *, notes: list[str] | None = None, fast: bool = True) -> list[Segment]:
    """All segments of an EDIFACT interchange (or a bare UNH..UNT message).

    Bytes are decoded as UTF-8, else Windows-1252 (as real API files are), else Latin-1.
    Blanks and line breaks between segments are ignored; so is text after the final UNZ that
    has no segment terminator (e.g. a trailing date line). Any other syntax problem (see the
    module doc), a control character, or an empty text → MessageError(segment=tag, position=n).
    `notes`, when given, receives what is only reported: characters outside the UNOA/UNOB
    repertoire that UNB declares. `fast=False` has pydifact read every segment (the reference the
    fast path, for segments without release characters, is tested against)."""
    text = _decode(text)
    body = text.lstrip(_WHITESPACE + "\ufeff")
    chars = Characters()
    una = body.startswith("UNA")
    if una:
        chars = _characters(body[3:9])
        body = body[9:]
    elif not body:
        raise MessageError("empty EDIFACT text", position=0)
    service = _service_characters(chars, una)
    raw, trailing = _split(body, chars, service)
    if trailing.strip(_WHITESPACE):
        last = _tag_of(raw[-1], chars) if raw else ""
        if last != "UNZ":
            tag = _tag_of(trailing.strip(_WHITESPACE), chars)[:3]
            raise MessageError("truncated: segment without a terminator", segment=tag or "?", position=len(raw) + 1)
    tags: list[str] = []
    for pos, r in enumerate(raw, 1):
        found = _INVALID.search(r)
        bad = found.group() if found else None
        if bad is not None:
            shown = "".join(c for c in _tag_of(r, chars) if c.isprintable())[:3] or "?"
            raise MessageError(f"invalid character U+{ord(bad):04X}", segment=shown, position=pos)
        tag = _tag_of(r, chars)
        if tag != tag.rstrip(_WHITESPACE):  # "UNG *PAXLST" (airline2.edi): blank after the tag
            r = raw[pos - 1] = tag.rstrip(_WHITESPACE) + r[len(tag):]
            tag = tag.rstrip(_WHITESPACE)
        tags.append(tag)
        if not r:
            raise MessageError("empty segment", segment="?", position=pos)
        if len(tag) != 3 or not tag.isalnum() or not tag.isupper():
            raise MessageError(f"invalid segment tag {tag[:10]!r}", segment=tag[:10] or "?", position=pos)
        if tag == "UNA":
            raise MessageError("UNA service string advice is only allowed at the start", segment="UNA", position=pos)
    out: list[Segment] = []
    esc = chars.escape_character if chars.escape_character != " " else None
    parser = Parser(characters=chars)
    for pos, r in enumerate(raw, 1):
        if fast and (esc is None or esc not in r):
            # No release character: splitting on the separators is the whole syntax, and it is
            # what pydifact returns for such a segment (tests/travel/test_edifact.py checks it on
            # every shared sample); pydifact reads the segments that release characters.
            out.append(Segment(tags[pos - 1], _elements(r, chars), pos))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pydifact: "segments.xml not found" for service segments
                [seg] = [s for s in parser.parse(r + chars.segment_terminator, characters=chars) if s.tag != "UNA"]
        except (EDISyntaxError, ValueError, IndexError, TypeError) as exc:
            raise MessageError(f"EDIFACT syntax error: {exc}", segment=tags[pos - 1], position=pos) from exc
        out.append(Segment(seg.tag, [e if isinstance(e, str) else list(e) for e in seg.elements], pos))
    if len(out) != len(raw):  # pragma: no cover - defensive
        pos = len(out) + 1
        raise MessageError("EDIFACT syntax error", segment=tags[pos - 1] if pos <= len(tags) else "?", position=pos)
    if notes is not None:
        notes.extend(_repertoire_notes(out, service + chars.decimal_point))
    return out


def _elements(raw: str, chars: Characters) -> list[str | list[str]]:
    """The data elements after the tag of a segment without release characters."""
    comp = chars.component_separator
    out: list[str | list[str]] = []
    for part in raw.split(chars.data_separator)[1:]:
        if comp not in part:
            out.append(part)
            continue
        parts = part.split(comp)
        while len(parts) > 1 and not parts[-1]:  # as pydifact: trailing empty components dropped
            parts.pop()
        out.append(parts if len(parts) > 1 else parts[0])
    return out


def _repertoire_notes(segs: list[Segment], service: str) -> list[str]:
    """A note when data uses characters outside the UNOA/UNOB level that UNB declares (the
    interchange's own service characters are allowed); nothing for other syntax identifiers."""
    unb = next((s for s in segs if s.tag == "UNB"), None)
    level = element(unb, 0, 0) if unb else ""
    allowed = _REPERTOIRES.get(level)
    if allowed is None:
        return []
    allowed = allowed | frozenset(service)
    first: tuple[Segment, str] | None = None
    count = 0
    for seg in segs:
        values = "".join(v if isinstance(v, str) else "".join(v) for v in seg.elements)
        bad = next((ch for ch in values if ch not in allowed and ch not in "\r\n"), None)
        if bad is not None:
            count += 1
            first = first or (seg, bad)
    if first is None:
        return []
    seg, bad = first
    return [f"{count} segment(s) use characters outside syntax level {level}, first {bad!r} (segment {seg.position}: {seg.tag})"]


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


def _trailer(header: Segment, trailer: Segment, counted: int, what: str, strict: bool) -> list[str]:
    """UNZ against UNB, or UNE against UNG (`what`: "... {} ..." for the count): the control
    count must equal what was counted (all real samples agree, so a mismatch is an error); a
    differing control reference is a warning unless strict (GTAS UA PNRGOV samples and Test1.txt
    get it wrong)."""
    count = element(trailer, 0)
    if not count.isdigit() or int(count) != counted:
        raise MessageError(
            f"{trailer.tag} control count {count!r} but the " + what.format(counted), segment=trailer.tag, position=trailer.position
        )
    ref, expected = element(trailer, 1), element(header, 4)
    if ref != expected:
        problem = f"{trailer.tag} reference {ref!r} does not match {header.tag} reference {expected!r}"
        if strict:
            raise MessageError(problem, segment=trailer.tag, position=trailer.position)
        return [f"{problem} (segment {trailer.position}: {trailer.tag})"]
    return []


def check_interchange(segs: list[Segment], *, strict: bool = False) -> list[str]:
    """UNB..UNZ: UNZ's interchange control count = the functional groups, or the messages when
    there are no groups; UNG..UNE likewise with the group's messages. A wrong count, a UNB
    without UNZ (a truncated interchange) or a UNE without UNG → MessageError. A control reference
    that differs from the header's → a warning (returned), or an error when strict. Bare
    UNH..UNT texts (no UNB) have nothing to check."""
    found: list[str] = []
    unb: Segment | None = None
    ung: Segment | None = None
    groups = messages = group_messages = 0
    for seg in segs:
        if seg.tag == "UNB":
            unb, groups, messages = seg, 0, 0
        elif seg.tag == "UNG":
            ung, group_messages = seg, 0
            groups += 1
        elif seg.tag == "UNH":
            messages += 1
            group_messages += 1
        elif seg.tag == "UNE":
            if ung is None:
                raise MessageError("UNE without UNG", segment="UNE", position=seg.position)
            found += _trailer(ung, seg, group_messages, "functional group has {} message(s)", strict)
            ung = None
        elif seg.tag == "UNZ":
            if unb is None:
                raise MessageError("UNZ without UNB", segment="UNZ", position=seg.position)
            if ung is not None:
                raise MessageError("functional group truncated: no UNE", segment="UNE", position=seg.position)
            what = "interchange has {} functional group(s)" if groups else "interchange has {} message(s)"
            found += _trailer(unb, seg, groups or messages, what, strict)
            unb = None
    if ung is not None:
        raise MessageError("functional group truncated: no UNE", segment="UNE", position=segs[-1].position + 1)
    if unb is not None:
        raise MessageError("interchange truncated: no UNZ", segment="UNZ", position=segs[-1].position + 1)
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
    # All digits of the right length (checked above): the calendar check is the constructor's
    # (strptime costs ten times more, and a manifest has thousands of dates).
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8])).isoformat()
        when = datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]))
        return when.strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return None
