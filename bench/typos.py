"""Section (t): listed names as other systems and hands write them — typos and reordering.

For a seeded sample of the UN list's people and organisations, the primary (Latin) name is
rewritten one way per query, as real input does:

- ``transpose``: two adjacent letters of one word swapped (Ahmad / Amhad);
- ``edit``: one letter of a word of 5+ letters dropped, doubled or replaced by a neighbour on the
  keyboard;
- ``comma``: "FAMILY, Given" (the last word first, upper case, then a comma: how OFAC and bank
  core systems store names); people only;
- ``comma_prefix``: as ``comma``, where a glue prefix (Abdul, Abu ...) stands alone in the given
  field; people whose name holds such a prefix only;
- ``shuffle``: the words in another order;
- ``boundary``: one letter moved across the boundary of two adjacent words (Myong-chin /
  Myongc-hin);
- ``join_split``: two adjacent words written together, or a word of 6+ letters split in two.

Every query is screened against the whole list (its target is in it, under the original name);
qalqan end to end, and qalqan-rerank / logic-v2 / logic-v1 on the same neutral candidates, as in
sections (a) and (b). The perturbations are generic string operations: nothing here knows a
particular name.
"""

from __future__ import annotations

import random
from typing import Any

from bench import common
from bench.common import E2E_LIMIT, QALQAN_E2E, Retriever, log, pmap, top1_credit
from qalqan.model import Entity, NameKind, Query

#: Entities sampled (each gives one query per applicable kind).
SAMPLE = 400
KINDS = ("transpose", "edit", "comma", "comma_prefix", "shuffle", "boundary", "join_split")
_PREFIXES = ("abdul", "abdel", "abd", "abu", "abou", "umm")
_KEYBOARD = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def _latin_primary(entity: Entity) -> str | None:
    for n in entity.names:
        if n.kind is NameKind.PRIMARY and n.value.isascii():
            words = n.value.split()
            if len(words) >= 2 and all(any(ch.isalpha() for ch in w) for w in words):
                return " ".join(words)
    return None


def _word_at(words: list[str], rng: random.Random, min_len: int) -> int | None:
    fit = [i for i, w in enumerate(words) if len(w) >= min_len and w.isalpha()]
    return rng.choice(fit) if fit else None


def perturb(name: str, kind: str, rng: random.Random, schema: str) -> str | None:
    """`name` rewritten by `kind`, or None where the kind does not apply to it."""
    words = name.split()
    if kind == "transpose":
        i = _word_at(words, rng, 4)
        if i is None:
            return None
        w = words[i]
        k = rng.randrange(1, len(w) - 1)
        if w[k].lower() == w[k + 1].lower():
            return None
        words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    elif kind == "edit":
        i = _word_at(words, rng, 5)
        if i is None:
            return None
        w = words[i]
        k = rng.randrange(1, len(w))
        op = rng.choice(("drop", "double", "neighbour"))
        if op == "drop":
            words[i] = w[:k] + w[k + 1 :]
        elif op == "double":
            words[i] = w[:k] + w[k] + w[k:]
        else:
            near = _KEYBOARD.get(w[k].lower())
            if not near:
                return None
            sub = rng.choice(near)
            words[i] = w[:k] + (sub.upper() if w[k].isupper() else sub) + w[k + 1 :]
    elif kind in ("comma", "comma_prefix"):
        if schema != "Person":
            return None
        given, family = words[:-1], words[-1]
        if kind == "comma_prefix":
            at = next((j for j, w in enumerate(words[:-1]) if w.lower().strip("-") in _PREFIXES), None)
            if at is None:
                return None
            # the given field ends with the prefix: the rest of the name went to the family field
            given, family = words[: at + 1], " ".join(words[at + 1 :])
        return f"{family.upper()}, {' '.join(given)}"
    elif kind == "shuffle":
        if len(words) < 3:
            words = words[::-1]
        else:
            before = list(words)
            while words == before:
                rng.shuffle(words)
    elif kind == "boundary":
        pairs = [j for j in range(len(words) - 1) if len(words[j]) >= 3 and len(words[j + 1]) >= 3 and words[j].isalpha() and words[j + 1].isalpha()]
        if not pairs:
            return None
        j = rng.choice(pairs)
        a, b = words[j], words[j + 1]
        if rng.random() < 0.5:
            words[j], words[j + 1] = a + b[0].lower(), b[1:].capitalize()
        else:
            words[j], words[j + 1] = a[:-1], a[-1].upper() + b.lower()
    elif kind == "join_split":
        if len(words) >= 3 and rng.random() < 0.5:
            j = rng.randrange(len(words) - 1)
            words[j : j + 2] = [words[j] + words[j + 1].lower()]
        else:
            i = _word_at(words, rng, 6)
            if i is None:
                return None
            w = words[i]
            k = rng.randrange(3, len(w) - 2)
            words[i : i + 1] = [w[:k], w[k:].capitalize()]
    else:
        raise ValueError(kind)
    out = " ".join(words)
    return out if out != name else None


