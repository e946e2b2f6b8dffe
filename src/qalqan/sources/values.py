"""Parsers for the values lists and inputs carry: dates of birth and countries.

Shared by every reader and by the screening-input reader, so the same text means the same
thing wherever it comes from.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rigour.territories import lookup_territory

from qalqan.model import DateKind, PartialDate

_ISO = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")
_DMY = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$")
_RANGE = re.compile(r"^\s*(\d{4})\s*(?:-|–|to|\.\.)\s*(\d{4})\s*$", re.I)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ]
    )
    for m in names
}
#: "08 Feb 1980", "Feb 1980", "Nov. 1973", "12 February 1961"
_NAMED_MONTH = re.compile(r"^\s*(?:(\d{1,2})\s+)?([A-Za-z]{3,9})\.?,?\s+(\d{4})\s*$")
_APPROX = re.compile(r"^\s*(?:circa|ca\.?|c\.|approx(?:imately)?\.?|about|~)\s*(.+)$", re.I)


def parse_date(text: str) -> PartialDate:
    """Read a date of birth written as lists and users write them.

    Accepts `1971`, `1971-05`, `1971-05-02`, `02.05.1971`, `02/05/1971` (day first), month names
    (`08 Feb 1980`, `Nov. 1973`, `12 February 1961`), ranges
    `1960-1965` / `1960 to 1965`, and approximate forms `circa 1975`, `c. 1975`, `approx. 1975`,
    `~1975`. Zero month or day (`1960-00-00`, as some lists publish for "unknown") keep only what
    is known. Raises ValueError naming what is wrong.
    """
    raw = text
    text = text.strip()
    if not text:
        raise ValueError("empty date")
    approx = _APPROX.match(text)
    if approx:
        inner = parse_date(approx.group(1))
        return PartialDate(inner.year, inner.month, inner.day, DateKind.APPROXIMATE)
    rng = _RANGE.match(text)
    if rng and int(rng.group(2)) > 12:  # "1960-05" is a month, "1960-1965" a range
        a, b = int(rng.group(1)), int(rng.group(2))
        if b < a:
            raise ValueError(f"date range {raw!r} ends before it starts")
        return PartialDate(a, kind=DateKind.BETWEEN, year_to=b) if b > a else PartialDate(a)
    m = _ISO.match(text) or None
    if m:
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
    else:
        d = _DMY.match(text)
        if not d:
            named = _NAMED_MONTH.match(text)
            if not named or named.group(2).lower() not in _MONTHS:
                raise ValueError(f"unreadable date {raw!r}")
            day = int(named.group(1)) if named.group(1) else None
            try:
                return PartialDate(int(named.group(3)), _MONTHS[named.group(2).lower()], day)
            except ValueError as exc:
                raise ValueError(f"impossible date {raw!r}: {exc}") from None
        day, month, year = d.group(1), d.group(2), int(d.group(3))
    mon = int(month) if month and int(month) != 0 else None
    dy = int(day) if day and int(day) != 0 and mon is not None else None
    try:
        return PartialDate(year, mon, dy)
    except ValueError as exc:
        raise ValueError(f"impossible date {raw!r}: {exc}") from None


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """ISO 3166-1 alpha-2 (FtM form, lower case) for a country name, demonym or code; None if unknown."""
    text = text.strip()
    if not text:
        return None
    territory = lookup_territory(text)
    if territory is None and len(text) > 3:
        territory = lookup_territory(text, fuzzy=True)
    return territory.code if territory is not None else None
