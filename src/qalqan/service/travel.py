"""Travel screening: API (PAXLST) and PNR (PNRGOV) messages taken in, every traveller screened,
hits raised as alerts in the analysts' queue with their flight, and the passenger-data rules
(depersonalise, re-personalise with approval, delete, case holds) applied with the context's
clock.

- `ingest`: a message as received (bytes) is stored with its SHA-256, or quarantined when it
  does not read (the error names segment and position); nothing stored before is touched. Each
  traveller is screened against the national and partner lists and the UN entries under a
  travel-ban regime (`travel.protection`), and each document number against the lost and stolen
  documents list. A hit is an alert (trigger "traveller" or "lost-document") for a named official
  to review: nothing is decided automatically.
- `apply_retention`: messages past the depersonalisation date are masked in place (their clear
  values sealed under the travel key); past the deletion date, deleted with their travellers and
  the alerts without a confirmed hit, unless a case holds them.
- Every read of passenger data states its purpose and is audited; audit entries carry ids and
  counts, never a traveller's name.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from qalqan.model import Match
from qalqan.monitoring.alerts import AlertStatus, Trigger
from qalqan.service.common import PAGE_DEFAULT, Page, iso, page_bounds, utc
from qalqan.service.context import SYSTEM, Context
from qalqan.store.tables import Alert, Decision, ListSource, ListVersion, LostDocument, Repersonalisation, TravelMessage, User
from qalqan.store.tables import Traveller as TravellerRow
from qalqan.travel import documents as lostdocs
from qalqan.travel.model import FlightLeg, Message, MessageError, Traveller
from qalqan.travel.protection import PERSONAL_FIELDS, RetentionPolicy, mask_explanation, mask_record, screened_for_travel, travel_ban_applies, travel_ban_regimes
from qalqan.travel.redact import redact_special
from qalqan.travel.screening import legs_of, read_message, traveller_query

log = logging.getLogger(__name__)

#: The list that holds the lost and stolen travel documents (its versions are the imports).
DOCUMENT_LIST = "travel-documents"
DOCUMENT_FORMAT = "sltd"
STORED, QUARANTINED = "stored", "quarantined"
PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
#: Matches asked of the engine per traveller (before the travel-ban filter keeps the relevant).
MATCH_LIMIT = 10


class TravelError(ValueError):
    """A travel request that cannot be done; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


class TravelNotFound(LookupError):
    pass


@dataclass(slots=True)
class IngestResult:
    message_id: int
    status: str  # "stored" | "quarantined"
    sha256: str
    duplicate: bool = False
    travellers: int = 0
    alerts: list[int] = field(default_factory=list)
    error: str | None = None
    segment: str | None = None
    position: int | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "status": self.status, "sha256": self.sha256, "duplicate": self.duplicate, "travellers": self.travellers,
                "alerts": list(self.alerts), "error": self.error, "segment": self.segment, "position": self.position, "warnings": list(self.warnings)}


# --- flight context ----------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    """A leg's scheduled time as stored: the message's local time read as UTC (API and PNR
    messages give airport-local times; the queue only needs their order)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _leg_dict(leg: FlightLeg) -> dict[str, Any]:
    return {"carrier": leg.carrier, "number": leg.number, "origin": leg.origin, "destination": leg.destination, "departure": leg.departure,
            "arrival": leg.arrival, "operating_carrier": leg.operating_carrier, "operating_number": leg.operating_number}


def _first_departure(legs: Sequence[FlightLeg]) -> datetime | None:
    times = [t for t in (_when(leg.departure) for leg in legs) if t is not None]
    return min(times) if times else None


def flight_context(message: dict[str, Any], traveller: TravellerRow) -> dict[str, Any]:
    """What an analyst sees of a traveller's journey: the legs they fly (their itinerary), the
    first one's carrier, flight number, route and times, and the booking reference."""
    legs = list(message.get("legs") or [])
    mine = [legs[i] for i in traveller.legs if 0 <= i < len(legs)] if traveller.legs else legs
    first = mine[0] if mine else {}
    return {
        "message": message.get("reference"),
        "kind": message.get("kind"),
        "carrier": first.get("carrier"),
        "flight": f"{first.get('carrier', '')}{first.get('number', '')}" if first else None,
        "route": "-".join([mine[0]["origin"], *[leg["destination"] for leg in mine]]) if mine else None,
        "departure": first.get("departure"),
        "arrival": mine[-1].get("arrival") if mine else None,
        "booking_reference": traveller.booking_reference,
        "itinerary": mine,
    }


# --- screening ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Hit:
    position: int  # index of the traveller in its message
    trigger: Trigger
    list_name: str
    entity_key: str
    entity_id: str
    caption: str
    record_id: int | None
    version_id: int
    score: float
    explanation: list[Any]


def _lost_index(s: Session, version_id: int | None) -> dict[str, list[lostdocs.LostDocument]]:
    if version_id is None:
        return {}
    index: dict[str, list[lostdocs.LostDocument]] = {}
    for row in s.execute(select(LostDocument).where(LostDocument.version_id == version_id)).scalars():
        index.setdefault(row.key, []).append(lostdocs.LostDocument(row.number, row.country, row.type, row.reported))
    return index


