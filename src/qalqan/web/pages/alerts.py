"""The alert pages: the queue (filters, sort, pages: one `list_alerts` call per page) and one
alert's review (subject and listed entity side by side, the explanation, the history, and the
decision form).

The pages call the service functions the JSON API calls (`service.alerts.list_alerts`,
`get_alert`, and the `Qalqan.decide` method, which also reports a final confirmation to a
partner agency); which decisions a user may take is `monitoring.alerts.transition`'s rule,
asked here action by action so a button the service would refuse is never shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import func, select

from qalqan.monitoring import alerts as rules
from qalqan.monitoring.alerts import Action, AlertStatus, DecisionError, Trigger
from qalqan.service import alerts, versions
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import is_htmx, language, render

router = APIRouter(include_in_schema=False)

#: Alerts per page of the queue.
PAGE_SIZE = 100
#: The queue's statuses when none is chosen: those awaiting someone's decision.
DEFAULT_STATUSES: tuple[str, ...] = ("open", "escalated", "pending_approval")
STATUSES: tuple[str, ...] = tuple(s.value for s in AlertStatus)
TRIGGERS: tuple[str, ...] = tuple(t.value for t in Trigger)
#: The age filter: value -> (created within N days, created more than N days ago).
AGES: dict[str, tuple[int | None, int | None]] = {"1d": (1, None), "7d": (7, None), "30d": (30, None), "older": (None, 30)}
#: Sortable columns (each ascending or, with "-", descending).
SORT_KEYS: tuple[str, ...] = ("created", "score", "updated", "departure")
DEFAULT_SORT = "-created"
#: The assignee filter's special values: the user looking, nobody.
ME, UNASSIGNED = "me", alerts.UNASSIGNED
#: Views of an alert listed on its review (the most recent ones; the total is shown).
VIEWS_SHOWN = 50
MAX_FILTER_CHARS = 200
#: The order action buttons appear in.
ACTION_ORDER: tuple[str, ...] = ("approve", "reject", "confirm", "false_positive", "close", "escalate", "reopen", "reassign")

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# --- the queue ---------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return (value or "").strip()[:MAX_FILTER_CHARS]


def _score(value: str, field: str, errors: dict[str, str]) -> float | None:
    text = value.strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not 0.0 <= number <= 1.0:  # NaN fails too
        errors[field] = "must be a number from 0 to 1"
        return None
    return number


def _filters(request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The queue's filters as the form shows them, and errors by field."""
    q = request.query_params
    errors: dict[str, str] = {}
    chosen = [part.strip() for value in q.getlist("status") for part in value.split(",") if part.strip()]
    statuses = [s for s in STATUSES if s in chosen]
    if any(s not in STATUSES for s in chosen):
        errors["status"] = "unknown status"
    sort = _text(q.get("sort")) or DEFAULT_SORT
    if sort.lstrip("-") not in SORT_KEYS:
        errors["sort"] = "unknown sort order"
        sort = DEFAULT_SORT
    trigger = _text(q.get("trigger"))
    if trigger and trigger not in TRIGGERS:
        errors["trigger"] = "unknown trigger"
        trigger = ""
    age = _text(q.get("age"))
    if age and age not in AGES:
        errors["age"] = "unknown age"
        age = ""
    try:
        offset = max(0, int(q.get("offset") or 0))
    except ValueError:
        offset = 0
    filters: dict[str, Any] = {
        "status": statuses or list(DEFAULT_STATUSES),
        "list": _text(q.get("list")),
        "min_score": _text(q.get("min_score")),
        "max_score": _text(q.get("max_score")),
        "age": age,
        "assignee": _text(q.get("assignee")),
        "trigger": trigger,
        "sort": sort,
        "offset": min(offset, 10**9),
    }
    low = _score(filters["min_score"], "min_score", errors)
    high = _score(filters["max_score"], "max_score", errors)
    if low is not None and high is not None and low > high:
        errors["max_score"] = "must not be below the minimum score"
    filters["_low"], filters["_high"] = low, high
    return filters, errors


def _params(filters: Mapping[str, Any], **override: Any) -> str:
    """The query string of `filters` (no offset), for sort links and the pager."""
    values = {**filters, **override}
    pairs: list[tuple[str, str]] = [("status", s) for s in values["status"]]
    for key in ("list", "min_score", "max_score", "age", "assignee", "trigger", "sort"):
        if values.get(key) and not (key == "sort" and values[key] == DEFAULT_SORT):
            pairs.append((key, str(values[key])))
    return urlencode(pairs)


