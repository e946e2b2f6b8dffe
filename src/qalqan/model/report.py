"""Problems found while reading a list or an input file, named by file, record and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    WARNING = "warning"  # the record was kept; one value was dropped or repaired
    ERROR = "error"  # the record could not be used and was skipped (and reported)


@dataclass(frozen=True, slots=True)
class RecordIssue:
    file: str
    record: str | None  # the source's own record id (DATAID, uid, row number, ...)
    field: str | None
    message: str
    severity: Severity = Severity.WARNING

    def __str__(self) -> str:
        where = self.file
        if self.record is not None:
            where += f" record {self.record}"
        if self.field is not None:
            where += f" field {self.field}"
        return f"{self.severity}: {where}: {self.message}"


class ListError(Exception):
    """The whole list (or input file) cannot be used: malformed, truncated, unsafe, unreadable.

    A list that raises this is never partially loaded: the caller keeps its previous version.
    """

    def __init__(self, file: str, message: str, record: str | None = None, field: str | None = None):
        self.file, self.record, self.field = file, record, field
        where = file + (f" record {record}" if record else "") + (f" field {field}" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass(slots=True)
class Report:
    """Collects the issues of one read. Readers never drop a record without adding an issue."""

    issues: list[RecordIssue] = field(default_factory=list)
    records_read: int = 0
    records_skipped: int = 0

    def warn(self, file: str, record: str | None, fld: str | None, message: str) -> None:
        self.issues.append(RecordIssue(file, record, fld, message, Severity.WARNING))

    def error(self, file: str, record: str | None, fld: str | None, message: str) -> None:
        self.records_skipped += 1
        self.issues.append(RecordIssue(file, record, fld, message, Severity.ERROR))

    @property
    def warnings(self) -> list[RecordIssue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def errors(self) -> list[RecordIssue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]
