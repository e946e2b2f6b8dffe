"""The subjects pages: the list and its search, one subject (an audited view with the session's
purpose), add / edit / remove (with a reason), the bulk upload as a job with its per-row errors,
the CSV export (audited), the role checks and the CSRF refusals."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from qalqan.store.tables import AuditEntry

from .conftest import wait_for_job as _wait, PURPOSE, Web, csrf

SCRIPT = "<script>alert(1)</script>"


def audit(web: Web, action: str, target: str | None = None) -> list[AuditEntry]:
    with web.service.db.session() as s:
        stmt = select(AuditEntry).where(AuditEntry.action == action)
        if target is not None:
            stmt = stmt.where(AuditEntry.target == target)
        rows = s.execute(stmt.order_by(AuditEntry.seq)).scalars().all()
        s.expunge_all()
        return list(rows)


def test_the_list_shows_the_population_and_pages(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/subjects")
    assert r.status_code == 200, r.text[:300]
    assert "C00001" in r.text and "Abdulhakim Murad" in r.text
    assert 'class="pager"' in r.text and "offset=50" in r.text  # 256 subjects, 50 a page
    r = client.get("/ui/subjects", params={"offset": 250})
    assert "C00251" in r.text and "C00001" not in r.text


def test_search_by_name_and_by_id(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/subjects", params={"q": "muttaqi"})
    assert r.status_code == 200
    assert "C00002" in r.text and "Amir Khan Muttaqi" in r.text and "C00001" not in r.text
    r = client.get("/ui/subjects", params={"q": "C00003"})
    assert "Sally Anne Jones" in r.text and "C00002" not in r.text
    r = client.get("/ui/subjects", params={"q": "no such person zzz"})
    assert "No subject matches." in r.text


def test_viewing_a_subject_is_audited_with_the_purpose(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/subjects/C00009")
    assert r.status_code == 200, r.text[:300]
    assert "Kareem Yousef Al Fairouzi" in r.text and "1971-03-14" in r.text
    assert re.search(r'href="/ui/alerts/\d+"', r.text), "the subject's alerts are not linked"
    views = audit(web, "subject.view", "subject:C00009")
    assert views and views[-1].purpose == PURPOSE and views[-1].actor == "analyst"


def test_a_view_without_a_purpose_asks_for_one(web: Web) -> None:
    client = web.client("analyst", purpose=None)
    r = client.get("/ui/subjects/C00009")
    assert r.status_code == 200 and 'action="/ui/purpose"' in r.text and "1971-03-14" not in r.text


def test_an_unknown_subject_is_404(web: Web) -> None:
    r = web.client("analyst").get("/ui/subjects/NOPE-404")
    assert r.status_code == 404


def test_add_edit_and_remove_with_a_reason(web: Web) -> None:
    client = web.client("supervisor")
    token = csrf(client, "/ui/subjects/new")
    r = client.post("/ui/subjects/new", data={"csrf": token, "id": "WEB-1", "schema": "Person", "name": "Timur Webtestov",
                                              "birth_date": "1980-02-03", "nationality": "Kazakhstan", "gender": "male"})
    assert r.status_code == 303, r.text[:500]
    assert r.headers["location"] == "/ui/subjects/WEB-1?saved=added"
    r = client.get("/ui/subjects/WEB-1?saved=added")
    assert "Timur Webtestov" in r.text and "1980-02-03" in r.text and "was saved" in r.text
    # edit: the form is filled, the change is stored
    r = client.get("/ui/subjects/WEB-1/edit")
    assert r.status_code == 200 and 'value="Timur Webtestov"' in r.text
    r = client.post("/ui/subjects/WEB-1/edit", data={"csrf": token, "schema": "Person", "name": "Timur Webtestov", "birth_date": "1981-04-05"})
    assert r.status_code == 303, r.text[:500]
    r = client.get("/ui/subjects/WEB-1")
    assert "1981-04-05" in r.text and "1980-02-03" not in r.text
    # removing needs a reason
    r = client.post("/ui/subjects/WEB-1/remove", data={"csrf": token, "reason": "  "})
    assert r.status_code == 422 and "A reason is required" in r.text and 'aria-invalid="true"' in r.text
    r = client.post("/ui/subjects/WEB-1/remove", data={"csrf": token, "reason": "customer left, ticket 88"})
    assert r.status_code == 303
    r = client.get(r.headers["location"])
    assert "was removed" in r.text and "Timur Webtestov" not in r.text
    removed = audit(web, "subject.remove", "subject:WEB-1")
    assert removed and json.loads(removed[-1].detail)["reason"] == "customer left, ticket 88"
    # not in the list any more, but with the removed toggle
    assert 'href="/ui/subjects/WEB-1"' not in client.get("/ui/subjects", params={"q": "WEB-1"}).text
    assert 'href="/ui/subjects/WEB-1"' in client.get("/ui/subjects", params={"q": "WEB-1", "removed": "1"}).text


def test_a_vessel_with_its_identifiers(web: Web) -> None:
    client = web.client("supervisor")
    r = client.post("/ui/subjects/new", data={"csrf": csrf(client), "id": "WEB-SHIP", "schema": "Vessel", "name": "Northern Webtest",
                                              "imo": "9074729", "flag": "Panama"})
    assert r.status_code == 303, r.text[:500]
    r = client.get("/ui/subjects/WEB-SHIP")
    assert "Northern Webtest" in r.text and "9074729" in r.text and "Vessel" in r.text


def test_form_errors_name_the_field(web: Web) -> None:
    client = web.client("supervisor")
    r = client.post("/ui/subjects/new", data={"csrf": csrf(client), "id": "WEB-2", "schema": "Person", "name": ""})
    assert r.status_code == 422
    assert 'id="e-name"' in r.text and "A name is required." in r.text and 'href="#f-name"' in r.text
    r = client.post("/ui/subjects/new", data={"csrf": csrf(client), "id": "", "name": "Somebody"})
    assert r.status_code == 422 and 'id="e-id"' in r.text
    # a value that cannot be read is stored as written, with a warning naming the field
    r = client.post("/ui/subjects/new", data={"csrf": csrf(client), "id": "WEB-3", "name": "Dana Datetest", "birth_date": "1980-13-45"})
    assert r.status_code == 200, r.text[:300]
    assert "left out of screening" in r.text and "Date of birth" in r.text and "1980-13-45" in r.text


def test_a_script_in_a_name_is_shown_as_text(web: Web) -> None:
    client = web.client("supervisor")
    r = client.post("/ui/subjects/new", data={"csrf": csrf(client), "id": "WEB-XSS", "name": f"Ali {SCRIPT} Payload"})
    assert r.status_code == 303, r.text[:300]
    for path in ("/ui/subjects/WEB-XSS", "/ui/subjects?q=payload", "/ui/subjects/WEB-XSS/edit"):
        html = client.get(path).text
        assert SCRIPT not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_an_analyst_may_view_but_not_change(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/subjects")
    assert 'href="/ui/subjects/new"' not in r.text and 'href="/ui/subjects/import"' not in r.text
    r = client.get("/ui/subjects/C00009")
    assert "/remove" not in r.text and "/edit" not in r.text
    token = csrf(client)
    assert client.get("/ui/subjects/new").status_code == 403
    assert client.post("/ui/subjects/new", data={"csrf": token, "id": "WEB-A", "name": "Not Allowed"}).status_code == 403
    assert client.post("/ui/subjects/C00009/remove", data={"csrf": token, "reason": "no"}).status_code == 403
    assert client.post("/ui/subjects/C00009/edit", data={"csrf": token, "name": "No"}).status_code == 403
    assert client.post("/ui/subjects/import", data={"csrf": token}, files={"file": ("a.csv", b"id,name\nX,Y\n", "text/csv")}).status_code == 403
    assert web.client("auditor").get("/ui/subjects").status_code == 403


def test_posts_without_the_csrf_token_are_refused(web: Web) -> None:
    client = web.client("supervisor")
    for path, data in (("/ui/subjects/new", {"id": "WEB-C", "name": "Csrf Test"}), ("/ui/subjects/C00010/remove", {"reason": "x"}),
                       ("/ui/subjects/C00010/edit", {"name": "Csrf"})):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf": "forged"}).status_code == 403, path
    r = client.post("/ui/subjects/import", files={"file": ("a.csv", b"id,name\nX,Y\n", "text/csv")})
    assert r.status_code == 403
    assert "C00010" in client.get("/ui/subjects/C00010").text and "Csrf" not in client.get("/ui/subjects/C00010").text


def test_upload_runs_as_a_job_and_reports_bad_rows(web: Web) -> None:
    client = web.client("supervisor")
    body = ("id,schema,name,birth_date,nationality\n"
            "UP-1,Person,Aliya Uploadova,1990-01-02,Kazakhstan\n"
            ",Person,No Id Person,1990-01-02,\n"
            "UP-3,Organization,Upload Trading LLP,,\n").encode()
    r = client.post("/ui/subjects/import", data={"csrf": csrf(client)}, files={"file": ("people.csv", body, "text/csv")},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text[:500]
    found = re.search(r'href="/ui/subjects/jobs/([0-9a-f]+)"', r.text)
    assert found, r.text
    html = _wait(web, client, f"/ui/subjects/jobs/{found.group(1)}")
    assert "Finished" in html
    assert re.search(r'<td class="n">2</td><td><code>id</code></td>', html), "the bad row (2) and its field (id) are not reported"
    assert "Rows refused" in html
    assert "Aliya Uploadova" in client.get("/ui/subjects/UP-1").text
    assert "Upload Trading LLP" in client.get("/ui/subjects/UP-3").text


def test_upload_without_htmx_redirects_to_the_job_and_a_bad_header_is_refused(web: Web) -> None:
    client = web.client("supervisor")
    r = client.post("/ui/subjects/import", data={"csrf": csrf(client)}, files={"file": ("one.csv", b"id,name\nUP-9,Nurlan Redirectov\n", "text/csv")})
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/subjects/jobs/")
    html = _wait(web, client, r.headers["location"])
    assert "Finished" in html and "<h1>" in html
    r = client.post("/ui/subjects/import", data={"csrf": csrf(client)}, files={"file": ("bad.csv", b"id,colour\nX,red\n", "text/csv")})
    assert r.status_code == 422 and "colour" in r.text and 'role="alert"' in r.text
    r = client.post("/ui/subjects/import", data={"csrf": csrf(client)})
    assert r.status_code == 422 and "Choose a file" in r.text


def test_export_is_a_csv_and_audited(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/subjects/export")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = r.text.lstrip("\ufeff").splitlines()
    # The screening-input columns first: an export imports again as it is.
    assert lines[0].startswith("id,schema,name,birth_date,nationality,gender,document_number,")
    assert lines[0].endswith(",created_at,updated_at,created_by")
    assert any(line.startswith("C00002,Person,Amir Khan Muttaqi,1968,Afghanistan,male,") for line in lines)
    assert len(lines) > 256
    entries = audit(web, "subjects.export")
    assert entries and entries[-1].purpose == PURPOSE and entries[-1].actor == "analyst"
