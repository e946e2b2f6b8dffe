"""Behaviour tables for the matching features: each row is a case a screening analyst would
recognise, with the outcome the feature must give."""

from __future__ import annotations

import pytest

from qalqan.matching.compiled import compile_entity, compile_query
from qalqan.matching.config import MatchConfig
from qalqan.matching.features import (
    FEATURES,
    compare_dates,
    country_conflict,
    document_conflict,
    document_match,
    gender_conflict,
    name_similarity,
    nationality_match,
    schema_conflict,
    token_similarity,
)
from qalqan.model import DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate, Query
from qalqan.names.tokens import name_tokens

CONFIG = MatchConfig()


def tok(word: str):
    (token,) = name_tokens(word)
    return token


@pytest.mark.parametrize(
    ("a", "b", "how"),
    [
        ("Baghdadi", "Baghdadi", "exact"),
        ("Mohammed", "Muhammad", "variant"),
        ("Mohamad", "Muhammad", "variant"),
        ("Husayn", "Hussein", "variant"),
        ("Zawahiri", "Zawahri", "skeleton"),
        ("J", "John", "initial"),
        ("Daniel", "Donald", "unmatched"),
        ("Ali", "Omar", "unmatched"),
        ("J", "Peter", "unmatched"),
    ],
)
def test_token_similarity_says_on_what_evidence_tokens_meet(a: str, b: str, how: str) -> None:
    sim, got = token_similarity(tok(a), tok(b), CONFIG)
    assert got == how
    assert (sim > 0) == (how != "unmatched")


def test_token_evidence_is_ordered_exact_over_variant_over_skeleton() -> None:
    exact, _ = token_similarity(tok("Muhammad"), tok("Muhammad"), CONFIG)
    variant, _ = token_similarity(tok("Mohammed"), tok("Muhammad"), CONFIG)
    skeleton, _ = token_similarity(tok("Zawahiri"), tok("Zawahri"), CONFIG)
    assert exact > variant > skeleton > 0


def person(*names: str, **kw) -> Entity:
    built = tuple(
        n if isinstance(n, Name) else Name(n, NameKind.PRIMARY if i == 0 else NameKind.ALIAS) for i, n in enumerate(names)
    )
    return Entity("t-1", kw.pop("schema", "Person"), "t", "1", built, **kw)


def name_score(query: str, *names: str) -> float:
    return name_similarity(compile_query(Query((query,))), compile_entity(person(*names)), CONFIG).score


def test_name_order_does_not_matter() -> None:
    assert name_score("Baghdadi Abu Bakr", "Abu Bakr al-Baghdadi") == pytest.approx(name_score("Abu Bakr al-Baghdadi", "Abu Bakr al-Baghdadi"), abs=0.02)


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("Abdulrahman", "Abd al-Rahman"),
        ("Abdul Rahman", "Abdulrahman"),
        ("Abubakar", "Abu Bakar"),
        ("Kim Jongun", "Kim Jong Un"),
    ],
)
def test_joined_and_split_tokens_meet(query: str, listed: str) -> None:
    assert name_score(query, listed) >= 0.8


def test_best_name_over_aliases_counts() -> None:
    assert name_score("Abu Du'a", "Ibrahim Awwad Ibrahim al-Badri", "Abu Du'a") > 0.9
    assert name_score("Abu Du'a", "Ibrahim Awwad Ibrahim al-Badri") == 0.0


def test_low_quality_alias_is_discounted() -> None:
    good = name_similarity(compile_query(Query(("Abu Ahmad",))), compile_entity(person("Zaid Omar", Name("Abu Ahmad", NameKind.ALIAS))), CONFIG)
    low = name_similarity(
        compile_query(Query(("Abu Ahmad",))),
        compile_entity(person("Zaid Omar", Name("Abu Ahmad", NameKind.ALIAS, NameQuality.LOW))),
        CONFIG,
    )
    assert low.score == pytest.approx(good.score * CONFIG.low_quality_factor)


def test_a_missing_family_name_costs_more_than_a_missing_middle_initial() -> None:
    assert name_score("Thomas A. Lindemann", "Thomas Lindemann") > name_score("Thomas Lindemann", "Thomas Lindemann Schulz")


def test_name_explanation_is_structured_alignment() -> None:
    result = name_similarity(compile_query(Query(("Mohammed Omar",))), compile_entity(person("Muhammad Umar Khan")), CONFIG)
    steps = {(a.query, a.candidate): a.how for a in result.alignment}
    assert steps[("mohammed", "muhammad")] == "variant"
    assert steps[(None, "khan")] == "unmatched"
    assert result.query_value == "Mohammed Omar" and result.candidate_value == "Muhammad Umar Khan"


