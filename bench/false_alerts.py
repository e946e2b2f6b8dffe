"""Section (d): false-alert rate of non-listed people against the UN list.

Each of the 50,000 synthetic non-listed persons in yente's `negatives_us.csv` (name, birth date,
nationality, gender) is screened against the whole UN list; a person raises an alert when any
candidate is a `match` at the scorer's default threshold. `alert_rate` is also used by (e).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from bench import common
from bench.common import E2E_LIMIT, QALQAN_E2E, Retriever, log, pmap
from qalqan.model import Entity, Query
from qalqan.sources.values import country_code, parse_date

#: False alerts listed per scorer (highest scores first), for diagnosis.
TOP_ALERTS = 10
#: logic-v2 costs ~130 ms per negative here (about 12 shared candidates of ~7 ms each), so all
#: 50,000 side by side take about an hour on 2 cores; a seeded 10% sample keeps the section
#: within minutes (`--full` runs all of them). Qalqan end to end always screens all 50,000.
SIDE_BY_SIDE_SAMPLE = 5_000


def negative_queries(path: Path) -> list[Query]:
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            nat = country_code(row["nationality"]) if row["nationality"] else None
            gender = row["gender"] if row["gender"] in ("male", "female", "other") else None
            out.append(
                Query(
                    names=(row["full_name"],),
                    schema="Person",
                    id=f"neg-{i}",
                    birth_dates=(parse_date(row["date_of_birth"]),) if row["date_of_birth"] else (),
                    nationalities=(nat,) if nat else (),
                    gender=gender,
                )
            )
    return out


def _describe(q: Query) -> str:
    extra = [str(d) for d in q.birth_dates] + list(q.nationalities) + ([q.gender] if q.gender else [])
    return q.names[0] + (f" ({', '.join(extra)})" if extra else "")


def _eval_query(query: Query) -> dict[str, Any]:
    retriever: Retriever = common._WORK["retriever"]
    screener = common._WORK["screener"]
    scorers = common._WORK["scorers"]
    cands = retriever.candidates(query.names, query.schema) if scorers else []
    out: dict[str, Any] = {"candidates": len(cands)}
    for s in scorers:
        scores = s.scores(query, cands)
        best = max(range(len(cands)), key=lambda i: scores[i]) if cands else -1
        alert = best >= 0 and scores[best] >= s.threshold
        out[s.name] = (alert, (cands[best].id, cands[best].caption, round(scores[best], 4)) if alert else None)
    found = screener.match(query, limit=E2E_LIMIT)
    hits = [m for m in found if m.match]
    out[QALQAN_E2E] = (bool(hits), (hits[0].entity.id, hits[0].entity.caption, round(hits[0].score, 4)) if hits else None)
    return out


def alert_rate(entities: list[Entity], queries: list[Query], rerank: bool = True) -> dict[str, Any]:
    """Screen `queries` (all non-listed) against `entities`; the share raising any alert.
    `rerank=False` runs only Qalqan end to end."""
    scorers = common.rerank_scorers() if rerank else []
    common._WORK.update(retriever=Retriever(entities), screener=common.build_screener(entities), scorers=scorers)
    rows = pmap(_eval_query, queries, chunk=128)
    n = len(rows)
    out: dict[str, Any] = {
        "queries": n,
        "mean_candidates": sum(r["candidates"] for r in rows) / n if n else 0.0,
        "candidate_cap": common.CANDIDATE_CAP,
        "qalqan_pair_api": scorers[0].api if scorers else None,
        "thresholds": {QALQAN_E2E: common.qalqan_threshold(), **{s.name: s.threshold for s in scorers}},
        "scorers": {},
    }
    for name in [QALQAN_E2E] + [s.name for s in scorers]:
        alerts = [(q, r[name][1]) for q, r in zip(queries, rows) if r[name][0]]
        alerts.sort(key=lambda a: -a[1][2])
        out["scorers"][name] = {
            "alerts": len(alerts),
            "alert_rate": len(alerts) / n if n else 0.0,
            "top_alerts": [
                {"query": _describe(q), "candidate": f"{hit[1]} [{hit[0]}]", "score": hit[2]} for q, hit in alerts[:TOP_ALERTS]
            ],
        }
    return out


def section_d(entities: list[Entity], full: bool = False) -> dict[str, Any]:
    """All scorers side by side on a seeded sample (all 50,000 with `full`); Qalqan end to end
    always on all 50,000."""
    queries = negative_queries(common.NEGATIVES_CSV)
    sample = queries if full else random.Random(common.SEED).sample(queries, SIDE_BY_SIDE_SAMPLE)
    log(f"  side by side: {len(sample)} of {len(queries)} non-listed people")
    result = alert_rate(entities, sample)
    result["sampled_from"] = len(queries)
    if not full:
        log(f"  qalqan end to end: all {len(queries)}")
        everyone = alert_rate(entities, queries, rerank=False)
        result["qalqan_all"] = everyone["scorers"][QALQAN_E2E] | {"queries": everyone["queries"]}
    return result