class _Documents:
    """The live lost-document list, cached per version (read once per version, not per message)."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.index: dict[str, list[lostdocs.LostDocument]] = {}

    def get(self, ctx: Context) -> tuple[int | None, dict[str, list[lostdocs.LostDocument]]]:
        version = ctx.live_versions().get(DOCUMENT_LIST)
        if version != self.version:
            with ctx.db.session() as s:
                self.index = _lost_index(s, version)
            self.version = version
        return version, self.index


_DOCUMENTS = _Documents()


def _screen(ctx: Context, message: Message, threshold: float | None) -> list[_Hit]:
    screener = ctx.screener
    formats = {info.name: info.format for info in screener.lists}
    listed = ctx.live.listed(ctx.live_versions())
    regimes = travel_ban_regimes()
    doc_version, lost = _DOCUMENTS.get(ctx)
    # Only matches are kept: candidates below the threshold need neither full scoring nor an
    # explanation (`cutoff`; every candidate at or above it ranks before every one below it).
    cutoff = screener.threshold if threshold is None else threshold
    hits: list[_Hit] = []
    for i, traveller in enumerate(message.travellers):
        query = traveller_query(traveller, f"{message.reference}/{i + 1}")
        if query.names:
            for m in screener.match(query, limit=MATCH_LIMIT, threshold=threshold, cutoff=cutoff):
                where = listed.get(m.entity.id)
                if not m.match or where is None or not screened_for_travel(formats.get(m.entity.list), m.entity.programs, regimes):
                    continue
                hits.append(_Hit(i, Trigger.TRAVELLER, where.list_name, where.key, m.entity.id, where.caption, where.record_id, where.version_id, m.score,
                                 _explanation(m)))
        if doc_version is not None and lost:
            theirs = [{"number": d.number, "country": q.country, "type": q.type} for d, q in zip(
                [d for d in traveller.documents if d.number], query.documents, strict=False)]
            for doc, item in lostdocs.find_lost(theirs, lost):
                hits.append(_Hit(i, Trigger.LOST_DOCUMENT, DOCUMENT_LIST, item.key, f"sltd-{item.key}", f"Lost or stolen {item.caption}", None, doc_version, 1.0,
                                 [_lost_feature(doc, item)]))
    return hits


def _explanation(m: Match) -> list[Any]:
    return list(m.as_dict()["explanation"])


def _lost_feature(doc: dict[str, Any], item: lostdocs.LostDocument) -> dict[str, Any]:
    detail = f"reported {item.reported}" if item.reported else "on the lost and stolen documents list"
    return {"feature": "lost_document", "score": 1.0, "weight": 1.0, "contribution": 1.0, "query_value": doc.get("number"),
            "candidate_value": item.number + (f" ({item.country.upper()})" if item.country else ""), "detail": detail, "missing": None}


# --- intake ------------------------------------------------------------------------------------


def _traveller_values(sealer_key: Any, part: int, position: int, t: Traveller, legs: Sequence[FlightLeg]) -> dict[str, Any]:
    """One traveller's row, as the values inserted (all but `message_id`): built where the
    message is read and screened, so the storing process only inserts."""
    return {
        "part": part, "position": position, "role": t.role, "surname": t.surname, "given_names": t.given_names, "birth_date": t.birth_date,
        "gender": t.gender, "nationality": t.nationality, "residence_country": t.residence_country,
        "documents": [{"number": d.number, "type": d.type, "issuing_country": d.issuing_country, "expiry": d.expiry} for d in t.documents],
        "booking_reference": t.booking_reference, "legs": list(t.legs), "address": t.address, "contacts": list(t.contacts),
        "frequent_flyer": t.frequent_flyer, "payment": t.payment, "remarks": list(t.remarks), "tickets": list(getattr(t, "tickets", ()) or ()),
        "doc_keys": " ".join(sorted({sealer_key(lostdocs.document_key(d.number)) for d in t.documents if lostdocs.document_key(d.number)})),
        "first_departure": _first_departure(legs), "masked": False, "sealed": None,
    }


def _kept_copy(data: bytes) -> tuple[bytes, int]:
    """What is stored of a message: as received, with special-category segments blanked."""
    try:
        return redact_special(data)
    except (ValueError, IndexError):  # text too broken to walk: keep nothing of its free text
        return data, 0


@dataclass(slots=True)
class _Prepared:
    """A message read and screened, not yet stored (what a worker process hands back)."""

    digest: str
    size: int
    kept: bytes
    blanked: int
    messages: list[Message] | None = None
    hits: list[list[_Hit]] | None = None
    error: MessageError | None = None
    #: Each message's traveller rows (`_traveller_values`), in order.
    rows: list[list[dict[str, Any]]] | None = None


def _prepare(ctx: Context, data: bytes, today: Any, threshold: float | None) -> _Prepared:
    """Read and screen one interchange: no write."""
    digest = hashlib.sha256(data).hexdigest()
    kept, blanked = _kept_copy(data)
    try:
        messages = read_message(data, today=today)
        if not messages:
            raise MessageError("the interchange holds no message (no UNH segment)")
    except MessageError as exc:
        return _Prepared(digest, len(data), kept, blanked, error=exc)
    hits = [_screen(ctx, message, threshold) for message in messages]
    key = ctx.sealer.doc_key
    rows = [[_traveller_values(key, part, i + 1, t, legs_of(message, t)) for i, t in enumerate(message.travellers)] for part, message in enumerate(messages)]
    # The rows carry the travellers: the messages go to the storing process without them.
    return _Prepared(digest, len(data), kept, blanked, [dataclasses.replace(m, travellers=()) for m in messages], hits, rows=rows)


def _known(ctx: Context, digest: str) -> IngestResult | None:
    with ctx.db.session() as s:
        known = s.execute(select(TravelMessage.id, TravelMessage.status).where(TravelMessage.sha256 == digest).order_by(TravelMessage.id).limit(1)).first()
    return IngestResult(int(known[0]), str(known[1]), digest, duplicate=True) if known is not None else None


def _check_body(data: Any) -> bytes:
    if not isinstance(data, bytes | bytearray):
        raise TravelError("a message is bytes as received", field="body")
    if not bytes(data).strip():
        raise TravelError("the message is empty", field="body")
    return bytes(data)


def ingest(ctx: Context, data: bytes, *, actor: str, source: str = "api", threshold: float | None = None) -> IngestResult:
    """Take in one interchange as received. Returns what happened: stored (with the alerts it
    raised), quarantined (with the error, its segment and position), or a duplicate of a message
    already held (the same bytes: nothing is screened twice)."""
    data = _check_body(data)
    known = _known(ctx, hashlib.sha256(data).hexdigest())
    if known is not None:
        return known
    return _store(ctx, _prepare(ctx, data, ctx.clock.now().date(), threshold), actor=actor, source=source)


#: Set in a forked worker of `ingest_many`: the context it screens with (inherited, not pickled).
_WORKER_CTX: Context | None = None


def _work(item: tuple[bytes, Any, float | None]) -> _Prepared:
    assert _WORKER_CTX is not None
    data, today, threshold = item
    return _prepare(_WORKER_CTX, data, today, threshold)


def ingest_many(ctx: Context, items: Sequence[tuple[bytes, str]], *, actor: str, workers: int = 1, threshold: float | None = None,
                progress: Any = None) -> list[IngestResult]:
    """`ingest` for many interchanges ((bytes, source) each): read and screened over `workers`
    forked processes (each inherits the screener built here once), stored here in order, each
    in its own transaction as `ingest` does. Duplicates (of stored messages or within `items`)
    are recognised as `ingest` recognises them."""
    global _WORKER_CTX
    checked = [(_check_body(data), src) for data, src in items]
    today = ctx.clock.now().date()
    ctx.screener  # build it before forking: the workers share its memory
    ctx.live.listed(ctx.live_versions())
    _DOCUMENTS.get(ctx)
    results: list[IngestResult] = []
    work = [(data, today, threshold) for data, _src in checked]
    if workers <= 1 or len(work) < 2:
        prepared_iter: Any = (_prepare(ctx, *w) for w in work)
        pool = None
    else:
        import multiprocessing

        import gc

        _WORKER_CTX = ctx
        ctx.db.engine.dispose(close=False)  # no connection is shared with the children
        gc.freeze()  # what exists now is never collected: the children's copies stay shared pages
        pool = multiprocessing.get_context("fork").Pool(workers)
        prepared_iter = pool.imap(_work, work, chunksize=1)
    try:
        for (data, src), prepared in zip(checked, prepared_iter, strict=True):
            known = _known(ctx, prepared.digest)
            results.append(known if known is not None else _store(ctx, prepared, actor=actor, source=src))
            if progress is not None:
                progress(len(results))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
            _WORKER_CTX = None
            import gc

            gc.unfreeze()
    return results


def _store(ctx: Context, prepared: _Prepared, *, actor: str, source: str) -> IngestResult:
    now = ctx.clock.now()
    digest, kept, blanked = prepared.digest, prepared.kept, prepared.blanked
    if prepared.error is not None or prepared.messages is None or prepared.hits is None or prepared.rows is None:
        exc = prepared.error or MessageError("the message does not read")
        with ctx.transaction() as s:
            row = TravelMessage(sha256=digest, size=prepared.size, kind=None, status=QUARANTINED, error=str(exc), error_segment=exc.segment or None,
                                error_position=exc.position or None, source=source[:1000], received_at=now, received_by=actor, messages=[],
                                travellers=0, hits=0, raw=kept, warnings=[f"{blanked} special-category segment(s) blanked"] if blanked else [])
            s.add(row)
            s.flush()
            ctx.audit(s, actor=actor, action="travel.quarantine", target=f"travel-message:{row.id}", input_hash=digest,
                      detail={"source": source[:200], "error": str(exc)[:500], "segment": exc.segment, "position": exc.position})
            return IngestResult(row.id, QUARANTINED, digest, error=str(exc), segment=exc.segment or None, position=exc.position or None)
    messages = prepared.messages
    screened = list(zip(messages, prepared.hits, strict=True))
    warnings = [w for m in messages for w in m.warnings] + ([f"{blanked} special-category segment(s) blanked in the stored copy"] if blanked else [])
    all_legs = [leg for m in messages for leg in m.legs]
    with ctx.transaction() as s:
        row = TravelMessage(
            sha256=digest, size=prepared.size, kind=messages[0].kind, status=STORED, source=source[:1000], received_at=now, received_by=actor,
            messages=[{"kind": m.kind, "version": m.version, "reference": m.reference, "sender": m.sender, "sent_at": m.sent_at,
                       "legs": [_leg_dict(leg) for leg in m.legs], "travellers": len(r)} for m, r in zip(messages, prepared.rows, strict=True)],
            warnings=warnings[:200], travellers=sum(len(r) for r in prepared.rows), hits=0, first_departure=_first_departure(all_legs), raw=kept,
        )
        s.add(row)
        s.flush()
        # One multi-row INSERT ... RETURNING per message (no ORM object per traveller), ids in
        # the order of the rows.
        values = [dict(v, message_id=row.id) for part_rows in prepared.rows for v in part_rows]
        ids = s.execute(insert(TravellerRow).returning(TravellerRow.id, sort_by_parameter_order=True), values).scalars().all() if values else []
        placed: dict[tuple[int, int], tuple[int, datetime | None]] = {}
        for v, traveller_id in zip(values, ids, strict=True):
            placed[(v["part"], v["position"] - 1)] = (int(traveller_id), v["first_departure"])
        alerts: list[Alert] = []
        for part, (message, hits) in enumerate(screened):
            for hit in hits:
                traveller_id, departure = placed[(part, hit.position)]
                alerts.append(Alert(
                    subject_id=None, traveller_id=traveller_id, departure_at=departure, list_name=hit.list_name, entity_key=hit.entity_key, generation=1,
                    entity_id=hit.entity_id, entity_caption=hit.caption, record_id=hit.record_id, version_id=hit.version_id,
                    subject_hash=hashlib.sha256(f"{digest}/{part}/{hit.position}".encode()).hexdigest(), score=hit.score, explanation=hit.explanation,
                    status=AlertStatus.OPEN.value, trigger=hit.trigger.value, changes=[], assignee=None, created_at=now, updated_at=now,
                ))
        s.add_all(alerts)
        s.flush()
        row.hits = len({a.traveller_id for a in alerts})
        ctx.audit(s, actor=actor, action="travel.ingest", target=f"travel-message:{row.id}", input_hash=digest,
                  detail={"source": source[:200], "kind": row.kind, "messages": len(messages), "travellers": row.travellers, "alerts": [a.id for a in alerts]})
        return IngestResult(row.id, STORED, digest, travellers=row.travellers, alerts=[a.id for a in alerts], warnings=warnings)


# --- reading (audited, with purpose) -----------------------------------------------------------


def _require_purpose(purpose: str) -> str:
    text = (purpose or "").strip()
    if not text:
        raise TravelError("a purpose is required to consult passenger data (it is recorded in the audit log)", field="purpose")
    return text


_TRAVELLER_FIELDS = ("role", *PERSONAL_FIELDS, "booking_reference", "tickets", "legs")


def traveller_view(t: TravellerRow, message: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "message_id": t.message_id, "position": t.position, "masked": t.masked}
    out.update({f: getattr(t, f) for f in _TRAVELLER_FIELDS})
    out["first_departure"] = iso(t.first_departure)
    if message is not None:
        out["flight"] = flight_context(message, t)
    return out


def message_summary(row: TravelMessage) -> dict[str, Any]:
    """A message without its travellers: no personal data (flights, counts, status)."""
    return {"id": row.id, "kind": row.kind, "status": row.status, "sha256": row.sha256, "size": row.size, "source": row.source,
            "received_at": iso(row.received_at), "received_by": row.received_by, "travellers": row.travellers, "hits": row.hits,
            "first_departure": iso(row.first_departure), "error": row.error, "segment": row.error_segment, "position": row.error_position,
            "warnings": list(row.warnings or []), "depersonalised_at": iso(row.depersonalised_at), "hold": row.hold,
            "flights": [{"kind": m.get("kind"), "version": m.get("version"), "reference": m.get("reference"), "legs": m.get("legs", [])} for m in row.messages or []]}


def list_messages(ctx: Context, *, status: str | None = None, offset: int = 0, limit: int = PAGE_DEFAULT) -> Page:
    """Stored and quarantined messages, newest first (no personal data: no audit purpose)."""
    offset, limit = page_bounds(offset, limit)
    cond = [TravelMessage.status == status] if status else []
    with ctx.db.session() as s:
        total = s.execute(select(func.count()).select_from(TravelMessage).where(*cond)).scalar_one()
        rows = s.execute(select(TravelMessage).where(*cond).order_by(TravelMessage.id.desc()).offset(offset).limit(limit)).scalars().all()
        return Page([message_summary(r) for r in rows], int(total), offset, limit)


def get_message(ctx: Context, message_id: int, *, actor: str, purpose: str) -> dict[str, Any]:
    """A message with its travellers (masked once depersonalised), audited "travel.view"."""
    purpose = _require_purpose(purpose)
    with ctx.transaction() as s:
        row = s.get(TravelMessage, message_id)
        if row is None:
            raise TravelNotFound(f"no travel message {message_id}")
        out = message_summary(row)
        travellers = s.execute(select(TravellerRow).where(TravellerRow.message_id == row.id).order_by(TravellerRow.part, TravellerRow.position)).scalars().all()
        parts = list(row.messages or [])
        out["traveller_list"] = [traveller_view(t, parts[t.part] if t.part < len(parts) else None) for t in travellers]
        ctx.audit(s, actor=actor, action="travel.view", target=f"travel-message:{row.id}", purpose=purpose, detail={"travellers": len(travellers)})
        return out


EXPORT_COLUMNS = ("message_id", "position", "role", "surname", "given_names", "birth_date", "gender", "nationality", "documents", "booking_reference",
                  "flight", "route", "departure", "address", "contacts", "frequent_flyer", "payment", "remarks", "tickets", "masked")


def export_travellers(ctx: Context, message_id: int, *, actor: str, purpose: str) -> str:
    """A message's travellers as CSV (what `get_message` shows, masked alike), audited
    "travel.export"."""
    data = get_message(ctx, message_id, actor=actor, purpose=purpose)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(EXPORT_COLUMNS)
    for t in data["traveller_list"]:
        flight = t.get("flight") or {}
        docs = "; ".join(" ".join(str(v) for v in (d.get("type"), d.get("number"), d.get("issuing_country")) if v) if isinstance(d, dict) else str(d) for d in t["documents"])
        values = {**t, "documents": docs, "flight": flight.get("flight"), "route": flight.get("route"), "departure": flight.get("departure"),
                  "contacts": "; ".join(t["contacts"]), "remarks": "; ".join(t["remarks"]), "tickets": "; ".join(t["tickets"])}
        out.writerow(["" if values.get(c) is None else values.get(c) for c in EXPORT_COLUMNS])
    with ctx.transaction() as s:
        ctx.audit(s, actor=actor, action="travel.export", target=f"travel-message:{message_id}", purpose=_require_purpose(purpose),
                  detail={"travellers": len(data["traveller_list"])})
    return buf.getvalue()


def find_by_document(ctx: Context, number: str, *, actor: str, purpose: str) -> list[dict[str, Any]]:
    """Travellers who carried document `number` (masked records included: their keyed document
    hashes stay), audited "travel.search"."""
    purpose = _require_purpose(purpose)
    key = lostdocs.document_key(number)
    if not key:
        raise TravelError("a document number is needed", field="number")
    hashed = ctx.sealer.doc_key(key)
    with ctx.transaction() as s:
        rows = s.execute(select(TravellerRow).where(TravellerRow.doc_keys.contains(hashed)).order_by(TravellerRow.id)).scalars().all()
        found = [traveller_view(t) for t in rows if hashed in t.doc_keys.split()]
        ctx.audit(s, actor=actor, action="travel.search", target="travel-document", purpose=purpose, detail={"found": len(found)})
    return found


def alert_travel(s: Session, alert: Alert, record_data: dict[str, Any] | None, list_format: str | None) -> dict[str, Any] | None:
    """The travel section of an alert's detail (None for a watched subject's alert): the
    traveller (masked once depersonalised), their flight context, and whether the UN travel ban
    applies to the listed party."""
    if alert.traveller_id is None:
        return None
    t = s.get(TravellerRow, alert.traveller_id)
    if t is None:
        return None
    message = s.get(TravelMessage, t.message_id)
    parts = list(message.messages or []) if message is not None else []
    programs = (record_data or {}).get("programs") or []
    return {"traveller": traveller_view(t), "flight": flight_context(parts[t.part] if t.part < len(parts) else {}, t),
            "travel_ban": travel_ban_applies(list_format, programs, travel_ban_regimes()), "message_id": t.message_id,
            "message_received_at": iso(message.received_at) if message is not None else None}


def traveller_captions(s: Session, traveller_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """For the alert queue: traveller id -> caption, flight and departure."""
    out: dict[int, dict[str, Any]] = {}
    if not traveller_ids:
        return out
    rows = s.execute(select(TravellerRow, TravelMessage.messages).join(TravelMessage, TravelMessage.id == TravellerRow.message_id)
                     .where(TravellerRow.id.in_(sorted(set(traveller_ids))))).all()
    for t, parts in rows:
        parts = list(parts or [])
        flight = flight_context(parts[t.part] if t.part < len(parts) else {}, t)
        caption = ", ".join(p for p in (t.surname, t.given_names) if p)
        out[t.id] = {"caption": caption, "flight": flight.get("flight"), "route": flight.get("route"), "departure": flight.get("departure"),
                     "booking_reference": t.booking_reference, "masked": t.masked}
    return out


# --- lost and stolen documents -----------------------------------------------------------------


def import_documents(ctx: Context, data: bytes | str, *, actor: str, source: str = "upload") -> dict[str, Any]:
    """The lost and stolen documents CSV (number, issuing country, type, reported date) as the
    new version of the list "travel-documents", in one transaction: a file that does not read
    (DocumentListError naming the row and field) leaves the previous version live."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    docs, warnings = lostdocs.read_documents(raw)
    now = ctx.clock.now()
    digest = hashlib.sha256(raw).hexdigest()
    with ctx.transaction() as s:
        src = s.get(ListSource, DOCUMENT_LIST)
        if src is None:
            src = ListSource(name=DOCUMENT_LIST, format=DOCUMENT_FORMAT, title="Lost and stolen travel documents")
            s.add(src)
            s.flush()
        number = (s.execute(select(func.max(ListVersion.number)).where(ListVersion.list_name == DOCUMENT_LIST)).scalar_one() or 0) + 1
        version = ListVersion(list_name=DOCUMENT_LIST, number=number, source=source[:1000], format=DOCUMENT_FORMAT, fetched_at=now, published=None,
                              sha256=digest, counts={"Document": len(docs)}, total=len(docs), warnings=len(warnings), imported_by=actor,
                              previous_id=src.current_version_id, changes={}, rescreened_at=now)
        s.add(version)
        s.flush()
        s.add_all(LostDocument(version_id=version.id, key=d.key, number=d.number[:200], country=d.country, type=(d.type or None) and d.type[:200],
                               reported=d.reported) for d in docs)
        src.current_version_id = version.id
        ctx.audit(s, actor=actor, action="travel.documents.import", target=f"list:{DOCUMENT_LIST}", input_hash=digest,
                  detail={"version": number, "documents": len(docs), "warnings": len(warnings)})
        result = {"list": DOCUMENT_LIST, "version": number, "version_id": version.id, "documents": len(docs), "warnings": warnings}
    ctx.invalidate()
    return result


