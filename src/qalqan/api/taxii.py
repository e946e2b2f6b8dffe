"""The TAXII 2.1 server at /taxii2/: what partner agencies read (docs/exchange.md).

One API root (`/taxii2/api/`) with one collection; every partner sees its own view of it, cut
by the egress filter (`service.exchange.serve`). Authentication is a partner user's API key,
as `Authorization: Bearer <key>` or HTTP Basic (user name, and the key as the password), which
is how TAXII clients send credentials. Every read and write is audited. A partner may also
write (`can_write: true`): objects it POSTs (made by it; a relay's as for a pull) are taken in
exactly as a pulled page (`service.exchange.add_objects` → `ingest`), all or nothing, and
answered 202 with a status resource, read back at `/taxii2/api/status/{id}/` (§4.3, §5.4).

Media type `application/taxii+json;version=2.1` in both directions (a request that accepts
neither it nor `*/*` gets 406); paging by `limit` and `next` with the X-TAXII-Date-Added-First
and -Last headers; filters `added_after`, `match[id]`, `match[type]`, `match[version]`,
`match[spec_version]` (TAXII 2.1 §3.4-3.6).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

import orjson

from qalqan.api.security import optional_purpose, require
from qalqan.exchange import taxii as tx
from qalqan.service import exchange
from qalqan.service.roles import Principal

router = APIRouter(prefix="/taxii2", tags=["TAXII 2.1"])

READ = Depends(require("taxii:read"))
#: Most bytes one request to the API root may carry (a larger POST gets 413).
MAX_CONTENT_LENGTH = 10_000_000


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=tx.TAXII_MEDIA, headers=headers)


def _error(status: int, title: str, description: str = "") -> Response:
    # "detail" as every other route of the API answers; title/http_status as TAXII's error message.
    return _taxii({"title": title, "description": description, "http_status": str(status), "detail": description or title}, status)


def _accepts(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return True
    return any(part.split(";")[0].strip() in ("application/taxii+json", "*/*", "application/*") for part in accept.split(","))


def _requester(request: Request, principal: Principal) -> str | None:
    return exchange.partner_for_user(request.app.state.service, principal.user)


def _check(request: Request, principal: Principal, collection_id: str | None = None) -> tuple[str | None, Response | None]:
    if not _accepts(request):
        return None, _error(406, "Not Acceptable", f"this server answers {tx.TAXII_MEDIA}")
    org = _requester(request, principal)
    if collection_id is not None and (org is None or collection_id != exchange.COLLECTION_ID):
        return None, _error(404, "Not Found", f"no collection {collection_id!r} readable by you")
    return org, None


def _root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/taxii2/api/"


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        out.setdefault(k, []).append(v)
    return out


def _headers(served: exchange.Served) -> dict[str, str]:
    h = {}
    if served.first is not None:
        h["X-TAXII-Date-Added-First"] = tx.format_timestamp(served.first)
    if served.last is not None:
        h["X-TAXII-Date-Added-Last"] = tx.format_timestamp(served.last)
    return h


@router.get("/", summary="TAXII discovery")
def discovery(request: Request, principal: Annotated[Principal, READ]) -> Response:
    if not _accepts(request):
        return _error(406, "Not Acceptable", f"this server answers {tx.TAXII_MEDIA}")
    root = _root_url(request)
    return _taxii({"title": f"Qalqan node {exchange.node_org(request.app.state.service)}", "description": "Subjects of interest, early warnings and hit reports shared with partner agencies",
                   "default": root, "api_roots": [root]})


@router.get("/api/", summary="TAXII API root")
def api_root(request: Request, principal: Annotated[Principal, READ]) -> Response:
    if not _accepts(request):
        return _error(406, "Not Acceptable", f"this server answers {tx.TAXII_MEDIA}")
    return _taxii({"title": "Qalqan exchange", "versions": [tx.TAXII_MEDIA], "max_content_length": MAX_CONTENT_LENGTH})


@router.get("/api/collections/", summary="TAXII collections")
def collections(request: Request, principal: Annotated[Principal, READ]) -> Response:
    org, err = _check(request, principal)
    if err is not None:
        return err
    return _taxii({"collections": [exchange.collection_info(can_write=True)] if org is not None else []})


@router.get("/api/collections/{collection_id}/", summary="TAXII collection")
def collection(request: Request, collection_id: str, principal: Annotated[Principal, READ]) -> Response:
    _org, err = _check(request, principal, collection_id)
    return err if err is not None else _taxii(exchange.collection_info(can_write=True))


def _serve(request: Request, principal: Principal, collection_id: str, *, object_id: str | None = None, versions: bool = False, what: str = "objects") -> exchange.Served | Response:
    org, err = _check(request, principal, collection_id)
    if err is not None:
        return err
    try:
        filters = tx.parse_filters(_params(request), max_limit=exchange.TAXII_MAX_PAGE)
    except tx.TaxiiError as exc:
        return _error(getattr(exc, "status", 400), "Bad Request", str(exc))
    assert org is not None
    return exchange.serve(request.app.state.service, org, filters, actor=principal.user, object_id=object_id, versions=versions, what=what)


@router.get("/api/collections/{collection_id}/objects/", summary="TAXII get objects")
def get_objects(request: Request, collection_id: str, principal: Annotated[Principal, READ]) -> Response:
    served = _serve(request, principal, collection_id)
    if isinstance(served, Response):
        return served
    body: dict[str, Any] = {"more": served.more}
    if served.more and served.next:
        body["next"] = served.next
    if served.objects:
        body["objects"] = served.objects
    return _taxii(body, headers=_headers(served))


def _content_type_ok(request: Request) -> bool:
    parts = [p.strip().replace(" ", "").lower() for p in request.headers.get("content-type", "").split(";")]
    if parts[0] != "application/taxii+json":
        return False
    versions = [p.split("=", 1)[1] for p in parts[1:] if p.startswith("version=")]
    return all(v == "2.1" for v in versions)


@router.post("/api/collections/{collection_id}/objects/", status_code=202, summary="TAXII add objects (a partner's own objects)")
async def add_objects(request: Request, collection_id: str, principal: Annotated[Principal, READ], purpose: Annotated[str, Depends(optional_purpose)]) -> Response:
    """An envelope of objects made by the partner (`Content-Type: application/taxii+json;version=2.1`),
    taken in all or nothing; 202 with the status resource. 415 another media type, 413 larger
    than max_content_length, 400 malformed, 403 an object in another organisation's name."""
    service = request.app.state.service
    org, err = await run_in_threadpool(_check, request, principal, collection_id)
    if err is not None:
        return err
    assert org is not None
    if not _content_type_ok(request):
        return _error(415, "Unsupported Media Type", f"add objects as {tx.TAXII_MEDIA} (an envelope of objects)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_CONTENT_LENGTH:
        return _error(413, "Payload Too Large", f"request of {int(declared):,} bytes is larger than max_content_length {MAX_CONTENT_LENGTH:,}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CONTENT_LENGTH:
            return _error(413, "Payload Too Large", f"request is larger than max_content_length {MAX_CONTENT_LENGTH:,} bytes")
    from qalqan.service.audit import input_hash

    def work() -> Response:
        try:
            objects = exchange.parse_wire(body)
            status = exchange.add_objects(service, org, objects, actor=principal.user, purpose=purpose, input_hash=input_hash(body))
        except exchange.IngestError as exc:
            titles = {400: "Bad Request", 403: "Forbidden", 413: "Payload Too Large"}
            code = exc.status if exc.status in titles else 400
            return _error(code, titles[code], str(exc))
        except exchange.ExchangeError as exc:
            return _error(400, "Bad Request", str(exc))
        return _taxii(status, 202)

    return await run_in_threadpool(work)


@router.get("/api/status/{status_id}/", summary="TAXII get status")
@router.get("/api/status/{status_id}", include_in_schema=False)
def get_status(request: Request, status_id: str, principal: Annotated[Principal, READ]) -> Response:
    """The status resource of an add-objects request, to the partner that made it (404 otherwise)."""
    org, err = _check(request, principal)
    if err is not None:
        return err
    status = exchange.get_status(request.app.state.service, org, status_id, actor=principal.user) if org is not None else None
    if status is None:
        return _error(404, "Not Found", f"no status {status_id!r} of yours")
    return _taxii(status)


@router.get("/api/collections/{collection_id}/manifest/", summary="TAXII get object manifests")
def get_manifest(request: Request, collection_id: str, principal: Annotated[Principal, READ]) -> Response:
    served = _serve(request, principal, collection_id, what="manifest")
    if isinstance(served, Response):
        return served
    body: dict[str, Any] = {"more": served.more}
    if served.more and served.next:
        body["next"] = served.next
    if served.records:
        body["objects"] = [{"id": r.id, "date_added": tx.format_timestamp(r.date_added), "version": r.version, "media_type": tx.STIX_MEDIA} for r in served.records]
    return _taxii(body, headers=_headers(served))


@router.get("/api/collections/{collection_id}/objects/{object_id}/", summary="TAXII get an object")
def get_object(request: Request, collection_id: str, object_id: str, principal: Annotated[Principal, READ]) -> Response:
    served = _serve(request, principal, collection_id, object_id=object_id, what="object")
    if isinstance(served, Response):
        return served
    if not served.objects:
        return _error(404, "Not Found", f"no object {object_id!r} readable by you")
    body: dict[str, Any] = {"more": served.more, "objects": served.objects}
    if served.more and served.next:
        body["next"] = served.next
    return _taxii(body, headers=_headers(served))


@router.get("/api/collections/{collection_id}/objects/{object_id}/versions/", summary="TAXII get an object's versions")
def get_versions(request: Request, collection_id: str, object_id: str, principal: Annotated[Principal, READ]) -> Response:
    served = _serve(request, principal, collection_id, object_id=object_id, versions=True, what="versions")
    if isinstance(served, Response):
        return served
    if not served.records:
        return _error(404, "Not Found", f"no object {object_id!r} readable by you")
    body: dict[str, Any] = {"more": served.more, "versions": [r.version for r in served.records]}
    if served.more and served.next:
        body["next"] = served.next
    return _taxii(body, headers=_headers(served))
