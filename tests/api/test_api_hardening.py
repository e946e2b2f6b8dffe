"""What a security probe of the HTTP API found (issue 7), each answered as it should be: integers
past the database's range, lone surrogates, identifiers that shadow or disguise, server paths in
messages, a Host-built redirect, uploads and jobs a crash leaves behind."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from qalqan.api import create_app
from qalqan.api.jobs import INTERRUPTED
from qalqan.api.uploads import LOCK_FILE, UPLOADS, UploadDir
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import Job

from .conftest import PURPOSE, Api, demo_list, make_keys, make_service

TOO_BIG = 2**63  # one past the largest BIGINT
CSV_HEADER = "id,schema,name,birth_date,nationality,gender,document_number\n"


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture()
def hardened(db: Database, data_dir: Path) -> Iterator[Api]:
    """The app with its data directory in the test's temporary folder (uploads go there)."""
    service = make_service(db)
    keys = make_keys(service)
    with TestClient(create_app(service, data_dir=data_dir), raise_server_exceptions=False) as client:
        yield Api(service, keys, client)
        client.app.state.jobs.wait()  # type: ignore[attr-defined]


def _json(text: str) -> dict[str, Any]:
    """A JSON body sent as written: its `\\ud800` escapes reach the server as they are."""
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


def _locs(r: httpx.Response) -> list[list[str | int]]:
    return [e["loc"] for e in r.json()["detail"]]


# -- 1. integers past the database's range ------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "method", "url"),
    [
        ("analyst", "GET", f"/alerts?offset={TOO_BIG}"),
        ("analyst", "GET", f"/alerts/{TOO_BIG}?purpose=probe"),
        ("analyst", "POST", f"/alerts/{TOO_BIG}/decision"),
        ("analyst", "GET", f"/subjects?offset={TOO_BIG}"),
        ("admin", "GET", f"/jobs?offset={TOO_BIG}"),
        ("auditor", "GET", f"/audit?offset={TOO_BIG}"),
        ("analyst", "GET", f"/lists/demo/versions?offset={TOO_BIG}"),
        ("analyst", "GET", f"/lists/demo/versions/{TOO_BIG}"),
        ("analyst", "GET", f"/lists/demo/versions/{2**31}"),  # version numbers are INTEGER
        ("analyst", "GET", f"/lists/demo/diff?version={TOO_BIG}"),
        ("analyst", "GET", f"/lists/demo/diff?offset={TOO_BIG}"),
        ("admin", "POST", f"/lists/demo/versions/{TOO_BIG}/confirm"),
    ],
)
def test_integers_past_the_column_range_answer_422(api: Api, role: str, method: str, url: str) -> None:
    body = {"action": "close", "reason": "probe"} if "/decision" in url else {"reason": "probe"} if method == "POST" else None
    r = api.call(role, method, url, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] in ("query", "path")


def test_the_largest_offset_still_pages(api: Api) -> None:
    r = api.get("analyst", "/alerts", params={"offset": TOO_BIG - 1})
    assert r.status_code == 200 and r.json()["items"] == []


# -- 2. lone surrogates -------------------------------------------------------------------------


def test_a_lone_surrogate_in_a_subject_answers_422_naming_the_field(api: Api) -> None:
    r = api.post("supervisor", "/subjects", **_json('{"id": "C1", "name": "Ali \\ud800 Khan"}'))
    assert r.status_code == 422, r.text
    assert _locs(r) == [["body", "name"]] and "U+D800" in r.json()["detail"][0]["msg"]
    r = api.post("supervisor", "/subjects", **_json('{"id": "C\\udfff1", "name": "Ali Khan"}'))
    assert r.status_code == 422 and _locs(r) == [["body", "id"]]
    r = api.call("supervisor", "PUT", "/subjects/C1", **_json('{"name": "\\ud83d"}'))
    assert r.status_code == 422 and _locs(r) == [["body", "name"]]
    assert api.get("analyst", "/subjects").json()["total"] == 0


def test_a_lone_surrogate_in_a_reason_or_a_query_answers_422(api: Api) -> None:
    r = api.post("analyst", "/alerts/1/decision", **_json('{"action": "close", "reason": "same \\ud800 person"}'))
    assert r.status_code == 422 and _locs(r) == [["body", "reason"]]
    query = '{"queries": {"q1": {"schema": "Person", "properties": {"name": ["Karim \\ud800"]}}}}'
    r = api.post("analyst", "/match/default", params={"purpose": PURPOSE}, **_json(query))
    assert r.status_code == 422 and _locs(r)[0][:2] == ["body", "queries"]
    # The 422 echoes the input with the surrogate replaced, so the answer itself can be encoded.
    assert "\ufffd" in r.content.decode("utf-8")


