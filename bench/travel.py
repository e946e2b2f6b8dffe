"""Travel benchmark: `python -m bench.travel [--runs R] [--flights N --per-flight M] [--workers W]`.

Two scenarios, both against the UN list, both written to `bench/results/travel.json` and `.md`:

* **manifest** — a 500-passenger API manifest, made from GTAS's real 260-passenger PAXLST (its
  NAD groups repeated with the names varied so no two travellers are alike), read
  (`travel.paxlst`) and every traveller screened (`travel.screening.screen_message`), on one
  core: the median of R runs (default 5). Target: under 1 s for the manifest.
* **flights** — N flights of M travellers (default 1,000 x 300 = 300,000), each its own PAXLST
  made the same way (every traveller's surname varied, so no two of the 300,000 are alike), with
  a few UN-listed people inserted under other spellings (with their listed birth date and gender)
  so that hits exist, read and screened over W worker processes (default 2). The Screener is
  built once, before the workers are forked, so they share it. Wall clock from the start of
  reading to the last result, workers' start included. Target: under 120 s on 2 cores.

`--quick` runs a smoke test (40 flights, 2 manifest runs) and writes nothing.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.common import RESULTS_DIR, SHARED, UN_XML

TRAVELLERS = 500
TARGET_S = 1.0
FLIGHTS = 1000
PER_FLIGHT = 300
WORKERS = 2
FLIGHTS_TARGET_S = 120.0
#: One flight in this many carries a listed person under another spelling.
LISTED_EVERY = 50


def _sample() -> tuple[bytes, list[bytes], bytes]:
    """The sample PAXLST split into (head up to the first passenger, passenger groups, tail)."""
    text = (SHARED / "messages" / "paxlst" / "loader__Test3.txt").read_bytes()
    first = text.index(b"NAD+FL")
    tail_at = text.index(b"CNT+", first)
    head, groups, tail = text[:first], text[first:tail_at], text[tail_at:]
    return head, [b"NAD+FL" + g for g in groups.split(b"NAD+FL") if g], tail


def manifest(n: int = TRAVELLERS) -> bytes:
    """A PAXLST with `n` passengers: the sample's header and flight, its passenger groups
    repeated (every repeat's surname given a suffix), and a UNT/CNT that agree."""
    head, people, tail = _sample()
    out = []
    for i in range(n):
        g = people[i % len(people)]
        if i >= len(people):
            g = g.replace(b"+++", b"+++X" + str(i).encode(), 1)
        out.append(g)
    return head + b"".join(out) + tail


# --------------------------------------------------------------------------- flights scenario

_VOWEL_SWAPS = (("ou", "u"), ("oo", "u"), ("ee", "i"), ("mm", "m"), ("ss", "s"), ("dd", "d"), ("y", "i"), ("ph", "f"),
                ("kh", "h"), ("q", "k"), ("u", "ou"), ("i", "e"), ("a", "e"), ("o", "u"))


def other_spelling(name: str, k: int) -> str:
    """`name` spelled otherwise, deterministically: one spelling change in one word (ou/u, y/i,
    doubled letters, kh/h...), or, where none applies, two inner letters swapped."""
    words = name.split()
    order = sorted(range(len(words)), key=lambda w: -len(words[w]))
    for w in order[k % 2:] + order[: k % 2]:
        low = words[w].lower()
        for a, b in _VOWEL_SWAPS[k % 3 :]:
            at = low.find(a, 1)
            if at > 0:
                changed = low[:at] + b + low[at + len(a) :]
                words[w] = changed.capitalize()
                return " ".join(words)
    w = order[0]
    s = words[w]
    if len(s) > 4:
        words[w] = s[:2] + s[3] + s[2] + s[4:]
    return " ".join(words)


def listed_people(entities: list[Any], count: int = 40) -> list[tuple[str, str, str, str, str]]:
    """(surname, given names, YYMMDD birth date, ATT gender code) of `count` UN-listed people with
    a latin-script name of two or three words and a full birth date, each name spelled otherwise."""
    out = []
    for e in entities:
        if e.schema != "Person" or not e.names or not e.birth_dates:
            continue
        d = e.birth_dates[0]
        words = e.names[0].value.split()
        if d.month is None or d.day is None or d.kind.value != "exact" or not 2 <= len(words) <= 3:
            continue
        if not all(re.fullmatch(r"[A-Za-z\-]+", w) for w in words):
            continue
        spelled = other_spelling(" ".join(w.capitalize() for w in words), len(out)).split()
        gender = {"male": "M", "female": "F"}.get(e.gender or "", "M")
        out.append((spelled[-1], " ".join(spelled[:-1]), f"{d.year % 100:02d}{d.month:02d}{d.day:02d}", gender, e.id))
        if len(out) == count:
            break
    return out


def _listed_group(person: tuple[str, str, str, str, str]) -> bytes:
    surname, given, born, gender, _ = person
    return (f"NAD+FL+++{surname}:{given}'ATT+2++{gender}'DTM+329:{born}'LOC+22+IAD'LOC+178+FRA'LOC+179+IAD'\r").encode()


def flight_manifest(flight: int, per_flight: int, listed: list[tuple[str, str, str, str, str]]) -> tuple[bytes, list[str]]:
    """Flight `flight` as its own PAXLST of `per_flight` passengers (surnames varied with the
    flight and seat, so no traveller repeats across flights), its own message reference and
    flight number, UNT and CNT counts that agree; one flight in `LISTED_EVERY` carries a listed
    person (spelled otherwise) in some seat. Returns (message, ids of the listed people aboard)."""
    head, people, tail = _sample()
    ref = f"F{flight:05d}".encode()
    head = head.replace(b"UNH+WSPDLA+", b"UNH+" + ref + b"+", 1).replace(b"TDT+20+UA0989+", b"TDT+20+UA" + f"{flight % 9000 + 1000}".encode() + b"+", 1)
    out, aboard = [], []
    seat_of_listed = (flight * 7919) % per_flight if flight % LISTED_EVERY == 0 else -1
    for i in range(per_flight):
        if i == seat_of_listed:
            person = listed[(flight // LISTED_EVERY) % len(listed)]
            out.append(_listed_group(person))
            aboard.append(person[4])
            continue
        g = people[(i + flight) % len(people)]
        out.append(g.replace(b"+++", b"+++F" + str(flight).encode() + b"X" + str(i).encode(), 1))
    body = head + b"".join(out)
    unh = body.index(b"UNH+")
    segments = body[unh:].count(b"'") + 2  # + CNT and UNT
    tail = re.sub(rb"CNT\+41:\d+'UNT\+\d+\+[A-Z0-9]+'", b"CNT+41:" + str(per_flight).encode() + b"'UNT+" + f"{segments:03d}".encode() + b"+" + ref + b"'", tail)
    return body + tail, aboard


_STATE: dict[str, Any] = {}


def _screen_flight(flight: int) -> tuple[int, int, list[tuple[int, str, float]], float, float]:
    """In a worker: read and screen one flight. (flight, travellers, [(seat, entity id, score)],
    read s, screen s)."""
    from qalqan.travel.screening import read_message, screen_message

    t0 = time.perf_counter()
    [message] = read_message(_STATE["manifests"][flight])
    t1 = time.perf_counter()
    hits = screen_message(_STATE["screener"], message)
    t2 = time.perf_counter()
    found = [(h.index, m.entity.id, round(m.score, 4)) for h in hits for m in h.matches]
    return flight, len(message.travellers), found, t1 - t0, t2 - t1


def run_flights(screener: Any, entities: list[Any], flights: int, per_flight: int, workers: int) -> dict[str, Any]:
    listed = listed_people(entities)
    manifests, expected = [], {}
    for f in range(flights):
        data, aboard = flight_manifest(f, per_flight, listed)
        manifests.append(data)
        if aboard:
            expected[f] = aboard
    # The workers start from a screener that has screened nothing (memos empty), as a freshly
    # built one would; the list is shared by fork (gc.freeze: no copy-on-write of the heap).
    screener._memo.clear()
    screener._evidence_memo.clear()
    _STATE.update(manifests=manifests, screener=screener)
    gc.collect()
    gc.freeze()
    results = []
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        for item in pool.imap_unordered(_screen_flight, range(flights), chunksize=4):
            results.append(item)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    gc.unfreeze()
    travellers = sum(r[1] for r in results)
    hits = [(f, seat, eid, score) for f, _, found, _, _ in results for seat, eid, score in found]
    expected_found = sum(1 for f, ids in expected.items() for eid in ids if any(h[0] == f and h[2] == eid for h in hits))
    read_cpu = sum(r[3] for r in results)
    screen_cpu = sum(r[4] for r in results)
    return {
        "flights": flights, "per_flight": per_flight, "travellers": travellers, "workers": workers,
        "wall_s": round(wall, 2), "travellers_per_s": round(travellers / wall), "target_s": FLIGHTS_TARGET_S,
        "read_cpu_s": round(read_cpu, 2), "screen_cpu_s": round(screen_cpu, 2),
        "read_ms_per_traveller": round(read_cpu / travellers * 1000, 3), "screen_ms_per_traveller": round(screen_cpu / travellers * 1000, 3),
        "listed_inserted": sum(len(v) for v in expected.values()), "listed_found": expected_found,
        "travellers_with_a_match": len({(h[0], h[1]) for h in hits}),
        "load_average_before": [round(x, 2) for x in load_before], "load_average_after": [round(x, 2) for x in load_after],
    }


# --------------------------------------------------------------------------- main


def _machine() -> dict[str, Any]:
    from bench.common import cpu_model

    cpu = cpu_model()
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        nproc = os.cpu_count()
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu, "nproc": nproc}


def run_manifest(screener: Any, runs: int) -> dict[str, Any]:
    from qalqan.travel.screening import read_message, screen_message

    data = manifest()
    [message] = read_message(data)
    screen_message(screener, message)  # warm
    parse, total = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        [message] = read_message(data)
        t1 = time.perf_counter()
        hits = screen_message(screener, message)
        t2 = time.perf_counter()
        parse.append(t1 - t0)
        total.append(t2 - t0)
    return {
        "travellers": len(message.travellers), "runs": runs, "target_s": TARGET_S, "hits": len(hits),
        "read_s": round(statistics.median(parse), 3), "read_and_screen_s": round(statistics.median(total), 3),
        "screen_s": round(statistics.median(t - p for t, p in zip(total, parse)), 3),
        "per_traveller_ms": round(statistics.median(total) / len(message.travellers) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="manifest scenario: runs (median reported)")
    parser.add_argument("--flights", type=int, default=FLIGHTS)
    parser.add_argument("--per-flight", type=int, default=PER_FLIGHT)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--scenario", choices=("both", "manifest", "flights"), default="both")
    parser.add_argument("--quick", action="store_true", help="smoke run (40 flights, 2 runs); writes no result")
    args = parser.parse_args(argv)
    if args.quick:
        args.flights, args.runs = min(args.flights, 40), 2
    from qalqan.matching.screener import Screener
    from qalqan.sources.registry import read_list

    entities = list(read_list(f"un:{UN_XML}").entities)
    screener = Screener(entities)
    command = "python -m bench.travel" + ("" if not sys.argv[1:] else " " + " ".join(sys.argv[1:]))
    previous: dict[str, Any] = {}
    path = RESULTS_DIR / "travel.json"
    if path.exists():
        try:
            previous = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            previous = {}
    stamp = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "command": command, "machine": _machine(),
             "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    result: dict[str, Any] = {"list": UN_XML.name, "entities": len(screener)}
    result["manifest"] = {**run_manifest(screener, args.runs), **stamp} if args.scenario != "flights" else previous.get("manifest")
    if args.scenario != "manifest":
        print(f"flights: {args.flights} x {args.per_flight} over {args.workers} workers ...", file=sys.stderr, flush=True)
        result["flights"] = {**run_flights(screener, entities, args.flights, args.per_flight, args.workers), **stamp}
    else:
        result["flights"] = previous.get("flights")
    md = render(result)
    print(md)
    if not args.quick:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
        (RESULTS_DIR / "travel.md").write_text(md, encoding="utf-8")
    return 0


def _when(r: dict[str, Any]) -> str:
    m = r["machine"]
    load = ", ".join(str(x) for x in r["load_average_at_start"])
    return f"`{r['command']}`, {r['date']}, {m['cpu']}, nproc {m['nproc']}, {m['platform']}, Python {m['python']}; load average at start {load}"


def render(result: dict[str, Any]) -> str:
    lines = ["# Travel: API manifests screened", ""]
    m = result.get("manifest")
    if m:
        lines += [
            "## A 500-passenger manifest, one core",
            "",
            f"{m['travellers']} passengers (GTAS's PAXLST sample, repeated with varied names), read and every traveller screened "
            f"against {result['list']} ({result['entities']:,} entities), one core, median of {m['runs']} runs. {_when(m)}.",
            "",
            "| measure | value | target |",
            "|---|---:|---|",
            f"| read the manifest (PAXLST) | {m['read_s']} s | |",
            f"| screen every traveller | {m['screen_s']} s | |",
            f"| read and screen every traveller | {m['read_and_screen_s']} s | < {TARGET_S:.0f} s |",
            f"| per traveller | {m['per_traveller_ms']} ms | |",
            f"| travellers with a match | {m['hits']} | 0 (none of the sample's people is listed) |",
            "",
        ]
    f = result.get("flights")
    if f:
        verdict = "met" if f["wall_s"] < f["target_s"] else "**not met**"
        lines += [
            f"## {f['flights']:,} flights x {f['per_flight']} travellers, {f['workers']} worker processes",
            "",
            f"{f['travellers']:,} travellers in {f['flights']:,} generated PAXLST messages (the sample's passengers, every surname varied; "
            f"one flight in {LISTED_EVERY} carries a UN-listed person spelled otherwise), each message read and every traveller screened "
            f"against {result['list']}, over {f['workers']} forked workers sharing one Screener; wall clock from the first read to the last "
            f"result. {_when(f)}; load average after {', '.join(str(x) for x in f['load_average_after'])}.",
            "",
            "| measure | value | target |",
            "|---|---:|---|",
            f"| read and screen all travellers (wall clock) | {f['wall_s']} s | < {f['target_s']:.0f} s ({verdict}) |",
            f"| travellers per second | {f['travellers_per_s']:,} | {round(f['travellers'] / f['target_s']):,} |",
            f"| reading, CPU per traveller | {f['read_ms_per_traveller']} ms | |",
            f"| screening, CPU per traveller | {f['screen_ms_per_traveller']} ms | |",
            f"| listed people inserted / found | {f['listed_inserted']} / {f['listed_found']} | all |",
            f"| travellers with a match | {f['travellers_with_a_match']} | |",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
