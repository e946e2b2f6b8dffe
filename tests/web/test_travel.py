"""The travel pages and the travel parts of the alert pages: a traveller's alert in the queue
(name, flight, route, departure; sorted by departure), its review (traveller and flight cards, the
UN travel ban badge, masked once depersonalised), the messages received, a message's travellers
and their CSV export, the message and document-list uploads, and the role, CSRF and escaping
refusals."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from qalqan.service import alerts, travel
from qalqan.store.tables import Alert
from qalqan.store.tables import Traveller as TravellerRow
from tests.travel.support import pax, paxlst

from .conftest import Web, csrf

ROW_ID = re.compile(r'<td class="n"><a href="/ui/alerts/(\d+)"')
HIT = pax("AL FAYROUZI", "KAREEM YOUSEF", born="710314", nationality="JOR", document="X4471902")
SCRIPT = "<script>alert(1)</script>"
MASKED = "masked (depersonalised)"
BROKEN = b"UNA:+.? 'UNB+UNOA:4+KCAIRLINE+KZPIU+270301:0900+BAD1'UNH+1+PAXLST:D:05B:UN:IATA+BAD1+01:F'BGM+745'TDT+20+KC9'UNT+9+1'"


def rows(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


def only(result: travel.IngestResult) -> int:
    assert result.status == travel.STORED and len(result.alerts) == 1, result.as_dict()
    return result.alerts[0]


@pytest.fixture(scope="module")
def tw(web: Web) -> dict[str, Any]:
    """Three messages with a hit each: a later flight, a sooner one, and one whose traveller
    is then depersonalised (masked); and a message whose second traveller's name holds a script."""
    later = travel.ingest(web.service, paxlst(HIT, pax("SMITH", "JOHN"), departs="2703011000", reference="LATER"), actor="test", source="test")
    sooner = travel.ingest(web.service, paxlst(HIT, flight="KC0777", origin="NQZ", destination="DXB", departs="2702150630", reference="SOON"),
                           actor="test", source="test")
    gone = travel.ingest(web.service, paxlst(HIT, flight="KC0555", departs="2704011200", reference="GONE"), actor="test", source="test")
    hostile = travel.ingest(web.service, paxlst(HIT, flight="KC0999", departs="2705011200", reference="HOSTILE"), actor="test", source="test")
    ids = {"later": only(later), "sooner": only(sooner), "masked": only(gone), "hostile": only(hostile)}
    with web.service.db.session() as s, s.begin():
        masked = s.get(TravellerRow, s.get(Alert, ids["masked"]).traveller_id)  # type: ignore[union-attr]
        masked.surname = masked.given_names = masked.birth_date = masked.nationality = masked.gender = "***"
        masked.documents = ["***"]
        masked.masked = True
        script = s.get(TravellerRow, s.get(Alert, ids["hostile"]).traveller_id)  # type: ignore[union-attr]
        script.surname = f"AL FAYROUZI {SCRIPT}"
    return {"alerts": ids, "message": later.message_id, "sooner_message": sooner.message_id, "hostile_message": hostile.message_id}


# --- the alert queue ---------------------------------------------------------------------------


def test_the_queue_shows_the_traveller_and_flight(web: Web, tw: dict[str, Any]) -> None:
    html = web.client("analyst").get("/ui/alerts?trigger=traveller").text
    assert set(tw["alerts"].values()) <= set(rows(html))
    assert '<bdi dir="auto" class="name">AL FAYROUZI, KAREEM YOUSEF</bdi>' in html
    assert "KC0123" in html and "ALA-IST" in html and "2027-03-01 10:00" in html
    assert "KC0777" in html and "NQZ-DXB" in html and "2027-02-15 06:30" in html
    assert ">None<" not in html


