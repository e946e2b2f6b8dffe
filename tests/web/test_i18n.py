"""The interface's languages: every message translated into Kazakh, Russian and Arabic; every
catalogue well formed (Babel reads it, no msgid twice in a file, placeholders kept); the
language chosen from the browser, the cookie and the language menu; Arabic pages right to left;
names isolated for bidi layout."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po

from qalqan.web import i18n, messages
from qalqan.web.templating import ENV, context

from .conftest import Web

PO_FILES = sorted(p for lang in ("kk", "ru", "ar") for p in (i18n.TRANSLATIONS / lang).glob("*.po"))
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdif]|%[sdif]|\{[A-Za-z_][A-Za-z0-9_]*\}")
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
ARABIC = re.compile(r"[\u0600-\u06FF]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def po_unquote(line: str) -> str:
    body = line.strip()
    assert body.startswith('"') and body.endswith('"'), f"not a quoted string: {line!r}"
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), body[1:-1])


def raw_msgids(path: Path) -> list[str]:
    """The msgids of `path` as written (Babel's reader merges duplicates, so they are read here):
    a msgid's continuation lines joined, with its msgctxt if any."""
    ids: list[str] = []
    current: list[str] | None = None
    context_text = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("msgctxt "):
            context_text = po_unquote(stripped[len("msgctxt "):])
        elif stripped.startswith("msgid "):
            current = [po_unquote(stripped[len("msgid "):])]
        elif stripped.startswith('"') and current is not None:
            current.append(po_unquote(stripped))
        else:
            if current is not None:
                text = "".join(current)
                if text:
                    ids.append(f"{context_text}\x04{text}" if context_text else text)
                current, context_text = None, ""
    return ids


# --- (a) every id translated --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru", "ar"])
def test_every_message_is_translated(lang: str) -> None:
    assert messages.missing(lang) == [], f"untranslated into {lang}: run python -m qalqan.web.messages --missing {lang}"


def test_the_job_kinds_are_the_real_ones() -> None:
    """The kinds the API and the pages give `JobRunner.start` (a literal, or a module's `KIND` /
    `JOB_KIND` constant) are the ones translated."""
    package = Path(messages.__file__).parent.parent
    source = "\n".join(p.read_text(encoding="utf-8") for folder in (package / "api", package / "web" / "pages") for p in folder.glob("*.py"))
    started = set(re.findall(r'\.start\(\s*"([^"]+)"', source)) | set(re.findall(r'^(?:JOB_)?KIND = "([^"]+)"', source, re.M))
    assert {"subjects.import", "list.import", "list.fetch"} <= started
    assert started <= set(messages.DYNAMIC["job kinds"]), f"job kinds not in messages.DYNAMIC: {sorted(started - set(messages.DYNAMIC['job kinds']))}"


# --- (b) the catalogues are well formed ---------------------------------------------------------


def test_there_are_catalogues() -> None:
    for lang in ("kk", "ru", "ar"):
        assert (i18n.TRANSLATIONS / lang / "core.po").is_file()


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_catalogue_parses_without_duplicates_and_keeps_placeholders(path: Path) -> None:
    lang = path.parent.name
    with path.open("rb") as fh:
        catalogue = read_po(fh, locale=lang)
    header = path.read_text(encoding="utf-8")
    assert f'"Language: {lang}\\n"' in header, f"{path}: no Language header"
    assert "charset=UTF-8" in header
    nplurals = {"kk": 2, "ru": 3, "ar": 6}[lang]
    assert re.search(rf'"Plural-Forms: *nplurals={nplurals}; *plural=', header), f"{path}: Plural-Forms should declare nplurals={nplurals}"
    ids = raw_msgids(path)
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{path}: msgid more than once: {duplicates}"
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id[0], message.id[1]
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            allowed = placeholders(singular) | placeholders(plural)
            for form in forms:
                if form and not placeholders(form) <= allowed:
                    problems.append(f"{singular!r}: {form!r} has a placeholder the msgid lacks")
            if forms and forms[-1] and not placeholders(plural) <= placeholders(forms[-1]):
                problems.append(f"{plural!r}: its last plural form {forms[-1]!r} drops a placeholder")
        elif message.string:
            wanted, got = placeholders(message.id), placeholders(message.string)
            if wanted != got:
                problems.append(f"{message.id!r} -> {message.string!r}: placeholders {sorted(wanted)} became {sorted(got)}")
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", ["kk", "ru", "ar"])
def test_core_catalogue_is_in_the_right_script(lang: str) -> None:
    """A translation is written in its language's script (the Kazakh one with Kazakh letters);
    codes and abbreviations (CSV, UTC, MAC) may stay Latin."""
    with (i18n.TRANSLATIONS / lang / "core.po").open("rb") as fh:
        catalogue = read_po(fh, locale=lang)
    strings = [m.string for m in catalogue if m.id and isinstance(m.string, str) and m.string]
    assert len(strings) > 50
    script = ARABIC if lang == "ar" else CYRILLIC
    wrong = [s for s in strings if re.search(r"[A-Za-z]{2,}", s) and not script.search(s)]
    assert not wrong, f"{lang}: not translated: {wrong}"
    if lang == "kk":
        assert sum(1 for s in strings if KAZAKH_LETTERS & set(s)) > len(strings) // 3, "Kazakh text without Kazakh letters"


def test_placeholders_are_filled_in_a_translated_page() -> None:
    cat = i18n.catalogue("ru")
    text = cat.gettext("The chain is intact: no problem found. Entries checked: %(n)s.") % {"n": "12"}
    assert "12" in text and "%(" not in text


# --- (c) choosing the language ------------------------------------------------------------------


def test_the_browser_language_is_used(web: Web) -> None:
    client = web.client(None, lang=None)
    r = client.get("/ui/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert r.status_code == 200
    assert '<html lang="ru" dir="ltr">' in r.text
    assert "Войти" in r.text and "Имя пользователя" in r.text and "Пароль" in r.text
    kk = client.get("/ui/login", headers={"Accept-Language": "kk"})
    assert '<html lang="kk"' in kk.text and "Кіру" in kk.text and "Құпиясөз" in kk.text
    other = client.get("/ui/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en"' in other.text and "Log in" in other.text


def test_the_arabic_cookie_gives_a_right_to_left_page(web: Web) -> None:
    client = web.client(None, lang="ar")
    r = client.get("/ui/login", headers={"Accept-Language": "ru"})  # the remembered choice wins
    assert r.status_code == 200
    assert '<html lang="ar" dir="rtl">' in r.text
    assert "تسجيل الدخول" in r.text and "كلمة المرور" in r.text and "اسم المستخدم" in r.text


def test_the_language_menu_sets_and_remembers_the_cookie(web: Web) -> None:
    client = web.client(None, lang=None)
    r = client.post("/ui/lang", data={"lang": "kk", "next": "/ui/login"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    cookie = r.headers["set-cookie"]
    assert "qalqan_lang=kk" in cookie and "SameSite=strict" in cookie.replace("samesite", "SameSite").replace("Strict", "strict")
    assert client.cookies.get("qalqan_lang") == "kk"
    again = client.get("/ui/login", headers={"Accept-Language": "ar"})
    assert '<html lang="kk" dir="ltr">' in again.text and "Кіру" in again.text
    # the menu marks the chosen language
    assert re.search(r'value="kk" lang="kk" aria-pressed="true"', again.text)
    # an unknown language changes nothing
    bad = client.post("/ui/lang", data={"lang": "xx", "next": "/ui/login"})
    assert bad.status_code == 303 and "qalqan_lang" not in bad.headers.get("set-cookie", "")
    assert client.cookies.get("qalqan_lang") == "kk"
    # and the menu does not send anyone to another site
    away = client.post("/ui/lang", data={"lang": "ru", "next": "//evil.example/"})
    assert away.headers["location"] == "/"


def test_a_logged_in_page_is_translated(web: Web) -> None:
    client = web.client("auditor", lang="ru")
    r = client.get("/ui/audit")
    assert r.status_code == 200
    assert "Журнал аудита" in r.text and "Проверить цепочку" in r.text and "Выйти" in r.text and "аудитор" in r.text
    forbidden = web.client("analyst", lang="kk").get("/ui/audit")
    assert forbidden.status_code == 403 and "Рұқсат етілмеген" in forbidden.text


# --- (d) names isolated for bidi layout ---------------------------------------------------------


def _render_name(lang: str, text: str) -> str:
    """`name(text)` from macros.html, rendered with a `lang` page's context."""
    request = SimpleNamespace(cookies={i18n.LANG_COOKIE: lang}, headers={}, state=SimpleNamespace(),
                              url=SimpleNamespace(path="/", query=""), app=SimpleNamespace(state=SimpleNamespace()))
    template = ENV.from_string('{% from "macros.html" import name with context %}<p>{{ name(text) }}</p>')
    return template.render({**context(request, user=None), "text": text})  # type: ignore[arg-type]


def test_the_name_macro_isolates_a_latin_name_on_an_arabic_page() -> None:
    html = _render_name("ar", "John Smith")
    assert re.search(r'<bdi dir="auto" class="name">John Smith</bdi>', html)


def test_the_name_macro_isolates_an_arabic_name_on_a_russian_page() -> None:
    html = _render_name("ru", "محمد عبد الله")
    assert re.search(r'<bdi dir="auto" class="name">محمد عبد الله</bdi>', html)


def test_names_on_pages_are_isolated(web: Web) -> None:
    """On real pages: the user's (Latin) name in the header of an Arabic page, and an
    Arabic-script actor and purpose in the audit log on a Russian page."""
    arabic_name = "محمد عبد الله"
    with web.service.transaction() as s:
        web.service.audit(s, actor=arabic_name, action="screen", target="subject:AR-1", purpose="قضية ١٢")
    ar = web.client("auditor", lang="ar").get("/ui/audit")
    assert '<html lang="ar" dir="rtl">' in ar.text
    assert re.search(r"<bdi[^>]*>auditor</bdi>", ar.text), "the Latin user name is not isolated on the Arabic page"
    ru = web.client("auditor", lang="ru").get("/ui/audit")
    assert re.search(rf"<bdi[^>]*>{arabic_name}</bdi>", ru.text), "the Arabic-script actor is not isolated on the Russian page"
    assert re.search(r"<bdi[^>]*>قضية ١٢</bdi>", ru.text)
