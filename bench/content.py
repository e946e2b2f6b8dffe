"""Benchmark the PDQ multi-index hashing index (`qalqan.content.pdqindex`).

`python -m bench.content [--n 1000000] [--queries 1000] [--brute 100] [--chunk-bits 16 8]`

Builds the index over n random 256-bit hashes plus planted near-duplicates (for each query,
copies at random distances 0..31 plus one at exactly 31 and 32), times the build, times the
queries at max_distance 31 (median, p99; target < 1 ms), measures recall against a numpy brute
force over the same data for a subset of the queries (target 100%) and the index memory.
Writes bench/results/content.json and content.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np

from bench.common import RESULTS_DIR, SEED, cpu_model
from qalqan.content.pdqindex import PdqIndex, words_to_hex

MAX_DISTANCE = 31


def flip(words: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    out = words.copy()
    for bit in rng.choice(256, size=k, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def make_data(n: int, n_queries: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """n random hashes with 6 planted near-duplicates per query, shuffled; queries as hex."""
    rng = np.random.default_rng(seed)
    queries = rng.integers(0, 2**64, size=(n_queries, 4), dtype=np.uint64)
    planted = []
    for q in queries:
        planted.extend(flip(q, int(k), rng) for k in rng.integers(0, 32, size=4))
        planted.extend([flip(q, 31, rng), flip(q, 32, rng)])
    base = rng.integers(0, 2**64, size=(max(n - len(planted), 0), 4), dtype=np.uint64)
    data = np.concatenate([base, np.array(planted, dtype=np.uint64)])
    return data[rng.permutation(len(data))], [words_to_hex(q) for q in queries]


def run(n: int, n_queries: int, n_brute: int, chunk_bits: int, data: np.ndarray, queries: list[str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    index = PdqIndex.build(data, chunk_bits=chunk_bits)
    build_s = time.perf_counter() - t0
    times, results, n_cands = [], [], []
    for q in queries:
        t = time.perf_counter()
        results.append(index.query(q, MAX_DISTANCE))
        times.append(time.perf_counter() - t)
    for q in queries[:50]:
        n_cands.append(len(index.candidates(q, MAX_DISTANCE)))
    found = expected = 0
    exact = 0
    brute_times = []
    for q, got in zip(queries[:n_brute], results[:n_brute]):
        t = time.perf_counter()
        truth = index.brute_force(q, MAX_DISTANCE)
        brute_times.append(time.perf_counter() - t)
        expected += len(truth)
        found += len(set(truth) & set(got))
        exact += truth == got
    ms = np.array(times) * 1000
    return {
        "chunk_bits": chunk_bits,
        "chunks": 256 // chunk_bits,
        "probe_radius": MAX_DISTANCE // (256 // chunk_bits),
        "n": len(data),
        "build_seconds": round(build_s, 2),
        "query_ms_median": round(float(np.median(ms)), 3),
        "query_ms_p99": round(float(np.percentile(ms, 99)), 3),
        "query_ms_max": round(float(ms.max()), 3),
        "candidates_median": int(np.median(n_cands)),
        "matches_per_query_mean": round(float(np.mean([len(r) for r in results])), 2),
        "recall_queries": n_brute,
        "recall_pairs_expected": expected,
        "recall": round(found / expected, 6) if expected else None,
        "results_identical_to_brute_force": f"{exact}/{n_brute}",
        "brute_force_ms_median": round(float(np.median(brute_times)) * 1000, 2),
        "index_mib": round(index.nbytes() / 2**20, 1),
    }


def write(rows: list[dict[str, Any]], args: argparse.Namespace, started: float) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "section": "content",
        "title": "PDQ multi-index hashing: build, query latency, recall vs brute force",
        "command": "python -m bench.content " + " ".join(sys.argv[1:]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "nproc": os.cpu_count(),
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "max_distance": MAX_DISTANCE,
        "queries": args.queries,
        "seed": SEED,
        "rows": rows,
    }
    (RESULTS_DIR / "content.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    cols = ["chunk_bits", "chunks", "probe_radius", "n", "build_seconds", "query_ms_median", "query_ms_p99",
            "candidates_median", "recall", "results_identical_to_brute_force", "brute_force_ms_median", "index_mib"]
    m = payload["machine"]
    lines = [
        f"# {payload['title']}",
        "",
        f"Command: `{payload['command']}`  ",
        f"Date: {payload['date']}; machine: {m['platform']}, nproc {m['nproc']}, load average {m['load_average']}; "
        f"Python {m['python']}, numpy {m['numpy']}.",
        "",
        f"{args.queries} queries at max_distance {MAX_DISTANCE} (each with planted copies at distances 0..32); "
        f"recall over the first {args.brute} against a numpy brute-force scan.",
        "",
        "| " + " | ".join(cols) + " |",
        "| " + " | ".join("---" for _ in cols) + " |",
        *("| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows),
        "",
    ]
    (RESULTS_DIR / "content.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--brute", type=int, default=100)
    parser.add_argument("--chunk-bits", type=int, nargs="+", default=[16, 8])
    args = parser.parse_args()
    started = time.perf_counter()
    data, queries = make_data(args.n, args.queries, SEED)
    rows = []
    for bits in args.chunk_bits:
        row = run(args.n, args.queries, args.brute, bits, data, queries)
        print(json.dumps(row), flush=True)
        rows.append(row)
    write(rows, args, started)


if __name__ == "__main__":
    main()
