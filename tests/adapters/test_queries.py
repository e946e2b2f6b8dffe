"""The screening-input reader: columns, per-row errors, formats, oversize fields."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from qalqan.model import DateKind, Document, ListError, PartialDate
from qalqan.sources.queries import MAX_NAME_CHARS, QUERY_COLUMNS, read_queries


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


def test_csv_row_becomes_query(tmp_path: Path) -> None:
    p = write(tmp_path, "in.csv", "id,schema,name,birth_date,nationality,gender,document_number\n"
              "c-1,Person,Borislav Quennerstedt,02.05.1971,Kazakhstan,M,N1234567\n")
    [row] = list(read_queries(p))
    assert row.error is None and row.id == "c-1"
    q = row.query
    assert q is not None
    assert q.names == ("Borislav Quennerstedt",)
    assert q.schema == "Person"
    assert q.birth_dates == (PartialDate(1971, 5, 2),)
    assert q.nationalities == ("kz",)
    assert q.gender == "male"
    assert q.documents == (Document("N1234567"),)


def test_only_name_required_and_defaults(tmp_path: Path) -> None:
    p = write(tmp_path, "in.csv", "name\nAlpha Beta\n\nGamma Delta\n")
    rows = list(read_queries(p))
    assert [r.id for r in rows] == [1, 2]  # row numbers; blank lines are not rows
    assert all(r.query is not None and r.query.schema == "Person" for r in rows)
    assert rows[1].query.names == ("Gamma Delta",)  # type: ignore[union-attr]


def test_schema_gender_and_approximate_dates_normalised(tmp_path: Path) -> None:
    p = write(tmp_path, "in.csv", "name,schema,gender,birth_date\nAcme,company,,\nX Y,person,Female,circa 1975\n")
    a, b = list(read_queries(p))
    assert a.query.schema == "Organization"  # type: ignore[union-attr]
    assert b.query.gender == "female"  # type: ignore[union-attr]
    assert b.query.birth_dates[0].kind is DateKind.APPROXIMATE  # type: ignore[union-attr]


def test_unknown_column_raises_before_any_row(tmp_path: Path) -> None:
    p = write(tmp_path, "in.csv", "name,date_of_birth\nA B,1970\n")
    with pytest.raises(ListError) as info:
        read_queries(p)  # not iterated: the check is eager
    assert info.value.field == "date_of_birth"
    assert "date_of_birth" in str(info.value) and str(p) in str(info.value)


def test_missing_name_column(tmp_path: Path) -> None:
    p = write(tmp_path, "in.csv", "id,birth_date\n1,1970\n")
    with pytest.raises(ListError, match="name"):
        read_queries(p)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="empty"):
        read_queries(write(tmp_path, "in.csv", ""))


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("r1,Person,A B,1960-13-45,,,", "birth_date", "month out of range"),
        ("r1,Person,A B,not a date,,,", "birth_date", "unreadable date"),
        ("r1,Person,A B,,Atlantis,,", "nationality", "unknown country"),
        ("r1,Person,A B,,,robot,", "gender", "unknown gender"),
        ("r1,Spaceship,A B,,,,", "schema", "unknown schema"),
    ],
)
def test_bad_value_is_a_warning_naming_the_field_and_the_row_is_screened(tmp_path: Path, line: str, field: str, message: str) -> None:
    # (These rows used to be refused whole.) More in tests/adapters/test_bad_fields.py.
    header = ",".join(QUERY_COLUMNS)
    p = write(tmp_path, "in.csv", f"{header}\n{line}\nr2,Person,Good Name,,,,\n")
    bad, good = list(read_queries(p))
    assert bad.query is not None and bad.query.names == ("A B",) and bad.error is None
    [warning] = bad.warnings
    assert warning.field == field and message in warning.message
    assert good.query is not None and good.warnings == ()


def test_a_row_without_a_name_is_a_row_error_naming_row_and_field(tmp_path: Path) -> None:
    header = ",".join(QUERY_COLUMNS)
    p = write(tmp_path, "in.csv", f"{header}\nr1,Person,   ,1960-13-45,,,\nr2,Person,Good Name,,,,\n")
    bad, good = list(read_queries(p))
    assert bad.query is None and bad.field == "name" and "empty name" in (bad.error or "")
    rec = bad.error_record()
    assert rec["id"] == "r1" and "name" in rec["error"] and "r1" in rec["error"]
    assert good.query is not None  # the file goes on after a bad row


def test_ten_megabyte_name_is_a_clear_row_error(tmp_path: Path) -> None:
    huge = "A" * (10 * 1024 * 1024)
    p = write(tmp_path, "in.csv", f"id,name\nbig,{huge}\nsmall,Alpha Beta\n")
    big, small = list(read_queries(p))
    assert big.field == "name" and f"at most {MAX_NAME_CHARS}" in (big.error or "")
    assert small.query is not None and small.query.names == ("Alpha Beta",)


def test_row_with_extra_values(tmp_path: Path) -> None:
    p = write(tmp_path, "in.csv", "id,name\n1,A B,surplus\n2,C D\n")
    bad, good = list(read_queries(p))
    assert bad.query is None and "3 values" in (bad.error or "")
    assert good.query is not None


def test_a_file_that_is_not_utf8_is_read_in_its_detected_encoding(tmp_path: Path) -> None:
    # (It used to be read as UTF-8 with every accented row an error.) More in test_input_encoding.
    p = write(tmp_path, "in.csv", "id,name\n1,Café Owner\n2,Fine Name\n3,Jürgen Weiß\n".encode("cp1252"))
    rows = list(read_queries(p, on_warning=lambda message: None))
    assert [r.query.names for r in rows if r.query] == [("Café Owner",), ("Fine Name",), ("Jürgen Weiß",)]
    for r in rows:
        orjson.dumps(r.query.id if r.query else r.error_record())


def test_jsonl_detected_from_content(tmp_path: Path) -> None:
    lines = [
        {"id": 7, "name": "Borislav Quennerstedt", "birth_date": "1971", "nationality": "KZ"},
        {"name": "Zephyrine Maritime Holdings", "schema": "Organization"},
    ]
    p = write(tmp_path, "queries.txt", "\n".join(json.dumps(x) for x in lines) + "\n")
    a, b = list(read_queries(p))
    assert a.id == 7 and a.query.nationalities == ("kz",)  # type: ignore[union-attr]
    assert b.id == 2 and b.query.schema == "Organization"  # type: ignore[union-attr]


def test_jsonl_unknown_key_anywhere_fails_before_output(tmp_path: Path) -> None:
    text = '{"name": "A B"}\n{"name": "C D"}\n{"name": "E F", "passport": "X1"}\n'
    with pytest.raises(ListError) as info:
        read_queries(write(tmp_path, "in.jsonl", text))
    assert info.value.field == "passport" and info.value.record == "line 3"


def test_jsonl_bad_lines_are_row_errors(tmp_path: Path) -> None:
    text = '{"name": "A B"}\n{not json\n[1, 2]\n{"name": 5}\n{"id": "x"}\n'
    rows = list(read_queries(write(tmp_path, "in.jsonl", text)))
    assert rows[0].query is not None
    assert "invalid JSON" in (rows[1].error or "")
    assert "JSON object" in (rows[2].error or "")
    assert rows[3].query is not None and rows[3].query.names == ("5",)
    assert rows[4].id == "x" and rows[4].field == "name"


def test_reading_is_lazy(tmp_path: Path) -> None:
    # A broken record late in the file surfaces only when reached: earlier rows stream out first.
    p = write(tmp_path, "in.csv", "name\n" + "Alpha Beta\n" * 50 + '"unterminated\n')
    rows = read_queries(p)
    first = next(rows)
    assert first.query is not None
    with pytest.raises(ListError, match=r"data row 51 \(line 52\) is never closed"):
        list(rows)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_cell = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_cell, _cell, _cell, _cell, _cell), min_size=1, max_size=8))
def test_any_cell_text_gives_a_query_or_a_named_error(tmp_path: Path, rows: list[tuple[str, ...]]) -> None:
    import csv as _csv

    p = tmp_path / "prop.csv"
    with open(p, "w", encoding="utf-8", newline="") as fh:
        w = _csv.writer(fh)
        w.writerow(["name", "birth_date", "nationality", "gender", "schema"])
        w.writerows(rows)
    got = list(read_queries(p))
    assert len(got) == len(rows)  # every row comes back, screened or as its error
    for row in got:
        assert (row.query is None) == (row.error is not None)
        if row.query is None:
            assert row.field in {"name", None}  # only the name can make a row unscreenable
        assert {w.field for w in row.warnings} <= {"birth_date", "nationality", "gender", "schema"}