# --- holds -------------------------------------------------------------------------------------


def set_hold(ctx: Context, message_id: int, *, actor: str, case: str | None) -> dict[str, Any]:
    """A case holds a message past its deletion date (`case` None releases it)."""
    case = (case or "").strip() or None
    with ctx.transaction() as s:
        row = s.get(TravelMessage, message_id)
        if row is None:
            raise TravelNotFound(f"no travel message {message_id}")
        row.hold, row.hold_by = (case[:200], actor) if case else (None, None)
        ctx.audit(s, actor=actor, action="travel.hold" if case else "travel.release", target=f"travel-message:{message_id}", detail={"case": case})
        return message_summary(row)


# --- retention ---------------------------------------------------------------------------------


def _depersonalise(ctx: Context, s: Session, row: TravelMessage, now: datetime) -> int:
    if row.raw is not None:
        row.sealed = ctx.sealer.seal({"raw": row.raw.decode("latin-1")}, context=f"travel-message:{row.id}")
        row.raw = None
    masked = 0
    for t in s.execute(select(TravellerRow).where(TravellerRow.message_id == row.id, TravellerRow.masked.is_(False))).scalars():
        values, clear = mask_record({f: getattr(t, f) for f in PERSONAL_FIELDS})
        t.sealed = ctx.sealer.seal(clear, context=f"traveller:{t.id}")
        for f, v in values.items():
            setattr(t, f, v if v is not None else None)
        t.surname = t.surname or ""
        t.given_names = t.given_names or ""
        t.masked = True
        masked += 1
        for alert in s.execute(select(Alert).where(Alert.traveller_id == t.id)).scalars():
            alert.explanation = mask_explanation(alert.explanation or [])
    row.depersonalised_at = now
    return masked


