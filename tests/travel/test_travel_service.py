"""Travel screening end to end, on a real store (each backend) with an injected clock: a real
API message naming a UN-listed person under another spelling is ingested, raises an alert with
its flight context, is decided by named officials, is masked after 6 months (in the API, the
export and the database file itself) and deleted after 5 years; quarantine, lost and stolen
documents, case holds and re-personalisation with four eyes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from qalqan.service import alerts, audit, travel, users
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import Alert, AuditEntry, Decision, TravelMessage
from qalqan.store.tables import Traveller as TravellerRow
from qalqan.travel.protection import MASK
from tests.travel.support import with_first_passenger

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PURPOSE = "PIU screening of flight LH0123"
#: QDi.006, listed as AIMAN MUHAMMED RABI AL-ZAWAHIRI (born 19 June 1951, Egypt), as a carrier's
#: reservation system writes him: another transliteration, family name first.
LISTED_AS_BOOKED = "NAD+FL+++AL ZAWAHRI:AYMAN MOHAMMED RABIE'ATT+2++M'DTM+329:510619'NAT+2+EGY'DOC+P:110:111+K9988776'"


def _service(db: Database, tmp_path: Path) -> tuple[Qalqan, FixedClock]:
    clock = FixedClock(START)
    service = Qalqan(db, audit_key=bytes(32), clock=clock, travel_key=bytes(range(32)))
    for name, role in (("ana", "analyst"), ("sam", "supervisor"), ("sue", "supervisor")):
        users.create_user(service, name, role, actor="test")
    return service, clock


@pytest.fixture
def manifest(shared: Path) -> bytes:
    return with_first_passenger((shared / "messages" / "paxlst" / "loader__Test3.txt").read_bytes(), LISTED_AS_BOOKED)


@pytest.mark.shared
def test_ingest_alert_decide_mask_delete(db: Database, tmp_path: Path, shared: Path, manifest: bytes) -> None:
    service, clock = _service(db, tmp_path)
    newest = sorted((shared / "un").glob("un_consolidated_2026-*.xml"))[-1]
    service.import_list(f"un:{newest}", actor="test")

    result = travel.ingest(service, manifest, actor="gateway", source="api")
    assert result.status == "stored" and result.travellers == 260
    assert len(result.alerts) == 1, result
    # The same bytes again are recognised, not screened twice.
    assert travel.ingest(service, manifest, actor="gateway").duplicate

    # The alert is in the same queue, with the flight, and sorts by time to departure.
    page = alerts.list_alerts(service, sort="departure")
    [item] = [i for i in page.items if i["id"] == result.alerts[0]]
    assert item["trigger"] == "traveller" and item["travel"]["flight"] and item["travel"]["route"]
    detail = alerts.get_alert(service, result.alerts[0], actor="ana", purpose=PURPOSE)
    assert detail is not None
    assert detail["entity"]["reference"] == "QDi.006"
    assert detail["travel"]["travel_ban"] is True  # Al-Qaida regime: the travel ban applies
    flight = detail["travel"]["flight"]
    assert flight["carrier"] and flight["departure"] and flight["itinerary"] and "-" in flight["route"]
    assert detail["travel"]["traveller"]["surname"] == "AL ZAWAHRI"
    assert detail["subject_record"] is None and detail["subject"] is None

    # A named official decides; with four eyes a supervisor approves.
    assert service.decide(result.alerts[0], actor="ana", action="confirm", reason="same person: name, birth date, nationality")["status"] == "pending_approval"
    assert service.decide(result.alerts[0], actor="sam", action="approve", reason="agreed")["status"] == "confirmed"

    # Six months and a day later: depersonalised everywhere.
    clock.advance(timedelta(days=185))
    done = travel.apply_retention(service)
    assert done["depersonalised_messages"] == 1 and done["masked_travellers"] == 260
    seen = travel.get_message(service, result.message_id, actor="ana", purpose=PURPOSE)
    for t in seen["traveller_list"]:
        assert t["masked"] and t["surname"] == MASK
        assert t["birth_date"] in (None, MASK) and t["nationality"] in (None, MASK)
        assert all(d == MASK for d in t["documents"])
        assert t["flight"]["route"]  # the flight stays (not personal data)
    csv_text = travel.export_travellers(service, result.message_id, actor="ana", purpose=PURPOSE)
    assert "ZAWAHRI" not in csv_text and "AYMAN" not in csv_text and MASK in csv_text
    masked_alert = alerts.get_alert(service, result.alerts[0], actor="ana", purpose=PURPOSE)
    assert masked_alert is not None
    assert "ZAWAHRI" not in str(masked_alert["explanation"]) and "AYMAN" not in str(masked_alert["travel"])
    assert masked_alert["explanation"][0]["candidate_value"]  # the listed side still explains the alert
    with db.session() as s:
        rows = s.execute(select(TravellerRow)).scalars().all()
        assert rows and all(r.masked and r.surname == MASK and r.sealed for r in rows)
        message = s.get(TravelMessage, result.message_id)
        assert message is not None and message.raw is None and message.sealed
    if db.dialect == "sqlite":
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        blob = Path(db.engine.url.database or "").read_bytes()
        assert b"ZAWAHRI" not in blob and b"AYMAN MOHAMMED" not in blob  # not in free pages either

    # Five years: every traveller without a confirmed hit is gone; the confirmed one is a case.
    clock.advance(timedelta(days=5 * 366))
    done = travel.apply_retention(service)
    assert done["deleted_travellers"] == 259
    with db.session() as s:
        kept = s.execute(select(TravellerRow)).scalars().all()
        assert [t.id for t in kept] == [detail["travel"]["traveller"]["id"]]
        assert s.execute(select(Alert).where(Alert.traveller_id.is_not(None))).scalars().one().status == "confirmed"
    assert audit.verify(db, bytes(32)).ok


@pytest.mark.shared
def test_quarantine_names_segment_and_position_and_keeps_what_was_stored(db: Database, tmp_path: Path, shared: Path, manifest: bytes) -> None:
    service, _ = _service(db, tmp_path)
    good = travel.ingest(service, manifest, actor="gateway")
    bad = (shared / "messages" / "pnrgov" / "parsers__pnrBadFormat.txt").read_bytes()
    result = travel.ingest(service, bad, actor="gateway", source="inbox:bad.txt")
    assert result.status == "quarantined" and result.error and result.position is not None
    page = travel.list_messages(service, status="quarantined")
    assert [m["id"] for m in page.items] == [result.message_id]
    assert page.items[0]["error"] == result.error
    with db.session() as s:
        stored = s.get(TravelMessage, result.message_id)
        assert stored is not None and stored.raw == bad  # kept as received
        assert s.get(TravelMessage, good.message_id).status == "stored"  # type: ignore[union-attr]
        assert len(s.execute(select(TravellerRow).where(TravellerRow.message_id == good.message_id)).scalars().all()) == 260


def _pax(name: str, doc: str = "", nat: str = "KAZ", born: str = "800101") -> str:
    group = f"NAD+FL+++{name}'ATT+2++M'DTM+329:{born}'NAT+2+{nat}'"
    return group + (f"DOC+P:110:111+{doc}'" if doc else "")


@pytest.mark.shared
def test_lost_document_hits_and_a_failed_import_keeps_the_list(db: Database, tmp_path: Path, manifest: bytes, shared: Path) -> None:
    service, _ = _service(db, tmp_path)
    first = travel.import_documents(service, "number,issuing country,type,reported\nK9988776,EGY,passport,2026-11-02\nZZ1,KAZ,passport,\n", actor="sam")
    assert first["documents"] == 2
    with pytest.raises(travel.lostdocs.DocumentListError, match="row 2"):
        travel.import_documents(service, "number,country\nA1,KZ\n,KZ\n", actor="sam")
    assert service.live_versions()[travel.DOCUMENT_LIST] == first["version_id"]  # the failed import left version 1 live
    result = travel.ingest(service, manifest, actor="gateway")  # no name list loaded: only the document can hit
    [alert_id] = result.alerts
    detail = alerts.get_alert(service, alert_id, actor="ana", purpose=PURPOSE)
    assert detail is not None and detail["trigger"] == "lost-document" and detail["list"] == travel.DOCUMENT_LIST
    assert detail["explanation"][0]["feature"] == "lost_document" and "2026-11-02" in detail["explanation"][0]["detail"]
    # A document number an officer types finds the traveller, before and after masking.
    assert len(travel.find_by_document(service, "k 998-8776", actor="ana", purpose=PURPOSE)) == 1


@pytest.mark.shared
def test_hold_keeps_a_message_past_deletion_and_a_dismissed_alert_goes_with_it(db: Database, tmp_path: Path, shared: Path, manifest: bytes) -> None:
    service, clock = _service(db, tmp_path)
    travel.import_documents(service, "number\nK9988776\n", actor="sam")
    held = travel.ingest(service, manifest, actor="gateway")
    other = travel.ingest(service, manifest.replace(b"WSPDLA", b"WSPDLB"), actor="gateway")
    assert other.alerts
    service.decide(other.alerts[0], actor="ana", action="false_positive", reason="document number reused by the issuer")
    travel.set_hold(service, held.message_id, actor="sam", case="CASE-2027-17")
    clock.advance(timedelta(days=5 * 366 + 1))
    done = travel.apply_retention(service)
    assert done["held"] == 1 and done["deleted_messages"] == 1 and done["deleted_alerts"] == 1
    with db.session() as s:
        assert s.get(TravelMessage, held.message_id) is not None
        assert s.get(TravelMessage, other.message_id) is None
        assert s.get(Alert, other.alerts[0]) is None
        assert not s.execute(select(Decision).where(Decision.alert_id == other.alerts[0])).scalars().all()
    # The deleted decisions are accounted for by the retention entry: the chain still verifies.
    assert audit.verify(db, bytes(32)).ok


@pytest.mark.shared
def test_repersonalisation_needs_a_supervisor_other_than_the_requester(db: Database, tmp_path: Path, manifest: bytes) -> None:
    service, clock = _service(db, tmp_path)
    result = travel.ingest(service, manifest, actor="gateway")
    clock.advance(timedelta(days=200))
    travel.apply_retention(service)
    with db.session() as s:
        tid = s.execute(select(TravellerRow.id).where(TravellerRow.message_id == result.message_id, TravellerRow.position == 1)).scalar_one()
    with pytest.raises(travel.TravelError, match="reason"):
        travel.request_repersonalisation(service, tid, actor="ana", reason=" ")
    req = travel.request_repersonalisation(service, tid, actor="sam", reason="case CASE-2027-17: link to a confirmed hit")
    with pytest.raises(travel.TravelError, match="four eyes"):
        travel.decide_repersonalisation(service, req["id"], actor="sam", approve=True, reason="mine")
    with pytest.raises(travel.TravelError, match="supervisor"):
        travel.decide_repersonalisation(service, req["id"], actor="ana", approve=True, reason="ok")
    with pytest.raises(travel.TravelError, match="pending"):
        travel.repersonalised(service, req["id"], actor="sam", purpose=PURPOSE)
    travel.decide_repersonalisation(service, req["id"], actor="sue", approve=True, reason="justified by the case")
    with pytest.raises(travel.TravelError, match="only the official"):
        travel.repersonalised(service, req["id"], actor="ana", purpose=PURPOSE)
    clear = travel.repersonalised(service, req["id"], actor="sam", purpose=PURPOSE)
    assert clear["surname"] == "AL ZAWAHRI" and clear["birth_date"] == "1951-06-19"
    with db.session() as s:  # re-personalised for the reader, never written back
        assert s.get(TravellerRow, tid).surname == MASK  # type: ignore[union-attr]
    clock.advance(timedelta(hours=25))
    with pytest.raises(travel.TravelError, match="expired"):
        travel.repersonalised(service, req["id"], actor="sam", purpose=PURPOSE)
    with db.session() as s:
        logged = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.purpose).where(AuditEntry.action.like("travel.repersonalise.%")).order_by(AuditEntry.seq)).all()
    assert [tuple(r) for r in logged] == [("travel.repersonalise.request", "sam", ""), ("travel.repersonalise.approve", "sue", ""),
                                         ("travel.repersonalise.view", "sam", PURPOSE)]


@pytest.mark.shared
def test_special_categories_never_reach_the_store(db: Database, tmp_path: Path, shared: Path) -> None:
    service, _ = _service(db, tmp_path)
    received = (shared / "messages" / "pnrgov" / "loader__pnr1.txt").read_bytes()
    assert b"SSR+AVML" in received  # a meal request (may reveal religion or health)
    result = travel.ingest(service, received, actor="gateway")
    assert result.status == "stored" and any("special-category" in w for w in result.warnings)
    with db.session() as s:
        stored = s.get(TravelMessage, result.message_id)
        assert stored is not None and stored.raw is not None
        assert b"AVML" not in stored.raw and stored.raw.count(b"SSR+REDACTED'") == received.count(b"SSR+AVML")
        assert stored.sha256 == hashlib.sha256(received).hexdigest()  # the hash is of what was received
        assert all("AVML" not in str(r) for t in s.execute(select(TravellerRow)).scalars() for r in t.remarks)


def test_redaction_keeps_every_other_byte_and_honours_una() -> None:
    from qalqan.travel.redact import redact_special

    msg = b"UNA:+.? 'UNH+1+PNRGOV:11:1:IA'SSR+MOML:HK:1:XX'SSR+DOCS:HK::::::P/KAZ/N123'IFT+4:28+PASSENGER IS A PILGRIM'UNT+5+1'"
    out, n = redact_special(msg)
    assert n == 2
    assert out == b"UNA:+.? 'UNH+1+PNRGOV:11:1:IA'SSR+REDACTED'SSR+DOCS:HK::::::P/KAZ/N123'IFT+REDACTED'UNT+5+1'"
    other = b"UNA#*.? !UNH*1*PNRGOV#11#1#IA!SSR*KSML#HK!UNT*3*1!"
    assert redact_special(other) == (b"UNA#*.? !UNH*1*PNRGOV#11#1#IA!SSR*REDACTED!UNT*3*1!", 1)
    assert redact_special(b"UNH+1+PAXLST'NAD+FL+++DOE:JOHN'UNT+3+1'") == (b"UNH+1+PAXLST'NAD+FL+++DOE:JOHN'UNT+3+1'", 0)


def test_the_serve_worker_applies_retention_and_empties_the_inbox(db: Database, tmp_path: Path) -> None:
    import time

    from tests.travel.support import pax, paxlst

    service, clock = _service(db, tmp_path)
    old = travel.ingest(service, paxlst(pax("DOE", "JOHN")), actor="gateway")
    clock.advance(timedelta(days=200))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "m.edi").write_bytes(paxlst(pax("ROE", "JANE"), reference="REF2"))
    os_time = time.time()
    import os

    os.utime(inbox / "m.edi", (os_time - 10, os_time - 10))
    seen: list[str] = []
    worker = travel.TravelWorker(service, inbox=inbox, inbox_every=0.05, on_result=lambda name, _r: seen.append(name))
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (list(inbox.iterdir()) == [] and "retention" in seen):
            time.sleep(0.05)
    finally:
        worker.stop(5)
    assert "retention" in seen and "m.edi" in seen and not list(inbox.iterdir())
    with db.session() as s:
        assert s.get(TravelMessage, old.message_id).depersonalised_at is not None  # type: ignore[union-attr]


@pytest.mark.shared
def test_ingest_many_over_two_workers_is_ingest_message_by_message(db: Database, tmp_path: Path, shared: Path, manifest: bytes) -> None:
    from tests.travel.support import pax, paxlst

    service, _ = _service(db, tmp_path)
    newest = sorted((shared / "un").glob("un_consolidated_2026-*.xml"))[-1]
    service.import_list(f"un:{newest}", actor="test")
    bad = (shared / "messages" / "pnrgov" / "parsers__pnrBadFormat.txt").read_bytes()
    items = [(manifest, "a"), (paxlst(pax("DOE", "JOHN")), "b"), (bad, "c"), (manifest, "a again")]
    results = travel.ingest_many(service, items, actor="gateway", workers=2)
    assert [r.status for r in results] == ["stored", "stored", "quarantined", "stored"]
    assert results[3].duplicate and results[3].message_id == results[0].message_id
    assert len(results[0].alerts) == 1 and results[1].alerts == [] and results[2].position
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(TravellerRow)).scalar_one() == 261


@pytest.mark.shared
def test_redaction_by_split_equals_the_character_scan_on_every_sample(shared: Path) -> None:
    """The fast path (no release character in the text) blanks exactly what the scan blanks."""
    from qalqan.travel.redact import _redact_scan, _redact_split

    samples = sorted((shared / "messages").rglob("*.txt")) + sorted((shared / "messages").rglob("*.edi"))
    assert samples
    compared = 0
    for path in samples:
        text = path.read_bytes().decode("latin-1")
        for extra in ("", "SSR+VGML:HK:1'FTX+AAI+++MUSLIM MEAL'RMK+MEDICAL ESCORT'"):
            t = text.replace("?", "") + extra
            assert _redact_split(t, ":", "+", "'") == _redact_scan(t, ":", "+", "?", "'"), path.name
            compared += 1
    assert compared >= 40


@pytest.mark.shared
def test_a_subject_shared_by_a_partner_agency_is_screened_against_travellers(db: Database, tmp_path: Path, shared: Path) -> None:
    from qalqan.exchange import stix
    from qalqan.service import exchange

    service, _ = _service(db, tmp_path)
    exchange.add_partner(service, "kg-border", "Kyrgyz border service", actor="test")
    # The partner writes its subject in Cyrillic; the carrier books him in Latin letters.
    entity = exchange.entity_from_ftm(service, {"schema": "Person", "properties": {"name": ["Каримов Абдулла"], "birthDate": ["1991-04-17"]}})
    subject = stix.subject_to_stix(entity, created_by=exchange.identity_id("kg-border"), status="suspected")
    # The composition's ingest: the subjects become the partner's list, which is screened.
    assert service.ingest("kg-border", [subject], actor="test").stored == 1
    partner_list = exchange.partner_list_name("kg-border")
    assert partner_list in service.live_versions()

    base = (shared / "messages" / "paxlst" / "loader__Test3.txt").read_bytes()
    booked = with_first_passenger(base, "NAD+FL+++KARIMOV:ABDULLA'ATT+2++M'DTM+329:910417'NAT+2+KGZ'")
    result = travel.ingest(service, booked, actor="gateway", source="api")
    assert result.status == "stored" and len(result.alerts) == 1, result
    detail = alerts.get_alert(service, result.alerts[0], actor="ana", purpose=PURPOSE)
    assert detail is not None and detail["version"]["list"] == partner_list
    assert detail["travel"]["travel_ban"] is False  # a partner's subject: no Security Council measure
    assert detail["travel"]["traveller"]["surname"] == "KARIMOV" and detail["travel"]["flight"]["route"]
    # The unchanged manifest (nobody of interest aboard) raises nothing.
    assert travel.ingest(service, base, actor="gateway").alerts == []
