"""File screening in the formats analysts use: CSV and XLSX output (one row per match, the
explanation in columns), XLSX input (the first sheet, the CSV column rules), and JSON lines
unchanged for existing callers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest
from typer.testing import CliRunner

from qalqan import batch
from qalqan.batch import TABLE_COLUMNS, output_format, screen_file, screen_row
from qalqan.cli import app
from qalqan.matching.screener import Screener
from qalqan.model import ListError
from qalqan.sources.queries import read_queries

from .conftest import FakeRegistry

runner = CliRunner()

#: A listed person (with evidence), a namesake-free clean row, a row screened without its bad
#: date (a warning), a row that cannot be screened (no name), a name that would be a formula,
#: and a name matching two listed entries at a low cutoff.
ROWS = [
    ("a1", "Borislav Quennerstedt", "1971-05-02", "Kazakhstan", "N1234567"),
    ("a2", "Nobody Inparticular", "", "", ""),
    ("a3", "Gunnvald Treadwick", "1960-13-45", "", ""),
    ("a4", "", "", "", ""),
    ("a5", '=HYPERLINK("http://x","y")', "", "", ""),
]


def write_csv(path: Path, rows: list[tuple[str, ...]] = ROWS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "birth_date", "nationality", "document_number"])
        w.writerows(rows)
    return path


def read_table(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def sheet_rows(path: Path | io.BytesIO, index: int = 0) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path)
    return [tuple(c.value for c in r) for r in book.worksheets[index].iter_rows()]


# --------------------------------------------------------------------------- JSON lines unchanged


def test_jsonl_is_one_orjson_line_per_screen_row(tmp_path: Path, screener: Screener) -> None:
    """What existing callers read: exactly `orjson.dumps(screen_row(...))` per input row, in
    input order, for any engine and any chunk size, whatever the file extension of -o."""
    src = write_csv(tmp_path / "in.csv")
    expected = b"".join(orjson.dumps(screen_row(screener, row, 5, None, None)) + b"\n" for row in read_queries(src))
    out = io.BytesIO()
    screen_file(screener, src, out, workers=2, chunk=2)
    assert out.getvalue() == expected
    screen_file(screener, src, tmp_path / "out.json", workers=1)
    assert (tmp_path / "out.json").read_bytes() == expected


def test_output_format_from_option_or_extension() -> None:
    assert output_format(None, "hits.csv") == "csv"
    assert output_format(None, Path("HITS.XLSX")) == "xlsx"
    assert output_format(None, "hits.jsonl") == output_format(None, io.BytesIO()) == "jsonl"
    assert output_format("csv", "hits.jsonl") == "csv"  # the option wins
    with pytest.raises(ValueError, match="parquet"):
        output_format("parquet", "x")


# --------------------------------------------------------------------------- CSV output


def test_csv_one_row_per_match_and_one_per_record_without(tmp_path: Path, screener: Screener) -> None:
    src = write_csv(tmp_path / "in.csv")
    out = tmp_path / "hits.csv"
    stats = screen_file(screener, src, out, workers=1, cutoff=0.0, top=2)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a file: with a BOM, so Excel reads it as UTF-8
    rows = read_table(data)
    assert list(rows[0]) == list(TABLE_COLUMNS)
    # Every input record is there, in input order; a1 has its match ranked 1 with its evidence.
    assert [r["input_id"] for r in rows if r["rank"] in ("", "1")] == ["a1", "a2", "a3", "a4", "a5"]
    best = rows[0]
    assert best["input_name"] == "Borislav Quennerstedt" and best["entity_id"] == "tl-1" and best["match"] == "true"
    assert best["reference"] == "TLi.001" and best["list"] == "tl" and best["schema"] == "Person"
    assert float(best["score"]) >= 0.99 and best["name_score"] == "1.0"
    assert (best["birth_date_query"], best["birth_date_candidate"], best["birth_date_score"]) == ("1971-05-02", "1971-05-02", "1.0")
    assert (best["nationality_query"], best["nationality_candidate"]) == ("kz", "kz")
    assert best["document_candidate"] == "n1234567" and best["document_score"] == "1.0"
    assert best["birth_date_conflict"] == "0.0" and best["error"] == "" and best["warnings"] == ""
    a3 = next(r for r in rows if r["input_id"] == "a3" and r["rank"] == "1")
    assert a3["entity_id"] == "ol-1" and "birth_date" in a3["warnings"] and "1960-13-45" in a3["warnings"]
    [a4] = [r for r in rows if r["input_id"] == "a4"]
    assert a4["rank"] == a4["entity_id"] == "" and "empty name" in a4["error"]
    assert stats.rows == 5 and stats.errors == 1


def test_csv_record_without_match_keeps_its_row(tmp_path: Path, screener: Screener) -> None:
    src = write_csv(tmp_path / "in.csv")
    out = io.BytesIO()
    screen_file(screener, src, out, fmt="csv", workers=1)  # default cutoff: matches only
    data = out.getvalue()
    assert not data.startswith(b"\xef\xbb\xbf")  # a stream (a pipe): no BOM
    rows = read_table(data)
    assert [r["input_id"] for r in rows] == ["a1", "a2", "a3", "a4", "a5"]
    assert rows[1]["input_name"] == "Nobody Inparticular" and rows[1]["entity_id"] == rows[1]["score"] == ""


def test_csv_cell_that_would_be_a_formula_is_text(tmp_path: Path, screener: Screener) -> None:
    src = write_csv(tmp_path / "in.csv", [("+7701", "=HYPERLINK(\"http://x\",\"y\")", "", "", ""), ("@id", "-Minus Name", "", "", "")])
    out = io.BytesIO()
    screen_file(screener, src, out, fmt="csv", workers=1)
    rows = read_table(out.getvalue())
    assert rows[0]["input_name"] == "'=HYPERLINK(\"http://x\",\"y\")" and rows[0]["input_id"] == "'+7701"
    assert rows[1]["input_name"] == "'-Minus Name" and rows[1]["input_id"] == "'@id"


def test_csv_parallel_identical_to_serial(tmp_path: Path, screener: Screener) -> None:
    src = write_csv(tmp_path / "in.csv", ROWS * 40)
    serial, parallel = io.BytesIO(), io.BytesIO()
    screen_file(screener, src, serial, fmt="csv", workers=1, cutoff=0.2)
    screen_file(screener, src, parallel, fmt="csv", workers=2, chunk=7, cutoff=0.2)
    assert serial.getvalue() == parallel.getvalue()


# --------------------------------------------------------------------------- XLSX output


def test_xlsx_holds_the_same_table_as_csv(tmp_path: Path, screener: Screener) -> None:
    src = write_csv(tmp_path / "in.csv")
    screen_file(screener, src, tmp_path / "hits.csv", workers=1, cutoff=0.0, top=2)
    stats = screen_file(screener, src, tmp_path / "hits.xlsx", workers=2, chunk=2, cutoff=0.0, top=2)
    book = openpyxl.load_workbook(tmp_path / "hits.xlsx")
    sheet = book.worksheets[0]
    assert book.sheetnames == ["results"] and sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    got = [tuple(c.value for c in r) for r in sheet.iter_rows()]
    assert got[0] == TABLE_COLUMNS
    table = read_table((tmp_path / "hits.csv").read_bytes())
    assert len(got) - 1 == len(table)

    def as_csv(v: Any) -> Any:
        return "" if v is None else ("true" if v is True else "false" if v is False else float(v) if isinstance(v, (int, float)) else v)

    def from_csv(v: str, column: str) -> Any:
        numeric = column == "rank" or column.endswith(("score", "conflict"))
        return float(v) if numeric and v else v[1:] if v.startswith("'=") else v

    for cells, row in zip(got[1:], table, strict=True):
        # Same values; the CSV's formula guard (a leading apostrophe) is not needed in XLSX.
        assert [as_csv(v) for v in cells] == [from_csv(v, k) for k, v in row.items()]
    first = dict(zip(TABLE_COLUMNS, got[1]))
    assert first["match"] is True and isinstance(first["score"], (int, float)) and first["rank"] == 1  # filterable types
    assert stats.rows == 5


def test_xlsx_text_is_never_a_formula_and_control_characters_are_replaced(tmp_path: Path, screener: Screener) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "f1", "name": "=1+1"}\n{"id": "#N/A", "name": "Tab\\u0007Bell"}\n', encoding="utf-8")
    screen_file(screener, src, tmp_path / "hits.xlsx", workers=1)
    sheet = openpyxl.load_workbook(tmp_path / "hits.xlsx").worksheets[0]
    assert sheet["B2"].value == "=1+1" and sheet["B2"].data_type == "s"
    assert sheet["A3"].value == "#N/A" and sheet["A3"].data_type == "s"
    assert sheet["B3"].value == "Tab\ufffdBell"


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(tmp_path: Path, screener: Screener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "XLSX_SHEET_ROWS", 4)  # Excel's is 1,048,576: header + 3 rows here
    rows = [(f"r{i}", f"Person Number{i} Nobody", "", "", "") for i in range(8)]
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "hits.xlsx"
    screen_file(screener, src, out, workers=2, chunk=3)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["results", "results 2", "results 3"]
    ids = []
    for index in range(3):
        got = sheet_rows(out, index)
        assert got[0] == TABLE_COLUMNS and len(got) <= 4
        ids += [r[0] for r in got[1:]]
    assert ids == [f"r{i}" for i in range(8)]


def test_xlsx_to_a_text_stream_is_refused_before_any_work(tmp_path: Path, screener: Screener) -> None:
    with pytest.raises(ValueError, match="binary"):
        screen_file(screener, write_csv(tmp_path / "in.csv"), io.StringIO(), fmt="xlsx")


# --------------------------------------------------------------------------- XLSX input


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    book.create_sheet("ignored").append(["nonsense column"])  # only the first sheet is read
    book.save(path)
    return path


def test_xlsx_input_screens_like_the_same_csv(tmp_path: Path, screener: Screener) -> None:
    """A sheet as Excel keeps it (header in another case, a numeric id, a date cell, a blank row,
    a formatted but empty trailing cell) gives the JSON lines of the CSV export."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", " Name ", "Birth_Date", "nationality", "document_number"])
    sheet.append([1001, "Borislav Quennerstedt", dt.datetime(1971, 5, 2), "Kazakhstan", "N1234567"])
    sheet.append([None, None, None, None, None])
    sheet.append([1002.0, "Gunnvald Treadwick", "1960-13-45", None, None])
    sheet.append(["a4", None, None, None, None])
    sheet.cell(row=6, column=7).number_format = "0.00"  # formatting alone is no data
    sheet.append(["a5", "Ottoline Vasquez-Marrow", 1980, None, 12345678])
    sheet.append(["a6", "=\"Zephyrine\"&\" Maritime Holdings\"", None, None, None])
    book.save(tmp_path / "in.xlsx")
    csv_rows = [
        ("1001", "Borislav Quennerstedt", "1971-05-02", "Kazakhstan", "N1234567"),
        ("1002", "Gunnvald Treadwick", "1960-13-45", "", ""),
        ("a4", "", "", "", ""),
        ("a5", "Ottoline Vasquez-Marrow", "1980", "", "12345678"),
        # A formula counts by its last computed value, never its text; openpyxl computes none.
        ("a6", "", "", "", ""),
    ]
    from_xlsx, from_csv = io.BytesIO(), io.BytesIO()
    screen_file(screener, tmp_path / "in.xlsx", from_xlsx, workers=1)
    screen_file(screener, write_csv(tmp_path / "in.csv", csv_rows), from_csv, workers=1)
    assert from_xlsx.getvalue() == from_csv.getvalue()
    lines = [orjson.loads(x) for x in from_xlsx.getvalue().splitlines()]
    assert [r["id"] for r in lines] == ["1001", "1002", "a4", "a5", "a6"]
    assert lines[0]["matches"][0]["entity_id"] == "tl-1" and "error" in lines[2]


