"""Shared benchmark helpers: data loading, FtM proxy conversion, scorers, the neutral candidate
retriever, metrics, timing, parallel map and result files.

Every scorer re-ranks the same candidate set from `Retriever` (yente retrieves with
Elasticsearch and then scores; we have no Elasticsearch, so a neutral, generous inverted index
stands in for it). Qalqan is additionally run end to end through its own index
(`Screener.match`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import math
import multiprocessing as mp
import os
import platform
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
from rigour.text import ascii_text
from rigour.text.phonetics import metaphone

from qalqan.model import Entity, Match, Name, Query

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("QALQAN_SHARED", REPO.parent / "shared" / "data"))
RESULTS_DIR = REPO / "bench" / "results"
UN_XML = SHARED / "un" / "un_consolidated_2026-02-27.xml"
NEGATIVES_CSV = SHARED / "matching" / "yente_candidate_generation" / "negatives_us.csv"
CONGRESS_CSV = SHARED / "matching" / "yente_candidate_generation" / "positives_us_congress_untreated.csv"
CANADA_XML = SHARED / "national" / "canada_sema_consolidated_autonomous_sanctions.xml"
NK_CASES_CSV = SHARED / "matching" / "opensanctions" / "nomenklatura_name_bench_cases.csv"
CROSS_SCRIPT_CSV = SHARED / "matching" / "watchman" / "cross_script_pairs.csv"

#: yente's default match threshold (yente/settings.py SCORE_THRESHOLD = 0.70): a result is a
#: "match" when its logic-v1 / logic-v2 score is >= this. nomenklatura itself defines none.
PEER_THRESHOLD = 0.70
#: Candidates every scorer re-ranks per query: the retriever's top N by shared-key IDF.
CANDIDATE_CAP = 100
#: Row name of Qalqan screened end to end (its own index), beside the re-rankers.
QALQAN_E2E = "qalqan"
#: Results Qalqan's end-to-end match returns; recall@1 reads rank 1, alerting reads any `match`.
E2E_LIMIT = 5
#: Seed for every generated sample, so runs are comparable.
SEED = 20260227

T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedEntities:
    entities: list[Entity]
    reader: str  # which reader produced them, written into every result


def load_list(path: Path, fmt: str = "un") -> LoadedEntities:
    """Read a list with Qalqan's own reader, as every Qalqan user does."""
    from qalqan.sources.registry import read_list

    loaded = read_list(f"{fmt}:{path}")
    return LoadedEntities(list(loaded.entities), "qalqan.sources.registry.read_list")


# --------------------------------------------------------------------------- FtM proxies


#: nomenklatura memoises name analysis with lru_cache keyed on the proxy's id only (logic_v2
#: names/analysis.py), so two different proxies sharing an id would reuse each other's names:
#: every proxy gets a process-unique id suffix.
_PROXY_IDS = itertools.count()


def make_proxy(schema: str, props: dict[str, list[str]], proxy_id: str) -> Any:
    from followthemoney import model

    proxy = model.make_entity(schema)
    proxy.id = f"{proxy_id}.{next(_PROXY_IDS)}"
    for prop, values in props.items():
        # quiet: Entity.properties() may carry properties a schema lacks (e.g. program on
        # Vessel); they cannot influence a name scorer, so dropping them is harmless.
        proxy.add(prop, values, quiet=True)
    return proxy


def entity_proxy(entity: Entity) -> Any:
    return make_proxy(entity.schema, entity.properties(), entity.id)


def query_props(query: Query) -> dict[str, list[str]]:
    props: dict[str, list[str]] = {"name": list(query.names)}
    if query.birth_dates:
        props["birthDate"] = [d.iso() for d in query.birth_dates]
    if query.nationalities:
        props["nationality"] = list(query.nationalities)
    if query.countries:
        props["country"] = list(query.countries)
    if query.gender:
        props["gender"] = [query.gender]
    for doc in query.documents:
        passport = bool(doc.type and "passport" in doc.type.lower())
        props.setdefault("passportNumber" if passport else "idNumber", []).append(doc.number)
    return props


def query_proxy(query: Query, schema: str | None = None) -> Any:
    return make_proxy(schema or query.schema, query_props(query), query.id or "query")


# --------------------------------------------------------------------------- scorers


class Scorer(Protocol):
    """Scores one query against given candidates (the re-ranking half of a screening engine)."""

    name: str
    threshold: float

    def scores(self, query: Query, candidates: Sequence[Entity]) -> list[float]: ...


