"""What a name that identifies something may contain: a subject's id, a list's name.

Such names are shown to analysts, written to the audit log, compared for equality and used in
URLs (`/subjects/{id}`, `/match/{list}`). A character that cannot be stored (NUL: PostgreSQL
refuses it in text; a lone UTF-16 surrogate: it has no UTF-8 encoding, so the JSON of the audit
entry cannot be written), that is invisible or reorders what is shown around it (control and
bidirectional-override characters: `CUST-` U+202E `1-TSUC` displays as another id), or a name the
API reserves (`default` means "all lists" in `/match/default`) would make two different things
look alike or make a write fail later. They are refused where the value enters, naming the field
and the character.

Pure functions: no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: Characters that change the display order of the text around them (Unicode's explicit bidi
#: formatting characters and the implicit marks), so an id can show as a different one.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Unicode categories no identifier may hold: controls (C0, DEL, C1: NUL, tab, newline, ...),
#: lone surrogates, and the line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cs": "a lone surrogate", "Zl": "a line separator", "Zp": "a paragraph separator"}


def codepoint(char: str) -> str:
    """`U+202E`: how a refused character is named in a message (it may not be printable)."""
    return f"U+{ord(char):04X}"


def text_problem(value: str) -> str | None:
    """Why free text (a name, a reason) cannot be stored, or None: it holds NUL or a lone
    surrogate. Other characters are the text's own business."""
    for i, char in enumerate(value):
        if char == "\x00":
            return f"contains a NUL character ({codepoint(char)}) at position {i}"
        if "\ud800" <= char <= "\udfff":
            return f"contains a lone surrogate ({codepoint(char)}) at position {i}: not valid Unicode text"
    return None


def check_text(value: str, field: str) -> str:
    """`value` if it can be stored as text; else ValueError naming `field` and the character."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"{field} {problem}")
    return value


def identifier_problem(value: str, *, reserved: Iterable[str] = ()) -> str | None:
    """Why `value` cannot be an identifier, or None. `reserved` names are compared without
    regard to case (`Default` would shadow `default` for a reader as much as for a router)."""
    if not value:
        return "is empty"
    for i, char in enumerate(value):
        if char in BIDI_CONTROLS:
            return f"contains a bidirectional control character ({codepoint(char)}) at position {i}"
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            return f"contains {kind} ({codepoint(char)}) at position {i}"
    folded = value.casefold()
    for name in reserved:
        if folded == name.casefold():
            return f"{value!r} is reserved"
    return None


def check_identifier(value: str, field: str, *, reserved: Iterable[str] = ()) -> str:
    """`value` if it may identify a subject or a list; else ValueError naming `field` and the
    offending character as U+XXXX (or saying the name is reserved)."""
    problem = identifier_problem(value, reserved=reserved)
    if problem is not None:
        raise ValueError(f"{field} {problem}")
    return value


__all__ = ["BIDI_CONTROLS", "check_identifier", "check_text", "codepoint", "identifier_problem", "text_problem"]
