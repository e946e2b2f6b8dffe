"""UN/EDIFACT PAXLST (Advance Passenger Information, D:02B / D:05B) → `travel.model.Message`s.

One `Message` per UNH..UNT. The flight groups (TDT + LOC/DTM) become `FlightLeg`s; each NAD
(FL passenger, FM crew, DDT in-transit crew, DDU in-transit passenger) with its ATT, DTM, LOC,
NAT, RFF and DOC (+ DTM/LOC) becomes a `Traveller`. The two closed code lists the reader relies
on are enforced: a BGM document name code or a NAD party qualifier it does not know raises
`MessageError` (segment, position, value), since a traveller of unknown role cannot be screened
correctly. Other unknown qualifiers are not errors: they are noted in `Message.warnings`, as are
a wrong UNT count or reference, a wrong UNZ/UNE reference and characters outside the declared
UNOA/UNOB level (real files have all of these). Pure: takes text, reads no files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from qalqan.travel.edifact import Segment, check_counts, check_interchange, edifact_date, element, segments
from qalqan.travel.model import FlightLeg, Message, MessageError, TravelDocument, Traveller

__all__ = ["read_paxlst"]

VERSIONS = {"D:02B", "D:05B"}
#: BGM 1001 document name codes.
LIST_KINDS = {"745": "passenger", "250": "crew", "266": "passenger", "336": "passenger", "655": "passenger"}
#: NAD 3035 party qualifiers of a traveller → role.
ROLES = {"FL": "passenger", "FM": "crew", "DDT": "crew", "DDU": "passenger", "COT": "crew", "ZZZ": "passenger"}
GENDERS = {"M": "male", "F": "female", "U": "unknown", "X": "unknown"}
#: RFF 1153 qualifiers known (AVF is read as the booking reference; the others are kept out).
KNOWN_RFF = {"AVF", "ABO", "AEA", "CR", "SEA", "ACD", "TN", "AKA", "ZZZ"}
#: LOC 3227 qualifiers at traveller level that are read or deliberately ignored.
KNOWN_TRAVELLER_LOC = {"178", "179", "174", "22", "180", "91"}
_IGNORED_TAGS = {"COM", "GEI", "FTX", "EMP", "ERP", "ERC", "QTY", "CPI", "MEA"}
_FLIGHT = re.compile(r"^([A-Z0-9]{2}[A-Z]?)\s*(\d{1,5}[A-Z]?)$")


@dataclass
class _Leg:
    carrier: str
    number: str
    origin: str = ""
    destination: str = ""
    departure: str | None = None
    arrival: str | None = None
    last_loc: str = ""  # "origin" | "destination": which end the next DTM belongs to


@dataclass
class _Doc:
    number: str
    type: str | None = None
    issuing_country: str | None = None
    expiry: str | None = None


@dataclass
class _Person:
    surname: str
    given_names: str
    role: str
    birth_date: str | None = None
    gender: str | None = None
    nationality: str | None = None
    residence_country: str | None = None
    booking_reference: str | None = None
    address: str | None = None
    embark: str = ""
    debark: str = ""
    documents: list[_Doc] = field(default_factory=list)


def _where(seg: Segment) -> str:
    return f"(segment {seg.position}: {seg.tag})"


def _split_flight(flight: str, carrier: str) -> tuple[str, str]:
    flight = flight.strip()
    if carrier and flight.startswith(carrier):
        return carrier, flight[len(carrier):].strip()
    m = _FLIGHT.match(flight)
    if m:
        return carrier or m.group(1), m.group(2)
    return carrier, flight


def _person_legs(p: _Person, legs: list[_Leg]) -> tuple[int, ...]:
    """Indexes of the legs from the embarkation to the debarkation airport (empty: all / unknown)."""
    if len(legs) < 2 or not (p.embark or p.debark):
        return ()
    start = next((i for i, leg in enumerate(legs) if leg.origin == p.embark), 0 if not p.embark else None)
    if start is None:
        return ()
    end = next((i for i in range(start, len(legs)) if legs[i].destination == p.debark), len(legs) - 1 if not p.debark else None)
    if end is None:
        return ()
    span = tuple(range(start, end + 1))
    return () if len(span) == len(legs) else span


def _read_one(segs: list[Segment], header: dict, today: date, warnings: list[str]) -> Message:
    unh = segs[0]
    reference = element(unh, 0)
    kind = element(unh, 1, 0)
    if kind != "PAXLST":
        raise MessageError(f"not a PAXLST message: {kind!r}", segment="UNH", position=unh.position)
    version = f"{element(unh, 1, 1)}:{element(unh, 1, 2)}"
    if version not in VERSIONS:
        warnings.append(f"PAXLST version {version} not one of {sorted(VERSIONS)}; read as D:05B {_where(unh)}")
    sent_at = header.get("sent_at")
    legs: list[_Leg] = []
    people: list[_Person] = []
    context = "header"  # "header" | "flight" | "traveller" | "document"
    declared_count: tuple[int, Segment] | None = None

    for seg in segs[1:-1]:
        tag = seg.tag
        q = element(seg, 0, 0)
        if tag == "BGM":
            if q not in LIST_KINDS:
                raise MessageError(f"BGM document name code {q!r} unknown", segment="BGM", position=seg.position)
        elif tag == "TDT":
            if q != "20":
                warnings.append(f"TDT stage qualifier {q!r} unknown {_where(seg)}")
            carrier, number = _split_flight(element(seg, 1), element(seg, 4, 0))
            legs.append(_Leg(carrier, number))
            context = "flight"
        elif tag == "NAD":
            if q == "MS" or q == "":  # the reporting party (who sent the list)
                context = "header"
                continue
            role = ROLES.get(q)
            if role is None:
                raise MessageError(f"NAD party qualifier {q!r} unknown", segment="NAD", position=seg.position)
            surname = element(seg, 3, 0).strip().upper()
            given = " ".join(c.strip() for c in (seg.elements[3][1:] if len(seg.elements) > 3 and isinstance(seg.elements[3], list) else []) if c.strip()).upper()
            if not surname and element(seg, 2, 0):  # name in the free-form element (C058)
                surname = element(seg, 2, 0).strip().upper()
            address_parts = [element(seg, i, j) for i in range(4, 9) for j in range(3)]
            address = ", ".join(a.strip() for a in address_parts if a.strip()) or None
            if not surname:
                warnings.append(f"NAD {q} without a surname {_where(seg)}")
            people.append(_Person(surname, given, role, address=address))
            context = "traveller"
        elif tag == "LOC":
            place = element(seg, 1, 0).strip()
            if context == "flight":
                leg = legs[-1]
                if leg.origin and leg.destination and q in ("125", "92"):
                    leg = _Leg(leg.carrier, leg.number)  # a further stop in the same flight group
                    legs.append(leg)
                if q == "125" or (q == "92" and not leg.origin):
                    leg.origin, leg.last_loc = place, "origin"
                elif q in ("87", "92"):
                    leg.destination, leg.last_loc = place, "destination"
                else:
                    warnings.append(f"LOC qualifier {q!r} unknown in a flight group {_where(seg)}")
            elif context in ("traveller", "document") and people:
                p = people[-1]
                if q == "91":
                    if p.documents:
                        p.documents[-1].issuing_country = place
                    else:
                        warnings.append(f"LOC+91 (document issuer) without a DOC {_where(seg)}")
                elif q == "178":
                    p.embark = place
                elif q == "179":
                    p.debark = place
                elif q == "174":
                    p.residence_country = place
                elif q not in KNOWN_TRAVELLER_LOC:
                    warnings.append(f"LOC qualifier {q!r} unknown for a traveller {_where(seg)}")
            else:
                warnings.append(f"LOC+{q} outside a flight or traveller group {_where(seg)}")
        elif tag == "DTM":
            value, fmt = element(seg, 0, 1), element(seg, 0, 2)
            if context == "flight" and q in ("189", "232"):
                when = edifact_date(value, fmt)
                if when is None:
                    warnings.append(f"DTM+{q} date {value!r} not readable {_where(seg)}")
                elif q == "189":
                    legs[-1].departure = when
                else:
                    legs[-1].arrival = when
            elif context in ("traveller", "document") and people and q == "329":
                people[-1].birth_date = edifact_date(value, fmt, today=today)
                if people[-1].birth_date is None:
                    warnings.append(f"DTM+329 birth date {value!r} not readable {_where(seg)}")
            elif context == "document" and people and people[-1].documents and q == "36":
                people[-1].documents[-1].expiry = edifact_date(value, fmt)
                if people[-1].documents[-1].expiry is None:
                    warnings.append(f"DTM+36 expiry {value!r} not readable {_where(seg)}")
            elif context == "document" and q in ("182",):
                pass  # issue date
            elif context == "header" and q in ("137", "ZZZ"):
                sent_at = edifact_date(value, fmt) or sent_at
            else:
                warnings.append(f"DTM qualifier {q!r} unknown here ({context}) {_where(seg)}")
        elif tag == "ATT" and people and context in ("traveller", "document"):
            if q == "2":
                code = element(seg, 2, 0).strip().upper()
                people[-1].gender = GENDERS.get(code)
                if people[-1].gender is None:
                    warnings.append(f"ATT+2 gender {code!r} unknown {_where(seg)}")
            else:
                warnings.append(f"ATT qualifier {q!r} unknown {_where(seg)}")
        elif tag == "NAT" and people and context in ("traveller", "document"):
            if q == "2":
                people[-1].nationality = element(seg, 1, 0).strip() or None
            else:
                warnings.append(f"NAT qualifier {q!r} unknown {_where(seg)}")
        elif tag == "RFF":
            if q == "AVF" and people and context in ("traveller", "document"):
                people[-1].booking_reference = element(seg, 0, 1).strip() or None
            elif q not in KNOWN_RFF:
                warnings.append(f"RFF qualifier {q!r} unknown {_where(seg)}")
        elif tag == "DOC" and people and context in ("traveller", "document"):
            number = element(seg, 1, 0).strip()
            people[-1].documents.append(_Doc(number, q.strip() or None))
            if not number:
                warnings.append(f"DOC without a document number {_where(seg)}")
            context = "document"
        elif tag == "CNT":
            if q == "42" and element(seg, 0, 1).isdigit():
                declared_count = (int(element(seg, 0, 1)), seg)
        elif tag in _IGNORED_TAGS:
            pass
        else:
            warnings.append(f"segment {tag} not read {_where(seg)}")

    if declared_count is not None and declared_count[0] != len(people):
        warnings.append(f"CNT+42 says {declared_count[0]} travellers but the message has {len(people)} {_where(declared_count[1])}")
    flight_legs = tuple(
        FlightLeg(leg.carrier, leg.number, leg.origin, leg.destination, leg.departure, leg.arrival) for leg in legs
    )
    for fl in flight_legs:
        if not fl.origin or not fl.destination:
            warnings.append(f"flight {fl.carrier}{fl.number} lacks a departure or arrival airport")
    travellers = tuple(
        Traveller(
            surname=p.surname,
            given_names=p.given_names,
            role=p.role,
            birth_date=p.birth_date,
            gender=p.gender,
            nationality=p.nationality,
            documents=tuple(TravelDocument(d.number, d.type, d.issuing_country, d.expiry) for d in p.documents),
            residence_country=p.residence_country,
            booking_reference=p.booking_reference,
            legs=_person_legs(p, legs),
            address=p.address,
        )
        for p in people
    )
    return Message(
        kind="PAXLST",
        version=version,
        reference=reference,
        sender=header.get("sender"),
        sent_at=sent_at,
        legs=flight_legs,
        travellers=travellers,
        warnings=tuple(warnings),
    )


def read_paxlst(text: str | bytes, *, today: date | None = None, strict: bool = False) -> list[Message]:
    """Every PAXLST message (UNH..UNT) in `text`.

    `today` decides the century of two-digit birth years (default: date.today()). strict=True makes
    a wrong UNT segment count or reference, or a wrong UNZ/UNE reference, an error; by default they
    are warnings (real files get them wrong). Syntax errors, a missing UNT or UNZ, a wrong UNZ/UNE
    count, an unknown BGM document name code or NAD party qualifier, or a non-PAXLST message →
    MessageError."""
    today = today or date.today()
    notes: list[str] = []
    segs = segments(text, notes=notes)
    count_warnings = check_counts(segs, strict=strict)
    notes += check_interchange(segs, strict=strict)
    header: dict = {}
    messages: list[Message] = []
    start: int | None = None
    for i, seg in enumerate(segs):
        if seg.tag == "UNB":
            header["sender"] = element(seg, 1, 0) or None
            header["sent_at"] = edifact_date(element(seg, 3, 0) + element(seg, 3, 1))
        elif seg.tag == "UNG":
            header.setdefault("sender", element(seg, 1, 0) or None)
        elif seg.tag == "UNH":
            start = i
        elif seg.tag == "UNT" and start is not None:
            mine = [w for w in count_warnings if f"(segment {seg.position}: UNT)" in w] + notes
            messages.append(_read_one(segs[start : i + 1], header, today, mine))
            start = None
    if not messages:
        raise MessageError("no UNH..UNT message in the text", position=0)
    return messages
