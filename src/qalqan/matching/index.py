"""Candidate retrieval: an inverted index from name-token keys to entities, built once per list
version, so a query's cost grows with its candidates and not with the list.

Two levels. The *vocabulary* (distinct token keys of all indexed names) is small even for a
million entities; fuzzy expansion of a query token (same consonant skeleton, one deletion away)
runs over the vocabulary only. The *postings* map each key to the entities whose names hold it,
as compact integer arrays.
"""

from __future__ import annotations

import heapq
import math
from array import array

import numpy as np
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from qalqan.matching.compiled import Compiled
from qalqan.matching.config import MatchConfig
from qalqan.names.tokens import Token, skeleton

#: Filters candidates by index position (schema compatibility, list selection).
Acceptor = Callable[[int], bool]

#: Similarity credited to a vocabulary key reached by each kind of expansion when ranking
#: candidates (full scoring decides later; these only order the shortlist).
_EXPANSION_SIMILARITY = {"key": 1.0, "skeleton": 0.85, "deletion": 0.8}
#: Above this many postings in a query's expansion, candidates are counted with numpy (its
#: fixed cost, ~0.1 ms, pays off only on long postings: large lists, common names).
_NUMPY_FROM = 1_500
#: Retrieval gain of a shared document number: above any name evidence, so it is always scored.
_DOCUMENT_GAIN = 100.0
#: Weight of an entity's name mass in ranking candidates: small enough to only break ties.
_TIE_BREAK = 1e-6
#: Keys shorter than this get no deletion neighbourhood: "ali" minus a letter is noise.
_MIN_DELETION_KEY = 5
#: Expansions kept per index (query tokens repeat: common given names, family names); the memo
#: is dropped when it grows past this, so memory stays bounded on an endless stream.
_EXPANSION_MEMO = 100_000


def _by_gain_then_index(item: tuple[int, float]) -> tuple[float, int]:
    return item[1], -item[0]


def _variant_gain(shared: float, weight: float, cover: float) -> float:
    """The retrieval gain of a candidate sharing tokens of rarity weight `shared` with a query
    name of weight `weight`: what it shares, times the square root of the share of the name it
    covers; 0 when that share is under `cover`. One name that a candidate holds whole outranks
    scattered tokens of several, and a short name (an acronym in brackets) held whole does not
    outrank most of a long one."""
    if shared <= 0.0 or weight <= 0.0:
        return 0.0
    share = min(shared / weight, 1.0)
    return shared * math.sqrt(share) if share >= cover else 0.0


def _best_variants(
    flat: dict[int, float],
    parts: list[dict[int, float]],
    variants: list[tuple[list[int], float]],
    documents: set[int],
    keep: int,
    accept: Acceptor | None,
    cover: float,
) -> dict[int, float]:
    """Accepted candidates' gains by their best query name (`_variant_gain`), from each
    token's gains (`parts`), for at least the `keep` best. A candidate's flat gain (over every
    token of every name) bounds its gain by any one name, so candidates are taken by flat gain
    and the rest dropped once none of them can reach the `keep` best gains found. Candidates
    covering less than `cover` of every query name are left out (unless they hold a document)."""
    groups = [([parts[slot] for slot in members], weight) for members, weight in variants]
    best: dict[int, float] = {}
    floor: list[float] = []  # min-heap of the `keep` best gains so far
    for idx, bound in sorted(flat.items(), key=itemgetter(1), reverse=True):
        if len(floor) >= keep and bound < floor[0]:
            break
        if accept is not None and not accept(idx):
            continue
        gain = max([_variant_gain(sum([p.get(idx, 0.0) for p in own]), weight, cover) for own, weight in groups])
        if idx in documents:
            gain += _DOCUMENT_GAIN
        elif gain <= 0.0:
            continue  # shares too little of every query name
        best[idx] = gain
        if len(floor) < keep:
            heapq.heappush(floor, gain)
        elif gain > floor[0]:
            heapq.heapreplace(floor, gain)
    return best


def _variant_gains(shared: np.ndarray, weight: float, cover: float) -> np.ndarray:
    """`_variant_gain` over an array of shared weights."""
    if weight <= 0.0:
        return np.zeros_like(shared)
    share = np.minimum(shared / weight, 1.0)
    return np.where(share >= cover, shared * np.sqrt(share), 0.0)


