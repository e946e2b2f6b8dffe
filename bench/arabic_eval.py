"""Arabic-script names of non-Arab people against their Latin spelling: recall@1.

Run from the repository root:  .venv/bin/python -m bench.arabic_eval

Held out (never trained on by bench/train_arabic.py, split by Latin word): the word pairs of
NETransliteration's wd_arabic_20 test split, and the pairs whose Latin word falls in the
trainer's 10% SHA-1 slice of the other Latin words (`bench.train_arabic.held_out`). From those
pairs, `NAMES` full names of 2-3 words each are composed (seeded): the Latin names are indexed
as Person entities, the Arabic-script names are the queries (names only).

Rows, all in this run:
- qalqan (rules): Screener.match with the learned model switched off (lexicon and rules only,
  the transliterator before the model existed);
- qalqan (learned): Screener.match as shipped;
- logic-v2: nomenklatura's LogicV2 re-ranking the neutral retriever's candidates (bench.common).
recall@1 = the right entity ranked first (ties share credit); "matched" = also at or over the
scorer's threshold. Also word-level figures of the learned model on the held-out words.
Writes bench/results/arabic.json and bench/results/arabic.md.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import platform
import random
import sys
import time
from typing import Any

import orjson
from rapidfuzz.distance import Levenshtein

from bench import common
from bench.common import E2E_LIMIT, SEED, Retriever, log, pmap, top1_credit
from bench.train_arabic import ALIGNED, TEST, held_out, latin_form
from qalqan.model import Entity, Name, Query

NAMES = 1000
RESULT_JSON = common.RESULTS_DIR / "arabic.json"
RESULT_MD = common.RESULTS_DIR / "arabic.md"
MISSES_KEPT = 15

Pair = tuple[str, str]  # (arabic as written, latin as written)


def held_out_pairs() -> dict[str, list[Pair]]:
    """Held-out word pairs as the file writes them, by slice."""
    rows: list[tuple[str, str]] = []
    with open(ALIGNED, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2:
                rows.append((cols[1].replace(" ", ""), cols[0]))
    test_words: set[str] = set()
    with open(TEST, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if cols and cols[0]:
                test_words.add(latin_form(cols[0]))
    out: dict[str, set[Pair]] = {"wd_arabic_20": set(), "slice10": set()}
    for ar, lat in rows:
        norm = latin_form(lat)
        if len(norm) < 2 or not norm.isalpha() or not ar:
            continue
        if norm in test_words:
            out["wd_arabic_20"].add((ar, lat))
        elif held_out(norm, test_words):
            out["slice10"].add((ar, lat))
    return {k: sorted(v) for k, v in out.items()}


def compose(pairs: list[Pair], n: int, rng: random.Random) -> list[tuple[str, str]]:
    """n (arabic name, latin name) of 2-3 words, no Latin word twice in one name."""
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(names) < n:
        k = rng.choice((2, 3))
        words = rng.sample(pairs, k)
        if len({latin_form(lat) for _, lat in words}) < k:
            continue
        latin = " ".join(lat[:1].upper() + lat[1:] for _, lat in words)
        if latin.lower() in seen:
            continue
        seen.add(latin.lower())
        names.append((" ".join(ar for ar, _ in words), latin))
    return names


def _qalqan_query(item: tuple[int, str]) -> dict[str, Any]:
    i, arabic = item
    screener = common._WORK["screener"]
    found = screener.match(Query(names=(arabic,), schema="Person", id=f"q-{i}"), limit=E2E_LIMIT)
    credit, tscore = top1_credit(f"ar-{i}", [m.entity for m in found], [m.score for m in found])
    top = (found[0].entity.caption, round(found[0].score, 3)) if found else None
    return {"credit": credit, "matched": credit if tscore >= screener.threshold and found and found[0].match else 0.0, "top": top}


def _qalqan_run(entities: list[Entity], queries: list[str], learned: bool, conn: Any) -> None:
    from qalqan.names import translit

    translit.use_arabic_model(learned)
    screener = common.build_screener(entities)
    common._WORK["screener"] = screener
    t = time.perf_counter()
    rows = pmap(_qalqan_query, list(enumerate(queries)), chunk=25)
    conn.send((rows, screener.threshold, time.perf_counter() - t))
    conn.close()


def qalqan_rows(entities: list[Entity], queries: list[str], learned: bool) -> tuple[list[dict[str, Any]], float, float]:
    """Screen in a forked child, so the switch and the memo caches it fills stay there."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_qalqan_run, args=(entities, queries, learned, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result  # type: ignore[no-any-return]


def _peer_query(item: tuple[int, str]) -> dict[str, Any]:
    i, arabic = item
    retriever: Retriever = common._WORK["retriever"]
    scorer = common._WORK["peer"]
    query = Query(names=(arabic,), schema="Person", id=f"q-{i}")
    cands = retriever.candidates([arabic], "Person")
    scores = scorer.scores(query, cands)
    credit, tscore = top1_credit(f"ar-{i}", cands, scores)
    best = max(range(len(cands)), key=lambda j: scores[j]) if cands else None
    return {
        "credit": credit,
        "matched": credit if tscore >= scorer.threshold else 0.0,
        "retrieved": any(c.id == f"ar-{i}" for c in cands),
        "top": (cands[best].caption, round(scores[best], 3)) if best is not None else None,
    }