class PeerScorer:
    """nomenklatura's LogicV1 / LogicV2 with its default configuration, as yente runs it."""

    def __init__(self, algorithm: Any, threshold: float = PEER_THRESHOLD):
        self.algorithm = algorithm
        self.name: str = algorithm.NAME
        self.threshold = threshold
        self.config = algorithm.default_config()
        # Candidate proxies are built once per Entity object (folds create new objects for the
        # entities they change, so a held-out name never leaks through the cache).
        self._proxies: dict[int, tuple[Entity, Any]] = {}

    def proxy(self, entity: Entity) -> Any:
        hit = self._proxies.get(id(entity))
        if hit is None or hit[0] is not entity:
            hit = (entity, entity_proxy(entity))
            self._proxies[id(entity)] = hit
        return hit[1]

    def scores(self, query: Query, candidates: Sequence[Entity], schema: str | None = None) -> list[float]:
        qp = query_proxy(query, schema)
        return [float(self.algorithm.compare(qp, self.proxy(c), self.config).score) for c in candidates]


def qalqan_pair_function() -> tuple[str, Callable[[Query, Entity], Match | None]]:
    """Qalqan's pairwise scorer: `qalqan.matching.score_pair` when the engine exposes it, else a
    one-entity Screener (same scores, slower)."""
    for module in ("qalqan.matching", "qalqan.matching.screener"):
        found = getattr(importlib.import_module(module), "score_pair", None)
        if found is not None:
            return f"{module}.score_pair", found
    from qalqan.matching.screener import Screener

    def one_entity(query: Query, entity: Entity) -> Match | None:
        hits = Screener([entity]).match(query, limit=1)
        return hits[0] if hits else None

    return "Screener([entity]).match (score_pair missing)", one_entity


def qalqan_threshold() -> float:
    """The threshold a default Screener applies (whatever the engine's calibration set)."""
    dummy = Entity("bench-0", "Person", "bench", "0", (Name("Bench Dummy"),))
    return float(build_screener([dummy]).threshold)


class QalqanPairScorer:
    """Qalqan's scorer on the shared candidates (without its own retrieval)."""

    name = "qalqan-rerank"

    def __init__(self) -> None:
        self.threshold = qalqan_threshold()
        self.api, self._pair = qalqan_pair_function()

    def scores(self, query: Query, candidates: Sequence[Entity], schema: str | None = None) -> list[float]:
        out = []
        for c in candidates:
            m = self._pair(query, c)
            out.append(m.score if m is not None else 0.0)
        return out


def peer_scorers() -> list[PeerScorer]:
    from nomenklatura.matching import LogicV1, LogicV2

    return [PeerScorer(LogicV2), PeerScorer(LogicV1)]


def rerank_scorers() -> list[Any]:
    """All scorers that re-rank the neutral candidates, Qalqan's first."""
    return [QalqanPairScorer(), *peer_scorers()]


def build_screener(entities: Iterable[Entity]) -> Any:
    from qalqan.matching.screener import Screener

    return Screener(list(entities))


# --------------------------------------------------------------------------- retriever

_SPLIT = re.compile(r"[\W_]+")
#: Tokens shorter than this are initials / particles: too unselective to retrieve on.
MIN_TOKEN = 2


def _skeleton(token: str) -> str:
    """Consonant skeleton: vowels dropped and doubled letters merged, so "mohammed" meets the
    vowel-less ASCII form of Arabic-script "محمد" ("mhmd")."""
    out: list[str] = []
    for ch in token:
        if ch in "aeiouy" or (out and out[-1] == ch):
            continue
        out.append(ch)
    return "".join(out)


@lru_cache(maxsize=200_000)
def name_keys(name: str, schema: str = "Person") -> frozenset[str]:
    """Retrieval keys of a name: its ASCII tokens, their metaphone codes and consonant
    skeletons, adjacent-token joins (so "Abdul Rahman" meets "Abdulrahman"), and rigour's name
    symbols (cross-script name identities, as nomenklatura's own name tagging finds them).
    Deliberately generous: recall over precision."""
    from followthemoney.names import entity_names

    tokens = [t for t in _SPLIT.split(ascii_text(name).lower()) if len(t) >= MIN_TOKEN]
    keys = set(tokens)
    for tok in tokens:
        for prefix, code in (("~", metaphone(tok)), ("^", _skeleton(tok))):
            if len(code) >= MIN_TOKEN:
                keys.add(prefix + code)
    for a, b in zip(tokens, tokens[1:]):
        keys.add(a + b)
    for tagged in entity_names(make_proxy(schema, {"name": [name]}, "keys")):
        keys.update(f"${sym.category}:{sym.id}" for sym in tagged.symbols)
    return frozenset(keys)


