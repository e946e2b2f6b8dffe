"""Loopback load test: concurrent screening clients against a real `qalqan serve` process.

The server runs as its own process (uvicorn, as `make run` starts it) over a fresh store with the
UN list imported; the clients are threads in this process, each sending one authenticated
single-name `POST /match/un` at a time, for a fixed duration. Every request goes the whole way:
API-key check, purpose, audit entry (a database write), scoring.

    python -m bench.load [--clients 50] [--seconds 30] [--database-url URL]

The test suite runs the same harness (tests/adapters/test_load.py) and asserts zero errors;
`make bench` records its latency figures in bench/results/load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: The issue's figures: 50 concurrent clients for 30 seconds.
CLIENTS = 50
SECONDS = 30.0
#: How long the server may take to import the list and start listening.
STARTUP_TIMEOUT = 180.0
#: A request slower than this counts as an error: a screening API that keeps a client waiting
#: this long under load has failed it.
REQUEST_TIMEOUT = 30.0
PURPOSE = "load test"
#: Fictional names mixed with listed ones, so most requests are the common case: no match.
_GIVEN = ["Arman", "Dana", "Ivan", "Olga", "Omar", "Layla", "James", "Sofia", "Nurlan", "Aigerim", "Mehmet", "Fatima"]
_FAMILY = ["Bekov", "Smirnova", "Haddad", "Rossi", "Walker", "Ospanov", "Yilmaz", "Khoury", "Schmidt", "Zhakupova"]


@dataclass
class LoadResult:
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100.0 * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies_ms")
        data.update(
            requests_per_second=round(self.throughput, 1),
            p50_ms=round(self.percentile(50), 1),
            p90_ms=round(self.percentile(90), 1),
            p99_ms=round(self.percentile(99), 1),
            max_ms=round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            mean_ms=round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else None,
        )
        return data


def query_names(listed: Sequence[str], seed: int = 7, count: int = 2000) -> list[str]:
    """A fixed mix: one in five a listed name, the rest fictional people."""
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        if listed and rng.random() < 0.2:
            names.append(rng.choice(listed))
        else:
            names.append(f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}")
    return names


def _client(host: str, port: int, key: str, names: list[str], offset: int, deadline: float, result: LoadResult, lock: threading.Lock) -> None:
    """One client: a persistent HTTP/1.1 connection, one request at a time until the deadline.

    Plain `http.client` in a thread per client: httpx's async pool, tried first, capped the
    *client* at ~150 requests/s with 50 connections (measured against a bare FastAPI app), so it
    measured itself rather than the server.
    """
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    path = "/match/un?" + urllib.parse.urlencode({"purpose": PURPOSE})
    latencies: list[float] = []
    errors: list[str] = []
    requests = 0
    i = offset
    while time.perf_counter() < deadline:
        name = names[i % len(names)]
        i += 1
        body = json.dumps({"queries": {"q": {"schema": "Person", "properties": {"name": [name]}}}})
        started = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            ok = response.status == 200 and "q" in json.loads(data).get("responses", {})
            problem = "" if ok else f"HTTP {response.status}: {data[:200]!r}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        elapsed = (time.perf_counter() - started) * 1000.0
        requests += 1
        if problem:
            errors.append(problem)
        else:
            latencies.append(elapsed)
    conn.close()
    with lock:
        result.requests += requests
        result.errors += len(errors)
        result.error_samples.extend(errors[: max(0, 5 - len(result.error_samples))])
        result.latencies_ms.extend(latencies)


def run_clients(base_url: str, key: str, names: list[str], clients: int = CLIENTS, seconds: float = SECONDS) -> LoadResult:
    """`clients` concurrent clients for `seconds` against `base_url` (http://host:port)."""
    parsed = urllib.parse.urlsplit(base_url)
    result = LoadResult(clients=clients, seconds=seconds)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=_client, args=(parsed.hostname, parsed.port, key, names, n * 37, deadline, result, lock), daemon=True)
        for n in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(un_xml: Path, workdir: Path, database_url: str | None = None) -> Iterator[tuple[str, str]]:
    """Start `qalqan serve` over a fresh store holding `un_xml`; yield (base URL, analyst key)."""
    from qalqan.service import users
    from qalqan.service.core import Qalqan

    env = dict(os.environ)
    env["QALQAN_DATA"] = str(workdir)
    env["QALQAN_AUDIT_KEY"] = os.urandom(32).hex()
    env.pop("QALQAN_UN_XML", None)
    if database_url:
        env["QALQAN_DATABASE_URL"] = database_url
    else:
        env.pop("QALQAN_DATABASE_URL", None)
        database_url = f"sqlite:///{workdir / 'qalqan.db'}"
    service = Qalqan.open(database_url, audit_key=bytes.fromhex(env["QALQAN_AUDIT_KEY"]))
    service.import_list(f"un:{un_xml}", actor="bench")
    users.create_user(service, "load-analyst", "analyst", actor="bench")
    key = users.create_key(service, "load-analyst", actor="bench")
    service.db.dispose()
    port = free_port()
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "qalqan.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}: {(workdir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in {STARTUP_TIMEOUT:.0f}s")
            time.sleep(0.2)
        yield base, key
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def listed_names(un_xml: Path) -> list[str]:
    from qalqan.sources.registry import read_list

    return [e.caption for e in read_list(f"un:{un_xml}").entities if e.schema == "Person"]


def run(un_xml: Path, clients: int = CLIENTS, seconds: float = SECONDS, database_url: str | None = None) -> LoadResult:
    names = query_names(listed_names(un_xml))
    with tempfile.TemporaryDirectory(prefix="qalqan-load-") as tmp, running_server(un_xml, Path(tmp), database_url) as (base, key):
        # A short warm-up so the first requests do not measure the server's lazy start.
        run_clients(base, key, names, clients=min(clients, 4), seconds=1.0)
        return run_clients(base, key, names, clients=clients, seconds=seconds)


def section_load(quick: bool = False) -> dict[str, Any]:
    from bench import common

    seconds = 10.0 if quick else SECONDS
    out: dict[str, Any] = {"store": "sqlite", "list": common.UN_XML.name}
    out.update(run(common.UN_XML, CLIENTS, seconds).summary())
    pg = os.environ.get("QALQAN_BENCH_PG_URL")
    if pg:
        out["postgresql"] = run(common.UN_XML, CLIENTS, seconds, pg).summary()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--un", type=Path, default=None, help="UN list XML (default: the shared 2026 file)")
    args = parser.parse_args(argv)
    from bench import common

    result = run(args.un or common.UN_XML, args.clients, args.seconds, args.database_url)
    print(result.summary())
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