def test_a_lone_surrogate_in_a_query_name_answers_422(api: Api) -> None:
    query = '{"queries": {"q\\ud800": {"schema": "Person", "properties": {"name": ["Karim Yusuf"]}}}}'
    r = api.post("analyst", "/match/default", params={"purpose": PURPOSE}, **_json(query))
    assert r.status_code == 422 and _locs(r)[0][:2] == ["body", "queries"]


@pytest.mark.parametrize(
    ("role", "url", "loc"),
    [
        ("analyst", "/alerts?subject=C%001", ["query", "subject"]),
        ("analyst", "/alerts?assignee=%00", ["query", "assignee"]),
        ("analyst", "/alerts?list=un%00", ["query", "list"]),
        ("auditor", "/audit?actor=%00", ["query", "actor"]),
        ("auditor", "/audit?target=list:%00", ["query", "target"]),
        ("admin", "/jobs/ab%00cd", ["path", "job_id"]),
    ],
)
def test_nul_in_a_filter_answers_422(api: Api, role: str, url: str, loc: list[str]) -> None:
    """PostgreSQL refuses NUL in a query's text: without the check these are 500s there."""
    r = api.get(role, url)
    assert r.status_code == 422, r.text
    assert _locs(r) == [loc] and "U+0000" in r.text


# -- 3. identifiers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("subject_id", "codepoint"), [("C\\u202e1", "U+202E"), ("C\\u00001", "U+0000"), ("C\\u20661", "U+2066"), ("C\\n1", "U+000A")])
def test_subject_ids_with_control_or_bidi_characters_are_refused(api: Api, subject_id: str, codepoint: str) -> None:
    r = api.post("supervisor", "/subjects", **_json(f'{{"id": "{subject_id}", "name": "Ali Khan"}}'))
    assert r.status_code == 422, r.text
    assert _locs(r) == [["body", "id"]] and codepoint in r.json()["detail"][0]["msg"]


def test_subject_ids_in_paths_are_checked_too(api: Api) -> None:
    r = api.get("analyst", "/subjects/C%E2%80%AE1", params={"purpose": PURPOSE})
    assert r.status_code == 422 and _locs(r) == [["path", "external_id"]] and "U+202E" in r.text


