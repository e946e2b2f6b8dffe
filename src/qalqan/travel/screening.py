"""Travellers as screening queries, and a message screened traveller by traveller. Pure: the
screener is passed in (the service's live one, or one built over a list file).

A traveller becomes a `Query` on everything the message says about them: the name in natural
order (the engine reads "SURNAME, Given" orders itself), the birth date, the nationality, the
gender and every travel document (type, number, issuing country), so a document number listed
against a person is evidence like the name. A field that does not read (a country code no one
knows, an impossible date) is dropped with the rest kept: a bad field never hides a traveller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from qalqan.matching.screener import Screener
from qalqan.model import Document, Match, PartialDate, Query
from qalqan.sources.values import country_code
from qalqan.travel.model import FlightLeg, Message, Traveller

#: Document type codes of API/PNR messages (ICAO 9303 / PNRGOV DOCS) -> the words lists use.
DOCUMENT_TYPES = {"P": "Passport", "PT": "Passport", "PP": "Passport", "V": "Visa", "I": "Identity card", "ID": "Identity card",
                  "A": "Identity card", "C": "Identity card", "IP": "Passport card", "AC": "Crew member certificate", "F": "Facilitation document"}


def _birth_date(value: str | None) -> tuple[PartialDate, ...]:
    if not value:
        return ()
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return ()
    return (PartialDate(day.year, day.month, day.day),)


def _country(value: str | None) -> str | None:
    return country_code(value) if value else None


def traveller_query(traveller: Traveller, query_id: str | None = None) -> Query:
    """The screening query for one traveller."""
    name = " ".join(part for part in (traveller.given_names, traveller.surname) if part).strip()
    nationality = _country(traveller.nationality)
    documents = tuple(
        Document(number=d.number, type=DOCUMENT_TYPES.get((d.type or "").upper(), d.type or None), country=_country(d.issuing_country))
        for d in traveller.documents
        if d.number
    )
    gender = traveller.gender if traveller.gender in ("male", "female") else None
    return Query(names=(name,) if name else (), schema="Person", id=query_id, birth_dates=_birth_date(traveller.birth_date),
                 nationalities=(nationality,) if nationality else (), gender=gender, documents=documents)


@dataclass(frozen=True, slots=True)
class TravellerHit:
    """One traveller of a message and the listed entities it matched, with its flight context."""

    message: Message
    index: int  # the traveller's position in message.travellers
    traveller: Traveller
    legs: tuple[FlightLeg, ...]  # the legs they fly
    matches: tuple[Match, ...]

    @property
    def first_departure(self) -> str | None:
        times = [leg.departure for leg in self.legs if leg.departure]
        return min(times) if times else None


def legs_of(message: Message, traveller: Traveller) -> tuple[FlightLeg, ...]:
    if not traveller.legs:
        return message.legs
    return tuple(message.legs[i] for i in traveller.legs if 0 <= i < len(message.legs))


def screen_message(screener: Screener, message: Message, *, threshold: float | None = None, limit: int = 3,
                   lists: Sequence[str] | None = None) -> list[TravellerHit]:
    """Every traveller of `message` screened; those with at least one match at `threshold`
    (default: the screener's calibrated one), best first, in the message's order."""
    # Only matches are kept, so candidates below the threshold need not be scored in full nor
    # explained: `cutoff` at the threshold returns exactly the matches among the `limit` best
    # (every candidate at or above it ranks before every one below it).
    threshold = screener.threshold if threshold is None else threshold
    hits = []
    for i, traveller in enumerate(message.travellers):
        query = traveller_query(traveller, f"{message.reference}/{i + 1}")
        if not query.names:
            continue
        found = tuple(m for m in screener.match(query, limit=limit, threshold=threshold, lists=lists, cutoff=threshold) if m.match)
        if found:
            hits.append(TravellerHit(message, i, traveller, legs_of(message, traveller), found))
    return hits


def read_message(text: str | bytes, *, today: date | None = None) -> list[Message]:
    """The messages of an interchange, API or PNR, told apart by their UNH message type."""
    head = text[:4096].decode("latin-1") if isinstance(text, bytes) else text[:4096]
    if "PNRGOV" in head:
        from qalqan.travel.pnrgov import read_pnrgov

        return read_pnrgov(text, today=today)
    from qalqan.travel.paxlst import read_paxlst

    return read_paxlst(text, today=today)