def test_sort_by_departure_puts_the_soonest_first(web: Web, tw: dict[str, Any]) -> None:
    c = web.client("analyst")
    html = c.get("/ui/alerts?sort=departure").text
    order = rows(html)
    a = tw["alerts"]
    assert order.index(a["sooner"]) < order.index(a["later"]) < order.index(a["masked"]) < order.index(a["hostile"])
    travellers = set(a.values())
    assert all(i in travellers for i in order[: len(travellers)]), "travellers' alerts come before those without a departure"
    assert '<option value="departure" selected>Departure (soonest first)</option>' in html
    latest = rows(c.get("/ui/alerts?sort=-departure").text)
    assert latest.index(a["hostile"]) < latest.index(a["sooner"])
    partial = c.get("/ui/alerts?sort=departure", headers={"HX-Request": "true"}).text
    assert re.search(r'<select id="f-sort" name="sort" hx-swap-oob="true">.*?<option value="departure" selected>', partial, re.S)


def test_the_trigger_filter_offers_the_travel_triggers(web: Web, tw: dict[str, Any]) -> None:
    c = web.client("analyst")
    html = c.get("/ui/alerts").text
    assert '<option value="traveller">traveller on a flight</option>' in html
    assert '<option value="lost-document">lost or stolen document</option>' in html
    only_travel = rows(c.get("/ui/alerts?trigger=traveller").text)
    assert set(only_travel) == set(tw["alerts"].values())
    ru = web.client("analyst", lang="ru").get("/ui/alerts").text
    assert "лицо на рейсе" in ru and "Вылет (сначала ближайшие)" in ru


def test_a_masked_traveller_is_shown_masked_in_the_queue(web: Web, tw: dict[str, Any]) -> None:
    html = web.client("analyst").get("/ui/alerts?sort=departure").text
    row = re.search(rf'<a href="/ui/alerts/{tw["alerts"]["masked"]}" aria-label.*?</tr>', html, re.S)
    assert row, "the masked traveller's alert is in the queue"
    assert MASKED in row.group(0) and "KC0555" in row.group(0)
    assert 'class="name">***' not in html and "***, ***" not in html


# --- the review --------------------------------------------------------------------------------


def test_the_review_shows_the_traveller_and_flight_cards(web: Web, tw: dict[str, Any]) -> None:
    r = web.client("analyst").get(f"/ui/alerts/{tw['alerts']['later']}")
    assert r.status_code == 200
    html = r.text
    assert 'id="h-traveller">Traveller</h2>' in html and 'id="h-flight">Flight</h2>' in html
    assert 'id="h-subject"' not in html
    assert '<bdi dir="auto" class="name">AL FAYROUZI, KAREEM YOUSEF</bdi>' in html
    assert "1971-03-14" in html and "JOR" in html and "X4471902" in html and "passenger" in html and "male" in html
    assert "KC0123" in html and "ALA-IST" in html and "2027-03-01 23:00" in html
    assert '<table class="compact legs">' in html and "<td class=\"mono\">ALA</td><td class=\"mono\">IST</td>" in html
    assert f'href="/ui/travel/messages/{tw["message"]}"' in html
    assert "UN travel ban applies" not in html  # the demo list is no UN list
    # the decision form is the same as for any alert
    assert f'action="/ui/alerts/{tw["alerts"]["later"]}/decide"' in html and 'name="reason"' in html


