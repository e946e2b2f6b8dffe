"""Every number that shapes a score, in one place, loaded from the calibration output.

`calibration.json` beside this file is written by `python -m bench.calibrate`, which prints the
figures each value was chosen on (development data only: labelled name pairs, the UN list's own
aliases, US Congress members as non-listed people, synthetic namesakes). The defaults below are
the values used before calibration and the starting point of its search.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from importlib import resources


@dataclass(frozen=True, slots=True)
class MatchConfig:
    # -- decision -------------------------------------------------------------------------
    threshold: float = 0.70  # score at or above which a candidate is a `match` (an alert)

    # -- name similarity --------------------------------------------------------------------
    #: name score = query_coverage ** query_exponent * candidate_coverage ** candidate_exponent.
    #: The query side matters most (what the user knows must be there); unmatched candidate
    #: tokens (patronymic chains, extra given names on lists) cost less.
    query_exponent: float = 1.0
    candidate_exponent: float = 0.35
    #: Token similarity by evidence: same spelling, same variant key (Mohammed/Muhammad), same
    #: consonant skeleton, or an edit-distance similarity of keys at or above `fuzzy_floor`.
    key_similarity: float = 0.95
    skeleton_similarity: float = 0.85
    fuzzy_floor: float = 0.72
    initial_similarity: float = 0.5  # "J" against "John"
    #: Weight of a token = floor + (1 - floor) * normalised IDF over the indexed names, so a
    #: frequent token (Mohammed, Ali) counts less than a rare one (Baghdadi).
    rarity_floor: float = 0.25
    particle_weight: float = 0.05  # al, bin, de ..., legal forms: spelling glue, hardly evidence
    initial_weight: float = 0.3  # at most, for a one-letter token: "Thomas A. Lindeman"
    low_quality_factor: float = 0.92  # UN "Low" / OFAC weak aliases: too broad to rely on alone
    #: Two organisations' names met only by parts of bracketed names on both sides (the text
    #: outside the brackets, or a bracket's content, alone): what each left out (a branch, a
    #: country, an acronym) may tell them apart, so the pair scores this much of its alignment.
    bracket_part_factor: float = 0.92

    # -- evidence beyond the name (added to the name score; negative when they conflict) ------
    dob_match_weight: float = 0.08
    dob_conflict_weight: float = 0.30
    approximate_years: int = 2  # UN "APPROXIMATELY 1975" accepts 1973..1977
    nationality_match_weight: float = 0.04
    country_conflict_weight: float = 0.12
    document_match_weight: float = 0.40
    document_conflict_weight: float = 0.10
    gender_conflict_weight: float = 0.25
    schema_conflict_weight: float = 1.0
    #: Vessels. Not calibrated (the development data has no vessel pairs): an IMO number alone
    #: clears the threshold with a margin (a renamed, reflagged ship is still the ship); a
    #: different IMO number is another hull; an MMSI or call sign, re-issued with a new flag,
    #: supports; a flag conflict is light (flags change more often than names).
    imo_match_weight: float = 0.85
    imo_conflict_weight: float = 0.3
    vessel_id_match_weight: float = 0.2
    flag_conflict_weight: float = 0.1

    # -- retrieval -------------------------------------------------------------------------
    candidates: int = 24  # at most this many retrieved entities are fully scored per query
    #: ... and beyond the first `limit`, only those whose retrieval gain (rarity-weighted query
    #: tokens found) is at least this share of the best candidate's; candidates holding less than
    #: `min_coverage` of the query's rarity weight are not scored at all (their name score could
    #: not come near a threshold). Chosen from `python -m bench.calibrate --retrieval`, which
    #: prints rank recall and queries/s per pair: 0.25 / 0.7 keeps alias recall@1 within 0.2
    #: points of the slowest setting (0.2 / 0.5) at about 2.5x its speed.
    retrieval_ratio: float = 0.7
    min_coverage: float = 0.25
    common_posting: int = 20_000  # postings longer than this are used only if nothing rarer is

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def load_config(overrides: dict[str, Any] | None = None) -> MatchConfig:
    """The calibrated configuration (or the defaults if no calibration was committed)."""
    config = MatchConfig()
    try:
        text = resources.files("qalqan.matching").joinpath("calibration.json").read_text("utf-8")
        values = json.loads(text).get("config", {})
    except FileNotFoundError:
        values = {}
    known = {f.name for f in fields(MatchConfig)}
    config = replace(config, **{k: v for k, v in values.items() if k in known})
    if overrides:
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown matching settings: {sorted(unknown)}")
        config = replace(config, **overrides)
    return config
