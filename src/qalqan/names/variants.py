"""Several names written in one field, as lists often do.

UN entries carry "أبو بكر البغدادي (Abu Bakr al-Baghdadi; Abu Bakr al-Husayni)" or
"Abdul Rehman; Abd Ur-Rehman; Abdur Rahman" in a single alias; organisations carry an acronym
in brackets ("AFGHAN SUPPORT COMMITTEE (ASC)"). The source text stays as published in the
model; the matcher compares each variant on its own.

A comma is an order hint: "FAMILY, Given" (how OFAC and bank core systems store names) also
yields "Given FAMILY", so compounds and particles are decided on the natural order as well
("RAHMAN, Abdul" -> "Abdul RAHMAN" -> one token, abdrahman) and a name split in two fields meets
its listed form written whole.
"""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
_SEPARATORS = re.compile(r"\s*[;；؛]\s*")
_COMMAS = re.compile(r"\s*[,，،]\s*")
#: Trailing parts after a comma that are not given names: "SMITH, John, Jr." keeps "Jr." last.
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())


def reordered(value: str) -> str | None:
    """"FAMILY, Given [, more]" in natural order ("Given more FAMILY"), or None when the value
    has no comma between two parts with letters (or only a suffix follows it)."""
    parts = [p for p in _COMMAS.split(value.strip()) if p]
    if len(parts) < 2 or not all(any(ch.isalpha() for ch in p) for p in parts):
        return None
    tail = [p for p in parts[1:] if p.casefold() in _SUFFIXES]
    given = [p for p in parts[1:] if p.casefold() not in _SUFFIXES]
    if not given:
        return None
    return " ".join([*given, parts[0], *tail])


def name_variants(value: str) -> list[str]:
    """The value itself, then the text outside brackets and each `;`-separated part (inside
    and outside brackets), each followed by its natural-order form when it is written
    "FAMILY, Given", in order, without repeats or empty strings."""
    return [variant for variant, _ in marked_variants(value)]


def marked_variants(value: str) -> list[tuple[str, bool]]:
    """`name_variants(value)`, each with whether it is *part* of a bracketed name: the text
    outside the brackets, or a bracket's content, alone ("AL-HARAMAYN FOUNDATION" and "KENYA"
    of "AL-HARAMAYN FOUNDATION (KENYA)"). Such a part leaves out what the rest of the name
    says (a branch, a country, an acronym); a `;`-separated part of a name without brackets
    is a whole name of its own."""
    found: list[tuple[str, bool]] = [(value, False)]
    inner = _BRACKETED.findall(value)
    outer = _BRACKETED.sub(" ", value)
    bracketed = bool(inner)
    for chunk in (outer, *inner):
        for part in _SEPARATORS.split(chunk):
            found.append((part, bracketed))
            natural = reordered(part)
            if natural:
                found.append((natural, bracketed))
    out: dict[str, bool] = {}
    for item, partial in found:
        item = " ".join(item.split()).strip(" ,.-")
        if item and any(ch.isalpha() for ch in item) and item not in out:
            out[item] = partial
    return list(out.items())
