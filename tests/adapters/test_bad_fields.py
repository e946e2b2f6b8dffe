"""A listed person must never slip through because one field of the screening input is bad.

A row with an impossible birth date (`1974-01-32`, `1968-13-30`), an unknown nationality or a
malformed document number is screened on everything that can be read, the bad value left out and
named in a warning: in `qalqan screen`'s output, in `POST /match` and in the subject import. Only
a row with no usable name is refused. The listed people are real names of the UN list of
2026-02-27 (read through the real reader) and of the bundled demo list.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from qalqan.api import create_app
from qalqan.batch import screen_file
from qalqan.matching.screener import Screener
from qalqan.service import subjects, users
from qalqan.service.core import Qalqan
from qalqan.sources.queries import read_queries

from .conftest import UN_XML

DEMO = Path(str(files("qalqan") / "data" / "demo.csv"))
HEADER = "id,schema,name,birth_date,nationality,gender,document_number\n"
#: A real UN listing (QDi.291): born 1982-04-18 / 19, Saudi Arabian.
UN_NAME = "Ibrahim Hassan Tali al-Asiri"
UN_REFERENCE = "QDi.291"
#: A demo-list person (DEMO.001), born 1971-03-14, Jordanian, passport X4471902.
DEMO_NAME = "Karim Yusuf al-Fayruzi"

#: (row id, the bad cell values, the field that must be named, the bad value as written)
BAD_ROWS = [
    ("day32", {"birth_date": "1974-01-32"}, "birth_date", "1974-01-32"),
    ("month13", {"birth_date": "1968-13-30"}, "birth_date", "1968-13-30"),
    ("nat", {"nationality": "Atlantis"}, "nationality", "Atlantis"),
    ("doc", {"document_number": "N/A"}, "document_number", "N/A"),
]


def csv_row(row_id: str, name: str, cells: dict[str, str]) -> str:
    values = {"id": row_id, "schema": "Person", "name": name, **cells}
    return ",".join(values.get(c, "") for c in HEADER.strip().split(",")) + "\n"


def lines(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in data.splitlines() if x.strip()]


@pytest.fixture(scope="module")
def un_screener() -> Screener:
    return Screener.from_lists([str(UN_XML)])


@pytest.fixture(scope="module")
def demo_screener() -> Screener:
    return Screener.from_lists([f"csv:{DEMO}"])


# -- the screening-input reader -------------------------------------------------------------------


@pytest.mark.parametrize(("row_id", "cells", "field", "value"), BAD_ROWS)
def test_a_bad_field_is_left_out_with_a_warning_and_the_rest_is_kept(tmp_path: Path, row_id: str, cells: dict[str, str], field: str, value: str) -> None:
    good = {"birth_date": "1982-04-18", "nationality": "Saudi Arabia", "gender": "male", "document_number": "F654645"}
    src = tmp_path / "in.csv"
    src.write_text(HEADER + csv_row(row_id, UN_NAME, {**good, **cells}))
    [row] = list(read_queries(src))
    assert row.error is None and row.query is not None and row.query.names == (UN_NAME,)
    [warning] = row.warnings
    assert (warning.field, warning.value) == (field, value) and "screened without it" in warning.message
    q = row.query
    # Everything else is still there.
    assert (q.gender, bool(q.birth_dates), bool(q.nationalities), bool(q.documents)) == ("male", field != "birth_date", field != "nationality", field != "document_number")


def test_only_the_bad_one_of_several_values_is_left_out(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(orjson.dumps({"id": "x", "name": UN_NAME, "birth_date": "1974-01-32; 1982-04-18", "nationality": "Atlantis;SA"}).decode() + "\n")
    [row] = list(read_queries(src))
    assert row.query is not None and [d.iso() for d in row.query.birth_dates] == ["1982-04-18"] and row.query.nationalities == ("sa",)
    assert [(w.field, w.value) for w in row.warnings] == [("birth_date", "1974-01-32"), ("nationality", "Atlantis")]


def test_values_that_are_not_text_or_too_long_are_left_out_not_the_row(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(orjson.dumps({"id": "x", "name": UN_NAME, "document_number": ["F654645"], "gender": "m" * 500, "schema": "Persn"}).decode() + "\n")
    [row] = list(read_queries(src))
    assert row.query is not None and row.query.documents == () and row.query.gender is None
    assert row.query.schema == "LegalEntity"  # an unknown schema meets people and organisations alike
    assert {w.field: w.value for w in row.warnings} == {"schema": "Persn", "gender": "m" * 80 + "…", "document_number": None}


def test_an_unusable_id_falls_back_to_the_row_number_with_a_warning(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,name\n" + "x" * 300 + f",{UN_NAME}\n")
    [row] = list(read_queries(src))
    assert row.id == 1 and row.query is not None and row.warnings[0].field == "id"


def test_a_row_without_a_usable_name_is_still_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    records = [{"id": "a", "name": "  ", "birth_date": "1982"}, {"id": "b", "name": ["x"]}, {"id": "c", "name": "x" * 1001}, {"id": "d", "birth_date": "1974-01-32"}]
    src.write_text("".join(orjson.dumps(r).decode() + "\n" for r in records))
    rows = list(read_queries(src))
    assert [(r.query, r.field) for r in rows] == [(None, "name")] * 4


# -- qalqan screen's output -------------------------------------------------------------------------


@pytest.mark.shared
def test_screening_finds_the_un_listed_person_despite_each_bad_field(tmp_path: Path, un_screener: Screener) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(csv_row(row_id, UN_NAME, cells) for row_id, cells, _, _ in BAD_ROWS) + csv_row("noname", "", {"birth_date": "1982"}))
    out = tmp_path / "out.jsonl"
    stats = screen_file(un_screener, src, out, workers=1)
    got = {r["id"]: r for r in lines(out.read_bytes())}
    for row_id, _, field, value in BAD_ROWS:
        rec = got[row_id]
        assert "error" not in rec, rec
        best = rec["matches"][0]
        assert best["reference"] == UN_REFERENCE and best["match"] is True, rec
        assert [(w["field"], w["value"]) for w in rec["warnings"]] == [(field, value)]
        assert set(rec["warnings"][0]) == {"field", "value", "message"}
    assert got["noname"]["field"] == "name" and "matches" not in got["noname"]
    assert (stats.rows, stats.errors, stats.alerted) == (len(BAD_ROWS) + 1, 1, len(BAD_ROWS))


def test_screening_the_demo_list_with_the_workers_gives_the_same_warnings(tmp_path: Path, demo_screener: Screener) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(csv_row(row_id, DEMO_NAME, cells) for row_id, cells, _, _ in BAD_ROWS) * 3)
    serial, parallel = tmp_path / "serial.jsonl", tmp_path / "parallel.jsonl"
    screen_file(demo_screener, src, serial, workers=1)
    screen_file(demo_screener, src, parallel, workers=2, chunk=2)
    assert serial.read_bytes() == parallel.read_bytes()
    for rec in lines(serial.read_bytes()):
        assert rec["matches"][0]["reference"] == "DEMO.001" and rec["matches"][0]["match"] is True
        assert len(rec["warnings"]) == 1


# -- POST /match ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("bad-fields")
    service = Qalqan.open(f"sqlite:///{folder / 'qalqan.db'}", audit_key=bytes(32))
    service.import_list(f"csv:{DEMO}", actor="test")
    users.create_user(service, "analyst", "analyst", actor="test")
    key = users.create_key(service, "analyst", actor="test")
    with TestClient(create_app(service), headers={"Authorization": f"Bearer {key}", "X-Purpose": "tests"}) as client:
        yield client
    service.db.dispose()


def test_match_screens_each_query_without_its_bad_values_and_says_so(demo_client: TestClient) -> None:
    queries = {
        "day32": {"schema": "Person", "properties": {"name": [DEMO_NAME], "birthDate": ["1974-01-32"]}},
        "month13": {"schema": "Person", "properties": {"name": [DEMO_NAME], "birthDate": ["1968-13-30", "1971-03-14"]}},
        "nat": {"schema": "Person", "properties": {"name": [DEMO_NAME], "nationality": ["Atlantis"]}},
        "doc": {"schema": "Person", "properties": {"name": [DEMO_NAME], "passportNumber": ["--"]}},
        "gender": {"schema": "Person", "properties": {"name": [DEMO_NAME], "gender": ["robot"]}},
        "clean": {"schema": "Person", "properties": {"name": [DEMO_NAME], "birthDate": ["1971-03-14"]}},
    }
    r = demo_client.post("/match/default", json={"queries": queries})
    assert r.status_code == 200, r.text
    responses = r.json()["responses"]
    expected = {
        "day32": ("birthDate", "1974-01-32"), "month13": ("birthDate", "1968-13-30"), "nat": ("nationality", "Atlantis"),
        "doc": ("passportNumber", "--"), "gender": ("gender", "robot"),
    }
    for key, resp in responses.items():
        top = resp["results"][0]
        assert top["referents"] == ["DEMO.001"] and top["match"] is True, (key, resp)
        assert [(w["field"], w["value"]) for w in resp["warnings"]] == ([expected[key]] if key in expected else [])
    # The good date next to the bad one was still compared.
    month13 = next(f for f in responses["month13"]["results"][0]["explanation"] if f["feature"] == "dob_match")
    assert month13["score"] > 0 and "1971-03-14" in (month13["query_value"] or "")


def test_match_still_refuses_a_query_without_a_usable_name(demo_client: TestClient) -> None:
    r = demo_client.post("/match/default", json={"queries": {"q": {"schema": "Person", "properties": {"name": [" "], "birthDate": ["1974-01-32"]}}}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "queries", "q", "properties", "name"]
    # One name too long among good ones is left out; alone, it leaves no name.
    r = demo_client.post("/match/default", json={"queries": {"q": {"schema": "Person", "properties": {"name": [DEMO_NAME, "x" * 1001]}}}})
    assert r.status_code == 200 and r.json()["responses"]["q"]["warnings"][0]["field"] == "name"
    r = demo_client.post("/match/default", json={"queries": {"q": {"schema": "Person", "properties": {"name": ["x" * 1001]}}}})
    assert r.status_code == 422


# -- the subject import ---------------------------------------------------------------------------


def test_subject_import_stores_and_alerts_on_a_subject_with_a_bad_field(tmp_path: Path) -> None:
    service = Qalqan.open(f"sqlite:///{tmp_path / 'qalqan.db'}", audit_key=bytes(32))
    service.import_list(f"csv:{DEMO}", actor="test")
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "".join(csv_row(row_id, DEMO_NAME, cells) for row_id, cells, _, _ in BAD_ROWS) + csv_row("noname", " ", {"birth_date": "1971"}))
    result = subjects.import_subjects_file(service, path, actor="loader", purpose="onboarding", workers=1)
    assert (result.added, result.error_count, result.warning_count) == (len(BAD_ROWS), 1, len(BAD_ROWS))
    assert [(e["row"], e["field"]) for e in result.errors] == [(len(BAD_ROWS) + 1, "name")]
    assert [(w["row"], w["id"], w["field"], w["value"]) for w in result.warnings] == [(i, r, f, v) for i, (r, _, f, v) in enumerate(BAD_ROWS, 1)]
    assert result.alerts_new == len(BAD_ROWS)  # each one is alerted on, the bad field notwithstanding
    shown = subjects.get_subject(service, "day32", actor="analyst", purpose="check")
    assert shown is not None and shown["data"]["birth_date"] == "1974-01-32"  # kept as the client sent it
    assert [a["entity_key"] for a in shown["alerts"]] == ["DEMO.001"]
    # The same file again: unchanged, the same warnings.
    again = subjects.import_subjects_file(service, path, actor="loader", purpose="onboarding", workers=1)
    assert (again.added, again.updated, again.unchanged, again.warning_count) == (0, 0, len(BAD_ROWS), len(BAD_ROWS))
    service.db.dispose()


def test_subject_import_warnings_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subjects, "MAX_WARNINGS", 3)
    service = Qalqan.open(f"sqlite:///{tmp_path / 'qalqan.db'}", audit_key=bytes(32))
    records = [{"id": f"C{i}", "name": "Nobody Listed", "birth_date": "1974-01-32", "nationality": "Atlantis"} for i in range(4)]
    result = subjects.add_subjects(service, records, actor="loader", workers=1)
    assert result.added == 4 and result.warning_count == 8 and len(result.warnings) == 3
    service.db.dispose()
