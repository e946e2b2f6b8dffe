from __future__ import annotations

import io
from pathlib import Path

import pytest

from qalqan.model import DateKind, Document, ListError, NameKind, PartialDate
from qalqan.sources import csv as csv_reader
from qalqan.sources.common import MAX_NAME_LENGTH
from qalqan.sources.registry import detect_format, read_list

HEADER = "id,schema,name,aliases,birth_date,nationality,gender,document_number,document_type,country,program,listed_on,reference"


@pytest.fixture(scope="module")
def small(fixtures: Path):
    return read_list(str(fixtures / "national_small.csv"))


def test_rows(small, fixtures: Path) -> None:
    assert detect_format(fixtures / "national_small.csv") == "csv"
    assert small.info.name == "national_small" and small.info.format == "csv"
    # T5's unknown schema "Robot" no longer drops the row: it is read as LegalEntity.
    assert small.info.counts == {"LegalEntity": 1, "Organization": 1, "Person": 3, "Vessel": 1}
    t1 = small.entities[0]
    assert t1.id == "national_small-T1" and t1.reference == "KZ.T.1"
    assert [n.value for n in t1.names] == ["Ерқанат Тестұлы Фейков", "Yerqanat Testuly Feikov", "Erkanat Feikov"]
    assert all(n.kind is NameKind.ALIAS for n in t1.names[1:])
    assert t1.birth_dates == (PartialDate(1960),)  # 1960-00-00
    assert t1.documents == (Document("N0001", "Passport"), Document("N0002", "Passport"))
    assert t1.nationalities == ("kz",) and t1.gender == "male" and t1.listed_on == "2024-05-20"
    assert small.entities[1].reference == "T2"  # defaults to the id


def test_bad_values_are_reported_by_row_and_field(small) -> None:
    errors = {(i.record, i.field) for i in small.report.errors}
    assert errors == {("T4", "name"), ("T1", "id")}
    warnings = {(i.record, i.field) for i in small.report.warnings}
    assert {("T3", "nationality"), ("T3", "gender"), ("T3", "listed_on"), ("T7", "birth_date"), ("T5", "schema")} <= warnings
    t5 = next(e for e in small.entities if e.source_id == "T5")
    assert t5.schema == "LegalEntity" and t5.caption == "Robo Fake"  # a listed entity is never lost to one bad field
    t3 = next(e for e in small.entities if e.source_id == "T3")
    assert t3.birth_dates == (PartialDate(1975, kind=DateKind.APPROXIMATE),)  # circa 1975
    assert "nationality: Atlantis" in t3.notes


def write(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id,aliases\n1,x\n")
    with pytest.raises(ListError, match="missing required column 'name'") as exc:
        read_list(f"csv:{path}")
    assert exc.value.field == "name"


def test_detected_csv_without_id_names_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name,aliases\nSomeone,x\n")
    with pytest.raises(ListError, match="missing required column 'id'"):
        read_list(str(path))


def test_extra_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,birthdate\n1,Someone,1970\n")
    with pytest.raises(ListError, match="unknown column 'birthdate'") as exc:
        read_list(str(path))
    assert exc.value.field == "birthdate"


def test_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,name\n1,José Müller\n".encode("latin-1"))
    with pytest.raises(ListError, match="not UTF-8"):
        read_list(f"csv:{path}")


def test_ragged_row(tmp_path: Path) -> None:
    loaded = read_list(str(write(tmp_path, "id,name\n1,A\n2,B,extra\n")))
    [err] = loaded.report.errors
    assert err.record == "2" and "3 cells" in err.message
    assert [e.source_id for e in loaded.entities] == ["1"]


def test_only_bad_rows_refuses_the_list(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="no usable entities"):
        read_list(str(write(tmp_path, "id,name\n1,\n2,  \n")))


def test_ten_megabyte_name(tmp_path: Path) -> None:
    huge = "A" * (10 * 1024 * 1024)
    loaded = read_list(str(write(tmp_path, f"id,name,aliases\n1,{huge},{huge}\n2,Normal Name,\n")))
    first = loaded.entities[0]
    assert all(len(n.value) == MAX_NAME_LENGTH for n in first.names)
    assert {(i.record, i.field) for i in loaded.report.warnings} == {("1", "name"), ("1", "aliases")}
    assert loaded.entities[1].caption == "Normal Name"


def test_write_read_round_trip(small, tmp_path: Path) -> None:
    out = tmp_path / "copy.csv"
    csv_reader.write(small.entities, out)
    again = read_list(str(out))
    assert [[n.value for n in e.names] for e in again.entities] == [[n.value for n in e.names] for e in small.entities]
    assert [e.birth_dates for e in again.entities] == [e.birth_dates for e in small.entities]
    assert [e.documents for e in again.entities] == [e.documents for e in small.entities]


def test_write_to_stream_has_template_header(small) -> None:
    buf = io.StringIO()
    csv_reader.write(small.entities[:1], buf)
    assert buf.getvalue().splitlines()[0] == HEADER


def test_unterminated_quote_refuses_the_list_naming_where_it_opened(tmp_path: Path) -> None:
    # A lenient reader made the rest of the file one cell (entity 2's name "Bob\n3,Carol\n...").
    path = write(tmp_path, 'id,name\n1,Alice Able\n\n2,"Bob\nBrown"\n3,"Carol\n4,Dave Dunn\n5,Eve\n')
    with pytest.raises(ListError) as exc:
        read_list(f"csv:{path}")
    assert str(exc.value) == f"{path} record line 6: unterminated quote: a quoted field opened on line 6 is never closed"


def test_text_after_a_closing_quote_refuses_the_list(tmp_path: Path) -> None:
    path = write(tmp_path, 'id,name\n1,Alice\n2,"Bob" Brown\n')
    with pytest.raises(ListError, match="malformed CSV record starting on line 3") as exc:
        read_list(f"csv:{path}")
    assert exc.value.record == "line 3"


def test_quoted_cells_across_lines_keep_their_first_line(tmp_path: Path) -> None:
    loaded = read_list(str(write(tmp_path, 'id,name\n1,"Alice\nAble"\n2,B,extra\n')))
    assert [n.value for n in loaded.entities[0].names] == ["Alice Able"]
    [err] = loaded.report.errors
    assert "line 4 has 3 cells" in err.message


def test_many_unknown_columns_give_a_short_error(tmp_path: Path) -> None:
    junk = [f"junk{i}" + "y" * 1_000 for i in range(5_000)]
    path = write(tmp_path, ",".join(["id", "name", *junk]) + "\n1,A\n")
    with pytest.raises(ListError) as exc:
        read_list(f"csv:{path}")
    message = str(exc.value)
    assert len(message) < 2_000 and message.count("'junk") == csv_reader.SHOWN_COLUMNS
    assert f"and {len(junk) - csv_reader.SHOWN_COLUMNS:,} more" in message
    assert exc.value.field is not None and len(exc.value.field) == csv_reader.SHOWN_COLUMN_CHARS

