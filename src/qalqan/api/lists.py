"""Lists in the store: versions, diffs, fetch and import (as background jobs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from qalqan.api.jobs import started
from qalqan.api.models import DEFAULT_PAGE, MAX_PAGE, ErrorResponse, JobStarted, Page
from qalqan.api.security import require
from qalqan.api.uploads import receive_upload
from qalqan.service.auth import Principal

#: List formats an import may force (else it is detected from the content).
FORMATS = ("un", "ofac", "canada", "ftm", "csv")

router = APIRouter(tags=["Lists"], responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}})

ListName = Annotated[str, Path(description="The list's name in the store, e.g. 'un'", max_length=64)]


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
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> Page:
    from qalqan.service import lists

    try:
        items = lists.versions(request.app.state.service.db, name)
    except lists.NotFound as exc:
        raise _not_found(exc) from None
    return Page(total=len(items), offset=offset, limit=limit, items=items[offset : offset + limit])


@router.get("/lists/{name}/versions/{number}", summary="One version of a list: source, dates, hash, counts, changes")
def list_version(
    principal: Annotated[Principal, Depends(require("lists:read"))],
    request: Request,
    name: ListName,
    number: Annotated[int, Path(ge=1)],
) -> dict[str, Any]:
    from qalqan.service import lists

    try:
        return lists.get_version(request.app.state.service.db, name, number)
    except lists.NotFound as exc:
        raise _not_found(exc) from None


@router.get("/lists/{name}/diff", summary="What a version added, removed and amended (default: the live version)", response_model=DiffResponse, response_model_by_alias=True)
def list_diff(
    principal: Annotated[Principal, Depends(require("lists:read"))],
    request: Request,
    name: ListName,
    version: Annotated[int | None, Query(ge=1, description="Version number (default: the live one)")] = None,
    change: Annotated[str | None, Query(description="Only 'added', 'removed' or 'amended' lines")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> dict[str, Any]:
    from qalqan.service import lists

    try:
        return lists.get_diff(request.app.state.service.db, name, version, offset=offset, limit=limit, change=change)
    except lists.NotFound as exc:
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
    from qalqan.service import lists

    if url is not None and not url.startswith(("https://", "http://")):
        raise HTTPException(422, detail=[{"loc": ["query", "url"], "msg": "url must be an http(s) URL", "type": "value_error"}])
    service = request.app.state.service
    job = request.app.state.jobs.start("list.fetch", principal.user, lambda progress: lists.fetch_list(service, name, url, actor=principal.user, progress=progress).as_dict())
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
) -> dict[str, str]:
    """Send the file as the body (`curl --data-binary @list.xml`; optionally its name in the
    header X-Filename, kept as the version's source). The import is atomic; the new version is re-screened against the watched
    population. Follow the job at /jobs/{id}."""
    if format is not None and format not in FORMATS:
        raise HTTPException(422, detail=[{"loc": ["query", "format"], "msg": f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", "type": "value_error"}])
    upload = await receive_upload(request)
    service = request.app.state.service
    spec = f"{format}:{upload.path}" if format else str(upload.path)
    source = f"upload:{upload.filename or 'body'}"

    def work(progress: Any) -> dict[str, Any]:
        return service.import_list(spec, actor=principal.user, name=name, source=source, progress=progress).as_dict()  # type: ignore[no-any-return]

    return started(await run_in_threadpool(request.app.state.jobs.start, "list.import", principal.user, work, cleanup=upload.remove))
