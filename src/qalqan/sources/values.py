"""Parsers for the values lists and inputs carry: dates of birth and countries.

Shared by every reader and by the screening-input reader, so the same text means the same
thing wherever it comes from.

Dates written in another calendar and saying so (`24/06/1402 (Hijri Calendar)`, as the UN list
has them; `1361 SH`, `12 Farvardin 1361`) are converted to Gregorian, never guessed: a date
without a calendar note is Gregorian. Lunar Hijri dates are converted with `hijridate` (the Umm
al-Qura calendar, the official one of Saudi Arabia, where such dates of birth come from) within
its range (1343-1500 AH), else with `convertdate`'s arithmetical Islamic calendar; Solar Hijri
(Persian) dates with `convertdate`. A day, a month or a year in the other calendar becomes the
most precise Gregorian date that holds all of it: a Hijri year spans two Gregorian years, so
`1402 AH` reads as 1981..1982.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache

from convertdate import islamic, persian
from hijridate import Hijri
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

#: Calendars a date may say it is written in, with how lists and users name them. Solar Hijri is
#: tried first: "Solar Hijri" also contains "Hijri".
HIJRI = "Hijri"
SOLAR_HIJRI = "Solar Hijri"
_CALENDAR_WORDS = (
    (SOLAR_HIJRI, r"solar\s+hijri|hijri\s+shamsi|shamsi|persian|jalali|iranian|s\.\s?h\.|sh|a\.\s?p\.|ap"),
    (HIJRI, r"(?:lunar\s+)?hijri(?:\s+qamari)?|hijra|islamic|umm\s+al[- ]qura|a\.\s?h\.|ah"),
)
_CALENDAR_NAME = "|".join(f"(?P<c{i}>{words})" for i, (_, words) in enumerate(_CALENDAR_WORDS))
#: "24/06/1402 (Hijri Calendar)", "1402 AH", "1361-01-12 (in the Solar Hijri calendar)".
_CALENDAR_AFTER = re.compile(
    rf"^(?P<date>.*?\d.*?)[\s,;]*\(?\s*(?:in\s+(?:the\s+)?)?(?<![a-z])(?:{_CALENDAR_NAME})(?:\s+calendar)?\s*\)?\.?\s*$", re.I
)
#: "Hijri Calendar 24/06/1426", "AH 1402", "Solar Hijri: 1361".
_CALENDAR_BEFORE = re.compile(rf"^\s*(?:in\s+(?:the\s+)?)?(?:{_CALENDAR_NAME})(?![a-z])(?:\s+calendar)?\s*[:,]?\s*(?P<date>\d.*)$", re.I)

#: Month names of the other calendars, as they are transliterated. A name here never names a
#: Gregorian month, so "1 Muharram 1446" is Hijri without a note.
_HIJRI_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("muharram", "muharrem"), ("safar",), ("rabi al-awwal", "rabi al-awal", "rabi i", "rabiul awal", "rabi ul awal", "rabi' al-awwal"),
            ("rabi al-thani", "rabi al-akhir", "rabi ii", "rabiul akhir", "rabi ul akhir", "rabi' al-thani", "rabi al-thaani"),
            ("jumada al-awwal", "jumada al-ula", "jumada i", "jumadal awal", "jumada al-oula"),
            ("jumada al-thani", "jumada al-akhirah", "jumada ii", "jumadal akhir", "jumada al-akhira"),
            ("rajab",), ("shaban", "sha'ban", "shaaban"), ("ramadan", "ramadhan", "ramazan"), ("shawwal", "shawal"),
            ("dhu al-qadah", "dhul qadah", "dhu al-qi'dah", "dhul qidah", "zulqadah", "dhu al-qadah"),
            ("dhu al-hijjah", "dhul hijjah", "dhu al-hijja", "zulhijjah", "dhul hijja"),
        ]
    )
    for m in names
}
_PERSIAN_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("farvardin",), ("ordibehesht",), ("khordad",), ("tir",), ("mordad", "amordad"), ("shahrivar",),
            ("mehr",), ("aban",), ("azar",), ("dey", "dei"), ("bahman",), ("esfand", "esfând"),
        ]
    )
    for m in names
}
#: A named month, for the other calendars' names (which hold spaces and apostrophes).
_NAMED_OTHER_MONTH = re.compile(r"^\s*(?:(\d{1,2})\s+)?([A-Za-z' -]{3,24}?)\.?,?\s+(\d{4})\s*$")


def parse_date(text: str) -> PartialDate:
    """Read a date of birth written as lists and users write them.

    Accepts `1971`, `1971-05`, `1971-05-02`, `02.05.1971`, `02/05/1971` (day first), month names
    (`08 Feb 1980`, `Nov. 1973`, `12 February 1961`), ranges
    `1960-1965` / `1960 to 1965`, and approximate forms `circa 1975`, `c. 1975`, `approx. 1975`,
    `~1975`. Zero month or day (`1960-00-00`, as some lists publish for "unknown") keep only what
    is known. A date that names its calendar (`24/06/1402 (Hijri Calendar)`, `1402 AH`,
    `1361 SH`, `1 Muharram 1446`) is converted to Gregorian (see the module doc). Raises
    ValueError naming what is wrong.
    """
    written = calendar_of(text)
    if written is None:
        return _parse_gregorian(text, _MONTHS)
    calendar, inner = written
    other = _parse_gregorian(inner, _HIJRI_MONTHS if calendar == HIJRI else _PERSIAN_MONTHS, raw=text)
    try:
        return _to_gregorian(other, calendar)
    except ValueError as exc:
        raise ValueError(f"impossible date {text.strip()!r}: {exc}") from None


def calendar_of(text: str) -> tuple[str, str] | None:
    """(calendar, the date without its calendar note) for a date written in another calendar
    (HIJRI or SOLAR_HIJRI), else None (the date is Gregorian)."""
    if not any(c.isalpha() for c in text):  # the common case, decided without a regex
        return None
    for pattern in (_CALENDAR_AFTER, _CALENDAR_BEFORE):
        m = pattern.match(text)
        if m is not None:
            for i, (calendar, _) in enumerate(_CALENDAR_WORDS):
                if m.group(f"c{i}") is not None:
                    return calendar, m.group("date")
    named = _NAMED_OTHER_MONTH.match(text)
    if named is not None:
        month = _month_key(named.group(2))
        if month in _HIJRI_MONTHS:
            return HIJRI, text
        if month in _PERSIAN_MONTHS:
            return SOLAR_HIJRI, text
    return None


def date_note(text: str, parsed: PartialDate) -> str | None:
    """What a reader keeps in notes for a date it converted from another calendar (the original
    as written and what it was read as), or None for a Gregorian date."""
    written = calendar_of(text)
    if written is None:
        return None
    return f"date of birth as written: {' '.join(text.split())}; read as {parsed} (from the {written[0]} calendar)"


def _month_key(name: str) -> str:
    return " ".join(name.lower().replace("-", " - ").split()).replace(" - ", "-")


def _parse_gregorian(text: str, months: Mapping[str, int], raw: str | None = None) -> PartialDate:
    """The date's fields as written (year, month, day, form), months named from `months`."""
    raw = text if raw is None else raw
    text = text.strip()
    if not text:
        raise ValueError("empty date")
    approx = _APPROX.match(text)
    if approx:
        inner = _parse_gregorian(approx.group(1), months, raw)
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
            named = (_NAMED_MONTH if months is _MONTHS else _NAMED_OTHER_MONTH).match(text)
            if not named or _month_key(named.group(2)) not in months:
                raise ValueError(f"unreadable date {raw!r}")
            day = int(named.group(1)) if named.group(1) else None
            try:
                return PartialDate(int(named.group(3)), months[_month_key(named.group(2))], day)
            except ValueError as exc:
                raise ValueError(f"impossible date {raw!r}: {exc}") from None
        day, month, year = d.group(1), d.group(2), int(d.group(3))
    mon = int(month) if month and int(month) != 0 else None
    dy = int(day) if day and int(day) != 0 and mon is not None else None
    try:
        return PartialDate(year, mon, dy)
    except ValueError as exc:
        raise ValueError(f"impossible date {raw!r}: {exc}") from None


