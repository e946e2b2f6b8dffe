"""A re-screen that never ran (the process stopped between an import's commit and its re-screen)
is run by `Qalqan.catch_up`, which `serve` and every import call first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from qalqan.service import alerts, lists, subjects
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import ListVersion

SHARED = Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))
UN_2026 = SHARED / "un" / "un_consolidated_2026-02-27.xml"


def test_an_interrupted_rescreen_is_finished_later(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    q = Qalqan(db, audit_key=bytes(32))
    subjects.add_subjects(q, [{"id": "c1", "name": "Abdulhakim Murad", "birth_date": "1968-04-11"}], actor="test")
    # The import commits; the process "dies" before its re-screen (lists.import_list alone).
    result = lists.import_list(q, f"un:{UN_2026}", actor="test")
    assert result.created
    assert alerts.list_alerts(q).total == 0
    with db.session() as s:
        assert s.execute(select(ListVersion.rescreened_at)).scalar_one() is None

    [summary] = q.catch_up(actor="test")
    assert summary.version_id == result.version_id and summary.alerts_new == 1
    [alert] = alerts.list_alerts(q).items
    assert alert["entity_key"] == "QDi.120"
    with db.session() as s:
        assert s.execute(select(ListVersion.rescreened_at)).scalar_one() is not None
    assert q.catch_up(actor="test") == []  # done once
