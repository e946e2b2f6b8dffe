"""travel.paxlst on the real GTAS API samples (../shared/data/messages/paxlst) and small fixtures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qalqan.travel.edifact import segments
from qalqan.travel.model import FlightLeg, Message, MessageError, TravelDocument
from qalqan.travel.paxlst import read_paxlst

TODAY = date(2026, 1, 1)


def _read(shared: Path, name: str) -> list[Message]:
    return read_paxlst((shared / "messages" / "paxlst" / name).read_bytes(), today=TODAY)


def _one(shared: Path, name: str) -> Message:
    messages = _read(shared, name)
    assert len(messages) == 1
    return messages[0]


def _by_surname(message: Message, surname: str):
    found = [t for t in message.travellers if t.surname == surname]
    assert len(found) == 1, surname
    return found[0]


@pytest.mark.shared
def test_test1_crew_list(shared: Path) -> None:
    m = _one(shared, "loader__Test1.txt")
    assert (m.kind, m.version, m.reference) == ("PAXLST", "D:02B", "1402010600")
    assert m.sent_at == "2014-02-02T06:00"
    assert len(m.travellers) == 8
    assert {t.role for t in m.travellers} == {"crew"}
    assert m.legs == (FlightLeg("UA", "0989", "FRA", "IAD", "2017-01-27T17:25", "2017-01-28T07:10"),)
    # NAD+FM+++Steur:Andrea:Pat'ATT+2++F'DTM+329:780706'...LOC+174+GBR'...NAT+2+GBR'DOC+P:1812019+123456789'DTM+36:610218'LOC+91+GBR'
    t = _by_surname(m, "STEUR")
    assert t.given_names == "ANDREA PAT"
    assert (t.gender, t.birth_date, t.nationality, t.residence_country) == ("female", "1978-07-06", "GBR", "GBR")
    assert t.documents == (TravelDocument("123456789", "P", "GBR", "2061-02-18"),)
    assert _by_surname(m, "NALEK").gender == "male"
    assert any("UNT segment count" in w for w in m.warnings)  # the file's UNT says 0000152
    # UNB+UNOA:4+...+1403010600' but UNE+1+1402010600' and UNZ+1+1402010600': warnings
    assert any("UNZ reference '1402010600' does not match UNB reference '1403010600'" in w for w in m.warnings)
    assert any("UNE reference" in w for w in m.warnings)
    # UNOA declared, names in lower case ("Steur:Andrea:Pat"): reported, not refused
    assert any("outside syntax level UNOA" in w and "(segment 12: NAD)" in w for w in m.warnings)


@pytest.mark.shared
def test_test3_passenger_list(shared: Path) -> None:
    m = _one(shared, "loader__Test3.txt")
    assert m.version == "D:02B" and m.reference == "WSPDLA"
    assert len(m.travellers) == 260
    assert {t.role for t in m.travellers} == {"passenger"}
    # NAD+FL+++Kan:Sarah:Pat'ATT+2++F'DTM+329:771021'...LOC+174+CAN'...NAT+2+CAN'DOC+P:43819+12345678'DTM+36:191220'LOC+9..
    t = _by_surname(m, "KAN")
    assert (t.given_names, t.gender, t.birth_date, t.nationality) == ("SARAH PAT", "female", "1977-10-21", "CAN")
    assert t.documents[0].number == "12345678" and t.documents[0].type == "P" and t.documents[0].expiry == "2019-12-20"
    # a Windows-1252 byte (0x87) in one name: decoded, not rejected
    assert any(t.surname.startswith("NOV") and t.given_names == "JEFFREY PAT" for t in m.travellers)


@pytest.mark.shared
def test_airline2_non_default_una(shared: Path) -> None:
    m = _one(shared, "loader__airline2.edi")
    assert m.version == "D:02B" and m.reference == "1402111800" and m.sender == "SDT"
    assert len(m.travellers) == 10
    assert m.legs == (FlightLeg("TN", "506", "BRE", "YEU", "2014-05-11T13:40", "2014-05-11T17:00"),)
    # NAD*FL***BETTON:DAVID:$ATT*2**M$DTM*329:541016$...RFF*AVF:QXGYLO$DOC*P:110:111*178556534$DTM*36:180221$LOC*91*USA$
    t = _by_surname(m, "BETTON")
    assert (t.given_names, t.gender, t.birth_date, t.nationality, t.booking_reference) == (
        "DAVID", "male", "1954-10-16", "USA", "QXGYLO")
    assert t.documents == (TravelDocument("178556534", "P", "USA", "2018-02-21"),)
    # the file's UNT (count 121, reference "140211180 0") and CNT+42:136 are wrong: warnings, not errors
    assert any("UNT reference" in w for w in m.warnings)
    assert any("CNT+42" in w for w in m.warnings)
    with pytest.raises(MessageError) as err:
        read_paxlst((shared / "messages" / "paxlst" / "loader__airline2.edi").read_bytes(), strict=True)
    assert err.value.segment == "UNT"


@pytest.mark.shared
def test_multiple_flight_legs(shared: Path) -> None:
    m = _one(shared, "loader__multiple_flight_leg_apis.txt")
    assert m.version == "D:05B" and m.reference == "123456789"
    assert m.legs == (
        FlightLeg("QQ", "877", "MIA", "IAD", "2008-07-10T15:00", "2008-07-10T17:55"),
        FlightLeg("QQ", "827", "IAD", "JFK", "2008-08-10T18:30", "2008-08-10T19:30"),
        FlightLeg("QQ", "827", "JFK", "CDG", "2008-08-10T20:00", "2008-08-11T06:30"),
    )
    assert [t.surname for t in m.travellers] == ["BARRETT", "LANG"]
    # NAD+FL+++BARRETT:TODD'ATT+2++M'DTM+329:680223'LOC+178+MIA'LOC+179+CDG'LOC+174+FRA'NAT+2+FRA'
    # RFF+AVF:GJIO3RT'...DOC+P:110:111+YY3478621G'DTM+36:081230'LOC+91+FRA'
    t = m.travellers[0]
    assert (t.given_names, t.gender, t.birth_date, t.residence_country, t.booking_reference) == (
        "TODD", "male", "1968-02-23", "FRA", "GJIO3RT")
    assert t.documents == (TravelDocument("YY3478621G", "P", "FRA", "2008-12-30"),)
    assert t.legs == ()  # MIA→CDG: all three legs
    assert m.travellers[1].documents[0].number == "TRQWE99800"
    assert m.warnings == ()


@pytest.mark.shared
def test_parsers_apis_message(shared: Path) -> None:
    m = _one(shared, "parsers__apisMessage.txt")
    assert (m.version, m.reference, m.sender) == ("D:05B", "PAX001", "AIR1")
    assert [(leg.carrier, leg.number, leg.origin, leg.destination) for leg in m.legs] == [
        ("AA", "123", "ATL", "ORD"), ("AA", "124", "ORD", "JFK")]
    assert [(t.surname, t.given_names) for t in m.travellers] == [("CLARK", "MICHAEL"), ("CLARK", "CHERYL")]
    michael, cheryl = m.travellers
    assert (michael.birth_date, michael.gender, michael.booking_reference) == ("1972-09-07", "male", "TYR123")
    assert michael.legs == ()  # ATL→JFK: both legs
    assert (cheryl.birth_date, cheryl.gender) == ("1973-04-07", "female")
    assert cheryl.legs == (1,)  # ORD→JFK
    assert michael.documents == ()
    assert m.warnings == ()


# --- small fixtures of our own -----------------------------------------------------------------

HEAD = "UNA:+.? 'UNB+UNOA:4+SND+RCV+240101:1200+1'UNH+M1+PAXLST:D:05B:UN:IATA'"


def test_empty_message_is_valid() -> None:
    (m,) = read_paxlst(HEAD + "BGM+745'TDT+20+LH123+++LH'LOC+125+FRA'DTM+189:2401011200:201'LOC+87+JFK'UNT+7+M1'UNZ+1+1'")
    assert m.travellers == () and m.legs[0].carrier == "LH" and m.legs[0].number == "123"
    assert m.sender == "SND" and m.sent_at == "2024-01-01T12:00"


def test_unknown_qualifiers_are_warnings() -> None:
    text = HEAD + (
        "BGM+745'TDT+20+LH123+++LH'LOC+125+FRA'LOC+87+JFK'"
        "NAD+FL+++DOE:JANE'ATT+2++F'ATT+9++Q'DTM+329:850101'LOC+999+XXX'NAT+2+DEU'RFF+QQQ:1'"
        "DOC+V+V123'DTM+36:300101'LOC+91+DEU'"
        "NAD+DDT+++ROE:RICK'UNT+17+M1'UNZ+1+1'"
    )
    (m,) = read_paxlst(text, today=TODAY)
    jane, rick = m.travellers
    assert (jane.surname, jane.given_names, jane.role, jane.birth_date) == ("DOE", "JANE", "passenger", "1985-01-01")
    assert jane.documents == (TravelDocument("V123", "V", "DEU", "2030-01-01"),)
    assert rick.role == "crew"
    joined = " | ".join(m.warnings)
    for bit in ("ATT qualifier '9'", "LOC qualifier '999'", "RFF qualifier 'QQQ'"):
        assert bit in joined


def test_unknown_closed_codes_raise() -> None:
    body = "BGM+745'NAD+FL+++DOE:JANE'UNT+4+M1'UNZ+1+1'"
    with pytest.raises(MessageError) as err:
        read_paxlst(HEAD + body.replace("BGM+745", "BGM+999"))
    assert (err.value.segment, err.value.position) == ("BGM", 3) and "'999'" in str(err.value)
    with pytest.raises(MessageError) as err:
        read_paxlst(HEAD + body.replace("NAD+FL", "NAD+XYZ"))
    assert (err.value.segment, err.value.position) == ("NAD", 4) and "'XYZ'" in str(err.value)


def test_crew_list_bgm_250() -> None:
    (m,) = read_paxlst(HEAD + "BGM+250'NAD+FM+++SMITH:ANNA'UNT+4+M1'UNZ+1+1'")
    assert m.travellers[0].role == "crew"


def test_errors_name_segment_and_position() -> None:
    with pytest.raises(MessageError) as err:  # bad UNA
        read_paxlst("UNA:::? 'UNH+M1+PAXLST:D:05B:UN:IATA'UNT+2+M1'")
    assert (err.value.segment, err.value.position) == ("UNA", 0)
    with pytest.raises(MessageError) as err:  # UNT count mismatch, strict
        read_paxlst(HEAD + "BGM+745'UNT+9+M1'", strict=True)
    assert (err.value.segment, err.value.position) == ("UNT", 4)
    with pytest.raises(MessageError) as err:  # truncated: no UNT
        read_paxlst(HEAD + "BGM+745'NAD+FL+++DOE:JOHN'UNZ+1+1'")
    assert (err.value.segment, err.value.position) == ("UNT", 5)
    with pytest.raises(MessageError) as err:  # invalid character
        read_paxlst(HEAD + "BGM+745'NAD+FL+++DO\x07E:JOHN'UNT+4+M1'")
    assert (err.value.segment, err.value.position) == ("NAD", 4)
    with pytest.raises(MessageError) as err:  # not a PAXLST
        read_paxlst("UNH+M1+PNRGOV:11:1:IA'UNT+2+M1'")
    assert (err.value.segment, err.value.position) == ("UNH", 1)


# --- malformed variants of a real sample (parsers__apisMessage.txt, edited in the test) ----------


def _apis(shared: Path) -> str:
    return (shared / "messages" / "paxlst" / "parsers__apisMessage.txt").read_text()


def _refused(text: str) -> MessageError:
    with pytest.raises(MessageError) as err:
        read_paxlst(text, today=TODAY)
    return err.value


@pytest.mark.shared
def test_sample_edits_closed_code_lists(shared: Path) -> None:
    text = _apis(shared)
    bgm = next(s.position for s in segments(text) if s.tag == "BGM")
    err = _refused(text.replace("BGM+745", "BGM+746", 1))
    assert (err.segment, err.position) == ("BGM", bgm) and "'746'" in str(err)
    err = _refused(text.replace("NAD+FL", "NAD+FX", 1))
    assert err.segment == "NAD" and "'FX'" in str(err)


@pytest.mark.shared
def test_sample_edits_truncated(shared: Path) -> None:
    text = _apis(shared)
    # cut in the middle of a segment
    cut = text[: text.index("NAD+FL") + 12]
    err = _refused(cut)
    assert err.segment == "NAD" and "terminator" in str(err)
    # the UNT removed: the message is truncated, named at the segment that follows it
    no_unt = "'".join(s for s in text.split("'") if not s.strip().startswith("UNT"))
    err = _refused(no_unt)
    assert err.segment == "UNT" and "no UNT" in str(err)
    # cut after the UNT: no UNE/UNZ
    err = _refused(text[: text.index("UNE+")])
    assert err.segment in ("UNE", "UNZ") and "truncated" in str(err)


@pytest.mark.shared
def test_sample_edits_counts(shared: Path) -> None:
    text = _apis(shared)
    (m,) = read_paxlst(text.replace("UNT+33+", "UNT+34+"), today=TODAY)  # lenient by default
    assert any("UNT segment count '34' but the message has 33 segments" in w for w in m.warnings)
    err = _refused(text.replace("UNZ+1+", "UNZ+2+"))
    assert err.segment == "UNZ" and "'2'" in str(err) and "1" in str(err)
    err = _refused(text.replace("UNE+1+", "UNE+3+"))
    assert err.segment == "UNE" and "'3'" in str(err)


@pytest.mark.shared
def test_sample_edits_invalid_characters(shared: Path) -> None:
    text = _apis(shared)
    err = _refused(text.replace("NAD+FL+++", "NAD+FL+++\x01", 1))
    assert err.segment == "NAD" and "U+0001" in str(err)
    err = _refused(text.replace("\n NAD+FL", "\n\tNAD+FL", 1))  # a TAB between segments
    assert err.segment == "NAD" and "U+0009" in str(err)
    err = _refused(text.replace("NAD+FL+++", "NAD+FL+++?X", 1))  # release before a non-service character
    assert err.segment == "NAD" and "release character" in str(err)
    (m,) = read_paxlst(text.replace("NAD+FL+++CLARK", "NAD+FL+++Clark", 1), today=TODAY)  # UNOA, lower case
    assert any("outside syntax level UNOA" in w for w in m.warnings)
