"""The travel pages and the travel parts of the alert pages: a traveller's alert in the queue
(name, flight, route, departure; sorted by departure), its review (traveller and flight cards, the
UN travel ban badge, masked once depersonalised), the messages received, a message's travellers
and their CSV export, the message and document-list uploads, and the role, CSRF and escaping
refusals. Passenger-data protection, on a store with an injected clock: the retention button,
case holds, and re-personalisation (ask with a reason, a supervisor other than the requester
decides, the requester reads the traveller in clear, audited with the session's purpose)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qalqan.service import alerts, roles, travel, users
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import Alert, AuditEntry
from qalqan.store.tables import Traveller as TravellerRow
from tests.travel.support import pax, paxlst

from .conftest import AUDIT_KEY, PASSWORD, PURPOSE, Web, csrf

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
    for path in ("/ui/travel", f"/ui/travel/messages/{tw['message']}", f"/ui/travel/messages/{tw['message']}/travellers.csv",
                 "/ui/travel/repersonalisations", "/ui/travel/repersonalisations/1"):
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


# --- passenger-data protection (a store with an injected clock) ------------------------------

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
PAST_DEPERSONALISATION = timedelta(days=200)  # more than the default six months
PAST_DELETION = timedelta(days=5 * 366 + 1)  # more than the default five years
RETENTION_ACTION = 'action="/ui/travel/retention"'


@pytest.fixture
def aged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Web, FixedClock]]:
    """A store of its own whose clock moves only when told to (`FixedClock`), with a user per
    role and a travel key: messages can be aged past the retention periods."""
    from qalqan.api import create_app

    folder = tmp_path_factory.mktemp("travel-aged")
    db = Database(f"sqlite:///{folder / 'qalqan.db'}")
    db.migrate()
    clock = FixedClock(START)
    service = Qalqan(db, audit_key=AUDIT_KEY, clock=clock, travel_key=bytes(range(32)))
    for role in roles.ROLES:
        users.create_user(service, role, role, actor="test")
        users.set_password(service, role, PASSWORD, actor="test")
    yield Web(service, create_app(service, data_dir=folder), folder), clock
    db.dispose()


def masked_traveller(web: Web, clock: FixedClock, reference: str = "AGED1") -> tuple[int, int]:
    """(message id, traveller id) of a message received now, then aged and depersonalised by the
    retention rules (its first traveller is AL FAYROUZI, KAREEM YOUSEF)."""
    result = travel.ingest(web.service, paxlst(HIT, pax("SMITH", "JOHN"), reference=reference), actor="test")
    clock.advance(PAST_DEPERSONALISATION)
    assert travel.apply_retention(web.service, actor="test")["depersonalised_messages"] == 1
    with web.service.db.session() as s:
        tid = s.execute(select(TravellerRow.id).where(TravellerRow.message_id == result.message_id, TravellerRow.position == 1)).scalar_one()
    return result.message_id, int(tid)


def fact(html: str, label: str) -> str:
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", html)
    assert found, f"no {label!r} in the page"
    return found.group(1)


def ask(client: Any, traveller_id: int, reason: str, token: str | None = None) -> Any:
    return client.post(f"/ui/travel/travellers/{traveller_id}/repersonalisation", data={"reason": reason, "csrf": token if token is not None else csrf(client)})


def decide(client: Any, request_id: int, decision: str, reason: str, token: str | None = None) -> Any:
    return client.post(f"/ui/travel/repersonalisations/{request_id}/decision",
                       data={"decision": decision, "reason": reason, "csrf": token if token is not None else csrf(client)})


def test_the_retention_button_masks_a_message_past_six_months(aged: tuple[Web, FixedClock]) -> None:
    web, clock = aged
    old = travel.ingest(web.service, paxlst(HIT, pax("SMITH", "JOHN"), reference="OLD1"), actor="test")
    assert RETENTION_ACTION not in web.client("analyst").get("/ui/travel").text  # the role may not
    assert RETENTION_ACTION in web.client("supervisor").get("/ui/travel").text
    clock.advance(PAST_DEPERSONALISATION)
    recent = travel.ingest(web.service, paxlst(pax("NURLANOV", "ARMAN"), reference="NEW1"), actor="test")
    c = web.client("supervisor")  # a new session: the old one went idle as the clock moved
    assert "SMITH" in c.get(f"/ui/travel/messages/{old.message_id}").text
    r = c.post("/ui/travel/retention", data={"csrf": csrf(c)})
    assert r.status_code == 200, r.text[:500]
    assert "Retention rules applied" in r.text
    assert fact(r.text, "Messages depersonalised") == "1" and fact(r.text, "Travellers masked") == "2"
    assert fact(r.text, "Messages deleted") == "0" and fact(r.text, "Kept for a case hold") == "0"
    html = c.get(f"/ui/travel/messages/{old.message_id}").text
    table = html[html.index('<table class="travellers">'):]
    assert "SMITH" not in table and "AL FAYROUZI" not in table and MASKED in table
    assert "NURLANOV" in c.get(f"/ui/travel/messages/{recent.message_id}").text  # not due yet
    again = c.post("/ui/travel/retention", data={"csrf": csrf(c)})
    assert fact(again.text, "Messages depersonalised") == "0"  # nothing is due twice
    with web.service.db.session() as s:
        runs = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "travel.retention")).scalars().all()
    assert runs == ["supervisor"]


def test_an_analyst_may_not_apply_retention_and_the_token_is_needed(aged: tuple[Web, FixedClock]) -> None:
    web, clock = aged
    travel.ingest(web.service, paxlst(HIT, reference="OLD2"), actor="test")
    clock.advance(PAST_DEPERSONALISATION)
    analyst = web.client("analyst")
    assert analyst.post("/ui/travel/retention", data={"csrf": csrf(analyst)}).status_code == 403
    supervisor = web.client("supervisor")
    for token in ("", "not-the-token"):
        r = supervisor.post("/ui/travel/retention", data={"csrf": token})
        assert r.status_code == 403 and "security token" in r.text
    assert travel.list_messages(web.service).items[0]["depersonalised_at"] is None


def test_repersonalisation_asked_approved_and_read_in_clear(aged: tuple[Web, FixedClock]) -> None:
    web, clock = aged
    message_id, tid = masked_traveller(web, clock)
    analyst, supervisor = web.client("analyst"), web.client("supervisor")
    page = analyst.get(f"/ui/travel/messages/{message_id}").text
    assert "AL FAYROUZI" not in page
    assert page.count('action="/ui/travel/travellers/') == 2  # one form per masked traveller
    assert f'action="/ui/travel/travellers/{tid}/repersonalisation"' in page and "Ask to see in clear" in page
    # a reason is required
    empty = ask(analyst, tid, "   ")
    assert empty.status_code == 422 and "Reason: say why you need to see this traveller in clear." in empty.text
    assert f'id="ask-reason-{tid}" name="reason" required maxlength="2000" rows="3" aria-invalid="true"' in empty.text
    r = ask(analyst, tid, "case CASE-2027-17: link to a confirmed hit")
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/travel/repersonalisations?requested=")
    request_id = int(r.headers["location"].rsplit("=", 1)[1])
    listed = analyst.get(r.headers["location"]).text
    assert f"Request {request_id} was made" in listed and "case CASE-2027-17: link to a confirmed hit" in listed
    assert f'action="/ui/travel/repersonalisations/{request_id}/decision"' not in listed  # an analyst does not decide
    assert f"Request {request_id} awaits a supervisor." in analyst.get(f"/ui/travel/messages/{message_id}").text
    assert analyst.get(f"/ui/travel/repersonalisations/{request_id}").status_code == 409  # not approved yet
    # the supervisor sees it pending, with the decision form; a reason is required
    pending = supervisor.get("/ui/travel/repersonalisations").text
    assert f'action="/ui/travel/repersonalisations/{request_id}/decision"' in pending and "Approve" in pending and "Refuse" in pending
    assert f'href="/ui/travel/messages/{message_id}"' in pending
    no_reason = decide(supervisor, request_id, "approve", "")
    assert no_reason.status_code == 422 and "Reason: a decision needs a reason" in no_reason.text
    ok = decide(supervisor, request_id, "approve", "justified by the case")
    assert ok.status_code == 303 and ok.headers["location"] == f"/ui/travel/repersonalisations?decided={request_id}&to=approved"
    assert f"Request {request_id} is approved." in supervisor.get(ok.headers["location"]).text
    assert f'id="request-{request_id}"' not in supervisor.get("/ui/travel/repersonalisations").text  # no longer pending
    twice = decide(web.client("admin"), request_id, "refuse", "changed my mind")
    assert twice.status_code == 409 and "This request has already been decided." in twice.text and "already approved" in twice.text
    # the requester reads the traveller in clear; nobody else does
    approved = analyst.get("/ui/travel/repersonalisations?status=approved").text
    assert f'href="/ui/travel/repersonalisations/{request_id}"' in approved
    assert f'href="/ui/travel/repersonalisations/{request_id}"' not in supervisor.get("/ui/travel/repersonalisations?status=approved").text
    assert f'href="/ui/travel/repersonalisations/{request_id}"' in analyst.get(f"/ui/travel/messages/{message_id}").text
    clear = analyst.get(f"/ui/travel/repersonalisations/{request_id}")
    assert clear.status_code == 200, clear.text[:500]
    assert '<bdi dir="auto" class="name">AL FAYROUZI, KAREEM YOUSEF</bdi>' in clear.text
    assert "1971-03-14" in clear.text and "X4471902" in clear.text and "JOR" in clear.text
    assert clear.headers["cache-control"] == "no-store"
    other = supervisor.get(f"/ui/travel/repersonalisations/{request_id}")
    assert other.status_code == 403 and "only the official who asked" in other.text
    with web.service.db.session() as s:
        views = s.execute(select(AuditEntry.actor, AuditEntry.purpose).where(AuditEntry.action == "travel.repersonalise.view")).all()
        assert s.get(TravellerRow, tid).surname == "***"  # type: ignore[union-attr]  # re-personalised for the reader, never written back
    assert [tuple(v) for v in views] == [("analyst", PURPOSE)]
    # the clear view needs the session's purpose, as the message page does
    no_purpose = web.client("analyst", purpose=None).get(f"/ui/travel/repersonalisations/{request_id}")
    assert 'action="/ui/purpose"' in no_purpose.text and "AL FAYROUZI" not in no_purpose.text
    # the approval expires
    clock.advance(timedelta(hours=25))
    late = web.client("analyst").get(f"/ui/travel/repersonalisations/{request_id}")
    assert late.status_code == 409 and "expired" in late.text


def test_the_requester_may_not_approve_their_own_request(aged: tuple[Web, FixedClock]) -> None:
    web, clock = aged
    _message_id, tid = masked_traveller(web, clock)
    supervisor = web.client("supervisor")
    r = ask(supervisor, tid, "my own case")
    assert r.status_code == 303
    request_id = int(r.headers["location"].rsplit("=", 1)[1])
    listed = supervisor.get("/ui/travel/repersonalisations").text
    assert f'action="/ui/travel/repersonalisations/{request_id}/decision"' not in listed
    assert "Your own request: another supervisor decides it." in listed
    own = decide(supervisor, request_id, "approve", "trust me")
    assert own.status_code == 403
    assert "You asked for this: another supervisor must decide it (four eyes)." in own.text
    assert "the requester may not approve their own request (four eyes)" in own.text
    assert travel.list_requests(web.service)[0]["status"] == "pending"
    admin = web.client("admin")
    assert f'action="/ui/travel/repersonalisations/{request_id}/decision"' in admin.get("/ui/travel/repersonalisations").text
    refused = decide(admin, request_id, "refuse", "no case number given")
    assert refused.status_code == 303 and refused.headers["location"].endswith("to=refused")
    page = supervisor.get("/ui/travel/repersonalisations?status=refused").text
    assert f'id="request-{request_id}"' in page and "no case number given" in page
    assert f'href="/ui/travel/repersonalisations/{request_id}"' not in page
    assert supervisor.get(f"/ui/travel/repersonalisations/{request_id}").status_code == 409


def test_an_analyst_may_not_decide_hold_or_ask_without_the_token(aged: tuple[Web, FixedClock]) -> None:
    web, clock = aged
    message_id, tid = masked_traveller(web, clock)
    analyst = web.client("analyst")
    request_id = int(ask(analyst, tid, "case 1").headers["location"].rsplit("=", 1)[1])
    other = web.client("admin")
    request_2 = int(ask(other, tid, "case 2").headers["location"].rsplit("=", 1)[1])
    page = analyst.get("/ui/travel/repersonalisations").text
    assert f'id="request-{request_2}"' in page and "/decision" not in page and "Awaiting a supervisor." in page
    assert decide(analyst, request_2, "approve", "looks fine").status_code == 403
    message_page = analyst.get(f"/ui/travel/messages/{message_id}").text
    assert 'id="h-hold">Case hold</h2>' in message_page and f'action="/ui/travel/messages/{message_id}/hold"' not in message_page
    assert analyst.post(f"/ui/travel/messages/{message_id}/hold", data={"case": "CASE-1", "csrf": csrf(analyst)}).status_code == 403
    supervisor = web.client("supervisor")
    for token in ("", "not-the-token"):
        for r in (ask(analyst, tid, "case 3", token=token), decide(supervisor, request_id, "approve", "ok", token=token),
                  supervisor.post(f"/ui/travel/messages/{message_id}/hold", data={"case": "CASE-1", "csrf": token})):
            assert r.status_code == 403 and "security token" in r.text
    assert [r["status"] for r in travel.list_requests(web.service, status=None)] == ["pending", "pending"]
    assert travel.list_messages(web.service).items[0]["hold"] is None


def test_asking_for_a_traveller_not_masked_or_unknown(aged: tuple[Web, FixedClock]) -> None:
    web, _clock = aged
    result = travel.ingest(web.service, paxlst(HIT, reference="FRESH"), actor="test")
    with web.service.db.session() as s:
        tid = s.execute(select(TravellerRow.id).where(TravellerRow.message_id == result.message_id)).scalar_one()
    c = web.client("analyst")
    page = c.get(f"/ui/travel/messages/{result.message_id}").text
    assert "Ask to see in clear" not in page and "/repersonalisation" not in page
    r = ask(c, int(tid), "why not")
    assert r.status_code == 409 and "This traveller is not depersonalised." in r.text and 'id="h-travellers"' in r.text
    assert ask(c, 999999, "why not").status_code == 404
    assert decide(web.client("supervisor"), 999999, "approve", "ok").status_code == 404
    assert decide(web.client("supervisor"), 999999, "maybe", "ok").status_code == 422


def test_a_case_hold_is_shown_keeps_the_message_and_is_released(aged: tuple[Web, FixedClock]) -> None:
    web, clock = aged
    result = travel.ingest(web.service, paxlst(HIT, reference="HELD1"), actor="test")
    mid = result.message_id
    c = web.client("supervisor")
    before = c.get(f"/ui/travel/messages/{mid}").text
    assert "No case holds this message" in before and f'action="/ui/travel/messages/{mid}/hold"' in before
    assert "Release the hold" not in before
    empty = c.post(f"/ui/travel/messages/{mid}/hold", data={"case": "  ", "csrf": csrf(c)})
    assert empty.status_code == 422 and "Case: give the case reference" in empty.text
    too_long = c.post(f"/ui/travel/messages/{mid}/hold", data={"case": "C" * 201, "csrf": csrf(c)})
    assert too_long.status_code == 422 and "Case: at most 200 characters." in too_long.text
    r = c.post(f"/ui/travel/messages/{mid}/hold", data={"case": f"CASE-2027-17 {SCRIPT}", "csrf": csrf(c)})
    assert r.status_code == 303 and r.headers["location"] == f"/ui/travel/messages/{mid}?hold=set#hold"
    held = c.get(r.headers["location"]).text
    assert "The message is held for the case." in held and "Release the hold" in held
    assert "<dt>Held for case</dt><dd><bdi>CASE-2027-17 &lt;script&gt;alert(1)&lt;/script&gt;</bdi></dd>" in held and SCRIPT not in held
    assert "held for case CASE-2027-17" in c.get("/ui/travel").text
    # the hold keeps the message past its deletion date
    clock.advance(PAST_DELETION)
    c = web.client("supervisor")
    kept = c.post("/ui/travel/retention", data={"csrf": csrf(c)})
    assert fact(kept.text, "Kept for a case hold") == "1" and fact(kept.text, "Messages deleted") == "0"
    assert c.get(f"/ui/travel/messages/{mid}").status_code == 200
    released = c.post(f"/ui/travel/messages/{mid}/hold", data={"release": "1", "case": "CASE-2027-17", "csrf": csrf(c)})
    assert released.status_code == 303 and released.headers["location"] == f"/ui/travel/messages/{mid}?hold=released#hold"
    after = c.get(released.headers["location"]).text
    assert "The hold is released" in after and "No case holds this message" in after and "Held for case" not in after
    gone = c.post("/ui/travel/retention", data={"csrf": csrf(c)})
    assert fact(gone.text, "Messages deleted") == "1" and fact(gone.text, "Kept for a case hold") == "0"
    assert c.get(f"/ui/travel/messages/{mid}").status_code == 404
    with web.service.db.session() as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.action.in_(("travel.hold", "travel.release")))).all()
    assert [tuple(a) for a in actions] == [("travel.hold", "supervisor"), ("travel.release", "supervisor")]
    assert c.post("/ui/travel/messages/999999/hold", data={"case": "X", "csrf": csrf(c)}).status_code == 404


def test_the_requests_list_is_linked_and_filters_by_status(aged: tuple[Web, FixedClock]) -> None:
    web, _clock = aged
    c = web.client("analyst")
    index = c.get("/ui/travel").text
    assert 'href="/ui/travel/repersonalisations"' in index
    r = c.get("/ui/travel/repersonalisations")
    assert r.status_code == 200 and 'href="/ui/travel" aria-current="page"' in r.text
    assert '<option value="pending" selected>' in r.text and "No request with this status." in r.text
    assert '<option value="all" selected>' in c.get("/ui/travel/repersonalisations?status=all").text
    assert '<option value="pending" selected>' in c.get("/ui/travel/repersonalisations?status=bogus").text
    ru = web.client("analyst", lang="ru").get("/ui/travel/repersonalisations").text
    assert "Запросы на повторную персонализацию" in ru
    ar = web.client("supervisor", lang="ar").get("/ui/travel").text
    assert 'dir="rtl"' in ar and "تطبيق قواعد الاحتفاظ الآن" in ar
