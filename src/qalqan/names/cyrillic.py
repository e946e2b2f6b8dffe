"""Other Latin readings of a name written in Cyrillic under Russian and Kazakh conventions.

`latinize` reads Cyrillic letter by letter (GOST-like: х -> h, дж -> dzh, Мён -> myon). The lists
spell the same people from the original language, not from Russian, so a Russian spelling made
by another authority's convention can sit far from the list's Latin spelling:

* Korean names in Russian follow the Kontsevich system (or older Russian practice): Ли Мён Су
  is Ri Myong Su, Чхве is Choe, Ким Чен Ын is Kim Jong Un, Ким Ир Сен is Kim Il Sung. Kontsevich
  writes both final ㄴ and ㅇ as н (Мён = Myong, Сон = Song or Son), ㅡ as ы (Ын = Un), ㅐ as э
  (Пэк = Paek), ㅚ as ве (Чхве = Choe), ㅈ as ч or дж and ㅊ as чх (Чон = Jong, Чхоль = Chol),
  final ㄹ as ль or р (Ир = Il). `korean_readings` reads a Cyrillic name syllable by syllable
  back into the romanisation DPRK names are listed in (McCune-Reischauer without diacritics).
* Arabic, Pashto and African names follow Russian practice: х for Arabic ḥ/kh/h and Pashto x,
  г for h in established forms (Ибрагим = Ibrahim), аль-/ас-/аш- for the article, дж for j,
  -ий/-ый endings, ё/э/ъ/ь; Kazakh adds Ә Ғ Қ Ң Ө Ұ Ү Һ І (Ибраһим, Мұхаммед, Ғали).
  `russian_readings` gives the Latin spellings those conventions come from.

Readings are extra spellings of the same name: the caller compares each of them as well as
the ordinary latinised form, and keeps the best. Only names with Cyrillic letters get any.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from qalqan.names.orgwords import rewrite as org_rewrite

__all__ = ["has_cyrillic", "cyrillic_readings", "korean_readings", "russian_readings", "MAX_READINGS"]

#: At most this many readings of one name (Korean n/ng and vowel choices multiply).
MAX_READINGS = 12

_CYRILLIC = re.compile("[\u0400-\u04ff]")


def has_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None


# -- Russian and Kazakh practice ---------------------------------------------------------------

_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Kazakh
    "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
    # Ukrainian / Belarusian / Uzbek letters met in names
    "є": "ye", "ї": "yi", "ў": "u", "ґ": "g", "ј": "j",
}
_VOWEL_LETTERS = frozenset("аеёиоуыэюяәөұүі")
#: The Arabic article as Russian writes it: аль-/ал-, or assimilated (ас-Саид, аш-Шишани, ад-Дин).
_ARTICLE = re.compile(r"(?<![^\W\d_])[аэә](?:ль|л|с|ш|д|т|р|н|з|ц|ль)[-‐‑–](?=[^\W\d_])", re.IGNORECASE)
#: Established Russian and Kazakh forms of Arabic and Persian names whose letters do not lead
#: back to the Latin spelling (Kazakh Жүсіп is Yusuf, Қажы is Haji, Оспан is Uthman / Usman).
ESTABLISHED = {
    "жүсіп": "yusuf", "жусуп": "yusuf", "жусип": "yusuf", "қажы": "haji", "кажы": "haji", "ажы": "haji",
    "оспан": "usman", "осман": "uthman", "ахмет": "ahmad", "ахмед": "ahmad", "молда": "mulla", "мұхаммед": "muhammad",
    "мұхамед": "muhammad", "мухаммед": "muhammad", "магомед": "muhammad", "магомет": "muhammad",
    "мухаммад": "muhammad", "ибраһим": "ibrahim", "ибрагим": "ibrahim", "ыбырайым": "ibrahim",
    "ысмайыл": "ismail", "смайыл": "ismail", "ысқақ": "ishaq", "ыдырыс": "idris", "мұса": "musa",
    "ғали": "ali", "әли": "ali", "ғұсман": "usman", "әбу": "abu", "әбд": "abd", "абд": "abd",
    "хұсайын": "husayn", "құсайын": "husayn", "гусейн": "husayn", "хусейн": "husayn", "ғабдолла": "abdullah",
    "абдолла": "abdullah", "әбділла": "abdullah", "ұсама": "usama", "усама": "usama", "юсуф": "yusuf",
    "рақым": "rahim", "рахим": "rahim", "кәрім": "karim", "ғұлам": "ghulam", "жамал": "jamal",
    "жәлел": "jalal", "жәміл": "jamil", "шәріп": "sharif", "сейид": "sayyid", "сейит": "sayyid",
}
#: Vowels after which Russian and Kazakh у stands for w (Arabic aw, English aw/ow): Ауал = Awal;
#: and before which it does (Arabic wa/wi, English wa/wi/wo; Kazakh writes /w/ so): Уали = Wali.
_W_AFTER = frozenset("аоеэә")
_W_BEFORE = frozenset("аоеэәиі")
#: Russian adjective-like endings of transliterated names (Мухаммадий, Азизий, Табризий).
_ENDINGS = (("ий", "i"), ("ый", "y"), ("ей", "ey"))
#: Kazakh and Kyrgyz patronymics written onto the father's name: Әбдірахманұлы = Abdirakhman uly.
_PATRONYMIC = re.compile(r"([^\W\d_]{3,}?)(ұлы|улы|уулу|қызы|кызы)\b")


def _russian_word(word: str, h_for_g: bool, w_glide: bool = False) -> str:
    """One lower-case Cyrillic word in the Latin letters Russian practice stands for; with
    `w_glide`, у next to a vowel is w (Ауал = Awal, Уали = Wali, Ашуан = Achwan)."""
    out: list[str] = []
    n = len(word)
    i = 0
    ending = next(((cyr, lat) for cyr, lat in _ENDINGS if word.endswith(cyr) and n > len(cyr) + 2), None)
    stop = n - len(ending[0]) if ending else n
    while i < stop:
        c = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        if c == "д" and nxt == "ж":
            out.append("j")
            i += 2
            continue
        if c == "к" and nxt == "с" and h_for_g:
            out.append("x")
            i += 2
            continue
        if h_for_g and c == "х":
            out.append("h")
        elif h_for_g and c == "г" and 0 < i and word[i - 1] in _VOWEL_LETTERS and nxt in _VOWEL_LETTERS:
            out.append("h")  # Ибрагим = Ibrahim, Рагим = Rahim
        elif w_glide and c == "у" and ((0 < i and word[i - 1] in _W_AFTER) or (nxt in _W_BEFORE and (i == 0 or word[i - 1] not in _VOWEL_LETTERS))):
            out.append("w")  # after a vowel (Ауал = Awal, Шауах = Shawakh), before one (Уали = Wali, Джуади = Djwadi)
        elif c == "е" and (i == 0 or word[i - 1] in _VOWEL_LETTERS or word[i - 1] in "ъь"):
            out.append("ye" if not h_for_g else "e")
        else:
            out.append(_LETTERS.get(c, c if c.isascii() else ""))
        i += 1
    if ending:
        out.append(ending[1])
    return "".join(out)


_WORDS = re.compile(r"[^\W\d_]+|\d+")


def russian_readings(name: str) -> tuple[str, ...]:
    """Latin spellings of a Cyrillic name under Russian practice: one reading with kh and the
    letters as written, one with h for х (and for intervocalic г), and that one again with w
    for у next to a vowel; the Arabic article split off."""
    text = _PATRONYMIC.sub(r"\1 \2", _ARTICLE.sub(lambda m: "al ", name.lower()))
    words = _WORDS.findall(text)
    out = []
    for h, glide in ((False, False), (True, False), (True, True)):
        reading = " ".join(
            w if w.isascii() else (ESTABLISHED.get(w) if h else None) or _russian_word(w, h, glide) for w in words
        )
        if reading and reading not in out:
            out.append(reading)
    return tuple(out)


# -- Korean names in Russian (Kontsevich and older practice) ------------------------------------

#: Onsets, longest first, with their romanisation (DPRK McCune-Reischauer, no diacritics).
_ONSETS = (
    ("чх", "ch"), ("кх", "kh"), ("тх", "th"), ("пх", "ph"), ("кк", "kk"), ("тт", "tt"), ("пп", "pp"),
    ("сс", "ss"), ("чч", "jj"), ("дж", "j"), ("чж", "j"), ("к", "k"), ("г", "g"), ("т", "t"),
    ("д", "d"), ("п", "p"), ("б", "b"), ("с", "s"), ("ш", "s"), ("ч", "j|ch"), ("ж", "j"), ("х", "h"),
    ("м", "m"), ("н", "n"), ("р", "r"), ("л", "r"), ("", ""),
)
#: Vowels, longest first: each with its readings, the usual one first.
_VOWELS = (
    ("ый", ("ui",)), ("вэ", ("wae",)), ("ве", ("oe", "we")), ("ва", ("wa",)), ("во", ("wo",)), ("ви", ("wi",)),
    ("я", ("ya",)), ("ё", ("yo",)), ("ю", ("yu",)), ("э", ("ae",)), ("е", ("e", "o", "ye")),
    ("ы", ("u",)), ("а", ("a",)), ("о", ("o",)), ("у", ("u",)), ("и", ("i",)), ("йе", ("ye",)),
)
#: Codas: final н is ㄴ or ㅇ (n / ng), р and ль are ㄹ (l).
_CODAS = (("ль", ("l",)), ("нг", ("ng",)), ("н", ("ng", "n")), ("р", ("l",)), ("к", ("k",)), ("м", ("m",)), ("п", ("p",)), ("т", ("t",)), ("", ("",)))
#: Vowels after which final н is more often ㄴ than ㅇ in names (Un, Jin, Chun, Sun, In).
_N_FIRST = frozenset(("u", "i", "ui", "yu"))

#: Korean family names as Russian writes them (public-knowledge list of the frequent ones), to
#: tell a Korean name from another name that happens to parse as Korean syllables.
KOREAN_SURNAMES = frozenset(
    """ким ли ри пак чхве чой чон чен чо чу кан хан юн чан хван о со сон ко мун рю ю пэк хён ра
    ян син шин квон ом нам ро тхэ ха чха пён кон сим хо ан ку кым но мин пхё чхон ын кван чин
    ли рим им сок соль мо ко тхак хон пхан хам ви пхён кил тон""".split()
)

Syllable = tuple[tuple[str, ...], ...]  # per syllable: its readings, the usual one first


def _onset_vowel(word: str, i: int) -> list[tuple[int, str, tuple[str, ...]]]:
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for cyr, lat in _ONSETS:
        if not word.startswith(cyr, i):
            continue
        j = i + len(cyr)
        for vcyr, vlat in _VOWELS:
            if word.startswith(vcyr, j):
                if vcyr == "е":  # older practice writes ㅓ/ㅕ as е: Чен = Jong, Сен = Song
                    vlat = ("o", "e") if cyr in ("ч", "чх", "ж", "ш", "дж", "чж") else ("e", "o", "yo")
                found.append((j + len(vcyr), lat, vlat))
    return found


@lru_cache(maxsize=20_000)
def _syllables(word: str) -> tuple[tuple[str, ...], ...] | None:
    """The readings of `word` (lower-case Cyrillic) syllable by syllable, or None if it cannot
    be read as Korean syllables (at most 3). Onsets are preferred over codas (Ёнсу = yong su)."""
    best: tuple[tuple[str, ...], ...] | None = None

    def walk(i: int, acc: list[tuple[str, ...]]) -> bool:
        nonlocal best
        if i == len(word):
            best = tuple(acc)
            return True
        if len(acc) == 3:
            return False
        for j, onset, vowels in _onset_vowel(word, i):
            for ccyr, clat in _CODAS:
                if ccyr and not word.startswith(ccyr, j):
                    continue
                k = j + len(ccyr)
                readings: list[str] = []
                for o in onset.split("|"):  # ч is ㅈ: j (DPRK) or ch (McCune-Reischauer)
                    for v in vowels:
                        codas = clat
                        if ccyr == "н" and v in _N_FIRST:
                            codas = ("n", "ng")
                        readings.extend(o + v + c for c in codas)
                if walk(k, [*acc, tuple(dict.fromkeys(readings))]):
                    return True
        return False

    return best if walk(0, []) else None


def korean_readings(name: str) -> tuple[str, ...]:
    """Romanised readings of a Korean name written in Cyrillic (Ли Мён Су -> ri myong su,
    Ким Чен Ын -> kim jong un), most likely first, each syllable a word; () when the name is not
    a Korean name (2 to 4 words, one of them a Korean family name, every word 1 to 3 syllables)."""
    words = _WORDS.findall(name.lower().replace("-", " "))
    if not 2 <= len(words) <= 4 or not any(w in KOREAN_SURNAMES for w in (words[0], words[-1])):
        return ()
    syllables: list[tuple[str, ...]] = []
    for w in words:
        parsed = _syllables(w)
        if parsed is None:
            return ()
        syllables.extend(parsed)
    for k, w in enumerate(words):  # the family name Ли / Ри is Ri (DPRK), Yi or Lee
        if w in ("ли", "ри") and k in (0, len(words) - 1):
            pos = sum(len(_syllables(x) or ()) for x in words[:k])
            syllables[pos] = ("ri",)
    return _combinations(syllables)


def _combinations(choices: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Readings of a name from per-syllable choices, the likeliest (fewest second choices) first."""
    ranked = sorted(
        itertools.islice(itertools.product(*(range(len(c)) for c in choices)), 4096),
        key=lambda pick: (sum(1 for p in pick if p) + sum(pick), pick),
    )
    out: list[str] = []
    for pick in ranked[:MAX_READINGS]:
        out.append(" ".join(c[p] for c, p in zip(choices, pick)))
    return tuple(out)


