"""The score of a (query, candidate) pair: name similarity plus weighted evidence, in [0, 1]."""

from __future__ import annotations

from qalqan.matching.compiled import Compiled
from qalqan.matching.config import MatchConfig
from qalqan.matching.features import (
    FEATURES,
    NamePair,
    SimilarityMemo,
    best_name_pair,
    explain_name_pair,
)
from qalqan.model import FeatureResult


def max_support(query: Compiled, config: MatchConfig) -> float:
    """The most the evidence features can add to a name score for this query: what lets the
    Screener stop scoring candidates whose name alone cannot reach the ones it has."""
    support = config.dob_match_weight + config.nationality_match_weight
    if query.documents:
        support += config.document_match_weight
    if query.imo:
        support += config.imo_match_weight
    if query.vessel_ids:
        support += config.vessel_id_match_weight
    return support


def evidence(query: Compiled, candidate: Compiled, config: MatchConfig) -> tuple[FeatureResult, ...]:
    """Every evidence feature of the pair, in explanation order, whether it fired or not."""
    return tuple(feature(query, candidate, config) for feature in FEATURES)


def total(name_score: float, evidence: tuple[FeatureResult, ...]) -> float:
    """The name score plus the weighted evidence, clipped to [0, 1]."""
    return min(1.0, max(0.0, name_score + sum(f.contribution for f in evidence)))


def score(
    query: Compiled,
    candidate: Compiled,
    config: MatchConfig,
    memo: SimilarityMemo | None = None,
    relevant: frozenset[str] | None = None,
    pair: NamePair | None = None,
) -> tuple[float, tuple[FeatureResult, ...]]:
    """Total score and the explanation: the name feature first, then every evidence feature
    (each with its score, weight and the values it read), whether it fired or not. `pair` is
    the best name pair if the caller already found it (`best_name_pair`)."""
    if pair is None:
        pair = best_name_pair(query, candidate, config, memo, relevant)
    name = explain_name_pair(query, candidate, pair, config, memo)
    found = evidence(query, candidate, config)
    return total(name.score, found), (name, *found)