def name_key_sets(names: Iterable[Sequence[Token]]) -> list[dict[str, Token]]:
    """The distinct sets of non-particle token keys of a query's names (each with a token per
    key), in the order the names come: what retrieval counts name by name, and what
    monitoring's prefilter stores name by name to decide the same."""
    distinct: dict[frozenset[str], dict[str, Token]] = {}
    for tokens in names:
        own = {t.key: t for t in tokens if not t.particle}
        if own:
            distinct.setdefault(frozenset(own), own)
    return list(distinct.values())


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


class Rarity:
    """Rarity weight of a token key in [floor, 1]: normalised inverse document frequency over the
    indexed entities. Keys not in the index are as rare as can be (weight 1)."""

    __slots__ = ("_weights",)

    def __init__(self, document_frequency: dict[str, int], entities: int, floor: float):
        scale = math.log(entities + 1.0)
        self._weights: dict[str, float] = {}
        if scale <= 0.0:
            return
        for key, df in document_frequency.items():
            idf = min(1.0, max(0.0, math.log((entities + 1.0) / df) / scale))
            self._weights[key] = floor + (1.0 - floor) * idf

    def __call__(self, token: Token) -> float:
        return self._weights.get(token.key, 1.0)


class NameIndex:
    """Inverted index over the names of compiled entities."""

    def __init__(self, compiled: Sequence[Compiled], config: MatchConfig, rarity: Rarity | None = None):
        """`rarity`, when given, replaces the one computed from `compiled`: a delta index over a
        few changed entities then weighs tokens as the full list does, so its scores equal a
        full screen's."""
        self.config = config
        self.size = len(compiled)
        building: dict[str, list[int]] = defaultdict(list)
        for idx, record in enumerate(compiled):
            keys = {t.key for name in record.names for t in name.tokens if not t.particle}
            for key in keys:
                building[key].append(idx)
        self._postings: dict[str, array] = {k: array("i", v) for k, v in building.items()}
        del building
        self._skeletons: dict[str, list[str]] = defaultdict(list)
        self._deletions: dict[str, list[str]] = defaultdict(list)
        for key in self._postings:
            self._skeletons[skeleton(key)].append(key)
            if len(key) >= _MIN_DELETION_KEY:
                for d in _deletions(key):
                    self._deletions[d].append(key)
        self._documents: dict[str, list[int]] = defaultdict(list)
        for idx, record in enumerate(compiled):
            for number in record.exact_keys:  # document numbers, IMO numbers, MMSIs, call signs
                self._documents[number].append(idx)
        # Names by their letters without word boundaries (`CompiledName.squeezed`), so a name
        # written with a boundary elsewhere (Abdul Latifmansur, Myongc-hin) is found even when
        # none of its tokens is in the vocabulary. Two sorted arrays: 12 bytes a name.
        digests, ids = array("Q"), array("i")
        for idx, record in enumerate(compiled):
            for n in record.names:
                if n.squeezed:
                    digests.append(n.squeezed)
                    ids.append(idx)
        digest_keys = np.frombuffer(digests, dtype=np.uint64) if digests else np.zeros(0, dtype=np.uint64)
        digest_ids = np.frombuffer(ids, dtype=np.int32) if ids else np.zeros(0, dtype=np.int32)
        order = np.lexsort((digest_ids, digest_keys))
        self._squeezed = digest_keys[order].copy()
        self._squeezed_ids = digest_ids[order].copy()
        del digests, ids, digest_keys, digest_ids, order
        self.rarity = rarity if rarity is not None else Rarity({k: len(v) for k, v in self._postings.items()}, self.size, config.rarity_floor)
        self._large_sets: dict[str, frozenset[int]] = {}
        # Tie-breaker among candidates with equal gain: the one with the lightest name (fewest,
        # commonest tokens) leaves least of itself unmatched, as the scorer will find.
        self._mass = np.array(
            [min((sum(self.rarity(t) for t in n.tokens if not t.particle) for n in r.names), default=0.0) for r in compiled],
            dtype=np.float64,
        )
        self._mass_list: list[float] = self._mass.tolist()  # per-item lookups are faster on a list
        self._expansions: dict[tuple[str, str], tuple[dict[str, float], int]] = {}

    def __getstate__(self) -> dict[str, object]:
        # Memos are rebuilt as queries come (a cached or shipped index starts without them).
        state = dict(self.__dict__)
        state["_large_sets"], state["_expansions"] = {}, {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    @property
    def vocabulary_size(self) -> int:
        return len(self._postings)

    def expand(self, token: Token) -> dict[str, float]:
        """Vocabulary keys a query token may stand for, with the similarity of each (memoised:
        the dict returned is shared, and must not be changed). Built in an order that depends
        on the token alone (probes sorted), never on string hashing (PYTHONHASHSEED)."""
        return self._expand_sized(token)[0]

    def _expand_sized(self, token: Token) -> tuple[dict[str, float], int]:
        """`expand(token)` and the number of postings it reaches, memoised."""
        memo_key = (token.key, token.skeleton)
        found = self._expansions.get(memo_key)
        if found is None:
            if len(self._expansions) >= _EXPANSION_MEMO:
                self._expansions.clear()
            keys = self._expand(token)
            found = self._expansions[memo_key] = (keys, sum(len(self._postings[k]) for k in keys))
        return found

    def _expand(self, token: Token) -> dict[str, float]:
        found: dict[str, float] = {}
        if token.key in self._postings:
            found[token.key] = _EXPANSION_SIMILARITY["key"]
        for key in self._skeletons.get(token.skeleton, ()):
            found.setdefault(key, _EXPANSION_SIMILARITY["skeleton"])
        if len(token.key) >= _MIN_DELETION_KEY - 1:
            probes = sorted(_deletions(token.key) | {token.key})
            for probe in probes:
                for key in self._deletions.get(probe, ()):
                    found.setdefault(key, _EXPANSION_SIMILARITY["deletion"])
                if probe in self._postings and probe != token.key:
                    found.setdefault(probe, _EXPANSION_SIMILARITY["deletion"])
        return found

    def reaches(self, key: str, skeleton_key: str) -> bool:
        """Whether a non-particle query token with this key and skeleton expands to any
        vocabulary key (`expand(token)` is non-empty), without building the expansion."""
        if key in self._postings or skeleton_key in self._skeletons:
            return True
        if len(key) >= _MIN_DELETION_KEY - 1:
            for probe in _deletions(key) | {key}:
                if probe in self._deletions or probe in self._postings:
                    return True
        return False

    def has_document(self, number: str) -> bool:
        """Whether an indexed entity holds this normalised document number (or another of
        `Compiled.exact_keys`: "imo:9123456", "mmsi:...")."""
        return number in self._documents

    def _accumulate(
        self, expanded: list[tuple[int, Token, dict[str, float]]], parts: list[dict[int, float]] | None = None
    ) -> dict[int, float]:
        """Candidate scores in plain Python: the fast way for short postings. With `parts`, each
        token's own gain per entity is also appended to it, in `expanded`'s order."""
        scores: dict[int, float] = {}
        for size, token, keys in expanded:
            weight = self.rarity(token)
            if size > self.config.common_posting and scores:
                own: dict[int, float] = {}
                for key, sim in keys.items():
                    members = self._as_set(key)
                    gain = sim * weight
                    for idx in scores:
                        if idx in members and gain > own.get(idx, 0.0):
                            own[idx] = gain
                for idx, gain in own.items():
                    scores[idx] += gain
                if parts is not None:
                    parts.append(own)
                continue
            # The best expansion of this token per entity: lower similarities first, so the
            # higher ones overwrite them (dict.update runs at C speed).
            local: dict[int, float] = {}
            for key, sim in sorted(keys.items(), key=itemgetter(1)):
                local.update(dict.fromkeys(self._postings[key], sim * weight))
            if parts is not None:
                parts.append(local)
            if not scores:
                scores = dict(local) if parts is not None else local
                continue
            get = scores.get
            for idx, gain in local.items():
                scores[idx] = get(idx, 0.0) + gain
        return scores

    def _accumulate_numpy(
        self,
        expanded: list[tuple[int, Token, dict[str, float]]],
        documents: set[int],
        keep: int,
        variants: list[tuple[list[int], float]] | None = None,
    ) -> list[tuple[int, float]]:
        """The same scores with numpy, for long postings (large lists, common names): per
        (entity, token) the best expansion counts, then the tokens' gains are summed."""
        slots = len(expanded) + 1  # one slot per token, and one for document hits
        found: np.ndarray | None = None
        arrays: list[np.ndarray] = []
        gain_of: list[float] = []
        slot_of: list[int] = []
        for t_idx, (size, token, keys) in enumerate(expanded):
            weight = self.rarity(token)
            common = size > self.config.common_posting and found is not None
            for key, sim in keys.items():
                ids = np.frombuffer(self._postings[key], dtype=np.int32)
                if common and found is not None:
                    ids = ids[np.isin(ids, found, assume_unique=True)]
                arrays.append(ids)
                gain_of.append(sim * weight)
                slot_of.append(t_idx)
            if found is None and size <= self.config.common_posting and arrays:
                found = np.unique(np.concatenate(arrays))
        if documents:
            arrays.append(np.fromiter(documents, dtype=np.int32, count=len(documents)))
            gain_of.append(_DOCUMENT_GAIN)
            slot_of.append(slots - 1)
        if not arrays:
            return []
        lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        # One array op each instead of one per posting list: (entity, slot) pairs and gains.
        pairs = np.concatenate(arrays).astype(np.int64) * slots + np.repeat(np.array(slot_of, dtype=np.int64), lengths)
        gains = np.repeat(np.array(gain_of), lengths)
        if not len(pairs):
            return []
        order = np.lexsort((-gains, pairs))
        pairs, gains = pairs[order], gains[order]
        first = np.empty(len(pairs), dtype=bool)
        first[0] = True
        np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
        entity_ids, inverse = np.unique(pairs[first] // slots, return_inverse=True)
        if variants:
            slot_first = pairs[first] % slots
            gains_first = gains[first]
            totals = np.zeros(len(entity_ids))
            for members, weight in variants:
                inside = np.zeros(slots, dtype=bool)
                inside[members] = True
                summed = np.bincount(inverse, weights=gains_first * inside[slot_first], minlength=len(entity_ids))
                np.maximum(totals, _variant_gains(summed, weight, self.config.min_coverage), out=totals)
            totals += np.bincount(
                inverse, weights=gains_first * (slot_first == slots - 1), minlength=len(entity_ids)
            )  # document hits, outside every variant
            kept = totals > 0.0  # the others share too little of every query name
            entity_ids, totals = entity_ids[kept], totals[kept]
            if not len(totals):
                return []
            totals -= _TIE_BREAK * self._mass[entity_ids]
        else:
            totals = np.bincount(inverse, weights=gains[first]) - _TIE_BREAK * self._mass[entity_ids]
        keep = min(len(totals), keep)
        # The `keep` best, ties at the cut-off going to the lowest entity index: every entity
        # tied with the last one kept is sorted with the rest (argpartition alone picks among
        # ties by memory layout).
        last = totals[np.argpartition(-totals, keep - 1)[keep - 1]]
        best = np.flatnonzero(totals >= last)
        best = best[np.lexsort((entity_ids[best], -totals[best]))][:keep]
        return list(zip(entity_ids[best].tolist(), totals[best].tolist(), strict=True))

    def _as_set(self, key: str) -> frozenset[int]:
        cached = self._large_sets.get(key)
        if cached is None:
            cached = self._large_sets[key] = frozenset(self._postings[key])
        return cached

    def candidates(
        self,
        tokens: Iterable[Token],
        limit: int,
        accept: Acceptor | None = None,
        documents: Iterable[str] = (),
        squeezed: Iterable[int] = (),
        names: Sequence[Sequence[Token]] = (),
    ) -> tuple[list[tuple[int, float]], frozenset[str], float]:
        """The `limit` entities sharing the most rarity-weighted query tokens, best first, each
        with its retrieval gain (sum over query tokens of rarity x expansion similarity), and the
        vocabulary keys the query tokens were expanded to, and the gain under which a candidate
        shares less than `min_coverage` of the query's weight (the gain of an entity holding
        every query token), too little to be worth scoring. An entity holding one of the query's
        `documents` (its `Compiled.exact_keys`: document, IMO numbers, vessel ids) is always a
        candidate, whatever its name; so is one with a name of the same letters as one of the
        query's `squeezed` digests (the same name with its word boundaries elsewhere).

        Tokens are taken rarest first. A token whose postings exceed `common_posting` only
        strengthens candidates already found, unless nothing rarer found any.

        `names`, when given, are the query's names (and readings) the `tokens` come from. Where
        they hold different sets of tokens (an alias, the glued and unglued readings of Abdul
        Rahman, a Cyrillic name's other readings), one name's tokens are alternatives to
        another's, not more evidence: a candidate's gain is then that of its best name,
        `_variant_gain` of the name's tokens it shares, and candidates sharing less than
        `min_coverage` of every name's weight are left out (the gain returned to stop at is
        then 0; monitoring's prefilter keeps a subject's tokens name by name to decide the
        same). Without this, a candidate holding scattered tokens of several readings
        outranks the one holding every token of one reading.
        """
        tokens = list(tokens)
        expanded = []
        seen_keys: set[str] = set()
        for token in tokens:
            if token.particle or token.key in seen_keys:
                continue
            seen_keys.add(token.key)
            keys, size = self._expand_sized(token)
            if keys:
                expanded.append((size, token, keys))
        expanded.sort(key=lambda item: item[0])
        total = sum(size for size, _, _ in expanded)
        document_hits = self._document_hits(documents)
        if squeezed:
            document_hits |= self.squeezed_hits(squeezed)
        relevant = frozenset(key for _, _, keys in expanded for key in keys)
        variants = self._variants(names, expanded)
        if total > _NUMPY_FROM:
            ranked = self._accumulate_numpy(expanded, document_hits, limit * 4, variants)
        else:
            parts: list[dict[int, float]] | None = [] if variants else None
            scores = self._accumulate(expanded, parts)
            for idx in document_hits:
                scores[idx] = scores.get(idx, 0.0) + _DOCUMENT_GAIN
            if variants and parts is not None:
                scores = _best_variants(scores, parts, variants, document_hits, limit, accept, self.config.min_coverage)
            mass = self._mass_list
            # Ties go to the lowest entity index, whatever order the scores were summed in.
            if len(scores) <= limit * 8:
                # All are kept: the sort below orders them by a total key (entity indexes are
                # unique), so `nlargest`'s preselection would change nothing.
                ranked = list(scores.items())
            else:
                ranked = heapq.nlargest(limit * 8, scores.items(), key=_by_gain_then_index)
            ranked.sort(key=lambda item: (item[1] - _TIE_BREAK * mass[item[0]], -item[0]), reverse=True)
            del ranked[limit * 4 :]
        if accept is not None:
            accepted: list[tuple[int, float]] = []
            for item in ranked:
                if accept(item[0]):
                    accepted.append(item)
                    if len(accepted) == limit:
                        break
            ranked = accepted
        if variants:
            floor = 0.0  # candidates under `min_coverage` of every name are already left out
        else:
            floor = self.config.min_coverage * sum(self.rarity(t) for t in {t.key: t for t in tokens if not t.particle}.values())
        return ranked[:limit], relevant, floor

    def _variants(
        self, names: Sequence[Sequence[Token]], expanded: list[tuple[int, Token, dict[str, float]]]
    ) -> list[tuple[list[int], float]] | None:
        """Each query name with a distinct set of token keys: the positions in `expanded` of
        its tokens, and its weight (summed rarity of its tokens, found or not); None when the
        names hold one set of tokens between them (the flat sum is then the same thing)."""
        if len(names) < 2:
            return None
        distinct = name_key_sets(names)
        if len(distinct) < 2:
            return None
        slot_of = {token.key: slot for slot, (_, token, _) in enumerate(expanded)}
        return [
            ([slot_of[key] for key in own if key in slot_of], sum(self.rarity(t) for t in own.values()))
            for own in distinct
        ]

    def _document_hits(self, documents: Iterable[str]) -> set[int]:
        hits: set[int] = set()
        for number in documents:
            hits.update(self._documents.get(number, ()))
        return hits

    def squeezed_hits(self, digests: Iterable[int]) -> set[int]:
        """Entities with a name of the same letters as one of `digests` (`CompiledName.squeezed`)."""
        hits: set[int] = set()
        keys = self._squeezed
        for digest in digests:
            if not digest:
                continue
            d = np.uint64(digest)
            lo = int(np.searchsorted(keys, d, side="left"))
            hi = int(np.searchsorted(keys, d, side="right"))
            hits.update(self._squeezed_ids[lo:hi].tolist())
        return hits

