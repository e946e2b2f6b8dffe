"""The re-screen's pure parts: subject records, prefilter tokens, and the two claims the delta
re-screen rests on, checked on the real UN list: (1) a subject the prefilter drops gets no result
at all from the delta screener; (2) the delta screener (full list's rarity) scores a pair exactly
as a screener over the whole list does."""

from __future__ import annotations

import csv
import itertools
import random
from functools import lru_cache

import pytest

from qalqan.matching.compiled import compile_query
from qalqan.matching.screener import Screener
from qalqan.model import Entity, Name, Query
from qalqan.monitoring.rescreen import (
    NAME_SEPARATOR,
    Prefilter,
    RowError,
    SubjectRecord,
    delta_screener,
    prepare_subject,
    query_of,
    subject_tokens,
)
from qalqan.sources.queries import make_query
from qalqan.sources.registry import read_list
from tests.conftest import shared_data

UN_2026 = "un_consolidated_2026-02-27.xml"
UN_2025 = "un_consolidated_2025-04-19_reserialized.xml"


def test_prepare_subject_normalises_and_hashes() -> None:
    a = prepare_subject({"id": " C1 ", "name": " Ali  Khan ", "birth_date": "1970-01-02", "gender": ""}, 1)
    b = prepare_subject({"id": "C1", "name": "Ali  Khan", "birth_date": " 1970-01-02", "schema": "Person"}, 7)
    assert isinstance(a, SubjectRecord) and isinstance(b, SubjectRecord)
    assert a.external_id == "C1" and a.data == {"name": "Ali  Khan", "birth_date": "1970-01-02", "schema": "Person"}
    assert a.hash == b.hash  # whitespace and a defaulted schema are not a change
    c = prepare_subject({"id": "C1", "name": "Ali Khan", "birth_date": "1971"}, 1)
    assert isinstance(c, SubjectRecord) and c.hash != a.hash
    assert query_of("C1", a.data).names == ("Ali  Khan",)


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({"name": "Ali Khan"}, "id", "missing id"),
        ({"id": "  ", "name": "Ali Khan"}, "id", "missing id"),
        ({"id": "C2", "name": ""}, "name", "empty name"),
    ],
)
def test_prepare_subject_errors_name_row_and_field(values: dict[str, str], field: str, fragment: str) -> None:
    err = prepare_subject(values, 12)
    assert isinstance(err, RowError)
    assert (err.row, err.field) == (12, field)
    assert fragment in err.message


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({"id": "C3", "name": "Ali", "birth_date": "31/31/1970"}, "birth_date", "month out of range"),
        ({"id": "C4", "name": "Ali", "nationality": "Atlantis"}, "nationality", "Atlantis"),
        ({"id": "C5", "name": "Ali", "schema": "Spaceship"}, "schema", "Spaceship"),
    ],
)
def test_prepare_subject_keeps_a_subject_with_one_bad_value_and_warns(values: dict[str, str], field: str, fragment: str) -> None:
    # (These used to be refused whole.) The subject is screened without the bad value.
    rec = prepare_subject(values, 12)
    assert isinstance(rec, SubjectRecord) and rec.query.names == ("Ali",)
    [warning] = rec.warnings
    assert warning.field == field and fragment in warning.message
    assert query_of(rec.external_id, rec.data) == rec.query  # the stored data reads back to the same query


def test_subject_tokens_skip_particles_and_carry_documents() -> None:
    q = make_query({"name": "Abu Bakr al-Baghdadi", "document_number": "A-00123 45"}, "x")
    tokens = subject_tokens(compile_query(q)).split(" ")
    assert "#a0012345" in tokens  # normalised as the index does: no dashes, spaces or case
    assert all(t for t in tokens) and "al" not in tokens
    assert tokens[0] == NAME_SEPARATOR  # stored name by name
    names = " ".join(t for t in tokens if not t.startswith(("#", "="))).split(NAME_SEPARATOR)[1:]
    assert len(names) >= 2  # the name as written and its reading with the prefix apart
    for name in names:
        keys = name.split()
        assert keys and len(keys) == len(set(keys))
    assert len(names) == len(set(names))


def test_the_prefilter_decides_name_by_name_and_reads_old_tokens_inclusively() -> None:
    delta = Screener([Entity("x-1", "Organization", "x", "1", (Name("TALIBAN MOVEMENT"),))])
    prefilter = Prefilter(delta)
    key = compile_query(make_query({"name": "Movement", "schema": "Organization"}, "k")).names[0].tokens[0].key
    # one name of five rare tokens, one of them reached: under min_coverage of that name
    assert not prefilter.candidate(f"{NAME_SEPARATOR} {key} zzqx qqzv wwxq xxqz")
    # a second, lighter name of the subject covers enough: a candidate
    assert prefilter.candidate(f"{NAME_SEPARATOR} {key} zzqx qqzv wwxq xxqz {NAME_SEPARATOR} {key} zzqx")
    # tokens stored before names were kept apart: any reached token makes a candidate
    assert prefilter.candidate(f"{key} zzqx qqzv wwxq xxqz")
    assert not prefilter.candidate("zzqx qqzv wwxq")


