"""Cyrillic spellings by Russian and Kazakh conventions against the UN list:
`python -m bench.cyrillic_eval [--quick]` -> bench/results/cyrillic.json and cyrillic.md.

The queries are `bench.cyrillic_devset` (built here from the UN list, deterministic). Each is
screened against the whole UN list, name only with its schema, as section (b) of bench.run does:
Qalqan end to end (its own index, `Screener.match`), and logic-v2 re-ranking the neutral
retriever's candidates (bench.common). Figures per convention and split:

* recall at threshold: the listed entity is returned as a `match` (Qalqan) / scores at or
  above the threshold (logic-v2) — what an analyst sees as an alert;
* recall@1: the listed entity ranks first (ties share the credit).

"qalqan-before" is the same engine with the two mechanisms this set measures switched off in
the same run (no Cyrillic readings, no organisation vocabulary), so the gain is read side by
side. The held-out split is the figure to trust: the engine was developed looking at "dev" only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import orjson

from bench import common, cyrillic_devset
from bench.common import E2E_LIMIT, Retriever, log, pmap, top1_credit
from qalqan.model import Entity, Query

GROUPS = {
    "people: Russian convention (Arabic, Pashto, African)": ("russian",),
    "people: Korean (Kontsevich / Russian practice)": ("korean",),
    "people: Kazakh convention": ("kazakh",),
    "organisations: translated (Russian, Kazakh, hand-written)": ("org_translated_ru", "org_translated_kk", "org_handwritten"),
    "organisations: transliterated": ("org_transliterated",),
}
MISSES_KEPT = 25


@contextlib.contextmanager
def engine_without_cyrillic() -> Iterator[None]:
    """The engine as it was before Cyrillic readings and the organisation vocabulary."""
    from qalqan.matching import compiled
    from qalqan.names import tokens

    saved = compiled.cyrillic_readings, tokens.org_rewrite
    compiled.cyrillic_readings = lambda name, organisation=False: ()  # type: ignore[assignment]
    tokens.org_rewrite = lambda text: text  # type: ignore[assignment]
    _clear_caches()
    try:
        yield
    finally:
        compiled.cyrillic_readings, tokens.org_rewrite = saved
        _clear_caches()


def _clear_caches() -> None:
    from qalqan.names import tokens

    for value in vars(tokens).values():
        clear = getattr(value, "cache_clear", None)
        if callable(clear):
            clear()


def _eval_qalqan(item: dict[str, Any]) -> dict[str, Any]:
    screener = common._WORK["screener"]
    query = Query(names=(item["query"],), schema=item["schema"], id="cyr")
    found = screener.match(query, limit=E2E_LIMIT)
    credit, _ = top1_credit(item["target"], [m.entity for m in found], [m.score for m in found])
    alert = any(m.entity.id == item["target"] and m.match for m in found)
    top = (found[0].entity.caption, round(found[0].score, 3)) if found else None
    return {"credit": credit, "alert": alert, "top": top}


def _eval_peer(item: dict[str, Any]) -> dict[str, Any]:
    retriever: Retriever = common._WORK["retriever"]
    scorer = common._WORK["peer"]
    query = Query(names=(item["query"],), schema=item["schema"], id="cyr")
    cands = retriever.candidates([item["query"]], item["schema"])
    scores = scorer.scores(query, cands)
    credit, tscore = top1_credit(item["target"], cands, scores)
    best = max(range(len(cands)), key=lambda i: scores[i]) if cands else None
    top = (cands[best].caption, round(scores[best], 3)) if best is not None else None
    return {"credit": credit, "alert": tscore >= scorer.threshold, "top": top}


def _summary(rows: list[dict[str, Any]], items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("heldout", "dev", "all"):
        per: dict[str, Any] = {}
        for group, conventions in [("all queries", None), *GROUPS.items()]:
            sel = [
                r
                for r, it in zip(rows, items)
                if (split == "all" or it["split"] == split) and (conventions is None or it["convention"] in conventions)
            ]
            n = len(sel)
            per[group] = {
                "queries": n,
                "recall_at_threshold": sum(r["alert"] for r in sel) / n if n else 0.0,
                "recall_at_1": sum(r["credit"] for r in sel) / n if n else 0.0,
            }
        for label, conventions in (("people", ("russian", "korean", "kazakh")), ("organisations", None)):
            sel = [
                r
                for r, it in zip(rows, items)
                if (split == "all" or it["split"] == split)
                and ((it["convention"] in conventions) if conventions else it["schema"] != "Person")
            ]
            n = len(sel)
            per[label] = {
                "queries": n,
                "recall_at_threshold": sum(r["alert"] for r in sel) / n if n else 0.0,
                "recall_at_1": sum(r["credit"] for r in sel) / n if n else 0.0,
            }
        out[split] = per
    out["dev_misses"] = [
        {"query": it["query"], "source": it["source"], "convention": it["convention"], "top": r["top"]}
        for r, it in zip(rows, items)
        if it["split"] == "dev" and not r["alert"]
    ][:MISSES_KEPT]
    return out


def run(quick: bool = False) -> dict[str, Any]:
    entities: list[Entity] = common.load_list(common.UN_XML).entities
    items = [dict(vars(q)) for q in cyrillic_devset.build(entities)]
    cyrillic_devset.write([cyrillic_devset.DevQuery(**it) for it in items])
    if quick:
        items = items[::4]
    log(f"{len(items)} Cyrillic queries against {len(entities)} UN entities")
    results: dict[str, Any] = {}
    threshold = common.qalqan_threshold()
    with engine_without_cyrillic():
        t = time.perf_counter()
        common._WORK.update(screener=common.build_screener(entities))
        rows = pmap(_eval_qalqan, items, chunk=32)
        results["qalqan-before"] = _summary(rows, items, "qalqan-before")
        log(f"  qalqan-before done in {time.perf_counter() - t:.0f}s")
    t = time.perf_counter()
    common._WORK.update(screener=common.build_screener(entities))
    started = time.perf_counter()
    rows = pmap(_eval_qalqan, items, chunk=32)
    qalqan_seconds = time.perf_counter() - started
    results[common.QALQAN_E2E] = _summary(rows, items, common.QALQAN_E2E)
    log(f"  qalqan done in {time.perf_counter() - t:.0f}s")
    t = time.perf_counter()
    from nomenklatura.matching import LogicV2

    common._WORK.update(retriever=Retriever(entities), peer=common.PeerScorer(LogicV2))
    rows = pmap(_eval_peer, items, chunk=16)
    results["logic-v2"] = _summary(rows, items, "logic-v2")
    log(f"  logic-v2 done in {time.perf_counter() - t:.0f}s")
    return {
        "queries": len(items),
        "thresholds": {"qalqan": threshold, "logic-v2": common.PEER_THRESHOLD},
        "qalqan_screening_seconds": round(qalqan_seconds, 2),
        "scorers": results,
    }


def _md(data: dict[str, Any]) -> str:
    lines = [
        "# Cyrillic spellings (Russian / Kazakh conventions) vs the UN list",
        "",
        f"Command: `{data['command']}` — {data['date']}, {data['seconds']} s. Queries: {data['queries']} "
        f"(bench/cyrillic_devset.py; thresholds: qalqan {data['thresholds']['qalqan']}, logic-v2 {data['thresholds']['logic-v2']}).",
        "",
        "Recall at threshold / recall@1. qalqan-before: the same engine in the same run with the Cyrillic readings "
        "and the organisation vocabulary switched off.",
        "",
    ]
    for split, title in (("heldout", "Held-out split (not looked at while developing)"), ("dev", "Development split"), ("all", "All queries")):
        lines += [f"## {title}", "", "| group | n | qalqan | qalqan-before | logic-v2 |", "|---|---:|---:|---:|---:|"]
        for group in ["all queries", "people", "organisations", *GROUPS]:
            cells = []
            n = data["scorers"]["qalqan"][split][group]["queries"]
            for scorer in ("qalqan", "qalqan-before", "logic-v2"):
                g = data["scorers"][scorer][split][group]
                cells.append(f"{g['recall_at_threshold']:.1%} / {g['recall_at_1']:.1%}")
            lines.append(f"| {group} | {n} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cyrillic_eval", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every 4th query only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = run(args.quick)
    payload = {
        "section": "cyrillic",
        "title": "Cyrillic spellings by Russian and Kazakh conventions vs the UN list",
        "command": "python -m bench.cyrillic_eval" + (" --quick" if args.quick else ""),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "versions": common.versions(),
        **data,
    }
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (common.RESULTS_DIR / "cyrillic.json").write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    md = _md(payload)
    (common.RESULTS_DIR / "cyrillic.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
