"""Monitoring benchmark: `python -m bench.monitor [--subjects N] [--workers W] [--reuse]`.

1. Generates N synthetic subjects (default 1,000,000) from real name parts, seeded:
   - US-style people (80%): given and family names from yente's `negatives_us.csv` (50,000
     synthetic US persons), with their birth dates and genders;
   - namesakes (19.5%): given and family names of UN-listed individuals recombined across
     different persons, so the population shares many tokens with the list (the hard case for
     the re-screen's prefilter), with random birth dates;
   - list variants (0.5%): names of individuals on the UN list (2025 and 2026 files) with a
     spelling variant, so there are real hits, some on the persons 2026 adds, some on the ones it
     removes.
2. Loads them into a SQLite store in `bench/.work/` with the UN 2025-04-19 list live (timed:
   bulk import with screening on arrival, forked workers).
3. Imports UN 2026-02-27 and times the delta re-screen (`rescreen.on_new_version`): target
   under 2 minutes for 1,000,000 subjects on 2 cores.

Writes `bench/results/monitoring.json` and `bench/results/monitoring.md`. `--reuse` starts from
the store loaded by an earlier run (a copy kept after step 2), so step 3 can be re-timed alone;
`--render` only rewrites the Markdown from the JSON.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import re
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.common import NEGATIVES_CSV, RESULTS_DIR, SHARED

WORK = Path(__file__).resolve().parent / ".work"
UN_2025 = SHARED / "un" / "un_consolidated_2025-04-19_reserialized.xml"
UN_2026 = SHARED / "un" / "un_consolidated_2026-02-27.xml"
DEFAULT_SUBJECTS = 1_000_000
#: Shares of the population (the rest is US-style people).
NAMESAKE_SHARE = 0.195
VARIANT_SHARE = 0.005
#: The issue's target for the UN 2025 -> 2026 delta against 1,000,000 subjects on 2 cores.
TARGET_SECONDS = 120.0
SEED = 20260227

#: Spelling variants applied to list names (transliteration habits, typing slips).
_VARIANTS = [("ou", "u"), ("ee", "i"), ("mohammad", "muhammad"), ("mohammed", "mohamed"), ("-", " "), ("y", "i"), ("q", "k"), ("sh", "ch")]


def _un_people(path: Path) -> list[tuple[str, str | None]]:
    from qalqan.sources.registry import read_list

    out = []
    for e in read_list(f"un:{path}").entities:
        if e.schema == "Person" and e.names:
            dob = e.birth_dates[0] if e.birth_dates else None
            iso = f"{dob.year}" + (f"-{dob.month:02d}-{dob.day:02d}" if dob and dob.month and dob.day else "") if dob else None
            out.append((e.names[0].value, iso))
    return out


def _variant(rng: random.Random, name: str) -> str:
    lowered = name.lower()
    options = [(a, b) for a, b in _VARIANTS if a in lowered]
    if options:
        a, b = rng.choice(options)
        lowered = lowered.replace(a, b, 1)
    tokens = lowered.split()
    if len(tokens) > 2 and rng.random() < 0.3:
        tokens = [tokens[-1], *tokens[:-1]]  # family name first
    return " ".join(t.capitalize() for t in tokens)


def generate(path: Path, n: int) -> dict[str, int]:
    """Write n subjects to a CSV file in the screening-input schema (with ids)."""
    rng = random.Random(SEED)
    firsts: list[tuple[str, str]] = []
    lasts: list[str] = []
    dobs: list[str] = []
    with open(NEGATIVES_CSV, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["first_name"] and row["last_name"]:
                firsts.append((row["first_name"], row["gender"]))
                lasts.append(row["last_name"])
                dobs.append(row["date_of_birth"])
    people = _un_people(UN_2025) + _un_people(UN_2026)
    given: list[str] = []
    family: list[str] = []
    for name, _ in people:
        tokens = [t for t in re.split(r"\s+", name) if t.isalpha()]
        if len(tokens) >= 2:
            given.append(tokens[0])
            family.append(tokens[-1])
    counts = {"us": 0, "namesakes": 0, "variants": 0}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "birth_date", "gender", "nationality"])
        for i in range(n):
            r = rng.random()
            if r < VARIANT_SHARE:
                name, dob = rng.choice(people)
                w.writerow([f"C{i:07d}", _variant(rng, name), dob or "", "", ""])
                counts["variants"] += 1
            elif r < VARIANT_SHARE + NAMESAKE_SHARE:
                name = f"{rng.choice(given).capitalize()} {rng.choice(family).capitalize()}"
                w.writerow([f"C{i:07d}", name, f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "", ""])
                counts["namesakes"] += 1
            else:
                first, gender = rng.choice(firsts)
                middle = f" {rng.choice(firsts)[0]}" if rng.random() < 0.2 else ""
                w.writerow([f"C{i:07d}", f"{first}{middle} {rng.choice(lasts)}", rng.choice(dobs), gender, ""])
                counts["us"] += 1
    return counts


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=DEFAULT_SUBJECTS)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reuse", action="store_true", help="start from the store an earlier run loaded")
    parser.add_argument("--no-write", action="store_true", help="print the figures, do not write bench/results")
    parser.add_argument("--render", action="store_true", help="only re-render monitoring.md from monitoring.json")
    args = parser.parse_args(argv)
    if args.render:
        data = orjson.loads((RESULTS_DIR / "monitoring.json").read_bytes())
        (RESULTS_DIR / "monitoring.md").write_text(render(data), encoding="utf-8")
        return 0

    from qalqan.service import subjects
    from qalqan.service.core import Qalqan
    from qalqan.store.db import Database

    WORK.mkdir(parents=True, exist_ok=True)
    n = args.subjects
    csv_path = WORK / f"subjects-{n}.csv"
    db_path = WORK / f"monitor-{n}.db"
    snapshot = WORK / f"monitor-{n}-loaded.db"
    result: dict[str, Any] = {
        "subjects": n,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "backend": "sqlite",
        "target_seconds": TARGET_SECONDS,
    }
    if not csv_path.exists():
        t = time.perf_counter()
        result["population"] = generate(csv_path, n)
        print(f"generated {n:,} subjects in {time.perf_counter() - t:.1f} s: {result['population']}", file=sys.stderr)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    if args.reuse and snapshot.exists():
        shutil.copyfile(snapshot, db_path)
        db = Database(f"sqlite:///{db_path}")
        db.migrate()
        q = Qalqan(db, audit_key=bytes(32))
        previous = WORK / f"monitor-{n}-load.json"
        if previous.exists():
            result.update(orjson.loads(previous.read_bytes()))
    else:
        db = Database(f"sqlite:///{db_path}")
        db.migrate()
        q = Qalqan(db, audit_key=bytes(32))
        t = time.perf_counter()
        q.import_list(f"un:{UN_2025}", actor="bench")
        result["import_2025_seconds"] = round(time.perf_counter() - t, 2)
        last = [time.perf_counter()]

        def progress(done: int) -> None:
            if time.perf_counter() - last[0] > 30:
                last[0] = time.perf_counter()
                print(f"  loaded {done:,} subjects", file=sys.stderr)

        t = time.perf_counter()
        loaded = subjects.import_subjects_file(q, csv_path, actor="bench", purpose="benchmark", progress=progress, workers=args.workers)
        seconds = time.perf_counter() - t
        result["load"] = {
            "seconds": round(seconds, 1),
            "subjects_per_second": round(n / seconds),
            "added": loaded.added,
            "errors": loaded.error_count,
            "alerts_new": loaded.alerts_new,
        }
        print(f"loaded {n:,} subjects in {seconds:.1f} s ({n / seconds:,.0f}/s), {loaded.alerts_new:,} alerts", file=sys.stderr)
        db.dispose()
        snapshot.unlink(missing_ok=True)
        with sqlite3.connect(db_path) as src, sqlite3.connect(snapshot) as dst:  # WAL included
            src.backup(dst)
        (WORK / f"monitor-{n}-load.json").write_bytes(orjson.dumps({k: result[k] for k in ("import_2025_seconds", "load") if k in result}))
        q = Qalqan(db, audit_key=bytes(32))

    _ = q.screener  # the 2025 screener, as a running service holds it
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]  # other work on the machine
    t = time.perf_counter()
    imported = q.import_list(f"un:{UN_2026}", actor="bench")
    total = time.perf_counter() - t
    summary = imported.rescreen.as_dict()
    summary["timings"] = {k: round(v, 2) for k, v in summary["timings"].items()}
    summary["seconds"] = round(summary["seconds"], 1)
    result["rescreen"] = summary
    result["import_2026_total_seconds"] = round(total, 1)
    result["import_2026_list_seconds"] = round(total - imported.rescreen.seconds, 1)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb"] = round(_rss_mb())
    result["met"] = imported.rescreen.seconds < TARGET_SECONDS
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    if not args.no_write:
        (RESULTS_DIR / "monitoring.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
        (RESULTS_DIR / "monitoring.md").write_text(render(result), encoding="utf-8")
    return 0


def render(r: dict[str, Any]) -> str:
    rs = r["rescreen"]
    load = r.get("load", {})
    return f"""# Monitoring benchmark

