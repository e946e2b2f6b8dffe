"""Property tests: whatever text a list carries, a reader either returns entities (reporting what
it could not use) or raises ListError. Nothing else escapes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalqan.model import Entity, ListError, Name, NameKind
from qalqan.sources import csv as csv_reader
from qalqan.sources.common import MAX_NAME_LENGTH, clean
from qalqan.sources.registry import read_list

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CSV_COLUMNS = csv_reader.COLUMNS


def _read(content: bytes, suffix: str, fmt: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"list{suffix}"
        path.write_bytes(content)
        return read_list(f"{fmt}:{path}")


def _read_or_list_error(content: bytes, suffix: str, fmt: str):
    try:
        return _read(content, suffix, fmt)
    except ListError:
        return None


@SETTINGS
@given(column=st.sampled_from(CSV_COLUMNS), value=st.text(max_size=200))
def test_csv_any_cell(column: str, value: str) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    row = {"id": "r1", "name": "Test Person"}
    row[column] = value
    writer.writerow([row.get(c, "") for c in CSV_COLUMNS])
    writer.writerow(["r2"] + [""] + ["Second Person"] + [""] * (len(CSV_COLUMNS) - 3))
    loaded = _read_or_list_error(buf.getvalue().encode("utf-8", "surrogatepass"), ".csv", "csv")
    if loaded is None:
        return
    # Each row is either kept or its rejection is reported (by id or line).
    kept = {e.source_id for e in loaded.entities}
    first_id = clean(value)[:200] if column == "id" else "r1"
    assert len(kept) + len(loaded.report.errors) == 2
    assert first_id in kept or loaded.report.errors
    for e in loaded.entities:
        assert all(n.value and len(n.value) <= MAX_NAME_LENGTH for n in e.names)


@SETTINGS
@given(raw=st.binary(max_size=400))
def test_csv_arbitrary_bytes(raw: bytes) -> None:
    _read_or_list_error(b"id,name\n" + raw, ".csv", "csv")


UN_FIELDS = ("FIRST_NAME", "SECOND_NAME", "NAME_ORIGINAL_SCRIPT", "GENDER", "LISTED_ON")


@SETTINGS
@given(field=st.sampled_from(UN_FIELDS + ("ALIAS", "DATE", "YEAR", "NOTE", "NATIONALITY", "NUMBER")), value=st.text(max_size=200))
def test_un_any_text_node(field: str, value: str) -> None:
    v = escape(value)
    parts = {f: "" for f in UN_FIELDS}
    parts["FIRST_NAME"] = "TEST"
    extra = ""
    if field in parts:
        parts[field] = v
    elif field == "ALIAS":
        extra = f"<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>{v}</ALIAS_NAME></INDIVIDUAL_ALIAS>"
    elif field in ("DATE", "YEAR", "NOTE"):
        extra = f"<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><{field}>{v}</{field}></INDIVIDUAL_DATE_OF_BIRTH>"
    elif field == "NATIONALITY":
        extra = f"<NATIONALITY><VALUE>{v}</VALUE></NATIONALITY>"
    else:
        extra = f"<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>{v}</NUMBER></INDIVIDUAL_DOCUMENT>"
    body = "".join(f"<{k}>{val}</{k}>" for k, val in parts.items())
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST dateGenerated="2030-01-01"><INDIVIDUALS>'
        f"<INDIVIDUAL><DATAID>1</DATAID>{body}{extra}</INDIVIDUAL>"
        "<INDIVIDUAL><DATAID>2</DATAID><FIRST_NAME>OTHER</FIRST_NAME></INDIVIDUAL>"
        "</INDIVIDUALS></CONSOLIDATED_LIST>"
    )
    loaded = _read_or_list_error(doc.encode("utf-8", "surrogatepass"), ".xml", "un")
    if loaded is None:
        return
    ids = {e.source_id for e in loaded.entities}
    assert "2" in ids
    assert "1" in ids or "1" in {i.record for i in loaded.report.errors}


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_un_arbitrary_bytes_inside_a_record(raw: bytes) -> None:
    doc = b'<?xml version="1.0"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>' + raw
    doc += b"</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"
    _read_or_list_error(doc, ".xml", "un")


@SETTINGS
@given(value=st.text(max_size=100), prop=st.sampled_from(["name", "alias", "birthDate", "nationality", "gender", "passportNumber", "country"]))
def test_ftm_any_property_value(value: str, prop: str) -> None:
    props = {"name": ["Test Person"], prop: [value]}
    line = orjson.dumps({"id": "x1", "schema": "Person", "properties": props})
    _read_or_list_error(line + b"\n", ".jsonl", "ftm")


name_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")),  # surrogates cannot be written as UTF-8
    min_size=1,
    max_size=60,
).map(clean).filter(bool)


@SETTINGS
@given(primary=name_text, aliases=st.lists(name_text.filter(lambda s: ";" not in s), max_size=4))
def test_csv_round_trip_preserves_names(primary: str, aliases: list[str]) -> None:
    names = [Name(primary)] + [Name(a, NameKind.ALIAS) for a in aliases if a != primary]
    entity = Entity(id="t-1", schema="Person", list="t", source_id="1", names=tuple(dict.fromkeys(names)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        csv_reader.write([entity], path)
        loaded = read_list(f"csv:{path}")
    [again] = loaded.entities
    expected = list(dict.fromkeys(n.value for n in entity.names))
    assert [n.value for n in again.names] == expected


OFAC_FIELDS = ("firstName", "lastName", "dateOfBirth", "country", "idNumber", "category")


@SETTINGS
@given(field=st.sampled_from(OFAC_FIELDS), value=st.text(max_size=200))
def test_ofac_any_text_node(field: str, value: str) -> None:
    v = escape(value)
    vals = {f: "" for f in OFAC_FIELDS}
    vals["lastName"] = "TESTER"
    vals["category"] = "strong"
    vals[field] = v
    doc = (
        '<?xml version="1.0"?><sdnList xmlns="urn:any"><sdnEntry><uid>1</uid>'
        f"<firstName>{vals['firstName']}</firstName><lastName>{vals['lastName']}</lastName><sdnType>Individual</sdnType>"
        f"<akaList><aka><uid>2</uid><type>a.k.a.</type><category>{vals['category']}</category><lastName>ALIAS</lastName></aka></akaList>"
        f"<idList><id><uid>3</uid><idType>Passport</idType><idNumber>{vals['idNumber']}</idNumber></id></idList>"
        f"<nationalityList><nationality><uid>4</uid><country>{vals['country']}</country></nationality></nationalityList>"
        f"<dateOfBirthList><dateOfBirthItem><uid>5</uid><dateOfBirth>{vals['dateOfBirth']}</dateOfBirth></dateOfBirthItem></dateOfBirthList>"
        "</sdnEntry><sdnEntry><uid>9</uid><lastName>OTHER</lastName><sdnType>Entity</sdnType></sdnEntry></sdnList>"
    )
    loaded = _read_or_list_error(doc.encode("utf-8", "surrogatepass"), ".xml", "ofac")
    if loaded is None:
        return
    ids = {e.source_id for e in loaded.entities}
    assert "9" in ids and ("1" in ids or "1" in {i.record for i in loaded.report.errors})


CANADA_FIELDS = ("LastName", "GivenName", "EntityOrShip", "Aliases", "DateOfBirthOrShipBuildDate", "TitleOrShip", "Country")


@SETTINGS
@given(field=st.sampled_from(CANADA_FIELDS), value=st.text(max_size=200))
def test_canada_any_text_node(field: str, value: str) -> None:
    body = f"<{field}>{escape(value)}</{field}>"
    if field not in ("LastName", "GivenName", "EntityOrShip"):
        body += "<LastName>Tester</LastName>"
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?><data-set>'
        f"<record>{body}<Item>1</Item></record><record><LastName>Other</LastName><Item>2</Item></record></data-set>"
    )
    loaded = _read_or_list_error(doc.encode("utf-8", "surrogatepass"), ".xml", "canada")
    if loaded is None:
        return
    ids = {e.id for e in loaded.entities}
    assert "ca-2" in ids and ("ca-1" in ids or "1" in {i.record for i in loaded.report.errors})
