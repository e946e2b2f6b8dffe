"""Screening results: a scored candidate and the structured reasons for its score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from qalqan.model.entity import Entity


@dataclass(frozen=True, slots=True)
class AlignedToken:
    """One step of a name alignment: which query token met which candidate token, and how.

    `query` / `candidate` are the words as written in the name, in their own script (the
    joined span for a token made of several words: "Abd al-Hakim"); `*_latin` the same words
    latinised; `*_key` the token the matcher compared (latinised, compounds glued: "abdhakim").
    All three are None on the side that has no token in this step.
    """

    query: str | None  # None: a candidate token the query did not have
    candidate: str | None  # None: a query token the candidate did not have
    similarity: float
    how: str  # "exact", "variant", "skeleton", "article", "fuzzy", "initial", "joined", "unmatched"
    weight: float  # the token's rarity weight in the coverage sums
    query_key: str | None = None
    candidate_key: str | None = None
    query_latin: str | None = None
    candidate_latin: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "query_latin": self.query_latin,
            "query_key": self.query_key,
            "candidate": self.candidate,
            "candidate_latin": self.candidate_latin,
            "candidate_key": self.candidate_key,
            "similarity": round(self.similarity, 4),
            "how": self.how,
            "weight": round(self.weight, 4),
        }


#: Which side of a pair lacks the value a feature reads (`FeatureResult.missing`).
MissingSide = Literal["query", "candidate", "both"]
MISSING_SIDES: tuple[MissingSide, ...] = get_args(MissingSide)


@dataclass(frozen=True, slots=True)
class FeatureResult:
    """One feature's evidence for one (query, candidate) pair.

    `score` is the feature's own reading (name similarity in [0, 1]; an evidence feature in
    [-1, 1], negative when the pair conflicts); `weight` is how much it moves the total;
    `query_value` / `candidate_value` are the values that produced it, or, when a side lacks
    the value, what the other side has. `missing` says which side lacks it ("query",
    "candidate" or "both"; None when both have it), and `detail` then says so in words.
    """

    feature: str
    score: float
    weight: float
    query_value: str | None = None
    candidate_value: str | None = None
    detail: str | None = None  # a short tag, e.g. "day-month-swapped", or "candidate has no date of birth"
    alignment: tuple[AlignedToken, ...] = ()  # name features: the token-by-token evidence
    missing: MissingSide | None = None

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
            "missing": self.missing,
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
