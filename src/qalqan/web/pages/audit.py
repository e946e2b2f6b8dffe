"""The audit page (auditors only): the log's entries filtered by actor, action, target and date,
newest first and paged; the chain's verification; the filtered entries exported as CSV or JSON
lines.

The page reads the log as the JSON API's `GET /audit` does (the same conditions on the same
table, each entry shown as `api.audit.entry_dict` gives it) and verifies it with the API's
function (`service.audit.verify`). Beyond the API's exact filters the page takes a date range
(the entry's UTC day) and a trailing `*` on the action or target ("web.*", "alert:*") for all
codes that start so. An export leaves the system, so it is itself recorded ("audit.export", with
its filters and the number of entries).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from qalqan.api.audit import entry_dict
from qalqan.api.models import DEFAULT_PAGE
from qalqan.service import audit
from qalqan.store.tables import AuditEntry
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = DEFAULT_PAGE
#: Entries read per query while exporting (bounds memory on a log of millions).
EXPORT_BATCH = 2_000
#: The longest filter values the form takes (the API's limits).
MAX_CHARS = {"actor": 200, "action": 64, "target": 200}
#: Actions the services record, offered in the action field (free text is accepted too).
KNOWN_ACTIONS: tuple[str, ...] = (
    "access.denied", "alert.decide", "alert.decide.refused", "alert.view", "audit.export",
    "exchange.ack.warning", "exchange.ack.retraction", "exchange.escalate", "exchange.group.set", "exchange.ingest",
    "exchange.partner.add", "exchange.partner.remove", "exchange.propose", "exchange.proposal.accepted", "exchange.proposal.rejected",
    "exchange.retract", "exchange.share.document", "exchange.share.subject", "exchange.share.warning", "exchange.sighting",
    "key.create", "key.issue", "key.revoke", "list.confirm", "list.import", "list.reject", "login", "login.failed",
    "monitor.rescreen", "screen", "screen.results", "subject.remove", "subject.view", "subjects.export", "subjects.import", "taxii.add_objects",
    "taxii.add_objects.refused", "taxii.status", "user.create", "user.password", "web.lockout", "web.login",
    "web.login.failed", "web.logout", "web.purpose", "web.session.expired", "web.sessions.end",
)
FORMATS = ("csv", "jsonl")
CSV_COLUMNS = ("seq", "at", "actor", "action", "target", "purpose", "input_hash", "detail", "prev_hash", "hash")
#: What a verification problem's kind is called on the page (the template names them).
PROBLEM_KINDS = ("edited", "deleted", "inserted", "head", "decision", "alert")


def _text(request: Request, key: str) -> str:
    return (request.query_params.get(key) or "").strip()[: MAX_CHARS.get(key, 200)]


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = "date"
        return None


def _filters(request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The filters as the form shows them, and error codes by field (the template words them)."""
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {key: _text(request, key) for key in ("actor", "action", "target")}
    filters["from"] = (request.query_params.get("from") or "").strip()[:10]
    filters["to"] = (request.query_params.get("to") or "").strip()[:10]
    for key in ("actor", "action", "target"):
        if any(ord(c) < 32 for c in filters[key]):
            errors[key] = "control"
    low = _day(filters["from"], "from", errors)
    high = _day(filters["to"], "to", errors)
    if low is not None and high is not None and high < low:
        errors["to"] = "order"
    try:
        offset = max(0, int(request.query_params.get("offset") or 0))
    except ValueError:
        offset = 0
    filters["offset"] = min(offset, 10**12)
    filters["_from"], filters["_to"] = low, high
    return filters, errors


def _match(column: Any, value: str) -> ColumnElement[bool]:
    """`value` exactly, or, ending in `*`, every value that starts with what precedes it."""
    if value.endswith("*"):
        return column.startswith(value.rstrip("*"), autoescape=True)  # type: ignore[no-any-return]
    return column == value  # type: ignore[no-any-return]