def apply_retention(ctx: Context, *, actor: str = SYSTEM, policy: RetentionPolicy | None = None) -> dict[str, Any]:
    """Depersonalise what is past the depersonalisation date and delete what is past the
    deletion date (unless held), by the context's clock; one audited transaction. A traveller
    with a confirmed hit is kept (it is a case now) with its alerts; the message row of such a
    traveller keeps only its flights."""
    policy = policy or RetentionPolicy.from_env()
    now = ctx.clock.now()
    mask_cut, delete_cut = policy.depersonalise_before(now), policy.delete_before(now)
    out = {"depersonalised_messages": 0, "masked_travellers": 0, "deleted_messages": 0, "deleted_travellers": 0, "deleted_alerts": 0, "held": 0}
    with ctx.transaction() as s:
        due = s.execute(select(TravelMessage).where(TravelMessage.depersonalised_at.is_(None), TravelMessage.received_at < mask_cut).order_by(TravelMessage.id)).scalars().all()
        for row in due:
            out["masked_travellers"] += _depersonalise(ctx, s, row, now)
            out["depersonalised_messages"] += 1
        old = s.execute(select(TravelMessage).where(TravelMessage.received_at < delete_cut).order_by(TravelMessage.id)).scalars().all()
        erased_seqs: set[int] = set()
        for row in old:
            if row.hold:
                out["held"] += 1
                continue
            travellers = s.execute(select(TravellerRow.id).where(TravellerRow.message_id == row.id)).scalars().all()
            confirmed = set(s.execute(select(Alert.traveller_id).where(Alert.traveller_id.in_(travellers), Alert.status == AlertStatus.CONFIRMED.value)).scalars()) if travellers else set()
            gone = [t for t in travellers if t not in confirmed]
            if gone:
                alert_ids = s.execute(select(Alert.id).where(Alert.traveller_id.in_(gone))).scalars().all()
                if alert_ids:
                    erased_seqs |= {int(q) for q in s.execute(select(Decision.audit_seq).where(Decision.alert_id.in_(alert_ids))).scalars() if q is not None}
                    s.execute(delete(Decision).where(Decision.alert_id.in_(alert_ids)))
                    s.execute(delete(Alert).where(Alert.id.in_(alert_ids)))
                    out["deleted_alerts"] += len(alert_ids)
                s.execute(delete(Repersonalisation).where(Repersonalisation.traveller_id.in_(gone)))
                s.execute(delete(TravellerRow).where(TravellerRow.id.in_(gone)))
                out["deleted_travellers"] += len(gone)
            if confirmed:
                row.raw = row.sealed = None
                row.travellers = len(confirmed)
            else:
                s.delete(row)
                out["deleted_messages"] += 1
        s.flush()
        detail = {**out, "depersonalise_before": iso(mask_cut), "delete_before": iso(delete_cut)}
        if erased_seqs:
            detail["erased_decisions"] = sorted(erased_seqs)
        if any(out[k] for k in ("depersonalised_messages", "deleted_messages", "deleted_travellers")):
            ctx.audit(s, actor=actor, action="travel.retention", target="travel", detail=detail)
    return out


