"""The Screener end to end on small hand-made lists: retrieval, ranking, explanation, filters."""

from __future__ import annotations

import random

import pytest

from qalqan.matching.config import load_config
from qalqan.matching.screener import Screener, score_pair
from qalqan.model import Document, Entity, Name, NameKind, PartialDate, Query


def entity(eid: str, *names: str, schema: str = "Person", lst: str = "t", **kw) -> Entity:
    built = tuple(Name(n, NameKind.PRIMARY if i == 0 else NameKind.ALIAS) for i, n in enumerate(names))
    return Entity(f"{lst}-{eid}", schema, lst, eid, built, reference=f"REF.{eid}", **kw)


LIST = [
    entity("1", "Abu Bakr al-Baghdadi", "Ibrahim Awwad Ibrahim al-Badri", birth_dates=(PartialDate(1971),), nationalities=("iq",)),
    entity("2", "Ayman al-Zawahiri", birth_dates=(PartialDate(1951, 6, 19),), nationalities=("eg",)),
    entity("3", "Қасым Жомартов", nationalities=("kz",), documents=(Document("N1234567", "Passport", "kz"),)),
    entity("4", "Islamic State Support Fund LLC", schema="Organization"),
    entity("5", "Mohammed Omar", "Mullah Omar", birth_dates=(PartialDate(1960),), nationalities=("af",)),
    entity("6", "Ali Hassan", lst="other"),
]


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(LIST)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Abu Bakr al-Baghdadi", "t-1"),
        ("ابو بكر البغدادي", "t-1"),  # Arabic script against a Latin listing
        ("Ayman al-Zawahri", "t-2"),  # a dropped vowel
        ("Aiman Zawahiri", "t-2"),
        ("Kasym Zhomartov", "t-3"),  # Latin against a Kazakh-Cyrillic listing
        ("Muhammad Umar", "t-5"),
    ],
)
def test_finds_the_listed_entity_across_scripts_and_spellings(screener: Screener, query: str, expected: str) -> None:
    results = screener.match(Query((query,)))
    assert results and results[0].entity.id == expected
    assert results[0].match


def test_unrelated_name_raises_no_alert(screener: Screener) -> None:
    assert not any(m.match for m in screener.match(Query(("Jennifer Lawrence",))))


def test_conflicting_birth_date_and_nationality_lower_the_score(screener: Screener) -> None:
    plain = screener.match(Query(("Muhammad Umar",)))[0]
    conflicting = screener.match(Query(("Muhammad Umar",), birth_dates=(PartialDate(1990, 3, 3),), nationalities=("us",)))[0]
    agreeing = screener.match(Query(("Muhammad Umar",), birth_dates=(PartialDate(1960),), nationalities=("af",)))[0]
    assert plain.score < 1.0
    assert conflicting.score < plain.score < agreeing.score


def test_a_shared_document_number_finds_a_differently_spelled_name(screener: Screener) -> None:
    results = screener.match(Query(("Kassim Jomart",), documents=(Document("n 1234567"),)))
    assert results[0].entity.id == "t-3"
    features = {f.feature: f for f in results[0].explanation}
    assert features["document_match"].score == 1.0


def test_explanation_names_every_feature_with_weight_and_values(screener: Screener) -> None:
    match = screener.match(Query(("Ayman al-Zawahiri",), birth_dates=(PartialDate(1951, 6, 19),)))[0]
    features = {f.feature: f for f in match.explanation}
    assert set(features) >= {"name", "dob_match", "dob_conflict", "nationality_match", "document_match", "schema_conflict"}
    assert features["dob_match"].query_value == "1951-06-19"
    assert features["dob_match"].candidate_value == "1951-06-19"
    assert features["dob_match"].weight > 0 and features["dob_conflict"].weight < 0
    as_json = match.as_dict()
    assert as_json["reference"] == "REF.2" and as_json["list"] == "t"
    assert {"feature", "score", "weight", "query_value", "candidate_value"} <= set(as_json["explanation"][0])


def test_schema_and_list_filters(screener: Screener) -> None:
    assert all(m.entity.schema != "Organization" for m in screener.match(Query(("Islamic State Support Fund",))))
    orgs = screener.match(Query(("Islamic State Support Fund",), schema="Organization"))
    assert orgs[0].entity.id == "t-4"
    assert screener.match(Query(("Ali Hassan",)), lists=["t"]) == [] or all(
        m.entity.list == "t" for m in screener.match(Query(("Ali Hassan",)), lists=["t"])
    )
    assert screener.match(Query(("Ali Hassan",)), lists=["other"])[0].entity.id == "other-6"


def test_threshold_decides_match_not_ranking(screener: Screener) -> None:
    strict = screener.match(Query(("Muhammad Umar",)), threshold=0.999)
    lenient = screener.match(Query(("Muhammad Umar",)), threshold=0.1)
    assert [m.entity.id for m in strict] == [m.entity.id for m in lenient]
    assert lenient[0].match and not all(m.match for m in strict)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Screener([LIST[0], LIST[0]])


def test_retrieval_touches_only_entities_sharing_a_token() -> None:
    rng = random.Random(5)
    letters = "bcdfghjklmnprstvz"
    big = [entity(str(i), "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(4)) + " " + "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(4))) for i in range(5000)]
    big.append(entity("x", "Qalqanbek Zhasulanov"))
    screener = Screener(big)
    shortlist, _, _ = screener.index.candidates(
        [t for n in __import__("qalqan.matching.compiled", fromlist=["compile_query"]).compile_query(Query(("Qalqanbek Zhasulanov",))).names for t in n.tokens],
        limit=50,
    )
    assert [idx for idx, _ in shortlist] == [5000], "only the entity sharing tokens is a candidate"


def test_score_pair_needs_no_list() -> None:
    config = load_config()
    same = score_pair(Query(("Mohammed Omar",)), LIST[4], config)
    other = score_pair(Query(("Jennifer Lawrence",)), LIST[4], config)
    assert same.match and not other.match


def test_cutoff_drops_weak_results_but_keeps_the_ranking_of_the_rest(screener: Screener) -> None:
    everything = screener.match(Query(("Muhammad Umar Hassan",)), limit=5)
    strong = screener.match(Query(("Muhammad Umar Hassan",)), limit=5, cutoff=0.5)
    assert [m.entity.id for m in strong] == [m.entity.id for m in everything if m.score >= 0.5]
    assert [m.score for m in strong] == [m.score for m in everything if m.score >= 0.5]


@pytest.mark.parametrize(
    ("written", "typed"),
    [("Ahmad Nasrallah", "Amhad Nasrallah"), ("Mohamed Lakhal", "Mohamed Lakahl"), ("Ayman al-Zawahiri", "Ayman al-Zawahrii"), ("Abdul Mansour", "Abdul Mansuor")],
)
def test_adjacent_letters_the_wrong_way_round_are_one_typo(written: str, typed: str) -> None:
    """Optimal string alignment: a transposition costs one edit, as in the typist's hand, so the
    typed name scores as a one-letter typo of the listed one (and both ways round alike)."""
    listed = entity("9", written, lst="x")
    forward = score_pair(Query((typed,)), listed)
    backward = score_pair(Query((written,)), entity("9", typed, lst="x"))
    assert forward.match and forward.score == pytest.approx(backward.score)
    assert forward.score > score_pair(Query((typed.replace(typed.split()[-1], typed.split()[-1][::-1]),)), listed).score