@pytest.mark.parametrize(
    ("q", "c", "how", "supports", "conflicts"),
    [
        (PartialDate(1971, 5, 2), PartialDate(1971, 5, 2), "exact", True, False),
        (PartialDate(1971), PartialDate(1971, 5, 2), "same-year", True, False),
        (PartialDate(1971, 2, 5), PartialDate(1971, 5, 2), "day-month-swapped", True, False),
        (PartialDate(1971, 5, 3), PartialDate(1971, 5, 2), "digit-typo", True, False),
        (PartialDate(1972, 5, 2), PartialDate(1971, 5, 2), "year-off-by-one", True, False),
        (PartialDate(1917, 5, 2), PartialDate(1971, 5, 2), "conflicting", False, True),
        (PartialDate(1976), PartialDate(1975, kind=DateKind.APPROXIMATE), "in-range", True, False),
        (PartialDate(1990), PartialDate(1975, kind=DateKind.APPROXIMATE), "outside-range", False, True),
        (PartialDate(1962), PartialDate(1960, kind=DateKind.BETWEEN, year_to=1965), "in-range", True, False),
        (PartialDate(1950, 1, 1), PartialDate(1960, kind=DateKind.BETWEEN, year_to=1965), "outside-range", False, True),
        (PartialDate(1980, 1, 1), PartialDate(1950, 6, 6), "conflicting", False, True),
    ],
)
def test_dates_of_birth(q: PartialDate, c: PartialDate, how: str, supports: bool, conflicts: bool) -> None:
    support, conflict, got = compare_dates(q, c, CONFIG)
    assert got == how
    assert (support > 0) == supports
    assert (conflict > 0) == conflicts


def test_best_pair_of_several_birth_dates_counts() -> None:
    q = compile_query(Query(("x",), birth_dates=(PartialDate(1960, 1, 1),)))
    c = compile_entity(person("x", birth_dates=(PartialDate(1955), PartialDate(1960, 1, 1))))
    features = {f.feature: f for f in (feature(q, c, CONFIG) for feature in FEATURES)}
    assert features["dob_match"].score == 1.0
    assert features["dob_conflict"].score == 0.0


def test_documents_match_after_normalisation_and_conflict_otherwise() -> None:
    q = compile_query(Query(("x",), documents=(Document("AB-0123 456"),)))
    same = compile_entity(person("x", documents=(Document("ab0123456", "Passport"),)))
    typo = compile_entity(person("x", documents=(Document("AB0123457", "Passport"),)))
    other = compile_entity(person("x", documents=(Document("ZZ999999", "Passport"),)))
    assert document_match(q, same, CONFIG).score == 1.0
    assert document_match(q, typo, CONFIG).detail == "one-character-off"
    assert document_match(q, other, CONFIG).score == 0.0
    assert document_conflict(q, other, CONFIG).score == 1.0
    assert document_conflict(q, same, CONFIG).score == 0.0


def test_country_gender_and_schema_evidence() -> None:
    q = compile_query(Query(("x",), nationalities=("kz",), gender="male"))
    kz = compile_entity(person("x", nationalities=("kz", "ru"), gender="male"))
    iq = compile_entity(person("x", nationalities=("iq",), gender="female"))
    org = compile_entity(person("x", schema="Organization"))
    assert nationality_match(q, kz, CONFIG).score == 1.0
    assert country_conflict(q, kz, CONFIG).score == 0.0
    assert country_conflict(q, iq, CONFIG).score == 1.0
    assert gender_conflict(q, iq, CONFIG).score == 1.0
    assert gender_conflict(q, kz, CONFIG).score == 0.0
    assert schema_conflict(q, org, CONFIG).score == 1.0
    assert schema_conflict(q, kz, CONFIG).score == 0.0


def test_conflicts_weigh_against_and_support_for() -> None:
    q = compile_query(Query(("x",), nationalities=("kz",), birth_dates=(PartialDate(1950),)))
    c = compile_entity(person("x", nationalities=("iq",), birth_dates=(PartialDate(1990),)))
    results = {f.feature: f for f in (feature(q, c, CONFIG) for feature in FEATURES)}
    assert results["dob_conflict"].contribution < 0
    assert results["country_conflict"].contribution < 0
    assert all(f.contribution <= 0 for f in results.values())
    assert all(f.__doc__ for f in FEATURES), "every feature documents itself"