# --- re-personalisation ------------------------------------------------------------------------

_APPROVERS = frozenset({"supervisor", "admin"})


def _role(s: Session, name: str) -> str | None:
    return s.execute(select(User.role).where(User.name == name, User.active.is_(True))).scalar_one_or_none()


def _request_view(r: Repersonalisation) -> dict[str, Any]:
    return {"id": r.id, "traveller_id": r.traveller_id, "requested_by": r.requested_by, "reason": r.reason, "requested_at": iso(r.requested_at),
            "status": r.status, "decided_by": r.decided_by, "decided_at": iso(r.decided_at), "decision_reason": r.decision_reason, "expires_at": iso(r.expires_at)}


def request_repersonalisation(ctx: Context, traveller_id: int, *, actor: str, reason: str) -> dict[str, Any]:
    """A named official asks to see a depersonalised traveller in clear, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise TravelError("a reason is required to ask for re-personalisation", field="reason")
    with ctx.transaction() as s:
        t = s.get(TravellerRow, traveller_id)
        if t is None:
            raise TravelNotFound(f"no traveller {traveller_id}")
        if not t.masked:
            raise TravelError(f"traveller {traveller_id} is not depersonalised", field="traveller")
        if _role(s, actor) is None:
            raise TravelError(f"no active user {actor!r}", field="actor")
        r = Repersonalisation(traveller_id=traveller_id, requested_by=actor, reason=reason[:2000], requested_at=ctx.clock.now(), status=PENDING)
        s.add(r)
        s.flush()
        ctx.audit(s, actor=actor, action="travel.repersonalise.request", target=f"traveller:{traveller_id}", detail={"request": r.id, "reason": reason[:500]})
        return _request_view(r)


def decide_repersonalisation(ctx: Context, request_id: int, *, actor: str, approve: bool, reason: str, policy: RetentionPolicy | None = None) -> dict[str, Any]:
    """A supervisor (not the requester) approves or refuses a request."""
    reason = (reason or "").strip()
    if not reason:
        raise TravelError("a reason is required", field="reason")
    policy = policy or RetentionPolicy.from_env()
    now = ctx.clock.now()
    with ctx.transaction() as s:
        r = s.get(Repersonalisation, request_id)
        if r is None:
            raise TravelNotFound(f"no re-personalisation request {request_id}")
        if r.status != PENDING:
            raise TravelError(f"request {request_id} is already {r.status}", field="status")
        if _role(s, actor) not in _APPROVERS:
            raise TravelError("only a supervisor approves re-personalisation", field="role")
        if actor == r.requested_by:
            raise TravelError("the requester may not approve their own request (four eyes)", field="four-eyes")
        r.status, r.decided_by, r.decided_at, r.decision_reason = (APPROVED if approve else REFUSED), actor, now, reason[:2000]
        r.expires_at = policy.repersonalisation_expires(now) if approve else None
        ctx.audit(s, actor=actor, action="travel.repersonalise.approve" if approve else "travel.repersonalise.refuse", target=f"traveller:{r.traveller_id}",
                  detail={"request": r.id, "requested_by": r.requested_by, "reason": reason[:500]})
        return _request_view(r)


def repersonalised(ctx: Context, request_id: int, *, actor: str, purpose: str) -> dict[str, Any]:
    """The clear data of an approved request's traveller, for its requester until it expires;
    audited "travel.repersonalise.view" with the purpose."""
    purpose = _require_purpose(purpose)
    now = ctx.clock.now()
    with ctx.transaction() as s:
        r = s.get(Repersonalisation, request_id)
        if r is None:
            raise TravelNotFound(f"no re-personalisation request {request_id}")
        if r.requested_by != actor:
            raise TravelError("only the official who asked may read a re-personalised record", field="actor")
        if r.status != APPROVED:
            raise TravelError(f"request {request_id} is {r.status}, not approved", field="status")
        expires = utc(r.expires_at)
        if expires is not None and now >= expires:
            raise TravelError(f"the approval of request {request_id} expired at {iso(expires)}", field="expired")
        t = s.get(TravellerRow, r.traveller_id)
        if t is None or t.sealed is None:
            raise TravelNotFound(f"traveller {r.traveller_id} has no sealed data (deleted)")
        clear = ctx.sealer.open(t.sealed, context=f"traveller:{t.id}")
        view = {**traveller_view(t), **clear, "masked": False, "request": r.id}
        ctx.audit(s, actor=actor, action="travel.repersonalise.view", target=f"traveller:{t.id}", purpose=purpose, detail={"request": r.id})
        return view


def list_requests(ctx: Context, *, status: str | None = PENDING) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        cond = [Repersonalisation.status == status] if status else []
        return [_request_view(r) for r in s.execute(select(Repersonalisation).where(*cond).order_by(Repersonalisation.id)).scalars()]


def traveller_places(ctx: Context, traveller_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Where each traveller is: its message, position and flight (no personal data), for the
    pages that link a re-personalisation request to its message. Unknown ids are left out."""
    ids = sorted({int(i) for i in traveller_ids})
    if not ids:
        return {}
    with ctx.db.session() as s:
        flights = traveller_captions(s, ids)
        rows = s.execute(select(TravellerRow.id, TravellerRow.message_id, TravellerRow.position).where(TravellerRow.id.in_(ids))).all()
    out: dict[int, dict[str, Any]] = {}
    for tid, message_id, position in rows:
        f = flights.get(tid, {})
        out[int(tid)] = {"message_id": int(message_id), "position": int(position), "flight": f.get("flight"), "route": f.get("route"), "departure": f.get("departure")}
    return out


