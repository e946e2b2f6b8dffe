"""PNRGOV (IATA/WCO PNR push, versions 10.1, 11.1 and 13.1) → `Message`s.

`read_pnrgov(text)` returns one `Message` per UNH..UNT message. The message's legs are the flight
the message is sent for (the TVL of the header, always index 0) followed by every other distinct
itinerary leg of its PNRs. Each PNR (SRC group) gives its travellers (TIF at PNR level; the TIFs
repeated inside TRI check-in groups are the same people and are not counted twice) with the PNR's
record locator (RCI) as `booking_reference`, their documents (SSR DOCS/DOCO/DOCA), address (ADD),
contacts (ADD phone, IFT CTCx), frequent flyer (FTI), payment (FOP), ticket numbers (TKT 1004,
the ticket document number of the TKT group under the traveller's TIF) and free-text remarks (IFT,
SSR OTHS and other SSR texts). PNR history (LTS, and IFT 4:19 under ABI) is not read at all.

Special categories of personal data (religion, ethnicity, health, sex life, political opinion) are
removed on arrival: meal SSRs (MOML, KSML, ...), medical/assistance SSRs (WCHR, MEDA, DEAF, BLND,
...) and free text that mentions any of these never reach the output; `Message.warnings` gets
"special category removed (SSR MOML)" (the code or the source segment, never the value).

Leniency for real airline files: a UNA with the decimal mark missing or a terminator that the text
never uses is repaired, a final UNZ without its terminator is accepted, and a UNT with a wrong
count or no reference, and a UNZ whose reference differs from the UNB's, are warnings (GTAS samples
get all three wrong). A UNT reference that differs from the UNH's, a missing UNT or UNZ, a wrong
UNZ count, or any syntax error (see `travel.edifact`) raises `MessageError` naming the segment and
position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from qalqan.travel.edifact import Segment, check_interchange, edifact_date, element, segments
from qalqan.travel.model import FlightLeg, Message, MessageError, Traveller, TravelDocument

__all__ = ["read_pnrgov", "SPECIAL_SSR_CODES"]

# --- special categories -------------------------------------------------------------------------

#: Meal codes: religious (MOML, KSML, HNML, VJML) or revealing health/beliefs (DBML, GFML, ...).
#: Every meal SSR ("..ML") is treated as special: a meal preference has no screening value.
_MEAL_CODES = frozenset(
    "AVML BBML BLML CHML DBML FPML GFML HFML HNML JPML KSML LCML LFML LPML LSML MOML NFML NLML "
    "ORML PRML RVML SFML SPML VGML VJML VLML VOML".split()
)
#: Medical / disability / assistance SSRs.
_MEDICAL_CODES = frozenset(
    "WCHR WCHS WCHC WCBD WCBW WCMP WCOB WCLB MEDA DEAF BLND DPNA OXYG STCR MAAS SVAN ESAN PPOC "
    "POXY LEGL MEQT INAD".split()
)
SPECIAL_SSR_CODES = _MEAL_CODES | _MEDICAL_CODES

_SPECIAL_WORDS = re.compile(
    r"\b("
    # religion
    r"MUSLIM\w*|ISLAM\w*|MOSLEM\w*|HALAL|KOSHER|JEW|JEWISH|HINDU\w*|SIKH\w*|BUDDHIS\w*|CHRISTIAN\w*|"
    r"CATHOLIC\w*|PROTESTANT\w*|ORTHODOX|MOSQUE|CHURCH|SYNAGOGUE|TEMPLE|RELIGIO\w*|RAMADAN|PILGRIM\w*|"
    r"HAJJ|UMRAH|JAIN\w*|"
    # ethnicity / race
    r"ETHNIC\w*|RACE|RACIAL|ROMANI|GYPSY|ABORIGIN\w*|"
    # health
    r"WHEELCHAIR|DISAB\w*|BLIND|DEAF|MEDICAL\w*|MEDIC|PREGNAN\w*|DIABET\w*|ALLERG\w*|ILLNESS|ILL|SICK|"
    r"PATIENT|HOSPITAL\w*|DIALYSIS|OXYGEN|STRETCHER|CANCER|HIV|AIDS|EPILEP\w*|AUTIS\w*|DEMENTIA|"
    r"INSULIN|DOCTOR|SURGERY|INJUR\w*|HANDICAP\w*|"
    # sex life / sexual orientation
    r"GAY|LESBIAN|HOMOSEX\w*|BISEXUAL|TRANSGENDER|SEXUAL\w*|LGBT\w*|"
    # political opinion / trade union
    r"POLITIC\w*|TRADE UNION|UNION MEMBER|ASYLUM|REFUGEE"
    r")\b"
)
_SPECIAL_CODE_WORDS = re.compile(r"\b(" + "|".join(sorted(SPECIAL_SSR_CODES)) + r")\b")


def _special_text(text: str) -> bool:
    up = text.upper()
    return bool(_SPECIAL_WORDS.search(up) or _SPECIAL_CODE_WORDS.search(up))


# --- small helpers ------------------------------------------------------------------------------


def _comps(seg: Segment, i: int) -> list[str]:
    if i >= len(seg.elements):
        return []
    e = seg.elements[i]
    return [e] if isinstance(e, str) else list(e)


def _ddmmyy(value: str, time: str = "") -> str | None:
    """PNRGOV dates are DDMMYY (and times HHMM) → ISO."""
    value = (value or "").strip()
    if len(value) != 6 or not value.isdigit():
        return None
    yymmdd = value[4:6] + value[2:4] + value[0:2]
    time = (time or "").strip()
    if len(time) == 4 and time.isdigit():
        return edifact_date(yymmdd + time, "201")
    return edifact_date(yymmdd, "101")


_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}


def _ddmmmyy(value: str, *, birth: bool, today: date) -> str | None:
    """SSR dates "20SEP12" → ISO. Birth dates: the century that puts the date on or before today;
    other dates (expiry, issue): 20YY."""
    m = re.fullmatch(r"(\d{2})([A-Z]{3})(\d{2}|\d{4})", (value or "").strip().upper())
    if not m or m.group(2) not in _MONTHS:
        return None
    day, month, year = int(m.group(1)), _MONTHS[m.group(2)], m.group(3)
    yymmdd = f"{year[-2:]}{month:02d}{day:02d}"
    if len(year) == 4:
        return edifact_date(f"{year}{month:02d}{day:02d}", "102")
    return edifact_date(yymmdd, "101", today=today if birth else None)


_GENDERS = {"M": "male", "F": "female", "MI": "male", "FI": "female", "U": "unknown", "X": "unknown", "UI": "unknown"}


def _clean(value: str) -> str:
    """Line breaks inside data (wrapped airline files) and repeated blanks → one blank."""
    return " ".join((value or "").split())


def _text(parts: list[str]) -> str:
    return " ".join(_clean(p) for p in parts if p and p.strip())


# --- message assembly ---------------------------------------------------------------------------


@dataclass
class _Pax:
    surname: str
    given: str
    role: str
    ref: str
    booking: str | None
    birth_date: str | None = None
    gender: str | None = None
    nationality: str | None = None
    residence: str | None = None
    documents: list[TravelDocument] = field(default_factory=list)
    address: str | None = None
    contacts: list[str] = field(default_factory=list)
    frequent_flyer: str | None = None
    payment: str | None = None
    tickets: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    legs: list[int] = field(default_factory=list)


class _Reader:
    def __init__(self, segs: list[Segment], today: date):
        self.segs = segs
        self.today = today
        self.warnings: list[str] = []
        self.legs: list[FlightLeg] = []
        self._pending_docs: list[tuple[str, str, _Pax | None]] = []

    # legs
    def _leg(self, seg: Segment) -> FlightLeg | None:
        dt = _comps(seg, 0)
        origin = element(seg, 1)
        dest = element(seg, 2)
        carrier = element(seg, 3, 0)
        operating = element(seg, 3, 1) or None
        number = element(seg, 4, 0)
        if not (origin and dest and (carrier or operating) and number):
            return None  # ARNK / open segment ("TVL+++++972:M")
        dt = dt + [""] * (4 - len(dt))
        departure = _ddmmyy(dt[0], dt[1])
        arrival = None
        if len(dt[2]) == 6:  # arrival date (and time)
            arrival = _ddmmyy(dt[2], dt[3])
        if operating == carrier:
            operating = None
        return FlightLeg(
            carrier=carrier or operating or "",
            number=number,
            origin=origin,
            destination=dest,
            departure=departure,
            arrival=arrival,
            operating_carrier=operating,
        )

    def _leg_index(self, leg: FlightLeg) -> int:
        def same(a: FlightLeg, b: FlightLeg) -> bool:
            if (a.origin, a.destination) != (b.origin, b.destination):
                return False
            if (a.departure or "")[:10] != (b.departure or "")[:10]:
                return False
            a_ids = {(c, a.number.lstrip("0")) for c in (a.carrier, a.operating_carrier) if c}
            b_ids = {(c, b.number.lstrip("0")) for c in (b.carrier, b.operating_carrier) if c}
            return bool(a_ids & b_ids)

        for i, known in enumerate(self.legs):
            if same(known, leg):  # e.g. "KE:SQ+609" in a PNR of the SQ 609 message: the header leg
                return i
        self.legs.append(leg)
        return len(self.legs) - 1

    # special categories
    def _drop(self, what: str) -> None:
        note = f"special category removed ({what})"
        if note not in self.warnings:
            self.warnings.append(note)

    def _remark(self, target: list[str], text: str, source: str) -> None:
        text = text.strip()
        if not text:
            return
        if _special_text(text):
            self._drop(f"{source} free text")
            return
        if text not in target:
            target.append(text)

    # SSR
    def _ssr(self, seg: Segment, pnr: list[_Pax], current: _Pax | None, pnr_remarks: list[str]) -> None:
        code = element(seg, 0, 0).upper()
        comps = _comps(seg, 0)
        free = _clean(":".join(comps[8:])) if len(comps) > 8 else ""
        ref = element(seg, 1, 2)
        if code in SPECIAL_SSR_CODES or (len(code) == 4 and code.endswith("ML")):
            self._drop(f"SSR {code}")
            return
        target = current
        if ref:
            target = next((p for p in pnr if p.ref == ref), target)
        if code in ("DOCS", "DOCO", "DOCA"):
            # resolved at the PNR's end: an infant's DOCS may come before the infant's TIF
            self._pending_docs.append((code, free, target))
        elif code in ("CTCE", "CTCM", "CTCH", "CTCB", "CTCP", "CTCR"):
            if target is not None and free.strip():
                value = free.strip().replace("//", "@") if code == "CTCE" else free.strip()
                if value not in target.contacts:
                    target.contacts.append(value)
        elif code in ("OTHS", "PCTC", "CKIN", "RQST", "OTHR", "GRPF", "GRPS"):
            if free.strip():
                self._remark(target.remarks if target else pnr_remarks, f"{code} {free.strip()}", f"SSR {code}")
        # SEAT, TKNE, INFT, FQTV, ... : operational, not kept

    def _docs(self, free: str, pnr: list[_Pax], target: _Pax | None) -> None:
        text = free.strip()
        if text.startswith("/"):
            text = text[1:]
        parts = [p.strip() for p in text.split("/")] + [""] * 11
        dtype, issuing, number, nationality, birth, gender, expiry, surname = parts[:8]
        given = _text(parts[8:11])
        pax = target
        if surname:  # the DOCS of an infant is often filed under the accompanying adult's TIF
            infant = gender.upper().endswith("I") and len(gender) == 2
            candidates = [p for p in pnr if (p.role == "infant") == infant] or pnr
            first = given.split(" ")[0].replace(" ", "") if given else ""
            for p in candidates:
                if p.surname.replace(" ", "") == surname.replace(" ", "") and (
                    not first or p.given.replace(" ", "").startswith(first) or first.startswith(p.given.split(" ")[0])
                ):
                    pax = p
                    break
            else:
                if infant:
                    pax = next((p for p in pnr if p.role == "infant"), target)
        if pax is None:
            return
        pax.birth_date = pax.birth_date or _ddmmmyy(birth, birth=True, today=self.today)
        pax.gender = pax.gender or _GENDERS.get(gender.upper())
        pax.nationality = pax.nationality or (nationality or None)
        if number and not any(d.number == number for d in pax.documents):
            pax.documents.append(
                TravelDocument(
                    number=number,
                    type=dtype or None,
                    issuing_country=issuing or None,
                    expiry=_ddmmmyy(expiry, birth=False, today=self.today),
                )
            )

    def _doco(self, free: str, target: _Pax | None) -> None:
        # /place of birth/type/number/place of issue/date of issue/country valid for/infant
        text = free.strip()
        if text.startswith("/"):
            text = text[1:]
        parts = [p.strip() for p in text.split("/")] + [""] * 7
        dtype, number, country = parts[1], parts[2], parts[5]
        if target is not None and number and not any(d.number == number for d in target.documents):
            target.documents.append(TravelDocument(number=number, type=dtype or None, issuing_country=country or None))

    def _doca(self, free: str, target: _Pax | None) -> None:
        # /R or D/country/street/city/state/postcode/infant
        text = free.strip()
        if text.startswith("/"):
            text = text[1:]
        parts = [p.strip() for p in text.split("/")] + [""] * 7
        kind, country = parts[0].upper(), parts[1]
        if target is None:
            return
        if kind == "R":
            target.residence = target.residence or (country or None)
            if not target.address:
                target.address = ", ".join(p for p in parts[2:6] + [country] if p) or None

    # the message
    def read(self, start: int, end: int) -> Message:
        segs = self.segs
        unh = segs[start]
        version = ":".join(c for c in _comps(unh, 1)[1:3] if c)
        sender = sent_at = None
        for s in segs[:start]:
            if s.tag == "UNB":
                sender = element(s, 1, 0) or None
                d, t = element(s, 3, 0), element(s, 3, 1)
                sent_at = edifact_date(d + t if len(t) == 4 else d)
        travellers: list[_Pax] = []
        i = start + 1
        # header: up to the first SRC
        while i < end and segs[i].tag != "SRC":
            s = segs[i]
            if s.tag == "TVL" and not self.legs:
                leg = self._leg(s)
                if leg is not None:
                    self.legs.append(leg)
            i += 1
        # PNRs
        while i < end:
            j = i + 1
            while j < end and segs[j].tag != "SRC":
                j += 1
            travellers.extend(self._pnr(segs[i + 1 : j]))
            i = j
        out = []
        for p in travellers:
            out.append(
                Traveller(
                    surname=p.surname,
                    given_names=p.given,
                    role=p.role,
                    birth_date=p.birth_date,
                    gender=p.gender,
                    nationality=p.nationality,
                    documents=tuple(p.documents),
                    residence_country=p.residence,
                    booking_reference=p.booking,
                    legs=tuple(sorted(set(p.legs))),
                    address=p.address,
                    contacts=tuple(p.contacts),
                    frequent_flyer=p.frequent_flyer,
                    payment=p.payment,
                    tickets=tuple(p.tickets),
                    remarks=tuple(p.remarks),
                )
            )
        return Message(
            kind="PNRGOV",
            version=version,
            reference=element(unh, 0),
            sender=sender,
            sent_at=sent_at,
            legs=tuple(self.legs),
            travellers=tuple(out),
            warnings=tuple(self.warnings),
        )

    def _pnr(self, group: list[Segment]) -> list[_Pax]:
        pnr: list[_Pax] = []
        self._pending_docs = []
        booking: str | None = None
        address: str | None = None
        contacts: list[str] = []
        remarks: list[str] = []
        legs: list[int] = []
        current: _Pax | None = None
        in_itinerary = False
        in_dcs = False  # inside a TRI check-in group: its TIF repeats a traveller
        last_tvl_leg: int | None = None
        for s in group:
            tag = s.tag
            if tag == "RCI" and booking is None:
                booking = element(s, 0, 1) or None
            elif tag == "TIF":
                if in_dcs:
                    continue
                surname = element(s, 0, 0)
                given = element(s, 1, 0)
                ptype = element(s, 1, 1).upper()
                current = _Pax(
                    surname=surname,
                    given=given,
                    role="infant" if ptype in ("IN", "INF") else "passenger",
                    ref=element(s, 1, 2),
                    booking=booking,
                )
                pnr.append(current)
            elif tag == "TVL":
                in_itinerary, in_dcs = True, False
                current = None
                leg = self._leg(s)
                last_tvl_leg = None
                if leg is not None:
                    last_tvl_leg = self._leg_index(leg)
                    legs.append(last_tvl_leg)
            elif tag == "TRA" and last_tvl_leg is not None:
                # code share: the operating carrier and flight number of the last TVL
                leg = self.legs[last_tvl_leg]
                op_carrier, op_number = element(s, 0, 0), element(s, 1, 0)
                if op_carrier and last_tvl_leg != 0:
                    self.legs[last_tvl_leg] = FlightLeg(
                        leg.carrier, leg.number, leg.origin, leg.destination, leg.departure, leg.arrival,
                        operating_carrier=op_carrier, operating_number=op_number or None,
                    )
            elif tag == "TRI":
                in_dcs = True
                current = None
            elif in_dcs:
                continue
            elif tag == "SSR":
                self._ssr(s, pnr, current, remarks)
            elif tag == "FTI" and current is not None:
                ff = _text(_comps(s, 0)[:2])
                current.frequent_flyer = current.frequent_flyer or (ff or None)
            elif tag == "ADD":
                comps = _comps(s, 1)
                addr = ", ".join(_clean(c) for c in comps[1:7] if c.strip()) or None
                phone = _clean(comps[7]) if len(comps) > 7 else ""
                if current is not None and not in_itinerary:
                    current.address = current.address or addr
                    if phone and phone not in current.contacts:
                        current.contacts.append(phone)
                else:
                    address = address or addr
                    if phone and phone not in contacts:
                        contacts.append(phone)
            elif tag == "TKT" and current is not None:
                number = element(s, 0, 0).strip()  # "TKT+0062120234533:T:1": 1004 document number
                # "TKT+0:T:1" (all zeros) is the placeholder of a PNR with no ticket issued yet
                if number.strip("0") and number not in current.tickets:
                    current.tickets.append(number)
            elif tag == "FOP" and current is not None:
                pay = "; ".join(_text(c if isinstance(c, list) else [c]) for c in s.elements if _text(c if isinstance(c, list) else [c]))
                current.payment = current.payment or (pay or None)
            elif tag == "IFT":
                text = _text([_text(c if isinstance(c, list) else [c]) for c in s.elements[1:]])
                if not text or element(s, 0, 1) == "19":  # 19: PNR history lines
                    continue
                contact = re.match(r"(?:[A-Z0-9]{2} )?CTC([EMHBPRT])\s+(.*)", text)
                if contact:
                    value = contact.group(2).strip()
                    if contact.group(1) == "E":
                        value = value.replace("//", "@").replace("..", "_")
                    bucket = current.contacts if current is not None and not in_itinerary else contacts
                    if value and value not in bucket:
                        bucket.append(value)
                else:
                    self._remark(current.remarks if current is not None and not in_itinerary else remarks, text, "IFT")
        for code, free, target in self._pending_docs:
            if code == "DOCS":
                self._docs(free, pnr, target)
            elif code == "DOCO":
                self._doco(free, target)
            else:
                self._doca(free, target)
        self._pending_docs = []
        if not legs:
            legs = [0] if self.legs else []
        elif self.legs and 0 not in legs:
            legs.insert(0, 0)  # everyone in a PNRGOV is booked on the flight it is sent for
        for p in pnr:
            p.legs = list(legs)
            p.booking = p.booking or booking
            p.address = p.address or address
            for c in contacts:
                if c not in p.contacts:
                    p.contacts.append(c)
            for r in remarks:
                if r not in p.remarks:
                    p.remarks.append(r)
        return pnr


# --- entry point --------------------------------------------------------------------------------


def _repair(text: str) -> tuple[str, list[str]]:
    """Lenient fixes for real airline files (see the module doc)."""
    notes: list[str] = []
    body = text.lstrip(" \t\r\n\ufeff")
    if body.startswith("UNA"):
        m = re.match(r"UNA(.{5,6}?)\s*UNB", body, re.S)
        if m:
            advice = m.group(1)
            if len(advice) == 5 and advice[2] not in ".,":  # decimal mark left out (":+\*'")
                advice = advice[:2] + "." + advice[2:]
                notes.append("UNA without decimal mark repaired")
            rest = body[m.end(1) :]
            if advice[5] not in rest and "'" in rest:  # "UNA:+.\*’" with "'" used throughout
                advice = advice[:5] + "'"
                notes.append("UNA segment terminator repaired")
            body = "UNA" + advice + rest
    term = "'"
    if body.startswith("UNA") and len(body) >= 9:
        term = body[8]
    stripped = body.rstrip(" \t\r\n")
    last_line = stripped.rsplit("\n", 1)[-1].strip()
    if not stripped.endswith(term) and last_line.startswith("UNZ") and term not in last_line:
        body = stripped + term
        notes.append("final UNZ without terminator accepted")
    return body, notes


def _check_trailer(unh: Segment, unt: Segment) -> str | None:
    expected = unt.position - unh.position + 1
    count, ref = element(unt, 0), element(unt, 1)
    count_ok = count.isdigit() and int(count) == expected
    if ref and ref != element(unh, 0):
        raise MessageError(f"UNT reference {ref!r} does not match UNH reference {element(unh, 0)!r}", segment="UNT", position=unt.position)
    problems = []
    if not count_ok:
        problems.append(f"UNT segment count {count!r} but the message has {expected} segments")
    if not ref:
        problems.append("UNT without message reference")
    return f"{'; '.join(problems)} (segment {unt.position}: UNT)" if problems else None


def read_pnrgov(text: str | bytes, *, today: date | None = None) -> list[Message]:
    """Every PNRGOV message in an interchange. `today` resolves two-digit birth years."""
    if isinstance(text, bytes):
        raw = text
        for enc in ("utf-8", "cp1252"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            text = raw.decode("latin-1")
    today = today or date.today()
    body, notes = _repair(text)
    segs = segments(body, notes=notes)
    messages: list[Message] = []
    unh: Segment | None = None
    for k, seg in enumerate(segs):
        if seg.tag == "UNH":
            if unh is not None:
                raise MessageError("UNH before the previous message's UNT", segment="UNH", position=seg.position)
            unh = seg
            start = k
        elif seg.tag == "UNT":
            if unh is None:
                raise MessageError("UNT without UNH", segment="UNT", position=seg.position)
            kind = element(unh, 1, 0)
            if kind != "PNRGOV":
                raise MessageError(f"not a PNRGOV message: {kind!r}", segment="UNH", position=unh.position)
            trailer_note = _check_trailer(unh, seg)
            reader = _Reader(segs, today)
            reader.warnings.extend(notes)
            if trailer_note:
                reader.warnings.append(trailer_note)
            messages.append(reader.read(start, k))
            unh = None
        elif seg.tag in ("UNE", "UNZ") and unh is not None:
            raise MessageError("message truncated: no UNT", segment="UNT", position=seg.position)
    if unh is not None:
        raise MessageError("message truncated: no UNT", segment="UNT", position=segs[-1].position + 1)
    if not messages:
        raise MessageError("no PNRGOV message (UNH) found", position=0)
    interchange = check_interchange(segs)  # after the messages: a missing UNT is named first
    if interchange:
        messages = [replace(m, warnings=m.warnings + tuple(interchange)) for m in messages]
    return messages
