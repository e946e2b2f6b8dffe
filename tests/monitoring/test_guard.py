"""The import guard's rule, on facts alone."""

from __future__ import annotations

from qalqan.monitoring.guard import FORMAT_CHANGED, OLDER_THAN_LIVE, REMOVES_TOO_MANY, Facts, holds, publication_date


def facts(**kw: object) -> Facts:
    base: dict[str, object] = {"live_total": 1000, "removed": 0, "live_published": "2026-02-27", "new_published": "2026-03-01", "live_format": "un", "new_format": "un"}
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def test_an_ordinary_update_goes_live() -> None:
    assert holds(facts(removed=100)) == []  # exactly 10%: allowed


def test_each_rule_holds_on_its_own() -> None:
    assert [h.rule for h in holds(facts(removed=101))] == [REMOVES_TOO_MANY]
    assert [h.rule for h in holds(facts(new_published="2025-04-19T00:00:00"))] == [OLDER_THAN_LIVE]
    assert [h.rule for h in holds(facts(new_format="csv"))] == [FORMAT_CHANGED]
    assert [h.rule for h in holds(facts(removed=999, new_published="2025-01-01", new_format="csv"))] == [REMOVES_TOO_MANY, OLDER_THAN_LIVE, FORMAT_CHANGED]


def test_the_share_is_configurable_and_the_detail_reads() -> None:
    (hold,) = holds(facts(removed=30), max_removed_share=0.02)
    assert hold.detail == "removes 30 of 1,000 live entities (3%; more than 2% needs confirmation)"
    assert holds(facts(removed=500), max_removed_share=0.5) == []


def test_unknown_dates_and_an_empty_live_version_hold_nothing() -> None:
    assert holds(facts(live_published=None, new_published="1999-01-01")) == []
    assert holds(facts(new_published="not a date")) == []
    assert holds(facts(live_total=0, removed=0)) == []
    assert publication_date("2026-02-27T10:00:00Z").isoformat() == "2026-02-27"  # type: ignore[union-attr]
