"""The travel routes over HTTP: a carrier's raw EDIFACT body in, the alert in the queue with its
flight, quarantine answered 422 with segment and position, purpose-bound reads, the lost and
stolen documents import, the retention run (with a clock moved 6 months on) masking what the
API and the CSV export show, and re-personalisation with four eyes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qalqan.api import create_app
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.travel.protection import MASK
from tests.travel.support import pax, paxlst

from .conftest import AUDIT_KEY, Api, demo_list, make_keys

PURPOSE = {"X-Purpose": "PIU: flight KC0123 screening"}
EDI = {"Content-Type": "application/EDIFACT"}


@pytest.fixture()
def travel_api(db: Database, tmp_path: Path) -> Iterator[tuple[Api, FixedClock]]:
    clock = FixedClock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    service = Qalqan(db, audit_key=AUDIT_KEY, clock=clock, travel_key=bytes(32))
    service.import_list(f"csv:{demo_list()}", actor="test")
    keys = make_keys(service)
    with TestClient(create_app(service, data_dir=tmp_path / "data"), raise_server_exceptions=False) as client:
        yield Api(service, keys, client), clock


def _manifest() -> bytes:
    # The demo list's first person (Karim Yusuf al-Fayruzi, born 1971-03-14, Jordan), booked as
    # carriers write him, among two people no list names.
    return paxlst(pax("PETROVA", "ANNA", born="850203", gender="F"), pax("AL FAYROUZI", "KAREEM YOUSEF", born="710314", nationality="JOR", document="X4471902"),
                  pax("SMAGULOV", "YERLAN", born="900707"))


def test_a_message_in_raises_an_alert_with_its_flight(travel_api: tuple[Api, FixedClock]) -> None:
    api, _ = travel_api
    r = api.post("analyst", "/travel/messages", content=_manifest(), headers=EDI)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "stored" and body["travellers"] == 3 and len(body["alerts"]) == 1
    again = api.post("analyst", "/travel/messages", content=_manifest(), headers=EDI)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    queue = api.get("analyst", "/alerts", params={"sort": "departure", "trigger": "traveller"}).json()
    [item] = queue["items"]
    assert item["travel"]["flight"] == "KC0123" and item["travel"]["route"] == "ALA-IST" and item["travel"]["departure"] == "2027-03-01T10:00"
    assert item["departure_at"].startswith("2027-03-01T10:00")
    alert = api.get("analyst", f"/alerts/{item['id']}", headers=PURPOSE).json()
    assert alert["travel"]["traveller"]["surname"] == "AL FAYROUZI" and alert["travel"]["travel_ban"] is False  # a national (csv) list: no UN travel ban
    listing = api.get("analyst", "/travel/messages").json()
    assert listing["total"] == 1 and listing["items"][0]["flights"][0]["legs"][0]["origin"] == "ALA"
    assert "traveller_list" not in listing["items"][0]  # the list carries no personal data


def test_a_malformed_message_is_quarantined_with_segment_and_position(travel_api: tuple[Api, FixedClock]) -> None:
    api, _ = travel_api
    good = api.post("analyst", "/travel/messages", content=_manifest(), headers=EDI).json()["message_id"]
    released_at_end = _manifest().replace(b"SMAGULOV", b"SMAG?ULOV", 1)  # a release character before a letter
    r = api.post("analyst", "/travel/messages", content=released_at_end, headers=EDI)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "release character" in detail["msg"] and detail["segment"] == "NAD" and detail["position"] > 1 and detail["message_id"] != good
    quarantined = api.get("analyst", "/travel/messages", params={"status": "quarantined"}).json()
    assert [m["id"] for m in quarantined["items"]] == [detail["message_id"]] and quarantined["items"][0]["position"] == detail["position"]
    assert api.get("analyst", f"/travel/messages/{good}", headers=PURPOSE).json()["travellers"] == 3  # what was stored is untouched


def test_reads_need_a_purpose_and_a_role(travel_api: tuple[Api, FixedClock]) -> None:
    api, _ = travel_api
    mid = api.post("analyst", "/travel/messages", content=_manifest(), headers=EDI).json()["message_id"]
    assert api.get("analyst", f"/travel/messages/{mid}").status_code == 422  # no purpose
    assert api.get("auditor", f"/travel/messages/{mid}", headers=PURPOSE).status_code == 403
    assert api.post("analyst", "/travel/documents", content=b"number\nX1\n").status_code == 403  # supervisors import the list
    assert api.get("analyst", f"/travel/messages/{mid}", headers=PURPOSE).status_code == 200


def test_six_months_on_the_api_and_the_export_show_masks(travel_api: tuple[Api, FixedClock]) -> None:
    api, clock = travel_api
    mid = api.post("analyst", "/travel/messages", content=_manifest(), headers=EDI).json()["message_id"]
    clock.advance(timedelta(days=185))
    assert api.post("supervisor", "/travel/retention").json()["masked_travellers"] == 3
    seen = api.get("analyst", f"/travel/messages/{mid}", headers=PURPOSE).json()
    assert {t["surname"] for t in seen["traveller_list"]} == {MASK}
    export = api.get("analyst", f"/travel/messages/{mid}/travellers.csv", headers=PURPOSE)
    assert export.status_code == 200 and "FAYROUZI" not in export.text and "PETROVA" not in export.text and MASK in export.text
    [alert] = api.get("analyst", "/alerts", params={"trigger": "traveller"}).json()["items"]
    assert alert["travel"]["caption"] == f"{MASK}, {MASK}"
    # Found by document number although masked; re-personalised only with a second person's approval.
    [found] = api.get("analyst", "/travel/documents/search", params={"number": "x4471902"}, headers=PURPOSE).json()
    req = api.post("analyst", f"/travel/travellers/{found['id']}/repersonalisation", json={"reason": "confirmed hit, case 17"})
    assert req.status_code == 201
    rid = req.json()["id"]
    assert api.post("analyst", f"/travel/repersonalisations/{rid}/decision", json={"approve": True, "reason": "x"}).status_code == 403
    assert api.get("analyst", f"/travel/repersonalisations/{rid}/traveller", headers=PURPOSE).status_code == 409  # not approved yet
    assert api.post("supervisor", f"/travel/repersonalisations/{rid}/decision", json={"approve": True, "reason": "case 17 justifies it"}).status_code == 200
    clear = api.get("analyst", f"/travel/repersonalisations/{rid}/traveller", headers=PURPOSE).json()
    assert clear["surname"] == "AL FAYROUZI" and clear["birth_date"] == "1971-03-14"


def test_the_lost_documents_list_over_http(travel_api: tuple[Api, FixedClock]) -> None:
    api, _ = travel_api
    r = api.post("supervisor", "/travel/documents", content=b"number,issuing country,type,reported\nN77,KAZ,passport,2026-12-01\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 201 and r.json()["documents"] == 1
    bad = api.post("supervisor", "/travel/documents", content=b"number,country\n,KAZ\n", headers={"Content-Type": "text/csv"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["row"] == 1
    body = api.post("analyst", "/travel/messages", content=paxlst(pax("NURLANOV", "ASKAR", document="N-77")), headers=EDI).json()
    [aid] = body["alerts"]
    alert = api.get("analyst", f"/alerts/{aid}", headers=PURPOSE).json()
    assert alert["trigger"] == "lost-document" and alert["entity_caption"].startswith("Lost or stolen passport N77")
