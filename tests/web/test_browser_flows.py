"""The analyst's work in a real browser (Chromium driven by Playwright, on a live uvicorn server):
log in, review and decide alerts, four eyes, screening, batch screening, lockout, and what a
role may not open. Every page must load without a CSP violation or a script error (the
`context` fixture checks)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .browser import LiveServer, goto, login, submit_login
from .conftest import PASSWORD



def test_login_lands_on_the_dashboard(page: Any) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.get_by_label("User name").fill("analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("analyst · analyst")).to_be_visible()
    # the logout button ends the session: the dashboard asks for a login again
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/login"))


def test_wrong_password_five_times_locks_the_account(page: Any, live: LiveServer) -> None:
    from qalqan.service import users

    users.create_user(live.service, "locked.analyst", "analyst", actor="test")
    users.set_password(live.service, "locked.analyst", PASSWORD, actor="test")
    page.goto("/ui/login")
    for attempt in range(5):
        submit_login(page, "locked.analyst", f"wrong-password-{attempt}")
        if attempt < 4:
            expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
        else:  # the fifth locks the account, and says so at once
            expect(page.get_by_role("alert")).to_contain_text("this account is locked")
        # the name typed stays in the form; the password does not
        expect(page.get_by_label("User name")).to_have_value("locked.analyst")
        expect(page.get_by_label("Password")).to_have_value("")
    # locked now: even the right password is refused, and the page says why
    submit_login(page, "locked.analyst", PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("this account is locked")
    expect(page).to_have_url(re.compile(r"/ui/login"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/login"))


def test_the_language_menu_switches_the_interface_and_arabic_is_right_to_left(page: Any) -> None:
    login(page, "analyst")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("button", name="العربية")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Dashboard")
    # the main navigation starts on the right
    brand, nav = page.locator(".brand").bounding_box(), page.get_by_role("navigation").first.bounding_box()
    assert brand and nav and brand["x"] > nav["x"], (brand, nav)
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def test_an_analyst_has_no_audit_link_and_cannot_open_the_audit_page(page: Any) -> None:
    login(page, "analyst")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Alerts")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)
    response = page.goto("/ui/audit")
    assert response is not None and response.status == 403, response and response.status
    expect(page.get_by_role("heading", level=1)).to_contain_text("403")


# --- alerts: review and decide -----------------------------------------------------------------

CSRF_IN_PAGE = "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"


def open_first_alert(page: Any, status: str = "open") -> int:
    """From the queue (filtered to `status`), open the first alert's review; its id."""
    goto(page, f"/ui/alerts?status={status}")
    expect(page.get_by_role("heading", name="Alert queue", level=1)).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"^Review alert \d+$")).first
    expect(link).to_be_visible()
    alert_id = int(re.sub(r"\D", "", link.get_attribute("aria-label") or ""))
    link.click()
    expect(page.get_by_role("heading", name=f"Alert {alert_id}", level=1)).to_be_visible()
    return alert_id


