"""Every page in every language, in a real browser: a full-page screenshot (under
tests/web/artifacts/<lang>/, or $QALQAN_SCREENSHOTS), axe-core (no serious or critical
violation), the page's language, and right-to-left layout for Arabic. One browser, one context
per language (which bypasses the CSP only so that axe-core can be injected)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .browser import LANGS, LiveServer, axe, blocking, describe, goto, login, new_context, shoot, start_server
from .conftest import demo_list

#: A second version of the demo list (one entity dropped, one amended, one added): the lists
#: pages have a diff to show.
DIFF_ADDED = "D900,Person,Arman Serikovich Test-Diffov,Арман Серікұлы Тестдиффов,1980-01-01,Kazakhstan,male,,,,DEMO-FICTIONAL,2024-09-01,DEMO.900\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("pages")
    server = start_server(folder)
    lines = demo_list().read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    rows = [r.replace("Ruslan Khalikov", "Ruslan Khalikov;Ruslan T. Khalykov") for r in rows[1:]]  # D001 dropped, D018 amended
    second = folder / "demo_v2.csv"
    second.write_text(header + "".join(rows) + DIFF_ADDED, encoding="utf-8")
    server.service.import_list(f"csv:{second}", actor="test", name="demo")
    from qalqan.service import travel
    from tests.travel.support import pax, paxlst

    # A flight with a listed passenger: the travel pages and a traveller's alert review.
    flight = travel.ingest(server.service, paxlst(pax("AL QAMARI", "SAMIRA HADI", born="800101", nationality="LBN", gender="F"), pax("SMAGULOV", "YERLAN")),
                           actor="test", source="web tests")
    # Its second traveller depersonalised (masked, as the retention rules leave it) and asked for
    # in clear by the admin: the message page shows the "ask to see in clear" form, the requests
    # page a pending request (a supervisor gets the approve and refuse form).
    from sqlalchemy import select

    from qalqan.store.tables import Traveller as TravellerRow

    with server.service.db.session() as s, s.begin():
        masked = s.execute(select(TravellerRow).where(TravellerRow.message_id == flight.message_id, TravellerRow.position == 2)).scalar_one()
        masked.surname = masked.given_names = masked.birth_date = masked.nationality = masked.gender = "***"
        masked.documents = ["***"]
        masked.masked = True
        masked_id = masked.id
    travel.request_repersonalisation(server.service, masked_id, actor="admin", reason="case CASE-2027-17: the co-traveller of a confirmed hit")
    from qalqan.service import content

    # An indicator: the content list and a URL check have something to show.
    content.import_indicators(server.service, b"value,type,category,tlp\nhttps://propaganda.example.org/videos/*,url,violent-propaganda,green\n",
                              actor="supervisor", source_list="demo")
    try:
        yield server
    finally:
        server.stop()
        server.service.db.dispose()


def first_href(page: Any, prefix: str) -> str | None:
    """The first link in the page's table(s) to a page under `prefix`."""
    links = page.locator(f"main tbody a[href^='{prefix}']")
    for i in range(min(links.count(), 50)):
        href = links.nth(i).get_attribute("href") or ""
        rest = href[len(prefix):]
        if rest and "?" not in rest and "/" not in rest.strip("/"):
            return href
    return None


def diff_href(page: Any) -> str:
    links = page.locator("main a[href*='/diff']")
    return (links.first.get_attribute("href") if links.count() else None) or "/ui/lists/demo/diff"


def screen_results(page: Any, name: str) -> None:
    """Screen `name` with the form (any language: the fields by their names)."""
    form = page.locator("main form[action='/ui/screen']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=purpose]").fill("web page checks")
    form.locator("button[type=submit]").click()
    page.locator("main section.results").wait_for()


