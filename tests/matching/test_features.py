"""Behaviour tables for the matching features: each row is a case a screening analyst would
recognise, with the outcome the feature must give."""

from __future__ import annotations

import pytest

from qalqan.matching import features
from qalqan.matching.compiled import compile_entity, compile_query
from qalqan.matching.config import MatchConfig
from qalqan.matching.features import (
    FEATURES,
    compare_dates,
    country_conflict,
    dob_conflict,
    dob_match,
    document_conflict,
    document_match,
    gender_conflict,
    name_similarity,
    nationality_match,
    schema_conflict,
    token_similarity,
)
from qalqan.model import MISSING_SIDES, DateKind, Document, Entity, Name, NameKind, NameQuality, PartialDate, Query
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
    steps = {(a.query_key, a.candidate_key): a.how for a in result.alignment}
    assert steps[("mohammed", "muhammad")] == "variant"
    assert steps[(None, "khan")] == "unmatched"
    assert result.query_value == "Mohammed Omar" and result.candidate_value == "Muhammad Umar Khan"


def alignment(query: str, listed: str, schema: str = "Person") -> dict[str | None, dict[str, object]]:
    """The name alignment of one query against one listed name, by the query's key."""
    q = compile_query(Query((query,), schema=schema))
    c = compile_entity(Entity("t-1", schema, "t", "1", (Name(listed),)))
    return {step["query_key"]: step for step in (a.as_dict() for a in name_similarity(q, c, CONFIG).alignment)}


def test_aligned_tokens_show_the_words_as_written_and_keep_the_key_apart() -> None:
    steps = alignment("Sirajuddin Haqqani", "SERAJUDDIN HAQANI")
    assert steps["sirajdin"]["query"] == "Sirajuddin" and steps["sirajdin"]["query_latin"] == "sirajuddin"
    assert steps["sirajdin"]["candidate"] == "SERAJUDDIN" and steps["sirajdin"]["candidate_key"] == "serajdin"
    assert steps["haqqani"]["candidate"] == "HAQANI"


def test_a_compound_token_shows_the_joined_span_of_its_written_words() -> None:
    step = alignment("Abd al-Hakim Murad", "Abdul Hakim Murad")["abdhakim"]
    assert (step["query"], step["candidate"]) == ("Abd al-Hakim", "Abdul Hakim")
    assert step["query_latin"] == "abd al hakim" and step["candidate_key"] == "abdhakim"


def test_a_name_in_another_script_is_shown_in_that_script_with_its_latin_form() -> None:
    steps = alignment("Айман аз-Завахири", "Ayman al-Zawahiri")
    assert steps["zavahiri"]["query"] == "Завахири" and steps["zavahiri"]["query_latin"] == "zavahiri"
    assert steps["zavahiri"]["candidate"] == "Zawahiri"
    arabic = alignment("أيمن الظواهري", "Ayman al-Zawahiri")
    assert arabic["ayman"]["query"] == "أيمن" and arabic["ayman"]["candidate"] == "Ayman"


def test_one_word_against_two_shows_both_written_words() -> None:
    step = alignment("Kim Jongun", "KIM JONG UN")["jongun"]
    assert step["how"] == "joined" and step["query"] == "Jongun" and step["candidate"] == "JONG UN"
    assert step["candidate_key"] == "jong un"
    other_way = alignment("Kim Jong-Un", "KIM JONGUN")["jong un"]
    assert other_way["how"] == "joined" and other_way["query"] == "Jong-Un" and other_way["candidate"] == "JONGUN"
    assert other_way["query_latin"] == "jong un" and other_way["candidate_key"] == "jongun"


def test_an_organisation_legal_form_is_shown_as_written_not_as_its_class() -> None:
    steps = alignment("ТОО Казахстан Темир Жолы", "Kazakhstan Temir Zholy LLP", schema="Organization")
    assert steps["llp"]["query"] == "ТОО" and steps["llp"]["candidate"] == "LLP"
    assert steps["kazahstan"]["query"] == "Казахстан"


