"""Travel benchmark: `python -m bench.travel [--runs R]`.

A 500-passenger API manifest, made from GTAS's real 260-passenger PAXLST (its NAD groups repeated
with the names varied so no two travellers are alike), read (`travel.paxlst`) and every
traveller screened (`travel.screening.screen_message`) against the UN list, on one core: the
median of R runs (default 5). Target: under 1 s for the manifest. Writes
`bench/results/travel.json` and `.md`.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime

import orjson

from bench.common import RESULTS_DIR, SHARED, UN_XML

TRAVELLERS = 500
TARGET_S = 1.0


def manifest(n: int = TRAVELLERS) -> bytes:
    """A PAXLST with `n` passengers: the sample's header and flight, its passenger groups
    repeated (every repeat's surname given a suffix), and a UNT/CNT that agree."""
    text = (SHARED / "messages" / "paxlst" / "loader__Test3.txt").read_bytes()
    first = text.index(b"NAD+FL")
    tail_at = text.index(b"CNT+", first)
    head, groups, tail = text[:first], text[first:tail_at], text[tail_at:]
    people = [b"NAD+FL" + g for g in groups.split(b"NAD+FL") if g]
    out = []
    for i in range(n):
        g = people[i % len(people)]
        if i >= len(people):
            g = g.replace(b"+++", b"+++X" + str(i).encode(), 1)
        out.append(g)
    return head + b"".join(out) + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from qalqan.matching.screener import Screener
    from qalqan.sources.registry import read_list
    from qalqan.travel.screening import read_message, screen_message

    screener = Screener(read_list(f"un:{UN_XML}").entities)
    data = manifest()
    [message] = read_message(data)
    screen_message(screener, message)  # warm
    parse, total = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        [message] = read_message(data)
        t1 = time.perf_counter()
        hits = screen_message(screener, message)
        t2 = time.perf_counter()
        parse.append(t1 - t0)
        total.append(t2 - t0)
    result = {
        "travellers": len(message.travellers), "runs": args.runs, "target_s": TARGET_S, "hits": len(hits),
        "read_s": round(statistics.median(parse), 3), "read_and_screen_s": round(statistics.median(total), 3),
        "per_traveller_ms": round(statistics.median(total) / len(message.travellers) * 1000, 3),
        "list": UN_XML.name, "entities": len(screener),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{platform.platform()}, Python {platform.python_version()}",
    }
    md = "\n".join([
        "# Travel: a 500-passenger API manifest screened",
        "",
        f"`python -m bench.travel` — {result['travellers']} passengers (GTAS's PAXLST sample, repeated with varied names), read and every traveller "
        f"screened against {result['list']} ({result['entities']:,} entities), one core, median of {args.runs} runs. {result['date']}, {result['machine']}.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| read the manifest (PAXLST) | {result['read_s']} s | |",
        f"| read and screen every traveller | {result['read_and_screen_s']} s | < {TARGET_S:.0f} s |",
        f"| per traveller | {result['per_traveller_ms']} ms | |",
        f"| travellers with a match | {result['hits']} | 0 (none of the sample's people is listed) |",
        "",
    ])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "travel.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    (RESULTS_DIR / "travel.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
