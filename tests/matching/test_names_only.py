"""A names-only query takes the Screener's short path (no evidence while ranking, the evidence of
each candidate kept per schema): its results must be exactly what the full scorer gives, and the
same whether the evidence memo is cold or warm."""

from __future__ import annotations

from importlib.resources import files

from qalqan.matching.compiled import compile_query, weigh
from qalqan.matching.scorer import score
from qalqan.matching.screener import Screener, _names_only
from qalqan.model import PartialDate, Query
from qalqan.sources.registry import read_list

DEMO = f"csv:{files('qalqan') / 'data' / 'demo.csv'}"
NAMES = ["Karim Yusuf al-Fayruzi", "Kareem Al Fairouzi", "Samira Hadi", "Abu Fayruz", "كريم يوسف الفيروزي", "Hadi Qamari", "Yusuf"]


def screener() -> Screener:
    loaded = read_list(DEMO)
    return Screener(loaded.entities, [loaded.info])


def test_names_only_results_are_the_full_scores() -> None:
    s = screener()
    for name in NAMES:
        query = Query(names=(name,))
        cq = weigh(compile_query(query), s.index.rarity, s.config.particle_weight, s.config.initial_weight)
        assert _names_only(cq)
        for cutoff in (0.0, 0.5):
            for match in s.match(query, cutoff=cutoff, limit=10):
                record = s._compiled[s._by_id[match.entity.id]]
                value, explanation = score(cq, record, s.config)
                assert (match.score, match.explanation) == (value, explanation)


def test_warm_memo_gives_what_a_cold_one_gives() -> None:
    warm = screener()
    for name in NAMES:
        warm.match(Query(names=(name,)))
    for name in NAMES:
        assert warm.match(Query(names=(name,)), limit=10) == screener().match(Query(names=(name,)), limit=10)


def test_any_evidence_leaves_the_short_path() -> None:
    for query in (Query(names=("A B",), birth_dates=(PartialDate(1971),)), Query(names=("A B",), nationalities=("jo",)), Query(names=("A B",), gender="male")):
        assert not _names_only(compile_query(query))
