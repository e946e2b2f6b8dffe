"""What a travel message says, as plain data: the message, its flight legs and its travellers.

Both readers (`travel.paxlst` for API, `travel.pnrgov` for PNR) produce these; screening and
storage read nothing else. Values are kept as the message wrote them (names in upper case, dates
as ISO strings where the message gives a full date), with the segment each came from where an
analyst may need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MessageError(ValueError):
    """A message that cannot be read: `segment` is the segment's tag ("UNT", "NAD", ...) and
    `position` its 1-based index in the message (0: before any segment, e.g. a bad UNA)."""

    def __init__(self, message: str, *, segment: str = "", position: int = 0):
        where = f" (segment {position}: {segment})" if segment else (f" (segment {position})" if position else "")
        super().__init__(message + where)
        self.segment = segment
        self.position = position


@dataclass(frozen=True, slots=True)
class FlightLeg:
    carrier: str  # IATA airline code, e.g. "LH"
    number: str  # flight number without the carrier, e.g. "0123"
    origin: str  # IATA airport code
    destination: str
    departure: str | None = None  # ISO 8601 local date-time as given ("2019-08-29T13:30"), or a date
    arrival: str | None = None
    operating_carrier: str | None = None  # a code share: who flies it
    operating_number: str | None = None


@dataclass(frozen=True, slots=True)
class TravelDocument:
    number: str
    type: str | None = None  # "P" passport, "V" visa, "I" identity card, ...
    issuing_country: str | None = None  # ISO 3166 alpha-3 or alpha-2 as given
    expiry: str | None = None  # ISO date


@dataclass(frozen=True, slots=True)
class Traveller:
    surname: str
    given_names: str = ""
    role: str = "passenger"  # "passenger" | "crew" | "infant"
    birth_date: str | None = None  # ISO date (YYYY-MM-DD) where the message gives a full date
    gender: str | None = None  # "male" | "female" | "unknown"
    nationality: str | None = None  # as given (ISO alpha-3 in API messages)
    documents: tuple[TravelDocument, ...] = ()
    residence_country: str | None = None
    booking_reference: str | None = None  # PNR record locator
    legs: tuple[int, ...] = ()  # indexes into Message.legs this traveller flies (empty: all)
    address: str | None = None  # contact/address text (PNR ADD; depersonalised after the retention period)
    contacts: tuple[str, ...] = ()  # phone / e-mail (PNR)
    frequent_flyer: str | None = None
    payment: str | None = None  # form of payment text (PNR FOP)
    tickets: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()  # free text (PNR IFT / SSR OTHS), special categories removed


@dataclass(frozen=True, slots=True)
class Message:
    kind: str  # "PAXLST" | "PNRGOV"
    version: str  # "D:02B", "D:05B", "11:1", ...
    reference: str  # UNH message reference
    sender: str | None
    sent_at: str | None  # ISO date-time from UNB / BGM / DTM where given
    legs: tuple[FlightLeg, ...]
    travellers: tuple[Traveller, ...]
    warnings: tuple[str, ...] = field(default=())  # what was dropped (special categories, unknown qualifiers)
