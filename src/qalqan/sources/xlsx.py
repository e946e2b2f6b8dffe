"""Screening input from an Excel workbook (XLSX): the rows of its first sheet, as text.

Analysts keep their lists of customers or travellers in spreadsheets; saving them as CSV first
loses non-Latin names to the wrong encoding and leading zeros to Excel. `SheetReader` reads the
first worksheet in openpyxl's streaming (`read_only`) mode, so memory stays bounded for sheets
of a million rows, and gives each row as a list of strings, the way `csv.reader` does: the
screening-input reader (`sources.queries`) then applies the very same column rules to it as to
a CSV file (header row = columns, unknown columns refused, a row longer than the header an
error in its place).

Cells are turned into the text a CSV export would hold: numbers without a spurious `.0`
(Excel stores every number as a float), dates as ISO dates (Excel turns a typed `1974-01-15`
into a date cell), formulas as their last computed value. Blank rows are skipped and trailing
empty cells dropped: spreadsheets keep formatted but empty cells that are no data. With
`defusedxml` installed (a dependency), openpyxl parses the workbook's XML with entity expansion
refused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import TracebackType
from typing import Any

from qalqan.model import ListError

#: File names read as workbooks whatever their first bytes; any other file is one when it
#: starts like a ZIP archive (an XLSX file is a ZIP of XML parts).
XLSX_SUFFIXES = (".xlsx", ".xlsm")
ZIP_MAGIC = b"PK\x03\x04"
#: Floats up to this size that are whole numbers are written without a decimal point (an id
#: or document number typed into Excel); beyond it a float is no longer exact.
EXACT_FLOAT = 2**53


def is_workbook(path: Path) -> bool:
    """Whether `path` is to be read as an XLSX workbook: by its name, or by its ZIP signature."""
    if path.suffix.lower() in XLSX_SUFFIXES:
        return True
    with open(path, "rb") as fh:
        return fh.read(len(ZIP_MAGIC)) == ZIP_MAGIC


def cell_text(value: Any) -> str:
    """The text of one cell value as openpyxl reads it (None for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < EXACT_FLOAT:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class SheetReader:
    """The first worksheet of a workbook, row by row, as lists of strings (like `csv.reader`).

    `line_num` is the spreadsheet row number of the row last returned, for messages. Use it as
    a context manager (or call `close`): openpyxl's streaming mode keeps the file open.
    """

    def __init__(self, path: Path):
        from openpyxl import load_workbook

        self.path = path
        self.line_num = 0
        # Opened here and handed over as a file: given a name, openpyxl refuses any that does
        # not end in .xlsx, and a workbook is one by its content.
        self._file = open(path, "rb")
        try:
            self._book = load_workbook(self._file, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # a broken ZIP, a missing part, malformed or unsafe XML
            self._file.close()
            raise ListError(str(path), f"not a readable XLSX workbook: {_reason(exc)}") from None
        try:
            if not self._book.worksheets:
                raise ListError(str(path), "the workbook has no worksheet")
            self.sheet = self._book.worksheets[0]
            self._rows = self.sheet.iter_rows(values_only=True)
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> SheetReader:
        return self

    def __next__(self) -> list[str]:
        while True:
            try:
                values = next(self._rows)
            except StopIteration:
                raise
            except Exception as exc:  # corrupt sheet XML found mid-way: the rest cannot be trusted
                raise ListError(str(self.path), f"unreadable worksheet {self.sheet.title!r} after row {self.line_num}: {_reason(exc)}", record=str(self.line_num + 1)) from None
            self.line_num += 1
            cells = [cell_text(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                return cells

    def close(self) -> None:
        self._book.close()
        self._file.close()

    def __enter__(self) -> SheetReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