class Visit:
    """Pages visited in one language: screenshot, axe and checks; the problems collected so
    that one bad page does not hide the others."""

    def __init__(self, page: Any, lang: str):
        self.page, self.lang = page, lang
        self.problems: list[str] = []
        self.seen: list[str] = []

    def check(self, name: str, path: str | None, *, expect_status: int = 200) -> None:
        if path is None:
            self.problems.append(f"{name}: no link to it found")
            return
        response = goto(self.page, path)
        status = response.status if response is not None else 200
        if status != expect_status:
            self.problems.append(f"{name} ({path}): HTTP {status}")
        self.inspect(name)

    def inspect(self, name: str) -> None:
        page = self.page
        self.seen.append(name)
        shoot(page, name, lang=self.lang)
        html_lang = page.evaluate("document.documentElement.lang")
        html_dir = page.evaluate("document.documentElement.dir")
        if html_lang != self.lang:
            self.problems.append(f"{name}: <html lang={html_lang!r}>")
        if (html_dir == "rtl") != (self.lang == "ar"):
            self.problems.append(f"{name}: <html dir={html_dir!r}>")
        if self.lang == "ar" and page.locator("html[dir=rtl]").count() != 1:
            self.problems.append(f"{name}: no html[dir=rtl]")
        found = blocking(axe(page))
        if found:
            self.problems.append(f"{name} ({page.url}): axe-core\n{describe(found)}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 8:
            self.problems.append(f"{name}: the page scrolls sideways by {overflow}px at 1280px")


@pytest.mark.parametrize("lang", LANGS)
def test_every_page(browser: Any, site: LiveServer, lang: str) -> None:
    context = new_context(browser, site, lang=lang, bypass_csp=True)
    try:
        page = context.new_page()
        visit = Visit(page, lang)
        visit.check("login", "/ui/login")
        login(page, "analyst")
        visit.inspect("dashboard")
        # screening: the form, then results for a listed name (in its Cyrillic spelling)
        goto(page, "/ui/screen")
        visit.inspect("screen")
        screen_results(page, "Дмитрий Аркадьевич Лесовской")
        visit.inspect("screen-results")
        screen_results(page, "كريم يوسف الفيروزي")
        visit.inspect("screen-results-arabic")
        visit.check("queue", "/ui/alerts")
        review = first_href(page, "/ui/alerts/")
        subject_ids = page.locator("main tbody a.mono")  # the queue's subjects: one with an alert
        subject = f"/ui/subjects/{subject_ids.first.inner_text().strip()}" if subject_ids.count() else None
        visit.check("review", review)
        visit.check("subjects", "/ui/subjects")
        visit.check("subject", subject or first_href(page, "/ui/subjects/"))
        visit.check("lists", "/ui/lists")
        visit.check("list", "/ui/lists/demo")
        visit.check("diff", diff_href(page))
        visit.check("batch", "/ui/batch")
        visit.check("travel", "/ui/travel")
        visit.check("travel-message", first_href(page, "/ui/travel/messages/"))
        page.locator("main table.travellers .ask summary").first.click()  # open the "ask to see in clear" form
        visit.inspect("travel-message-ask")
        visit.check("travel-requests", "/ui/travel/repersonalisations")
        visit.check("travel-queue", "/ui/alerts?trigger=traveller&sort=departure")
        visit.check("travel-review", first_href(page, "/ui/alerts/"))
        visit.check("content", "/ui/content")
        visit.check("content-check", "/ui/content/check")
        page.locator("main form[action='/ui/content/check'] input[name=url]").fill("https://propaganda.example.org/videos/clip-7")
        page.locator("main form[action='/ui/content/check'] button[type=submit]").click()
        page.locator("main table.matches").wait_for()
        visit.inspect("content-check-result")
        visit.check("not-allowed", "/ui/audit", expect_status=403)
        context.clear_cookies()
        context.add_cookies([{"name": "qalqan_lang", "value": lang, "url": site.url}])
        login(page, "supervisor", next_path="/ui/travel/repersonalisations")
        visit.check("travel-requests-supervisor", "/ui/travel/repersonalisations")
        visit.check("travel-supervisor", "/ui/travel")
        context.clear_cookies()
        context.add_cookies([{"name": "qalqan_lang", "value": lang, "url": site.url}])
        login(page, "auditor", next_path="/ui/audit")
        visit.check("audit", "/ui/audit")
        assert not visit.problems, f"{lang}: " + "\n".join(visit.problems)
    finally:
        context.close()