Generated by `python -m bench.monitor --subjects {r['subjects']}` (`bench/monitor.py`); figures in `monitoring.json`.
Machine: {r['cpus']} CPUs, Python {r['python']}, store: SQLite file, {r['workers']} worker processes;
load average (1, 5, 15 min) before / after the re-screen: {r.get('load_average_before')} / {r.get('load_average_after')}
(the benchmark itself keeps about 2 processes busy; well above that, other work shared the CPUs).

| measure | target | result |
|---|---|---|
| UN 2025-04-19 -> 2026-02-27 delta re-screen, {r['subjects']:,} subjects | < {r['target_seconds']:.0f} s on 2 cores | **{rs['seconds']:.1f} s** ({'met' if r['met'] else 'NOT met'}) |
| ... subjects passing the exact prefilter, screened against the {rs['added'] + rs['amended'] - rs.get('amended_cosmetic', 0)} added or matching-amended entities | | {rs['candidates']:,} |
| ... subjects with an alert on one of the {rs.get('amended_cosmetic', 0)} entities amended in other fields only (notes, record ids), re-checked | | {rs.get('rechecked', 0):,} |
| ... new alerts / updated / closed-delisted | | {rs['alerts_new']:,} / {rs['alerts_updated']:,} / {rs['closed_delisted']:,} |
| list import of 2026 before the re-screen (read, diff, store the version) | | {r['import_2026_list_seconds']:.1f} s |
| bulk load with screening on arrival against UN 2025 | | {load.get('seconds', 0):,.0f} s ({load.get('subjects_per_second', 0):,}/s), {load.get('alerts_new', 0):,} alerts |

Re-screen stages (s): {', '.join(f'{k} {v}' for k, v in rs['timings'].items())}.

Population (seeded): 80% US-style people from yente's synthetic negatives, 19.5% namesakes
recombining UN-listed individuals' given and family names, 0.5% UN-listed names with a spelling
variant. The prefilter is exact (it drops only subjects the delta index cannot retrieve), so it
is as generous as the engine's retrieval it mirrors (shared consonant skeletons, one-letter
deletions): {100 * rs['candidates'] / max(1, rs['subjects']):.0f}% of this population reaches the changed entities' vocabulary
and is screened. The list import itself (read, diff, store) is timed apart from the re-screen.
Bulk load: batches of 5,000 per transaction, screened on arrival in 2 forked worker processes
while the parent stores the batch before.
"""


if __name__ == "__main__":
    raise SystemExit(main())
