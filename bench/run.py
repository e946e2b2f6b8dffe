"""Entry point: `python -m bench.run [--quick] [--only a,b,c,d,e,speed,scale,load,ray]`.

Quality sections (a-e) take a few minutes; `speed` (UN list: single queries, batch, index build)
and `scale` (a synthetic 1,000,000-entity list) take longer, as does `ray` (a 1,000,000-row batch
on the local and the Ray engine); `--quick` shrinks their sizes.
Each section writes bench/results/<section>.json; bench/results/README.md is regenerated from
every JSON file present.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import common, report

SECTIONS = {
    "a": "(a) leave-one-out good-quality aliases, UN list 2026-02-27",
    "b": "(b) original-script names (NAME_ORIGINAL_SCRIPT), UN list 2026-02-27",
    "c": "(c) labelled name pairs: precision / recall / F1",
    "d": "(d) false alerts: 50,000 non-listed people vs the UN list",
    "e": "(e) namesakes of listed persons vs the UN list",
    "t": "(t) typos and reordering: UN names rewritten as other systems write them",
    "speed": "speed against the UN list",
    "scale": "speed against a synthetic list (1,000,000 entities; 100,000 with --quick)",
    "load": "loopback load: 50 concurrent screening clients for 30 s against `qalqan serve`",
    "ray": "batch of 1,000,000 rows (100,000 with --quick): local engine vs Ray engine on a local cluster",
}
QUALITY = ("a", "b", "c", "d", "e", "t")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smaller speed sizes (100k rows / 100k entities)")
    parser.add_argument("--full", action="store_true", help="(d): all 50,000 people side by side (about an hour), not a sample")
    parser.add_argument("--report-only", action="store_true", help="only regenerate results/README.md")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    if not args.report_only:
        if not common.UN_XML.exists():
            parser.error(f"UN list not found at {common.UN_XML} (set QALQAN_SHARED)")
        loaded = common.load_list(common.UN_XML) if any(s in QUALITY or s in ("speed", "ray") for s in chosen) else None
        for section in chosen:
            run_section(section, loaded, args.quick, args.full)
    path = report.write_readme()
    print(f"wrote {path}")
    return 0


def run_section(section: str, loaded: common.LoadedEntities | None, quick: bool, full: bool = False) -> None:
    started = time.perf_counter()
    common.log(f"section {section}: {SECTIONS[section]}")
    runner: Callable[[], dict[str, Any]]
    if section in ("a", "b"):
        from bench import loo

        assert loaded is not None
        runner = (lambda: loo.section_a(loaded.entities)) if section == "a" else (lambda: loo.section_b(loaded.entities))
    elif section == "c":
        from bench import pairs

        runner = pairs.section_c
    elif section == "d":
        from bench import false_alerts

        assert loaded is not None
        runner = lambda: false_alerts.section_d(loaded.entities, full)  # noqa: E731
    elif section == "e":
        from bench import namesakes

        assert loaded is not None
        runner = lambda: namesakes.section_e(loaded.entities)  # noqa: E731
    elif section == "t":
        from bench import typos

        assert loaded is not None
        runner = lambda: typos.section_t(loaded.entities)  # noqa: E731
    elif section == "speed":
        from bench import speed

        assert loaded is not None
        runner = lambda: speed.section_speed(loaded.entities, quick)  # noqa: E731
    elif section == "ray":
        from bench import ray_engine

        assert loaded is not None
        runner = lambda: ray_engine.section_ray(loaded.entities, quick)  # noqa: E731
    elif section == "load":
        from bench import load

        runner = lambda: load.section_load(quick)  # noqa: E731
    else:
        from bench import scale

        runner = lambda: scale.section_scale(quick)  # noqa: E731
    data = runner()
    if loaded is not None and section not in ("scale", "load"):
        data["list_reader"] = loaded.reader
        data["list_entities"] = len(loaded.entities)
    path = common.write_result(section, SECTIONS[section], data, started)
    common.log(f"section {section} done in {time.perf_counter() - started:.0f}s -> {path}")
    print(report.section_table(section, {"title": SECTIONS[section], **data}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
