"""Sections (a) and (b): leave-one-out name queries on the UN list.

(a) every GOOD-quality alias of an entity with several names, queried alone (schema only) against
    the index without that alias; (b) every NAME_ORIGINAL_SCRIPT name against the index without it.
recall@1: the right entity ranked first; recall@1-and-matched: also at or over the scorer's
own threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import common
from bench.common import E2E_LIMIT, QALQAN_E2E, Retriever, held_out_folds, log, pmap, top1_credit
from qalqan.model import Entity, Name, NameKind, NameQuality, Query

#: Misses kept per scorer in the result file, for diagnosis.
MISSES_KEPT = 15


def _good_alias(n: Name) -> bool:
    return n.kind is NameKind.ALIAS and n.quality is NameQuality.GOOD


def _original_script(n: Name) -> bool:
    return n.kind is NameKind.ORIGINAL_SCRIPT


def _eval_query(item: tuple[Name, Entity]) -> dict[str, Any]:
    name, target = item
    retriever: Retriever = common._WORK["retriever"]
    screener = common._WORK["screener"]
    scorers = common._WORK["scorers"]
    query = Query(names=(name.value,), schema=target.schema, id=f"q-{target.id}")
    cands = retriever.candidates([name.value], target.schema)
    out: dict[str, Any] = {"query": name.value, "target": target.id, "caption": target.caption}
    out["retrieved"] = any(c.id == target.id for c in cands)
    for s in scorers:
        scores = s.scores(query, cands)
        credit, tscore = top1_credit(target.id, cands, scores)
        best = max(range(len(cands)), key=lambda i: scores[i]) if cands else None
        out[s.name] = {
            "credit": credit,
            "matched": credit if tscore >= s.threshold else 0.0,
            "top": (cands[best].caption, round(scores[best], 3)) if best is not None else None,
        }
    found = screener.match(query, limit=E2E_LIMIT)
    credit, tscore = top1_credit(target.id, [m.entity for m in found], [m.score for m in found])
    top_match = found[0].match if found else False
    out[QALQAN_E2E] = {
        "credit": credit,
        "matched": credit if (tscore >= screener.threshold and top_match) else 0.0,
        "top": (found[0].entity.caption, round(found[0].score, 3)) if found else None,
    }
    return out


def run_loo(entities: list[Entity], select: Callable[[Name], bool]) -> dict[str, Any]:
    scorers = common.rerank_scorers()
    names = [QALQAN_E2E] + [s.name for s in scorers]
    rows: list[dict[str, Any]] = []
    build_s = 0.0
    folds = 0
    for fold_entities, queries in held_out_folds(entities, select):
        if not queries:
            continue
        folds += 1
        t = time.perf_counter()
        screener = common.build_screener(fold_entities)
        build_s += time.perf_counter() - t
        common._WORK.update(retriever=Retriever(fold_entities), screener=screener, scorers=scorers)
        rows.extend(pmap(_eval_query, queries, chunk=16))
        log(f"  fold {folds}: {len(queries)} queries, {len(rows)} so far")
    n = len(rows)
    result: dict[str, Any] = {
        "queries": n,
        "folds": folds,
        "qalqan_index_builds_seconds": round(build_s, 2),
        "retriever_recall": sum(r["retrieved"] for r in rows) / n if n else 0.0,
        "candidate_cap": common.CANDIDATE_CAP,
        "qalqan_pair_api": scorers[0].api,
        "thresholds": {QALQAN_E2E: scorers[0].threshold, **{s.name: s.threshold for s in scorers}},
        "scorers": {},
    }
    for name in names:
        misses = [
            {"query": r["query"], "target": r["caption"], "top": r[name]["top"]}
            for r in rows
            if r[name]["credit"] < 1.0
        ]
        retrieved = [r for r in rows if r["retrieved"]]
        result["scorers"][name] = {
            "recall_at_1": sum(r[name]["credit"] for r in rows) / n if n else 0.0,
            # on the queries whose entity the neutral retriever found: the re-rankers' own ceiling
            "recall_at_1_when_retrieved": sum(r[name]["credit"] for r in retrieved) / len(retrieved) if retrieved else 0.0,
            "recall_at_1_matched": sum(r[name]["matched"] for r in rows) / n if n else 0.0,
            "misses": len(misses),
            "miss_examples": misses[:MISSES_KEPT],
        }
    return result


def section_a(entities: list[Entity]) -> dict[str, Any]:
    return run_loo(entities, _good_alias)


def section_b(entities: list[Entity]) -> dict[str, Any]:
    return run_loo(entities, _original_script)
