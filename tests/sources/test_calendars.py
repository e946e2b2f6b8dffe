"""Dates written in other calendars are converted to Gregorian, not dropped, and the readers
never drop a whole listed entity for one bad field.

Known conversions (Umm al-Qura for lunar Hijri, as Saudi Arabia publishes it; the Solar Hijri
calendar of Iran): 1 Muharram 1446 = 7 July 2024; 1 Ramadan 1446 = 1 March 2025; 1 Muharram
1445 = 19 July 2023; 1 Farvardin 1403 (Nowruz) = 20 March 2024; 12 Farvardin 1361 = 1 April 1982.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.model import DateKind, NameKind, PartialDate
from qalqan.sources.registry import read_list
from qalqan.sources.values import HIJRI, SOLAR_HIJRI, calendar_of, date_note, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/06/1402 (Hijri Calendar)", PartialDate(1982, 4, 18)),  # the UN list's own form (QDi.291)
        ("1 Muharram 1446", PartialDate(2024, 7, 7)),
        ("01/01/1446 (Hijri)", PartialDate(2024, 7, 7)),
        ("1446-01-01 AH", PartialDate(2024, 7, 7)),
        ("1 Ramadan 1446", PartialDate(2025, 3, 1)),
        ("01.01.1445 A.H.", PartialDate(2023, 7, 19)),
        ("Hijri Calendar 24/06/1426", PartialDate(2005, 7, 30)),
        ("1403-01-01 (Solar Hijri)", PartialDate(2024, 3, 20)),
        ("12 Farvardin 1361", PartialDate(1982, 4, 1)),
        ("12/01/1361 (Shamsi)", PartialDate(1982, 4, 1)),
        # A year or month of another calendar: the Gregorian date that holds all of it.
        ("1402 AH", PartialDate(1981, kind=DateKind.BETWEEN, year_to=1982)),
        ("Muharram 1446", PartialDate(2024)),  # 7 July - 5 August 2024
        ("Ramadan 1446 AH", PartialDate(2025, 3)),  # 1 - 29 March 2025
        ("1361 SH", PartialDate(1982, kind=DateKind.BETWEEN, year_to=1983)),
        ("1400-1402 AH", PartialDate(1979, kind=DateKind.BETWEEN, year_to=1982)),
        ("circa 01/01/1446 (Hijri)", PartialDate(2024, 7, 7, DateKind.APPROXIMATE)),
        # Outside Umm al-Qura's tables (1343-1500 AH): the arithmetical Islamic calendar.
        ("01/01/1300 (Hijri)", PartialDate(1882, 11, 12)),
    ],
)
def test_other_calendars_are_converted(text: str, expected: PartialDate) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("30/01/1446 (Hijri)", "day 30 is past the end of month 1 of Hijri year 1446 (29 days)"),
        ("31/12/1403 (Solar Hijri)", "day 31 is past the end of month 12 of Solar Hijri year 1403 (30 days)"),
        ("13/13/1402 (Hijri)", "month out of range"),
        ("sometime (Hijri)", "unreadable date"),
    ],
)
def test_impossible_dates_in_other_calendars_are_named(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="date") as info:
        parse_date(text)
    assert fragment in str(info.value) and text in str(info.value)


@pytest.mark.parametrize("text", ["1971-05-02", "02.05.1971", "Nov. 1973", "circa 1975", "1975 (approx)", "Apr 1402", "1402"])
def test_dates_without_a_calendar_note_stay_gregorian(text: str) -> None:
    # A calendar is never guessed from the year: 1402 without a note is the year 1402.
    assert calendar_of(text) is None
    if text == "1975 (approx)":
        return
    assert parse_date(text).year in (1971, 1973, 1975, 1402)


def test_calendar_of_and_date_note() -> None:
    assert calendar_of("24/06/1402 (Hijri Calendar)") == (HIJRI, "24/06/1402")
    assert calendar_of("1361 (Solar Hijri calendar)") == (SOLAR_HIJRI, "1361")
    note = date_note("24/06/1402\n  (Hijri Calendar)", parse_date("24/06/1402 (Hijri Calendar)"))
    assert note == "date of birth as written: 24/06/1402 (Hijri Calendar); read as 1982-04-18 (from the Hijri calendar)"
    assert date_note("1982-04-18", PartialDate(1982, 4, 18)) is None


@pytest.mark.shared
@pytest.mark.parametrize("name", ["un_consolidated_2026-02-27.xml", "un_consolidated_2025-04-19_reserialized.xml"])
def test_the_un_reader_yields_the_hijri_birth_dates_of_the_real_list(shared: Path, name: str) -> None:
    loaded = read_list(str(shared / "un" / name))
    [asiri] = [e for e in loaded.entities if e.reference == "QDi.291"]
    # The Hijri date (24/06/1402) is read, no longer a warning; it is the day the list also gives.
    assert PartialDate(1982, 4, 18) in asiri.birth_dates
    assert "date of birth as written: 24/06/1402 (Hijri Calendar); read as 1982-04-18 (from the Hijri calendar)" in asiri.notes
    assert not [w for w in loaded.report.warnings if w.record == asiri.source_id]
    assert not [w for w in loaded.report.warnings if "Hijri" in w.message]


# -- readers: one bad field never drops a listed entity --------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


UN_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2030-01-02T03:04:05.000Z"><INDIVIDUALS>{individuals}</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>
"""