__all__ = ["DOCUMENT_LIST", "IngestResult", "TravelError", "TravelNotFound", "alert_travel", "apply_retention", "decide_repersonalisation", "export_travellers",
           "find_by_document", "get_message", "import_documents", "ingest", "ingest_many", "list_messages", "list_requests", "repersonalised", "request_repersonalisation",
           "set_hold", "traveller_captions", "traveller_places"]


# --- watched inbox -----------------------------------------------------------------------------

#: A file is taken from the inbox once it has not changed for this long (a carrier's transfer
#: may still be writing it).
INBOX_SETTLE_SECONDS = 2.0


def ingest_inbox(ctx: Context, directory: Any, *, actor: str, settle_seconds: float = INBOX_SETTLE_SECONDS, now: float | None = None) -> list[tuple[str, IngestResult]]:
    """Take in every settled file of `directory` (hidden files and sub-directories skipped), in
    name order; each file is deleted once its message is stored or quarantined in the database
    (which keeps it as received, so no copy of passenger data outlives its retention on disk). A
    file that fails for another reason (the database is down) stays for the next pass."""
    import time
    from pathlib import Path

    folder = Path(directory)
    moment = time.time() if now is None else now
    done: list[tuple[str, IngestResult]] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            if moment - path.stat().st_mtime < settle_seconds:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if not data.strip():
            continue
        result = ingest(ctx, data, actor=actor, source=f"inbox:{path.name}"[:1000])
        path.unlink(missing_ok=True)
        done.append((path.name, result))
    return done