def _sort_links(filters: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Per sortable column: its link (toggling the direction if it is the current order) and aria-sort."""
    current = filters["sort"]
    out = {}
    for key in SORT_KEYS:
        if current.lstrip("-") == key:
            descending = current.startswith("-")
            target = key if descending else f"-{key}"
            aria = "descending" if descending else "ascending"
        else:
            target, aria = (f"-{key}", "none")  # a new column starts with the highest / newest first
        out[key] = {"href": "/ui/alerts?" + _params(filters, sort=target), "aria": aria}
    return out


def _age(created: str | None, now: datetime) -> tuple[int, str] | None:
    """(n, unit) of how long ago an alert was raised: minutes, hours or days."""
    if not created:
        return None
    try:
        at = datetime.fromisoformat(created)
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    seconds = max(0.0, (now - at).total_seconds())
    if seconds < 3600:
        return int(seconds // 60), "minute"
    if seconds < 86400:
        return int(seconds // 3600), "hour"
    return int(seconds // 86400), "day"


def _deciders(service: Any) -> list[str]:
    """Active users an alert may be assigned to (roles that may decide alerts), by name."""
    from qalqan.store.tables import User

    with service.db.session() as s:
        rows = s.execute(select(User.name, User.role).where(User.active.is_(True)).order_by(User.name).limit(1000)).all()
    return [name for name, role in rows if rules.may_decide(role)]


def _now(service: Any) -> datetime:
    now = service.clock.now()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _queue_values(request: Request, user: WebUser) -> tuple[dict[str, Any], int]:
    service = request.app.state.service
    filters, errors = _filters(request)
    now = _now(service)
    created_after = created_before = None
    if filters["age"]:
        within, older = AGES[filters["age"]]
        created_after = now - timedelta(days=within) if within else None
        created_before = now - timedelta(days=older) if older else None
    assignee = filters["assignee"]
    page = None
    if not errors:
        try:
            page = alerts.list_alerts(
                service, statuses=filters["status"], list_name=filters["list"] or None, assignee=user.name if assignee == ME else (assignee or None),
                min_score=filters["_low"], max_score=filters["_high"], trigger=filters["trigger"] or None,
                created_after=created_after, created_before=created_before, sort=filters["sort"], offset=filters["offset"], limit=PAGE_SIZE,
            )
        except DecisionError as exc:
            errors[exc.kind] = str(exc)
    items = list(page.items) if page is not None else []
    rows = [{**item, "subject_caption": item.get("subject_caption", ""), "age": _age(item.get("created_at"), now),
             "may_take": may_take(service, item, user)} for item in items]
    decided = request.query_params.get("decided", "")
    to = request.query_params.get("to", "")
    flash = {"id": int(decided), "to": to} if decided.isdigit() and to in STATUSES else None
    values = {
        "filters": filters,
        "errors": errors,
        "page": page,
        "rows": rows,
        "params": _params(filters),
        "sorts": _sort_links(filters),
        "statuses": STATUSES,
        "default_statuses": DEFAULT_STATUSES,
        "triggers": TRIGGERS,
        "ages": tuple(AGES),
        "lists": [l["name"] for l in versions.lists(service.db)],
        "deciders": _deciders(service),
        "flash": flash,
    }
    return values, (422 if errors else 200)


@router.get("/ui/alerts")
def queue(request: Request, user: Annotated[WebUser, Depends(web_require("alerts:read", personal_data=True))]) -> HTMLResponse:
    """The alert queue. An htmx request (the filter form, a sort link, the pager) gets the table
    alone; the browser's address bar keeps the filtered URL (hx-push-url)."""
    values, status = _queue_values(request, user)
    values["partial"] = is_htmx(request) and not request.headers.get("hx-history-restore-request")
    if values["partial"]:
        # htmx swaps 2xx answers only: a filter error is shown in the table area.
        return render(request, "alerts/_queue.html", values, user=user)
    return render(request, "alerts/queue.html", values, user=user, status=status)


# --- the review --------------------------------------------------------------------------------

_SCRIPTS = (("ARABIC", "Arabic"), ("CYRILLIC", "Cyrillic"), ("LATIN", "Latin"), ("CJK", "Chinese"), ("HIRAGANA", "Japanese"),
            ("KATAKANA", "Japanese"), ("HANGUL", "Korean"), ("GREEK", "Greek"), ("HEBREW", "Hebrew"), ("DEVANAGARI", "Devanagari"),
            ("GEORGIAN", "Georgian"), ("ARMENIAN", "Armenian"), ("THAI", "Thai"), ("BENGALI", "Bengali"), ("PERSIAN", "Arabic"))


def script_of(text: str) -> str:
    """The writing system most of `text`'s letters are in ("Latin", "Arabic", "Cyrillic", ...);
    "Mixed" when no one script has most letters, "" for no letter."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        name = unicodedata.name(ch, "")
        script = next((label for key, label in _SCRIPTS if name.startswith(key)), "Other")
        counts[script] = counts.get(script, 0) + 1
    if not letters:
        return ""
    best, n = max(counts.items(), key=lambda kv: kv[1])
    return best if n * 2 > letters else "Mixed"


_WORD = re.compile(r"(\w[\w'’-]*)", re.UNICODE)


def _fold(text: Any) -> str:
    return " ".join(str(text or "").casefold().split())


def highlight(text: str, tokens: set[str]) -> Markup:
    """`text` escaped, its words found in `tokens` (case-folded) wrapped in `<span class="hit">`."""
    if not tokens:
        return Markup(escape(text))
    out = []
    for i, part in enumerate(_WORD.split(text)):
        if i % 2 == 1 and part.casefold() in tokens:
            out.append(Markup('<span class="hit">{}</span>').format(part))
        else:
            out.append(escape(part))
    return Markup("").join(out)


def _values(value: Any) -> list[str]:
    """A subject column's values (several are separated by ';')."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(";") if v.strip()]


def _doc_key(value: Any) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", str(value or "")).upper()


def _country_code(value: str) -> str | None:
    from qalqan.sources.values import country_code

    try:
        return country_code(value)
    except Exception:  # noqa: BLE001 - a display helper: an odd value is shown unmarked
        return None


def _country_label(code: str, lang: str) -> str:
    """A listed country code shown with its name in the page's language."""
    from qalqan.web.i18n import country_name

    name = country_name(code, lang)
    return f"{name} ({code})" if name and name.casefold() != code.casefold() else code


def _matched(explanation: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the explanation says matched, per side: the name tokens aligned (not "unmatched"),
    and the values of the features that scored (positive weight, score above 0)."""
    out: dict[str, Any] = {"q_tokens": set(), "c_tokens": set(), "q_names": set(), "c_names": set(), "q": {}, "c": {}}
    for f in explanation:
        feature = str(f.get("feature") or "")
        score, weight = float(f.get("score") or 0), float(f.get("weight") or 0)
        if score <= 0 or weight <= 0:
            continue
        kind = feature.removesuffix("_match")
        if feature == "name" or f.get("alignment"):
            out["q_names"].add(_fold(f.get("query_value")))
            out["c_names"].add(_fold(f.get("candidate_value")))
            for token in f.get("alignment") or []:
                if token.get("how") == "unmatched" or not float(token.get("similarity") or 0) > 0:
                    continue
                for key, side in (("query", "q_tokens"), ("candidate", "c_tokens")):
                    for word in _WORD.findall(str(token.get(key) or "")):
                        out[side].add(word.casefold())
            continue
        for key, side in (("query_value", "q"), ("candidate_value", "c")):
            raw = f.get(key)
            if raw:
                parts = {_fold(p) for p in re.split(r"\s*[;|]\s*", str(raw)) if p.strip()} | {_fold(raw)}
                out[side].setdefault(kind, set()).update(parts)
    return out


def _hit(values: set[str] | None, *candidates: Any) -> bool:
    return bool(values) and any(_fold(c) in values for c in candidates if c)  # type: ignore[operator]


def _name_row(value: str, kind: str, quality: str, tokens: set[str], names: set[str]) -> dict[str, Any]:
    label = "weak alias" if quality == "low" else ("primary" if kind == "primary" else kind)
    return {"text": highlight(value, tokens), "script": script_of(value), "kind": label, "matched": _fold(value) in names}


def _subject_side(record: Mapping[str, Any] | None, m: Mapping[str, Any]) -> dict[str, Any] | None:
    if record is None:
        return None
    data = dict(record.get("data") or {})
    q = m["q"]
    names = [_name_row(n, "primary", "good", m["q_tokens"], m["q_names"]) for n in _values(data.get("name")) or [record.get("caption") or ""]]
    return {
        "id": record.get("id"),
        "caption": record.get("caption"),
        "schema": record.get("schema") or data.get("schema"),
        "names": names,
        "dates": [{"text": d, "hit": _hit(q.get("dob"), d)} for d in _values(data.get("birth_date"))],
        "nationalities": [{"text": n, "hit": _hit(q.get("nationality"), n, _country_code(n))} for n in _values(data.get("nationality"))],
        "documents": [{"number": d, "hit": _hit(q.get("document"), d) or _doc_key(d) in {_doc_key(v) for v in q.get("document", ())}}
                      for d in _values(data.get("document_number"))],
        "vessel": [{"field": k, "text": v, "hit": _hit(q.get(k), v) or _hit(q.get("vessel_id"), v)} for k in ("imo", "mmsi", "call_sign", "flag") for v in _values(data.get(k))],
        "gender": data.get("gender"),
        "removed_at": record.get("removed_at"),
    }


def _entity_side(entity: Mapping[str, Any] | None, m: Mapping[str, Any], lang: str = "en") -> dict[str, Any] | None:
    if entity is None:
        return None
    from qalqan.model.codec import date_from_dict

    c = m["c"]
    dates = []
    for d in entity.get("birth_dates") or []:
        try:
            text = str(date_from_dict(d))
        except (KeyError, TypeError, ValueError):
            text = str(d)
        dates.append({"text": text, "hit": _hit(c.get("dob"), text)})
    docs = []
    c_docs = {_doc_key(v) for v in c.get("document", ())} | {_doc_key(v) for v in c.get("imo", ())} | {_doc_key(v) for v in c.get("vessel_id", ())}
    for d in entity.get("documents") or []:
        docs.append({**d, "hit": _doc_key(d.get("number")) in c_docs})

    def countries(key: str, feature: str) -> list[dict[str, Any]]:
        return [{"text": _country_label(v, lang), "hit": _hit(c.get(feature), v)} for v in entity.get(key) or []]

    return {
        "id": entity.get("id"),
        "schema": entity.get("schema"),
        "names": [_name_row(n.get("value", ""), n.get("kind", "primary"), n.get("quality", "good"), m["c_tokens"], m["c_names"]) for n in entity.get("names") or []],
        "dates": dates,
        "birth_places": entity.get("birth_places") or [],
        "nationalities": countries("nationalities", "nationality"),
        "countries": countries("countries", "country"),
        "documents": docs,
        "addresses": entity.get("addresses") or [],
        "flags": countries("flags", "flag"),
        "gender": entity.get("gender"),
        "programs": entity.get("programs") or [],
        "notes": entity.get("notes") or [],
        "reference": entity.get("reference"),
        "listed_on": entity.get("listed_on"),
        "source_id": entity.get("source_id"),
    }


def available_actions(service: Any, alert: Mapping[str, Any], user: WebUser) -> list[str]:
    """The decisions `user` may take on `alert` now: each action asked of the lifecycle rule
    (`monitoring.alerts.transition`) as the service would ask it, so nothing the service refuses
    is offered (the service checks again when the form is posted)."""
    if not user.allows("alerts:decide"):
        return []
    pending = alert.get("pending_confirmation") or {}
    out = []
    for action in ACTION_ORDER:
        try:
            rules.transition(alert["status"], action, user.role, "(a reason)", actor=user.name, assigned_to=alert.get("assignee"),
                             four_eyes=bool(getattr(service, "four_eyes", True)), proposed_by=pending.get("by"))
        except DecisionError as exc:
            if not (action == Action.REASSIGN.value and exc.kind == "assignee"):  # reassign only lacks the user here
                continue
        out.append(action)
    return out


def _views(service: Any, alert_id: int) -> tuple[list[dict[str, Any]], int]:
    """Who viewed the alert (the audit log's "alert.view" entries on it), newest first."""
    from qalqan.store.tables import AuditEntry

    cond = (AuditEntry.action == "alert.view", AuditEntry.target == f"alert:{alert_id}")
    with service.db.session() as s:
        total = s.execute(select(func.count()).select_from(AuditEntry).where(*cond)).scalar_one()
        rows = s.execute(select(AuditEntry.actor, AuditEntry.at, AuditEntry.purpose).where(*cond).order_by(AuditEntry.seq.desc()).limit(VIEWS_SHOWN)).all()
    return [{"actor": a, "at": at, "purpose": p} for a, at, p in rows], int(total)


def _review_values(request: Request, user: WebUser, alert: Mapping[str, Any]) -> dict[str, Any]:
    service = request.app.state.service
    explanation = list(alert.get("explanation") or [])
    m = _matched(explanation)
    actions = available_actions(service, alert, user)
    views, view_count = _views(service, int(alert["id"]))
    return {
        "alert": alert,
        "explanation": explanation,
        "subject": _subject_side(alert.get("subject_record"), m),
        "entity": _entity_side(alert.get("entity"), m, language(request)),
        "actions": actions,
        "may_take": may_take(service, alert, user),
        "deciders": _deciders(service) if Action.REASSIGN.value in actions else [],
        "views": views,
        "view_count": view_count,
        "form": {"action": "", "reason": "", "assignee": ""},
        "error": None,
    }


def _load(request: Request, user: WebUser, alert_id: int) -> dict[str, Any]:
    found = alerts.get_alert(request.app.state.service, alert_id, actor=user.name, purpose=user.purpose)
    if found is None:
        raise HTTPException(404, detail=f"No such alert: {alert_id}")
    return found


@router.get("/ui/alerts/{alert_id}")
def review(request: Request, user: Annotated[WebUser, Depends(web_require("alerts:read", personal_data=True))], alert_id: AlertId) -> HTMLResponse:
    """One alert, for review (the view is audited with the session's purpose)."""
    alert = _load(request, user, alert_id)
    return render(request, "alerts/review.html", _review_values(request, user, alert), user=user)


def _error_status(exc: DecisionError) -> int:
    """As the JSON API answers the same refusal (api.alerts._decision_error)."""
    if exc.kind in ("role", "assigned", "actor", "four-eyes"):
        return 403
    if exc.kind == "transition":
        return 409
    return 422


@router.post("/ui/alerts/{alert_id}/decide")
def decide(
    request: Request,
    user: Annotated[WebUser, Depends(web_require("alerts:decide", personal_data=True))],
    alert_id: AlertId,
    action: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=rules.MAX_REASON_CHARS + 1000)] = "",
    assignee: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A decision from the review page's form. Success: back to the queue, which names the
    alert and its new status. A refusal: the review again, the error at the form."""
    service = request.app.state.service
    target = assignee.strip() if action == Action.REASSIGN.value else ""
    try:
        result = service.decide(alert_id, actor=user.name, action=action, reason=reason, assignee=target or None, role=user.role)
    except alerts.AlertNotFound:
        raise HTTPException(404, detail=f"No such alert: {alert_id}") from None
    except DecisionError as exc:
        alert = _load(request, user, alert_id)
        values = _review_values(request, user, alert)
        values["form"] = {"action": action, "reason": reason, "assignee": assignee}
        values["error"] = {"kind": exc.kind, "message": str(exc), "field": "reason" if exc.kind == "reason" else ("assignee" if exc.kind == "assignee" else "action")}
        return render(request, "alerts/review.html", values, user=user, status=_error_status(exc))
    query = urlencode({"decided": alert_id, "to": result.get("status", "")})
    return RedirectResponse(f"/ui/alerts?{query}", status_code=303)


def may_take(service: Any, alert: Mapping[str, Any], user: WebUser) -> bool:
    """Whether "assign to me" is open to `user` on `alert` (asked of the lifecycle rule)."""
    if not user.allows("alerts:decide"):
        return False
    try:
        rules.transition(alert["status"], Action.TAKE.value, user.role, "", actor=user.name, assigned_to=alert.get("assignee"),
                         four_eyes=bool(getattr(service, "four_eyes", True)))
    except DecisionError:
        return False
    return True


@router.post("/ui/alerts/{alert_id}/take")
def take(
    request: Request,
    user: Annotated[WebUser, Depends(web_require("alerts:decide", personal_data=True))],
    alert_id: AlertId,
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002 - the form field's name
) -> Response:
    """"Assign to me": the alert goes to the user (an analyst: only an alert nobody has). Back to
    where the button was (the queue, with its filters, or the review)."""
    from qalqan.web.auth import safe_next

    try:
        request.app.state.service.decide(alert_id, actor=user.name, action=Action.TAKE.value, reason="", role=user.role)
    except alerts.AlertNotFound:
        raise HTTPException(404, detail=f"No such alert: {alert_id}") from None
    except DecisionError as exc:
        raise HTTPException(_error_status(exc), detail=str(exc)) from None
    return RedirectResponse(safe_next(next) if next else f"/ui/alerts/{alert_id}", status_code=303)
