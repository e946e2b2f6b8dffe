"""Batch screening: upload a file, follow the job, download its results as CSV and XLSX; only
the user who started it (or a supervisor) sees and downloads them; the upload needs the CSRF
token and a purpose; problem rows are shown; no server path leaks."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from qalqan.service import users
from qalqan.store.tables import AuditEntry

from .conftest import PASSWORD, Web, csrf

CSV = (
    "id,name,birth_date,nationality\n"
    "A1,Karim Yusuf al-Fayruzi,1971-03-14,Jordan\n"
    "A2,Ерқанат Тасжолов,1982-13-01,\n"  # an impossible date: screened without it, with a warning
    "A3,Zzyzx Quuxbar Plonk,,\n"
    "A4,,,\n"  # no name: cannot be screened
    "A5,<script>alert(1)</script>,,\n"
).encode()


def _upload(client, token: str | None, content: bytes = CSV, *, filename: str = "clients.csv", purpose: str = "onboarding batch 7",
            threshold: str = "", htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"purpose": purpose, "threshold": threshold}
    if token and htmx:
        headers["X-CSRF-Token"] = token
    elif token:
        data["csrf"] = token
    return client.post("/ui/batch", data=data, files={"file": (filename, content, "text/csv")}, headers=headers)


def _job_id(html: str) -> str:
    found = re.search(r'id="job-([0-9a-f]{32})"', html)
    assert found, html[:2000]
    return found.group(1)


@pytest.fixture(scope="module")
def finished(web: Web):
    """(analyst client, job id) of a batch screened to the end."""
    client = web.client("analyst")
    r = _upload(client, csrf(client, "/ui/batch"))
    assert r.status_code == 200, r.text
    job = _job_id(r.text)
    web.app.state.jobs.wait()  # type: ignore[attr-defined]
    return client, job


def test_page_shows_the_form(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/batch")
    assert r.status_code == 200
    assert 'hx-encoding="multipart/form-data"' in r.text and 'enctype="multipart/form-data"' in r.text
    assert "<progress id=\"b-progress\" data-upload-progress hidden" in r.text
    assert 'name="purpose" value="web tests, case 4711"' in r.text
    assert "document_number" in r.text  # the accepted columns are listed


def test_running_job_is_polled(web: Web) -> None:
    from qalqan.web.templating import ENV

    running = {"id": "ab" * 16, "kind": "batch-screen", "status": "running", "done": 200, "total": 500, "error": None, "result": {"stage": "screening"},
               "created_by": "analyst", "created_at": "2026-01-01T00:00:00+00:00", "finished_at": None, "running": True, "files": {}, "expired": False}
    html = ENV.get_template("batch/_job.html").render(job=running, _=lambda s: s)
    assert f'hx-get="/ui/batch/{"ab" * 16}" hx-trigger="every 2s" hx-swap="outerHTML"' in html
    assert '<progress id="job-' in html and 'max="500" value="200"' in html
    # once done, the row no longer polls
    client = web.client("analyst")
    r = _upload(client, csrf(client, "/ui/batch"), filename="poll.csv")
    job = _job_id(r.text)
    web.app.state.jobs.wait()  # type: ignore[attr-defined]
    done = client.get(f"/ui/batch/{job}", headers={"HX-Request": "true"})
    assert done.status_code == 200 and done.text.lstrip().startswith("<article")
    assert "status-done" in done.text and 'hx-trigger="every 2s"' not in done.text


def test_job_page_shows_counts_problems_and_downloads(web: Web, finished) -> None:
    client, job = finished
    r = client.get(f"/ui/batch/{job}")
    assert r.status_code == 200
    assert "status-done" in r.text
    assert "Rows screened: 5 · with a match: 2 · not screened (errors): 1 · screened with warnings: 1." in r.text
    problems = r.text.split("First rows with errors or warnings", 1)[1]
    assert "A2" in problems and "month out of range" in problems
    assert "A4" in problems and "empty name" in problems
    assert f'href="/ui/batch/{job}/results.csv"' in r.text and f'href="/ui/batch/{job}/results.xlsx"' in r.text
    assert str(web.folder) not in r.text  # no server path


def test_download_csv(web: Web, finished) -> None:
    client, job = finished
    r = client.get(f"/ui/batch/{job}/results.csv")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment")
    assert "clients-results.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    by_id = {}
    for row in rows:
        by_id.setdefault(row["input_id"], row)
    assert set(by_id) == {"A1", "A2", "A3", "A4", "A5"}
    assert by_id["A1"]["entity_id"] == "demo-D001" and by_id["A1"]["match"] == "true"
    assert by_id["A2"]["entity_id"] == "demo-D013" and "month out of range" in by_id["A2"]["warnings"]
    assert by_id["A3"]["entity_id"] == ""
    assert "empty name" in by_id["A4"]["error"]


def test_download_xlsx(web: Web, finished) -> None:
    client, job = finished
    r = client.get(f"/ui/batch/{job}/results.xlsx")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment") and "clients-results.xlsx" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("input_id", "input_name", "rank", "entity_id")
    firsts = {row[0]: row for row in rows[1:] if row[2] in (None, 1)}
    assert firsts["A1"][3] == "demo-D001"
    assert firsts["A2"][1] == "Ерқанат Тасжолов" and firsts["A2"][3] == "demo-D013"
    assert firsts["A3"][3] is None
    assert firsts["A5"][1] == "<script>alert(1)</script>"  # data, kept as text


def test_downloads_are_audited(web: Web, finished) -> None:
    client, job = finished
    client.get(f"/ui/batch/{job}/results.csv")
    with web.service.db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.target == f"batch:{job}").order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        started = s.execute(select(AuditEntry).where(AuditEntry.target == "batch:clients.csv")).scalars().first()
    assert entry.action == "screen.results" and entry.actor == "analyst"
    assert started is not None and started.action == "screen" and started.purpose == "onboarding batch 7"


def test_another_user_cannot_see_or_download(web: Web, finished) -> None:
    _, job = finished
    users.create_user(web.service, "analyst2", "analyst", actor="test")
    users.set_password(web.service, "analyst2", PASSWORD, actor="test")
    other = web.client("analyst2")
    assert other.get(f"/ui/batch/{job}/results.csv").status_code == 403
    assert other.get(f"/ui/batch/{job}/results.xlsx").status_code == 403
    assert other.get(f"/ui/batch/{job}").status_code == 403
    assert f"job-{job}" not in other.get("/ui/batch").text  # not listed either
    supervisor = web.client("supervisor")
    assert supervisor.get(f"/ui/batch/{job}/results.csv").status_code == 200


def test_script_in_the_file_is_escaped(web: Web, finished) -> None:
    client, job = finished
    r = _upload(client, csrf(client, "/ui/batch"), content=b"id,name\n<script>alert(1)</script>,\n", filename="x.csv")
    web.app.state.jobs.wait()  # type: ignore[attr-defined]
    page = client.get(f"/ui/batch/{_job_id(r.text)}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_upload_needs_the_csrf_token(web: Web) -> None:
    client = web.client("analyst")
    r = _upload(client, None)
    assert r.status_code == 403
    r = _upload(client, "not-the-token")
    assert r.status_code == 403


def test_plain_form_post_goes_to_the_job_page(web: Web) -> None:
    client = web.client("analyst")
    r = _upload(client, csrf(client, "/ui/batch"), htmx=False, filename="plain.csv")
    assert r.status_code == 303
    assert re.fullmatch(r"/ui/batch/[0-9a-f]{32}", r.headers["location"])
    web.app.state.jobs.wait()  # type: ignore[attr-defined]


def test_purpose_and_file_required(web: Web) -> None:
    client = web.client("analyst")
    token = csrf(client, "/ui/batch")
    r = _upload(client, token, purpose="", htmx=False)
    assert r.status_code == 422
    assert 'id="b-purpose-error"' in r.text and "State the purpose of this screening" in r.text
    r = client.post("/ui/batch", data={"purpose": "x", "csrf": token})
    assert r.status_code == 422 and 'id="b-file-error"' in r.text
    r = _upload(client, token, threshold="1.5", htmx=False)
    assert r.status_code == 422 and 'id="b-threshold-error"' in r.text


def test_bad_file_fails_without_a_server_path(web: Web) -> None:
    client = web.client("analyst")
    r = _upload(client, csrf(client, "/ui/batch"), content=b"id,nom,colour\n1,x,y\n", filename="wrong.csv")
    job = _job_id(r.text)
    web.app.state.jobs.wait()  # type: ignore[attr-defined]
    page = client.get(f"/ui/batch/{job}")
    assert "status-failed" in page.text
    assert "The file could not be screened:" in page.text and "unknown column" in page.text
    assert str(web.folder) not in page.text and "/uploads/" not in page.text
    assert client.get(f"/ui/batch/{job}/results.csv").status_code == 404


def test_role_without_screen_refused(web: Web) -> None:
    auditor = web.client("auditor")
    assert auditor.get("/ui/batch").status_code == 403
    r = _upload(auditor, csrf(auditor, "/ui/purpose"))
    assert r.status_code == 403
