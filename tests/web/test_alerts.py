"""The alert pages: the queue (filters, sort, htmx partial), the review (side by side, audited
view) and the decision form (reason required, four eyes, role and CSRF refusals)."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from qalqan.service import alerts, subjects
from qalqan.store.tables import Alert, AuditEntry, Subject
from .conftest import PASSWORD, PURPOSE, Web, csrf

ROW_ID = re.compile(r'<td class="n"><a href="/ui/alerts/(\d+)"')
XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def aw(web: Web) -> Web:
    """The demo store and four more subjects: each matches a listed entity (one scores below 1)."""
    subjects.add_subjects(web.service, [
        {"id": "T-1", "name": "Abd al-Wahid Nasir Bayraqdar", "birth_date": "1966", "nationality": "Syria"},
        {"id": "T-2", "name": "Mahmoud Tawaqi", "nationality": "Iraq"},
        {"id": "T-4", "name": "Khalid Mustafa Dhahabani", "document_number": "K2281077"},
        {"id": "T-5", "name": "Ibrahim Sulayman Tarabulusi", "birth_date": "1988-01-19"},
    ], actor="test", purpose="web tests")
    # A hostile caption on each side of one alert (as a client's system or a list could send it).
    with web.service.db.session() as s, s.begin():
        subject = s.execute(select(Subject).where(Subject.external_id == "T-5")).scalar_one()
        subject.caption = f"Ibrahim {XSS}"
        subject.data = {**subject.data, "name": f"Ibrahim Sulayman Tarabulusi {XSS}"}
        alert = s.execute(select(Alert).where(Alert.subject_id == subject.id)).scalar_one()
        alert.entity_caption = f"Ibrahim {SCRIPT}"
    return web


def alert_of(web: Web, subject: str) -> dict[str, Any]:
    page = alerts.list_alerts(web.service, subject=subject, limit=10)
    assert page.total == 1, (subject, page.items)
    return page.items[0]


def status_of(web: Web, alert_id: int) -> str:
    with web.service.db.session() as s:
        return s.get(Alert, alert_id).status  # type: ignore[union-attr]


def rows(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


def test_queue_lists_open_alerts(aw: Web) -> None:
    r = aw.client("analyst").get("/ui/alerts")
    assert r.status_code == 200
    open_ids = {a["id"] for a in alerts.list_alerts(aw.service, statuses=["open"], limit=100).items}
    assert open_ids and open_ids <= set(rows(r.text))
    assert "Karim Yusuf al-Fayruzi" in r.text and "C00009" in r.text
    assert 'class="bar"' in r.text and "s-open" in r.text
    # the default statuses are checked in the filter form
    for s in ("open", "escalated", "pending_approval"):
        assert f'id="f-status-{s}" name="status" value="{s}" checked' in r.text
    assert 'id="f-status-confirmed" name="status" value="confirmed">' in r.text


def test_filters_change_the_rows(aw: Web) -> None:
    c = aw.client("analyst")
    everything = rows(c.get("/ui/alerts").text)
    low = alert_of(aw, "T-2")
    assert low["score"] < 0.99 and low["id"] in everything
    assert rows(c.get("/ui/alerts?status=confirmed&status=closed").text) == []
    assert "No alert matches these filters." in c.get("/ui/alerts?list=nonesuch").text
    assert set(rows(c.get("/ui/alerts?list=demo").text)) == set(everything)
    high = rows(c.get("/ui/alerts?min_score=0.99").text)
    assert low["id"] not in high and high
    assert rows(c.get("/ui/alerts?max_score=0.99").text) == [low["id"]]
    assert rows(c.get("/ui/alerts?subject=T-2&trigger=relisted").text) == []
    assert rows(c.get("/ui/alerts?assignee=-").text) == everything
    assert rows(c.get("/ui/alerts?assignee=me").text) == []
    assert rows(c.get("/ui/alerts?age=older").text) == []
    assert set(rows(c.get("/ui/alerts?age=1d").text)) == set(everything)


def test_bad_filter_is_named(aw: Web) -> None:
    r = aw.client("analyst").get("/ui/alerts?max_score=abc")
    assert r.status_code == 422
    assert "Score to: enter a number from 0 to 1" in r.text
    assert 'aria-invalid="true" aria-describedby="e-max_score"' in r.text


def test_sort_by_score(aw: Web) -> None:
    c = aw.client("analyst")
    low = alert_of(aw, "T-2")["id"]
    ascending = c.get("/ui/alerts?sort=score")
    assert rows(ascending.text)[0] == low
    assert re.search(r'<th scope="col" aria-sort="ascending"><a class="sort" href="/ui/alerts\?[^"]*sort=-score"', ascending.text)
    descending = rows(c.get("/ui/alerts?sort=-score").text)
    assert descending[-1] == low
    assert rows(c.get("/ui/alerts?sort=created").text) == sorted(descending)


def test_htmx_gets_the_table_alone(aw: Web) -> None:
    r = aw.client("analyst").get("/ui/alerts?sort=score&status=open", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and '<section id="queue"' in r.text
    assert re.search(r'<select id="f-sort" name="sort" hx-swap-oob="true">.*?<option value="score" selected>', r.text, re.S)


def test_queue_form_keeps_the_url(aw: Web) -> None:
    html = aw.client("analyst").get("/ui/alerts").text
    assert 'method="get" action="/ui/alerts"' in html and 'hx-push-url="true"' in html


def test_auditor_may_not_open_alerts(aw: Web) -> None:
    c = aw.client("auditor")
    assert c.get("/ui/alerts").status_code == 403
    assert c.get(f"/ui/alerts/{alert_of(aw, 'T-2')['id']}").status_code == 403


def test_review_side_by_side_and_audited(aw: Web) -> None:
    alert = alert_of(aw, "C00010")
    r = aw.client("analyst").get(f"/ui/alerts/{alert['id']}")
    assert r.status_code == 200
    assert 'class="side-by-side compare"' in r.text
    assert "Sameera El Kamari" not in r.text or '<span class="hit">Sameera</span>' in r.text
    assert "سميرة هادي القمري" in r.text and 'data-script="Arabic"' in r.text
    assert '<span class="value hit">~1980</span>' in r.text  # the date the explanation matched
    assert "Lebanon (lb)" in r.text and "DEMO.002" in r.text and "2024-01-15" in r.text
    assert "version 1" in r.text
    with aw.service.db.session() as s:
        views = s.execute(select(AuditEntry).where(AuditEntry.action == "alert.view", AuditEntry.target == f"alert:{alert['id']}")).scalars().all()
    assert views and views[-1].actor == "analyst" and views[-1].purpose == PURPOSE
    assert "views recorded in the audit log" in r.text or "view recorded in the audit log" in r.text


def test_unknown_alert_is_404(aw: Web) -> None:
    assert aw.client("analyst").get("/ui/alerts/999999").status_code == 404


def test_hostile_captions_are_escaped(aw: Web) -> None:
    c = aw.client("analyst")
    alert = alert_of(aw, "T-5")
    for html in (c.get("/ui/alerts").text, c.get(f"/ui/alerts/{alert['id']}").text):
        assert XSS not in html and SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get("/ui/alerts").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in c.get(f"/ui/alerts/{alert['id']}").text


def test_analyst_marks_false_positive(aw: Web) -> None:
    c = aw.client("analyst")
    alert = alert_of(aw, "T-4")
    r = c.post(f"/ui/alerts/{alert['id']}/decide", data={"action": "false_positive", "reason": "different person: other date of birth", "csrf": csrf(c)})
    assert r.status_code == 303
    assert r.headers["location"] == f"/ui/alerts?decided={alert['id']}&to=false_positive"
    queue = c.get(r.headers["location"]).text
    assert f"Alert {alert['id']} is now: false positive." in queue
    assert alert["id"] not in rows(queue)
    assert alert["id"] in rows(c.get("/ui/alerts?status=false_positive").text)
    with aw.service.db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "alert.decide", AuditEntry.target == f"alert:{alert['id']}")).scalars().one()
    detail = orjson.loads(entry.detail)
    assert entry.actor == "analyst" and detail["action"] == "false_positive" and detail["reason"] == "different person: other date of birth"
    history = c.get(f"/ui/alerts/{alert['id']}").text
    assert "different person: other date of birth" in history and "No decision is open to you" in history


def test_empty_reason_is_refused_in_the_form(aw: Web) -> None:
    c = aw.client("analyst")
    alert = alert_of(aw, "C00009")
    r = c.post(f"/ui/alerts/{alert['id']}/decide", data={"action": "escalate", "reason": "   ", "csrf": csrf(c)})
    assert r.status_code == 422
    assert "Reason: a decision needs a reason" in r.text
    assert 'name="reason" required maxlength="10000" rows="4" aria-invalid="true"' in r.text
    assert status_of(aw, alert["id"]) == "open"


def test_decision_without_csrf_is_refused(aw: Web) -> None:
    c = aw.client("analyst")
    alert = alert_of(aw, "C00009")
    r = c.post(f"/ui/alerts/{alert['id']}/decide", data={"action": "escalate", "reason": "looks like him"})
    assert r.status_code == 403
    r = c.post(f"/ui/alerts/{alert['id']}/decide", data={"action": "escalate", "reason": "looks like him", "csrf": "forged"})
    assert r.status_code == 403
    assert status_of(aw, alert["id"]) == "open"


def test_four_eyes_confirmation(aw: Web) -> None:
    analyst, supervisor = aw.client("analyst"), aw.client("supervisor")
    alert_id = alert_of(aw, "T-1")["id"]
    page = analyst.get(f"/ui/alerts/{alert_id}").text
    assert 'value="confirm"' in page and 'value="approve"' not in page and 'value="reassign"' not in page
    r = analyst.post(f"/ui/alerts/{alert_id}/decide", data={"action": "confirm", "reason": "same name, date and nationality", "csrf": csrf(analyst)})
    assert r.status_code == 303 and r.headers["location"].endswith("to=pending_approval")
    assert status_of(aw, alert_id) == "pending_approval"
    assert "awaiting a supervisor&#39;s approval" in analyst.get(r.headers["location"]).text
    # the analyst sees the proposal but no Approve / Reject, and a posted approve is refused
    page = analyst.get(f"/ui/alerts/{alert_id}").text
    assert "Confirmation proposed by analyst, awaiting a supervisor&#39;s approval." in page
    assert 'value="approve"' not in page and 'value="reject"' not in page
    r = analyst.post(f"/ui/alerts/{alert_id}/decide", data={"action": "approve", "reason": "I approve myself", "csrf": csrf(analyst)})
    assert r.status_code == 403 and "Your role may not take this decision." in r.text
    assert status_of(aw, alert_id) == "pending_approval"
    # a supervisor approves
    page = supervisor.get(f"/ui/alerts/{alert_id}").text
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="confirm"' not in page
    r = supervisor.post(f"/ui/alerts/{alert_id}/decide", data={"action": "approve", "reason": "checked the file: it is him", "csrf": csrf(supervisor)})
    assert r.status_code == 303 and r.headers["location"].endswith("to=confirmed")
    assert status_of(aw, alert_id) == "confirmed"
    page = supervisor.get(f"/ui/alerts/{alert_id}").text
    assert "same name, date and nationality" in page and "checked the file: it is him" in page
    assert 'value="reopen"' in page and 'value="approve"' not in page


def test_supervisor_reassigns(aw: Web) -> None:
    supervisor, analyst = aw.client("supervisor"), aw.client("analyst")
    alert_id = alert_of(aw, "T-2")["id"]
    assert 'name="assignee"' not in analyst.get(f"/ui/alerts/{alert_id}").text
    page = supervisor.get(f"/ui/alerts/{alert_id}").text
    assert 'value="reassign"' in page and '<select id="d-assignee" name="assignee"' in page
    r = supervisor.post(f"/ui/alerts/{alert_id}/decide", data={"action": "reassign", "reason": "for review", "assignee": "auditor", "csrf": csrf(supervisor)})
    assert r.status_code == 422 and "Assign to: choose a user who may decide alerts." in r.text
    r = supervisor.post(f"/ui/alerts/{alert_id}/decide", data={"action": "reassign", "reason": "for review", "assignee": "analyst", "csrf": csrf(supervisor)})
    assert r.status_code == 303
    assert rows(analyst.get("/ui/alerts?assignee=me").text) == [alert_id]
    assert alert_id not in rows(analyst.get("/ui/alerts?assignee=-").text)


def test_assign_to_me_from_the_queue_and_the_review(web: Web) -> None:
    """An analyst takes an alert nobody has; then it is theirs, and another analyst may no longer
    take it (nor sees the button)."""
    from qalqan.service import alerts as alert_service
    from qalqan.service import users

    if "analyst2" not in {u["name"] for u in users.list_users(web.service)[0]}:
        users.create_user(web.service, "analyst2", "analyst", actor="test")
        users.set_password(web.service, "analyst2", PASSWORD, actor="test")
    free = [a for a in alert_service.list_alerts(web.service, statuses=["open", "escalated"], assignee="-").items]
    assert free, "the demo population should leave an unassigned open alert"
    alert_id = free[0]["id"]
    client = web.client("analyst")
    page = client.get("/ui/alerts").text
    assert f'action="/ui/alerts/{alert_id}/take"' in page
    r = client.post(f"/ui/alerts/{alert_id}/take", data={"csrf": csrf(client), "next": "/ui/alerts"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/alerts"
    taken = alert_service.get_alert(web.service, alert_id, actor="test", purpose="test")
    assert taken is not None and taken["assignee"] == "analyst"
    assert taken["decisions"][-1]["action"] == "take"
    other = web.client("analyst2")
    assert f'action="/ui/alerts/{alert_id}/take"' not in other.get(f"/ui/alerts/{alert_id}").text
    refused = other.post(f"/ui/alerts/{alert_id}/take", data={"csrf": csrf(other)})
    assert refused.status_code == 403
    assert alert_service.get_alert(web.service, alert_id, actor="test", purpose="test")["assignee"] == "analyst"  # type: ignore[index]