def summarise(rows: list[dict[str, Any]], queries: list[str], latin: list[str]) -> dict[str, Any]:
    n = len(rows)
    misses = [{"query": queries[i], "target": latin[i], "top": r["top"]} for i, r in enumerate(rows) if r["credit"] < 1.0]
    return {
        "recall_at_1": sum(r["credit"] for r in rows) / n,
        "recall_at_1_matched": sum(r["matched"] for r in rows) / n,
        "misses": len(misses),
        "miss_examples": misses[:MISSES_KEPT],
    }


def word_figures(pairs: list[Pair]) -> dict[str, float]:
    """The learned model alone on held-out words: exact spelling, top-5, similarity."""
    from qalqan.names import arabic_model

    exact = top5 = sim = 0.0
    for ar, lat in pairs:
        target = latin_form(lat)
        found = [c for c, _ in arabic_model.candidates(ar, 5)]
        best = found[0] if found else ""
        exact += best == target
        top5 += target in found
        sim += Levenshtein.normalized_similarity(best, target)
    n = max(1, len(pairs))
    return {"words": len(pairs), "exact": exact / n, "top5": top5 / n, "similarity": sim / n}


def main() -> int:
    started = time.perf_counter()
    held = held_out_pairs()
    pool = held["wd_arabic_20"] + held["slice10"]
    rng = random.Random(SEED)
    names = compose(pool, NAMES, rng)
    queries = [ar for ar, _ in names]
    latin = [lat for _, lat in names]
    entities = [Entity(f"ar-{i}", "Person", "bench-arabic", str(i), (Name(lat),)) for i, lat in enumerate(latin)]
    log(f"arabic: {len(pool)} held-out word pairs, {len(names)} composed names")
    scorers: dict[str, Any] = {}
    timings: dict[str, float] = {}
    threshold = 0.0
    for label, learned in (("qalqan (rules)", False), ("qalqan (learned)", True)):
        rows, threshold, seconds = qalqan_rows(entities, queries, learned)
        scorers[label] = summarise(rows, queries, latin)
        timings[label] = round(seconds, 1)
        log(f"  {label}: recall@1 {scorers[label]['recall_at_1']:.1%} ({seconds:.0f}s)")
    from nomenklatura.matching import LogicV2

    peer = common.PeerScorer(LogicV2)
    common._WORK.update(retriever=Retriever(entities), peer=peer)
    t = time.perf_counter()
    prow = pmap(_peer_query, list(enumerate(queries)), chunk=25)
    scorers[peer.name] = summarise(prow, queries, latin)
    timings[peer.name] = round(time.perf_counter() - t, 1)
    retriever_recall = sum(r["retrieved"] for r in prow) / len(prow)
    log(f"  {peer.name}: recall@1 {scorers[peer.name]['recall_at_1']:.1%}")
    words = {k: word_figures(v) for k, v in held.items()}
    from qalqan.names.arabic_model import load_model

    payload: dict[str, Any] = {
        "section": "arabic",
        "title": "Arabic-script names of non-Arab people (held-out transliteration pairs) against their Latin spelling",
        "command": ".venv/bin/python -m bench.arabic_eval",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform()},
        "versions": common.versions(),
        "held_out": (
            "word pairs of NETransliteration wd_arabic_20 (the paper's test split) and of the Latin words in "
            "bench.train_arabic's 10% SHA-1 slice; split by Latin word, never trained on"
        ),
        "held_out_pairs": {k: len(v) for k, v in held.items()},
        "names": len(names),
        "words_per_name": "2-3",
        "seed": SEED,
        "model": load_model().meta,
        "thresholds": {"qalqan": threshold, peer.name: peer.threshold},
        "retriever_recall": retriever_recall,
        "scorers": scorers,
        "screening_seconds": timings,
        "word_level": words,
    }
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    RESULT_JSON.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    lines = [
        "# Arabic script beyond the UN list's own names",
        "",
        f"Command: `{payload['command']}` — {payload['date']}, {payload['seconds']}s on {os.cpu_count()} cores.",
        "",
        f"Held out: {payload['held_out']} ({', '.join(f'{k} {v}' for k, v in payload['held_out_pairs'].items())} pairs).",
        f"{len(names)} full names of 2-3 held-out words (seed {SEED}); Latin names indexed as Person entities,",
        "Arabic-script names queried by name only. recall@1: the right entity first (ties share credit);",
        "matched: also at or over the scorer's threshold.",
        "",
        "| scorer | recall@1 | recall@1 and matched |",
        "|---|---|---|",
    ]
    for label, s in scorers.items():
        lines.append(f"| {label} | {s['recall_at_1']:.1%} | {s['recall_at_1_matched']:.1%} |")
    lines += [
        "",
        f"qalqan (rules): the learned model switched off (`qalqan.names.translit.use_arabic_model(False)`).",
        f"logic-v2 re-ranks the neutral retriever's top {common.CANDIDATE_CAP} (retriever recall {retriever_recall:.1%}).",
        "",
        "Learned model alone, held-out words (exact Latin spelling after latinize; top-5; mean normalised similarity):",
        "",
        "| slice | words | exact | top-5 | similarity |",
        "|---|---|---|---|---|",
    ]
    for k, w in words.items():
        lines.append(f"| {k} | {w['words']} | {w['exact']:.1%} | {w['top5']:.1%} | {w['similarity']:.3f} |")
    RESULT_MD.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    log(f"written {RESULT_JSON} and {RESULT_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
