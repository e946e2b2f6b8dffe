"""The lists in the store: every list (its live version, when it was last fetched, versions held
by the import guard), one list's versions, one version, and the diff of a version against the
one before it (what it added, removed and amended, and the alerts each change raised); an
admin imports a file or fetches a list now, both as background jobs like the JSON API's.

The pages call the service functions `api.lists` calls (`service.versions.lists`, `versions`,
`get_version`, `get_diff`; `Qalqan.import_list` and `Qalqan.fetch_list` in a job). The alerts
each change raised come from `service.alerts.alerts_raised_by`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from qalqan.api.lists import FORMATS, _list_name
from qalqan.monitoring.diff import CHANGES
from qalqan.service import alerts, versions
from qalqan.service.common import PAGE_MAX
from qalqan.web.auth import WebUser, web_require
from qalqan.web.pages.subjects import load_job
from qalqan.web.uploads import receive_form_upload
from qalqan.web.templating import is_htmx, render

router = APIRouter(include_in_schema=False)

#: Diff lines per page.
DIFF_PAGE = 100
#: The diff page reads at most this many of a list's alerts to find those a change raised.
ALERT_SCAN = 20_000
JOB_KINDS: tuple[str, ...] = ("list.import", "list.fetch")
MAX_INT = 2**31 - 1

ListName = Annotated[str, Path(max_length=64)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_INT)]


def _name(value: str) -> str:
    try:
        return _list_name(value)
    except ValueError:
        raise HTTPException(404, detail="No such list") from None


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        number = int(value) if value not in (None, "") else default
    except ValueError:
        return default
    return None if number is None else max(0, min(number, MAX_INT))


def _pending(db: Any, names: Iterable[str]) -> list[dict[str, Any]]:
    """Versions held by the import guard, awaiting an admin's confirmation, newest first."""
    held: list[dict[str, Any]] = []
    for name in names:
        held += [v for v in versions.versions(db, name) if v["status"] == "pending"]
    return sorted(held, key=lambda v: v.get("fetched_at") or "", reverse=True)


def _lists_values(request: Request) -> dict[str, Any]:
    db = request.app.state.service.db
    found = versions.lists(db)
    return {"lists": found, "pending": _pending(db, [item["name"] for item in found]), "formats": FORMATS, "error": None, "job": None, "form": {}}


@router.get("/ui/lists")
def all_lists(request: Request, user: Annotated[WebUser, Depends(web_require("lists:read"))]) -> HTMLResponse:
    return render(request, "lists/index.html", _lists_values(request), user=user)


# --- jobs: import and fetch --------------------------------------------------------------------


def _job_response(request: Request, user: WebUser, name: str, job_id: str, page: str) -> Response:
    if not is_htmx(request):
        return RedirectResponse(f"/ui/lists/{name}/jobs/{job_id}", status_code=303)
    job = load_job(request, user, job_id, JOB_KINDS)
    return render(request, "lists/_job.html", {"job": job, "name": name, "error": None}, user=user)


def _refused(request: Request, user: WebUser, message: str, form: dict[str, str]) -> HTMLResponse:
    if is_htmx(request):
        return render(request, "lists/_job.html", {"job": None, "name": form.get("name", ""), "error": message}, user=user)
    values = {**_lists_values(request), "error": message, "form": form}
    return render(request, "lists/index.html", values, user=user, status=422)


@router.post("/ui/lists/import")
async def import_upload(request: Request, user: Annotated[WebUser, Depends(web_require("lists:write"))]) -> Response:
    """A list file from the upload form (multipart, htmx shows the bytes sent), imported as a new
    version in a background job like `POST /lists/{name}/import`."""
    upload, form = await receive_form_upload(request)
    raw = {k: (form.get(k) if isinstance(form.get(k), str) else "") for k in ("name", "format")}
    values = {k: str(v).strip()[:64] for k, v in raw.items()}
    try:
        name = _list_name(values["name"])
    except ValueError as exc:
        if upload is not None:
            upload.remove()
        return _refused(request, user, f"List name: {exc}" if values["name"] else "List name: a name is required.", values)
    fmt = values["format"] or None
    if fmt is not None and fmt not in FORMATS:
        if upload is not None:
            upload.remove()
        return _refused(request, user, f"Format: unknown format {fmt!r}", values)
    if upload is None:
        return _refused(request, user, "File: choose a file to upload.", values)
    service = request.app.state.service
    spec = f"{fmt}:{upload.path}" if fmt else str(upload.path)
    source = f"upload:{upload.filename}"
    actor = user.name

    def work(progress: Any) -> dict[str, Any]:
        return service.import_list(spec, actor=actor, name=name, source=source, progress=progress).as_dict()  # type: ignore[no-any-return]

    jobs = request.app.state.jobs
    job_id = await run_in_threadpool(lambda: jobs.start("list.import", actor, work, cleanup=upload.remove, redactions=upload.redactions))
    return _job_response(request, user, name, job_id, "import")


@router.post("/ui/lists/{name}/fetch")
def fetch_now(request: Request, user: Annotated[WebUser, Depends(web_require("lists:write"))], name: ListName) -> Response:
    """Download the list now (from its stored or official URL) and import it if it changed, in a
    background job like `POST /lists/{name}/fetch`."""
    name = _name(name)
    service = request.app.state.service
    actor = user.name
    job_id = request.app.state.jobs.start("list.fetch", actor, lambda progress: service.fetch_list(name, None, actor=actor, progress=progress).as_dict())
    return _job_response(request, user, name, job_id, "fetch")


