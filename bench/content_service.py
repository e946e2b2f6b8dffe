"""Content checks end to end, through the store: what an analyst's check costs on a node holding
many indicators.

`python -m bench.content_service [--pdq 100000] [--urls 10000] [--checks 200]`

In a temporary SQLite store: imports a hash bank of `--pdq` random PDQ hashes and a CSV of
`--urls` URL/domain indicators (each import all or nothing, timed), builds the content index on
the first check (timed), then times `--checks` URL checks and file checks (a JPEG re-encoding of
an indexed image: hashed with PDQ, matched, audited), median and p99. Side by side, the same PDQ
look-ups by a linear scan over the same hashes (numpy), the approach the index replaces.
Writes bench/results/content_service.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.common import RESULTS_DIR, SEED, percentile
from qalqan.content.pdqindex import hex_to_words, popcount_rows
from qalqan.service import content
from qalqan.service.core import Qalqan


def _image(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((24, 24, 3)) * 255).astype(np.uint8)).resize((512, 512), Image.Resampling.BICUBIC)


def _encoded(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def run(n_pdq: int, n_urls: int, n_checks: int) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    images = [_image(SEED + i) for i in range(20)]
    planted = [content.hash_file(_encoded(img, "PNG"))["pdq"][0]["hash"] for img in images]
    hashes = [rng.bytes(32).hex() for _ in range(n_pdq - len(planted))] + planted
    copies = [_encoded(img, "JPEG", quality=60) for img in images]
    with tempfile.TemporaryDirectory(prefix="qalqan-bench-content-") as tmp:
        q = Qalqan.open(f"sqlite:///{Path(tmp) / 'q.db'}")
        t = time.perf_counter()
        content.import_indicators(q, ("\n".join(hashes) + "\n").encode(), actor="bench", source_list="bank", category="violent-propaganda")
        import_pdq = time.perf_counter() - t
        rows = "\n".join(f"https://site{i}.example.org/p/{i}/*,url,recruitment" if i % 2 else f"host{i}.example.net,domain,glorification"
                         for i in range(n_urls))
        t = time.perf_counter()
        content.import_indicators(q, f"value,type,category\n{rows}\n".encode(), actor="bench", source_list="urls")
        import_urls = time.perf_counter() - t
        t = time.perf_counter()
        index, _ = content.content_index(q)
        build = time.perf_counter() - t
        url_times, file_times, matched = [], [], 0
        for i in range(n_checks):
            t = time.perf_counter()
            r = content.check_url(q, f"https://www.site{2 * (i % (n_urls // 2)) + 1}.example.org/p/{2 * (i % (n_urls // 2)) + 1}/video?utm_source=x", actor="bench")
            url_times.append(time.perf_counter() - t)
            matched += bool(r["matches"])
        file_matched = 0
        for i in range(n_checks):
            t = time.perf_counter()
            r = content.check_file(q, copies[i % len(copies)], actor="bench")
            file_times.append(time.perf_counter() - t)
            file_matched += bool(r["matches"])
        # The peer: the same PDQ look-ups by a linear scan.
        words = hex_to_words(hashes)
        queries = [content.hash_file(c)["pdq"][0]["hash"] for c in copies]
        scan_times = []
        for i in range(n_checks):
            qw = hex_to_words([queries[i % len(queries)]])
            t = time.perf_counter()
            np.flatnonzero(popcount_rows(words ^ qw) <= 31)
            scan_times.append(time.perf_counter() - t)
        pdq_times = []
        for i in range(n_checks):
            t = time.perf_counter()
            index.match_pdq([queries[i % len(queries)]])
            pdq_times.append(time.perf_counter() - t)
        q.db.dispose()

    def ms(values: list[float], p: float) -> float:
        return round(percentile(values, p) * 1000, 3)

    return {
        "pdq_indicators": n_pdq, "url_indicators": n_urls, "checks": n_checks,
        "import_pdq_s": round(import_pdq, 2), "import_urls_s": round(import_urls, 2), "index_build_s": round(build, 2),
        "check_url_ms_median": ms(url_times, 50), "check_url_ms_p99": ms(url_times, 99), "url_checks_matched": f"{matched}/{n_checks}",
        "check_file_ms_median": ms(file_times, 50), "check_file_ms_p99": ms(file_times, 99), "file_checks_matched": f"{file_matched}/{n_checks}",
        "pdq_lookup_index_ms_median": ms(pdq_times, 50), "pdq_lookup_linear_scan_ms_median": ms(scan_times, 50),
        "index_vs_scan_ratio": round(percentile(scan_times, 50) / max(percentile(pdq_times, 50), 1e-9), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.content_service", description=__doc__)
    parser.add_argument("--pdq", type=int, default=100_000)
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()
    started = time.time()
    row = run(args.pdq, args.urls, args.checks)
    meta = {"command": f"python -m bench.content_service --pdq {args.pdq} --urls {args.urls} --checks {args.checks}",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": platform.platform(), "nproc": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()], "seconds": round(time.time() - started, 1)}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "content_service.json").write_text(json.dumps({"meta": meta, "result": row}, indent=2) + "\n")
    lines = ["# Content checks through the store", "", f"Command: `{meta['command']}`  ",
             f"Date: {meta['date']}; machine: {meta['machine']}, nproc {meta['nproc']}, load average {meta['load_average']}.", "",
             "| measure | value |", "| --- | --- |", *[f"| {k} | {v} |" for k, v in row.items()], ""]
    (RESULTS_DIR / "content_service.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
