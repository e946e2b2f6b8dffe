"""Smoke test of the monitoring benchmark's population generator and report (bench/monitor.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.monitor import generate, render
from qalqan.sources.queries import read_queries


@pytest.mark.shared
def test_generated_population_is_valid_screening_input(tmp_path: Path) -> None:
    path = tmp_path / "subjects.csv"
    counts = generate(path, 400)
    assert sum(counts.values()) == 400 and counts["us"] > counts["namesakes"] > 0
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["id"] for r in rows}) == 400
    assert all(q.query is not None for q in read_queries(path))
    assert generate(tmp_path / "again.csv", 400) == counts and (tmp_path / "again.csv").read_bytes() == path.read_bytes()  # seeded


def test_report_renders() -> None:
    rescreen = {"seconds": 65.8, "added": 130, "amended": 17, "amended_cosmetic": 13, "candidates": 600, "subjects": 1000, "rechecked": 2,
                "alerts_new": 7, "alerts_updated": 1, "closed_delisted": 4, "timings": {"screen": 60.0}}
    text = render({"subjects": 1000, "cpus": 2, "python": "3.11", "workers": 2, "target_seconds": 120.0, "met": True,
                   "rescreen": rescreen, "import_2026_list_seconds": 0.3, "load": {"seconds": 1.0, "subjects_per_second": 1000, "alerts_new": 3}})
    assert "**65.8 s** (met)" in text and "134 added or matching-amended" in text and "60%" in text