def test_un_record_without_a_primary_name_is_kept_under_its_other_names(tmp_path: Path) -> None:
    xml = UN_TEMPLATE.format(individuals="""
      <INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME/><UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.991</REFERENCE_NUMBER>
        <NAME_ORIGINAL_SCRIPT>تستامير زهراوي</NAME_ORIGINAL_SCRIPT>
        <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Testamir al-Zuhrawi</ALIAS_NAME></INDIVIDUAL_ALIAS>
        <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><NOTE>01/01/1446 (Hijri Calendar)</NOTE></INDIVIDUAL_DATE_OF_BIRTH>
      </INDIVIDUAL>
      <INDIVIDUAL><DATAID>2</DATAID><FIRST_NAME> </FIRST_NAME></INDIVIDUAL>""")
    loaded = read_list(f"un:{write(tmp_path, 'un.xml', xml)}")
    [e] = loaded.entities
    assert e.caption == "Testamir al-Zuhrawi" and {n.kind for n in e.names} == {NameKind.ALIAS, NameKind.ORIGINAL_SCRIPT}
    assert e.birth_dates == (PartialDate(2024, 7, 7),)
    assert [(w.record, w.field) for w in loaded.report.warnings] == [("1", "FIRST_NAME")]
    assert [(x.record, x.field) for x in loaded.report.errors] == [("2", "FIRST_NAME")]  # no name at all: still skipped


OFAC_TEMPLATE = """<?xml version="1.0" standalone="yes"?>
<sdnList><publshInformation><Publish_Date>12/31/2029</Publish_Date><Record_Count>{count}</Record_Count></publshInformation>{entries}</sdnList>
"""


