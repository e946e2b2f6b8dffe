"""The content pages: the terrorist-content indicators held (our own and those partners shared),
with their TLP, list, source and state; the check of a URL or of an uploaded file against them
(the file hashed and forgotten unless the analyst asks to keep it); and, for supervisors, the
import of an indicator file and the retraction of one of our indicators.

The pages call the service functions the JSON API calls (`api/content.py`):
`content.list_indicators`, `stats`, `check_url`, `check_file`, `import_indicators` and
`retract_indicator`; `ContentNotFound` answers 404, any other `ContentError` is shown in the
page with the field (and the file's row) it names.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from qalqan.api.uploads import BodyTooLarge
from qalqan.content.indicators import CATEGORIES, DEFAULT_TLP, TLP_LABELS
from qalqan.exchange.policy import Distribution
from qalqan.service import content, exchange
from qalqan.web.auth import WebUser, web_require
from qalqan.web.templating import render
from qalqan.web.uploads import receive_form_upload

router = APIRouter(include_in_schema=False)

#: Indicators per page of the list.
PAGE_SIZE = 50
#: Indicator types, in the order the filter offers them.
TYPES: tuple[str, ...] = ("url", "domain", "ip", "cidr", "md5", "sha1", "sha256", "pdq")
#: TLP labels, least to most restricted.
TLPS: tuple[str, ...] = tuple(t for t in ("clear", "green", "amber", "amber+strict", "red") if t in TLP_LABELS)
#: Content categories, sorted (the import form's select).
CATEGORY_CODES: tuple[str, ...] = tuple(sorted(CATEGORIES))
#: How an import file is read.
FORMATS: tuple[str, ...] = content.FORMATS

#: Who may receive what is shared (MISP's distribution levels, `exchange.policy.Distribution`).
DISTRIBUTIONS: tuple[str, ...] = tuple(d.value for d in Distribution)

IndicatorId = Annotated[str, Path(min_length=1, max_length=200)]


def _text(form: Any, key: str, limit: int = 200) -> str:
    value = form.get(key) if form is not None else None
    return value.strip()[:limit] if isinstance(value, str) else ""


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    kind = q.get("type", "")
    try:
        offset = min(max(0, int(q.get("offset") or 0)), 10**9)
    except ValueError:
        offset = 0
    return {
        "type": kind if kind in TYPES else "",
        "list": (q.get("list") or "").strip()[:200],
        "origin": (q.get("origin") or "").strip()[:64],
        "retracted": q.get("retracted") in ("1", "on", "true"),
        "offset": offset,
    }


def _list_values(request: Request) -> dict[str, Any]:
    service = request.app.state.service
    f = _filters(request)
    total, items = content.list_indicators(service, type=f["type"] or None, source_list=f["list"] or None, origin=f["origin"] or None,
                                           include_retracted=f["retracted"], offset=f["offset"], limit=PAGE_SIZE)
    stats = content.stats(service)
    params = [(k, f[k]) for k in ("type", "list", "origin") if f[k]] + ([("retracted", "1")] if f["retracted"] else [])
    partners = sorted(set(stats["from_partners"]) | ({f["origin"]} if f["origin"] and f["origin"] != "local" else set()))
    return {
        "page": {"total": total, "offset": f["offset"], "limit": PAGE_SIZE, "items": items},
        "stats": stats,
        "filters": f,
        "partners": partners,
        "params": urlencode(params),
        "types": TYPES,
        "tlps": TLPS,
        "categories": CATEGORY_CODES,
        "formats": FORMATS,
        "default_tlp": DEFAULT_TLP,
        "imported": None,
        "import_error": None,
        "import_form": {},
        "retracted": None,
        "retract_error": None,
        "distributions": DISTRIBUTIONS,
        "shared": None,
        "share_error": None,
        "share_form": {},
    }


def _page(request: Request, user: WebUser, status: int = 200, **values: Any) -> HTMLResponse:
    out = _list_values(request)
    out.update(values)
    return render(request, "content/index.html", out, user=user, status=status)


def _error(exc: content.ContentError) -> dict[str, Any]:
    return {"message": str(exc), "field": exc.field, "row": exc.row}


@router.get("/ui/content")
def indicators(request: Request, user: Annotated[WebUser, Depends(web_require("content:read"))]) -> HTMLResponse:
    """The indicators held: ours and those partners shared, with a summary by type and origin."""
    return _page(request, user)


@router.post("/ui/content/indicators")
async def import_indicators(request: Request, user: Annotated[WebUser, Depends(web_require("content:write"))]) -> HTMLResponse:
    """An indicator file (CSV, PDQ hash bank or STIX bundle) from the import form: all or nothing,
    the first bad record named by its row and field."""
    try:
        upload, form = await receive_form_upload(request)
    except BodyTooLarge:
        return _page(request, user, status=413, import_error={"message": "", "field": "file", "row": 0, "code": "too-large"})
    values = {"list": _text(form, "list"), "category": _text(form, "category", 32), "tlp": _text(form, "tlp", 16) or DEFAULT_TLP,
              "source": _text(form, "source"), "format": _text(form, "format", 16) or "auto"}
    if upload is None:
        return _page(request, user, status=422, import_form=values, import_error={"message": "", "field": "file", "row": 0, "code": "file-required"})
    try:
        data = await run_in_threadpool(upload.path.read_bytes)
    finally:
        upload.remove()
    if values["tlp"] not in TLPS:
        return _page(request, user, status=422, import_form=values,
                     import_error={"message": f"unknown TLP {values['tlp']!r}", "field": "tlp", "row": 0, "code": "invalid"})
    service = request.app.state.service
    try:
        summary = await run_in_threadpool(lambda: content.import_indicators(
            service, data, actor=user.name, format=values["format"], filename=upload.filename, source_list=values["list"],
            category=values["category"], tlp=values["tlp"], source_org=values["source"]))
    except content.ContentError as exc:
        return _page(request, user, status=422, import_form=values, import_error={**_error(exc), "code": "invalid"})
    return _page(request, user, imported={**summary.as_dict(), "filename": upload.filename})


@router.post("/ui/content/{indicator_id}/retract")
async def retract(request: Request, user: Annotated[WebUser, Depends(web_require("content:write"))], indicator_id: IndicatorId) -> HTMLResponse:
    """Retract one of our indicators (it stops matching at once; partners drop it at their next
    sync). The reason is required."""
    form = await request.form()
    reason = _text(form, "reason", 2000)
    service = request.app.state.service
    try:
        result = await run_in_threadpool(lambda: content.retract_indicator(service, indicator_id, actor=user.name, reason=reason))
    except content.ContentNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except content.ContentError as exc:
        status = 409 if "already retracted" in str(exc) or "only its originator" in str(exc) else 422
        return _page(request, user, status=status, retract_error={**_error(exc), "id": indicator_id})
    return _page(request, user, retracted=result)


@router.post("/ui/content/share")
async def share(request: Request, user: Annotated[WebUser, Depends(web_require("exchange:publish"))]) -> HTMLResponse:
    """Share every active indicator of one of our lists with partners: STIX indicators under each
    one's own TLP and the distribution the liaison officer chooses (TLP:RED needs named
    recipients)."""
    form = await request.form()
    values = {"list": _text(form, "list"), "distribution": _text(form, "distribution", 32) or exchange.DEFAULT_DISTRIBUTION,
              "group": _text(form, "group", 64), "recipients": _text(form, "recipients", 2000)}
    if not values["list"]:
        return _page(request, user, status=422, share_form=values, share_error={"message": "", "field": "source_list", "row": 0, "code": "list-required"})
    recipients = [r.strip() for r in values["recipients"].replace(";", ",").split(",") if r.strip()]
    service = request.app.state.service
    try:
        ids = await run_in_threadpool(lambda: content.share_indicators(service, actor=user.name, source_list=values["list"], distribution=values["distribution"],
                                                                       group=values["group"] or None, recipients=recipients))
    except content.ContentNotFound as exc:
        return _page(request, user, status=404, share_form=values, share_error={**_error(exc), "code": "not-found"})
    except content.ContentError as exc:
        return _page(request, user, status=422, share_form=values, share_error={**_error(exc), "code": "invalid"})
    except ValueError as exc:  # the distribution (exchange.ExchangeError, policy.PolicyError)
        return _page(request, user, status=422, share_form=values,
                     share_error={"message": str(exc), "field": getattr(exc, "field", "") or "distribution", "row": 0, "code": "invalid"})
    return _page(request, user, shared={"list": values["list"], "count": len(ids), "distribution": values["distribution"]})


# --- checking ------------------------------------------------------------------------------


def _check_page(request: Request, user: WebUser, status: int = 200, **values: Any) -> HTMLResponse:
    out: dict[str, Any] = {"result": None, "check_error": None, "url": "", "keep": False}
    out.update(values)
    return render(request, "content/check.html", out, user=user, status=status)


@router.get("/ui/content/check")
def check_form(request: Request, user: Annotated[WebUser, Depends(web_require("content:check"))]) -> HTMLResponse:
    """The form: a URL, or a file to upload (hashed and forgotten unless kept)."""
    return _check_page(request, user)


@router.post("/ui/content/check")
async def check(request: Request, user: Annotated[WebUser, Depends(web_require("content:check"))]) -> HTMLResponse:
    """The indicators a URL or an uploaded file matches, each with the rule that matched."""
    try:
        upload, form = await receive_form_upload(request)
    except BodyTooLarge:
        return _check_page(request, user, status=413, check_error={"message": "", "field": "file", "code": "too-large"})
    url = _text(form, "url", 8000)
    keep = form.get("keep") in ("on", "1", "true")
    service = request.app.state.service
    if upload is not None and url:
        upload.remove()
        return _check_page(request, user, status=422, url=url, keep=keep, check_error={"message": "", "field": "url", "code": "both"})
    if upload is None and not url:
        return _check_page(request, user, status=422, keep=keep, check_error={"message": "", "field": "url", "code": "nothing"})
    try:
        if upload is None:
            result = await run_in_threadpool(lambda: content.check_url(service, url, actor=user.name))
        else:
            sent = form.get("file")
            media_type = (sent.content_type or "") if isinstance(sent, UploadFile) else ""
            try:
                data = await run_in_threadpool(upload.path.read_bytes)
            finally:
                upload.remove()
            result = await run_in_threadpool(lambda: content.check_file(service, data, actor=user.name, filename=upload.filename,
                                                                        media_type=media_type, keep=keep))
    except content.ContentError as exc:
        return _check_page(request, user, status=422, url=url, keep=keep, check_error={**_error(exc), "code": "invalid"})
    # "Keep the file" is asked again for every file: the box is cleared once a check is done.
    return _check_page(request, user, result=result, url=url)
