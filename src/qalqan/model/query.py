"""What a user screens: a name with whatever else they know."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qalqan.model.entity import SCHEMATA, Document, PartialDate

#: A bad value is echoed in a warning cut to this many characters: enough to recognise a typo,
#: never a megabyte of junk copied into every output line.
SHOWN_VALUE_CHARS = 80


@dataclass(frozen=True, slots=True)
class FieldWarning:
    """A value of a query that could not be read and was left out: the query is screened on
    everything else (a typo in a date must not hide a listed person), and the warning travels
    with its result so the user knows what was not compared.

    `field` is the input column or FtM property, `value` the bad value as written (cut to
    SHOWN_VALUE_CHARS; None when it was not text), `message` what is wrong with it.
    """

    field: str
    value: str | None
    message: str

    @classmethod
    def of(cls, field: str, raw: object, message: str) -> FieldWarning:
        """A warning echoing `raw` safely: cut, and with undecodable characters escaped so the
        output stays valid UTF-8."""
        if not isinstance(raw, str):
            return cls(field, None, message)
        shown = raw if len(raw) <= SHOWN_VALUE_CHARS else raw[:SHOWN_VALUE_CHARS] + "…"
        # NUL too: a warning may be stored (a job's result), and PostgreSQL refuses it in text.
        return cls(field, shown.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00"), message)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class Query:
    """A screening query. Only `names` is required.

    `schema` is an FtM schema; "LegalEntity" or "Thing"-like uncertainty is expressed as
    "LegalEntity", which may match people and organisations alike.
    """

    names: tuple[str, ...]
    schema: str = "Person"
    id: str | None = None
    birth_dates: tuple[PartialDate, ...] = ()
    nationalities: tuple[str, ...] = ()  # ISO alpha-2, lower case
    countries: tuple[str, ...] = ()
    gender: str | None = None  # "male" / "female" / "other"
    documents: tuple[Document, ...] = ()

    def __post_init__(self) -> None:
        if self.schema not in SCHEMATA:
            raise ValueError(f"unknown schema {self.schema!r}; expected one of {SCHEMATA}")
        if not any(n.strip() for n in self.names):
            raise ValueError("a query needs at least one non-empty name")
