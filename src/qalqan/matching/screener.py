"""The Screener: lists in, ranked and explained matches out.

Built once per set of list versions (compiling every entity and indexing its names), then
read-only: safe to share between threads, and between processes forked after it is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields

from qalqan.matching.compiled import Compiled, compile_entity, compile_query, weigh
from qalqan.matching.config import MatchConfig, load_config
from qalqan.matching.features import (
    COMPATIBLE_SCHEMATA,
    NamePair,
    SimilarityMemo,
    best_name_pair,
    explain_name_pair,
    query_memo_rows,
)
from qalqan.matching.index import NameIndex, Rarity
from qalqan.matching.scorer import evidence, max_support, score, total
from qalqan.model import Entity, FeatureResult, ListInfo, Match, Query


class Screener:
    """Screens queries against one or more loaded lists."""

    def __init__(
        self,
        entities: Iterable[Entity],
        lists: Sequence[ListInfo] = (),
        threshold: float | None = None,
        config: MatchConfig | None = None,
        rarity: Rarity | None = None,
    ):
        """`rarity` (optional) replaces the token rarity computed from `entities`: a screener
        over the entities a list version added or amended, given the whole list's rarity,
        scores each of them exactly as a screener over the whole list does."""
        self.config = config or load_config()
        self.threshold = self.config.threshold if threshold is None else threshold
        self.lists: list[ListInfo] = list(lists)
        self._entities: list[Entity] = []
        self._by_id: dict[str, int] = {}
        for entity in entities:
            if entity.id in self._by_id:
                raise ValueError(f"duplicate entity id {entity.id!r}")
            self._by_id[entity.id] = len(self._entities)
            self._entities.append(entity)
        self._compiled: list[Compiled] = [compile_entity(e) for e in self._entities]
        self.index = NameIndex(self._compiled, self.config, rarity)
        rarity, particle, initial = self.index.rarity, self.config.particle_weight, self.config.initial_weight
        compiled = self._compiled
        for i, record in enumerate(compiled):  # in place: the unweighted records go as we go
            compiled[i] = weigh(record, rarity, particle, initial)
        self._memo: SimilarityMemo = {}
        self._evidence_memo: dict[tuple[str, int], tuple[FeatureResult, ...]] = {}

    @classmethod
    def from_lists(cls, specs: Sequence[str], threshold: float | None = None) -> "Screener":
        """Load lists by spec ("PATH" or "FORMAT:PATH"); raises ListError if any is unusable."""
        from qalqan.sources.registry import read_list  # adapters call inward; this is a convenience

        loaded = [read_list(spec) for spec in specs]
        return cls([e for item in loaded for e in item.entities], [item.info for item in loaded], threshold)

    def _names_only_evidence(self, query: Compiled, idx: int) -> tuple[FeatureResult, ...]:
        """The evidence features of a names-only query against candidate `idx`. They read no
        name, and the query gives only its schema beyond its names, so they are the same for
        every names-only query of that schema: worked out once per (schema, candidate) and
        kept (bounded; dropped whole when full)."""
        key = (query.schema, idx)
        found = self._evidence_memo.get(key)
        if found is None:
            if len(self._evidence_memo) >= _EVIDENCE_MEMO:
                self._evidence_memo.clear()
            found = self._evidence_memo[key] = evidence(query, self._compiled[idx], self.config)
        return found

    def __getstate__(self) -> dict[str, object]:
        # Memos are rebuilt as queries come: a cached or shipped screener starts without them.
        state = {name: getattr(self, name) for name in self.__dict__}
        state["_memo"], state["_evidence_memo"] = {}, {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self._entities)

    def get(self, entity_id: str) -> Entity | None:
        idx = self._by_id.get(entity_id)
        return None if idx is None else self._entities[idx]

    def entities(self) -> Iterable[Entity]:
        return iter(self._entities)

    def match(
        self,
        query: Query,
        *,
        limit: int = 5,
        threshold: float | None = None,
        lists: Sequence[str] | None = None,
        cutoff: float = 0.0,
    ) -> list[Match]:
        """Best candidates first, at most `limit`; `match` is set at `threshold` (default:
        the calibrated one). Candidates scoring 0, or below `cutoff`, are not returned (and
        not fully scored when their name alone shows they cannot reach it)."""
        threshold = self.threshold if threshold is None else threshold
        cq = weigh(compile_query(query), self.index.rarity, self.config.particle_weight, self.config.initial_weight)
        if not cq.names:
            return []
        allowed = COMPATIBLE_SCHEMATA[query.schema]
        wanted = frozenset(lists) if lists else None
        entities = self._entities

        def accept(idx: int) -> bool:
            entity = entities[idx]
            return entity.schema in allowed and (wanted is None or entity.list in wanted)

        tokens = [t for name in cq.names for t in name.tokens]
        shortlist, relevant, floor = self.index.candidates(
            tokens,
            max(limit, self.config.candidates),
            accept,
            cq.exact_keys,
            [n.squeezed for n in cq.names if n.squeezed],
            [n.tokens for n in cq.names],
        )
        # Stage 1: the name alone, for every candidate worth scoring.
        top_gain = shortlist[0][1] if shortlist else 0.0
        staged = []
        rows = query_memo_rows(cq, self._memo)
        for rank, (idx, gain) in enumerate(shortlist):
            if gain < floor or (rank >= limit and gain < self.config.retrieval_ratio * top_gain):
                break  # ordered by gain: the rest share too little of the query to rank
            pair = best_name_pair(cq, self._compiled[idx], self.config, self._memo, relevant, rows)
            staged.append((pair[0] if pair else 0.0, idx, pair))
        staged.sort(key=lambda item: -item[0])
        # Stage 2: evidence, best names first, until no name score plus all the support evidence
        # can give could still reach the `limit` best totals found. A query of names alone has
        # no evidence for or against any candidate (every evidence feature needs the query's
        # side of it; the shortlist holds compatible schemata only): its totals are its name
        # scores, and its evidence is built for the results returned only.
        names_only = _names_only(cq)
        support = 0.0 if names_only else max_support(cq, self.config)
        scored: list[tuple[float, str, int, NamePair, tuple[FeatureResult, ...] | None]] = []
        totals: list[float] = []
        for name_score, idx, pair in staged:
            if name_score + support < cutoff or (len(totals) >= limit and name_score + support < totals[limit - 1]):
                break
            found = None if names_only else evidence(cq, self._compiled[idx], self.config)
            value = min(1.0, max(0.0, name_score)) if found is None else total(name_score, found)
            if value > 0.0 and value >= cutoff:
                scored.append((value, entities[idx].id, idx, pair, found))
                totals.append(value)
                totals.sort(reverse=True)
        scored.sort(key=lambda item: (-item[0], item[1]))
        # Stage 3: the name's token alignment, each token as written, for the results returned only.
        results = []
        for value, _, idx, pair, found in scored[:limit]:
            record = self._compiled[idx]
            if found is None:
                found = self._names_only_evidence(cq, idx)
            name = explain_name_pair(cq, record, pair, self.config, self._memo)
            results.append(Match(entities[idx], value, value >= threshold, (name, *found)))
        return results


#: Evidence of names-only queries kept per (schema, candidate), at most this many (~1.5 KB each).
_EVIDENCE_MEMO = 50_000
#: `Compiled` fields that are not evidence (every other one, shown values included, is empty
#: in a names-only query).
_NOT_EVIDENCE = frozenset({"schema", "names"})
_EVIDENCE_FIELDS = tuple(f.name for f in fields(Compiled) if f.name not in _NOT_EVIDENCE)


def _names_only(query: Compiled) -> bool:
    """Whether the query gives nothing but names (no date, country, document, gender, vessel
    id...: every other field of `Compiled`, including any added later, is empty)."""
    return not any(getattr(query, name) for name in _EVIDENCE_FIELDS)


def score_pair(query: Query, entity: Entity, config: MatchConfig | None = None, threshold: float | None = None) -> Match:
    """Score one query against one entity with no list around it (every token equally rare)."""
    config = config or load_config()
    threshold = config.threshold if threshold is None else threshold
    value, explanation = score(compile_query(query), compile_entity(entity), config)
    return Match(entity, value, value >= threshold, explanation)
