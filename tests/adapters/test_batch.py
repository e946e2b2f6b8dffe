"""Batch screening: order, completeness, per-row errors, bounded work in flight."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from qalqan.batch import _ordered, screen_file
from qalqan.matching.screener import Screener
from qalqan.model import ListError

#: Planted every PLANT_EVERY rows: names that are on the test list, so matches must appear there.
PLANT_EVERY = 97
LISTED = ["Borislav Quennerstedt", "Ottoline Vasquez-Marrow", "Gunnvald Treadwick"]


def generate(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,name,birth_date\n")
        for i in range(rows):
            if i % PLANT_EVERY == 0:
                fh.write(f"q{i},{LISTED[(i // PLANT_EVERY) % len(LISTED)]},\n")
            elif i % 1000 == 1:
                fh.write(f"q{i},Bad Date Person,1960-13-45\n")  # screened without the date, with a warning
            elif i % 1000 == 2:
                fh.write(f"q{i},,1960\n")  # no name: cannot be screened
            else:
                fh.write(f"q{i},Person Number{i} Nobody,\n")


def read_lines(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines()]


def test_twenty_thousand_rows_in_order_and_complete(tmp_path: Path, screener: Screener) -> None:
    n = 20_000
    src = tmp_path / "in.csv"
    generate(src, n)
    out = tmp_path / "out.jsonl"
    stats = screen_file(screener, src, out, workers=2, chunk=300)
    lines = read_lines(out.read_bytes())
    assert [r["id"] for r in lines] == [f"q{i}" for i in range(n)]
    assert stats.rows == n
    assert stats.errors == sum(1 for i in range(n) if i % 1000 == 2 and i % PLANT_EVERY != 0)
    for i, rec in enumerate(lines):
        if i % PLANT_EVERY == 0:
            assert rec["matches"], rec
            best = rec["matches"][0]
            assert best["caption"] == LISTED[(i // PLANT_EVERY) % len(LISTED)]
            assert set(best) >= {"entity_id", "list", "reference", "caption", "score", "match", "explanation"}
            assert "warnings" not in rec
        elif i % 1000 == 1:
            assert rec["matches"] == [] and [w["field"] for w in rec["warnings"]] == ["birth_date"]
        elif i % 1000 == 2:
            assert "empty name" in rec["error"] and rec["field"] == "name"
        else:
            assert rec["matches"] == []
    assert stats.alerted == sum(1 for i in range(n) if i % PLANT_EVERY == 0)


def test_parallel_output_identical_to_serial(tmp_path: Path, screener: Screener) -> None:
    src = tmp_path / "in.csv"
    generate(src, 2_000)
    serial, parallel = io.BytesIO(), io.BytesIO()
    screen_file(screener, src, serial, workers=1, chunk=64)
    screen_file(screener, src, parallel, workers=2, chunk=64)
    assert serial.getvalue() == parallel.getvalue()
    assert serial.getvalue().count(b"\n") == 2_000


def test_factory_called_once_after_columns_checked(tmp_path: Path, screener: Screener) -> None:
    calls: list[int] = []

    def factory() -> Screener:
        calls.append(1)
        return screener

    good = tmp_path / "in.csv"
    good.write_text("name\nBorislav Quennerstedt\n")
    out = io.StringIO()  # a text stream works too
    screen_file(factory, good, out, workers=2)
    assert calls == [1]
    assert orjson.loads(out.getvalue())["matches"][0]["entity_id"] == "tl-1"

    bad = tmp_path / "bad.csv"
    bad.write_text("name,surname\nA,B\n")
    sink = io.BytesIO()
    with pytest.raises(ListError, match="surname"):
        screen_file(factory, bad, sink)
    assert calls == [1] and sink.getvalue() == b""  # no list loading, no output


def test_threshold_top_and_cutoff(tmp_path: Path, screener: Screener) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "name": "Borislav Quennerstedt"}\n')
    strict = io.BytesIO()
    screen_file(screener, src, strict, threshold=1.01, workers=1)  # nothing reaches 1.01
    assert read_lines(strict.getvalue())[0]["matches"] == []
    loose = io.BytesIO()
    screen_file(screener, src, loose, threshold=1.01, cutoff=0.5, workers=1, top=1)
    [m] = read_lines(loose.getvalue())[0]["matches"]
    assert m["entity_id"] == "tl-1" and m["match"] is False


class _FakeResult:
    def __init__(self, value: Any, log: list[str]):
        self.value, self.log = value, log

    def get(self) -> Any:
        self.log.append("get")
        return self.value


class _FakePool:
    def __init__(self) -> None:
        self.log: list[str] = []

    def apply_async(self, fn: Any, args: tuple[Any, ...]) -> _FakeResult:
        self.log.append("submit")
        return _FakeResult((b"", 0, 0), self.log)


def test_work_in_flight_is_bounded() -> None:
    pool = _FakePool()
    chunks = iter([[object()] for _ in range(50)])
    results = list(_ordered(pool, chunks, in_flight=4))  # type: ignore[arg-type]
    assert len(results) == 50
    outstanding = peak = 0
    for event in pool.log:
        outstanding += 1 if event == "submit" else -1
        peak = max(peak, outstanding)
    assert peak == 4  # never reads the input further ahead than this


def test_engine_failure_on_one_row_is_recorded_in_place(tmp_path: Path, screener: Screener, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Screener.match

    def flaky(self: Screener, query: Any, **kw: Any) -> Any:
        if query.names == ("Explode Now",):
            raise RuntimeError("engine bug")
        return real(self, query, **kw)

    monkeypatch.setattr(Screener, "match", flaky)
    src = tmp_path / "in.csv"
    src.write_text("id,name\na,Borislav Quennerstedt\nb,Explode Now\nc,Gunnvald Treadwick\n")
    out = io.BytesIO()
    stats = screen_file(screener, src, out, workers=1)
    a, b, c = read_lines(out.getvalue())
    assert a["matches"] and c["matches"]
    assert b["id"] == "b" and "engine bug" in b["error"]
    assert stats.errors == 1


def test_progress_bar_on_stderr_only(tmp_path: Path, screener: Screener, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name\n" + "Borislav Quennerstedt\n" * 30)
    out = io.BytesIO()
    screen_file(screener, src, out, workers=1, chunk=10, progress=True)
    captured = capsys.readouterr()
    assert "30 rows" in captured.err and captured.out == ""
    assert out.getvalue().count(b"\n") == 30
