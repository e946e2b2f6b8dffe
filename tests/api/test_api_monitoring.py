"""The monitoring routes over a real store (each backend): subjects, bulk import jobs, alerts and
decisions, lists with versions and diffs, and the audit log read and verified over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import orjson
from sqlalchemy import select, update

from qalqan.store.tables import AuditEntry

from .conftest import PURPOSE, Api, demo_list, demo_person


def add_hit(api: Api, external_id: str = "CUST-1") -> int:
    """A subject that matches a demo-list person; returns its alert's id."""
    person = demo_person()
    r = api.post("supervisor", "/subjects", json={"id": external_id, "name": person["name"], "birth_date": person["birth_date"]})
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 1 and r.json()["alerts_new"] >= 1
    alerts = api.get("analyst", "/alerts", params={"subject": external_id}).json()
    assert alerts["total"] >= 1
    return int(alerts["items"][0]["id"])


def actions(api: Api) -> list[tuple[str, str, str]]:
    with api.service.db.session() as s:
        return [(e.actor, e.action, e.target) for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


# -- subjects -----------------------------------------------------------------------------------


def test_subject_lifecycle(api: Api) -> None:
    add_hit(api, "CUST-1")
    assert api.post("analyst", "/subjects", json={"id": "X", "name": "A B"}).status_code == 403  # analysts view, not manage
    listed = api.get("analyst", "/subjects").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == "CUST-1"

    r = api.get("analyst", "/subjects/CUST-1", params={"purpose": "case 17"})
    assert r.status_code == 200 and r.json()["alerts"]
    assert ("analyst", "subject.view", "subject:CUST-1") in actions(api)

    r = api.call("supervisor", "PUT", "/subjects/CUST-1", json={"name": "Completely Different Person", "nationality": "kz"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "Completely Different Person"
    # An impossible date is no longer refused: the subject is updated without it, and told so.
    r = api.call("supervisor", "PUT", "/subjects/CUST-1", json={"name": "A B", "birth_date": "1960-13-45"})
    assert r.status_code == 200 and [(w["field"], w["value"]) for w in r.json()["result"]["warnings"]] == [("birth_date", "1960-13-45")]
    r = api.call("supervisor", "PUT", "/subjects/CUST-1", json={"name": " ", "birth_date": "1960"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    assert api.call("supervisor", "PUT", "/subjects/NOPE", json={"name": "A B"}).status_code == 404

    r = api.call("supervisor", "DELETE", "/subjects/CUST-1")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "reason"]
    assert api.call("supervisor", "DELETE", "/subjects/CUST-1", params={"reason": "customer left"}).status_code == 200
    assert api.call("supervisor", "DELETE", "/subjects/CUST-1", params={"reason": "again"}).status_code == 404
    assert api.get("analyst", "/subjects").json()["total"] == 0
    assert api.get("analyst", "/subjects/NOPE", params={"purpose": "case 1"}).status_code == 404
    assert api.get("analyst", "/subjects/CUST-1").status_code == 422  # no purpose


def test_bad_subject_names_the_field(api: Api) -> None:
    r = api.post("supervisor", "/subjects", json={"id": "C1", "name": " ", "nationality": "kz"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    # An unknown country is no longer refused: the subject is stored without it, with a warning.
    r = api.post("supervisor", "/subjects", json={"id": "C1", "name": "A B", "nationality": "Atlantis"})
    assert r.status_code == 201 and r.json()["added"] == 1
    assert [(w["field"], w["value"]) for w in r.json()["warnings"]] == [("nationality", "Atlantis")]
    r = api.post("supervisor", "/subjects", json={"id": "C1", "name": "A B", "colour": "red"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "colour"]


def test_bulk_import_runs_as_a_job_with_progress(api: Api) -> None:
    person = demo_person()
    rows = [f"P{i},Person,Unremarkable Person {i},,,," for i in range(30)] + [f"HIT,Person,{person['name']},,,,", "BAD,Person,Someone,1960-13-45,,,", "NONAME,Person,,1960,,,"]
    body = ("id,schema,name,birth_date,nationality,gender,document_number\n" + "\n".join(rows) + "\n").encode()
    r = api.post("supervisor", "/subjects/import", content=body, headers={"Content-Type": "text/csv"}, params={"purpose": "onboarding batch"})
    assert r.status_code == 202, r.text
    job_url = r.json()["url"]
    api.wait_jobs()
    job = api.get("supervisor", job_url).json()
    assert job["status"] == "done", job
    assert job["kind"] == "subjects.import" and job["created_by"] == "supervisor"
    assert job["done"] == job["total"] == 33
    # The impossible date is a warning (the subject is stored); only the row without a name is an error.
    assert job["result"]["added"] == 32 and job["result"]["error_count"] == 1 and job["result"]["warning_count"] == 1
    assert job["result"]["errors"][0]["field"] == "name" and job["result"]["errors"][0]["row"] == 33
    assert (job["result"]["warnings"][0]["field"], job["result"]["warnings"][0]["row"], job["result"]["warnings"][0]["id"]) == ("birth_date", 32, "BAD")
    assert api.get("analyst", "/subjects").json()["total"] == 32
    assert api.get("analyst", "/alerts", params={"subject": "HIT"}).json()["total"] >= 1
    assert api.get("analyst", job_url).status_code == 403  # jobs belong to those who can start them
    assert api.get("admin", "/jobs").json()["total"] == 1
    assert api.get("admin", "/jobs/nope").status_code == 404


def test_bulk_import_of_json_lines_as_a_raw_body(api: Api) -> None:
    lines = b"\n".join(orjson.dumps({"id": f"J{i}", "name": f"Jay Person {i}"}) for i in range(5))
    r = api.post("admin", "/subjects/import", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 202, r.text
    api.wait_jobs()
    job = api.get("admin", r.json()["url"]).json()
    assert job["status"] == "done" and job["result"]["added"] == 5 and job["total"] == 5


def test_bulk_import_with_a_bad_header_is_refused_before_the_job(api: Api) -> None:
    r = api.post("supervisor", "/subjects/import", content=b"id,name,birthdate\nC1,A B,1970\n")
    assert r.status_code == 422 and "birthdate" in r.json()["detail"][0]["msg"]
    assert api.post("supervisor", "/subjects/import", content=b"").status_code == 422
    r = api.post("supervisor", "/subjects/import", files={"file": ("people.csv", b"id,name\nC1,A B\n", "text/csv")})
    assert r.status_code == 415 and "--data-binary" in r.json()["detail"]
    assert api.get("admin", "/jobs").json()["total"] == 0


# -- alerts -------------------------------------------------------------------------------------


def test_alert_view_and_decisions(api: Api) -> None:
    alert_id = add_hit(api)
    r = api.get("analyst", f"/alerts/{alert_id}", params={"purpose": "daily review"})
    assert r.status_code == 200
    detail = r.json()
    assert detail["explanation"] and detail["entity"] and detail["status"] == "open"
    with api.service.db.session() as s:
        view = s.execute(select(AuditEntry).where(AuditEntry.action == "alert.view")).scalar_one()
    assert view.actor == "analyst" and view.purpose == "daily review" and view.target == f"alert:{alert_id}"
    assert api.get("analyst", "/alerts/999999", params={"purpose": "daily review"}).status_code == 404
    r = api.get("analyst", f"/alerts/{alert_id}")  # every view of personal data states its purpose
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "purpose"]

    url = f"/alerts/{alert_id}/decision"
    r = api.post("analyst", url, json={"action": "false_positive", "reason": ""})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reason"]
    r = api.post("analyst", url, json={"action": "shrug", "reason": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "action"]
    r = api.post("analyst", url, json={"action": "false_positive", "reason": "different date of birth"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "false_positive" and r.json()["decisions"][-1]["actor"] == "analyst"
    assert api.post("analyst", url, json={"action": "confirm", "reason": "x"}).status_code == 409  # not from false_positive
    r = api.post("analyst", url, json={"action": "reopen", "reason": "second look"})
    assert r.status_code == 403 and "may not reopen" in r.json()["detail"]
    r = api.post("supervisor", url, json={"action": "reopen", "reason": "second look"})
    assert r.status_code == 200 and r.json()["status"] == "open"
    r = api.post("supervisor", url, json={"action": "reassign", "reason": "her case", "assignee": "nobody"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "assignee"]
    r = api.post("supervisor", url, json={"action": "reassign", "reason": "her case", "assignee": "analyst"})
    assert r.status_code == 200 and r.json()["assignee"] == "analyst"
    assert api.get("analyst", "/alerts", params={"assignee": "analyst"}).json()["total"] == 1
    assert api.get("analyst", "/alerts", params={"status": "open", "list": "demo"}).json()["total"] >= 1
    r = api.get("analyst", "/alerts", params={"status": "maybe"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "status"]
    decided = [a for a in actions(api) if a[1] == "alert.decide"]
    assert decided == [("analyst", "alert.decide", f"alert:{alert_id}"), ("supervisor", "alert.decide", f"alert:{alert_id}"), ("supervisor", "alert.decide", f"alert:{alert_id}")]


def test_four_eyes_confirmation(api: Api) -> None:
    alert_id = add_hit(api)
    url = f"/alerts/{alert_id}/decision"
    r = api.post("analyst", url, json={"action": "confirm", "reason": "same date of birth"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending_approval" and r.json()["pending_confirmation"]["by"] == "analyst"
    assert "sighting" not in r.json()
    r = api.post("analyst", url, json={"action": "approve", "reason": "fine by me"})
    assert r.status_code == 403 and "may not approve" in r.json()["detail"]
    assert api.post("analyst", url, json={"action": "reject", "reason": "no"}).status_code == 403
    assert api.post("supervisor", url, json={"action": "close", "reason": "x"}).status_code == 409  # only approve or reject now
    shown = api.get("supervisor", f"/alerts/{alert_id}", params={"purpose": PURPOSE}).json()
    assert shown["pending_confirmation"]["reason"] == "same date of birth"
    assert api.get("analyst", "/alerts", params={"status": "pending_approval"}).json()["total"] == 1
    r = api.post("supervisor", url, json={"action": "approve", "reason": "passport checked"})
    assert r.status_code == 200 and r.json()["status"] == "confirmed" and "pending_confirmation" not in r.json()
    assert api.post("supervisor", url, json={"action": "approve", "reason": "again"}).status_code == 409


def test_alert_queue_filters(api: Api) -> None:
    first, second = add_hit(api, "CUST-1"), add_hit(api, "CUST-2")
    api.post("supervisor", f"/alerts/{first}/decision", json={"action": "escalate", "reason": "second look"})
    everything = api.get("analyst", "/alerts").json()
    assert everything["total"] >= 2
    both = api.get("analyst", "/alerts", params=[("status", "open"), ("status", "escalated")]).json()
    assert both["total"] == everything["total"]
    assert api.get("analyst", "/alerts", params={"status": "open,escalated"}).json()["total"] == everything["total"]
    assert [a["id"] for a in api.get("analyst", "/alerts", params={"status": "escalated"}).json()["items"]] == [first]
    scores = [a["score"] for a in api.get("analyst", "/alerts", params={"sort": "score"}).json()["items"]]
    assert scores == sorted(scores)
    top = max(scores)
    assert all(a["score"] >= top for a in api.get("analyst", "/alerts", params={"min_score": top}).json()["items"])
    assert api.get("analyst", "/alerts", params={"max_score": 0.01}).json()["total"] == 0
    assert api.get("analyst", "/alerts", params={"assignee": "-"}).json()["total"] == everything["total"]
    assert api.get("analyst", "/alerts", params={"trigger": "new-subject"}).json()["total"] == everything["total"]
    assert api.get("analyst", "/alerts", params={"created_after": "2999-01-01T00:00:00Z"}).json()["total"] == 0
    assert api.get("analyst", "/alerts", params={"created_before": "2999-01-01T00:00:00+05:00"}).json()["total"] == everything["total"]
    ids = [a["id"] for a in api.get("analyst", "/alerts", params={"sort": "created"}).json()["items"]]
    assert ids == sorted(ids) and second in ids
    for params, loc in [({"sort": "name"}, "sort"), ({"trigger": "whim"}, "trigger"), ({"status": "open,maybe"}, "status"),
                        ({"min_score": "2"}, "min_score"), ({"created_after": "yesterday"}, "created_after")]:
        r = api.get("analyst", "/alerts", params=params)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", loc], (params, r.text)


# -- lists --------------------------------------------------------------------------------------


def test_list_versions_diff_and_upload(api: Api, tmp_path: Path) -> None:
    r = api.get("analyst", "/lists/demo/versions")
    assert r.status_code == 200 and r.json()["total"] == 1 and r.json()["items"][0]["live"] is True
    assert api.get("analyst", "/lists/demo/versions/1").json()["number"] == 1
    assert api.get("analyst", "/lists/demo/versions/7").status_code == 404
    assert api.get("analyst", "/lists/nope/versions").status_code == 404

    # A new version: the demo list without its first row, uploaded by an admin.
    lines = demo_list().read_text(encoding="utf-8").splitlines(keepends=True)
    first = "demo-" + lines[1].split(",", 1)[0]
    assert api.get("analyst", f"/entities/{first}").status_code == 200
    smaller = "".join([lines[0], *lines[2:]]).encode()
    assert api.post("analyst", "/lists/demo/import", content=smaller).status_code == 403
    r = api.post("admin", "/lists/demo/import", content=smaller, params={"format": "csv"})
    assert r.status_code == 202, r.text
    api.wait_jobs()
    job = api.get("admin", r.json()["url"]).json()
    assert job["status"] == "done", job
    assert job["result"]["number"] == 2 and job["result"]["created"] is True
    # Screening serves the new live version at once: the removed entity is gone.
    assert api.get("analyst", f"/entities/{first}").status_code == 404
    versions = api.get("analyst", "/lists/demo/versions").json()
    assert versions["total"] == 2 and versions["items"][0]["number"] == 2
    diff = api.get("analyst", "/lists/demo/diff", params={"version": 2}).json()
    assert diff["total"] == 1 and diff["lines"][0]["change"] == "removed" and diff["totals"]["removed"] == 1
    paged = api.get("analyst", "/lists/demo/diff", params={"version": 2, "limit": 1, "offset": 1}).json()
    assert paged["total"] == 1 and paged["lines"] == []
    assert api.get("analyst", "/lists/demo/diff", params={"change": "moved"}).status_code == 422
    r = api.post("admin", "/lists/demo/import", params={"format": "pdf"}, content=smaller)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "format"]


def test_broken_list_upload_fails_its_job_and_keeps_the_live_version(api: Api) -> None:
    r = api.post("admin", "/lists/demo/import", content=b"<?xml version='1.0'?><CONSOLIDATED_LIST><INDIVIDUALS>", params={"format": "un"})
    assert r.status_code == 202
    api.wait_jobs()
    job = api.get("admin", r.json()["url"]).json()
    assert job["status"] == "failed" and job["error"] and "Traceback" not in job["error"]
    assert api.get("analyst", "/lists/demo/versions").json()["total"] == 1


def test_fetch_without_a_known_url_fails_its_job(api: Api) -> None:
    r = api.post("admin", "/lists/mylist/fetch")
    assert r.status_code == 202
    api.wait_jobs()
    job = api.get("admin", r.json()["url"]).json()
    assert job["status"] == "failed" and "no URL" in job["error"]
    assert api.post("admin", "/lists/mylist/fetch", params={"url": "file:///etc/passwd"}).status_code == 422


# -- audit over HTTP ----------------------------------------------------------------------------


def test_audit_read_and_verify(api: Api) -> None:
    api.post("analyst", "/match/default", json={"queries": {"q": {"schema": "Person", "properties": {"name": ["A B"]}}}}, params={"purpose": PURPOSE})
    r = api.get("auditor", "/audit", params={"action": "screen"})
    assert r.status_code == 200 and r.json()["total"] == 1
    entry = r.json()["items"][0]
    assert entry["actor"] == "analyst" and entry["purpose"] == PURPOSE and len(entry["input_hash"]) == 64
    assert api.get("auditor", "/audit", params={"actor": "analyst", "limit": 2}).json()["limit"] == 2
    ok = api.get("auditor", "/audit/verify").json()
    assert ok["ok"] is True and ok["checked"] > 5 and ok["problems"] == []

    with api.service.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(purpose="nothing to see"))
    bad = api.get("auditor", "/audit/verify").json()
    assert bad["ok"] is False and [(p["seq"], p["kind"]) for p in bad["problems"]] == [(3, "edited")]


def test_job_progress_is_shown_while_it_runs(api: Api) -> None:
    reached, release = threading.Event(), threading.Event()

    def work(progress: Callable[..., None]) -> dict[str, int]:
        progress("writing entities", 3, 10)
        reached.set()
        release.wait()
        return {"done": 10, "total": 10}

    job_id = api.client.app.state.jobs.start("test", "admin", work)  # type: ignore[attr-defined]
    assert reached.wait(60), "the job never started"
    running = api.get("admin", f"/jobs/{job_id}").json()
    assert running["status"] == "running" and (running["done"], running["total"]) == (3, 10)
    assert running["result"]["stage"] == "writing entities"
    release.set()
    api.wait_jobs()
    done = api.get("admin", f"/jobs/{job_id}").json()
    assert done["status"] == "done" and (done["done"], done["total"]) == (10, 10) and done["finished_at"]
