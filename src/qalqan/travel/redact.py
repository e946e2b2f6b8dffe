"""The copy of a message that is stored: the message as received with every segment that carries
a special category of personal data blanked (EU PNR Directive art. 13(4): data revealing racial
or ethnic origin, political opinions, religion, trade-union membership, health or sex life is
deleted on arrival). Pure.

The readers already leave these out of the travellers they return (`travel.pnrgov`); this keeps
them out of the archived message too. A blanked segment keeps its tag and becomes
`TAG<data separator>REDACTED`, so the message's segment count (UNT) and every other byte stay as
received. Only free-text and special-service segments are looked at (SSR, IFT, FTX, RMK, TXT):
names and documents are the data screening needs.
"""

from __future__ import annotations

from qalqan.travel.pnrgov import SPECIAL_SSR_CODES, _special_text

#: Segments whose content may carry a special category.
FREE_TEXT_TAGS = frozenset({"SSR", "IFT", "FTX", "RMK", "TXT"})
REDACTED = "REDACTED"


def _encoding(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            pass
    return "latin-1"


def _special(tag: str, body: str, data_sep: str, comp_sep: str) -> bool:
    if tag not in FREE_TEXT_TAGS:
        return False
    if tag == "SSR":
        first = body[len(tag) + 1 :].split(data_sep, 1)[0].split(comp_sep, 1)[0].strip().upper()
        if first in SPECIAL_SSR_CODES or (len(first) == 4 and first.endswith("ML")):
            return True
    return _special_text(body.replace(comp_sep, " ").replace(data_sep, " "))


def _blank(segment: str, data_sep: str, comp: str) -> str | None:
    """The blanked form of a segment (without its terminator) carrying a special category, else None."""
    stripped = segment.lstrip(" \r\n")
    tag = stripped.split(data_sep, 1)[0].split(comp, 1)[0]
    if _special(tag, stripped, data_sep, comp):
        return segment[: len(segment) - len(stripped)] + tag + data_sep + REDACTED
    return None


def _redact_scan(text: str, comp: str, data_sep: str, esc: str, term: str) -> tuple[str, int]:
    """Segments found character by character, a released terminator (``?'``) not ending one."""
    out: list[str] = []
    start, i, n, blanked = 0, 0, len(text), 0
    while i < n:
        ch = text[i]
        if ch == esc and esc != " ":
            i += 2
            continue
        if ch == term:
            segment = text[start:i]
            new = _blank(segment, data_sep, comp)
            if new is not None:
                segment, blanked = new, blanked + 1
            out.append(segment + term)
            start = i + 1
        i += 1
    out.append(text[start:])
    return "".join(out), blanked


def _redact_split(text: str, comp: str, data_sep: str, term: str) -> tuple[str, int]:
    """The same for a text without release characters, where every terminator ends a segment."""
    pieces = text.split(term)
    out: list[str] = []
    blanked = 0
    for segment in pieces[:-1]:
        new = _blank(segment, data_sep, comp)
        if new is not None:
            segment, blanked = new, blanked + 1
        out.append(segment + term)
    out.append(pieces[-1])
    return "".join(out), blanked


def redact_special(data: bytes) -> tuple[bytes, int]:
    """(the message with special-category segments blanked, how many were). Unchanged bytes when
    there are none."""
    encoding = _encoding(data)
    text = data.decode(encoding)
    body_at = len(text) - len(text.lstrip(" \r\n\ufeff"))
    comp, data_sep, esc, term = ":", "+", "?", "'"
    if text.startswith("UNA", body_at):
        una = text[body_at + 3 : body_at + 9]
        comp, data_sep, esc, term = una[0], una[1], una[3], una[5]
    if not any(tag in text for tag in FREE_TEXT_TAGS):
        return data, 0  # no segment that could carry one (most API messages)
    if esc == " " or esc not in text:
        out, blanked = _redact_split(text, comp, data_sep, term)
    else:
        out, blanked = _redact_scan(text, comp, data_sep, esc, term)
    if not blanked:
        return data, 0
    return out.encode(encoding), blanked
