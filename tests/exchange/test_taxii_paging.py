"""TAXII 2.1 without HTTP: timestamps, query filters, version selection, and paging that neither
skips nor repeats a record when many share one date_added."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalqan.exchange.taxii import (
    STIX_MEDIA,
    TAXII_MEDIA,
    Filters,
    Page,
    Record,
    TaxiiError,
    cursor_key,
    date_headers,
    envelope,
    format_timestamp,
    manifest,
    page,
    parse_filters,
    parse_timestamp,
    select,
    versions,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ID_A = "indicator--6a3e1b0e-0000-4c61-9c3b-3b7b9a6b1a01"
ID_B = "report--6a3e1b0e-0000-4c61-9c3b-3b7b9a6b1a02"
ID_C = "identity--6a3e1b0e-0000-4c61-9c3b-3b7b9a6b1a03"


def rec(sid: str, version: str, added: datetime, spec: str = "2.1") -> Record:
    return Record(id=sid, type=sid.split("--")[0], version=version, spec_version=spec, date_added=added, obj={"id": sid, "modified": version, "spec_version": spec})


def v(minutes: int) -> str:
    return format_timestamp(T0 + timedelta(minutes=minutes))


def walk(selected: list[Record], limit: int, *, max_limit: int = 1000) -> list[list[Record]]:
    """Every page of `selected`, following `next` until `more` is false."""
    pages: list[list[Record]] = []
    cursor = None
    for _ in range(len(selected) + 2):
        p = page(selected, Filters(limit=limit, next=cursor), max_limit=max_limit)
        pages.append(list(p.records))
        if not p.more:
            assert p.next is None
            return pages
        assert p.next and len(p.records) == min(limit, max_limit)
        cursor = p.next
    raise AssertionError("paging did not end")


# --- timestamps --------------------------------------------------------------------------------


def test_media_types() -> None:
    assert TAXII_MEDIA == "application/taxii+json;version=2.1"
    assert STIX_MEDIA == "application/stix+json;version=2.1"


def test_format_timestamp_is_utc_with_milliseconds_cut_not_rounded() -> None:
    assert format_timestamp(T0) == "2026-12-01T09:00:00.000Z"
    assert format_timestamp(datetime(2026, 12, 1, 9, 0, 0, 999_999, tzinfo=UTC)) == "2026-12-01T09:00:00.999Z"
    east = datetime(2026, 12, 1, 14, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=5)))
    assert format_timestamp(east) == "2026-12-01T09:00:00.123Z"
    assert format_timestamp(datetime(33, 1, 2, tzinfo=UTC)) == "0033-01-02T00:00:00.000Z"
    with pytest.raises(TaxiiError, match="time zone"):
        format_timestamp(datetime(2026, 12, 1))


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T09:00:00Z", T0),
    ("2026-12-01T09:00:00.000Z", T0),
    ("2026-12-01t09:00:00.5z", T0 + timedelta(milliseconds=500)),
    ("2026-12-01T09:00:00.123456789Z", T0 + timedelta(microseconds=123_456)),
    ("2026-12-01T14:30:00+05:30", T0),
    ("2026-12-01T04:00:00-05:00", T0),
])
def test_parse_timestamp_reads_rfc3339(text: str, expected: datetime) -> None:
    got = parse_timestamp(text)
    assert got == expected and got.tzinfo is UTC


@pytest.mark.parametrize("text", ["", "yesterday", "2026-12-01", "2026-12-01T09:00:00", "2026-12-01 09:00:00Z", "2026-13-01T09:00:00Z",
                                  "2026-02-30T09:00:00Z", "2026-12-01T25:00:00Z", "2026-12-01T09:00:00.Z", "2026-12-01T09:00:00+0500"])
def test_parse_timestamp_refuses_what_is_not_rfc3339_naming_the_field(text: str) -> None:
    with pytest.raises(TaxiiError, match="^added_after: ") as err:
        parse_timestamp(text, field="added_after")
    assert err.value.status == 400 and err.value.field == "added_after"


def test_a_timestamp_survives_format_and_parse_at_millisecond_precision() -> None:
    t = datetime(2026, 12, 1, 9, 0, 0, 456_789, tzinfo=UTC)
    assert parse_timestamp(format_timestamp(t)) == t.replace(microsecond=456_000)


# --- parse_filters -----------------------------------------------------------------------------


def test_no_parameters_mean_the_defaults() -> None:
    f = parse_filters({}, max_limit=100)
    assert f == Filters(added_after=None, limit=None, next=None, match_id=(), match_type=(), match_version=("last",), match_spec_version=())


def test_parameters_as_taxii_defines_them() -> None:
    f = parse_filters({
        "added_after": "2026-12-01T09:00:00.000Z",
        "limit": "25",
        "match[id]": f"{ID_A}, {ID_B}",
        "match[type]": "indicator,report",
        "match[version]": "first,2026-12-01T09:00:00Z",
        "match[spec_version]": "2.0,2.1",
        "unrelated": "ignored",
    }, max_limit=100)
    assert f.added_after == T0 and f.limit == 25
    assert f.match_id == (ID_A, ID_B)
    assert f.match_type == ("indicator", "report")
    assert f.match_version == ("first", "2026-12-01T09:00:00Z")
    assert f.match_spec_version == ("2.0", "2.1")


def test_repeated_match_parameters_add_up_without_repeats() -> None:
    f = parse_filters({"match[type]": ["indicator", "report,indicator"]}, max_limit=10)
    assert f.match_type == ("indicator", "report")


def test_limit_is_clamped_to_the_servers_maximum() -> None:
    assert parse_filters({"limit": "5000"}, max_limit=100).limit == 100
    assert parse_filters({"limit": "1"}, max_limit=100).limit == 1


@pytest.mark.parametrize(("params", "name"), [
    ({"limit": "many"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"limit": "-3"}, "limit"),
    ({"limit": "2.5"}, "limit"),
    ({"limit": "١٢"}, "limit"),  # Arabic-Indic digits: isdigit() but not a TAXII integer
    ({"limit": ["1", "2"]}, "limit"),
    ({"limit": ""}, "limit"),
    ({"added_after": "last tuesday"}, "added_after"),
    ({"added_after": ["2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z"]}, "added_after"),
    ({"next": "not-a-cursor"}, "next"),
    ({"next": base64.urlsafe_b64encode(b'["q1","2026-12-01T09:00:00+00:00","x","y","2.1",0]').decode()}, "next"),
    ({"next": base64.urlsafe_b64encode(b'["zz","2026-12-01T09:00:00+00:00","x","y","2.1",1]').decode()}, "next"),
    ({"next": base64.urlsafe_b64encode(b'["q1","2026-12-01T09:00:00","x","y","2.1",1]').decode()}, "next"),
    ({"match[id]": "indicator--not-a-uuid"}, "match[id]"),
    ({"match[id]": "6a3e1b0e-0000-4c61-9c3b-3b7b9a6b1a01"}, "match[id]"),
    ({"match[id]": f"{ID_A},"}, "match[id]"),
    ({"match[type]": "Indicator"}, "match[type]"),
    ({"match[type]": "x"}, "match[type]"),
    ({"match[version]": "newest"}, "match[version]"),
    ({"match[version]": "2026-12-01"}, "match[version]"),
    ({"match[spec_version]": "2"}, "match[spec_version]"),
    ({"match[relationship_type]": "uses"}, "match[relationship_type]"),
    ({"match[type": "indicator"}, "match[type"),
])
def test_bad_parameters_are_400_naming_the_parameter(params: dict[str, str], name: str) -> None:
    with pytest.raises(TaxiiError) as err:
        parse_filters(params, max_limit=100)
    assert err.value.status == 400
    assert err.value.field == name
    assert str(err.value).startswith(f"{name}: ")


# --- select: match filters, versions, added_after ----------------------------------------------


VERSIONED = [
    rec(ID_A, v(0), T0 + timedelta(minutes=1)),
    rec(ID_A, v(10), T0 + timedelta(minutes=11)),
    rec(ID_A, v(20), T0 + timedelta(minutes=21)),
    rec(ID_B, v(5), T0 + timedelta(minutes=6)),
    rec(ID_B, v(15), T0 + timedelta(minutes=16)),
    rec(ID_C, v(3), T0 + timedelta(minutes=4)),
]


def versions_of(records: list[Record]) -> set[tuple[str, str]]:
    return {(r.id, r.version) for r in records}


def test_by_default_the_newest_version_of_each_object() -> None:
    assert versions_of(select(VERSIONED, Filters())) == {(ID_A, v(20)), (ID_B, v(15)), (ID_C, v(3))}


def test_first_last_all_and_combinations() -> None:
    first = select(VERSIONED, Filters(match_version=("first",)))
    assert versions_of(first) == {(ID_A, v(0)), (ID_B, v(5)), (ID_C, v(3))}
    assert len(select(VERSIONED, Filters(match_version=("all",)))) == len(VERSIONED)
    both = select(VERSIONED, Filters(match_version=("first", "last")))
    assert versions_of(both) == {(ID_A, v(0)), (ID_A, v(20)), (ID_B, v(5)), (ID_B, v(15)), (ID_C, v(3))}
    assert len(select(VERSIONED, Filters(match_version=("all", "first")))) == len(VERSIONED)


def test_a_version_timestamp_matches_that_version_exactly_however_written() -> None:
    written_otherwise = (T0 + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")  # no fraction
    assert versions_of(select(VERSIONED, Filters(match_version=(written_otherwise,)))) == {(ID_A, v(10))}
    assert select(VERSIONED, Filters(match_version=(v(11),))) == []
    mixed = select(VERSIONED, Filters(match_version=(v(10), "last")))
    assert versions_of(mixed) == {(ID_A, v(10)), (ID_A, v(20)), (ID_B, v(15)), (ID_C, v(3))}


def test_match_id_and_type_and_together() -> None:
    assert versions_of(select(VERSIONED, Filters(match_type=("report",)))) == {(ID_B, v(15))}
    assert versions_of(select(VERSIONED, Filters(match_id=(ID_C, ID_A)))) == {(ID_A, v(20)), (ID_C, v(3))}
    assert select(VERSIONED, Filters(match_id=(ID_A,), match_type=("report",))) == []


def test_added_after_is_strictly_after_and_versions_are_chosen_among_what_is_left() -> None:
    assert versions_of(select(VERSIONED, Filters(added_after=T0 + timedelta(minutes=16), match_version=("all",)))) == {(ID_A, v(20))}
    # Added exactly at the cursor: not after it.
    assert select(VERSIONED, Filters(added_after=T0 + timedelta(minutes=21))) == []
    # The oldest version among those added after 10:05 is the one of 10:10 for A.
    got = select(VERSIONED, Filters(added_after=T0 + timedelta(minutes=5), match_version=("first",)))
    assert versions_of(got) == {(ID_A, v(10)), (ID_B, v(5))}


def test_spec_version_defaults_to_the_newest_the_server_holds() -> None:
    records = [rec(ID_A, v(0), T0, spec="2.0"), rec(ID_A, v(0), T0, spec="2.1"), rec(ID_B, v(0), T0, spec="2.0")]
    assert {(r.id, r.spec_version) for r in select(records, Filters())} == {(ID_A, "2.1"), (ID_B, "2.0")}
    assert {(r.id, r.spec_version) for r in select(records, Filters(match_spec_version=("2.0",)))} == {(ID_A, "2.0"), (ID_B, "2.0")}


def test_selection_is_ordered_by_date_added_then_id_then_version() -> None:
    same = T0 + timedelta(hours=1)
    records = [rec(ID_B, v(1), same), rec(ID_A, v(2), same), rec(ID_A, v(1), same), rec(ID_C, v(0), T0)]
    got = select(records, Filters(match_version=("all",)))
    assert [(r.id, r.version) for r in got] == [(ID_C, v(0)), (ID_A, v(1)), (ID_A, v(2)), (ID_B, v(1))]


def test_a_naive_date_added_or_a_version_that_is_not_a_time_is_a_server_error() -> None:
    with pytest.raises(TaxiiError, match="date_added") as err:
        select([rec(ID_A, v(0), datetime(2026, 12, 1))], Filters())
    assert err.value.status == 500
    with pytest.raises(TaxiiError, match="version") as err:
        select([rec(ID_A, "v1", T0)], Filters())
    assert err.value.status == 500


# --- paging ------------------------------------------------------------------------------------


def crowd() -> list[Record]:
    """23 records; 9 of them added in the same instant, 4 in another."""
    out = []
    for i in range(10):
        out.append(rec(f"indicator--6a3e1b0e-0000-4c61-9c3b-{i:012d}", v(i), T0 + timedelta(seconds=i)))
    burst = T0 + timedelta(minutes=30)
    for i in range(9):
        out.append(rec(f"report--6a3e1b0e-0000-4c61-9c3b-{i:012d}", v(i), burst))
    other = T0 + timedelta(minutes=31)
    for i in range(4):
        out.append(rec(ID_A, v(40 + i), other))
    return out


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 8, 9, 13, 22, 23, 24, 100])
def test_walking_every_page_returns_the_selection_once_in_order(limit: int) -> None:
    selected = select(crowd(), Filters(match_version=("all",)))
    pages = walk(selected, limit)
    served = [r for p in pages for r in p]
    assert served == selected
    assert len(pages) == max(1, -(-len(selected) // limit))


def test_the_servers_maximum_caps_a_page() -> None:
    selected = select(crowd(), Filters(match_version=("all",)))
    p = page(selected, Filters(limit=50), max_limit=7)
    assert len(p.records) == 7 and p.more
    assert len(page(selected, Filters(), max_limit=7).records) == 7
    assert [r for pg in walk(selected, 50, max_limit=7) for r in pg] == selected


def test_a_page_tells_its_first_and_last_date_added() -> None:
    selected = select(crowd(), Filters(match_version=("all",)))
    p = page(selected, Filters(limit=12), max_limit=100)
    assert p.date_added_first == T0 and p.date_added_last == T0 + timedelta(minutes=30)
    assert date_headers(p) == {"X-TAXII-Date-Added-First": "2026-12-01T09:00:00.000Z", "X-TAXII-Date-Added-Last": "2026-12-01T09:30:00.000Z"}
    empty = page([], Filters(), max_limit=100)
    assert empty == Page(records=(), more=False, next=None, date_added_first=None, date_added_last=None)
    assert date_headers(empty) == {}


def test_the_cursor_names_the_last_record_served() -> None:
    selected = select(crowd(), Filters(match_version=("all",)))
    p = page(selected, Filters(limit=12), max_limit=100)
    last = p.records[-1]
    assert p.next is not None and cursor_key(p.next) == (last.date_added, last.id, last.version)


def test_records_that_arrive_between_pages_are_neither_skipped_nor_repeated() -> None:
    records = crowd()
    first = page(select(records, Filters(match_version=("all",))), Filters(limit=12), max_limit=100)
    # A record that sorts after the cursor (same instant, later id) and one before it arrive.
    late = rec("report--6a3e1b0e-0000-4c61-9c3b-999999999999", v(0), T0 + timedelta(minutes=30))
    early = rec("attack-pattern--6a3e1b0e-0000-4c61-9c3b-000000000000", v(0), T0 + timedelta(minutes=30))
    grown = select([*records, late, early], Filters(match_version=("all",)))
    rest = [r for pg in walk_from(grown, first.next) for r in pg]
    assert late in rest and early not in rest
    assert not set(map(id, rest)) & set(map(id, first.records))
    assert list(first.records) + rest == [r for r in grown if r is not early]


def walk_from(selected: list[Record], cursor: str | None, limit: int = 5) -> list[list[Record]]:
    pages = []
    while True:
        p = page(selected, Filters(limit=limit, next=cursor), max_limit=100)
        pages.append(list(p.records))
        if not p.more:
            return pages
        cursor = p.next


def test_records_with_one_and_the_same_key_are_each_served_once() -> None:
    twin = rec(ID_A, v(0), T0)
    records = [twin, rec(ID_A, v(0), T0), rec(ID_A, v(0), T0), rec(ID_B, v(0), T0)]
    pages = walk(records, 1)
    assert [len(p) for p in pages] == [1, 1, 1, 1]
    assert sorted(map(id, (r for p in pages for r in p))) == sorted(map(id, records))


def test_a_bad_cursor_is_400() -> None:
    with pytest.raises(TaxiiError) as err:
        page(crowd(), Filters(next="bm90IGEgY3Vyc29y"), max_limit=10)
    assert err.value.status == 400 and err.value.field == "next"
    raw = json.dumps(["q1", "2026-12-01T09:00:00+00:00", ID_A, v(0), "2.1", True]).encode()
    with pytest.raises(TaxiiError):
        cursor_key(base64.urlsafe_b64encode(raw).decode())


_STAMPS = [T0 + timedelta(milliseconds=ms) for ms in (0, 0, 1, 1, 1, 500)]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.sampled_from([ID_A, ID_B, ID_C]), st.integers(0, 3), st.sampled_from(_STAMPS), st.sampled_from(["2.0", "2.1"])), max_size=30),
    st.integers(1, 8),
    st.sampled_from([("all",), ("last",), ("first",), ("first", "last")]),
)
def test_paging_any_selection_at_any_limit_serves_it_exactly_once(raw: list[tuple[str, int, datetime, str]], limit: int, version: tuple[str, ...]) -> None:
    records = [rec(sid, v(n), added, spec) for sid, n, added, spec in raw]
    selected = select(records, Filters(match_version=version))
    served = [r for p in walk(selected, limit) for r in p]
    assert [id(r) for r in served] == [id(r) for r in selected]


# --- resources ---------------------------------------------------------------------------------


def test_envelope_has_next_only_with_more_and_no_objects_key_when_empty() -> None:
    selected = select(crowd(), Filters(match_version=("all",)))
    first = page(selected, Filters(limit=5), max_limit=100)
    body = envelope(first)
    assert body["more"] is True and body["next"] == first.next
    assert body["objects"] == [r.obj for r in first.records]
    last = page(selected, Filters(limit=100), max_limit=100)
    assert set(envelope(last)) == {"more", "objects"} and envelope(last)["more"] is False
    assert envelope(page([], Filters(), max_limit=10)) == {"more": False}


def test_manifest_records() -> None:
    p = page([rec(ID_A, "2026-12-01T09:00:00.123456Z", T0 + timedelta(microseconds=7), spec="2.0")], Filters(), max_limit=10)
    assert manifest(p) == {"more": False, "objects": [{
        "id": ID_A, "date_added": "2026-12-01T09:00:00.000Z", "version": "2026-12-01T09:00:00.123456Z", "media_type": "application/stix+json;version=2.0",
    }]}
    assert manifest(page([], Filters(), max_limit=10)) == {"more": False}


def test_versions_resource() -> None:
    records = select(VERSIONED, Filters(match_id=(ID_A,), match_version=("all",)))
    body = versions(page(records, Filters(limit=2), max_limit=10))
    assert body["more"] is True and body["versions"] == [v(0), v(10)] and "next" in body