def _hijri_days(year: int, month: int) -> int:
    try:
        return int(Hijri(year, month, 1).month_length())
    except OverflowError:  # outside Umm al-Qura's tables: the arithmetical calendar
        return int(islamic.month_length(year, month))


def _hijri(year: int, month: int, day: int) -> date:
    try:
        return Hijri(year, month, day).to_gregorian()  # type: ignore[no-any-return]
    except OverflowError:
        return date(*islamic.to_gregorian(year, month, day))


def _persian(year: int, month: int, day: int) -> date:
    return date(*persian.to_gregorian(year, month, day))


#: calendar -> (days in a month, the Gregorian date of a day).
_CONVERTERS: dict[str, tuple[Callable[[int, int], int], Callable[[int, int, int], date]]] = {
    HIJRI: (_hijri_days, _hijri),
    SOLAR_HIJRI: (lambda y, m: int(persian.month_length(y, m)), _persian),
}


def _to_gregorian(d: PartialDate, calendar: str) -> PartialDate:
    """The Gregorian date holding all of `d` (written in `calendar`): the first and the last day
    it may mean are converted, and what they share is kept."""
    days, convert = _CONVERTERS[calendar]
    if d.kind is DateKind.APPROXIMATE:
        inner = _to_gregorian(PartialDate(d.year, d.month, d.day), calendar)
        return PartialDate(inner.year, inner.month, inner.day, DateKind.APPROXIMATE) if inner.kind is DateKind.EXACT else inner
    last_year = d.year_to if d.kind is DateKind.BETWEEN and d.year_to is not None else d.year
    if d.day is not None and d.month is not None:
        length = days(d.year, d.month)
        if d.day > length:
            raise ValueError(f"day {d.day} is past the end of month {d.month} of {calendar} year {d.year} ({length} days)")
        one = convert(d.year, d.month, d.day)
        return PartialDate(one.year, one.month, one.day)
    first = convert(d.year, d.month or 1, 1)
    last_month = d.month or 12
    last = convert(last_year, last_month, days(last_year, last_month))
    if d.kind is DateKind.BETWEEN or first.year != last.year:
        return PartialDate(first.year, kind=DateKind.BETWEEN, year_to=last.year) if last.year > first.year else PartialDate(first.year)
    if first.month == last.month:
        return PartialDate(first.year, first.month)
    return PartialDate(first.year)


