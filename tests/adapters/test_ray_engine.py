"""The Ray engine (`qalqan screen --engine ray`): the same file screened as tasks on a local Ray
cluster started here gives the local run's output byte for byte, with the screener put into
the object store once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import ray  # in the `test` extra: installed by `make test`
from typer.testing import CliRunner

from qalqan.batch import screen_file
from qalqan.cli import app, demo_list_path
from qalqan.distributed import RayEngine, RayUnavailable
from qalqan.matching.screener import Screener
from qalqan.sources.registry import read_list

from .conftest import FakeRegistry

#: Rows of our own against the demo list: listed names as written, in another script, with a
#: typo, with and without evidence, a bad date (a warning), an empty name (an error), names of
#: no one, an organisation and a vessel.
ROWS = [
    ("p1", "Person", "Karim Yusuf al-Fayruzi", "1971-03-14", "Jordan", "X4471902"),
    ("p2", "Person", "كريم يوسف الفيروزي", "", "", ""),
    ("p3", "Person", "Yerqanat Zhumabaiuly Tasjolov", "1982-06-11", "Kazakhstan", ""),
    ("p4", "Person", "Ерқанат Жұмабайұлы Тасжолов", "", "", ""),
    ("p5", "Person", "Ibrahim Sulaiman Tarabulsi", "1988-13-19", "", ""),
    ("p6", "Person", "", "", "", ""),
    ("p7", "Person", "Jonathan Q. Nobody", "1990-01-01", "Canada", ""),
    ("p8", "Organization", "Northwind Crescent Trading", "", "", ""),
    ("p9", "Vessel", "Silent Gazelle", "", "", ""),
    ("p10", "Person", "Marc van der Linden", "1966-04-03", "Belgium", ""),
]
REPEAT = 12  # 120 rows in chunks of 7: many more tasks than CPUs, finishing out of order


@pytest.fixture(scope="module")
def demo() -> Screener:
    item = read_list(f"csv:{demo_list_path()}")
    return Screener(item.entities, [item.info])


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ray") / "people.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "schema", "name", "birth_date", "nationality", "document_number"])
        for i in range(REPEAT):
            w.writerows((f"{r[0]}-{i}", *r[1:]) for r in ROWS)
    return path


def test_a_cluster_that_cannot_be_joined_is_a_clear_error(demo: Screener, rows_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(Before this module's cluster starts.) Ray itself retries a dead address for minutes, so
    its failure is stood in for; what matters is the message naming the address, and no output."""

    def refuse(**options: Any) -> None:
        raise ConnectionError(f"could not reach GCS at {options['address']}")

    monkeypatch.setattr(ray, "init", refuse)
    sink = io.BytesIO()
    with pytest.raises(RayUnavailable, match="could not join the Ray cluster at head:6379: ConnectionError"):
        screen_file(demo, rows_file, sink, engine=RayEngine(address="head:6379"))
    assert sink.getvalue() == b""


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_ray_output_is_byte_identical_to_local(cluster: None, demo: Screener, rows_file: Path, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    puts: list[Any] = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))
    local, remote = tmp_path / f"local.{fmt}", tmp_path / f"ray.{fmt}"
    local_stats = screen_file(demo, rows_file, local, workers=1, chunk=7, cutoff=0.5)
    ray_stats = screen_file(demo, rows_file, remote, chunk=7, cutoff=0.5, engine=RayEngine())
    assert remote.read_bytes() == local.read_bytes()
    assert (ray_stats.rows, ray_stats.errors, ray_stats.alerted) == (local_stats.rows, local_stats.errors, local_stats.alerted)
    assert ray_stats.rows == 10 * REPEAT and ray_stats.errors == REPEAT  # p6 has no name
    assert ray_stats.alerted >= 6 * REPEAT  # the listed people were found, not just rows copied
    assert puts == [demo]  # the screener went into the object store once, not once per task


def test_ray_xlsx_holds_the_local_cells(cluster: None, demo: Screener, rows_file: Path, tmp_path: Path) -> None:
    screen_file(demo, rows_file, tmp_path / "local.xlsx", workers=1, chunk=9)
    screen_file(demo, rows_file, tmp_path / "ray.xlsx", chunk=9, engine=RayEngine())

    def cells(path: Path) -> list[tuple[Any, ...]]:
        return [tuple(c.value for c in r) for r in openpyxl.load_workbook(path).worksheets[0].iter_rows()]

    # A workbook's ZIP carries its creation time; its cells are what must be the same.
    local = cells(tmp_path / "local.xlsx")
    assert cells(tmp_path / "ray.xlsx") == local and len(local) > 10 * REPEAT


def test_cli_engine_ray_matches_local(cluster: None, rows_file: Path, fake_registry: FakeRegistry) -> None:
    runner = CliRunner()
    base = ["screen", str(rows_file), "--list", "tl.csv", "--no-progress", "--chunk", "5"]
    local = runner.invoke(app, [*base, "--workers", "1"])
    remote = runner.invoke(app, [*base, "--engine", "ray"])
    assert remote.exit_code == local.exit_code == 2, remote.output  # the empty names
    assert remote.stdout_bytes == local.stdout_bytes and remote.stdout_bytes.count(b"\n") == 10 * REPEAT