def decide(page: Any, button: str, reason: str) -> None:
    decision = page.get_by_role("region", name="Decision")
    decision.get_by_label(re.compile(r"^Reason")).fill(reason)
    decision.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_analyst_reviews_and_clears_an_alert_and_the_auditor_sees_it(page: Any, browser: Any, live: LiveServer) -> None:
    from .browser import new_context

    page.goto("/")
    page.get_by_label("User name").fill("analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    # the first page with personal data asks why
    expect(page.get_by_role("heading", name="Why are you looking at personal data?")).to_be_visible()
    page.get_by_label("Purpose").fill("case 4711: periodic review")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Alert queue", level=1)).to_be_visible()
    expect(page.get_by_text("case 4711: periodic review")).to_be_visible()

    alert_id = open_first_alert(page)
    subject = page.get_by_role("region", name="Subject")
    entity = page.get_by_role("region", name="Listed entity")
    expect(subject).to_be_visible()
    expect(entity).to_be_visible()
    expect(subject.locator("bdi.name").first).not_to_be_empty()
    expect(entity.locator("bdi.name").first).not_to_be_empty()
    left, right = subject.bounding_box(), entity.bounding_box()
    assert left and right and abs(left["y"] - right["y"]) < 2 and (left["x"] + left["width"] <= right["x"] + 1), (left, right)
    expect(page.get_by_role("heading", name="Why it matched")).to_be_visible()

    decide(page, "False positive", "Different person: date of birth and nationality differ.")
    expect(page.get_by_role("heading", name="Alert queue", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Alert {alert_id}")
    expect(page.get_by_role("link", name=f"Review alert {alert_id}", exact=True)).to_have_count(0)
    goto(page, "/ui/alerts")
    expect(page.get_by_role("link", name=f"Review alert {alert_id}", exact=True)).to_have_count(0)
    goto(page, "/ui/alerts?status=false_positive")
    expect(page.get_by_role("link", name=f"Review alert {alert_id}", exact=True)).to_have_count(1)

    auditor = new_context(browser, live)
    try:
        apage = auditor.new_page()
        login(apage, "auditor", next_path="/ui/audit")
        expect(apage.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
        nav = apage.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Audit")).to_have_attribute("aria-current", "page")
        expect(nav.get_by_role("link", name="Alerts")).to_have_count(0)
        search = apage.get_by_role("search", name="Filter the audit log")
        search.get_by_label("Actor").fill("analyst")
        search.get_by_label("Target").fill(f"alert:{alert_id}")
        search.get_by_role("button", name="Apply").click()
        expect(apage).to_have_url(re.compile(rf"target=alert%3A{alert_id}|target=alert:{alert_id}"))
        entries = apage.get_by_role("region", name=re.compile("^Entries"))
        rows = entries.locator("tbody tr")
        expect(rows.filter(has_text="alert.decide")).to_have_count(1)
        expect(rows.filter(has_text="alert.view")).not_to_have_count(0)
        expect(rows.filter(has_text="alert.view").first).to_contain_text("case 4711: periodic review")  # the purpose stated
        expect(rows.filter(has_not_text=f"alert:{alert_id}")).to_have_count(0)
        expect(rows.filter(has_not_text="analyst")).to_have_count(0)
        expect(rows.filter(has_text="alert.decide")).not_to_have_count(0)
        expect(rows.filter(has_text="alert.view")).not_to_have_count(0)
        expect(rows.filter(has_text="alert.view").first).to_contain_text("case 4711: periodic review")  # the purpose stated
        expect(rows.filter(has_text="alert.decide").first).to_contain_text("analyst")
    finally:
        auditor.close()


def test_four_eyes_an_analysts_confirmation_waits_for_a_supervisor(page: Any, browser: Any, live: LiveServer) -> None:
    from .browser import new_context

    login(page, "analyst")
    alert_id = open_first_alert(page)
    decide(page, "Confirm the match", "Same person: name, date of birth and passport agree.")
    expect(page.get_by_role("status")).to_contain_text("awaiting a supervisor's approval")
    goto(page, f"/ui/alerts/{alert_id}")
    expect(page.locator(".review-head .status")).to_have_text("awaiting approval")
    decision = page.get_by_role("region", name="Decision")
    expect(decision.get_by_role("button", name="Approve the confirmation")).to_have_count(0)
    # a forged approval from the analyst's session is refused, the alert stays pending
    token = page.evaluate(CSRF_IN_PAGE)
    forged = page.request.post(f"/ui/alerts/{alert_id}/decide", form={"csrf": token, "action": "approve", "reason": "I approve my own"}, max_redirects=0)
    assert forged.status == 403, forged.status
    goto(page, f"/ui/alerts/{alert_id}")
    expect(page.locator(".review-head .status")).to_have_text("awaiting approval")

    supervisor = new_context(browser, live)
    try:
        spage = supervisor.new_page()
        login(spage, "supervisor")
        goto(spage, "/ui/alerts?status=pending_approval")
        spage.get_by_role("link", name=f"Review alert {alert_id}", exact=True).click()
        expect(spage.get_by_role("status")).to_contain_text("Confirmation proposed by analyst")
        decide(spage, "Approve the confirmation", "Checked the passport copy: approved.")
        expect(spage.get_by_role("status")).to_contain_text(f"Alert {alert_id} is now: confirmed")
        goto(spage, f"/ui/alerts/{alert_id}")
        expect(spage.locator(".review-head .status")).to_have_text("confirmed")
        history = spage.get_by_role("region", name="History")
        expect(history).to_contain_text("Checked the passport copy: approved.")
        expect(history).to_contain_text("supervisor")
    finally:
        supervisor.close()


# --- screening -------------------------------------------------------------------------------

def screen(page: Any, name: str, *, birth_date: str = "") -> Any:
    """Fill the screening form and submit it; the results region."""
    page.get_by_label("Name", exact=True).fill(name)
    if birth_date:
        page.get_by_label("Date of birth").fill(birth_date)
    page.get_by_role("button", name="Screen", exact=True).click()
    results = page.get_by_role("region", name="Results")
    expect(results).to_be_visible()
    return results


def test_screening_a_cyrillic_and_an_arabic_name_finds_the_listed_person(page: Any) -> None:
    login(page, "analyst")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Screen a name").click()
    expect(page.get_by_role("heading", name="Screen a name", level=1)).to_be_visible()
    # a screening states its purpose (the session's, once stated, is the default)
    page.get_by_label("Purpose").fill("onboarding check, case 4712")
    for query, listed in (("Дмитрий Аркадьевич Лесовской", "Dmitri Arkadyevich Lesovskoy"),  # demo D026, its Russian spelling
                          ("كريم يوسف الفيروزي", "Karim Yusuf al-Fayruzi"),  # demo D001, its Arabic spelling
                          ("Лесовской Дмитрий", "Dmitri Arkadyevich Lesovskoy")):  # surname first, no patronymic
        results = screen(page, query)
        first = results.locator("li.result").first
        expect(first.get_by_role("heading", level=3)).to_have_text(listed)
        expect(first.locator(".verdict")).to_have_text("Match")
        # the explanation: the names compared side by side, token by token
        why = first.locator("details")
        expect(why).to_have_attribute("open", "")
        expect(why.locator(".name-pair")).to_contain_text(query.split()[0])
        expect(why.get_by_role("table", name="Name, token by token")).to_be_visible()
        expect(why.get_by_role("table", name="Name, token by token").locator("tbody tr")).not_to_have_count(0)
        expect(page.get_by_label("Name", exact=True)).to_have_value(query)
        expect(page.get_by_label("Purpose")).to_have_value("onboarding check, case 4712")
    # a name nobody is listed under
    results = screen(page, "Wilhelmina Zoutendijk-Achterberg")
    expect(results.get_by_role("status")).to_contain_text("No listed entity scored")


# --- batch screening -------------------------------------------------------------------------

BATCH_CSV = (
    "id,name,birth_date,nationality\n"
    "c-1,Дмитрий Аркадьевич Лесовской,1963-03-03,Russia\n"
    "c-2,كريم يوسف الفيروزي,1971-03-14,Jordan\n"
    "c-3,Wilhelmina Zoutendijk-Achterberg,1990-01-01,Netherlands\n"
    "c-4,=HYPERLINK(\"http://evil.example\"),,\n"
)


def upload_batch(page: Any) -> Any:
    """Upload BATCH_CSV on /ui/batch; the job's panel once it is done."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Batch screening").click()
    expect(page.get_by_role("heading", name="Batch screening", level=1)).to_be_visible()
    upload = page.get_by_role("form", name="Screen a file")
    upload.get_by_label("File").set_input_files(files=[{"name": "clients.csv", "mimeType": "text/csv", "buffer": BATCH_CSV.encode()}])
    upload.get_by_label("Purpose").fill("periodic client review, case 4713")
    upload.get_by_role("button", name="Upload and screen").click()
    job = page.locator("article.batch-job", has_text="clients.csv").first
    expect(job).to_be_visible()
    # queued / running (polled) until done; then the summary and the downloads
    expect(job.locator(".status")).to_have_text("done", timeout=60_000)
    expect(job).to_contain_text("Rows screened: 4")
    return job


def is_match(row: dict[str, str]) -> bool:
    return row["match"].strip().lower() in ("true", "1", "yes")


def test_batch_screening_shows_progress_and_downloads_the_results(page: Any) -> None:
    import csv
    import io

    login(page, "analyst")
    goto(page, "/ui/purpose", purpose="periodic client review, case 4713")  # states it
    job = upload_batch(page)
    download_link = job.get_by_role("link", name="Download CSV")
    expect(download_link).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert not text.lstrip().startswith("<"), f"an HTML page was downloaded instead of the results ({download.suggested_filename}): {text[:300]}"
    assert download.suggested_filename == "clients-results.csv", download.suggested_filename
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_id.setdefault(row["input_id"], []).append(row)
    assert set(by_id) == {"c-1", "c-2", "c-3", "c-4"}, sorted(by_id)
    best = {key: min(found, key=lambda r: int(r["rank"] or 99)) for key, found in by_id.items()}
    assert best["c-1"]["caption"] == "Dmitri Arkadyevich Lesovskoy" and is_match(best["c-1"]), best["c-1"]
    assert best["c-2"]["caption"] == "Karim Yusuf al-Fayruzi" and is_match(best["c-2"]), best["c-2"]
    assert best["c-1"]["input_name"] == "Дмитрий Аркадьевич Лесовской"
    assert not any(is_match(r) for r in by_id["c-3"]), by_id["c-3"]
    # a formula in a name is defused for spreadsheets
    assert best["c-4"]["input_name"].startswith("'="), best["c-4"]["input_name"]
    page.reload()
    expect(page.locator("article.batch-job", has_text="clients.csv").first.get_by_role("link", name="Download XLSX")).to_be_visible()


def test_batch_download_without_a_session_purpose_never_saves_the_purpose_form(page: Any) -> None:
    """The results are personal data: a session without a stated purpose is asked for one. The
    link must not make the browser save that form's HTML as 'results.csv'."""
    login(page, "analyst")
    job = upload_batch(page)
    link = job.get_by_role("link", name="Download CSV")
    downloads: list[Any] = []
    page.on("download", lambda d: downloads.append(d))
    link.click()
    page.wait_for_timeout(1500)
    for download in downloads:
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        assert not text.lstrip().startswith("<"), f"the browser saved an HTML page as {download.suggested_filename!r}: {text[:120]!r}"
    if not downloads:  # asked for the purpose instead: stating it gives the file
        expect(page.get_by_label("Purpose")).to_be_visible()
        page.get_by_label("Purpose").fill("periodic client review, case 4713")
        with page.expect_download() as info:
            page.get_by_role("button", name="Continue").click()
        assert info.value.suggested_filename == "clients-results.csv"
