"""Travel intake benchmark: `python -m bench.travel_ingest [--flights N] [--per-flight M] [--workers W]`.

N flights of M travellers each (default 1,000 x 300 = 300,000), as PAXLST messages made from
GTAS's real 260-passenger manifest (`bench.travel.manifest`; each flight's surnames shuffled
among its passengers with a seed of its own, so no two flights carry the same people), and one
passenger per 100 flights a UN-listed person under another spelling. They are ingested through
the service as a PIU's gateway sends them (`service.travel.ingest_many`: read and screened over W
forked worker processes, default 2; each message stored, with its travellers and its alerts, in a
transaction of its own) into a fresh SQLite store with the UN list live. Wall clock from the
first message to the last commit. Target: under 120 s for 300,000 on 2 cores.
Writes `bench/results/travel_ingest.json` and `.md`.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import tempfile
import time
from datetime import UTC, datetime

import orjson

from bench.common import RESULTS_DIR, UN_XML
from bench.travel import _machine, manifest

TARGET_S = 120.0
_GROUP = re.compile(rb"NAD\+FL\+\+\+([^:']*)")
#: QDi.006 (AIMAN MUHAMMED RABI AL-ZAWAHIRI) as a reservation system may write him.
LISTED = b"NAD+FL+++AL ZAWAHRI:AYMAN MOHAMMED RABIE'ATT+2++M'DTM+329:510619'NAT+2+EGY'"


def flight(base: bytes, number: int, listed: bool) -> bytes:
    """One flight's message: its own reference and flight number, surnames shuffled."""
    rng = random.Random(number)
    surnames = _GROUP.findall(base)
    rng.shuffle(surnames)
    it = iter(surnames)
    text = _GROUP.sub(lambda _m: b"NAD+FL+++" + next(it), base)
    text = text.replace(b"WSPDLA", b"F%05d" % number).replace(b"UA0989", b"UA%04d" % (number % 10000))
    if listed:
        first = text.index(b"NAD+FL")
        end = text.index(b"NAD+FL", first + 1)
        text = text[:first] + LISTED + text[end:]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--flights", type=int, default=1000)
    parser.add_argument("--per-flight", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    from qalqan.service import travel
    from qalqan.service.core import Qalqan
    from qalqan.store.db import Database

    folder = tempfile.mkdtemp(prefix="qalqan-bench-travel-")
    db = Database(f"sqlite:///{folder}/qalqan.db")
    db.migrate()
    service = Qalqan(db, audit_key=bytes(32), travel_key=bytes(32))
    service.import_list(f"un:{UN_XML}", actor="bench")
    base = manifest(args.per_flight)
    items = [(flight(base, n, n % 100 == 0), f"bench:{n}") for n in range(args.flights)]
    travellers = args.flights * args.per_flight
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    results = travel.ingest_many(service, items, actor="bench", workers=args.workers)
    wall = time.perf_counter() - t0
    alerts = sum(len(r.alerts) for r in results)
    listed = len(range(0, args.flights, 100))
    result = {
        "flights": args.flights, "per_flight": args.per_flight, "travellers": travellers, "workers": args.workers, "wall_s": round(wall, 1),
        "travellers_per_s": round(travellers / wall), "target_s": TARGET_S, "stored": sum(r.status == "stored" for r in results), "alerts": alerts,
        "listed_planted": listed, "cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{platform.platform()}, Python {platform.python_version()}",
        "cpu": _machine()["cpu"],
    }
    command = f"python -m bench.travel_ingest --flights {args.flights} --per-flight {args.per_flight} --workers {args.workers}"
    md = "\n".join([
        "# Travel intake: API messages ingested, screened and stored",
        "",
        f"`{command}` — {args.flights:,} PAXLST messages of {args.per_flight} travellers ({travellers:,}), made from GTAS's real manifest, "
        f"ingested through `service.travel.ingest_many` ({args.workers} worker processes reading and screening, one storing) into SQLite with the UN list "
        f"live. {result['date']}, {result['machine']}, {result['cpu']}, {result['cpus']} CPUs, load average before {result['load_before'][0]}.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| wall clock, first message to last commit | {result['wall_s']} s | < {TARGET_S:.0f} s |",
        f"| travellers per second | {result['travellers_per_s']:,} | |",
        f"| messages stored | {result['stored']:,} | |",
        f"| alerts raised (planted UN-listed passengers: {listed}) | {alerts} | |",
        "",
    ])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "travel_ingest.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    (RESULTS_DIR / "travel_ingest.md").write_text(md + "\n", encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