def _conditions(filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The API's conditions (actor, action, target), plus the date range on the entry's UTC day
    (`at` is stored as ISO 8601 text in UTC, so text order is time order)."""
    cond: list[ColumnElement[bool]] = []
    if filters["actor"]:
        cond.append(AuditEntry.actor == filters["actor"])
    if filters["action"]:
        cond.append(_match(AuditEntry.action, filters["action"]))
    if filters["target"]:
        cond.append(_match(AuditEntry.target, filters["target"]))
    if filters["_from"] is not None:
        cond.append(AuditEntry.at >= filters["_from"].isoformat())
    if filters["_to"] is not None:
        cond.append(AuditEntry.at < (filters["_to"] + timedelta(days=1)).isoformat())
    return cond


def _params(filters: Mapping[str, Any]) -> str:
    """The filters' query string (no offset), for the pager and the export links."""
    return urlencode([(key, filters[key]) for key in ("actor", "action", "target", "from", "to") if filters.get(key)])


def _row(e: AuditEntry) -> dict[str, Any]:
    """An entry as the API gives it, with its detail as compact and as indented JSON text."""
    item = entry_dict(e)
    detail = item["detail"]
    if isinstance(detail, (dict, list)):
        compact = orjson.dumps(detail).decode("utf-8") if detail else ""
        full = orjson.dumps(detail, option=orjson.OPT_INDENT_2).decode("utf-8") if detail else ""
    else:  # an edited row that is not JSON: shown as stored
        compact = full = str(detail)
    item["detail_compact"] = compact if len(compact) <= 90 else compact[:89] + "…"
    item["detail_full"] = full
    item["detail_long"] = len(compact) > 90 or "\n" in full
    return item


def _page_values(request: Request) -> tuple[dict[str, Any], int]:
    filters, errors = _filters(request)
    page = None
    rows: list[dict[str, Any]] = []
    if not errors:
        cond = _conditions(filters)
        with request.app.state.service.db.session() as s:
            total = int(s.execute(select(func.count()).select_from(AuditEntry).where(*cond)).scalar_one())
            found = s.execute(select(AuditEntry).where(*cond).order_by(AuditEntry.seq.desc()).offset(filters["offset"]).limit(PAGE_SIZE)).scalars().all()
            rows = [_row(e) for e in found]
        page = {"total": total, "offset": filters["offset"], "limit": PAGE_SIZE}
    values = {
        "filters": filters,
        "errors": errors,
        "page": page,
        "rows": rows,
        "params": _params(filters),
        "known_actions": KNOWN_ACTIONS,
        "report": None,
    }
    return values, (422 if errors else 200)


@router.get("/ui/audit")
def audit_page(request: Request, user: Annotated[WebUser, Depends(web_require("audit:read"))]) -> HTMLResponse:
    """The log, newest first. An htmx request (the filter form, the pager) gets the table alone."""
    values, status = _page_values(request)
    if is_htmx(request) and not request.headers.get("hx-history-restore-request"):
        # htmx swaps 2xx answers only: a filter error is shown in the table's place.
        return render(request, "audit/_entries.html", values, user=user)
    return render(request, "audit/page.html", values, user=user, status=status)


@router.post("/ui/audit/verify")
def verify_chain(request: Request, user: Annotated[WebUser, Depends(web_require("audit:read"))]) -> HTMLResponse:
    """Verify the chain (`service.audit.verify`, as `GET /audit/verify` does): the report alone for
    htmx, else the page with the report."""
    service = request.app.state.service
    report = audit.verify(service.db, service.key)
    checked_at = datetime.now(UTC)
    if is_htmx(request):
        return render(request, "audit/_verify.html", {"report": report, "checked_at": checked_at}, user=user)
    values, _status = _page_values(request)
    values.update(report=report, checked_at=checked_at)
    return render(request, "audit/page.html", values, user=user)


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP: a leading = + - @ tab or CR
    is quoted with an apostrophe). The JSON lines export keeps every value exactly."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export_rows(request: Request, cond: list[ColumnElement[bool]]) -> Iterator[AuditEntry]:
    """The filtered entries, newest first, read in batches (keyset on seq)."""
    db = request.app.state.service.db
    last: int | None = None
    while True:
        where = [*cond] + ([AuditEntry.seq < last] if last is not None else [])
        with db.session() as s:
            batch = s.execute(select(AuditEntry).where(*where).order_by(AuditEntry.seq.desc()).limit(EXPORT_BATCH)).scalars().all()
            s.expunge_all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def _csv_lines(entries: Iterator[AuditEntry]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: spreadsheets read UTF-8 then
    for e in entries:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_cell(getattr(e, column)) for column in CSV_COLUMNS])
        yield buffer.getvalue().encode("utf-8")


def _json_lines(entries: Iterator[AuditEntry]) -> Iterator[bytes]:
    for e in entries:
        yield orjson.dumps(entry_dict(e)) + b"\n"


@router.get("/ui/audit/export")
def export(request: Request, user: Annotated[WebUser, Depends(web_require("audit:read"))]) -> Response:
    """The filtered entries (every page), newest first, as a CSV or JSON lines download."""
    filters, errors = _filters(request)
    fmt = (request.query_params.get("format") or "csv").strip()
    if fmt not in FORMATS:
        errors["format"] = "format"
    if errors:
        values, _status = _page_values(request)
        values["errors"] = {**values["errors"], **errors}
        return render(request, "audit/page.html", values, user=user, status=422)
    cond = _conditions(filters)
    service = request.app.state.service
    with service.transaction() as s:
        # The export holds the entries up to now, not its own entry nor any recorded while it runs.
        newest = s.execute(select(func.max(AuditEntry.seq))).scalar_one_or_none() or 0
        cond.append(AuditEntry.seq <= newest)
        count = int(s.execute(select(func.count()).select_from(AuditEntry).where(*cond)).scalar_one())
        wanted = {key: filters[key] for key in ("actor", "action", "target", "from", "to") if filters[key]}
        service.audit(s, actor=user.name, action="audit.export", target="audit", purpose=user.purpose,
                      detail={"format": fmt, "filters": wanted, "entries": count})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    entries = _export_rows(request, cond)
    if fmt == "csv":
        body, media, suffix = _csv_lines(entries), "text/csv; charset=utf-8", "csv"
    else:
        body, media, suffix = _json_lines(entries), "application/x-ndjson", "jsonl"
    headers = {"Content-Disposition": f'attachment; filename="qalqan-audit-{stamp}.{suffix}"', "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(body, media_type=media, headers=headers)