#: The fewest letters and digits a document number has to be compared on: the matcher
#: (`matching.compiled.normalise_document`) ignores shorter ones, so they are reported instead
#: of being silently lost ("N/A", "-", "0").
MIN_DOCUMENT_CHARS = 4
_DOCUMENT_CHARS = re.compile(r"[^0-9a-z]")


def document_problem(number: str) -> str | None:
    """Why a document number cannot be compared (None when it can): fewer than
    MIN_DOCUMENT_CHARS letters or digits once spaces, dashes and leading zeros are left out."""
    significant = _DOCUMENT_CHARS.sub("", number.lower()).lstrip("0")
    if len(significant) < MIN_DOCUMENT_CHARS:
        return f"document number {number!r} has {len(significant)} significant letters or digits; at least {MIN_DOCUMENT_CHARS} are needed to compare it"
    return None


@lru_cache(maxsize=1)
def _exact_territories() -> dict[str, str]:
    """Codes (alpha-2, alpha-3, other codes) and English names and full names of territories,
    case-folded, to their code: rigour's index, read in milliseconds. `lookup_territory` first
    builds a normalised table of every name, demonym and place (about 2 s), which a 10-row
    screening file should not wait for when it writes "KZ" or "Kazakhstan"."""
    from rigour.territories.territory import get_index

    table: dict[str, str] = {}
    for territory in get_index().values():
        for value in (territory.name, territory.full_name):
            if value:
                table.setdefault(value.casefold(), territory.code)
    try:  # rigour's strong names too (Hong Kong, Türkiye ...): read, not normalised
        from rigour.territories.lookup import _load_territory_names

        for territory, strongs, _, _ in _load_territory_names():
            for value in strongs:
                if value:
                    table.setdefault(value.casefold(), territory.code)
    except (ImportError, AttributeError, KeyError):  # another rigour: names and codes suffice
        pass
    for territory in get_index().values():  # codes win over a name spelled like a code
        for code in (territory.code, territory.alpha3, *territory.other_codes):
            if code:
                table[code.casefold()] = territory.code
    return table


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """ISO 3166-1 alpha-2 (FtM form, lower case) for a country name, demonym or code; None if unknown.
    Codes and exact English names are read from a table that costs nothing to build; anything
    else goes to rigour's full lookup (demonyms, other languages, fuzzy)."""
    text = text.strip()
    if not text:
        return None
    exact = _exact_territories().get(text.casefold())
    if exact is not None:
        return exact
    territory = lookup_territory(text)
    if territory is None and len(text) > 3:
        territory = lookup_territory(text, fuzzy=True)
    return territory.code if territory is not None else None