def make_queries(entities: list[Entity], sample: int = SAMPLE, seed: int = common.SEED) -> list[tuple[str, str, Entity]]:
    """(kind, perturbed name, target) for a seeded sample of entities with a Latin primary name."""
    rng = random.Random(seed)
    fit = [e for e in entities if e.schema in ("Person", "Organization") and _latin_primary(e)]
    picked = rng.sample(fit, min(sample, len(fit)))
    out: list[tuple[str, str, Entity]] = []
    for e in picked:
        name = _latin_primary(e)
        assert name is not None
        for kind in KINDS:
            q = perturb(name, kind, rng, e.schema)
            if q:
                out.append((kind, q, e))
    return out


def _eval(item: tuple[str, str, Entity]) -> dict[str, Any]:
    kind, name, target = item
    retriever: Retriever = common._WORK["retriever"]
    screener = common._WORK["screener"]
    query = Query(names=(name,), schema=target.schema, id=f"t-{target.id}")
    cands = retriever.candidates([name], target.schema)
    out: dict[str, Any] = {"kind": kind, "query": name, "caption": target.caption, "retrieved": any(c.id == target.id for c in cands)}
    for s in common._WORK["scorers"]:
        scores = s.scores(query, cands)
        credit, tscore = top1_credit(target.id, cands, scores)
        out[s.name] = {"credit": credit, "matched": credit if tscore >= s.threshold else 0.0}
    found = screener.match(query, limit=E2E_LIMIT)
    credit, tscore = top1_credit(target.id, [m.entity for m in found], [m.score for m in found])
    out[QALQAN_E2E] = {"credit": credit, "matched": credit if tscore >= screener.threshold else 0.0,
                       "top": (found[0].entity.caption, round(found[0].score, 3)) if found else None}
    return out


def section_t(entities: list[Entity]) -> dict[str, Any]:
    scorers = common.rerank_scorers()
    queries = make_queries(entities)
    log(f"  {len(queries)} perturbed queries")
    common._WORK.update(retriever=Retriever(entities), screener=common.build_screener(entities), scorers=scorers)
    rows = pmap(_eval, queries, chunk=16)
    names = [QALQAN_E2E] + [s.name for s in scorers]

    def summary(subset: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
        n = len(subset) or 1
        return {s: {"recall_at_1": sum(r[s]["credit"] for r in subset) / n,
                    "recall_at_1_matched": sum(r[s]["matched"] for r in subset) / n} for s in names}

    return {
        "queries": len(rows),
        "sample_entities": SAMPLE,
        "retriever_recall": sum(r["retrieved"] for r in rows) / len(rows) if rows else 0.0,
        "candidate_cap": common.CANDIDATE_CAP,
        "thresholds": {QALQAN_E2E: scorers[0].threshold, **{s.name: s.threshold for s in scorers}},
        "scorers": summary(rows),
        "kinds": {k: {"queries": sum(r["kind"] == k for r in rows), "scorers": summary([r for r in rows if r["kind"] == k])} for k in KINDS},
        "miss_examples": [{"kind": r["kind"], "query": r["query"], "target": r["caption"], "top": r[QALQAN_E2E]["top"]}
                          for r in rows if r[QALQAN_E2E]["matched"] < 1.0][:30],
    }
