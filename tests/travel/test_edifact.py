"""travel.edifact: segment reading, UNA, counts, dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qalqan.travel.edifact import Segment, check_counts, check_interchange, edifact_date, element, segments
from qalqan.travel.model import MessageError

SIMPLE = "UNB+UNOA:4+SND+RCV+140202:0600+1'UNH+R1+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++DOE:JOHN'UNT+4+R1'UNZ+1+1'"


def test_segments_default_separators():
    segs = segments(SIMPLE)
    assert [s.tag for s in segs] == ["UNB", "UNH", "BGM", "NAD", "UNT", "UNZ"]
    assert segs[0].position == 1 and segs[-1].position == 6
    nad = segs[3]
    assert isinstance(nad, Segment)
    assert element(nad, 0) == "FL"
    assert element(nad, 3, 0) == "DOE" and element(nad, 3, 1) == "JOHN"
    assert element(nad, 3, 5) == "" and element(nad, 9) == "" and element(nad, 0, 1) == ""
    assert check_counts(segs) == []
    assert check_interchange(segs) == []


def test_segments_una_non_default_and_release_character():
    text = "UNA:*.? $\nUNH*R1*PAXLST:D:02B:UN:IATA$\nNAD*FL***O?*BRIEN:ANN$\nUNT*3*R1$\n"
    segs = segments(text)
    assert [s.tag for s in segs] == ["UNH", "NAD", "UNT"]
    assert element(segs[1], 3, 0) == "O*BRIEN"
    check_counts(segs)


def test_segments_bytes_and_whitespace_between_segments():
    segs = segments(b"  UNA:+.?*'\n UNH+R1+PAXLST:D:05B:UN:IATA'\r\n UNT+2+R1'\n")
    assert [s.tag for s in segs] == ["UNH", "UNT"]


@pytest.mark.parametrize("una", ["UNA:+", "UNA::.? '", "UNA:+.?+'", "UNA:A.? '"])
def test_bad_una(una):
    with pytest.raises(MessageError) as err:
        segments(una + "UNH+R1+PAXLST:D:05B:UN:IATA'UNT+2+R1'")
    assert err.value.segment == "UNA" and err.value.position == 0


def test_unt_count_mismatch():
    segs = segments("UNH+R1+PAXLST:D:05B:UN:IATA'BGM+745'UNT+5+R1'")
    with pytest.raises(MessageError) as err:
        check_counts(segs)
    assert err.value.segment == "UNT" and err.value.position == 3
    assert "5" in str(err.value)
    warnings = check_counts(segs, strict=False)
    assert len(warnings) == 1 and "segment 3: UNT" in warnings[0]


def test_unt_reference_mismatch():
    segs = segments("UNH+R1+PAXLST:D:05B:UN:IATA'UNT+2+R2'")
    with pytest.raises(MessageError) as err:
        check_counts(segs)
    assert (err.value.segment, err.value.position) == ("UNT", 2)


def test_truncated_no_unt():
    segs = segments("UNB+UNOA:4+S+R+140202:0600+1'UNH+R1+PAXLST:D:05B:UN:IATA'BGM+745'UNZ+1+1'")
    with pytest.raises(MessageError) as err:
        check_counts(segs, strict=False)
    assert err.value.segment == "UNT" and err.value.position == 4
    segs = segments("UNH+R1+PAXLST:D:05B:UN:IATA'BGM+745'")
    with pytest.raises(MessageError) as err:
        check_counts(segs)
    assert (err.value.segment, err.value.position) == ("UNT", 3)


def test_truncated_segment_without_terminator():
    with pytest.raises(MessageError) as err:
        segments("UNH+R1+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++DO")
    assert (err.value.segment, err.value.position) == ("NAD", 3)


def test_trailing_text_after_unz_is_ignored():
    segs = segments("UNH+R1+PAXLST:D:05B:UN:IATA'UNT+2+R1'UNZ+1+1'\n13Nov09")
    assert [s.tag for s in segs] == ["UNH", "UNT", "UNZ"]


def test_invalid_character():
    with pytest.raises(MessageError) as err:
        segments("UNH+R1+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++DO\x00E'UNT+4+R1'")
    assert (err.value.segment, err.value.position) == ("NAD", 3)
    assert "U+0000" in str(err.value)


def test_invalid_tag():
    with pytest.raises(MessageError) as err:
        segments("UNH+R1+PAXLST:D:05B:UN:IATA'nad+FL'UNT+3+R1'")
    assert err.value.position == 2


def test_empty_text():
    with pytest.raises(MessageError):
        segments("  \n")


def test_edifact_date():
    assert edifact_date("1701271725", "201") == "2017-01-27T17:25"
    assert edifact_date("201701271725", "203") == "2017-01-27T17:25"
    assert edifact_date("20170127", "102") == "2017-01-27"
    assert edifact_date("610218") == "2061-02-18"  # travel/expiry dates: 20YY
    today = date(2024, 6, 1)
    assert edifact_date("780706", today=today) == "1978-07-06"  # birth date pivot
    assert edifact_date("240531", today=today) == "2024-05-31"
    assert edifact_date("240602", today=today) == "1924-06-02"
    assert edifact_date("051231", today=today) == "2005-12-31"
    assert edifact_date("", "101") is None
    assert edifact_date("781306") is None
    assert edifact_date("12345") is None
    assert edifact_date("1701271725", "101") == "2017-01-27T17:25"  # qualifier disagrees: by length


# --- ISO 9735 rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "UNH+R1+PAXLST:D:05B:UN:IATA'NAD+FL+++O?BRIEN'UNT+3+R1'",  # "?B": B is no service character
        "UNH+R1+PAXLST:D:05B:UN:IATA'NAD+FL+++O? BRIEN'UNT+3+R1'",
        "UNH+R1+PAXLST:D:05B:UN:IATA'NAD+FL+++OBRIEN?",  # release character at the very end
    ],
)
def test_release_character_must_precede_a_service_character(text):
    with pytest.raises(MessageError) as err:
        segments(text)
    assert (err.value.segment, err.value.position) == ("NAD", 2)
    assert "release character" in str(err.value)


def test_released_service_characters_are_data():
    segs = segments("UNH+R1+PAXLST:D:05B:UN:IATA'FTX+AAI+++A?+B?:C???'D?*E'UNT+3+R1'")
    assert element(segs[1], 3) == "A+B:C?'D*E"
    # with a UNA, "*" is the repetition separator only when UNA says so ("\\*" in PNRGOV samples)
    segs = segments("UNA:+.\\*'UNH+R1+PNRGOV:11:1:IA'IFT+4:28+RX \\*\\*'UNT+3+R1'")
    assert element(segs[1], 1) == "RX **"
    with pytest.raises(MessageError):
        segments("UNA:+.? 'UNH+R1+PNRGOV:11:1:IA'IFT+4:28+RX ?*'UNT+3+R1'")


@pytest.mark.parametrize("ch", ["\t", "\x00", "\x1b", "\x7f"])
def test_control_character_between_segments(ch):
    with pytest.raises(MessageError) as err:
        segments(f"UNH+R1+PAXLST:D:05B:UN:IATA'\n{ch}BGM+745'UNT+3+R1'")
    assert (err.value.segment, err.value.position) == ("BGM", 2)
    assert f"U+{ord(ch):04X}" in str(err.value)


def test_repertoire_of_the_declared_level_is_reported():
    notes: list[str] = []
    segments("UNB+UNOA:4+S+R+140202:0600+1'UNH+R1+PAXLST:D:05B:UN:IATA'NAD+FL+++Doe:Jane'UNT+3+R1'UNZ+1+1'", notes=notes)
    assert len(notes) == 1 and "outside syntax level UNOA" in notes[0] and "(segment 3: NAD)" in notes[0]
    notes = []
    segments("UNB+UNOB:4+S+R+140202:0600+1'UNH+R1+PAXLST:D:05B:UN:IATA'NAD+FL+++Doe:Jane'UNT+3+R1'UNZ+1+1'", notes=notes)
    assert notes == []
    segments("UNB+UNOB:4+S+R+140202:0600+1'UNH+R1+PAXLST:D:05B:UN:IATA'NAD+FL+++Doe@:Jane'UNT+3+R1'UNZ+1+1'", notes=notes)
    assert "outside syntax level UNOB, first '@'" in notes[0]
    # the interchange's own separators are allowed ("$" is not level A)
    notes = []
    segments("UNA:*.? $UNB*UNOA:4*S*R*140202:0600*1$UNH*R1*PAXLST:D:02B:UN:IATA$UNT*2*R1$UNZ*1*1$", notes=notes)
    assert notes == []


def test_interchange_control_count_and_reference():
    with pytest.raises(MessageError) as err:
        check_interchange(segments(SIMPLE.replace("UNZ+1+1", "UNZ+2+1")))
    assert (err.value.segment, err.value.position) == ("UNZ", 6)
    assert "'2'" in str(err.value) and "1" in str(err.value)
    segs = segments(SIMPLE.replace("UNZ+1+1", "UNZ+1+9"))
    warnings = check_interchange(segs)
    assert warnings == ["UNZ reference '9' does not match UNB reference '1' (segment 6: UNZ)"]
    with pytest.raises(MessageError):
        check_interchange(segs, strict=True)


def test_functional_group_count():
    text = "UNB+UNOA:4+S+R+140202:0600+1'UNG+PAXLST+S+R+140202:0600+7+UN+D:05B'UNH+R1+PAXLST:D:05B:UN:IATA'UNT+2+R1'UNE+1+7'UNZ+1+1'"
    assert check_interchange(segments(text)) == []
    with pytest.raises(MessageError) as err:
        check_interchange(segments(text.replace("UNE+1+7", "UNE+2+7")))
    assert (err.value.segment, err.value.position) == ("UNE", 5)
    with pytest.raises(MessageError) as err:
        check_interchange(segments(text.replace("UNZ+1+1", "UNZ+0+1")))
    assert (err.value.segment, err.value.position) == ("UNZ", 6)


def test_truncated_interchange():
    with pytest.raises(MessageError) as err:  # cut after the UNT: no UNZ
        check_interchange(segments(SIMPLE[: SIMPLE.index("UNZ")]))
    assert (err.value.segment, err.value.position) == ("UNZ", 6)
    with pytest.raises(MessageError) as err:  # cut inside the UNZ
        segments(SIMPLE[:-3])
    assert (err.value.segment, err.value.position) == ("UNZ", 6)


@pytest.mark.shared
def test_the_fast_path_reads_every_shared_sample_as_pydifact_does(shared: Path) -> None:
    """Segments without a release character are split on the separators directly; the result
    must be exactly pydifact's, segment by segment, on every real sample."""
    from qalqan.travel.edifact import segments

    checked = 0
    for path in sorted((shared / "messages" / "paxlst").iterdir()) + sorted((shared / "messages" / "pnrgov").iterdir()):
        data = path.read_bytes()
        try:
            fast = segments(data)
        except MessageError:
            continue  # read_message repairs some (tests above); the others are refused alike
        assert fast == segments(data, fast=False), path.name
        checked += 1
    assert checked >= 25


def test_the_invalid_character_pattern_is_the_rule() -> None:
    from qalqan.travel.edifact import _INVALID, _invalid

    assert [o for o in range(0x11000) if _invalid(chr(o)) != bool(_INVALID.fullmatch(chr(o)))] == []
