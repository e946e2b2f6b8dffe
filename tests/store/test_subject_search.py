"""`list_subjects(search=...)`: the subjects page's search, in SQL on each backend."""

from __future__ import annotations

from qalqan.service import subjects
from qalqan.service.core import Qalqan
from qalqan.store.db import Database


def test_search_matches_id_or_name_and_takes_wildcards_literally(db: Database) -> None:
    service = Qalqan(db, audit_key=bytes(32))
    rows = [
        {"id": "CUST-001", "name": "Ivan Petrov"},
        {"id": "CUST-002", "name": "Алия Серікқызы"},
        {"id": "100%_SAFE", "name": "Acme Trading LLP", "schema": "Organization"},
    ]
    result = subjects.add_subjects(service, rows, actor="test", purpose="test")
    assert result.added == 3, result.as_dict()
    def ids(text: str) -> list[str]:
        return [s["id"] for s in subjects.list_subjects(service, search=text).items]
    assert ids("petrov") == ["CUST-001"]  # case-insensitive, in the name
    assert ids("cust-00") == ["CUST-001", "CUST-002"]  # in the id
    assert ids("Серік") == ["CUST-002"]  # as written, in Cyrillic
    assert ids("%") == ["100%_SAFE"]  # a LIKE wildcard is a literal character
    assert ids("_") == ["100%_SAFE"]
    assert ids("nobody") == []
    assert subjects.list_subjects(service, search="cust").total == 2
