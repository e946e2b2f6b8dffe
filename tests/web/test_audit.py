"""The audit page (auditors only): the entries, newest first, filtered by actor, action, target
and date; the chain's verification; the CSV / JSON lines export; the role and CSRF refusals; data
shown as text."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select

from qalqan.store.tables import AuditEntry

from .conftest import Web, csrf

SCRIPT = "<script>alert(1)</script>"
ACTOR_CELL = re.compile(r'<td><bdi dir="auto">([^<]*)</bdi></td>\s*<td><code dir="ltr">([^<]*)</code></td>')
SEQ_CELL = re.compile(r'<td class="n mono">(\d+)</td>')
TOTAL = re.compile(r'<span class="muted count">\((\d[\d\u202f]*)\)</span>')


def rows(html: str) -> list[tuple[str, str]]:
    """(actor, action) of each entry on the page."""
    return ACTOR_CELL.findall(html)


def total(html: str) -> int:
    found = TOTAL.search(html)
    assert found, "no entry count on the page"
    return int(found.group(1).replace("\u202f", ""))


@pytest.fixture(scope="module")
def aw(web: Web) -> Web:
    """The demo store, an analyst's login (web.login by analyst), and an entry carrying markup."""
    web.client("analyst")
    with web.service.transaction() as s:
        web.service.audit(s, actor=f"intruder {SCRIPT}", action="screen", target=f"subject:{SCRIPT}", purpose=f"case {SCRIPT}",
                          detail={"name": SCRIPT, "note": "x" * 200})
        web.service.audit(s, actor="test", action="list.import", target="=HYPERLINK(\"http://evil\")", detail={})
    return web


@pytest.fixture(scope="module")
def auditor(aw: Web):  # type: ignore[no-untyped-def]
    return aw.client("auditor")


def test_the_auditor_sees_the_entries_newest_first(auditor) -> None:  # type: ignore[no-untyped-def]
    r = auditor.get("/ui/audit")
    assert r.status_code == 200, r.text[:500]
    assert "<h1>Audit log</h1>" in r.text
    found = rows(r.text)
    assert ("analyst", "web.login") in found and ("auditor", "web.login") in found
    seqs = [int(s) for s in SEQ_CELL.findall(r.text)]
    assert seqs and seqs == sorted(seqs, reverse=True)
    assert 'href="/ui/audit" aria-current="page"' in r.text  # the navigation shows Audit to an auditor
    assert "Verify the chain" in r.text and 'hx-post="/ui/audit/verify"' in r.text


def test_paging_uses_the_pager(aw: Web, auditor) -> None:  # type: ignore[no-untyped-def]
    with aw.service.transaction() as s:
        for i in range(60):
            aw.service.audit(s, actor="pager-test", action="screen", target=f"row:{i}")
    first = auditor.get("/ui/audit", params={"actor": "pager-test"})
    assert total(first.text) == 60 and len(rows(first.text)) == 50
    assert 'class="pager"' in first.text and re.search(r'href="/ui/audit\?actor=pager-test&(amp;)?offset=50"', first.text)
    second = auditor.get("/ui/audit", params={"actor": "pager-test", "offset": 50})
    assert len(rows(second.text)) == 10
    assert set(SEQ_CELL.findall(first.text)).isdisjoint(SEQ_CELL.findall(second.text))


