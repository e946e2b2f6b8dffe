"""Browser test fixtures: the app served by uvicorn on a free local port, and Playwright driving
Debian's Chromium (`/usr/bin/chromium`, installed by `make setup`; Playwright's own browser
download is never used). Loaded by `tests/web/conftest.py` (`pytest_plugins`).

- `live` (module): a `LiveServer` over a fresh store (`conftest.build_service`: demo list live,
  demo population watched, a user per role with password `PASSWORD`); `live.url`.
- `browser` (session): one Chromium for the whole run. Missing Chromium is a failure, not a skip.
- `context` / `page` (function): a fresh context (English, 1280x900) on `live`, which fails the
  test if the page hit a Content-Security-Policy violation or a script error.
- helpers: `new_context(browser, live, lang=, bypass_csp=)`, `login(page, role)`,
  `state_purpose(page)`, `goto(page, path)` (states the purpose when the page asks for it),
  `shoot(page, name, lang=)`, `axe(page)` / `assert_accessible(page)`.

`python -m tests.web.browser --readme-shots` writes docs/img/queue.png and docs/img/review.png.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def _conftest() -> Any:
    """tests/web/conftest.py (imported when used: it imports this module's fixtures)."""
    from . import conftest

    return conftest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "vendor" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("QALQAN_SCREENSHOTS") or HERE / "artifacts")
LANGS = ("kk", "ru", "en", "ar")
VIEWPORT = {"width": 1280, "height": 900}
#: The axe-core impacts that fail a page.
BLOCKING = ("serious", "critical")


# --- the live server -------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    service: Any
    app: Any
    folder: Path
    server: Any = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=15)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path) -> LiveServer:
    """A store in `folder` (`build_service`) served by uvicorn in a background thread."""
    import uvicorn

    from qalqan.api import create_app

    service = _conftest().build_service(folder)
    app = create_app(service, data_dir=folder)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the live server (uvicorn) stopped while starting: see the log above")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the live server (uvicorn) did not start within 30 s")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", service, app, folder, server, thread)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("live"))
    try:
        yield server
    finally:
        server.stop()
        server.service.db.dispose()


# --- the browser -----------------------------------------------------------------------------

def launch(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Install it with "
                    "`make setup` (apt-get install -y chromium); never `playwright install`.", pytrace=False)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    b = launch(playwright_driver)
    try:
        yield b
    finally:
        b.close()


@dataclass
class Problems:
    """What the browser reported that a page should never cause: CSP violations, script errors,
    failed requests for the app's own assets."""

    messages: list[str] = field(default_factory=list)

    def watch(self, context: Any) -> None:
        def on_console(msg: Any) -> None:
            if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused to" in msg.text):
                self.messages.append(f"console: {msg.text}")

        def on_page(page: Any) -> None:
            page.on("console", on_console)
            page.on("pageerror", lambda exc: self.messages.append(f"script error: {exc}"))

        context.on("page", on_page)


def new_context(browser: Any, live: LiveServer, *, lang: str = "en", bypass_csp: bool = False, viewport: dict[str, int] | None = None) -> Any:
    """A browser context on `live` whose pages are in `lang` (the `qalqan_lang` cookie).
    `bypass_csp=True` only where axe-core must be injected (the pages' CSP is script-src 'self')."""
    context = browser.new_context(base_url=live.url, bypass_csp=bypass_csp, viewport=viewport or VIEWPORT, locale={"ar": "ar", "kk": "kk-KZ", "ru": "ru-RU"}.get(lang, "en-GB"),
                                  accept_downloads=True)
    context.add_cookies([{"name": "qalqan_lang", "value": lang, "url": live.url}])
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def context(browser: Any, live: LiveServer) -> Iterator[Any]:
    ctx = new_context(browser, live)
    problems = Problems()
    problems.watch(ctx)
    try:
        yield ctx
    finally:
        ctx.close()
    assert not problems.messages, "the browser reported:\n" + "\n".join(problems.messages)


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


# --- helpers ---------------------------------------------------------------------------------

def login(page: Any, role: str, password: str | None = None, *, next_path: str = "/") -> None:
    """Fill the login form as the user named `role` (works in every language: the fields are
    found by their autocomplete purpose). Leaves the page where the login redirected."""
    page.goto("/ui/login" + (f"?next={next_path}" if next_path != "/" else ""))
    submit_login(page, role, password if password is not None else _conftest().PASSWORD)
    page.wait_for_load_state()


def submit_login(page: Any, name: str, password: str) -> None:
    page.locator("input[autocomplete=username]").fill(name)
    page.locator("input[autocomplete=current-password]").fill(password)
    page.locator("main form[action='/ui/login'] button[type=submit]").click()
    page.wait_for_load_state()


