"""Terrorist-content indicators: imports (CSV, hash banks, STIX bundles as the request body),
the indicators held (own and partners'), sharing and retraction, and checks of a URL or of an
uploaded file (hashed, PDQ for images, and forgotten unless `keep`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from qalqan.api.models import DEFAULT_PAGE, ErrorResponse, Limit, Offset, Page
from qalqan.api.security import require
from qalqan.service.roles import Principal

router = APIRouter(tags=["Content"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})

IndicatorId = Annotated[str, Path(min_length=1, max_length=200, description="content--<uuid> (or a partner indicator's STIX id)")]
_FILE = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_IMPORT = {"text/csv": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}},
           "application/json": {"schema": {"type": "object"}}, "application/stix+json": {"schema": {"type": "object"}}}


def _error(exc: Exception) -> HTTPException:
    from qalqan.service.content import ContentNotFound

    if isinstance(exc, ContentNotFound):
        return HTTPException(404, detail=str(exc))
    field = getattr(exc, "field", "") or "body"
    detail: dict[str, Any] = {"loc": ["body", field], "msg": str(exc), "type": "value_error"}
    if getattr(exc, "row", 0):
        detail["row"] = exc.row  # type: ignore[attr-defined]
    return HTTPException(409 if "already retracted" in str(exc) or "only its originator" in str(exc) else 422, detail=[detail])


def _svc(request: Request) -> Any:
    return request.app.state.service


@router.post("/content/indicators", summary="Import indicators: a CSV file (value,type,category[,tlp,valid_from,valid_until,source,id]), a PDQ hash bank or a STIX bundle",
             status_code=201, openapi_extra={"requestBody": {"required": True, "content": _IMPORT}}, responses={422: {"model": ErrorResponse}})
async def import_indicators(
    principal: Annotated[Principal, Depends(require("content:write"))],
    request: Request,
    format: Annotated[str, Query(pattern="^(auto|csv|hashbank|stix)$", description="auto tells the three apart by content")] = "auto",
    list_: Annotated[str, Query(alias="list", max_length=200, description="The list the indicators belong to (default: the X-Filename)")] = "",
    category: Annotated[str, Query(max_length=32, description="Category of a hash bank's hashes (its lines carry none); default of a STIX bundle's")] = "",
    tlp: Annotated[str, Query(pattern="^(clear|green|amber|amber\\+strict|red)$", description="TLP of indicators whose file gives none")] = "amber",
    source: Annotated[str, Query(max_length=200, description="The organisation that contributed them (a hash-sharing member, a platform)")] = "",
    replace: Annotated[bool, Query(description="Retract the list's indicators the file no longer has")] = False,
) -> dict[str, Any]:
    """All or nothing: a bad record stores nothing (422 naming its row and field). Indicators
    are matched from the moment they are stored; share them with `POST /content/share`."""
    from starlette.concurrency import run_in_threadpool

    from qalqan.service import content

    data = await request.body()
    if not data:
        raise HTTPException(422, detail=[{"loc": ["body"], "msg": "the file is empty", "type": "value_error"}])
    try:
        summary = await run_in_threadpool(content.import_indicators, _svc(request), data, actor=principal.user, format=format,
                                          filename=request.headers.get("x-filename", ""), source_list=list_, category=category, tlp=tlp,
                                          source_org=source, replace=replace)
    except content.ContentError as exc:
        raise _error(exc) from None
    return summary.as_dict()


@router.get("/content/indicators", summary="Indicators held: our own and those partners shared", response_model=Page)
def list_indicators(
    principal: Annotated[Principal, Depends(require("content:read"))],
    request: Request,
    type: Annotated[str | None, Query(pattern="^(url|domain|ip|cidr|md5|sha1|sha256|pdq)$")] = None,
    list_: Annotated[str | None, Query(alias="list", max_length=200)] = None,
    origin: Annotated[str | None, Query(max_length=64, description="local for our own, or a partner's org code")] = None,
    retracted: Annotated[bool, Query(description="Include retracted indicators")] = False,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> Page:
    from qalqan.service import content

    total, items = content.list_indicators(_svc(request), type=type, source_list=list_, origin=origin, include_retracted=retracted, offset=offset, limit=limit)
    return Page(total=total, offset=offset, limit=limit, items=items)


@router.get("/content/indicators/{indicator_id}", summary="One indicator", responses={404: {"model": ErrorResponse}})
def get_indicator(principal: Annotated[Principal, Depends(require("content:read"))], request: Request, indicator_id: IndicatorId) -> dict[str, Any]:
    from qalqan.service import content

    try:
        return content.get_indicator(_svc(request), indicator_id)
    except content.ContentError as exc:
        raise _error(exc) from None


class RetractBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000)


@router.post("/content/indicators/{indicator_id}/retract", summary="Retract one of our indicators (here at once; on partners at their next sync)",
             responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}})
def retract(principal: Annotated[Principal, Depends(require("content:write"))], request: Request, indicator_id: IndicatorId, body: RetractBody) -> dict[str, Any]:
    from qalqan.service import content

    try:
        return content.retract_indicator(_svc(request), indicator_id, actor=principal.user, reason=body.reason)
    except content.ContentError as exc:
        raise _error(exc) from None


class ShareBody(BaseModel):
    ids: list[str] = Field(default_factory=list, max_length=100_000, description="Indicators to share (or name their list)")
    source_list: str | None = Field(default=None, alias="list", max_length=200, description="Share every active indicator of this list")
    distribution: str = Field(default="connected", pattern="^(organisation|community|connected|all|sharing-group)$")
    group: str | None = Field(default=None, max_length=64, description="The sharing group (distribution sharing-group)")
    recipients: list[str] = Field(default_factory=list, max_length=100, description="Named organisations (required for TLP:RED)")


@router.post("/content/share", summary="Share our indicators with partners (STIX indicators under each one's TLP and this distribution)",
             responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
def share(principal: Annotated[Principal, Depends(require("exchange:publish"))], request: Request, body: ShareBody) -> dict[str, Any]:
    from qalqan.service import content

    try:
        ids = content.share_indicators(_svc(request), actor=principal.user, ids=body.ids or None, source_list=body.source_list, distribution=body.distribution,
                                       group=body.group, recipients=body.recipients)
    except (content.ContentError, ValueError) as exc:
        raise _error(exc) from None
    return {"shared": len(ids), "stix_ids": ids}


@router.post("/content/check", summary="Check a URL (JSON {\"url\": ...}) or a file (the request body) against every indicator held",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {"url": {"type": "string"}}}}, **_FILE}}},
             responses={422: {"model": ErrorResponse}})
async def check(
    principal: Annotated[Principal, Depends(require("content:check"))],
    request: Request,
    keep: Annotated[bool, Query(description="Keep the uploaded file (by default it is hashed and forgotten)")] = False,
    max_distance: Annotated[int | None, Query(ge=0, le=128, description="PDQ match distance in bits (default 31, or QALQAN_PDQ_DISTANCE)")] = None,
) -> dict[str, Any]:
    """Each matching indicator with the rule that matched (url, url-prefix, domain, ip, cidr,
    md5, sha1, sha256, pdq), the PDQ distance, and who it comes from. An image below PDQ's
    quality floor is reported `unhashable` (and still checked by its exact hashes)."""
    import orjson
    from starlette.concurrency import run_in_threadpool

    from qalqan.service import content

    data = await request.body()
    svc = _svc(request)
    try:
        if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
            try:
                body = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise HTTPException(422, detail=[{"loc": ["body"], "msg": "malformed JSON", "type": "value_error"}]) from None
            if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body["url"].strip():
                raise HTTPException(422, detail=[{"loc": ["body", "url"], "msg": 'send {"url": "..."} or the file itself as the body', "type": "value_error"}])
            return await run_in_threadpool(content.check_url, svc, body["url"], actor=principal.user)
        if not data:
            raise HTTPException(422, detail=[{"loc": ["body"], "msg": "the file is empty", "type": "value_error"}])
        return await run_in_threadpool(content.check_file, svc, data, actor=principal.user, filename=request.headers.get("x-filename", "")[:200],
                                       media_type=request.headers.get("content-type", ""), keep=keep, max_distance=max_distance)
    except content.ContentError as exc:
        raise _error(exc) from None


@router.get("/content/stats", summary="Indicators held, by origin and type")
def content_stats(principal: Annotated[Principal, Depends(require("content:read"))], request: Request) -> dict[str, Any]:
    from qalqan.service import content

    return content.stats(_svc(request))


@router.get("/content/samples/{sha256}", summary="A checked file that was kept (its bytes)", responses={404: {"model": ErrorResponse}},
            response_class=Response)
def sample(principal: Annotated[Principal, Depends(require("content:write"))], request: Request,
           sha256: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")]) -> Response:
    from qalqan.service import content

    svc = _svc(request)
    try:
        info, data = content.get_sample(svc, sha256)
    except content.ContentError as exc:
        raise _error(exc) from None
    with svc.transaction() as s:
        svc.audit(s, actor=principal.user, action="content.sample.read", target=f"sha256:{info['sha256']}")
    return Response(data, media_type="application/octet-stream", headers={"Content-Disposition": 'attachment; filename="sample.bin"', "X-Content-Type-Options": "nosniff"})