def test_filters_narrow_the_entries(auditor) -> None:  # type: ignore[no-untyped-def]
    everything = total(auditor.get("/ui/audit").text)
    by_actor = auditor.get("/ui/audit", params={"actor": "analyst"})
    assert by_actor.status_code == 200
    assert rows(by_actor.text) and all(actor == "analyst" for actor, _ in rows(by_actor.text))
    assert total(by_actor.text) < everything
    by_action = auditor.get("/ui/audit", params={"action": "web.login"})
    assert rows(by_action.text) and all(action == "web.login" for _, action in rows(by_action.text))
    both = auditor.get("/ui/audit", params={"actor": "analyst", "action": "web.login"})
    assert rows(both.text) == [("analyst", "web.login")]
    prefix = auditor.get("/ui/audit", params={"action": "web.*"})
    assert {a for _, a in rows(prefix.text)} >= {"web.login", "web.purpose"} and all(a.startswith("web.") for _, a in rows(prefix.text))
    target = auditor.get("/ui/audit", params={"target": "user:*"})
    assert rows(target.text) and all(a.startswith("user.") for _, a in rows(target.text))
    none = auditor.get("/ui/audit", params={"actor": "nobody-at-all"})
    assert "No entry matches these filters." in none.text
    # htmx (the filter form) gets the table alone
    partial = auditor.get("/ui/audit", params={"actor": "analyst"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.text.lstrip().startswith('<section id="entries"') and "<html" not in partial.text


def test_date_range(auditor) -> None:  # type: ignore[no-untyped-def]
    today = datetime.now(UTC).date()
    same = auditor.get("/ui/audit", params={"from": today.isoformat(), "to": today.isoformat()})
    assert total(same.text) == total(auditor.get("/ui/audit").text)
    later = auditor.get("/ui/audit", params={"from": (today + timedelta(days=1)).isoformat()})
    assert "No entry matches these filters." in later.text
    earlier = auditor.get("/ui/audit", params={"to": (today - timedelta(days=1)).isoformat()})
    assert "No entry matches these filters." in earlier.text


def test_filter_errors_name_the_field(auditor) -> None:  # type: ignore[no-untyped-def]
    r = auditor.get("/ui/audit", params={"from": "2026-13-45"})
    assert r.status_code == 422
    assert 'id="e-from"' in r.text and "From (UTC day): Not a date" in r.text and 'aria-invalid="true" aria-describedby="e-from"' in r.text
    r = auditor.get("/ui/audit", params={"from": "2026-05-02", "to": "2026-05-01"})
    assert r.status_code == 422 and "To (UTC day): The end date is before the start date." in r.text
    htmx = auditor.get("/ui/audit", params={"from": "x"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and 'id="e-from"' in htmx.text  # htmx swaps 2xx only


def test_markup_in_an_entry_is_shown_as_text(auditor) -> None:  # type: ignore[no-untyped-def]
    r = auditor.get("/ui/audit", params={"action": "screen", "actor": f"intruder {SCRIPT}"})
    assert r.status_code == 200
    assert SCRIPT not in r.text
    assert "intruder &lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "subject:&lt;script&gt;" in r.text and "case &lt;script&gt;" in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text.split('class="detail"', 1)[1]
    assert "<details>" in r.text and "<pre" in r.text  # a long detail is folded


def test_verify_reports_ok(auditor) -> None:  # type: ignore[no-untyped-def]
    token = csrf(auditor, "/ui/audit")
    r = auditor.post("/ui/audit/verify", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200
    assert "The chain is intact" in r.text and 'class="ok"' in r.text and "<html" not in r.text
    full = auditor.post("/ui/audit/verify", data={"csrf": token})
    assert full.status_code == 200 and "<h1>Audit log</h1>" in full.text and "The chain is intact" in full.text


def test_verify_needs_the_csrf_token(auditor) -> None:  # type: ignore[no-untyped-def]
    assert auditor.post("/ui/audit/verify", headers={"HX-Request": "true"}).status_code == 403
    assert auditor.post("/ui/audit/verify", data={"csrf": "stale"}).status_code == 403


def test_verify_names_an_edited_entry(aw: Web, auditor) -> None:  # type: ignore[no-untyped-def]
    with aw.service.db.session() as s, s.begin():
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "web.login", AuditEntry.actor == "analyst")).scalars().first()
        assert entry is not None
        seq, original = entry.seq, entry.detail
        entry.detail = '{"client":"elsewhere","role":"admin"}'
    try:
        r = auditor.post("/ui/audit/verify", headers={"HX-Request": "true", "X-CSRF-Token": csrf(auditor, "/ui/audit")})
        assert r.status_code == 200
        assert "Problems found: 1." in r.text and "Edited entry" in r.text and f"entry {seq} (web.login by analyst" in r.text
    finally:
        with aw.service.db.session() as s, s.begin():
            s.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar_one().detail = original


def test_export_csv(aw: Web, auditor) -> None:  # type: ignore[no-untyped-def]
    shown = total(auditor.get("/ui/audit", params={"action": "web.*"}).text)
    r = auditor.get("/ui/audit/export", params={"action": "web.*", "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(r'attachment; filename="qalqan-audit-\d{8}T\d{6}Z\.csv"', r.headers["content-disposition"])
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == ["seq", "at", "actor", "action", "target", "purpose", "input_hash", "detail", "prev_hash", "hash"]
    assert len(table) - 1 == shown and all(row[3].startswith("web.") for row in table[1:])
    seqs = [int(row[0]) for row in table[1:]]
    assert seqs == sorted(seqs, reverse=True)
    # a cell a spreadsheet would run as a formula is quoted
    formula = auditor.get("/ui/audit/export", params={"action": "list.import", "format": "csv"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in formula and ",=HYPERLINK" not in formula
    # the export is itself recorded, with its filters and size
    with aw.service.db.session() as s:
        last = s.execute(select(AuditEntry).where(AuditEntry.action == "audit.export").order_by(AuditEntry.seq.desc())).scalars().first()
    assert last is not None and last.actor == "auditor"
    assert orjson.loads(last.detail)["format"] == "csv"


def test_export_json_lines(auditor) -> None:  # type: ignore[no-untyped-def]
    r = auditor.get("/ui/audit/export", params={"actor": "analyst", "format": "jsonl"})
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('.jsonl"')
    items = [orjson.loads(line) for line in r.content.splitlines()]
    assert items and all(i["actor"] == "analyst" for i in items)
    assert {"seq", "at", "action", "target", "purpose", "detail", "hash", "prev_hash"} <= set(items[0])
    assert isinstance(items[0]["detail"], dict)
    script = auditor.get("/ui/audit/export", params={"actor": f"intruder {SCRIPT}", "format": "jsonl"})
    assert orjson.loads(script.content.splitlines()[0])["detail"]["name"] == SCRIPT  # the data exactly, as data


def test_export_refuses_an_unknown_format(auditor) -> None:  # type: ignore[no-untyped-def]
    r = auditor.get("/ui/audit/export", params={"format": "xlsx"})
    assert r.status_code == 422 and 'id="e-format"' in r.text


@pytest.mark.parametrize("role", ["analyst", "admin", "supervisor"])
def test_other_roles_are_refused(aw: Web, role: str) -> None:
    client = aw.client(role)
    page = client.get("/")
    assert 'href="/ui/audit"' not in page.text  # no Audit in their navigation
    assert client.get("/ui/audit").status_code == 403
    assert client.get("/ui/audit/export", params={"format": "csv"}).status_code == 403
    token = csrf(client)
    assert client.post("/ui/audit/verify", headers={"X-CSRF-Token": token}).status_code == 403
    assert client.post("/ui/audit/verify", data={"csrf": token}).status_code == 403


def test_logged_out_goes_to_the_login_form(aw: Web) -> None:
    client = aw.client(None)
    r = client.get("/ui/audit")
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")
