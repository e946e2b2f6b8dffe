"""Section (c): precision, recall and F1 on labelled name pairs, at each scorer's default threshold.

- nomenklatura's name_bench cases (name1 vs name2 with schema, is_match);
- watchman's cross-script pairs: every listed pair is a positive; negatives pair each query with
  every other pair's expected name (skipping an expected name equal to the query's own, e.g. the
  two "Kim Jong Un" rows).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bench import common
from bench.common import PEER_THRESHOLD, log, pmap, prf
from qalqan.model import Entity, Name, Query

#: nomenklatura's pair schemata that Qalqan's model names differently (FtM Company is an
#: Organization in Qalqan's four-schema model). The peers get the original schema.
QALQAN_SCHEMA = {"Company": "Organization"}
#: Errors kept per scorer and dataset in the result file, for diagnosis.
ERRORS_KEPT = 10


def nomenklatura_cases(path: Path) -> list[tuple[str, str, str, bool]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            (r["schema"], r["name1"], r["name2"], r["is_match"].strip().lower() == "true")
            for r in csv.DictReader(fh)
        ]


def cross_script_cases(path: Path) -> list[tuple[str, str, str, bool]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    pairs = [(row[0].strip(), row[1].strip()) for row in csv.reader(io.StringIO("\n".join(lines)))]
    cases = [("Person", q, e, True) for q, e in pairs]
    for q, own in pairs:
        for _, other in pairs:
            if other.lower() != own.lower():
                cases.append(("Person", q, other, False))
    return cases


def _eval_pair(case: tuple[str, str, str, bool]) -> dict[str, Any]:
    schema, name1, name2, _ = case
    pair_fn = common._WORK["pair_fn"]
    peers = common._WORK["peers"]
    qschema = QALQAN_SCHEMA.get(schema, schema)
    out: dict[str, Any] = {}
    m = pair_fn(Query(names=(name1,), schema=qschema), Entity("pair", qschema, "bench", "pair", (Name(name2),)))
    out["qalqan"] = (m.score, m.match) if m is not None else (0.0, False)
    qp = common.make_proxy(schema, {"name": [name1]}, "q")
    cp = common.make_proxy(schema, {"name": [name2]}, "c")
    for p in peers:
        score = float(p.algorithm.compare(qp, cp, p.config).score)
        out[p.name] = (score, score >= p.threshold)
    return out


def score_cases(cases: list[tuple[str, str, str, bool]]) -> dict[str, Any]:
    results = pmap(_eval_pair, cases, chunk=32)
    names = ["qalqan"] + [p.name for p in common._WORK["peers"]]
    out: dict[str, Any] = {"pairs": len(cases), "positives": sum(c[3] for c in cases), "scorers": {}}
    for name in names:
        tp = fp = fn = tn = 0
        errors: list[dict[str, Any]] = []
        for case, res in zip(cases, results):
            score, predicted = res[name]
            truth = case[3]
            tp += truth and predicted
            fp += (not truth) and predicted
            fn += truth and not predicted
            tn += (not truth) and not predicted
            if truth != predicted and len(errors) < ERRORS_KEPT:
                errors.append({"name1": case[1], "name2": case[2], "is_match": truth, "score": round(score, 3)})
        out["scorers"][name] = {"tp": tp, "fp": fp, "fn": fn, "tn": tn, **prf(tp, fp, fn), "error_examples": errors}
    return out


def section_c() -> dict[str, Any]:
    api, pair_fn = common.qalqan_pair_function()
    peers = common.peer_scorers()
    common._WORK.update(pair_fn=pair_fn, peers=peers)
    out: dict[str, Any] = {
        "qalqan_pair_api": api,
        "thresholds": {"qalqan": common.qalqan_threshold(), **{p.name: p.threshold for p in peers}},
        "datasets": {},
    }
    for key, path, loader in (
        ("nomenklatura_name_bench", common.NK_CASES_CSV, nomenklatura_cases),
        ("watchman_cross_script", common.CROSS_SCRIPT_CSV, cross_script_cases),
    ):
        log(f"  {key}")
        out["datasets"][key] = score_cases(loader(path))
    assert PEER_THRESHOLD == peers[0].threshold
    return out