def test_the_review_shows_the_travel_ban(web: Web, tw: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    original = travel.alert_travel

    def banned(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        return {**out, "travel_ban": True} if out else out

    monkeypatch.setattr(travel, "alert_travel", banned)
    html = web.client("analyst").get(f"/ui/alerts/{tw['alerts']['sooner']}").text
    assert '<strong class="ban-badge">UN travel ban applies</strong>' in html


def test_the_review_of_a_masked_traveller(web: Web, tw: dict[str, Any]) -> None:
    html = web.client("analyst").get(f"/ui/alerts/{tw['alerts']['masked']}").text
    card = html[html.index('id="h-traveller"'):html.index('id="h-flight"')]
    assert card.count(MASKED) >= 5  # name, birth date, nationality, documents, gender
    assert "***" not in card
    assert "KC0555" in html  # the flight stays (it is no personal data)


def test_a_script_in_a_traveller_name_is_escaped(web: Web, tw: dict[str, Any]) -> None:
    c = web.client("analyst")
    for path in (f"/ui/alerts/{tw['alerts']['hostile']}", "/ui/alerts?sort=-departure", f"/ui/travel/messages/{tw['hostile_message']}"):
        html = c.get(path).text
        assert SCRIPT not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


# --- the travel pages --------------------------------------------------------------------------


def test_the_messages_page(web: Web, tw: dict[str, Any]) -> None:
    c = web.client("analyst")
    r = c.get("/ui/travel")
    assert r.status_code == 200
    assert f'href="/ui/travel/messages/{tw["message"]}"' in r.text and "KC0777" in r.text and "NQZ-DXB" in r.text
    assert 'action="/ui/travel/messages"' in r.text  # analysts send messages in
    assert 'action="/ui/travel/documents"' not in r.text  # the document list is a supervisor's
    assert 'href="/ui/travel" aria-current="page"' in r.text
    assert 'action="/ui/travel/documents"' in web.client("supervisor").get("/ui/travel").text
    assert f'href="/ui/travel/messages/{tw["message"]}"' not in c.get("/ui/travel?status=quarantined").text


def test_a_message_page_shows_its_flights_and_travellers(web: Web, tw: dict[str, Any]) -> None:
    c = web.client("analyst")
    r = c.get(f"/ui/travel/messages/{tw['message']}")
    assert r.status_code == 200
    html = r.text
    assert '<bdi dir="auto" class="name">SMITH, JOHN</bdi>' in html and '<bdi dir="auto" class="name">AL FAYROUZI, KAREEM YOUSEF</bdi>' in html
    assert "X4471902" in html and "KC0123" in html
    assert f'href="/ui/travel/messages/{tw["message"]}/travellers.csv"' in html
    assert c.get("/ui/travel/messages/999999").status_code == 404


def test_a_message_page_shows_masked_travellers_masked(web: Web, tw: dict[str, Any]) -> None:
    with web.service.db.session() as s:
        message_id = s.get(TravellerRow, s.get(Alert, tw["alerts"]["masked"]).traveller_id).message_id  # type: ignore[union-attr]
    html = web.client("analyst").get(f"/ui/travel/messages/{message_id}").text
    table = html[html.index('<table class="travellers">'):]
    assert MASKED in table and "***" not in table


def test_the_message_page_needs_a_purpose_and_is_audited(web: Web, tw: dict[str, Any]) -> None:
    from qalqan.store.tables import AuditEntry

    r = web.client("analyst", purpose=None).get(f"/ui/travel/messages/{tw['message']}")
    assert r.status_code == 200 and 'action="/ui/purpose"' in r.text and "SMITH" not in r.text
    web.client("analyst").get(f"/ui/travel/messages/{tw['message']}")
    with web.service.db.session() as s:
        views = s.execute(select(AuditEntry).where(AuditEntry.action == "travel.view", AuditEntry.target == f"travel-message:{tw['message']}")).scalars().all()
    assert views and views[-1].actor == "analyst" and views[-1].purpose


def test_the_travellers_csv_export(web: Web, tw: dict[str, Any]) -> None:
    r = web.client("analyst").get(f"/ui/travel/messages/{tw['message']}/travellers.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert f'travellers-{tw["message"]}.csv' in r.headers["content-disposition"]
    assert r.text.startswith("message_id,position,role,surname") and "SMITH" in r.text and "AL FAYROUZI" in r.text


# --- uploads -----------------------------------------------------------------------------------


def upload(client: Any, path: str, name: str, data: bytes, token: str | None = None) -> Any:
    return client.post(path, data={"csrf": token if token is not None else csrf(client)}, files={"file": (name, data, "application/octet-stream")})


def test_uploading_a_message_stores_and_screens_it(web: Web, tw: dict[str, Any]) -> None:
    c = web.client("analyst")
    r = upload(c, "/ui/travel/messages", "KC0321.edi", paxlst(HIT, pax("NURLANOV", "ARMAN"), flight="KC0321", reference="UPLOAD1"))
    assert r.status_code == 200, r.text[:500]
    assert "Stored and screened as message" in r.text
    alert_ids = [int(i) for i in re.findall(r'<a href="/ui/alerts/(\d+)">Alert', r.text)]
    assert len(alert_ids) == 1
    page = alerts.list_alerts(web.service, trigger="traveller", limit=100)
    assert alert_ids[0] in {a["id"] for a in page.items}
    assert "web:KC0321.edi" in c.get("/ui/travel").text
    again = upload(c, "/ui/travel/messages", "again.edi", paxlst(HIT, pax("NURLANOV", "ARMAN"), flight="KC0321", reference="UPLOAD1"))
    assert again.status_code == 200 and "already received" in again.text


def test_a_malformed_message_shows_the_quarantine_error(web: Web) -> None:
    c = web.client("analyst")
    r = upload(c, "/ui/travel/messages", "broken.edi", BROKEN)
    assert r.status_code == 422
    assert "it was kept in quarantine" in r.text
    assert "no UNZ" in r.text and "segment UNZ" in r.text and "position 6" in r.text
    listed = c.get("/ui/travel?status=quarantined").text
    assert "no UNZ" in listed and "segment UNZ" in listed and "web:broken.edi" in listed


def test_an_upload_without_a_file_is_refused(web: Web) -> None:
    c = web.client("analyst")
    r = c.post("/ui/travel/messages", data={"csrf": csrf(c)}, files={"file": ("empty.edi", b"", "application/octet-stream")})
    assert r.status_code == 422 and "File: choose a non-empty message file" in r.text


def test_uploading_the_lost_documents_list(web: Web) -> None:
    c = web.client("supervisor")
    bad = upload(c, "/ui/travel/documents", "sltd.csv", b"number,country,type,reported\nLD100200,kz,P,2026-01-02\n,kz,P,2026-01-03\n")
    assert bad.status_code == 422
    assert "The document list does not read at row 2." in bad.text and "field number" in bad.text
    assert "The previous version stays live." in bad.text
    good = upload(c, "/ui/travel/documents", "sltd.csv", b"number,country,type,reported\nLD100200,kz,P,2026-01-02\n")
    assert good.status_code == 200, good.text[:500]
    assert "of the lost and stolen documents list is live." in good.text
    # a traveller carrying that document now raises a lost-document alert, reviewed as such
    result = travel.ingest(web.service, paxlst(pax("OMAROV", "ASKAR", document="LD100200"), flight="KC0404", reference="LOST1"), actor="test")
    assert result.status == travel.STORED and result.alerts
    html = web.client("analyst").get(f"/ui/alerts/{result.alerts[0]}").text
    assert "Lost and stolen travel documents" in html and "LD100200" in html and 'id="h-traveller"' in html
    assert "lost or stolen document" in html  # the trigger's label


def test_an_analyst_may_not_upload_the_documents_list(web: Web) -> None:
    c = web.client("analyst")
    r = upload(c, "/ui/travel/documents", "sltd.csv", b"number\nLD999\n")
    assert r.status_code == 403


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "liaison", "partner"])
def test_roles_without_travel_read_are_refused(web: Web, tw: dict[str, Any], role: str) -> None:
    c = web.client(role, purpose=None if role == "partner" else "web tests")
    for path in ("/ui/travel", f"/ui/travel/messages/{tw['message']}", f"/ui/travel/messages/{tw['message']}/travellers.csv"):
        assert c.get(path).status_code == 403, (role, path)
    assert 'href="/ui/travel"' not in c.get("/ui/purpose").text


@pytest.mark.parametrize("path", ["/ui/travel/messages", "/ui/travel/documents"])
def test_uploads_need_the_csrf_token(web: Web, path: str) -> None:
    c = web.client("supervisor")
    before = travel.list_messages(web.service, limit=1).total
    for token in ("", "not-the-token"):
        r = upload(c, path, "x.edi", paxlst(pax("CSRF", "TEST"), reference="CSRF1"), token=token)
        assert r.status_code == 403 and "security token" in r.text
    assert travel.list_messages(web.service, limit=1).total == before