def test_ofac_entry_with_an_empty_name_or_an_unknown_type_is_kept(tmp_path: Path) -> None:
    entries = """
      <sdnEntry><uid>1</uid><lastName/><sdnType>Individual</sdnType>
        <akaList><aka><uid>11</uid><type>a.k.a.</type><category>strong</category><firstName>Testan</firstName><lastName>FAKEMAN</lastName></aka></akaList>
        <dateOfBirthList><dateOfBirthItem><dateOfBirth>1402 AH</dateOfBirth></dateOfBirthItem></dateOfBirthList>
      </sdnEntry>
      <sdnEntry><uid>2</uid><lastName>FICTIONAL TRADING LLC</lastName><sdnType>Entiy</sdnType></sdnEntry>
      <sdnEntry><uid>3</uid><lastName>FAKE JET</lastName><sdnType>Aircraft</sdnType></sdnEntry>"""
    loaded = read_list(f"ofac:{write(tmp_path, 'ofac.xml', OFAC_TEMPLATE.format(count=3, entries=entries))}")
    by_id = {e.source_id: e for e in loaded.entities}
    assert by_id["1"].caption == "Testan FAKEMAN" and by_id["1"].schema == "Person"
    assert by_id["1"].birth_dates == (PartialDate(1981, kind=DateKind.BETWEEN, year_to=1982),)
    assert by_id["2"].schema == "LegalEntity" and by_id["2"].caption == "FICTIONAL TRADING LLC"
    assert {(w.record, w.field) for w in loaded.report.warnings} == {("1", "lastName"), ("2", "sdnType")}
    assert [(x.record, x.field) for x in loaded.report.errors] == [("3", "sdnType")]  # aircraft are not screened


CANADA_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<data-set>{records}</data-set>
"""


def test_canada_record_with_only_aliases_or_one_bad_date_alternative_is_kept_whole(tmp_path: Path) -> None:
    records = """
      <record><Country>Russia / Russie</Country><LastName>TESTOVICH</LastName><GivenName>Ivan</GivenName>
        <DateOfBirthOrShipBuildDate>1963-13-01 or 1964</DateOfBirthOrShipBuildDate><Schedule>1</Schedule><Item>1</Item></record>
      <record><Country>Iran</Country><Aliases>Fictional Shipping Co.; FSC</Aliases><Schedule>1</Schedule><Item>2</Item></record>
      <record><Country>Iran</Country><Schedule>1</Schedule><Item>3</Item></record>"""
    loaded = read_list(f"canada:{write(tmp_path, 'ca.xml', CANADA_TEMPLATE.format(records=records))}")
    first, second = loaded.entities
    assert first.birth_dates == (PartialDate(1964),)  # the good alternative after the bad one is kept
    assert "date of birth: 1963-13-01" in first.notes
    assert second.caption == "Fictional Shipping Co." and second.schema == "LegalEntity"
    assert {(w.record, w.field) for w in loaded.report.warnings} == {("1", "DateOfBirthOrShipBuildDate"), ("2", "LastName")}
    assert [(x.record, x.field) for x in loaded.report.errors] == [("3", "LastName")]


def test_ftm_entity_without_a_name_property_is_kept_under_its_aliases(tmp_path: Path) -> None:
    lines = (
        '{"id": "a", "schema": "Person", "properties": {"alias": ["Testan Fakeman"], "birthDate": ["24/06/1402 (Hijri Calendar)"]}}\n'
        '{"id": "b", "schema": "Person", "properties": {"birthDate": ["1970"]}}\n'
    )
    loaded = read_list(f"ftm:{write(tmp_path, 'list.jsonl', lines)}")
    [e] = loaded.entities
    assert e.caption == "Testan Fakeman" and e.birth_dates == (PartialDate(1982, 4, 18),)
    assert any("Hijri" in n for n in e.notes)
    assert [(w.record, w.field) for w in loaded.report.warnings] == [("a", "name")]
    assert [(x.record, x.field) for x in loaded.report.errors] == [("b", "name")]


def test_csv_row_with_an_empty_name_but_aliases_is_kept(tmp_path: Path) -> None:
    text = "id,schema,name,aliases,birth_date\nK1,Person,,Yerqanat Tasjolov;Erkanat Taszholov,1361 SH\nK2,Person,,,1970\n"
    loaded = read_list(f"csv:{write(tmp_path, 'national.csv', text)}")
    [e] = loaded.entities
    assert e.caption == "Yerqanat Tasjolov" and e.birth_dates == (PartialDate(1982, kind=DateKind.BETWEEN, year_to=1983),)
    assert [(w.record, w.field) for w in loaded.report.warnings] == [("K1", "name")]
    assert [(x.record, x.field) for x in loaded.report.errors] == [("K2", "name")]