def test_a_bulk_import_refuses_the_row_with_a_bidi_id(api: Api) -> None:
    body = (CSV_HEADER + "C\u202e1,Person,Ali Khan,,,,\nC2,Person,Ali Khan,,,,\n").encode()
    r = api.post("supervisor", "/subjects/import", content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    api.wait_jobs()
    result = api.get("supervisor", r.json()["url"]).json()["result"]
    assert result["added"] == 1 and result["errors"][0]["field"] == "id" and "U+202E" in result["errors"][0]["message"]


@pytest.mark.parametrize("name", ["default", "sanctions", "Default", "my%E2%80%AElist", "my%00list", "my%E2%80%8Flist"])
def test_list_names_that_shadow_or_disguise_are_refused(api: Api, name: str) -> None:
    r = api.post("admin", f"/lists/{name}/import", content=demo_list().read_bytes(), params={"format": "csv"})
    assert r.status_code == 422, r.text
    assert _locs(r) == [["path", "name"]]
    assert api.get("admin", "/jobs").json()["total"] == 0


def test_default_still_means_every_list(api: Api) -> None:
    body = {"queries": {"q1": {"schema": "Person", "properties": {"name": ["Karim Yusuf al-Fayruzi"]}}}}
    r = api.post("analyst", "/match/default", params={"purpose": PURPOSE}, json=body)
    assert r.status_code == 200 and r.json()["responses"]["q1"]["results"]


# -- 4. no server paths in titles, sources or job errors --------------------------------------


def test_an_uploaded_list_shows_its_own_name_not_a_server_path(hardened: Api, data_dir: Path) -> None:
    r = hardened.post("admin", "/lists/national/import", content=demo_list().read_bytes(), params={"format": "csv"}, headers={"X-Filename": "C:\\lists\\national.csv"})
    assert r.status_code == 202, r.text
    hardened.wait_jobs()
    job = hardened.get("admin", r.json()["url"]).json()
    assert job["status"] == "done", job
    lists = {item["name"]: item for item in hardened.get("analyst", "/lists").json()["lists"]}
    assert lists["national"]["title"] == "National list (national.csv)"
    assert lists["national"]["source"] == "upload:national.csv"
    version = hardened.get("analyst", "/lists/national/versions/1").json()
    # The uploaded list only: the fixture's demo list was imported from a file of this checkout.
    for text in (orjson.dumps(job).decode(), orjson.dumps(lists["national"]).decode(), orjson.dumps(version).decode()):
        assert str(data_dir) not in text and "/tmp" not in text and UPLOADS not in text


def test_a_failed_list_import_names_the_upload_not_its_path(hardened: Api, data_dir: Path) -> None:
    r = hardened.post("admin", "/lists/national/import", content=b"id,name\n", params={"format": "csv"})
    assert r.status_code == 202, r.text
    hardened.wait_jobs()
    job = hardened.get("admin", r.json()["url"]).json()
    assert job["status"] == "failed", job
    assert job["error"].startswith("upload: "), job["error"]
    assert str(data_dir) not in job["error"] and "/tmp" not in job["error"]


def test_a_refused_subject_file_names_the_upload_not_its_path(hardened: Api, data_dir: Path) -> None:
    r = hardened.post("supervisor", "/subjects/import", content=b"id,name,birthdate\nC1,A B,1970\n", headers={"X-Filename": "people.csv"})
    assert r.status_code == 422, r.text
    message = r.json()["detail"][0]["msg"]
    assert message.startswith("people.csv") and str(data_dir) not in message and "/tmp" not in message


def test_job_errors_never_show_the_data_or_temporary_directory(hardened: Api, data_dir: Path) -> None:
    jobs = hardened.client.app.state.jobs  # type: ignore[attr-defined]
    hidden = f"{data_dir.resolve()}/downloads/.un.x1.download: not XML"

    def fail(progress: object) -> dict[str, object]:
        raise ValueError(hidden)

    job_id = jobs.start("list.fetch", "admin", fail)
    hardened.wait_jobs()
    error = hardened.get("admin", f"/jobs/{job_id}").json()["error"]
    assert error == "downloads/.un.x1.download: not XML"
    # A URL's path is not a server path.
    assert jobs.redact("https://example.org/tmp/list.xml: 404") == "https://example.org/tmp/list.xml: 404"


# -- 5. no redirects built from the Host header -------------------------------------------------


@pytest.mark.parametrize("path", ["/alerts/", "/healthz/", "/lists/"])
def test_a_trailing_slash_is_not_redirected(api: Api, path: str) -> None:
    r = api.client.get(path, headers={**api.headers("analyst"), "Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 404
    assert "location" not in r.headers


# -- 6. what a crash leaves behind --------------------------------------------------------------


def test_leftover_uploads_are_removed_at_start(db: Database, data_dir: Path) -> None:
    uploads = data_dir / UPLOADS
    (uploads / "4242-dead" / "ab12").mkdir(parents=True)
    (uploads / "4242-dead" / LOCK_FILE).touch()  # a process folder whose lock nobody holds
    (uploads / "4242-dead" / "ab12" / "people.csv").write_text("id,name\n")
    stale = uploads / "qalqan-upload-1.part"
    stale.write_text("half an upload")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    alive = UploadDir(uploads)  # another live server on the same data directory
    in_flight = alive.new("list.xml")
    in_flight.write_text("<xml/>")

    create_app(make_service(db, with_list=False), data_dir=data_dir)

    assert not stale.exists() and not (uploads / "4242-dead").exists()
    assert in_flight.exists()
    alive.close()


def test_jobs_left_running_are_marked_interrupted_at_start(db: Database, data_dir: Path) -> None:
    service: Qalqan = make_service(db, with_list=False)
    now = datetime.now(UTC)
    with service.transaction() as s:
        for job_id, status in (("j-running", "running"), ("j-queued", "queued"), ("j-done", "done")):
            s.add(Job(id=job_id, kind="list.import", status=status, total=None, done=0, result={}, created_by="admin", created_at=now))

    create_app(service, data_dir=data_dir)

    with service.db.session() as s:
        jobs = {j.id: j for j in s.query(Job).all()}
    for job_id in ("j-running", "j-queued"):
        assert jobs[job_id].status == INTERRUPTED and jobs[job_id].finished_at is not None
        assert "restarted" in (jobs[job_id].error or "")
    assert jobs["j-done"].status == "done" and jobs["j-done"].error is None


def test_failure_counts_are_written_when_the_app_stops(db: Database, tmp_path: Path) -> None:
    """Failed logins after the first of a minute are only counted in memory; stopping the app
    (its lifespan's end) writes them, so no refused request is missing from the audit log."""
    import orjson
    from sqlalchemy import select

    from qalqan.store.tables import AuditEntry
    service = make_service(db)
    with TestClient(create_app(service, data_dir=tmp_path / "data"), raise_server_exceptions=False) as client:
        for _ in range(3):
            assert client.get("/alerts", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    with db.session() as s:
        counts = [orjson.loads(e.detail).get("count", 1) for e in s.execute(select(AuditEntry).where(AuditEntry.action == "login.failed")).scalars()]
    assert sum(counts) == 3
