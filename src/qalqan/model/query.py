"""What a user screens: a name with whatever else they know."""

from __future__ import annotations

from dataclasses import dataclass

from qalqan.model.entity import SCHEMATA, Document, PartialDate


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
