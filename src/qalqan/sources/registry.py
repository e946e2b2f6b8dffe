"""Finding a list's format from its content and reading it whole.

`read_list("PATH")` or `read_list("FORMAT:PATH")` returns a complete `LoadedList` or raises
`ListError`: a list is never handed out half-read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from qalqan.model import Entity, ListError, ListInfo, Report
from qalqan.model.identifiers import check_identifier
from qalqan.sources import canada, ftm, ofac, un
from qalqan.sources import csv as csv_reader
from qalqan.sources.common import Parsed
from qalqan.sources.files import file_sha256
from qalqan.sources.xmlsafe import root_info

FORMATS = ("un", "ofac", "canada", "ftm", "csv")
#: How much of a file's start is read to decide its format. XML roots and a CSV header or a JSON
#: line's start all fall well within this.
SNIFF_BYTES = 8192
#: Fixed list names (used in entity ids); csv and ftm lists are named after their file.
LIST_NAMES = {"un": "un", "ofac": "ofac", "canada": "ca"}
#: Names no list may take: the HTTP API's `/match/default` and `/match/sanctions` (yente's
#: collection names) screen against every list, so a list so named could never be chosen alone.
RESERVED_LIST_NAMES = ("default", "sanctions", "travel-documents")  # the last: the lost and stolen documents (service.travel)
#: The longest list name: what the store's column holds.
MAX_LIST_NAME = 64
_XML_ROOTS = {"CONSOLIDATED_LIST": "un", "sdnList": "ofac", "data-set": "canada"}
_SPEC = re.compile(r"^(un|ofac|canada|ftm|csv):(.+)$", re.I)

_READERS: dict[str, Callable[..., Parsed]] = {
    "un": un.read,
    "ofac": ofac.read,
    "canada": canada.read,
    "ftm": ftm.read,
    "csv": csv_reader.read,
}


@dataclass(slots=True)
class LoadedList:
    info: ListInfo
    entities: list[Entity]
    report: Report = field(default_factory=Report)


def detect_format(path: str | Path) -> str:
    """"un" | "ofac" | "canada" | "ftm" | "csv", from the file's content (its extension is ignored)."""
    path = Path(path)
    file = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise ListError(file, f"cannot read: {exc}") from None
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise ListError(file, "empty file")
    if text.startswith(b"<"):
        root, _ns, _attrs = root_info(path)
        fmt = _XML_ROOTS.get(root)
        if fmt is None:
            raise ListError(file, f"unknown XML list format: root element <{root}>")
        return fmt
    if text.startswith(b"{"):
        return "ftm"
    first_line = text.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    header = [c.strip().strip('"') for c in first_line.split(",")]
    if "id" in header or "name" in header:  # read_list then names any missing required column
        return "csv"
    raise ListError(file, "unknown list format: not UN/OFAC/Canada XML, FtM JSON lines or the CSV template (header with 'id')")


def _check_list_name(file: str, name: str) -> None:
    """A list name is an identifier (no control or bidi characters), fits the store's column,
    and is none of the names `/match/{list}` reads as "every list"."""
    try:
        check_identifier(name, "list name", reserved=RESERVED_LIST_NAMES)
    except ValueError as exc:
        raise ListError(file, str(exc), field="name") from None
    if len(name) > MAX_LIST_NAME:
        raise ListError(file, f"list name is {len(name)} characters long; at most {MAX_LIST_NAME}", field="name")


def read_list(spec: str, report: Report | None = None, name: str | None = None) -> LoadedList:
    """Read a whole list from "PATH" or "FORMAT:PATH". Raises ListError if it cannot be used as a whole.

    `name` overrides the list name used in entity ids (default: "un", "ofac", "ca", or the file
    stem for csv and ftm lists).
    """
    m = _SPEC.match(spec)
    if m and not Path(spec).exists():
        fmt, path = m.group(1).lower(), Path(m.group(2))
    else:
        fmt, path = None, Path(spec)
    file = str(path)
    if not path.is_file():
        raise ListError(file, "no such file")
    if fmt is None:
        fmt = detect_format(path)
    report = report if report is not None else Report()
    list_name = name or LIST_NAMES.get(fmt) or path.stem
    _check_list_name(file, list_name)
    loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        sha = file_sha256(path)
        parsed = _READERS[fmt](path, report, list_name)
    except OSError as exc:
        raise ListError(file, f"cannot read: {exc}") from None
    except RecursionError:
        raise ListError(file, "document nested too deeply") from None
    if not parsed.entities:
        raise ListError(file, f"no usable entities in the list ({len(report.errors)} records rejected)")
    ids = Counter(e.id for e in parsed.entities)
    dupes = [i for i, c in ids.items() if c > 1]
    if dupes:
        raise ListError(file, f"{len(dupes)} entity ids occur more than once, e.g. {dupes[0]!r}", record=dupes[0])
    counts = Counter(e.schema for e in parsed.entities)
    info = ListInfo(
        name=list_name,
        format=fmt,
        source=file,
        title=parsed.title,
        published=parsed.published,
        loaded_at=loaded_at,
        sha256=sha,
        counts=dict(sorted(counts.items())),
        warnings=len(report.warnings),
        skipped=report.records_skipped,
    )
    return LoadedList(info, parsed.entities, report)
