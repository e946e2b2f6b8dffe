"""Candidate retrieval (`NameIndex.candidates`) on hand-made lists: a query's names are
alternatives, and the plain-Python and numpy ways of counting agree."""

from __future__ import annotations

import random

import pytest

from qalqan.matching import index as index_module
from qalqan.matching.compiled import compile_query
from qalqan.matching.screener import Screener
from qalqan.model import Entity, Name, NameKind, Query


def entity(eid: str, *names: str) -> Entity:
    built = tuple(Name(n, NameKind.PRIMARY if i == 0 else NameKind.ALIAS) for i, n in enumerate(names))
    return Entity(f"t-{eid}", "Person", "t", eid, built, reference=f"REF.{eid}")


def shortlist(screener: Screener, *names: str, limit: int = 5, variants: bool = True) -> list[tuple[str, float]]:
    compiled = compile_query(Query(names))
    tokens = [t for n in compiled.names for t in n.tokens]
    found, _, _ = screener.index.candidates(tokens, limit, names=[n.tokens for n in compiled.names] if variants else ())
    return [(screener._entities[idx].id, gain) for idx, gain in found]


def test_a_candidate_holding_one_query_name_whole_outranks_scattered_tokens_of_two() -> None:
    # every word is in one entity only, so every token weighs the same
    screener = Screener(
        [
            entity("whole", "Zorbek Quallin"),
            entity("scattered", "Mirtal Sovenko Zorbek"),
            *(entity(f"f{i}", f"Filler{chr(97 + i)}x Name{chr(97 + i)}y") for i in range(20)),
        ]
    )
    query = ("Zorbek Quallin", "Mirtal Sovenko Tarquin")
    flat = shortlist(screener, *query, variants=False)
    by_name = shortlist(screener, *query)
    assert flat[0][0] == "t-scattered", "summed over both names, the three scattered tokens win"
    assert by_name[0][0] == "t-whole"
    assert by_name[1][0] == "t-scattered"
    assert by_name[0][1] > by_name[1][1]


def test_one_name_alone_is_counted_as_before() -> None:
    screener = Screener([entity("a", "Zorbek Quallin"), entity("b", "Zorbek Mirtal"), entity("c", "Sovenko Tarquin")])
    assert shortlist(screener, "Zorbek Quallin") == shortlist(screener, "Zorbek Quallin", variants=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_numpy_and_plain_counting_give_the_same_shortlist(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    syllables = ["ab", "dul", "ra", "man", "ka", "rim", "zor", "bek", "mir", "tal", "so", "ven", "ko", "al"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()

    listed = [entity(str(i), " ".join(word() for _ in range(rng.randint(2, 4)))) for i in range(3000)]
    screener = Screener(listed)
    queries = [(f"{word()} {word()} {word()}", f"{word()} {word()}") for _ in range(15)]
    queries += [(f"Abdul {word()} {word()}",) for _ in range(10)]  # glued and unglued readings
    results = {}
    for name, threshold in (("plain", 10**12), ("numpy", 0)):
        monkeypatch.setattr(index_module, "_NUMPY_FROM", threshold)
        results[name] = [shortlist(screener, *q, limit=10) for q in queries]
    for plain, vectorised, query in zip(results["plain"], results["numpy"], queries, strict=True):
        assert [i for i, _ in plain] == [i for i, _ in vectorised], query
        # numpy's gains carry the tie-breaking name mass (1e-6 x mass); the order is the same
        assert [g for _, g in plain] == pytest.approx([g for _, g in vectorised], abs=1e-4), query