def test_xlsx_input_found_by_its_content_whatever_its_name(tmp_path: Path, screener: Screener) -> None:
    path = write_xlsx(tmp_path / "export.dat", [["name"], ["Borislav Quennerstedt"]])
    out = io.BytesIO()
    screen_file(screener, path, out, workers=1)
    assert orjson.loads(out.getvalue())["matches"][0]["entity_id"] == "tl-1"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["name", "surname"], ["A", "B"]], "unknown column 'surname'"),
        ([["Name", "name"], ["A", "B"]], "column 'name' appears twice"),
        ([["id", "birth_date"], ["1", "1970"]], "missing required column 'name'"),
        ([], "empty input file"),
    ],
)
def test_xlsx_input_column_rules_are_the_csv_ones(tmp_path: Path, screener: Screener, rows: list[list[Any]], message: str) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", rows)
    sink = io.BytesIO()
    with pytest.raises(ListError, match=message):
        screen_file(screener, path, sink)
    assert sink.getvalue() == b""


def test_xlsx_row_longer_than_its_header_is_an_error_in_its_place(tmp_path: Path, screener: Screener) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", [["id", "name"], ["a", "Borislav Quennerstedt"], ["b", "Gunnvald Treadwick", "stray"], ["c", "Nobody"]])
    out = io.BytesIO()
    stats = screen_file(screener, path, out, workers=1)
    a, b, c = (orjson.loads(x) for x in out.getvalue().splitlines())
    assert a["matches"] and c["id"] == "c" and "3 values but the header has 2 columns" in b["error"]
    assert stats.errors == 1


