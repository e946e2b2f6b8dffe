"""The alert queue's filters and sorts (`service.alerts.list_alerts`) and the dashboard's counts
(`count_alerts_by_age`) against a real store (each backend), on alerts written directly with
known scores, statuses, triggers, assignees and ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qalqan.monitoring.alerts import DecisionError
from qalqan.service import alerts
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.bulk import write_rows
from qalqan.store.db import Database
from qalqan.store.tables import Alert, EntityRecord, ListVersion, Subject

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
LIST = "watch"

#: (key, subject, score, status, trigger, assignee, age in days, updated hours after creation)
ROWS = [
    ("a", "S1", 0.97, "open", "new-subject", None, 0.5, 0),
    ("b", "S1", 0.92, "open", "list-added", "ana", 3, 5),
    ("c", "S2", 0.85, "escalated", "list-amended", "ana", 10, 1),
    ("d", "S2", 0.75, "open", "new-subject", None, 40, 200),
    ("e", "S3", 0.95, "pending_approval", "data-changed", "bea", 2, 30),
    ("f", "S3", 0.90, "false_positive", "new-subject", None, 0.1, 1),
    ("g", "S3", 0.80, "open", "relisted", "bea", 8, 2),
    ("h", "S1", 0.92, "confirmed", "new-subject", None, 20, 3),
]


@pytest.fixture
def q(db: Database, tmp_path: Path) -> tuple[Qalqan, dict[str, int]]:
    service = Qalqan(db, audit_key=bytes(32), clock=FixedClock(NOW))
    listing = tmp_path / "list.csv"
    listing.write_text("id,schema,name\nW1,Person,Nobody In Particular\n", encoding="utf-8")
    service.import_list(f"csv:{listing}", actor="admin", name=LIST)
    with db.transaction() as s:
        version_id = s.execute(select(ListVersion.id).where(ListVersion.list_name == LIST)).scalar_one()
        record_id = s.execute(select(EntityRecord.id).where(EntityRecord.list_name == LIST)).scalar_one()
        write_rows(s, Subject.__table__, [  # type: ignore[arg-type]
            {"external_id": ext, "schema": "Person", "caption": ext, "data": {"name": ext}, "hash": "0" * 64, "tokens": "", "created_at": NOW,
             "updated_at": NOW, "created_by": "test", "removed_at": None, "screened_version": {}}
            for ext in ("S1", "S2", "S3")
        ])
        subject = {ext: sid for ext, sid in s.execute(select(Subject.external_id, Subject.id))}
        rows: list[dict[str, Any]] = []
        # Written oldest first, as the re-screens raise them (ids grow with created_at) ...
        for key, ext, score, status, trigger, assignee, age, updated in sorted(ROWS, key=lambda r: -r[6]):
            created = NOW - timedelta(days=age)
            rows.append({
                "subject_id": subject[ext], "list_name": LIST, "entity_key": key, "generation": 1, "entity_id": key, "entity_caption": key,
                "record_id": record_id, "version_id": version_id, "subject_hash": "0" * 64, "score": score, "explanation": [], "status": status,
                "trigger": trigger, "changes": [], "assignee": assignee, "created_at": created, "updated_at": created + timedelta(hours=updated),
            })
        write_rows(s, Alert.__table__, rows)  # type: ignore[arg-type]
        ids = {key: aid for key, aid in s.execute(select(Alert.entity_key, Alert.id))}
    return service, ids


def keys(page: alerts.Page) -> list[str]:
    return [item["entity_key"] for item in page.items]


def by(**kw: Any) -> list[str]:
    """The ROWS keys matching, newest first (ties by key)."""
    out = [r for r in ROWS if all(f(r) for f in kw.values())]
    return [r[0] for r in sorted(out, key=lambda r: r[6])]


def test_defaults_are_unchanged(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    page = alerts.list_alerts(service)
    assert page.total == len(ROWS) and keys(page) == by()  # newest first
    assert keys(alerts.list_alerts(service, status="open")) == ["a", "b", "g", "d"]
    assert keys(alerts.list_alerts(service, subject="S2")) == ["c", "d"]
    assert keys(alerts.list_alerts(service, assignee="ana")) == ["b", "c"]
    assert keys(alerts.list_alerts(service, list_name="other")) == []
    page = alerts.list_alerts(service, offset=2, limit=3)
    assert (page.total, page.offset, page.limit, keys(page)) == (8, 2, 3, by()[2:5])
    assert page.items[0]["subject"] in ("S1", "S2", "S3")


def test_score_bounds_are_inclusive(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    assert set(keys(alerts.list_alerts(service, min_score=0.92))) == {"a", "b", "e", "h"}
    assert set(keys(alerts.list_alerts(service, max_score=0.8))) == {"d", "g"}
    assert set(keys(alerts.list_alerts(service, min_score=0.85, max_score=0.92))) == {"b", "c", "f", "h"}
    assert alerts.list_alerts(service, min_score=0.99).total == 0
    with pytest.raises(DecisionError) as info:
        alerts.list_alerts(service, min_score=float("nan"))
    assert info.value.kind == "min_score"


def test_trigger(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    assert keys(alerts.list_alerts(service, trigger="new-subject")) == ["f", "a", "h", "d"]
    assert keys(alerts.list_alerts(service, trigger="relisted")) == ["g"]
    with pytest.raises(DecisionError) as info:
        alerts.list_alerts(service, trigger="whim")
    assert info.value.kind == "trigger"


def test_created_window(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    assert keys(alerts.list_alerts(service, created_after=NOW - timedelta(days=7))) == ["f", "a", "e", "b"]
    assert keys(alerts.list_alerts(service, created_before=NOW - timedelta(days=10))) == ["h", "d"]  # before is exclusive ...
    assert keys(alerts.list_alerts(service, created_after=NOW - timedelta(days=10), created_before=NOW - timedelta(days=2))) == ["b", "g", "c"]  # ... after inclusive
    # Naive times are UTC; other offsets are converted.
    assert keys(alerts.list_alerts(service, created_after=(NOW - timedelta(days=1)).replace(tzinfo=None))) == ["f", "a"]
    almaty = timezone(timedelta(hours=5))
    assert keys(alerts.list_alerts(service, created_after=(NOW - timedelta(days=1)).astimezone(almaty))) == ["f", "a"]


def test_assignee_dash_means_unassigned(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    assert keys(alerts.list_alerts(service, assignee="-")) == ["f", "a", "h", "d"]
    assert keys(alerts.list_alerts(service, assignee="-", status="open")) == ["a", "d"]
    assert keys(alerts.list_alerts(service, assignee="bea", statuses=["open", "pending_approval"])) == ["e", "g"]


def test_several_statuses(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    assert keys(alerts.list_alerts(service, statuses=["open", "escalated"])) == ["a", "b", "g", "c", "d"]
    assert keys(alerts.list_alerts(service, statuses=["pending_approval"])) == ["e"]
    # `status` and `statuses` together: any of them.
    assert keys(alerts.list_alerts(service, status="confirmed", statuses=["pending_approval"])) == ["e", "h"]
    assert alerts.list_alerts(service, statuses=[]).total == len(ROWS)
    with pytest.raises(DecisionError) as info:
        alerts.list_alerts(service, statuses=["open", "maybe"])
    assert info.value.kind == "status"


def test_sorts_break_ties_by_id(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, ids = q
    assert keys(alerts.list_alerts(service, sort="created")) == list(reversed(by()))
    assert keys(alerts.list_alerts(service, sort="-created")) == by()
    # b and h both score 0.92: by id in the sort's direction.
    b_first = ids["b"] < ids["h"]
    low_high = ["d", "g", "c", "f", *(["b", "h"] if b_first else ["h", "b"]), "e", "a"]
    assert keys(alerts.list_alerts(service, sort="score")) == low_high
    assert keys(alerts.list_alerts(service, sort="-score")) == list(reversed(low_high))
    updated = sorted(ROWS, key=lambda r: (NOW - timedelta(days=r[6]) + timedelta(hours=r[7]), ids[r[0]]))
    assert keys(alerts.list_alerts(service, sort="updated")) == [r[0] for r in updated]
    assert keys(alerts.list_alerts(service, sort="-updated")) == [r[0] for r in reversed(updated)]
    assert keys(alerts.list_alerts(service, status="open", sort="-score", limit=2)) == ["a", "b"]
    with pytest.raises(DecisionError) as info:
        alerts.list_alerts(service, sort="name")
    assert info.value.kind == "sort" and "-score" in str(info.value)


def test_filters_combine(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    page = alerts.list_alerts(service, statuses=["open", "escalated"], min_score=0.8, trigger="list-amended", created_after=NOW - timedelta(days=30),
                              assignee="ana", subject="S2", list_name=LIST, sort="-score")
    assert (page.total, keys(page)) == (1, ["c"])


def test_count_alerts_by_age(q: tuple[Qalqan, dict[str, int]]) -> None:
    service, _ = q
    counts = alerts.count_alerts_by_age(service, ["open", "escalated"])
    # open/escalated: a (0.5d, 0.97), b (3d, 0.92), c (10d, 0.85), d (40d, 0.75), g (8d, 0.80)
    assert counts["total"] == 5
    assert counts["age"] == {"<1d": 1, "1-7d": 1, "7-30d": 2, ">30d": 1}
    assert counts["score"] == {">=0.95": 1, "0.9-0.95": 1, "0.8-0.9": 2, "<0.8": 1}
    assert counts["statuses"] == ["open", "escalated"]
    # Default: every status still awaiting a decision, pending approval too.
    active = alerts.count_alerts_by_age(service)
    assert active["total"] == 6 and active["age"]["1-7d"] == 2 and active["score"][">=0.95"] == 2
    assert alerts.count_alerts_by_age(service, [])["total"] == 0
    with pytest.raises(DecisionError):
        alerts.count_alerts_by_age(service, ["maybe"])


def test_alerts_raised_by_a_version_for_each_changed_entity(q: tuple[Qalqan, dict[str, int]]) -> None:
    """What a diff page shows beside each change: the alerts that version raised for its entity."""
    service, _ids = q
    with service.db.session() as s:
        version = s.execute(select(Alert.version_id)).scalars().first()
    found = alerts.alerts_raised_by(service, LIST, version, ["a", "b", "zz"])
    assert set(found) == {"a", "b"}
    assert [a["entity_key"] for a in found["a"]] == ["a"] and found["a"][0]["subject"] == "S1"
    assert alerts.alerts_raised_by(service, "another-list", version, ["a"]) == {}
    assert alerts.alerts_raised_by(service, LIST, version + 1000, ["a"]) == {}
