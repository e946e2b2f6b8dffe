"""Several names written in one field, as lists often do.

UN entries carry "أبو بكر البغدادي (Abu Bakr al-Baghdadi; Abu Bakr al-Husayni)" or
"Abdul Rehman; Abd Ur-Rehman; Abdur Rahman" in a single alias; organisations carry an acronym
in brackets ("AFGHAN SUPPORT COMMITTEE (ASC)"). The source text stays as published in the
model; the matcher compares each variant on its own.
"""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
_SEPARATORS = re.compile(r"\s*[;；؛]\s*")


def name_variants(value: str) -> list[str]:
    """The value itself, then the text outside brackets and each `;`-separated part (inside
    and outside brackets), in order, without repeats or empty strings."""
    found: list[str] = [value]
    inner = _BRACKETED.findall(value)
    outer = _BRACKETED.sub(" ", value)
    for chunk in (outer, *inner):
        found.extend(_SEPARATORS.split(chunk))
    out: list[str] = []
    for item in found:
        item = " ".join(item.split()).strip(" ,.-")
        if item and any(ch.isalpha() for ch in item) and item not in out:
            out.append(item)
    return out