class Retriever:
    """Neutral candidate generation shared by all scorers: entities sharing any name key with the
    query, ranked by the summed IDF of the shared keys, top `cap`."""

    def __init__(self, entities: Sequence[Entity], cap: int = CANDIDATE_CAP):
        self.entities = list(entities)
        self.cap = cap
        postings: dict[str, set[int]] = defaultdict(set)
        for i, e in enumerate(self.entities):
            for n in e.names:
                for k in name_keys(n.value, e.schema):
                    postings[k].add(i)
        total = len(self.entities)
        self._postings = {k: (math.log(1 + total / len(v)), tuple(v)) for k, v in postings.items()}

    def candidates(self, names: Iterable[str], schema: str = "Person") -> list[Entity]:
        keys: set[str] = set()
        for n in names:
            keys |= name_keys(n, schema)
        acc: dict[int, float] = defaultdict(float)
        for k in keys:
            hit = self._postings.get(k)
            if hit is not None:
                idf, ids = hit
                for i in ids:
                    acc[i] += idf
        best = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[: self.cap]
        return [self.entities[i] for i, _ in best]


# --------------------------------------------------------------------------- metrics


def top1_credit(target_id: str, candidates: Sequence[Entity], scores: Sequence[float]) -> tuple[float, float]:
    """(rank-1 credit, score of the target). Ties at the top share the credit (1/k for a k-way
    tie: the expected hit rate of a random tie-break), so ties neither help nor hurt."""
    target = next((s for c, s in zip(candidates, scores) if c.id == target_id), None)
    if target is None or not scores:
        return 0.0, 0.0
    best = max(scores)
    if target < best:
        return 0.0, target
    tied = sum(1 for s in scores if s == best)
    return 1.0 / tied, target


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- folds


def held_out_folds(
    entities: Sequence[Entity], select: Callable[[Name], bool]
) -> Iterator[tuple[list[Entity], list[tuple[Name, Entity]]]]:
    """Leave-one-out folds without rebuilding per query: fold k removes the k-th selected name of
    every entity that has one (and keeps at least one other name), so each fold holds out one name
    from many different entities at once. Queries never see their own name in the index, and no
    entity loses more than one name per fold. Yields (fold's entity list, [(held-out name, the
    entity it belongs to in the fold)])."""
    selected = [[n for n in e.names if select(n)] for e in entities]
    folds = max((len(s) for s in selected), default=0)
    for k in range(folds):
        fold_entities: list[Entity] = []
        queries: list[tuple[Name, Entity]] = []
        for e, sel in zip(entities, selected):
            if len(sel) > k and len(e.names) >= 2:
                held = sel[k]
                kept = tuple(n for n in e.names if n is not held)
                variant = replace(e, names=kept)
                fold_entities.append(variant)
                queries.append((held, variant))
            else:
                fold_entities.append(e)
        yield fold_entities, queries


# --------------------------------------------------------------------------- parallel map

_WORK: dict[str, Any] = {}


def _call(args: tuple[Callable[[Any], Any], list[Any]]) -> list[Any]:
    func, chunk = args
    return [func(x) for x in chunk]


def pmap(func: Callable[[T], R], items: Sequence[T], processes: int | None = None, chunk: int = 64) -> list[R]:
    """Order-preserving map over forked workers. `func` must be a module-level function; state it
    needs goes in `bench.common._WORK` before the call (forked children inherit it)."""
    processes = processes or min(2, os.cpu_count() or 1)
    if processes <= 1 or len(items) < 2 * chunk:
        return [func(x) for x in items]
    chunks = [(func, list(items[i : i + chunk])) for i in range(0, len(items), chunk)]
    with mp.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_call, chunks)
    return [r for part in parts for r in part]


# --------------------------------------------------------------------------- results


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("qalqan", "nomenklatura", "followthemoney", "rigour", "rapidfuzz"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo; `platform.processor()` is often empty on
    Linux): speed figures are only comparable on the same processor."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_result(section: str, title: str, data: dict[str, Any], started: float) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "section": section,
        "title": title,
        "command": "python -m bench.run " + " ".join(sys.argv[1:]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "cpu": cpu_model(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "versions": versions(),
        **data,
    }
    path = RESULTS_DIR / f"{section}.json"
    path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return path


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
