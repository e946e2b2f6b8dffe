"""Helpers every reader shares: bounded names, free-text dates, country lookups with reporting."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qalqan.model import DateKind, Entity, Name, NameKind, NameQuality, PartialDate, Report
from qalqan.sources.values import country_code

#: Longest name kept. Real listed names stay under ~400 characters (long Russian state-company
#: names); anything far longer is a broken or hostile file, so it is cut (with a warning) rather
#: than fed to the matcher.
MAX_NAME_LENGTH = 1000

_SPACE = re.compile(r"\s+")
def clean(text: str | None) -> str:
    """Collapse whitespace (lists wrap long values over lines) and strip."""
    if not text:
        return ""
    return _SPACE.sub(" ", text).strip()


def bounded_name(value: str, report: Report, file: str, record: str | None, fld: str) -> str:
    """Whitespace-normalised name, cut to MAX_NAME_LENGTH with a warning if longer."""
    if len(value) > MAX_NAME_LENGTH * 4:
        value = value[: MAX_NAME_LENGTH * 4]  # avoid regex work on megabytes of text
    value = clean(value)
    if len(value) > MAX_NAME_LENGTH:
        report.warn(file, record, fld, f"name of {len(value)}+ characters cut to {MAX_NAME_LENGTH}")
        value = value[:MAX_NAME_LENGTH].rstrip()
    return value


def approximate(d: PartialDate) -> PartialDate:
    if d.kind is DateKind.BETWEEN:
        return d
    return PartialDate(d.year, d.month, d.day, DateKind.APPROXIMATE)


@dataclass(slots=True)
class Countries:
    """Country lookups that report what they cannot resolve, keeping the raw text in notes."""

    report: Report
    file: str

    def code(self, text: str, record: str | None, fld: str, notes: list[str] | None = None) -> str | None:
        text = clean(text)
        if not text:
            return None
        code = country_code(text)
        if code is None:
            self.report.warn(self.file, record, fld, f"unknown country {text[:80]!r}; kept in notes")
            if notes is not None:
                notes.append(f"{fld}: {text}")
        return code


def add_name(
    names: list[Name],
    value: str,
    kind: NameKind = NameKind.PRIMARY,
    quality: NameQuality = NameQuality.GOOD,
    parts: tuple[tuple[str, str], ...] = (),
) -> None:
    """Append a name unless empty or already present with the same kind."""
    if not value:
        return
    for n in names:
        if n.value == value and (n.kind == kind or kind is not NameKind.PRIMARY and n.kind is NameKind.PRIMARY):
            return
    names.append(Name(value, kind, quality, parts))


def dedupe(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


@dataclass(slots=True)
class Parsed:
    """What a format reader hands the registry: the entities and the publisher's metadata."""

    entities: list[Entity]
    published: str | None = None
    title: str = ""
