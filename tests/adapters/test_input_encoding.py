"""Screening input that is not UTF-8, quotes that never close, and headers full of junk
(issue 7): the reader says what it did, refuses what it cannot read, and keeps errors short."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from qalqan import cli
from qalqan.cli import app
from qalqan.model import ListError
from qalqan.sources.queries import SHOWN_COLUMN_CHARS, SHOWN_COLUMNS, read_queries, read_records

from .conftest import FakeRegistry

runner = CliRunner()

#: Names a Western European bank's export holds; Excel on Windows saves them as cp1252.
WESTERN = ["José Müller", "François Lefèvre", "Zoë Ångström", "Søren Kierkegaard", "Jürgen Weiß", "Íñigo Núñez"]


def western_csv(encoding: str) -> bytes:
    rows = [f"c-{i},{name},DE" for i, name in enumerate(WESTERN, 1)]
    return ("id,name,nationality\n" + "\n".join(rows) + "\n").encode(encoding)


def names(path: Path, warnings: list[str] | None = None) -> list[str]:
    out = []
    for row in read_queries(path, on_warning=(warnings.append if warnings is not None else None)):
        assert row.query is not None, row.error
        out.append(row.query.names[0])
    return out


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_western_file_not_in_utf8_is_read_and_the_encoding_named(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(western_csv(encoding))
    warnings: list[str] = []
    assert names(path, warnings) == WESTERN
    # Several code pages decode this sample without a visible fault; it is read as the one
    # spreadsheets write (cp1250 would give "Lefčvre", "Sřren").
    assert warnings == ["people.csv is not UTF-8; read as cp1252 (detected)"]


def test_cyrillic_code_page_is_detected(tmp_path: Path) -> None:
    people = ["Мухаммад Абдулла", "Иван Петрович Сидоров", "Сергей Иванович Кузнецов", "Ольга Николаевна Смирнова"]
    path = tmp_path / "people.csv"
    path.write_bytes(("name\n" + "\n".join(people) + "\n").encode("cp1251"))
    warnings: list[str] = []
    assert names(path, warnings) == people
    assert warnings == ["people.csv is not UTF-8; read as cp1251 (detected)"]


def test_utf16_with_byte_order_mark_csv_and_jsonl(tmp_path: Path) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_bytes(western_csv("utf-16"))
    assert names(csv_path, []) == WESTERN
    jsonl = tmp_path / "people.jsonl"
    jsonl.write_bytes("".join(json.dumps({"name": n}, ensure_ascii=False) + "\n" for n in WESTERN).encode("utf-16"))
    assert names(jsonl, []) == WESTERN


def test_utf8_with_and_without_bom_is_read_silently(tmp_path: Path) -> None:
    for name, data in [("plain.csv", western_csv("utf-8")), ("bom.csv", western_csv("utf-8-sig")),
                       ("bom.jsonl", b"\xef\xbb\xbf" + "".join(json.dumps({"name": n}) + "\n" for n in WESTERN).encode())]:
        path = tmp_path / name
        path.write_bytes(data)
        warnings: list[str] = []
        assert names(path, warnings) == WESTERN, name
        assert warnings == [], name


def test_jsonl_in_a_legacy_code_page(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_bytes("".join(json.dumps({"id": i, "name": n}, ensure_ascii=False) + "\n" for i, n in enumerate(WESTERN)).encode("cp1252"))
    warnings: list[str] = []
    assert names(path, warnings) == WESTERN
    assert warnings == ["people.jsonl is not UTF-8; read as cp1252 (detected)"]


def test_bytes_in_no_detectable_encoding_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "noise.csv"
    path.write_bytes(b"id,name\n" + bytes(range(128, 256)) * 40 + b"\x00\x81\x8d\x8f\x90\x9d\n")
    with pytest.raises(ListError, match="noise.csv: not UTF-8") as info:
        read_records(path, on_warning=lambda m: None)
    assert "save it as UTF-8" in str(info.value)


def test_default_warning_goes_to_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Callers that pass no callback (the monitoring subject import) still leave a trace.
    path = tmp_path / "people.csv"
    path.write_bytes(western_csv("cp1252"))
    with caplog.at_level("WARNING", logger="qalqan.sources.queries"):
        list(read_records(path))
    assert "people.csv is not UTF-8; read as cp1252 (detected)" in caplog.text


def test_unterminated_quote_names_the_row_where_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('id,name\n1,Alice Able\n2,"Bob\n3,Carol Cole\n4,Dave Dunn\n')
    rows = read_queries(path)
    assert next(rows).query is not None
    with pytest.raises(ListError) as info:
        list(rows)
    assert str(info.value) == f"{path} record 2: unterminated quote: a quoted field opened in data row 2 (line 3) is never closed"


def test_unterminated_quote_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('id,"name\n1,Alice\n')
    with pytest.raises(ListError, match=r"people.csv: unreadable CSV header: unterminated quote: .* in the header \(line 1\)"):
        read_records(path)


def test_unknown_columns_error_stays_short(tmp_path: Path) -> None:
    junk = [f"junk_{i}_" + "x" * 5_000 for i in range(20_000)]  # a 100 MB header
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["name", *junk]) + "\nA B\n")
    with pytest.raises(ListError) as info:
        read_records(path)
    message = str(info.value)
    assert len(message) < 2_000
    assert message.count("'junk_") == SHOWN_COLUMNS and f"and {len(junk) - SHOWN_COLUMNS:,} more" in message
    assert "'junk_0_" + "x" * (SHOWN_COLUMN_CHARS - len("junk_0_")) + "…'" in message
    assert info.value.field is not None and len(info.value.field) == SHOWN_COLUMN_CHARS


def test_jsonl_record_with_a_million_keys_gets_a_short_error(tmp_path: Path) -> None:
    path = tmp_path / "wide.jsonl"
    path.write_bytes(orjson.dumps({"name": "A B", **{f"k{i}": 1 for i in range(1_000_000)}}) + b"\n")
    with pytest.raises(ListError) as info:
        read_records(path)
    assert len(str(info.value)) < 2_000 and "and 999,990 more" in str(info.value)
    assert info.value.record == "line 1"


def test_screen_reads_latin1_and_says_so(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "people.csv"
    src.write_bytes(western_csv("latin-1"))
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "-o", str(out), "--no-progress", "--workers", "1"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "people.csv is not UTF-8; read as cp1252 (detected)" in r.stderr
    got = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [g["id"] for g in got] == [f"c-{i}" for i in range(1, len(WESTERN) + 1)]
    assert all("error" not in g for g in got) and "0 could not be screened" in r.stderr


def test_screen_with_unscreenable_rows_exits_non_zero_and_counts_them(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "people.csv"
    src.write_text("id,name,birth_date\n1,Alpha Beta,\n2,,\n3,   ,1960\n4,Epsilon Zeta,\n5,Gamma Delta,1960-13-45\n")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "-o", str(out), "--no-progress", "--workers", "1"], env={"COLUMNS": "200"})
    assert r.exit_code == cli.EXIT_ROWS_FAILED != 0
    assert "2 of 5 rows could not be screened" in r.stderr and isinstance(r.exception, SystemExit)
    got = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [g["id"] for g in got] == ["1", "2", "3", "4", "5"]  # every row is still in the output
    # Only rows without a name are refused; an impossible date is left out with a warning.
    assert ["error" in g for g in got] == [False, True, True, False, False]
    assert got[4]["warnings"][0]["field"] == "birth_date"


def test_screen_refuses_an_unterminated_quote_naming_file_and_row(tmp_path: Path, fake_registry: FakeRegistry) -> None:
    src = tmp_path / "people.csv"
    src.write_text('id,name\n1,Alice Able\n2,"Bob\n3,Carol Cole\n')
    r = runner.invoke(app, ["screen", str(src), "--list", "tl.csv", "--no-progress", "--workers", "1"], env={"COLUMNS": "300"})
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert "people.csv" in r.stderr and "unterminated quote" in r.stderr and "data row 2 (line 3)" in r.stderr


def test_subject_import_reads_a_legacy_code_page(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Monitoring's bulk import reads through the same reader: the watched names are not mangled.
    from qalqan.service import subjects
    from qalqan.service.core import Qalqan

    service = Qalqan.open(f"sqlite:///{tmp_path / 'store' / 'qalqan.db'}", audit_key=b"k" * 32)
    src = tmp_path / "customers.csv"
    src.write_bytes(western_csv("cp1252"))
    with caplog.at_level("WARNING", logger="qalqan.sources.queries"):
        done = subjects.import_subjects_file(service, src, actor="test", purpose="issue 7")
    assert done.added == len(WESTERN) and done.error_count == 0
    assert "customers.csv is not UTF-8; read as cp1252 (detected)" in caplog.text
    page = subjects.list_subjects(service, offset=0, limit=len(WESTERN))
    assert sorted(s["caption"] for s in page.items) == sorted(WESTERN)
