"""Screening results: a scored candidate and the structured reasons for its score."""

from __future__ import annotations

from dataclasses import dataclass

from qalqan.model.entity import Entity


@dataclass(frozen=True, slots=True)
class AlignedToken:
    """One step of a name alignment: which query token met which candidate token, and how."""

    query: str | None  # None: a candidate token the query did not have
    candidate: str | None  # None: a query token the candidate did not have
    similarity: float
    how: str  # "exact", "variant", "skeleton", "fuzzy", "initial", "joined", "unmatched"
    weight: float  # the token's rarity weight in the coverage sums

    def as_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "candidate": self.candidate,
            "similarity": round(self.similarity, 4),
            "how": self.how,
            "weight": round(self.weight, 4),
        }


@dataclass(frozen=True, slots=True)
class FeatureResult:
    """One feature's evidence for one (query, candidate) pair.

    `score` is the feature's own reading (name similarity in [0, 1]; an evidence feature in
    [-1, 1], negative when the pair conflicts); `weight` is how much it moves the total;
    `query_value` / `candidate_value` are the values that produced it.
    """

    feature: str
    score: float
    weight: float
    query_value: str | None = None
    candidate_value: str | None = None
    detail: str | None = None  # a short machine-readable tag, e.g. "day-month-swapped"
    alignment: tuple[AlignedToken, ...] = ()  # name features: the token-by-token evidence

    @property
    def contribution(self) -> float:
        return self.score * self.weight

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "feature": self.feature,
            "score": round(self.score, 4),
            "weight": self.weight,
            "contribution": round(self.contribution, 4),
            "query_value": self.query_value,
            "candidate_value": self.candidate_value,
            "detail": self.detail,
        }
        if self.alignment:
            out["alignment"] = [a.as_dict() for a in self.alignment]
        return out


@dataclass(frozen=True, slots=True)
class Match:
    entity: Entity
    score: float
    match: bool
    explanation: tuple[FeatureResult, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "entity_id": self.entity.id,
            "list": self.entity.list,
            "reference": self.entity.reference,
            "caption": self.entity.caption,
            "schema": self.entity.schema,
            "score": round(self.score, 4),
            "match": self.match,
            "explanation": [f.as_dict() for f in self.explanation],
        }
