"""Lost and stolen travel documents: the list a PIU checks every traveller's documents against
(INTERPOL's SLTD model: number, issuing country, type, date reported), read from CSV. Pure.

A document number is compared on its key: upper case, letters and digits only (carriers write
"AB 123-456" where the list writes "AB123456"). Where both sides name the issuing country they
must agree; a number alone still hits when either side lacks the country (a lost passport must
not slip through because a message left the country out).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from qalqan.sources.values import country_code, parse_date

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
#: Header names accepted for each column (lower case, spaces and dashes as "_").
COLUMNS = {
    "number": ("number", "document_number", "doc_number", "document"),
    "country": ("country", "issuing_country", "issuer", "issuing_state"),
    "type": ("type", "document_type", "doc_type"),
    "reported": ("reported", "reported_date", "date_reported", "date"),
}


class DocumentListError(ValueError):
    """A document list that cannot be read; `row` is the 1-based data row (0: the header)."""

    def __init__(self, message: str, *, row: int = 0, field: str = ""):
        where = f" (row {row}{', field ' + field if field else ''})" if row else (f" ({field})" if field else "")
        super().__init__(message + where)
        self.row, self.field = row, field


@dataclass(frozen=True, slots=True)
class LostDocument:
    number: str
    country: str | None = None  # ISO alpha-2, lower case (FtM's form)
    type: str | None = None
    reported: str | None = None  # ISO date

    @property
    def key(self) -> str:
        return document_key(self.number)

    @property
    def caption(self) -> str:
        parts = [self.type or "document", self.number]
        if self.country:
            parts.append(f"({self.country.upper()})")
        return " ".join(parts)


def document_key(number: str) -> str:
    return _NOT_ALNUM.sub("", (number or "").upper())


def _header(row: list[str]) -> dict[str, int]:
    names = [re.sub(r"[\s-]+", "_", h.strip().lower()) for h in row]
    found = {}
    for column, accepted in COLUMNS.items():
        for i, name in enumerate(names):
            if name in accepted:
                found[column] = i
                break
    if "number" not in found:
        raise DocumentListError(f"no document number column; expected a header with one of: {', '.join(COLUMNS['number'])}", field="number")
    return found


def read_documents(data: bytes | str) -> tuple[list[LostDocument], list[str]]:
    """(documents, warnings). A row without a number is refused (DocumentListError naming the
    row); an unknown country or an unreadable date is dropped from that row with a warning (the
    number is what is checked)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DocumentListError("the document list is empty") from None
    cols = _header(header)
    docs: list[LostDocument] = []
    warnings: list[str] = []
    for n, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = cols.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        number = cell("number")
        if not document_key(number):
            raise DocumentListError("a document without a number", row=n, field="number")
        country = None
        if cell("country"):
            country = country_code(cell("country"))
            if country is None:
                warnings.append(f"row {n}: unknown issuing country {cell('country')!r} dropped")
        reported = None
        if cell("reported"):
            parsed = parse_date(cell("reported"))
            if parsed is None:
                warnings.append(f"row {n}: unreadable reported date {cell('reported')!r} dropped")
            else:
                reported = parsed.iso()
        docs.append(LostDocument(number=number, country=country, type=cell("type") or None, reported=reported))
    return docs, warnings


def find_lost(documents: Iterable[Mapping[str, str | None]], index: Mapping[str, list[LostDocument]]) -> Iterator[tuple[Mapping[str, str | None], LostDocument]]:
    """(traveller's document, listed lost document) for each of `documents` ({"number",
    "country"}) whose number is in `index` (key -> documents) and whose country does not
    contradict."""
    for doc in documents:
        for lost in index.get(document_key(doc.get("number") or ""), ()):
            theirs = doc.get("country")
            if lost.country and theirs and lost.country != theirs:
                continue
            yield doc, lost