def purpose_form(page: Any) -> Any:
    return page.locator("main form[action='/ui/purpose']")


def state_purpose(page: Any, purpose: str | None = None) -> bool:
    """If the page is the purpose form (the first page with personal data asks for it), state
    `purpose` and continue to the page asked for. True if the form was there."""
    form = purpose_form(page)
    if form.count() == 0:
        return False
    form.locator("input[name=purpose]").fill(purpose or _conftest().PURPOSE)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    return True


def goto(page: Any, path: str, *, purpose: str | None = None) -> Any:
    """Open `path`, stating the session's purpose if the page asks for it; the response."""
    response = page.goto(path)
    if state_purpose(page, purpose):
        response = None
    page.wait_for_load_state()
    return response


def page_lang(page: Any) -> str:
    return str(page.evaluate("document.documentElement.lang") or "en")


def shoot(page: Any, name: str, *, lang: str | None = None, full_page: bool = True) -> Path:
    """A PNG of the page under ARTIFACTS/<lang>/<name>.png (the page's language by default)."""
    folder = ARTIFACTS / (lang or page_lang(page))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page (its context must bypass CSP to inject the script)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))}));
    }""")
    return list(result)


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for n in v["nodes"][:8]:
            lines.append(f"    {' '.join(map(str, n['target']))}: {n['html'][:200]}")
            if n.get("summary"):
                lines.append("      " + n["summary"].replace("\n", "\n      ")[:400])
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> None:
    found = blocking(axe(page))
    if found:
        text = describe(found)
        print(f"axe on {where or page.url}:\n{text}")
        raise AssertionError(f"axe-core: serious/critical violations on {where or page.url}:\n{text}")


# --- README screenshots ----------------------------------------------------------------------

def first_open_alert(page: Any) -> str:
    """The href of the first alert in the queue on the page."""
    link = page.locator("main a[href^='/ui/alerts/']").first
    return str(link.get_attribute("href"))


#: Watched subjects written in another script than the list's primary name (README screenshots:
#: a queue of cross-script alerts).
CROSS_SCRIPT_SUBJECTS = (
    {"id": "K-20417", "schema": "Person", "name": "محمود بن صالح طواقي", "birth_date": "1983-07-02", "nationality": "Iraq"},
    {"id": "K-20533", "schema": "Person", "name": "Ерканат Жумабаевич Тасжолов", "birth_date": "1982-06-11", "nationality": "Kazakhstan"},
    {"id": "K-20871", "schema": "Person", "name": "Дмитрий Лесовской", "birth_date": "1963", "nationality": "Russia"},
    {"id": "K-21002", "schema": "Person", "name": "ليلى عمر زرقاوية", "nationality": "Egypt"},
    {"id": "K-21340", "schema": "Person", "name": "Hamzah Abdulrahman Kutrubi", "birth_date": "1977-05-01", "nationality": "Yemen"},
)


def add_cross_script_subjects(service: Any) -> None:
    from qalqan.service import subjects

    subjects.add_subjects(service, CROSS_SCRIPT_SUBJECTS, actor="test", purpose="web tests")


def readme_shots(out: Path = ROOT / "docs" / "img") -> list[Path]:
    """docs/img/queue.png and docs/img/review.png: English, 1280 px wide, viewport only."""
    import tempfile

    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        server = start_server(Path(tmp))
        try:
            add_cross_script_subjects(server.service)
            b = launch(p)
            ctx = new_context(b, server, viewport={"width": 1280, "height": 800})
            pg = ctx.new_page()
            login(pg, "analyst")
            goto(pg, "/ui/alerts")
            queue = out / "queue.png"
            pg.screenshot(path=str(queue))
            goto(pg, "/ui/alerts?status=open&list=demo")
            arabic = pg.locator("main tbody tr", has_text="محمود").locator("a[href^='/ui/alerts/']").first
            goto(pg, arabic.get_attribute("href") if arabic.count() else first_open_alert(pg))
            review = out / "review.png"
            pg.screenshot(path=str(review))
            b.close()
        finally:
            server.stop()
            server.service.db.dispose()
    paths = [queue, review]
    for path in paths:
        _optimise(path)
    return paths


def _optimise(path: Path, limit: int = 250_000) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    if path.stat().st_size <= limit:
        return
    with Image.open(path) as img:
        img.convert("P", palette=Image.Palette.ADAPTIVE, colors=256).save(path, optimize=True)


if __name__ == "__main__":
    if "--readme-shots" in sys.argv[1:]:
        for shot in readme_shots():
            print(f"{shot} {shot.stat().st_size} bytes")
    else:
        print(json.dumps({"usage": "python -m tests.web.browser --readme-shots"}))