def test_broken_workbook_is_refused_naming_the_file(tmp_path: Path, screener: Screener) -> None:
    bad = tmp_path / "people.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is no workbook")
    with pytest.raises(ListError, match=r"people.xlsx: not a readable XLSX workbook"):
        screen_file(screener, bad, io.BytesIO())
    renamed = tmp_path / "people2.xlsx"
    renamed.write_text("name\nA\n")  # a CSV saved under an .xlsx name
    with pytest.raises(ListError, match="not a readable XLSX workbook"):
        screen_file(screener, renamed, io.BytesIO())


# --------------------------------------------------------------------------- command line


def test_cli_format_from_extension_and_option(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = write_csv(tmp_path / "in.csv")
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "-o", str(tmp_path / "hits.xlsx"), "--no-progress", "--workers", "1"])
    assert r.exit_code == 2, r.output  # a4 cannot be screened
    assert sheet_rows(tmp_path / "hits.xlsx")[1][:4] == ("a1", "Borislav Quennerstedt", 1, "tl-1")
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "--format", "csv", "--no-progress"])
    rows = read_table(r.stdout_bytes)
    assert [x["input_id"] for x in rows] == ["a1", "a2", "a3", "a4", "a5"]


def test_cli_xlsx_needs_a_file_and_address_needs_ray(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = write_csv(tmp_path / "in.csv")
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "--format", "xlsx"])
    assert r.exit_code == 2 and "-o FILE.xlsx" in r.stderr
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "--address", "auto"])
    assert r.exit_code == 2 and "--engine ray" in r.stderr
    assert fake_registry.calls == []  # refused before any list was read