# --- in the background (serve) -----------------------------------------------------------------

#: How often `serve` applies the retention rules (and once at start).
RETENTION_EVERY_SECONDS = 6 * 3600.0


class TravelWorker(threading.Thread):
    """A daemon thread for `serve`: applies the retention rules at start and every
    `retention_every` seconds, and (with `inbox`) takes in the inbox every `inbox_every` seconds.
    A failure is logged and retried on the next turn; `.stop()` ends it."""

    def __init__(self, ctx: Context, *, inbox: Any = None, inbox_every: float = 5.0, retention_every: float = RETENTION_EVERY_SECONDS, actor: str = SYSTEM,
                 on_result: Any = None):
        super().__init__(name="qalqan-travel", daemon=True)
        self.ctx, self.inbox, self.inbox_every, self.retention_every, self.actor = ctx, inbox, inbox_every, retention_every, actor
        self.on_result = on_result
        self._stop_event = threading.Event()

    def run(self) -> None:
        next_retention = 0.0
        while not self._stop_event.is_set():
            now = self.ctx.clock.monotonic()
            try:
                if now >= next_retention:
                    done = apply_retention(self.ctx, actor=self.actor)
                    next_retention = now + self.retention_every
                    if self.on_result:
                        self.on_result("retention", done)
                if self.inbox is not None:
                    for name, result in ingest_inbox(self.ctx, self.inbox, actor=self.actor):
                        if self.on_result:
                            self.on_result(name, result)
            except Exception:  # noqa: BLE001  a database hiccup must not end the rules
                log.exception("travel worker: a turn failed; retrying on the next")
            self._stop_event.wait(self.inbox_every if self.inbox is not None else min(self.retention_every, 60.0))

    def stop(self, timeout: float | None = None) -> None:
        self._stop_event.set()
        self.join(timeout)