def _korean_words(text: str) -> str | None:
    """An organisation's name with each Cyrillic word that reads as Korean syllables written as
    one romanised word (Рёнбон -> ryongbong), or None when no word does."""
    changed = False
    out = []
    for w in _WORDS.findall(text.lower()):
        parsed = None if w.isascii() else _syllables(w)
        if parsed and len(parsed) >= 2:
            out.append("".join(s[0] for s in parsed))
            changed = True
        else:
            out.append(w)
    return " ".join(out) if changed else None


@lru_cache(maxsize=20_000)
def cyrillic_readings(name: str, organisation: bool = False) -> tuple[str, ...]:
    """Extra Latin readings of a Cyrillic name (Korean first when it is a Korean name, then
    Russian practice), at most `MAX_READINGS`; () for a name without Cyrillic letters.

    For an organisation, vocabulary words are first rewritten to their concept tokens
    (`orgwords.rewrite`), so the readings keep them, and in the name of a Korean organisation
    the other words are also read as Korean syllables."""
    if not has_cyrillic(name):
        return ()
    if organisation:
        text = org_rewrite(name)
        if not has_cyrillic(text):
            return ()
        found = list(russian_readings(text))
        if {"korea", "dprk"} & set(_WORDS.findall(text)):
            joined = _korean_words(text)
            if joined:
                found.insert(0, joined)
        return tuple(dict.fromkeys(found))
    russian = russian_readings(name)
    korean = korean_readings(name)[: MAX_READINGS - len(russian)]
    return tuple(dict.fromkeys((*korean, *russian)))