@router.get("/ui/lists/{name}/jobs/{job_id}")
def job(request: Request, user: Annotated[WebUser, Depends(web_require("lists:write"))], name: ListName,
        job_id: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    """An import's or fetch's progress (polled every 2 s while it runs), then its outcome."""
    name = _name(name)
    found = load_job(request, user, job_id, JOB_KINDS)
    if is_htmx(request):
        return render(request, "lists/_job.html", {"job": found, "name": name, "error": None}, user=user)
    return render(request, "lists/job.html", {"job": found, "name": name, "error": None}, user=user)


# --- one list, one version ---------------------------------------------------------------------


def _summary(db: Any, name: str) -> dict[str, Any]:
    for item in versions.lists(db):
        if item["name"] == name:
            return item
    raise HTTPException(404, detail="No such list")


@router.get("/ui/lists/{name}")
def one_list(request: Request, user: Annotated[WebUser, Depends(web_require("lists:read"))], name: ListName) -> HTMLResponse:
    name = _name(name)
    db = request.app.state.service.db
    try:
        found = versions.versions(db, name)
    except versions.NotFound:
        raise HTTPException(404, detail="No such list") from None
    return render(request, "lists/list.html", {"summary": _summary(db, name), "versions": found, "name": name}, user=user)


@router.get("/ui/lists/{name}/versions/{number}")
def one_version(request: Request, user: Annotated[WebUser, Depends(web_require("lists:read"))], name: ListName, number: VersionNumber) -> HTMLResponse:
    name = _name(name)
    db = request.app.state.service.db
    try:
        version = versions.get_version(db, name, number)
        all_versions = versions.versions(db, name)
    except versions.NotFound:
        raise HTTPException(404, detail="No such version") from None
    previous = next((v for v in all_versions if v["id"] == version["previous_id"]), None)
    return render(request, "lists/version.html", {"name": name, "version": version, "previous": previous}, user=user)


# --- the diff ----------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """One stored field value as text: a partial date as YYYY[-MM[-DD]], a structured value
    (a document, an address) as its parts."""
    if isinstance(value, dict):
        year = value.get("year")
        if isinstance(year, int) and set(value) <= {"year", "month", "day", "circa", "approximate"}:
            text = f"{year:04d}"
            for part in ("month", "day"):
                if isinstance(value.get(part), int):
                    text += f"-{value[part]:02d}"
                else:
                    break
            return text
        return " · ".join(_show(v) for v in value.values() if v not in (None, "", [], {}))
    if isinstance(value, (list, tuple)):
        return "; ".join(_show(v) for v in value)
    return str(value)


def _values(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        return [_show(v) for v in value if v not in (None, "")]
    return [_show(value)]


def _field_change(item: Any) -> dict[str, Any]:
    """One changed field of an amended entity: its old and new values, and which were removed
    and which added (for highlighting)."""
    if not isinstance(item, dict):
        return {"field": str(item), "old": [], "new": [], "gone": [], "came": []}
    old, new = _values(item.get("old")), _values(item.get("new"))
    return {"field": str(item.get("field", "")), "old": old, "new": new, "gone": [v for v in old if v not in new], "came": [v for v in new if v not in old]}


def _alerts_by_key(service: Any, name: str, version_id: int, keys: set[str]) -> tuple[dict[str, list[dict[str, Any]]], bool]:
    """The alerts version `version_id` raised for each of `keys` (entity keys): which watched
    subjects each change touched. (The second value, "the scan stopped early", is always False:
    the service answers from the (list, entity key) index.)"""
    return alerts.alerts_raised_by(service, name, version_id, sorted(keys)), False


@router.get("/ui/lists/{name}/diff")
def diff(request: Request, user: Annotated[WebUser, Depends(web_require("lists:read"))], name: ListName) -> HTMLResponse:
    """What a version (default: the live one) changed against the version before it, a page at a
    time, with the changed fields of amended entities and the alerts each change raised."""
    name = _name(name)
    params = request.query_params
    number = _int(params.get("version"))
    change = params.get("change") or None
    if change is not None and change not in CHANGES:
        change = None
    offset = _int(params.get("offset"), 0) or 0
    against = _int(params.get("against"))
    service = request.app.state.service
    try:
        if against:
            # Any two versions: computed from their members (the stored diff is against the previous one).
            live = number or versions.get_version(service.db, name)["number"]
            found = versions.compare_versions(service.db, name, against, live, offset=offset, limit=DIFF_PAGE, change=change)
        else:
            found = versions.get_diff(service.db, name, number or None, offset=offset, limit=DIFF_PAGE, change=change)
        all_versions = versions.versions(service.db, name)
    except versions.NotFound:
        raise HTTPException(404, detail="No such version") from None
    version = found["version"]
    lines = [{**line, "fields": [_field_change(f) for f in line["fields"]]} for line in found["lines"]]
    by_key, truncated = _alerts_by_key(service, name, version["id"], {line["key"] for line in lines})
    for line in lines:
        line["alerts"] = by_key.get(line["key"], [])
    pairs = [("version", str(version["number"]))] + ([("against", str(against))] if against else []) + ([("change", change)] if change else [])
    values = {
        "name": name, "diff": found, "against": against, "version": version, "previous": found["previous"], "lines": lines, "change": change,
        "changes": CHANGES, "versions": all_versions, "alerts_truncated": truncated, "scan": ALERT_SCAN,
        "page": {"total": found["total"], "offset": found["offset"], "limit": found["limit"]},
        "params": urlencode(pairs), "base_params": urlencode(pairs[:1]),
    }
    return render(request, "lists/diff.html", values, user=user)