def test_a_ship_known_only_by_its_imo_number_passes_the_prefilter() -> None:
    """The delta re-screen must reach a watched ship whose name differs from the listing when its
    IMO number matches: the prefilter carries every exact key, not only document numbers."""
    from qalqan.model import Document, Name, NameKind

    ship = Entity("x-1", "Vessel", "x", "1", (Name("OCEAN DAWN", NameKind.PRIMARY),), documents=(Document("9123453", "IMO number"),))
    delta = Screener([ship])
    query = make_query({"name": "Completely Other Name", "imo": "IMO 9123453", "schema": "Vessel"}, "s1")
    tokens = subject_tokens(compile_query(query))
    assert "#imo:9123453" in tokens.split(" ")
    assert Prefilter(delta).candidate(tokens)
    assert delta.match(query)  # and the screen itself finds it


@lru_cache(maxsize=1)
def _un() -> tuple[Screener, list[Entity], list[Entity]]:
    loaded = read_list(f"un:{shared_data() / 'un' / UN_2026}")
    full = Screener(loaded.entities, [loaded.info])
    # The "delta": every fifth entity plus all the Iranian listings (what 2026 added).
    delta = [e for i, e in enumerate(loaded.entities) if i % 5 == 0 or (e.reference or "").startswith("IR")]
    return full, loaded.entities, delta


def _queries() -> list[Query]:
    rng = random.Random(7)
    old = read_list(f"un:{shared_data() / 'un' / UN_2025}").entities
    out = [make_query({"name": n.value, "schema": e.schema}, f"{e.id}-{i}") for e in old for i, n in enumerate(e.names[:3])]
    with open(shared_data() / "matching" / "yente_candidate_generation" / "negatives_us.csv", newline="", encoding="utf-8") as fh:
        for row in itertools.islice(csv.DictReader(fh), 1500):
            out.append(make_query({"name": row["full_name"]}, row["full_name"]))
    given = [e.names[0].value.split()[0] for e in old if e.schema == "Person" and " " in e.names[0].value]
    family = [e.names[0].value.split()[-1] for e in old if e.schema == "Person" and " " in e.names[0].value]
    out += [make_query({"name": f"{rng.choice(given)} {rng.choice(family)}"}, f"mix{i}") for i in range(1500)]
    return out


@pytest.mark.shared
def test_prefilter_drops_only_subjects_the_delta_cannot_retrieve() -> None:
    full, _, delta_entities = _un()
    delta = delta_screener(delta_entities, full.lists, full.index.rarity, full.threshold, full.config)
    prefilter = Prefilter(delta)
    dropped = kept = 0
    for query in _queries():
        if prefilter.candidate(subject_tokens(compile_query(query))):
            kept += 1
            continue
        dropped += 1
        assert delta.match(query, limit=50, cutoff=0.0) == [], query.names
    # Not vacuous: the prefilter decides both ways on this population.
    assert dropped > 300 and kept > 300, (dropped, kept)


@pytest.mark.shared
def test_delta_screener_scores_pairs_as_the_full_screener_does() -> None:
    full, _, delta_entities = _un()
    delta = delta_screener(delta_entities, full.lists, full.index.rarity, full.threshold, full.config)
    wanted = {e.id for e in delta_entities}
    compared = 0
    for query in _queries()[::3]:
        ours = {m.entity.id: m for m in delta.match(query, limit=50, cutoff=0.5)}
        theirs = {m.entity.id: m for m in full.match(query, limit=50, cutoff=0.5) if m.entity.id in wanted}
        for eid in ours.keys() & theirs.keys():
            assert ours[eid].score == theirs[eid].score, (query.names, eid)
            assert [f.as_dict() for f in ours[eid].explanation] == [f.as_dict() for f in theirs[eid].explanation]
            compared += 1
        # Whatever the full screen finds among the changed entities, the delta finds too.
        assert theirs.keys() <= ours.keys(), (query.names, theirs.keys() - ours.keys())
    assert compared > 200


def test_default_screener_behaviour_is_unchanged_by_the_rarity_option() -> None:
    from qalqan.cli import demo_list_path
    from qalqan.sources.registry import read_list as read

    loaded = read(f"csv:{demo_list_path()}")
    a = Screener(loaded.entities, [loaded.info])
    b = Screener(loaded.entities, [loaded.info], rarity=a.index.rarity)
    q = make_query({"name": "Kareem Yousef Al Fairouzi", "birth_date": "1971"}, "q")
    assert [(m.entity.id, m.score) for m in a.match(q)] == [(m.entity.id, m.score) for m in b.match(q)]


def test_which_amendments_can_change_a_score() -> None:
    from qalqan.monitoring.rescreen import changes_matching

    assert changes_matching("added", [])
    assert changes_matching("amended", [{"field": "notes"}, {"field": "names"}])
    assert changes_matching("amended", [])  # unknown: assume it can
    assert not changes_matching("amended", [{"field": "id"}, {"field": "source_id"}, {"field": "notes"}, {"field": "addresses"}])
