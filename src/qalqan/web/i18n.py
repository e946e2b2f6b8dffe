"""Interface languages: Kazakh, Russian, English and Arabic.

Message catalogues are gettext `.po` files under `web/translations/<lang>/`, one file per area of
the interface (`core.po`, `alerts.po`, ...), all of a language's files merged. Babel reads them
at start-up (`babel.messages.pofile.read_po`): there is no compile step, so a translator edits a
`.po` file and restarts the server. English is the source language: a message missing from a
catalogue is shown in English, never as an empty string.

The language of a page is the user's choice (a cookie, set from the language menu), else the
best match of the browser's `Accept-Language` (Babel's negotiation), else English. Arabic pages
are right to left.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en", "ar")
DEFAULT = "en"
RTL = frozenset({"ar"})
#: Each language's name in itself (the language menu shows these).
NATIVE_NAMES: Mapping[str, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English", "ar": "العربية"}
LANG_COOKIE = "qalqan_lang"
TRANSLATIONS = Path(__file__).parent / "translations"

_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One language's messages: msgid -> msgstr, and plural forms msgid -> [forms]."""

    lang: str
    messages: Mapping[str, str]
    plurals: Mapping[str, tuple[str, ...]]
    plural_rule: Callable[[int], int]

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self.plurals.get(singular)
        if forms:
            index = self.plural_rule(n)
            if 0 <= index < len(forms) and forms[index]:
                return forms[index]
        return singular if n == 1 else plural


def _plural_rule(lang: str) -> Callable[[int], int]:
    """The index of the plural form for n in `lang` (the order the .po headers declare)."""
    if lang == "ru":
        return lambda n: 0 if n % 10 == 1 and n % 100 != 11 else 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2
    if lang == "ar":
        return lambda n: 0 if n == 0 else 1 if n == 1 else 2 if n == 2 else 3 if 3 <= n % 100 <= 10 else 4 if n % 100 >= 11 else 5
    return lambda n: 0 if n == 1 else 1  # English, Kazakh (Kazakh catalogues give both forms alike)


@cache
def catalogue(lang: str) -> Catalogue:
    """The merged catalogue of `lang` (read once per process)."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown interface language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    with _lock:
        for path in sorted((TRANSLATIONS / lang).glob("*.po")):
            with path.open("rb") as fh:
                cat = read_po(fh, locale=lang if lang != "kk" else "kk")
            for msg in cat:
                if not msg.id or msg.fuzzy:
                    continue
                if isinstance(msg.id, (tuple, list)):
                    strings = msg.string if isinstance(msg.string, (tuple, list)) else (msg.string,)
                    forms = tuple(str(f or "") for f in strings)
                    if any(forms):
                        plurals[str(msg.id[0])] = forms
                elif msg.string:
                    messages[str(msg.id)] = str(msg.string)
    return Catalogue(lang, messages, plurals, _plural_rule(lang))


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The interface language: the remembered choice, else the browser's preference, else English."""
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    wanted: list[tuple[str, float]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            wanted.append((tag.replace("_", "-"), q))
    wanted.sort(key=lambda t: -t[1])
    found = Locale.negotiate([t for t, _ in wanted], list(LANGUAGES), sep="-") if wanted else None
    return str(found.language) if found is not None and found.language in LANGUAGES else DEFAULT


@cache
def _territories(lang: str) -> Mapping[str, str]:
    return dict(Locale.parse(lang).territories)


def country_name(code: str, lang: str) -> str | None:
    """The country `code` (ISO 3166 alpha-2, any case) named in `lang` (Babel's CLDR data), or None."""
    return _territories(lang).get(code.upper()) if code and len(code) == 2 else None


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def message_ids() -> dict[str, set[str]]:
    """Every msgid of every language's catalogue (for the completeness test)."""
    return {lang: set(catalogue(lang).messages) | set(catalogue(lang).plurals) for lang in LANGUAGES}