def test_csv_flattens_the_vessel_evidence(tmp_path: Path) -> None:
    """A ship screened by name and IMO number: the IMO and flag columns say why it matched (and
    where the flag disagrees), as the person columns do for a person."""
    from qalqan.model import Document, Entity, Name

    ship = Entity(
        id="tl-9", schema="Vessel", list="tl", source_id="9", names=(Name("Qaratau Star"),),
        documents=(Document("9866720", "IMO number"),), flags=("pa",),
    )  # fmt: skip
    src = tmp_path / "ships.csv"
    src.write_text("id,name,imo,flag\ns1,Karatau Star,IMO 9866720,Comoros\ns2,Qaratau Star,,Comoros\n", encoding="utf-8")
    out = tmp_path / "hits.csv"
    screen_file(Screener([ship]), src, out, workers=1, cutoff=0.0)
    by_id, no_imo = read_table(out.read_bytes())
    assert by_id["entity_id"] == "tl-9" and by_id["match"] == "true"
    assert (by_id["imo_query"], by_id["imo_candidate"], by_id["imo_score"]) == ("9866720", "9866720", "1.0")
    # the same hull under another flag: the IMO number agrees, so the flag is not held against it
    assert by_id["flag_conflict"] == "0.0" and by_id["imo_conflict"] == "0.0"
    assert no_imo["entity_id"] == "tl-9" and no_imo["flag_conflict"] == "1.0"  # conflict present, weighed against
    assert no_imo["imo_score"] == "" or float(no_imo["imo_score"]) == 0.0
