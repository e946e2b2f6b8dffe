"""The benchmark harness computes the right numbers on tiny hand-made inputs (no speed checks)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # `bench` is a top-level folder, not part of the installed package

from bench import common, loo, pairs, report  # noqa: E402
from bench.common import Retriever, held_out_folds, percentile, prf, top1_credit  # noqa: E402
from bench.namesakes import split_name, tokens  # noqa: E402
from qalqan.model import Entity, Name, NameKind, NameQuality, Query  # noqa: E402


def person(eid: str, *names: Name) -> Entity:
    return Entity(eid, "Person", "t", eid, tuple(names))


ALPHA = person("a", Name("Omar Haddad"), Name("Abu Zaid", NameKind.ALIAS), Name("Omer Hadad", NameKind.ALIAS))
BETA = person("b", Name("Karim Baghdadi"), Name("Abu Karim", NameKind.ALIAS, NameQuality.LOW))
GAMMA = person("c", Name("Zaid Nasser"))


class FirstTokenScorer:
    """A fake scorer: 1.0 when the first query token is in a candidate name, else 0.1."""

    name = "fake"
    threshold = 0.5

    def scores(self, query: Query, candidates: list[Entity], schema: str | None = None) -> list[float]:
        first = query.names[0].split()[0].lower()
        return [1.0 if any(first in n.value.lower().split() for n in c.names) else 0.1 for c in candidates]


def test_top1_credit_counts_hits_misses_and_shares_ties() -> None:
    cands = [ALPHA, BETA, GAMMA]
    assert top1_credit("a", cands, [0.9, 0.5, 0.1]) == (1.0, 0.9)
    assert top1_credit("b", cands, [0.9, 0.5, 0.1]) == (0.0, 0.5)
    assert top1_credit("a", cands, [0.9, 0.9, 0.1]) == (0.5, 0.9)  # two-way tie: half credit
    assert top1_credit("x", cands, [0.9, 0.5, 0.1]) == (0.0, 0.0)  # not retrieved


def test_recall_at_1_of_a_fake_scorer() -> None:
    # "Abu ..." queries: token "abu" is in ALPHA's and BETA's aliases -> a tie for the fake scorer.
    queries = [("Omar X", "a"), ("Karim Y", "b"), ("Zaid Q", "c"), ("Abu Z", "a")]
    entities = [ALPHA, BETA, GAMMA]
    scorer = FirstTokenScorer()
    credits = []
    for text, target in queries:
        q = Query(names=(text,))
        credits.append(top1_credit(target, entities, scorer.scores(q, entities))[0])
    # Omar -> only ALPHA (1); Karim -> only BETA (1); Zaid -> ALPHA alias "Abu Zaid" and GAMMA tie (1/2);
    # Abu -> ALPHA and BETA tie (1/2).
    assert credits == [1.0, 1.0, 0.5, 0.5]
    assert sum(credits) / len(credits) == pytest.approx(0.75)


def test_prf_on_counts() -> None:
    got = prf(tp=8, fp=2, fn=4)
    assert got["precision"] == pytest.approx(0.8)
    assert got["recall"] == pytest.approx(8 / 12)
    assert got["f1"] == pytest.approx(2 * 0.8 * (8 / 12) / (0.8 + 8 / 12))
    assert prf(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_folds_hold_out_each_selected_name_once_and_never_empty_an_entity() -> None:
    good_alias = loo._good_alias
    folds = list(held_out_folds([ALPHA, BETA, GAMMA], good_alias))
    assert len(folds) == 2  # ALPHA has two good aliases; BETA's only alias is LOW
    held = [(name.value, ent.id) for _, queries in folds for name, ent in queries]
    assert held == [("Abu Zaid", "a"), ("Omer Hadad", "a")]
    for fold_entities, queries in folds:
        by_id = {e.id: e for e in fold_entities}
        assert set(by_id) == {"a", "b", "c"}
        for name, ent in queries:
            assert name not in by_id[ent.id].names  # the index never sees the held-out name
            assert by_id[ent.id].names  # and the entity keeps its other names
        assert by_id["b"] is BETA and by_id["c"] is GAMMA  # untouched entities are shared
    single = person("s", Name("Lone Name"))
    assert [q for _, q in held_out_folds([single], lambda n: True) if q] == []  # one name: no query


def test_retriever_finds_token_and_spelling_variants_and_caps() -> None:
    r = Retriever([ALPHA, BETA, GAMMA], cap=2)
    assert [e.id for e in r.candidates(["Karim Baghdadi"])][0] == "b"
    assert "a" in [e.id for e in r.candidates(["Umar Hadad"])]  # metaphone / shared token
    assert len(r.candidates(["Abu Zaid Karim"])) == 2  # capped
    assert r.candidates(["Xylophone"]) == []
    joined = Retriever([person("j", Name("Abdul Rahman Saleh"))])
    assert [e.id for e in joined.candidates(["Abdulrahman"])] == ["j"]


def test_cross_script_negatives_pair_each_query_with_other_expected_names(tmp_path: Path) -> None:
    f = tmp_path / "pairs.csv"
    f.write_text("# comment\n\nمحمد علي,Mohamed Ali,0.9,x\n金正恩,Kim Jong Un,0.7,y\n김정은,Kim Jong Un,0.7,z\n", encoding="utf-8")
    cases = pairs.cross_script_cases(f)
    positives = [c for c in cases if c[3]]
    negatives = [(c[1], c[2]) for c in cases if not c[3]]
    assert len(positives) == 3
    # each query meets every other expected name except an identical one (Kim Jong Un twice)
    assert sorted(negatives) == sorted(
        [("محمد علي", "Kim Jong Un"), ("محمد علي", "Kim Jong Un"), ("金正恩", "Mohamed Ali"), ("김정은", "Mohamed Ali")]
    )


def test_proxies_carry_query_fields_and_get_unique_ids() -> None:
    from qalqan.sources.values import parse_date

    q = Query(names=("Omar Haddad",), birth_dates=(parse_date("1970-05-02"),), nationalities=("iq",), gender="male")
    a, b = common.query_proxy(q), common.query_proxy(q)
    assert a.get("name") == ["Omar Haddad"] and a.get("birthDate") == ["1970-05-02"]
    assert a.get("nationality") == ["iq"] and a.get("gender") == ["male"]
    assert a.id != b.id  # nomenklatura caches name analysis per proxy id
    assert common.entity_proxy(ALPHA).get("alias") == ["Abu Zaid", "Omer Hadad"]


def test_namesake_helpers() -> None:
    assert split_name(ALPHA) == ("Omar", "Haddad")
    parted = person("p", Name("Abu Bakr al-Baghdadi", parts=(("given", "Abu Bakr"), ("family", "al-Baghdadi"))))
    assert split_name(parted) == ("Abu Bakr", "al-Baghdadi")
    assert tokens("Al-Baghdádi, Abu") == frozenset({"al", "baghdadi", "abu"})


def test_report_renders_a_section_table() -> None:
    data = {
        "title": "(a) test",
        "queries": 4,
        "folds": 2,
        "candidate_cap": 100,
        "retriever_recall": 1.0,
        "thresholds": {"qalqan": 0.7, "logic-v2": 0.7},
        "scorers": {
            "qalqan": {"recall_at_1": 0.75, "recall_at_1_matched": 0.5},
            "logic-v2": {"recall_at_1": 0.5, "recall_at_1_matched": 0.25},
        },
    }
    table = report.section_table("a", data)
    assert "| recall@1 | >= 99%, > logic-v2 | 75.0% | 50.0% |" in table
    assert "| recall@1 & matched |  | 50.0% | 25.0% |" in table


def test_summary_is_quoted_between_the_readme_markers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.SUMMARY_START}\nold table\n{report.SUMMARY_END}\noutro\n", encoding="utf-8")
    report.quote_in_project_readme("| new | table |", readme)
    text = readme.read_text(encoding="utf-8")
    assert "| new | table |" in text and "old table" not in text
    assert text.startswith("intro\n") and text.endswith("outro\n")


def test_typo_perturbations_are_what_they_say() -> None:
    import random

    from bench import typos

    rng = random.Random(1)
    assert typos.perturb("Karim Baghdadi", "comma", rng, "Person") == "BAGHDADI, Karim"
    assert typos.perturb("Abdul Karim Baghdadi", "comma_prefix", rng, "Person") == "KARIM BAGHDADI, Abdul"
    assert typos.perturb("Karim Baghdadi", "comma", rng, "Organization") is None
    for kind in ("transpose", "edit", "shuffle", "boundary", "join_split"):
        out = typos.perturb("Karim Baghdadi Nasser", kind, random.Random(7), "Person")
        assert out and out != "Karim Baghdadi Nasser"
        if kind in ("transpose", "shuffle", "boundary", "join_split"):  # letters kept, only moved
            assert sorted(out.replace(" ", "").lower()) == sorted("karimbaghdadinasser")
    queries = typos.make_queries([ALPHA, BETA, GAMMA], sample=3, seed=5)
    assert queries == typos.make_queries([ALPHA, BETA, GAMMA], sample=3, seed=5)  # seeded
    assert {k for k, _, _ in queries} <= set(typos.KINDS)


def test_content_service_bench_finds_every_planted_copy() -> None:
    from bench.content_service import run

    row = run(2_000, 200, 10)
    assert row["url_checks_matched"] == "10/10" and row["file_checks_matched"] == "10/10"
    assert row["check_file_ms_median"] > 0 and row["index_build_s"] >= 0
