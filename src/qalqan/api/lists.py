"""Lists in the store: versions, diffs, fetch and import (as background jobs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, Field

from qalqan.api.jobs import started
from qalqan.api.models import DEFAULT_PAGE, MAX_INTEGER, ErrorResponse, JobStarted, Limit, Offset, Page, Text
from qalqan.api.security import require
from qalqan.api.uploads import receive_upload
from qalqan.model.identifiers import check_identifier, check_text
from qalqan.service.roles import Principal
from qalqan.sources.registry import RESERVED_LIST_NAMES

#: List formats an import may force (else it is detected from the content).
FORMATS = ("un", "ofac", "canada", "ftm", "csv")

router = APIRouter(tags=["Lists"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})



def _list_name(value: str) -> str:
    """A list name as `sources.registry` accepts it: no control or bidi characters, not one of
    the names `/match/{list}` reads as every list (an import under it could never be chosen)."""
    return check_identifier(value, "list name", reserved=RESERVED_LIST_NAMES)


def _reason(value: str) -> str:
    return check_text(value, "reason")


ListName = Annotated[str, Path(description="The list's name in the store, e.g. 'un'", max_length=64), AfterValidator(_list_name)]
#: A version number (an INTEGER column).
VersionNumber = Annotated[int, Path(ge=1, le=MAX_INTEGER)]


class DiffResponse(BaseModel):
    list_: str = Field(..., alias="list")
    version: dict[str, Any]
    previous: dict[str, Any] | None
    changes: dict[str, Any]
    totals: dict[str, int]
    total: int
    offset: int
    limit: int
    lines: list[dict[str, Any]]


def _not_found(exc: LookupError) -> HTTPException:
    return HTTPException(404, detail=str(exc.args[0]) if exc.args else "not found")


@router.get("/lists/{name}/versions", summary="A list's versions, newest first", response_model=Page)
def list_versions(
    principal: Annotated[Principal, Depends(require("lists:read"))],
    request: Request,
    name: ListName,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> Page:
    from qalqan.service import versions

    try:
        items = versions.versions(request.app.state.service.db, name)
    except versions.NotFound as exc:
        raise _not_found(exc) from None
    return Page(total=len(items), offset=offset, limit=limit, items=items[offset : offset + limit])


@router.get("/lists/{name}/versions/{number}", summary="One version of a list: source, dates, hash, counts, changes")
def list_version(
    principal: Annotated[Principal, Depends(require("lists:read"))],
    request: Request,
    name: ListName,
    number: VersionNumber,
) -> dict[str, Any]:
    from qalqan.service import versions

    try:
        return versions.get_version(request.app.state.service.db, name, number)
    except versions.NotFound as exc:
        raise _not_found(exc) from None


@router.get("/lists/{name}/diff", summary="What a version added, removed and amended (default: the live version)", response_model=DiffResponse, response_model_by_alias=True)
def list_diff(
    principal: Annotated[Principal, Depends(require("lists:read"))],
    request: Request,
    name: ListName,
    version: Annotated[int | None, Query(ge=1, le=MAX_INTEGER, description="Version number (default: the live one)")] = None,
    change: Annotated[str | None, Query(description="Only 'added', 'removed' or 'amended' lines")] = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> dict[str, Any]:
    from qalqan.service import versions

    try:
        return versions.get_diff(request.app.state.service.db, name, version, offset=offset, limit=limit, change=change)
    except versions.NotFound as exc:
        raise _not_found(exc) from None
    except ValueError as exc:
        raise HTTPException(422, detail=[{"loc": ["query", "change" if change else "limit"], "msg": str(exc), "type": "value_error"}]) from None


@router.post("/lists/{name}/fetch", status_code=202, summary="Download the list (ETag / If-Modified-Since) and import it, in the background", response_model=JobStarted)
def fetch(
    principal: Annotated[Principal, Depends(require("lists:write"))],
    request: Request,
    name: ListName,
    url: Annotated[str | None, Query(max_length=1000, description="Download from this URL (default: the list's stored or official URL)")] = None,
) -> dict[str, str]:
    if url is not None and not url.startswith(("https://", "http://")):
        raise HTTPException(422, detail=[{"loc": ["query", "url"], "msg": "url must be an http(s) URL", "type": "value_error"}])
    service = request.app.state.service
    job = request.app.state.jobs.start("list.fetch", principal.user, lambda progress: service.fetch_list(name, url, actor=principal.user, progress=progress).as_dict())
    return started(job)


@router.post(
    "/lists/{name}/import",
    status_code=202,
    summary="Import an uploaded list file as a new version, in the background",
    response_model=JobStarted,
    responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def import_upload(
    principal: Annotated[Principal, Depends(require("lists:write"))],
    request: Request,
    name: ListName,
    format: Annotated[str | None, Query(description=f"Force a format ({', '.join(FORMATS)}); default: detected from the content")] = None,
    force: Annotated[bool, Query(description="Make the version live even if the import guard would hold it (needs `reason`)")] = False,
    reason: Annotated[str, Query(max_length=2000, description="Why a held version is forced live (with `force`)"), AfterValidator(_reason)] = "",
) -> dict[str, str]:
    """Send the file as the body (`curl --data-binary @list.xml`; optionally its name in the
    header X-Filename, kept as the version's source and shown in its title and messages instead
    of the server's path). The import is atomic; the new version is re-screened against the watched
    population — unless the import guard holds it as pending (it removes more than the allowed
    share of the live entities, is older than the live version, or changes the list's format):
    then the job's result has `status: "pending"` and its `held` reasons, and an admin confirms it
    at /lists/{name}/versions/{number}/confirm. Follow the job at /jobs/{id}."""
    if format is not None and format not in FORMATS:
        raise HTTPException(422, detail=[{"loc": ["query", "format"], "msg": f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", "type": "value_error"}])
    if force and not reason.strip():
        raise HTTPException(422, detail=[{"loc": ["query", "reason"], "msg": "force needs a reason", "type": "missing"}])
    upload = await receive_upload(request)
    service = request.app.state.service
    spec = f"{format}:{upload.path}" if format else str(upload.path)
    source = f"upload:{upload.filename}"

    def work(progress: Any) -> dict[str, Any]:
        return service.import_list(spec, actor=principal.user, name=name, source=source, progress=progress, force=force, reason=reason).as_dict()  # type: ignore[no-any-return]

    jobs = request.app.state.jobs
    return started(await run_in_threadpool(lambda: jobs.start("list.import", principal.user, work, cleanup=upload.remove, redactions=upload.redactions)))


class VersionDecision(BaseModel):
    reason: Text = Field(..., min_length=1, max_length=2000, description="Why the held version is confirmed or rejected (recorded in the audit log)")


def _decide_version(request: Request, name: str, number: int, reason: str, decide: Any) -> Any:
    from qalqan.service import lists, versions

    if not reason.strip():
        raise HTTPException(422, detail=[{"loc": ["body", "reason"], "msg": "a reason is required", "type": "missing"}])
    try:
        return decide(name, number, reason.strip())
    except versions.NotFound as exc:
        raise _not_found(exc) from None
    except lists.VersionStateError as exc:
        raise HTTPException(409, detail=str(exc)) from None


@router.post(
    "/lists/{name}/versions/{number}/confirm",
    summary="Confirm a version held by the import guard: it goes live and the population is re-screened",
    responses={409: {"model": ErrorResponse}},
)
def confirm_version(
    principal: Annotated[Principal, Depends(require("lists:write"))],
    request: Request,
    name: ListName,
    number: VersionNumber,
    body: VersionDecision,
) -> dict[str, Any]:
    """A version that removes more than the allowed share of the live entities, is older than the
    live version, or changes the list's format is stored as pending (see its `held` reasons and
    `GET /lists/{name}/diff?version=N`); it goes live only through this route."""
    service = request.app.state.service
    result = _decide_version(request, name, number, body.reason, lambda n, v, r: service.confirm_version(n, v, actor=principal.user, reason=r))
    return result.as_dict()  # type: ignore[no-any-return]


@router.post(
    "/lists/{name}/versions/{number}/reject",
    summary="Reject a version held by the import guard: it never goes live",
    responses={409: {"model": ErrorResponse}},
)
def reject_version(
    principal: Annotated[Principal, Depends(require("lists:write"))],
    request: Request,
    name: ListName,
    number: VersionNumber,
    body: VersionDecision,
) -> dict[str, Any]:
    from qalqan.service import lists, versions

    service = request.app.state.service
    _decide_version(request, name, number, body.reason, lambda n, v, r: lists.reject_version(service, n, v, actor=principal.user, reason=r))
    return versions.get_version(service.db, name, number)
