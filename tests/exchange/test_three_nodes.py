"""Three Qalqan nodes as real HTTP servers on loopback (separate stores and ports), exchanging
over TAXII 2.1 (issue 9's scenario):

A (kz-ctc) publishes an FTF subject (TLP:AMBER, sharing group {A, B}) and a flash warning that
needs acknowledgement; B (kg-border) receives both within one sync cycle, C (uz-fiu) neither;
B's watched population alerts, B's analyst confirms and B's supervisor approves (four eyes), a
sighting reaches A alone; B acknowledges
the warning and C's silence is nothing to escalate; A retracts the subject; B's alert closes and
A sees B's acknowledgement of the retraction. Then: a partner's server down during sync, a
malformed and an oversized page, a forged created_by_ref.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qalqan.service import exchange, subjects
from qalqan.service.clock import FixedClock
from tests.exchange.nodes import Node, connect, objects, stop_all, sync


@pytest.fixture()
def nodes(tmp_path: Path) -> Iterator[dict[str, Node]]:
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    made = connect(tmp_path, clock, (("kz-ctc", "Counter-terrorism centre, Astana"), ("kg-border", "Border service, Bishkek"), ("uz-fiu", "Financial intelligence unit")))
    a = made["kz-ctc"]
    r = a.http("admin", "PUT", "/exchange/groups/ftf-ab", json={"members": ["kz-ctc", "kg-border"]})
    assert r.status_code == 200, r.text
    yield made
    stop_all(made)


SUBJECT = {
    "schema": "Person",
    "properties": {"name": ["Abdulla Karimov", "Абдулла Каримов"], "birthDate": ["1991-04-17"], "nationality": ["kz"], "passportNumber": ["N12345678"], "gender": ["male"]},
}


def test_three_nodes(nodes: dict[str, Node]) -> None:
    a, b, c = nodes["kz-ctc"], nodes["kg-border"], nodes["uz-fiu"]
    # B watches a population with the subject in it (as its border system spells him) and a namesake-free other.
    subjects.add_subjects(b.service, [{"id": "pax-1", "name": "KARIMOV, Abdulla", "birth_date": "1991-04-17", "nationality": "KZ"}, {"id": "pax-2", "name": "Ivan Petrov"}], actor="setup")

    r = a.http("liaison", "POST", "/exchange/subjects", json={"entity": SUBJECT, "status": "travelling", "marking": {"tlp": "amber", "distribution": "sharing-group", "group": "ftf-ab"}})
    assert r.status_code == 200, r.text
    subject_id = r.json()["id"]
    deadline = (a.service.clock.now() + timedelta(hours=4)).isoformat()
    r = a.http("liaison", "POST", "/exchange/warnings", json={
        "title": "Possible attack on a power plant", "priority": "flash", "valid_until": (a.service.clock.now() + timedelta(days=2)).isoformat(),
        "sectors": ["energy"], "domain": "physical", "ack_required": True, "ack_deadline": deadline,
        "indicators": [["domain", "attack-plans.example.org"]], "marking": {"tlp": "amber", "distribution": "sharing-group", "group": "ftf-ab"},
    })
    assert r.status_code == 200, r.text
    warning_id = r.json()["id"]
    # The analyst role may read but not publish; the liaison may not decide partners.
    assert a.http("analyst", "POST", "/exchange/subjects", json={"entity": SUBJECT}).status_code == 403

    # One sync cycle: B has both, C neither.
    assert sync(b)["kz-ctc"]["ok"] is True
    assert sync(c)["kz-ctc"]["ok"] is True
    assert [o["id"] for o in objects(b, "subject")] == [subject_id]
    assert [o["id"] for o in objects(b, "warning")] == [warning_id]
    assert objects(c, "subject") == [] and objects(c, "warning") == []

    # B's population alerts on the partner's subject, with who shared it under which TLP.
    r = b.http("analyst", "GET", "/alerts", params={"list": "partner-kz-ctc"})
    assert r.status_code == 200, r.text
    alerts = r.json()["items"]
    assert len(alerts) == 1, alerts
    alert_id = alerts[0]["id"]
    assert exchange.exchange_info(b.service, "partner-kz-ctc", alerts[0]["entity_id"])["tlp"] == "amber"
    # No sighting before a person confirmed the hit.
    assert objects(b, "sighting") == []
    r = b.http("analyst", "POST", f"/alerts/{alert_id}/decision", json={"action": "confirm", "reason": "Same name, date of birth and nationality; passport seen at the border."})
    assert r.status_code == 200, r.text
    # Four eyes: the analyst's confirmation is a proposal; still no sighting until it is approved.
    assert r.json()["status"] == "pending_approval" and "sighting" not in r.json()
    assert r.json()["pending_confirmation"]["by"] == "analyst-kg-border"
    assert objects(b, "sighting") == []
    r = b.http("supervisor", "POST", f"/alerts/{alert_id}/decision", json={"action": "approve", "reason": "Checked the passport scan: same person."})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["sighting"]
    assert len(objects(b, "sighting")) == 1

    # B acknowledges the warning.
    r = b.http("analyst", "POST", f"/exchange/warnings/{warning_id}/ack")
    assert r.status_code == 200, r.text

    # A and C pull from B: the sighting and the acknowledgement reach A alone.
    assert sync(a)["kg-border"]["ok"] is True
    sync(c)
    sightings = objects(a, "sighting")
    assert [s["object"]["sighting_of_ref"] for s in sightings] == [subject_id]
    assert objects(c, "sighting") == [] and objects(c, "ack") == []
    warning = next(w for w in a.http("analyst", "GET", "/exchange/warnings").json() if w["id"] == warning_id)
    assert set(warning["acknowledged_by"]) == {"kg-border"}
    assert warning["recipients"] == ["kg-border"] and warning["not_acknowledged"] == []
    # Past the deadline nothing is escalated: B acknowledged, and C was never a recipient.
    a.service.clock.advance(timedelta(hours=5))  # type: ignore[attr-defined]
    assert a.http("analyst", "GET", "/exchange/escalations").json() == []

    # A retracts the subject; B applies it within one cycle and its alert closes.
    r = a.http("liaison", "POST", "/exchange/retractions", json={"id": subject_id, "reason": "Identity confirmed as a different person"})
    assert r.status_code == 200, r.text
    # Only the originator retracts: B may not.
    assert b.http("liaison", "POST", "/exchange/retractions", json={"id": subject_id, "reason": "x"}).status_code == 403
    sync(b)
    alert = b.http("analyst", "GET", f"/alerts/{alert_id}", params={"purpose": "e2e test"}).json()
    assert alert["status"] == "closed_delisted"
    assert alert["decisions"][-1]["reason"] == "retracted by originator"
    assert objects(b, "subject")[0]["revoked"] is True
    sync(a)
    acks = a.http("analyst", "GET", f"/exchange/retractions/{subject_id}").json()
    assert set(acks["acknowledged_by"]) == {"kg-border"} and acks["not_acknowledged"] == []

    # A tombstone stops an old copy coming back: B is offered the pre-retraction version again.
    old = next(o for o in a.service.db.session().execute(__import__("sqlalchemy").text("select data from exchange_objects where stix_id = :i and revoked = 0"), {"i": subject_id}).scalars())
    summary = b.service.ingest("kz-ctc", [old if isinstance(old, dict) else __import__("json").loads(old)])
    assert summary.tombstoned == 1 or summary.duplicates == 1
    assert all(o["revoked"] for o in objects(b, "subject"))


def test_partner_down_then_back_nothing_lost_or_duplicated(nodes: dict[str, Node]) -> None:
    a, b = nodes["kz-ctc"], nodes["kg-border"]
    for i in range(5):
        r = a.http("liaison", "POST", "/exchange/warnings", json={"title": f"warning {i}", "valid_until": "2027-01-01T00:00:00Z", "marking": {"tlp": "green", "distribution": "connected"}})
        assert r.status_code == 200, r.text
    a.stop()
    result = sync(b)
    assert result["kz-ctc"]["ok"] is False and "cannot reach" in result["kz-ctc"]["error"]
    assert exchange.get_partner(b.service, "kz-ctc")["sync"]["last_error"]
    a.start()
    # Small pages, so the pull takes several and resumes across them.
    first = b.service.sync(["kz-ctc"], page_size=2)
    assert first["kz-ctc"]["ok"] is True and first["kz-ctc"]["pages"] >= 3
    again = b.service.sync(["kz-ctc"], page_size=2)
    assert again["kz-ctc"]["ok"] is True
    titles = sorted(w["title"] for w in b.http("analyst", "GET", "/exchange/warnings").json())
    assert titles == [f"warning {i}" for i in range(5)]


def test_bad_pages_and_forged_origin_store_nothing(nodes: dict[str, Node]) -> None:
    a, b = nodes["kz-ctc"], nodes["kg-border"]
    before = len(objects(b, "warning"))
    with pytest.raises(exchange.IngestError) as bad:
        exchange.parse_wire(b'{"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator"')
    assert bad.value.status == 400
    with pytest.raises(exchange.IngestError) as big:
        exchange.parse_wire(b" " * (exchange.MAX_BUNDLE_BYTES + 1))
    assert big.value.status == 413
    # C's identity on an object B is offered by A: refused as a whole.
    c_identity = exchange.identity_id("uz-fiu")
    a_identity = exchange.identity_id("kz-ctc")
    from qalqan.exchange import stix

    good = stix.indicator("domain", "ok.example.org", created_by=a_identity, valid_from=datetime(2026, 12, 1, tzinfo=UTC), markings=[])
    forged = stix.indicator("domain", "forged.example.org", created_by=c_identity, valid_from=datetime(2026, 12, 1, tzinfo=UTC), markings=[])
    with pytest.raises(exchange.IngestError) as err:
        b.service.ingest("kz-ctc", [good, forged])
    assert err.value.status == 403 and err.value.field == "created_by_ref"
    assert len(objects(b, "indicator")) == 0 and len(objects(b, "warning")) == before


def test_a_partner_proposes_and_only_the_originator_answers(nodes: dict[str, Node]) -> None:
    a, b = nodes["kz-ctc"], nodes["kg-border"]
    r = a.http("liaison", "POST", "/exchange/subjects", json={"entity": SUBJECT, "marking": {"tlp": "amber", "distribution": "sharing-group", "group": "ftf-ab"}})
    subject_id = r.json()["id"]
    assert sync(b)["kz-ctc"]["ok"] is True
    # B may not edit A's subject; it proposes a change instead.
    r = b.http("analyst", "POST", "/exchange/proposals", json={"id": subject_id, "changes": {"status": "detained"}, "comment": "Detained at Manas airport"})
    assert r.status_code == 200, r.text
    proposal_id = r.json()["id"]
    # B cannot answer its own proposal (it did not make the subject), nor can anyone before A has it.
    assert b.http("liaison", "POST", f"/exchange/proposals/{proposal_id}/answer", json={"answer": "accepted"}).status_code in (403, 422)
    assert sync(a)["kg-border"]["ok"] is True
    assert [p["id"] for p in objects(a, "proposal")] == [proposal_id]
    # An analyst may not answer; the liaison officer does, once.
    assert a.http("analyst", "POST", f"/exchange/proposals/{proposal_id}/answer", json={"answer": "accepted"}).status_code == 403
    r = a.http("liaison", "POST", f"/exchange/proposals/{proposal_id}/answer", json={"answer": "accepted", "comment": "Status will be updated"})
    assert r.status_code == 200, r.text
    assert a.http("liaison", "POST", f"/exchange/proposals/{proposal_id}/answer", json={"answer": "rejected"}).status_code == 422
    # The answer reaches B; the subject itself is unchanged until A publishes a new version.
    assert sync(b)["kz-ctc"]["ok"] is True
    answers = [p for p in objects(b, "proposal") if p["object"]["object_refs"] == [proposal_id]]
    assert len(answers) == 1 and answers[0]["object"]["extensions"][stix_ext()]["answer"] == "accepted"
    assert objects(b, "subject")[0]["object"]["extensions"][subject_ext()]["status"] == "suspected"


def stix_ext() -> str:
    from qalqan.exchange import stix

    return stix.PROPOSAL_EXT


def subject_ext() -> str:
    from qalqan.exchange import stix

    return stix.SUBJECT_EXT
