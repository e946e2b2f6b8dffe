"""Speed against the UN list: single-name queries on one core (Qalqan end to end; logic-v2 scoring
the shared candidates for comparison), index build time and peak memory (in a fresh subprocess),
and batch throughput on 2 cores over a generated CSV (in a temporary directory, never kept).

Also the child-process entry used by `bench.scale`: `python -m bench.speed child ...`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.common import log, percentile
from qalqan.model import Entity, Query

#: Sample of real single names timed per engine: half UN names, half negatives' full names.
SINGLE_QUERIES = 2_000
#: logic-v2 takes ~100 ms per query here; this many keep its timing to a minute or two.
PEER_QUERIES = 300
#: Untimed queries first, so one-off costs (imports, caches) do not count as latency.
WARMUP = 20
#: Stop timing after this long even if queries remain (the count done is reported).
TIME_BUDGET_S = 120.0
BATCH_ROWS = 1_000_000
BATCH_ROWS_QUICK = 100_000
BATCH_WORKERS = 2
#: A batch run is stopped after this long and its throughput projected to 1M rows (reported so).
BATCH_BUDGET_S = 1_500.0


def pin_one_core() -> None:
    """Run this process on a single CPU so "per core" means one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def sample_names(entities: list[Entity], n: int, seed: int = common.SEED) -> list[str]:
    rng = random.Random(seed)
    un = sorted({name.value for e in entities for name in e.names})
    with common.NEGATIVES_CSV.open(encoding="utf-8", newline="") as fh:
        neg = [row["full_name"] for row in csv.DictReader(fh)]
    picked = rng.sample(un, min(n // 2, len(un))) + rng.sample(neg, n - min(n // 2, len(un)))
    rng.shuffle(picked)
    return picked


def time_queries(run: Any, names: list[str], budget: float = TIME_BUDGET_S, note: str = "") -> dict[str, Any]:
    """Latency of `run(name)` per name: queries/s = done / summed latency."""
    for name in names[:WARMUP]:
        run(name)
    lat: list[float] = []
    started = time.perf_counter()
    for name in names[WARMUP:]:
        t = time.perf_counter()
        run(name)
        lat.append(time.perf_counter() - t)
        if time.perf_counter() - started > budget:
            note = (note + "; " if note else "") + f"stopped at the {budget:.0f} s budget"
            break
    total = sum(lat)
    return {
        "queries": len(lat),
        "qps": len(lat) / total if total else 0.0,
        "p50_ms": 1000 * percentile(lat, 50),
        "p99_ms": 1000 * percentile(lat, 99),
        "note": note,
    }


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --------------------------------------------------------------------------- child process


def child(args: argparse.Namespace) -> dict[str, Any]:
    """Runs in a fresh interpreter: load or generate the list, build the index (timed, peak RSS),
    then time single queries on one core."""
    pin_one_core()
    out: dict[str, Any] = {}
    t = time.perf_counter()
    if args.list == "un":
        entities = common.load_list(common.UN_XML).entities
    else:
        from bench.scale import synthetic_entities

        entities = synthetic_entities(args.entities)
        out["generation_seconds"] = time.perf_counter() - t
    baseline = rss_mb()
    t = time.perf_counter()
    screener = common.build_screener(entities)
    out["build"] = {
        "entities": len(entities),
        "seconds": time.perf_counter() - t,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_mb": rss_mb(),
    }
    names = sample_names(common.load_list(common.UN_XML).entities if args.list != "un" else entities, args.queries)
    out["single"] = {"qalqan": time_queries(lambda n: screener.match(Query(names=(n,))), names, args.budget)}
    return out


def run_child(list_name: str, entities: int, queries: int, budget: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.speed", "child", "--list", list_name, "--entities", str(entities),
           "--queries", str(queries), "--budget", str(budget)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=common.REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- batch


def write_batch_csv(path: Path, rows: int, entities: list[Entity], seed: int = common.SEED) -> None:
    """Screening input in Qalqan's CSV shape: negatives (with DOB, nationality, gender) and UN
    names, cycled to `rows`."""
    rng = random.Random(seed)
    with common.NEGATIVES_CSV.open(encoding="utf-8", newline="") as fh:
        people = [(r["full_name"], r["date_of_birth"], r["nationality"], r["gender"]) for r in csv.DictReader(fh)]
    people += [(n.value, "", "", "") for e in entities if e.schema == "Person" for n in e.names]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "schema", "name", "birth_date", "nationality", "gender", "document_number"])
        for i in range(rows):
            name, dob, nat, gender = people[rng.randrange(len(people))]
            w.writerow([f"r{i}", "Person", name, dob, nat, gender if gender in ("male", "female") else "", ""])


def batch(entities: list[Entity], rows: int) -> dict[str, Any]:
    from qalqan.batch import screen_file

    with tempfile.TemporaryDirectory(prefix="qalqan-bench-") as tmp:
        src = Path(tmp) / "queries.csv"
        log(f"  writing {rows:,} rows to {src}")
        write_batch_csv(src, rows, entities)
        screener = common.build_screener(entities)
        # Stopping a run early is not part of screen_file's API, so a budget is enforced by
        # sizing: measure 10% of the rows first and only run the full file if it fits.
        probe = Path(tmp) / "probe.csv"
        write_batch_csv(probe, max(rows // 10, 1000), entities, seed=common.SEED + 1)
        stats = screen_file(screener, probe, Path(tmp) / "probe.jsonl", workers=BATCH_WORKERS, progress=False)
        projected = rows / stats.rows_per_second if stats.rows_per_second else float("inf")
        out: dict[str, Any] = {"api": "qalqan.batch.screen_file", "processes": BATCH_WORKERS}
        if projected > BATCH_BUDGET_S:
            log(f"  full batch would take {projected:.0f} s > budget: reporting the {stats.rows:,}-row probe")
            chosen = stats
        else:
            log(f"  screening {rows:,} rows (probe says ~{projected:.0f} s)")
            chosen = screen_file(screener, src, Path(tmp) / "out.jsonl", workers=BATCH_WORKERS, progress=False)
        out.update(
            rows=chosen.rows,
            seconds=chosen.seconds,
            rows_per_s=chosen.rows_per_second,
            alerted=chosen.alerted,
            errors=chosen.errors,
            projected_1m_minutes=1_000_000 / chosen.rows_per_second / 60 if chosen.rows_per_second else float("inf"),
        )
        return out


# --------------------------------------------------------------------------- command line


#: Rows of the `qalqan screen` start-up measurement (a small file: start-up dominates).
CLI_ROWS = 10
CLI_RUNS = 3


def cli_start(entities: list[Entity], rows: int = CLI_ROWS, runs: int = CLI_RUNS) -> dict[str, Any]:
    """Wall time of `qalqan screen` on a small file against the UN list: the first run with an
    empty index cache (read and compile the list, then cache it) and the next `runs` on the
    cached index (best and median), each a fresh process as a user starts it; names only, and
    with birth dates and nationalities (`write_batch_csv`'s rows)."""
    out: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory(prefix="qalqan-bench-cli-") as tmp:
        names_only = Path(tmp) / "names.csv"
        full = Path(tmp) / "full.csv"
        write_batch_csv(full, rows, entities)
        with full.open(encoding="utf-8", newline="") as fh, names_only.open("w", encoding="utf-8", newline="") as out_fh:
            w = csv.writer(out_fh)
            for row in csv.reader(fh):
                w.writerow(row[:3])
        env = {**os.environ, "QALQAN_CACHE_DIR": str(Path(tmp) / "cache")}
        for label, src in (("names_only", names_only), ("with_dob_nationality", full)):
            cmd = [str(Path(sys.executable).with_name("qalqan")), "screen", str(src), "-l", f"un:{common.UN_XML}", "-o", str(Path(tmp) / "out.jsonl"), "--no-progress"]
            times = []
            for _ in range(runs + 1):
                t = time.perf_counter()
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                times.append(time.perf_counter() - t)
                if proc.returncode not in (0, 2):
                    raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
            cached = sorted(times[1:])
            first = "cold_s" if label == "names_only" else "first_s"  # the cache exists after the first label
            out[label] = {first: times[0], "cached_best_s": cached[0], "cached_median_s": cached[len(cached) // 2]}
    return out


# --------------------------------------------------------------------------- section


def peer_single(entities: list[Entity], names: list[str]) -> dict[str, Any]:
    """logic-v2 scoring the shared retriever's candidates (retrieval not timed), one core."""
    pin_one_core()
    retriever = common.Retriever(entities)
    v2 = common.peer_scorers()[0]
    cands = {n: retriever.candidates([n], "Person") for n in names}
    res = time_queries(lambda n: v2.scores(Query(names=(n,)), cands[n]), names, note="scoring shared candidates only")
    res["mean_candidates"] = sum(len(c) for c in cands.values()) / len(cands)
    return res


def section_speed(entities: list[Entity], quick: bool) -> dict[str, Any]:
    log("  index build + single queries (subprocess, one core)")
    out = run_child("un", len(entities), SINGLE_QUERIES, TIME_BUDGET_S)
    log(f"  `qalqan screen` of {CLI_ROWS} rows: cold, then on the cached index")
    out["cli_start"] = cli_start(entities)
    log("  logic-v2 on the shared candidates (subprocess-free, one core)")
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        out["single"]["logic-v2"] = peer_single(entities, sample_names(entities, PEER_QUERIES + WARMUP))
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)
    out["batch"] = batch(entities, BATCH_ROWS_QUICK if quick else BATCH_ROWS)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speed")
    parser.add_argument("mode", choices=["child", "cli"], help="child: one list's build and single queries (JSON on stdout); cli: `qalqan screen` start-up")
    parser.add_argument("--list", choices=["un", "synthetic"], default="un")
    parser.add_argument("--entities", type=int, default=0)
    parser.add_argument("--queries", type=int, default=SINGLE_QUERIES)
    parser.add_argument("--budget", type=float, default=TIME_BUDGET_S)
    args = parser.parse_args()
    result = cli_start(common.load_list(common.UN_XML).entities) if args.mode == "cli" else child(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
