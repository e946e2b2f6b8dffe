"""The score of a (query, candidate) pair: name similarity plus weighted evidence, in [0, 1]."""

from __future__ import annotations

from qalqan.matching.compiled import Compiled
from qalqan.matching.config import MatchConfig
from qalqan.matching.features import FEATURES, SimilarityMemo, name_similarity
from qalqan.model import FeatureResult


def score(
    query: Compiled,
    candidate: Compiled,
    config: MatchConfig,
    memo: SimilarityMemo | None = None,
    relevant: frozenset[str] | None = None,
) -> tuple[float, tuple[FeatureResult, ...]]:
    """Total score and the explanation: the name feature first, then every evidence feature
    (each with its score, weight and the values it read), whether it fired or not."""
    name = name_similarity(query, candidate, config, memo, relevant)
    evidence = tuple(feature(query, candidate, config) for feature in FEATURES)
    total = name.score + sum(f.contribution for f in evidence)
    return min(1.0, max(0.0, total)), (name, *evidence)
