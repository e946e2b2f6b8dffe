"""The Ray engine against the local one: the same 1,000,000-row file (100,000 with --quick)
screened against the UN list on this machine's 2 cores, once with `LocalEngine` (forked workers)
and once with `RayEngine` on a local Ray cluster of 2 CPUs, outputs compared byte for byte.

Ray's overhead is stated three ways: the cluster's start (paid once per process, not per file),
the run itself against the local run (object-store put, task scheduling, results back through
the driver), and the screener's pickled size (what each node of a cluster fetches once). The
driver's own ceiling, the same chunks pushed through Ray with nothing screened, is measured too:
with that, the figures give the projection for a multi-node cluster (`projection`), whose
method is in bench/report.py's METHOD text.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

from bench import common
from bench.common import log
from bench.speed import BATCH_WORKERS, write_batch_csv
from qalqan.batch import CHUNKS_IN_FLIGHT, DEFAULT_CHUNK
from qalqan.model import Entity

ROWS = 1_000_000
ROWS_QUICK = 100_000
#: Cluster sizes (cores) and the file size the projection is stated for: a bank's customers.
PROJECTED_CORES = (8, 32, 128, 512)
PROJECTED_ROWS = 100_000_000
#: Bandwidth assumed for a node fetching the screener from the object store (1 Gbit/s).
NODE_BANDWIDTH_MB_S = 125.0


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _echo(records: list[Any], line_bytes: int) -> tuple[bytes, int, int]:
    """A Ray task that screens nothing: output of the real size for its chunk."""
    return b"x" * (line_bytes * len(records)), 0, 0


def driver_ceiling(src: Path, line_bytes: int, chunk: int, in_flight: int) -> float:
    """Rows per second one driver can push through Ray when screening costs nothing: the input
    read and chunked as screening does, each chunk sent as a task that returns output of the
    real size, the results taken back in order and written. Whatever the cluster's size, a run
    with one driver cannot go faster than this (every row passes through it, in order)."""
    import ray

    from qalqan.batch import ordered_results
    from qalqan.sources.queries import read_records

    def chunks() -> Any:
        records = read_records(src)
        while part := list(islice(records, chunk)):
            yield part

    task = ray.remote(num_cpus=1)(_echo)

    class Pending:
        def __init__(self, ref: Any):
            self.ref = ref

        def get(self) -> Any:
            return ray.get(self.ref)

    started = time.perf_counter()
    n = 0
    with tempfile.TemporaryFile() as sink:
        for count, (data, _, _) in ordered_results(lambda c: Pending(task.remote(c, line_bytes)), chunks(), in_flight):
            assert isinstance(data, bytes)
            sink.write(data)
            n += count
    elapsed = time.perf_counter() - started
    return n / elapsed if elapsed else float("inf")


def projection(per_core: float, efficiency: float, ceiling: float, startup_s: float, screener_mb: float) -> list[dict[str, Any]]:
    """Projected throughput and time for PROJECTED_ROWS on clusters of PROJECTED_CORES cores:
    cores x the per-core rate measured under Ray (its scheduling overhead included), capped by
    the driver's ceiling; plus the cluster start and each node's one fetch of the screener."""
    out = []
    for cores in PROJECTED_CORES:
        rate = min(cores * per_core * efficiency, ceiling)
        seconds = startup_s + screener_mb / NODE_BANDWIDTH_MB_S + PROJECTED_ROWS / rate
        out.append({"cores": cores, "rows_per_s": rate, "driver_bound": cores * per_core * efficiency >= ceiling, "hours_100m": seconds / 3600})
    return out


def run(entities: list[Entity], rows: int) -> dict[str, Any]:
    """Screen `rows` generated rows locally and on a local Ray cluster; the section's figures."""
    import ray

    from qalqan.batch import screen_file
    from qalqan.distributed import RayEngine

    with tempfile.TemporaryDirectory(prefix="qalqan-bench-ray-") as tmp:
        src = Path(tmp) / "queries.csv"
        log(f"  writing {rows:,} rows to {src}")
        write_batch_csv(src, rows, entities)
        screener = common.build_screener(entities)
        screener_mb = len(pickle.dumps(screener, protocol=5)) / 2**20

        log(f"  local engine, {BATCH_WORKERS} processes")
        local = screen_file(screener, src, Path(tmp) / "local.jsonl", workers=BATCH_WORKERS, progress=False)

        log(f"  Ray engine, local cluster of {BATCH_WORKERS} CPUs")
        t = time.perf_counter()
        ray.init(num_cpus=BATCH_WORKERS, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - t
        try:
            remote = screen_file(screener, src, Path(tmp) / "ray.jsonl", progress=False, engine=RayEngine())
            log("  driver ceiling (the same chunks through Ray, no screening)")
            line_bytes = (Path(tmp) / "local.jsonl").stat().st_size // max(rows, 1)
            ceiling = driver_ceiling(src, line_bytes, DEFAULT_CHUNK, BATCH_WORKERS * (1 + CHUNKS_IN_FLIGHT))
        finally:
            ray.shutdown()
        identical = _digest(Path(tmp) / "local.jsonl") == _digest(Path(tmp) / "ray.jsonl")

    efficiency = remote.rows_per_second / local.rows_per_second if local.rows_per_second else 0.0
    per_core = local.rows_per_second / BATCH_WORKERS
    return {
        "rows": rows,
        "cpus": BATCH_WORKERS,
        "local": {"seconds": local.seconds, "rows_per_s": local.rows_per_second, "alerted": local.alerted, "errors": local.errors},
        "ray": {"seconds": remote.seconds, "rows_per_s": remote.rows_per_second, "alerted": remote.alerted, "errors": remote.errors, "startup_seconds": startup},
        "overhead_pct": 100 * (remote.seconds / local.seconds - 1) if local.seconds else 0.0,
        "identical_output": identical,
        "screener_pickled_mb": screener_mb,
        "driver_ceiling_rows_per_s": ceiling,
        "output_bytes_per_row": line_bytes,
        "projection": projection(per_core, efficiency, ceiling, startup, screener_mb),
        "projected_rows": PROJECTED_ROWS,
    }


def section_ray(entities: list[Entity], quick: bool) -> dict[str, Any]:
    return run(entities, ROWS_QUICK if quick else ROWS)
