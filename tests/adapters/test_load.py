"""The bounded loopback load test: 50 concurrent screening clients for 30 s against a real
`qalqan serve` process (SQLite store, the real UN list), with zero errors.

Latency figures are not asserted here (shared CI machines); `make bench` records them in
bench/results/load.json.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench import load

SHARED = Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))


def test_fifty_clients_for_thirty_seconds_without_an_error() -> None:
    un = SHARED / "un" / "un_consolidated_2026-02-27.xml"
    result = load.run(un, clients=load.CLIENTS, seconds=load.SECONDS)
    assert result.errors == 0, result.error_samples
    # Every client completed requests (the server was not merely up for one of them).
    assert result.requests >= 10 * load.CLIENTS
    assert len(result.latencies_ms) == result.requests
