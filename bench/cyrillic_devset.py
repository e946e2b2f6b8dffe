"""A development set of Cyrillic spellings of UN-listed people and organisations, made the way
Russian and Kazakh authorities write them: `python -m bench.cyrillic_devset` (writes
bench/results/cyrillic_devset.jsonl and prints counts).

Deterministic (no randomness beyond a stable hash of each entity id), from the UN list in
../shared/data/un only, and from rules written here from public knowledge of the conventions:

* korean: Korean names (DPRK list) in Russian, from their McCune-Reischauer spelling, by the
  Kontsevich system (Ри Мён Су -> Ли Мён Су, Ch'oe -> Чхве, ŏ/o -> о, ŭ -> ы, ae -> э, final
  ㄹ -> ль, medial -> р) for two thirds of the names, and by older Russian practice (Jong -> Чен,
  Il -> Ир, Song -> Сен, ㅈ -> чж) for the rest; given names written apart, joined or hyphenated.
* russian: Arabic, Pashto, Persian and African names in Russian practice: kh/h -> х, gh -> г,
  j -> дж, q -> к, th -> с, dh -> з, the article аль-/ас-/аш-, established forms (Ibrahim ->
  Ибрагим, Husayn -> Хусейн, Osama -> Усама), French spellings of African names (ch -> ш,
  j -> ж, ou -> у).
* kazakh: the same people in Kazakh practice: Kazakh letters Ә Ғ Қ Ң Ө Ұ Ү Һ І (Ибраһим,
  Мұхаммед, Ғали, Қасым, Әбдірахман), Жүсіп for Yusuf, патронимы -ұлы.
* org_translated_ru / org_translated_kk: organisation names translated word by word into
  Russian (adjectives agreeing with the head noun, "of X" as a genitive, proper names
  transliterated in «») and Kazakh (modifiers first, a possessive suffix on the head noun), plus
  hand-written realistic renderings of well-known listed organisations.
* org_transliterated: organisations whose names are mostly Arabic/Pashto/Korean words,
  transliterated by the Russian rules above (Аль-Каида, Лашкар-е-Тайба).

Independence from the engine: this module is a forward mapping Latin -> Cyrillic with its own
tables (Russian and Kazakh dictionaries of English words with their grammatical forms, MR
syllable tables, Arabic-name conventions); it imports nothing from `qalqan.names` and the engine
never imports it. The engine's side (`qalqan.names.cyrillic`: Cyrillic -> Latin readings;
`qalqan.names.orgwords`: word forms -> concepts) was written separately; where a word form here
is not in the engine's vocabulary, or a convention here is not among the engine's readings,
the query is simply missed.

Each query carries `split`: "dev" (used while developing the engine) or "heldout" (a stable
half of the entities by id hash, looked at only for the final figures).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from bench import common
from qalqan.model import Entity, NameKind, NameQuality


@dataclass(frozen=True)
class DevQuery:
    query: str  # the Cyrillic spelling
    schema: str  # Person / Organization
    target: str  # entity id
    source: str  # the Latin name it was made from
    convention: str  # korean / russian / kazakh / org_translated_ru / org_translated_kk / org_transliterated / org_handwritten
    split: str  # dev / heldout


def _h(text: str, mod: int) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % mod


def split_of(entity_id: str) -> str:
    return "heldout" if _h("split:" + entity_id, 2) else "dev"


def _plain(text: str) -> str:
    """Latin without diacritics, lower case; apostrophes kept (MR aspiration / ŏ ŭ marks)."""
    text = text.replace("’", "'").replace("ʼ", "'").replace("‘", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    for ch in decomposed:
        if ch == "\u0306":  # breve: ŏ ŭ
            out.append("'")
        elif unicodedata.category(ch) != "Mn":
            out.append(ch)
    return "".join(out).lower()


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


# ============================================================================ Korean (Kontsevich)

# Romanised (MR, DPRK practice) onsets -> Kontsevich, word-initial form.
_MR_ONSETS = [
    ("tch", "чч"), ("ch'", "чх"), ("k'", "кх"), ("t'", "тх"), ("p'", "пх"), ("kk", "кк"), ("tt", "тт"),
    ("pp", "пп"), ("ss", "сс"), ("jj", "чч"), ("ch", "ч"), ("kh", "кх"), ("th", "тх"), ("ph", "пх"),
    ("sh", "с"), ("k", "к"), ("g", "к"), ("t", "т"), ("d", "т"), ("p", "п"), ("b", "п"), ("s", "с"),
    ("j", "ч"), ("h", "х"), ("m", "м"), ("n", "н"), ("r", "р"), ("l", "р"), ("", ""),
]
# Vowels (with ' for ŏ/ŭ) -> Kontsevich.
_MR_VOWELS = [
    ("wae", "вэ"), ("yae", "йя"), ("wo'", "во"), ("wo", "во"), ("oe", "ве"), ("wa", "ва"), ("we", "ве"),
    ("wi", "ви"), ("u'i", "ый"), ("ui", "ый"), ("yo'", "ё"), ("ye", "е"), ("yo", "ё"), ("yu", "ю"),
    ("ya", "я"), ("ae", "э"), ("eo", "о"), ("eu", "ы"), ("o'", "о"), ("u'", "ы"), ("a", "а"),
    ("e", "е"), ("o", "о"), ("u", "у"), ("i", "и"),
]
_MR_CODAS = [("ng", "н"), ("n", "н"), ("m", "м"), ("l", "ль"), ("k", "к"), ("p", "п"), ("t", "т"), ("", "")]
# Syllables that, written without breves, are most often ŭ (ы) in names: Un, Kun, Sung, Hung, Dung.
_U_BREVE = frozenset("un kun gun sung hung dung tung nung rung ul kul".split())
_SURNAMES = {
    "ri": "Ли", "rhee": "Ли", "lee": "Ли", "yi": "Ли", "i": "Ли", "kim": "Ким", "pak": "Пак", "park": "Пак",
    "choe": "Чхве", "choi": "Чхве", "ch'oe": "Чхве", "jon": "Чон", "chon": "Чон", "jong": "Чон", "chong": "Чон",
    "o": "О", "oh": "О", "kang": "Кан", "yun": "Юн", "han": "Хан", "jang": "Чан", "chang": "Чан",
    "so": "Со", "song": "Сон", "mun": "Мун", "ko": "Ко", "hyon": "Хён", "ra": "Ра", "hwang": "Хван",
    "ju": "Чу", "chu": "Чу", "jo": "Чо", "cho": "Чо", "paek": "Пэк", "ryu": "Рю", "kwon": "Квон", "sin": "Син",
    "shin": "Син", "yang": "Ян", "ji": "Чи", "thae": "Тхэ", "ho": "Хо", "an": "Ан", "nam": "Нам", "om": "Ом",
}
# Older Russian practice (Ким Чен Ир, Ким Ир Сен): the syllables it writes otherwise.
_TRADITIONAL = {"jong": "чен", "chong": "чен", "il": "ир", "song": "сен", "sung": "сен", "jin": "чжин", "ju": "чжу"}


def _mr_syllables(word: str) -> list[str] | None:
    """Split one romanised Korean word (apostrophes kept) into syllables, greedy onset-vowel-coda,
    a coda taken only when no vowel follows it."""
    out: list[str] = []
    i = 0
    w = word
    while i < len(w):
        for onset, _ in _MR_ONSETS:
            if w.startswith(onset, i):
                j = i + len(onset)
                vowel = next((v for v, _ in _MR_VOWELS if w.startswith(v, j)), None)
                if vowel is None:
                    continue
                k = j + len(vowel)
                coda = ""
                for c, _ in _MR_CODAS:
                    if c and w.startswith(c, k):
                        rest = w[k + len(c) :].lstrip("'-")
                        if not rest or not any(rest.startswith(v) for v, _ in _MR_VOWELS):
                            coda = c
                            break
                        if c == "ng":  # ng before a vowel is still the coda (Yongsan)
                            coda = c
                            break
                out.append(w[i : k + len(coda)])
                i = k + len(coda)
                while i < len(w) and w[i] in "'-":
                    i += 1
                break
        else:
            return None
    return out


def _kontsevich_syllable(syl: str, traditional: bool) -> str:
    if traditional and syl.replace("'", "") in _TRADITIONAL:
        return _TRADITIONAL[syl.replace("'", "")]
    onset = next(o for o, _ in _MR_ONSETS if syl.startswith(o) and any(syl.startswith(v, len(o)) for v, _ in _MR_VOWELS))
    rest = syl[len(onset) :]
    vowel = next(v for v, _ in _MR_VOWELS if rest.startswith(v))
    coda = rest[len(vowel) :]
    cyr_onset = dict(_MR_ONSETS)[onset]
    cyr_vowel = dict(_MR_VOWELS)[vowel]
    if vowel == "u" and syl in _U_BREVE:
        cyr_vowel = "ы"
    if onset == "" and vowel == "oe":
        cyr_vowel = "ве"
    if cyr_onset in ("ч", "чх", "с") and cyr_vowel == "ё":
        cyr_vowel = "ё"
    return cyr_onset + cyr_vowel + dict(_MR_CODAS)[coda]


def korean_cyrillic(name: str, key: str) -> str | None:
    """A Korean name (family name first) in Russian, or None if it is not syllable-parsable."""
    words = [w for w in re.split(r"[\s,]+", _plain(name)) if w]
    if not 2 <= len(words) <= 4:
        return None
    traditional = _h("trad:" + key, 3) == 0
    style = _h("style:" + key, 10)  # 0-6 apart, 7-8 joined, 9 hyphenated
    family, given = words[0], words[1:]
    fam = _SURNAMES.get(family.replace("'", "")) or _SURNAMES.get(family)
    if fam is None:
        syl = _mr_syllables(family)
        if not syl or len(syl) > 1:
            return None
        fam = _cap(_kontsevich_syllable(syl[0], traditional))
    syllables: list[str] = []
    for g in given:
        syl = _mr_syllables(g)
        if not syl:
            return None
        syllables.extend(syl)
    if not 1 <= len(syllables) <= 3:
        return None
    parts = [_kontsevich_syllable(s, traditional) for s in syllables]
    if style <= 6 or len(parts) == 1:
        given_text = " ".join(_cap(p) for p in parts)
    elif style <= 8:
        given_text = _cap("".join(parts))
    else:
        given_text = "-".join([_cap(parts[0]), *parts[1:]])
    return f"{fam} {given_text}"


# ============================================================================ Arabic / Pashto / African names in Russian

_RU_ESTABLISHED = {
    "muhammad": "Мухаммад", "mohammad": "Мохаммад", "mohammed": "Мохаммед", "muhammed": "Мухаммед",
    "mohamed": "Мохамед", "ahmad": "Ахмад", "ahmed": "Ахмед", "ibrahim": "Ибрагим", "husayn": "Хусейн",
    "hussein": "Хусейн", "husain": "Хусейн", "hussain": "Хусейн", "hasan": "Хасан", "hassan": "Хасан",
    "abdullah": "Абдулла", "abdallah": "Абдалла", "yusuf": "Юсуф", "youssef": "Юсеф", "ismail": "Исмаил",
    "usama": "Усама", "osama": "Усама", "umar": "Умар", "omar": "Омар", "ali": "Али", "khalid": "Халид",
    "abu": "Абу", "bin": "бен", "ibn": "ибн", "bint": "бинт", "haji": "Хаджи", "hajji": "Хаджи",
    "mullah": "мулла", "mulla": "мулла", "sayyid": "Сейид", "sayed": "Саед", "said": "Саид",
    "abdul": "Абдул", "abdel": "Абдель", "jalaluddin": "Джалалуддин", "ayman": "Айман", "musa": "Муса",
    "isa": "Иса", "yahya": "Яхья", "jamal": "Джамаль", "abdelmalek": "Абдельмалек", "mustafa": "Мустафа",
    "mahmoud": "Махмуд", "mahmud": "Махмуд", "uthman": "Усман", "othman": "Осман", "abd": "Абд",
}
_RU_ARTICLE = {"al": "аль", "el": "эль", "as": "ас", "ash": "аш", "ad": "ад", "an": "ан", "ar": "ар", "at": "ат", "az": "аз", "ul": "уль", "ud": "уд", "ur": "ур"}
_RU_DIGRAPHS = [
    ("shch", "щ"), ("kh", "х"), ("gh", "г"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("th", "с"), ("dh", "з"),
    ("ph", "ф"), ("ts", "ц"), ("ee", "и"), ("oo", "у"), ("ou", "у"), ("ya", "я"), ("yu", "ю"), ("yo", "ё"),
    ("ye", "е"), ("ay", "ай"), ("ey", "ей"), ("iy", "ий"), ("oy", "ой"), ("uy", "уй"), ("aw", "ау"),
]
_RU_LETTERS = {
    "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "дж",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с", "t": "т",
    "u": "у", "v": "в", "w": "в", "x": "кс", "y": "й", "z": "з", "'": "",
}
_FRENCH = [("eau", "о"), ("ou", "у"), ("ch", "ш"), ("gn", "нь"), ("ai", "э"), ("au", "о"), ("qu", "к"), ("j", "ж")]
_VOWELS_LAT = frozenset("aeiou")


def _ru_word(word: str, french: bool = False) -> str:
    """One Latin word in Russian letters (lower case)."""
    w = word.lower()
    if w in _RU_ESTABLISHED and not french:
        return _RU_ESTABLISHED[w].lower()
    out: list[str] = []
    i = 0
    table = (_FRENCH + _RU_DIGRAPHS) if french else _RU_DIGRAPHS
    while i < len(w):
        for lat, cyr in table:
            if w.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            c = w[i]
            if c == "e" and (i == 0 or w[i - 1] in _VOWELS_LAT):
                out.append("э")
            elif c == "w" and i > 0 and w[i - 1] in _VOWELS_LAT and (i + 1 == len(w) or w[i + 1] not in _VOWELS_LAT):
                out.append("у")
            elif c == "y" and i > 0 and (i + 1 == len(w) or w[i + 1] not in _VOWELS_LAT) and w[i - 1] not in _VOWELS_LAT:
                out.append("и")
            else:
                out.append(_RU_LETTERS.get(c, c if c.isalpha() else ""))
            i += 1
    return "".join(out)


def russian_cyrillic(name: str, french: bool = False) -> str:
    """A name in Russian practice: article аль- (or assimilated) joined by a hyphen."""
    words = [w for w in re.split(r"[\s,]+", _plain(name).replace("-", " - ")) if w]
    out: list[str] = []
    pending_article = None
    for w in words:
        if w == "-":
            continue
        w = w.replace("'", "")
        if not w:
            continue
        if w in _RU_ARTICLE and not french:
            pending_article = _RU_ARTICLE[w]
            continue
        cyr = _ru_word(w, french)
        if pending_article:
            art = pending_article if out else _cap(pending_article)
            out.append(f"{art}-{_cap(cyr)}")
            pending_article = None
        else:
            out.append(_cap(cyr) if cyr not in ("бен", "ибн", "бинт", "мулла") else cyr)
    return " ".join(out)


# ============================================================================ Kazakh practice

_KK_ESTABLISHED = {
    "muhammad": "Мұхаммед", "mohammad": "Мұхаммед", "mohammed": "Мұхаммед", "muhammed": "Мұхаммед",
    "mohamed": "Мұхамед", "ahmad": "Ахмет", "ahmed": "Ахмет", "ibrahim": "Ибраһим", "husayn": "Хұсайын",
    "hussein": "Хұсайын", "hasan": "Хасан", "hassan": "Хасан", "abdullah": "Абдолла", "abdallah": "Абдолла",
    "yusuf": "Жүсіп", "ismail": "Ысмайыл", "usama": "Ұсама", "osama": "Ұсама", "umar": "Омар", "omar": "Омар",
    "ali": "Әли", "khalid": "Халид", "abu": "Әбу", "haji": "Қажы", "hajji": "Қажы", "abdul": "Әбдул",
    "musa": "Мұса", "isa": "Иса", "yahya": "Яхия", "uthman": "Оспан", "abd": "Әбд", "said": "Саид",
    "mullah": "молда", "mulla": "молда", "karim": "Кәрім", "rahman": "Рахман", "rahim": "Рақым",
    "qasim": "Қасым", "kasim": "Қасым", "ghali": "Ғали", "ghulam": "Ғұлам", "jamal": "Жамал",
}
_KK_DIGRAPHS = [
    ("kh", "х"), ("gh", "ғ"), ("sh", "ш"), ("ch", "ш"), ("zh", "ж"), ("th", "с"), ("dh", "з"), ("ph", "ф"),
    ("ng", "ң"), ("ee", "и"), ("oo", "ұ"), ("ou", "ұ"), ("ya", "я"), ("yu", "ю"), ("ay", "ай"), ("ey", "ей"),
]
_KK_LETTERS = dict(_RU_LETTERS, q="қ", h="һ", j="ж", u="ұ", w="у")


def _kk_word(word: str) -> str:
    w = word.lower()
    if w in _KK_ESTABLISHED:
        return _KK_ESTABLISHED[w].lower()
    out: list[str] = []
    i = 0
    while i < len(w):
        for lat, cyr in _KK_DIGRAPHS:
            if w.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            c = w[i]
            if c == "e" and i == 0:
                out.append("е")
            elif c == "i" and i > 0 and _h(w, 3) == 0:
                out.append("і")  # front i in some words (Кәрім, Әбдірахман)
            elif c == "a" and i == 0 and w.startswith("abd"):
                out.append("ә")
            else:
                out.append(_KK_LETTERS.get(c, c if c.isalpha() else ""))
            i += 1
    return "".join(out)


def kazakh_cyrillic(name: str) -> str:
    """A name in Kazakh practice; "X bin Y" becomes "X Y-ұлы" (the patronymic suffix)."""
    words = [w.replace("'", "") for w in re.split(r"[\s,\-]+", _plain(name)) if w.replace("'", "")]
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("al", "el", "as", "ash", "ad", "an", "ar", "at", "az", "ul", "ud", "ur") and i + 1 < len(words):
            out.append("әл-" + _cap(_kk_word(words[i + 1])))
            i += 2
            continue
        if w in ("bin", "ibn") and i + 1 < len(words):
            out.append(_cap(_kk_word(words[i + 1])) + "ұлы")
            i += 2
            continue
        out.append(_cap(_kk_word(w)))
        i += 1
    return " ".join(out)


# ============================================================================ organisations

# English word -> Russian: ("a", adjective stem, declension) and/or ("n", nominative, genitive, gender).
# Adjective declension: "h" hard (ый/ая/ое/ые), "k" after к/г/х/ш/щ/ж/ч (ий/ая/ое/ие), "s" soft (ий/яя/ее/ие),
# "j" ш/щ-stem (ий/ая/ее/ие).
_RU_ADJ_ENDINGS = {"h": ("ый", "ая", "ое", "ые"), "k": ("ий", "ая", "ое", "ие"), "s": ("ий", "яя", "ее", "ие"), "j": ("ий", "ая", "ее", "ие")}
_RU_DICT: dict[str, dict[str, tuple[str, ...]]] = {
    "korea": {"a": ("корейск", "k"), "n": ("Корея", "Кореи", "f")},
    "korean": {"a": ("корейск", "k")},
    "dprk": {"n": ("КНДР", "КНДР", "f")},
    "mining": {"a": ("горнодобывающ", "j")},
    "development": {"n": ("развитие", "развития", "n")},
    "trading": {"a": ("торгов", "h"), "n": ("торговля", "торговли", "f")},
    "trade": {"a": ("торгов", "h"), "n": ("торговля", "торговли", "f")},
    "corporation": {"n": ("корпорация", "корпорации", "f")},
    "company": {"n": ("компания", "компании", "f")},
    "co": {"n": ("компания", "компании", "f")},
    "companies": {"n": ("компании", "компаний", "p")},
    "bank": {"n": ("банк", "банка", "m")},
    "banking": {"a": ("банковск", "k")},
    "general": {"a": ("генеральн", "h")},
    "group": {"n": ("группа", "группы", "f")},
    "commercial": {"a": ("коммерческ", "k")},
    "credit": {"a": ("кредитн", "h")},
    "export": {"a": ("экспортн", "h"), "n": ("экспорт", "экспорта", "m")},
    "import": {"a": ("импортн", "h"), "n": ("импорт", "импорта", "m")},
    "external": {"a": ("внешн", "s")},
    "foreign": {"a": ("внешн", "s")},
    "technology": {"a": ("технологическ", "k"), "n": ("технология", "технологий", "f")},
    "technical": {"a": ("техническ", "k")},
    "machinery": {"a": ("машиностроительн", "h")},
    "joint": {"a": ("совместн", "h")},
    "venture": {"n": ("предприятие", "предприятия", "n")},
    "international": {"a": ("международн", "h")},
    "chemical": {"a": ("химическ", "k")},
    "chemicals": {"a": ("химическ", "k")},
    "equipment": {"n": ("оборудование", "оборудования", "n")},
    "complex": {"a": ("комплексн", "h")},
    "shipping": {"a": ("судоходн", "h")},
    "marine": {"a": ("морск", "k")},
    "maritime": {"a": ("морск", "k")},
    "ocean": {"a": ("океанск", "k")},
    "management": {"n": ("управление", "управления", "n")},
    "united": {"a": ("объединённ", "h")},
    "national": {"a": ("национальн", "h")},
    "insurance": {"a": ("страхов", "h")},
    "academy": {"n": ("академия", "академии", "f")},
    "natural": {"a": ("естественн", "h")},
    "sciences": {"n": ("науки", "наук", "p")},
    "science": {"n": ("наука", "науки", "f")},
    "defense": {"a": ("оборонн", "h"), "n": ("оборона", "обороны", "f")},
    "defence": {"a": ("оборонн", "h"), "n": ("оборона", "обороны", "f")},
    "second": {"a": ("втор", "o")},
    "first": {"a": ("перв", "h")},
    "atomic": {"a": ("атомн", "h")},
    "energy": {"n": ("энергия", "энергии", "f")},
    "industry": {"a": ("промышленн", "h"), "n": ("промышленность", "промышленности", "f")},
    "industries": {"a": ("промышленн", "h")},
    "industrial": {"a": ("промышленн", "h")},
    "ministry": {"n": ("министерство", "министерства", "n")},
    "department": {"n": ("департамент", "департамента", "m")},
    "bureau": {"n": ("бюро", "бюро", "n")},
    "committee": {"n": ("комитет", "комитета", "m")},
    "space": {"a": ("космическ", "k")},
    "aerospace": {"a": ("аэрокосмическ", "k")},
    "administration": {"n": ("управление", "управления", "n")},
    "economic": {"a": ("экономическ", "k")},
    "reconnaissance": {"a": ("разведывательн", "h")},
    "military": {"a": ("военн", "h")},
    "strategic": {"a": ("стратегическ", "k")},
    "rocket": {"a": ("ракетн", "h")},
    "force": {"n": ("силы", "сил", "p")},
    "forces": {"n": ("силы", "сил", "p")},
    "army": {"n": ("армия", "армии", "f")},
    "people": {"a": ("народн", "h")},
    "islamic": {"a": ("исламск", "k")},
    "islam": {"n": ("ислам", "ислама", "m")},
    "foundation": {"n": ("фонд", "фонда", "m")},
    "fund": {"n": ("фонд", "фонда", "m")},
    "charitable": {"a": ("благотворительн", "h")},
    "movement": {"n": ("движение", "движения", "n")},
    "front": {"n": ("фронт", "фронта", "m")},
    "liberation": {"n": ("освобождение", "освобождения", "n")},
    "army's": {"n": ("армия", "армии", "f")},
    "brigade": {"n": ("бригада", "бригады", "f")},
    "brigades": {"n": ("бригады", "бригад", "p")},
    "battalion": {"n": ("батальон", "батальона", "m")},
    "organization": {"n": ("организация", "организации", "f")},
    "society": {"n": ("общество", "общества", "n")},
    "union": {"n": ("союз", "союза", "m")},
    "party": {"n": ("партия", "партии", "f")},
    "council": {"n": ("совет", "совета", "m")},
    "center": {"n": ("центр", "центра", "m")},
    "centre": {"n": ("центр", "центра", "m")},
    "institute": {"n": ("институт", "института", "m")},
    "research": {"a": ("исследовательск", "k")},
    "aid": {"n": ("помощь", "помощи", "f")},
    "relief": {"n": ("помощь", "помощи", "f")},
    "humanitarian": {"a": ("гуманитарн", "h")},
    "revival": {"n": ("возрождение", "возрождения", "n")},
    "heritage": {"n": ("наследие", "наследия", "n")},
    "youth": {"a": ("молодёжн", "h")},
    "supporters": {"n": ("сторонники", "сторонников", "p")},
    "soldiers": {"n": ("солдаты", "солдат", "p")},
    "martyrs": {"n": ("мученики", "мучеников", "p")},
    "emigrants": {"n": ("эмигранты", "эмигрантов", "p")},
    "network": {"n": ("сеть", "сети", "f")},
    "exchange": {"a": ("обменн", "h"), "n": ("обмен", "обмена", "m")},
    "money": {"a": ("денежн", "h")},
    "investment": {"a": ("инвестиционн", "h")},
    "oil": {"a": ("нефтян", "h")},
    "electronics": {"n": ("электроника", "электроники", "f")},
    "office": {"n": ("бюро", "бюро", "n")},
    "east": {"a": ("восточн", "h"), "n": ("Восток", "Востока", "m")},
    "eastern": {"a": ("восточн", "h")},
    "west": {"a": ("западн", "h")},
    "north": {"a": ("северн", "h")},
    "south": {"a": ("южн", "h")},
    "land": {"n": ("земля", "земли", "f")},
    "sea": {"n": ("море", "моря", "n")},
    "world": {"a": ("всемирн", "h")},
    "global": {"a": ("глобальн", "h")},
    "state": {"a": ("государственн", "h"), "n": ("государство", "государства", "n")},
    "province": {"n": ("провинция", "провинции", "f")},
    "holy": {"a": ("свят", "h")},
    "jihad": {"n": ("джихад", "джихада", "m")},
    "iraq": {"n": ("Ирак", "Ирака", "m"), "a": ("иракск", "k")},
    "pakistan": {"n": ("Пакистан", "Пакистана", "m"), "a": ("пакистанск", "k")},
    "afghan": {"a": ("афганск", "k")},
    "libyan": {"a": ("ливийск", "k")},
    "egyptian": {"a": ("египетск", "k")},
    "algeria": {"n": ("Алжир", "Алжира", "m")},
    "yemen": {"n": ("Йемен", "Йемена", "m")},
    "arabian": {"a": ("аравийск", "k")},
    "peninsula": {"n": ("полуостров", "полуострова", "m")},
    "levant": {"n": ("Левант", "Леванта", "m")},
    "caliphate": {"n": ("халифат", "халифата", "m")},
    "welfare": {"n": ("благосостояние", "благосостояния", "n")},
    "education": {"n": ("образование", "образования", "n")},
    "medical": {"a": ("медицинск", "k")},
    "engineering": {"a": ("инженерн", "h")},
    "factory": {"n": ("завод", "завода", "m")},
    "plant": {"n": ("завод", "завода", "m")},
    "manufacturing": {"a": ("производственн", "h")},
    "metallurgy": {"n": ("металлургия", "металлургии", "f")},
    "nuclear": {"a": ("ядерн", "h")},
    "special": {"a": ("специальн", "h")},
    "new": {"a": ("нов", "h")},
    "great": {"a": ("велик", "k")},
    "greater": {"a": ("велик", "k")},
    "agency": {"n": ("агентство", "агентства", "n")},
    "central": {"a": ("центральн", "h")},
    "commission": {"n": ("комиссия", "комиссии", "f")},
    "workers": {"n": ("труда", "труда", "n")},
    "electric": {"a": ("электрическ", "k")},
}
_RU_STOP = {"of", "the", "and", "for", "in", "&"}
_RU_GENDER_INDEX = {"m": 0, "f": 1, "n": 2, "p": 3}


def _ru_adj(stem: str, decl: str, gender: str) -> str:
    if decl == "o":  # второй / вторая / второе / вторые
        return stem + ("ой", "ая", "ое", "ые")[_RU_GENDER_INDEX[gender]]
    return stem + _RU_ADJ_ENDINGS[decl][_RU_GENDER_INDEX[gender]]


def _org_words(name: str) -> list[str]:
    name = re.sub(r"\([^)]*\)", " ", name)
    name = name.replace("’", "'").replace("'S", "").replace("'s", "")
    return [w for w in re.split(r"[\s,.\-/]+", name.lower()) if w and w not in ("ltd", "limited", "llc", "inc", "jv", "co.")]


def _translit_org_word(word: str) -> str:
    return _cap(_ru_word(word))


def russian_translation(name: str) -> tuple[str, int, int] | None:
    """A word-by-word Russian translation: (text, translated words, words). The head noun is the
    last dictionary noun before "of"/"for" (or the last one); words before it that have an
    adjective agree with it, nouns before it follow it in the genitive, unknown words are proper
    names transliterated in «» after the head; "of X" follows as a genitive."""
    words = _org_words(name)
    if not words:
        return None
    cut = next((i for i, w in enumerate(words) if w in ("of", "for")), len(words))
    main, tail = words[:cut], [w for w in words[cut + 1 :] if w not in _RU_STOP]
    main = [w for w in main if w not in _RU_STOP]
    heads = [i for i, w in enumerate(main) if "n" in _RU_DICT.get(w, {})]
    if not heads:
        return None
    h = heads[-1]
    nom, _gen, gender = _RU_DICT[main[h]]["n"]
    before: list[str] = []
    after: list[str] = []
    proper: list[str] = []
    translated = 1
    for w in main[:h] + main[h + 1 :]:
        entry = _RU_DICT.get(w)
        if entry and "a" in entry:
            stem, decl = entry["a"]
            before.append(_ru_adj(stem, decl, gender))
            translated += 1
        elif entry and "n" in entry:
            after.append(entry["n"][1])
            translated += 1
        elif w.isdigit():
            after.append(w)
        else:
            proper.append(_translit_org_word(w))
    genitive: list[str] = []
    for w in tail:
        entry = _RU_DICT.get(w)
        if entry and "n" in entry:
            genitive.append(entry["n"][1])
            translated += 1
        elif entry and "a" in entry:
            stem, decl = entry["a"]
            genitive.append(stem + {"h": "ого", "k": "ого", "s": "его", "j": "его", "o": "ого"}[decl])
            translated += 1
        else:
            genitive.append(_translit_org_word(w))
    parts = [*before, nom, *after, *genitive]
    text = " ".join(parts)
    text = text[:1].upper() + text[1:]
    if proper:
        text += " «" + " ".join(proper) + "»"
    return text, translated, len(main) + len(tail)


_KK_DICT = {
    "korea": "Корея", "korean": "Корея", "dprk": "КХДР", "mining": "тау-кен", "development": "даму", "trading": "сауда",
    "trade": "сауда", "corporation": "корпорация", "company": "компания", "co": "компания", "bank": "банк",
    "banking": "банк", "general": "бас", "group": "топ", "commercial": "коммерциялық", "credit": "несие",
    "export": "экспорт", "import": "импорт", "external": "сыртқы", "foreign": "сыртқы", "technology": "технология",
    "technical": "техникалық", "machinery": "машина жасау", "joint": "бірлескен", "venture": "кәсіпорын",
    "international": "халықаралық", "chemical": "химия", "equipment": "жабдық", "shipping": "кеме",
    "marine": "теңіз", "maritime": "теңіз", "united": "біріккен", "national": "ұлттық", "insurance": "сақтандыру",
    "academy": "академия", "natural": "табиғи", "sciences": "ғылымдар", "science": "ғылым", "defense": "қорғаныс",
    "defence": "қорғаныс", "second": "екінші", "first": "бірінші", "atomic": "атом", "energy": "энергия",
    "industry": "өнеркәсіп", "industries": "өнеркәсіп", "industrial": "өнеркәсіптік", "ministry": "министрлік",
    "department": "департамент", "bureau": "бюро", "committee": "комитет", "space": "ғарыш",
    "economic": "экономикалық", "military": "әскери", "strategic": "стратегиялық", "army": "армия",
    "islamic": "ислам", "foundation": "қор", "movement": "қозғалыс", "front": "майдан", "liberation": "азаттық",
    "organization": "ұйым", "society": "қоғам", "union": "одақ", "party": "партия", "council": "кеңес",
    "center": "орталық", "centre": "орталық", "institute": "институт", "research": "зерттеу", "aid": "көмек",
    "relief": "көмек", "youth": "жастар", "soldiers": "сарбаздар", "network": "желі", "exchange": "айырбас",
    "money": "ақша", "investment": "инвестициялық", "oil": "мұнай", "east": "шығыс", "eastern": "шығыс",
    "west": "батыс", "north": "солтүстік", "south": "оңтүстік", "land": "жер", "sea": "теңіз", "world": "әлем",
    "state": "мемлекеттік", "jihad": "жиһад", "holy": "қасиетті", "new": "жаңа", "brigade": "бригада",
    "battalion": "батальон", "electronics": "электроника", "medical": "медициналық", "nuclear": "ядролық",
    "special": "арнайы", "agency": "агенттік", "central": "орталық", "commission": "комиссия",
    "people": "халық", "rocket": "зымыран", "force": "күштер", "forces": "күштер", "complex": "кешенді",
}
_KK_FRONT = frozenset("әеөүі")
_KK_VOWELS = frozenset("аәеиоөұүыіуэюя")


def _kk_possessive(word: str) -> str:
    """The 3rd-person possessive suffix of a Kazakh head noun (корпорациясы, банкі, қоры)."""
    last_vowel = next((c for c in reversed(word) if c in _KK_VOWELS), "а")
    front = last_vowel in _KK_FRONT or (last_vowel == "и" and any(c in _KK_FRONT for c in word))
    if word[-1] in _KK_VOWELS:
        return word + ("сі" if front else "сы")
    if word.endswith("к") and front:
        return word[:-1] + "гі"
    if word.endswith("қ"):
        return word[:-1] + "ғы"
    return word + ("і" if front else "ы")


def kazakh_translation(name: str) -> tuple[str, int, int] | None:
    """A word-by-word Kazakh translation: modifiers first, in the English order (Kazakh puts the
    modifier before the head, as English does), "of X" moved in front, the head noun with a
    possessive suffix when a noun modifies it; unknown words transliterated."""
    words = _org_words(name)
    cut = next((i for i, w in enumerate(words) if w in ("of", "for")), len(words))
    main = [w for w in words[:cut] if w not in _RU_STOP]
    tail = [w for w in words[cut + 1 :] if w not in _RU_STOP]
    seq = tail + main
    if not seq or seq[-1] not in _KK_DICT:
        return None
    translated = 0
    out: list[str] = []
    for w in seq:
        if w in _KK_DICT:
            out.append(_KK_DICT[w])
            translated += 1
        elif w.isdigit():
            out.append(w)
        else:
            out.append(_cap(_ru_word(w)))
    if len(out) >= 2:
        out[-1] = _kk_possessive(out[-1])
    text = " ".join(out)
    return text[:1].upper() + text[1:], translated, len(seq)


# Hand-written realistic renderings (as Russian / Kazakh official texts write these bodies),
# keyed by the listed name they render.
HANDWRITTEN: list[tuple[str, str]] = [
    ("KOREA MINING DEVELOPMENT TRADING CORPORATION", "Корейская горнодобывающая торговая корпорация"),
    ("KOREA MINING DEVELOPMENT TRADING CORPORATION", "Корейская торговая корпорация по развитию горнодобывающей промышленности"),
    ("KOREA RYONBONG GENERAL CORPORATION", "Корейская генеральная корпорация «Рёнбон»"),
    ("TANCHON COMMERCIAL BANK", "Коммерческий банк «Танчхон»"),
    ("KOREAN TANGUN TRADING CORPORATION", "Корейская торговая корпорация «Тангун»"),
    ("GREEN PINE ASSOCIATED CORPORATION", "Ассоциированная корпорация «Грин Пайн»"),
    ("KOREA HYOKSIN TRADING CORPORATION", "Корейская торговая корпорация «Хёксин»"),
    ("GENERAL BUREAU OF ATOMIC ENERGY (GBAE)", "Главное управление по атомной энергии"),
    ("KOREAN COMMITTEE FOR SPACE TECHNOLOGY", "Корейский комитет по космической технологии"),
    ("BANK OF EAST LAND", "Банк Восточной земли"),
    ("SECOND ACADEMY OF NATURAL SCIENCES", "Вторая академия естественных наук"),
    ("KOREA COMPLEX EQUIPMENT IMPORT CORPORATION", "Корейская корпорация по импорту комплектного оборудования"),
    ("OCEAN MARITIME MANAGEMENT COMPANY, LIMITED (OMM)", "Компания по управлению морскими перевозками «Оушн мэритайм менеджмент»"),
    ("RECONNAISSANCE GENERAL BUREAU", "Главное разведывательное управление"),
    ("SECOND ECONOMIC COMMITTEE", "Второй экономический комитет"),
    ("KOREA UNITED DEVELOPMENT BANK", "Корейский объединенный банк развития"),
    ("FOREIGN TRADE BANK (FTB)", "Банк внешней торговли"),
    ("KOREAN NATIONAL INSURANCE COMPANY (KNIC)", "Корейская национальная страховая компания"),
    ("MINISTRY OF ATOMIC ENERGY INDUSTRY", "Министерство атомной энергетической промышленности"),
    ("MUNITIONS INDUSTRY DEPARTMENT", "Департамент военной промышленности"),
    ("MINISTRY OF NATIONAL DEFENCE", "Министерство национальной обороны"),
    ("KOREA MINING DEVELOPMENT TRADING CORPORATION", "Корея тау-кен өндірісін дамыту сауда корпорациясы"),
    ("FOREIGN TRADE BANK (FTB)", "Сыртқы сауда банкі"),
    ("KOREAN NATIONAL INSURANCE COMPANY (KNIC)", "Корея ұлттық сақтандыру компаниясы"),
    ("MINISTRY OF NATIONAL DEFENCE", "Ұлттық қорғаныс министрлігі"),
    ("SECOND ACADEMY OF NATURAL SCIENCES", "Екінші табиғи ғылымдар академиясы"),
    ("ISLAMIC JIHAD UNION", "Союз исламского джихада"),
    ("ISLAMIC JIHAD UNION", "Ислам жиһады одағы"),
    ("AFGHAN SUPPORT COMMITTEE (ASC)", "Афганский комитет поддержки"),
    ("REVIVAL OF ISLAMIC HERITAGE SOCIETY", "Общество возрождения исламского наследия"),
    ("AL-HARAMAIN ISLAMIC FOUNDATION", "Исламский фонд «Аль-Харамейн»"),
    ("BENEVOLENCE INTERNATIONAL FOUNDATION", "Международный благотворительный фонд"),
    ("ISLAMIC MOVEMENT OF UZBEKISTAN", "Исламское движение Узбекистана"),
    ("ISLAMIC MOVEMENT OF UZBEKISTAN", "Өзбекстан ислам қозғалысы"),
    ("EASTERN TURKISTAN ISLAMIC MOVEMENT", "Исламское движение Восточного Туркестана"),
    ("ISLAMIC ARMY OF IRAQ", "Исламская армия Ирака"),
    ("ISLAMIC INTERNATIONAL BRIGADE (IIB)", "Исламская международная бригада"),
    ("LIBYAN ISLAMIC FIGHTING GROUP", "Ливийская исламская боевая группа"),
    ("MOROCCAN ISLAMIC COMBATANT GROUP", "Марокканская исламская боевая группа"),
    ("TUNISIAN COMBATANT GROUP", "Тунисская боевая группа"),
    ("EGYPTIAN ISLAMIC JIHAD", "Египетский исламский джихад"),
    ("AL-QAIDA IN IRAQ", "Аль-Каида в Ираке"),
    ("ABDALLAH AZZAM BRIGADES (AAB)", "Бригады Абдаллы Аззама"),
    ("ANSAR AL-ISLAM", "Ансар аль-Ислам"),
    ("ANSAR AL-SHARIA IN BENGHAZI", "Ансар аш-Шариа в Бенгази"),
    ("LASHKAR I JHANGVI (LJ)", "Лашкар-и-Джангви"),
    ("JEMAAH ISLAMIYAH", "Джемаа Исламия"),
    ("HARAKAT UL-MUJAHIDIN / HUM", "Харакат уль-Муджахидин"),
]


# ============================================================================ assembling the set

_ARABIC_PROGRAMS = frozenset({"Al-Qaida", "Iraq", "Libya", "Yemen", "Iran", "Taliban", "Somalia", "Sudan"})
_FRENCH_PROGRAMS = frozenset({"DRC", "CAR", "Haiti"})


def _latin_names(entity: Entity, limit: int) -> list[str]:
    out = []
    for n in entity.names:
        if n.kind in (NameKind.PRIMARY, NameKind.ALIAS) and n.quality is NameQuality.GOOD and n.value.isascii():
            value = re.sub(r"\s+", " ", n.value).strip()
            if value and value not in out:
                out.append(value)
        if len(out) >= limit:
            break
    return out


def _person_name(entity: Entity) -> str | None:
    names = _latin_names(entity, 1)
    return names[0] if names else None


def build(entities: list[Entity]) -> list[DevQuery]:
    out: list[DevQuery] = []
    by_name: dict[str, Entity] = {}
    for e in entities:
        for n in e.names:
            by_name.setdefault(n.value.upper(), e)

    def add(query: str | None, e: Entity, source: str, convention: str) -> None:
        if query and any("\u0400" <= c <= "\u04ff" for c in query):
            out.append(DevQuery(query, e.schema, e.id, source, convention, split_of(e.id)))

    for e in entities:
        programs = set(e.programs)
        if e.schema == "Person":
            name = _person_name(e)
            if not name:
                continue
            if "DPRK" in programs or "kp" in e.nationalities:
                for k, alias in enumerate(_latin_names(e, 2)):
                    add(korean_cyrillic(alias, f"{e.id}:{k}"), e, alias, "korean")
                continue
            french = bool(programs & _FRENCH_PROGRAMS)
            add(russian_cyrillic(name, french), e, name, "russian")
            if programs & _ARABIC_PROGRAMS:
                add(kazakh_cyrillic(name), e, name, "kazakh")
            continue
        for name in _latin_names(e, 1):
            ru = russian_translation(name)
            if ru and ru[1] >= 2 and ru[1] / ru[2] >= 0.5:
                add(ru[0], e, name, "org_translated_ru")
                kk = kazakh_translation(name)
                if kk and kk[1] >= 2 and kk[1] / kk[2] >= 0.5:
                    add(kk[0], e, name, "org_translated_kk")
            elif (not ru or ru[1] / max(ru[2], 1) < 0.5) and len(re.sub(r"\([^)]*\)|[^A-Za-z]", "", name)) >= 6:
                add(russian_cyrillic(re.sub(r"\([^)]*\)", " ", name)), e, name, "org_transliterated")
    for listed, rendering in HANDWRITTEN:
        e = by_name.get(listed.upper())
        if e is not None:
            add(rendering, e, listed, "org_handwritten")
    return out


OUT = common.RESULTS_DIR / "cyrillic_devset.jsonl"


def write(queries: list[DevQuery], path: Path = OUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(asdict(q)) + b"\n" for q in queries))
    return path


def main() -> int:
    entities = common.load_list(common.UN_XML).entities
    queries = build(entities)
    path = write(queries)
    counts = Counter((q.convention, q.split) for q in queries)
    for (conv, split), k in sorted(counts.items()):
        print(f"{conv:22s} {split:8s} {k}")
    print(f"{len(queries)} queries -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