def test_unmatched_tokens_have_nothing_on_the_other_side() -> None:
    steps = alignment("Mohammed Omar", "Muhammad Umar Khan")
    khan = next(s for s in steps.values() if s["candidate_key"] == "khan")
    assert khan["candidate"] == "Khan" and khan["query"] is None and khan["query_latin"] is None


def test_scoring_never_looks_for_written_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spans are found for explanations only: the scoring hot path must not pay for them."""

    def fail(*args: object) -> None:
        raise AssertionError("token_spans called while scoring")

    monkeypatch.setattr(features, "token_spans", fail)
    q = compile_query(Query(("Abd al-Hakim Murad",)))
    c = compile_entity(person("Abdul Hakim Murad"))
    assert features.best_name_pair(q, c, CONFIG) is not None


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


EVIDENCE = {
    # feature: (what the query gives, what the listed entry gives, how the detail names it)
    dob_match: ({"birth_dates": (PartialDate(1971, 5, 2),)}, {"birth_dates": (PartialDate(1971),)}, "date of birth"),
    dob_conflict: ({"birth_dates": (PartialDate(1971, 5, 2),)}, {"birth_dates": (PartialDate(1971),)}, "date of birth"),
    nationality_match: ({"nationalities": ("kz",)}, {"nationalities": ("kz", "ru")}, "nationality or country"),
    country_conflict: ({"nationalities": ("kz",)}, {"nationalities": ("kz", "ru")}, "nationality"),
    document_match: ({"documents": (Document("N1234567"),)}, {"documents": (Document("N1234567"),)}, "document number"),
    document_conflict: ({"documents": (Document("N1234567"),)}, {"documents": (Document("N1234567"),)}, "document number"),
    gender_conflict: ({"gender": "male"}, {"gender": "male"}, "gender"),
}


@pytest.mark.parametrize("feature", list(EVIDENCE), ids=lambda f: f.__name__)
def test_a_feature_one_side_cannot_be_compared_on_says_which_side_lacks_it(feature) -> None:
    query_has, listed_has, what = EVIDENCE[feature]
    given = compile_query(Query(("x",), **query_has))
    bare_query = compile_query(Query(("x",)))
    listed = compile_entity(person("x", **listed_has))
    bare_listed = compile_entity(person("x"))
    both = feature(given, listed, CONFIG)
    assert both.missing is None and both.query_value and both.candidate_value
    no_candidate = feature(given, bare_listed, CONFIG)
    assert no_candidate.missing == "candidate" and no_candidate.detail == f"candidate has no {what}"
    assert no_candidate.query_value == both.query_value and no_candidate.candidate_value is None
    no_query = feature(bare_query, listed, CONFIG)
    assert no_query.missing == "query" and no_query.detail == f"query has no {what}"
    assert no_query.query_value is None and no_query.candidate_value
    neither = feature(bare_query, bare_listed, CONFIG)
    assert neither.missing == "both" and neither.detail == f"neither side has a {what}"
    assert no_candidate.score == no_query.score == neither.score == 0.0
    assert {no_candidate.missing, no_query.missing, neither.missing} == set(MISSING_SIDES)


def test_a_subject_with_a_birth_date_against_an_entry_without_one_shows_the_subject_date() -> None:
    q = compile_query(Query(("x",), birth_dates=(PartialDate(1971, 5, 2), PartialDate(1972))))
    shown = dob_match(q, compile_entity(person("x")), CONFIG).as_dict()
    assert shown["query_value"] == "1971-05-02, 1972" and shown["candidate_value"] is None
    assert shown["missing"] == "candidate" and shown["detail"] == "candidate has no date of birth"


def test_the_name_feature_says_which_side_has_no_name() -> None:
    q = compile_query(Query(("Ali Khan",)))
    nameless = compile_entity(Entity("t-1", "Person", "t", "1", (Name("-"),)))
    result = name_similarity(q, nameless, CONFIG)
    assert result.missing == "candidate" and result.query_value == "Ali Khan" and result.detail == "candidate has no name"

