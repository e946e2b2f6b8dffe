"""Any-script name text to one common Latin form: lower-case ASCII words.

Latin with diacritics, Cyrillic (Kazakh letters included), Greek and the other
scripts rigour admits go through `rigour.text.ascii_text`. Arabic script
(Arabic, Persian, Urdu, Pashto letters) gets its own transliterator, because
ICU's consonant skeleton (``mhmd bn ?bd allh``) is far from the English
spellings the lists use (``muhammad bin abd allah``): we infer short vowels
from the matres lectionis and Arabic syllable structure, split the definite
article, read harakat and shadda when present, and look the most frequent
name morphemes up in a small lexicon.

Measured in ``bench/translit_eval.py`` (results in ``bench/results/translit.md``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from rigour.text import ascii_text

__all__ = ["APOSTROPHES", "latinize", "arabic_to_latin"]

#: Entries kept by the memo caches. Names repeat a lot (Muhammad, Ali, Abd ...)
#: and a screening batch reuses them; 2**16 short strings are a few MB.
CACHE_SIZE = 1 << 16

#: Inputs longer than this are not memoised (a 10 MB name field must not pin
#: memory in the cache); they are still transliterated.
MAX_CACHED_LEN = 256

# --- Latin clean-up ---------------------------------------------------------

# Apostrophe-like marks join the letters around them: "Ma'ruf" -> "maruf",
# "Oʻzbek" -> "ozbek". ʿ/ʾ are the scholarly ayn/hamza signs.
APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u02bf\u02be\u0060\u00b4\u2032\u02b9\ua78c"
_DROP_APOSTROPHES: dict[int, str | None] = {ord(c): None for c in APOSTROPHES}

# Kazakh Қ is K in passports (ICAO 9303 national practice) and in the usual
# English spellings (Tokayev, Aktobe, Kassym); rigour renders it Q.
_KAZAKH_FIX = {ord("Қ"): "К", ord("қ"): "к"}
# Uzbek Ў (o'/u): rigour reads a word with Ў as Belarusian and then writes
# и as y ("Uzbekyston"); as У the word keeps the Uzbek/Russian reading.
_UZBEK_FIX = {ord("Ў"): "У", ord("ў"): "у"}

_PRE_LATIN: dict[int, str | None] = dict(_DROP_APOSTROPHES)
_PRE_LATIN.update(_KAZAKH_FIX)
_PRE_LATIN.update(_UZBEK_FIX)

_NON_WORD = re.compile(r"[^a-z0-9]+")


def _finish(text: str) -> str:
    """Lower-case ASCII words separated by single spaces."""
    return " ".join(_NON_WORD.split(text.lower().translate(_DROP_APOSTROPHES))).strip()


# --- Arabic script ----------------------------------------------------------

# Character classes after normalisation (see _ARABIC_NORMALISE).
_WAW = "و"
_YA = "ي"
_TA_MARBUTA = "ة"
_ALIF_MAQSURA = "ى"
_SHADDA = "\u0651"
_SUKUN = "\u0652"
_HARAKAT = {
    "\u064e": "a",  # fatha
    "\u0650": "i",  # kasra
    "\u064f": "u",  # damma
    "\u064b": "a",  # fathatan: names drop the -n of tanwin
    "\u064d": "i",  # kasratan
    "\u064c": "u",  # dammatan
    "\u0670": "a",  # superscript alif (dagger alif)
}

# Consonants and their usual English spelling. ع and ء are consonants that
# write nothing (English spellings drop them or show only their vowel).
_CONSONANTS: dict[str, str] = {
    "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d",
    "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d",
    "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "q", "ك": "k",
    "ل": "l", "م": "m", "ن": "n", "ه": "h", "ء": "",
    # Persian, Urdu, Pashto, Kurdish letters.
    "پ": "p", "چ": "ch", "ژ": "zh", "گ": "g", "ڤ": "v", "ٹ": "t", "ڈ": "d",
    "ڑ": "r", "ں": "n", "ښ": "sh", "ږ": "zh", "ځ": "dz", "څ": "ts", "ټ": "t",
    "ډ": "d", "ړ": "r", "ڼ": "n", "ڭ": "ng", "ڵ": "l", "ڕ": "r", "ۋ": "v",
}

# Variant letters folded onto one form before transliteration. Persian ی and
# ک, Urdu ہ/ھ/ۃ/ے, hamza carriers (their vowel is what English spellings keep).
_ARABIC_NORMALISE = {
    "ی": "ي", "ې": "ي", "ۍ": "ي", "ێ": "ي", "ے": "ي", "ۓ": "ي", "ئ": "ئ",
    "ک": "ك", "ڪ": "ك", "ہ": "ه", "ھ": "ه", "ۃ": "ة", "ە": "ه", "ۀ": "ة",
    "ٱ": "ا", "ٲ": "أ", "ٳ": "إ", "ۆ": "و", "ۇ": "و", "ۉ": "و", "ۏ": "و",
    "ـ": "",  # tatweel (kashida) is only typographic
    "\u0653": "", "\u0654": "", "\u0655": "",  # combining madda/hamza marks
    # Arabic-Indic and Persian digits.
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
}
_ARABIC_NORMALISE_TABLE = str.maketrans(_ARABIC_NORMALISE)


#: Frequent name morphemes whose vowels the rules cannot infer (or infer
#: differently from the dominant English spelling). Keys are normalised Arabic
#: words without harakat; values may hold several tokens. Only morphemes that
#: recur across many names belong here, not individual names.
LEXICON: dict[str, str] = {
    "محمد": "muhammad", "محمود": "mahmud", "احمد": "ahmad", "أحمد": "ahmad",
    "مصطفى": "mustafa", "عبد": "abd", "عبده": "abduh", "الله": "allah", "لله": "allah",
    "عبدالله": "abdullah", "عبدلله": "abdullah", "عبيد": "ubayd", "عبيدة": "ubayda",
    "بن": "bin", "ابن": "ibn", "إبن": "ibn", "بنت": "bint", "ابنة": "ibnat",
    "ابو": "abu", "أبو": "abu", "ابي": "abi", "أبي": "abi", "ابا": "aba", "أبا": "aba",
    "ام": "umm", "أم": "umm", "آل": "al", "ال": "al", "ولد": "ould",
    "حسين": "husayn", "حسن": "hasan", "حسان": "hassan", "عمر": "umar", "عمرو": "amr",
    "عثمان": "uthman", "علي": "ali", "على": "ali", "يوسف": "yusuf", "يونس": "yunus",
    "ابراهيم": "ibrahim", "إبراهيم": "ibrahim", "اسماعيل": "ismail", "إسماعيل": "ismail",
    "اسحاق": "ishaq", "إسحاق": "ishaq", "موسى": "musa", "عيسى": "isa", "يحيى": "yahya",
    "يحيي": "yahya", "زكريا": "zakariya", "سليمان": "sulayman", "داود": "dawud",
    "سعد": "saad", "سعيد": "said", "عزيز": "aziz", "عز": "izz", "عزالدين": "izz al din",
    "زين": "zayn", "زيد": "zayd", "نور": "nur", "الدين": "al din", "دين": "din",
    "شيخ": "shaykh", "الشيخ": "al shaykh", "حاج": "hajj", "الحاج": "al hajj",
    "ملا": "mulla", "مولوي": "mawlawi", "مولانا": "mawlana", "قاري": "qari",
    "عائشة": "aisha", "عايشة": "aisha", "فاطمة": "fatima", "خديجة": "khadija",
    "زينب": "zaynab", "مريم": "maryam", "أمينة": "amina", "امينة": "amina",
    "طه": "taha", "حمزة": "hamza", "حمد": "hamad", "جعفر": "jafar", "معاذ": "muadh",
    "معاوية": "muawiya", "أسامة": "usama", "اسامة": "usama", "أنور": "anwar", "انور": "anwar",
    "أنس": "anas", "انس": "anas", "أيمن": "ayman", "ايمن": "ayman", "أمين": "amin",
    "امين": "amin", "مؤمن": "mumin", "مأمون": "mamun", "رحمن": "rahman",
    "الرحمن": "al rahman", "الرحيم": "al rahim", "حبيب": "habib", "رسول": "rasul",
    "محي": "muhyi", "محيي": "muhyi", "صبري": "sabri", "شكري": "shukri", "فتحي": "fathi",
    "كريم": "karim", "رحيم": "rahim", "سيد": "sayyid", "السيد": "al sayyid",
    "حسيني": "husayni", "عبيدي": "ubaydi", "العبيدي": "al ubaydi",
    "مهدي": "mahdi", "هادي": "hadi", "بكر": "bakr", "أبوبكر": "abu bakr", "ابوبكر": "abu bakr",
    "خان": "khan", "گل": "gul", "زاده": "zada", "جان": "jan", "شاه": "shah",
    "عبدال": "abd al", "امام": "imam", "إمام": "imam", "نصر": "nasr", "نصرالله": "nasrallah",
}

# Joined forms: عبدالرحمن -> abd al rahman, ابوبكر -> abu bakr. Split only in
# front of a following article (عبدال...) or a known morpheme, never inside
# arbitrary words.
_PREFIX_BEFORE_ARTICLE = ("عبد", "ابو", "أبو", "بو")


def _normalise_arabic(word: str) -> str:
    word = unicodedata.normalize("NFKC", word)  # presentation forms, ligatures
    return word.translate(_ARABIC_NORMALISE_TABLE)


# Unit kinds.
_C = 0  # consonant
_V = 1  # long vowel written with a letter
_S = 3  # short vowel: a haraka, or the vowel of a word-initial alif
_D = 4  # digit
_CC = 5  # consonant closed by an explicit sukun (no vowel follows)


# Combining marks that occur in Arabic-script text (harakat, Quranic marks).
_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u08d3-\u08ff]")


def _units(word: str) -> list[tuple[int, str, bool]]:
    """Split a normalised Arabic word into (kind, latin, doubled) units.

    Vowel letters are resolved here: و/ي are consonants word-initially, after
    a vowel, or before a vowel letter; elsewhere they are the long vowels u/i.
    Harakat become explicit vowels; shadda doubles the preceding consonant.
    """
    units: list[tuple[int, str, bool]] = []
    letters = word
    n = len(letters)
    # Most names carry no marks; then the look-ahead below is one letter.
    marked = _MARKS.search(word) is not None
    i = 0
    while i < n:
        c = letters[i]
        if not marked:
            pass
        elif c in _HARAKAT:
            # An explicit short vowel; it replaces the one we would infer,
            # unless it only announces the long vowel letter that follows
            # (fatha + alif, damma + waw, kasra + ya without a mark of their own).
            k = i + 1
            while k < n and letters[k] == _SHADDA:
                k += 1
            after = letters[k] if k < n else ""
            bare_after = k + 1 >= n or letters[k + 1] not in _HARAKAT and letters[k + 1] != _SHADDA
            if (c == "\u064e" and after in ("ا", _ALIF_MAQSURA)) or (
                bare_after and (c, after) in (("\u064f", _WAW), ("\u0650", _YA))
            ):
                i += 1
                continue
            units.append((_S, _HARAKAT[c], False))
            i += 1
            continue
        elif c == _SHADDA:
            # Canonical order puts a haraka before the shadda (ccc 30 < 33),
            # so the consonant may be one unit back.
            back = -2 if len(units) >= 2 and units[-1][0] == _S else -1
            if units and units[back][0] == _C:
                k, lat, _ = units[back]
                units[back] = (k, lat, True)
            i += 1
            continue
        elif c == _SUKUN:
            if units and units[-1][0] == _C:
                units[-1] = (_CC, units[-1][1], units[-1][2])
            i += 1
            continue
        if marked and unicodedata.category(c) == "Mn":
            i += 1
            continue
        # Skip marks when peeking at the next letter.
        j = i + 1
        while marked and j < n and (letters[j] in _HARAKAT or letters[j] in (_SHADDA, _SUKUN)):
            j += 1
        nxt = letters[j] if j < n else ""
        prev_kind = units[-1][0] if units else None
        if c in ("ا", "آ", "أ", "إ"):
            if not units:
                if c == "إ":
                    units.append((_V, "i", False))
                elif c == "آ":
                    units.append((_V, "a", False))
                else:
                    # Initial bare alif carries a hamza; before C C + long
                    # vowel it is usually i- (ibrahim, ismail, iqbal, islam).
                    units.append((_V, _initial_alif_vowel(letters, i), False))
                # A word-initial alif is a hamza with a short vowel (open syllable).
                units[-1] = (_S, units[-1][1], False)
            elif c == "إ":
                units.append((_C, "", False))
                units.append((_V, "i", False))
            elif c == "أ" and prev_kind == _C:
                # Medial hamza on alif: mas'ul, ma'mun -> a short a + glottal stop.
                units.append((_V, "a", False))
            elif c == "آ":
                units.append((_C, "", False))
                units.append((_V, "a", False))
            else:
                if prev_kind in (_V, _S):
                    # Alif after a vowel carries a hamza (e.g. وائل wa'il).
                    units.append((_C, "", False))
                units.append((_V, "a", False))
        elif (
            c == _YA
            and len(units) == 1
            and units[0][0] == _C
            and j + 1 < n
            and letters[j] in _CONSONANTS
            and letters[j + 1] in _CONSONANTS
        ):
            # CayCaC: faysal, haydar, zaynab, qaysar (ya as the diphthong ay).
            units.append((_S, "a", False))
            units.append((_C, "y", False))
        elif c in (_WAW, _YA, "ؤ", "ئ"):
            base = {"ؤ": _WAW, "ئ": _YA}.get(c, c)
            doubled = j > i + 1 and any(letters[k] == _SHADDA for k in range(i + 1, j))
            explicit = next((letters[k] for k in range(i + 1, j) if letters[k] in _HARAKAT), None) if j > i + 1 else None
            if c in ("ؤ", "ئ"):
                # Hamza carrier: a glottal stop with its vowel (wa'il, mu'min).
                if prev_kind in (_V, _S):
                    units.append((_C, "", False))
                units.append((_V, "u" if base == _WAW else "i", False))
            elif not units or prev_kind in (_V, _S) or nxt in ("ا", "آ", _TA_MARBUTA, _ALIF_MAQSURA) or doubled or explicit:
                units.append((_C, "w" if base == _WAW else "y", doubled))
                if explicit:
                    units.append((_V, _HARAKAT[explicit], False))
                i = j
                continue
            else:
                units.append((_V, "u" if base == _WAW else "i", False))
        elif c == _TA_MARBUTA:
            units.append((_V, "a", False))
        elif c == _ALIF_MAQSURA:
            units.append((_V, "a", False))
        elif c in _CONSONANTS:
            units.append((_C, _CONSONANTS[c], False))
        elif c.isdigit():
            units.append((_D, c, False))
        else:
            # Letters we do not know (rare extended Arabic): let ascii_text try.
            units.append((_C, _NON_WORD.sub("", ascii_text(c).lower()), False))
        i += 1
    return units


def _initial_alif_vowel(letters: str, i: int) -> str:
    rest = [c for c in letters[i + 1 :] if c not in _HARAKAT and c not in (_SHADDA, _SUKUN)]
    if len(rest) >= 3 and rest[0] in _CONSONANTS and rest[1] in _CONSONANTS and rest[2] in ("ا", "ي", "و"):
        return "i"
    return "a"


def _vocalise(units: list[tuple[int, str, bool]]) -> str:
    """Insert the short vowels Arabic does not write, syllable by syllable.

    Arabic syllables are CV, CVV or CVC: a consonant followed by a vowel opens
    a syllable; a consonant after an open short syllable closes it; any other
    consonant needs a vowel of its own (a, or i after a long a as in the
    active-participle pattern khalid, hamid, tahir). A final two-consonant
    cluster after a short vowel is split with a (hasan, fahad, saad); after
    a long u/i it is kept (akhund, dost). A sukun closes a syllable outright.
    Each rule was kept only where bench/translit_eval.py showed a gain.
    """
    out: list[str] = []
    # State of the previous emitted segment: "start", "short" (open short
    # syllable we can close), "coda" (closed), "long_a", "long" (other long).
    state = "start"
    n = len(units)
    for idx, (kind, lat, doubled) in enumerate(units):
        if kind == _D:
            out.append(lat)
            state = "start"
            continue
        if kind in (_V, _S):
            out.append(lat)
            state = "short" if kind == _S else ("long_a" if lat == "a" else "long")
            continue
        if kind == _CC:
            out.append(lat)
            state = "closed"
            continue
        # Consonant.
        nxt = units[idx + 1] if idx + 1 < n else None
        followed_by_vowel = nxt is not None and nxt[0] in (_V, _S)
        if doubled:
            # Shadda: the first copy closes the previous syllable.
            if state == "start":
                out.append(lat + "a")
            out.append(lat)
            if followed_by_vowel:
                out.append(lat)
                state = "onset"
                continue
            out.append(lat + "a")
            state = "short"
            continue
        if followed_by_vowel:
            out.append(lat)
            state = "onset"
            continue
        if nxt is None:
            if state == "coda":
                # Final cluster after a short vowel: hasan, fahad, saad.
                out.append("a" + lat)
            else:
                out.append(lat)
            state = "coda"
            continue
        # Followed by another consonant.
        if state == "long" and idx + 2 == n:
            # Long u/i then a final cluster: akhund, dost (Persian, Pashto).
            out.append(lat)
            state = "closed"
        elif state == "short":
            out.append(lat)
            state = "coda"
        elif state == "long_a":
            out.append(lat + "i")
            state = "short"
        else:
            out.append(lat + "a")
            state = "short"
    return "".join(out)


_STRIP_MARKS = str.maketrans({c: None for c in (*_HARAKAT, _SHADDA, _SUKUN)})


@lru_cache(maxsize=CACHE_SIZE)
def _transliterate_word(word: str) -> tuple[str, ...]:
    """One normalised Arabic-script word to one or more Latin tokens."""
    return tuple(_transliterate_word_uncached(word))


@lru_cache(maxsize=CACHE_SIZE)
def _rules_word(word: str) -> tuple[str, ...]:
    """`_transliterate_word` by the lexicon and rules only."""
    return tuple(_transliterate_word_uncached(word, learned=False))


#: Letters for sounds that non-Arab names written in Arabic script hardly have (ayn, emphatic
#: consonants, hamza, ta marbuta, alif maqsura, dhal): a word holding one is an Arabic name.
_ARABIC_ONLY = frozenset("عحقصضطظذةىءؤئ")


def _transliterate_word_uncached(word: str, learned: bool = True) -> list[str]:
    """Lexicon, then Arabic name structure (article, joined prefixes, -allah), then the
    vowel rules or the learned model. What follows an article or a joined Arabic prefix is an
    Arabic name: the rules spell it, as do words holding letters only Arabic names write."""
    bare = word.translate(_STRIP_MARKS)
    if not bare:
        return []
    hit = LEXICON.get(bare)
    if hit is not None:
        return hit.split()
    # Definite article, also after the joined prefixes عبد/ابو (عبدالرحمن).
    for prefix in _PREFIX_BEFORE_ARTICLE:
        if bare.startswith(prefix + "ال") and len(bare) > len(prefix) + 3:
            head = LEXICON.get(prefix, "bu" if prefix == "بو" else "abd")
            return [head, *(_rules_word(word[_skip(word, len(prefix)) :]))]
    if bare.startswith("ال") and len(bare) > 3:
        rest = word[_skip(word, 2) :]
        return ["al", *_rules_word(rest)]
    if bare.startswith("لل") and len(bare) > 3:
        # li + al- (preposition + article), rare in names.
        return ["lil", *_rules_word(word[_skip(word, 2) :])]
    if bare.endswith("الله") and len(bare) > 4:
        # Theophoric compounds written joined: نصرالله, عطاالله, فضلالله.
        stem = _rules_word(word[: _skip_back(word, 4)])
        if stem:
            # English joins these as -ullah after abd/habib, else -allah.
            suffix = "ullah" if stem[-1].endswith(("d", "b")) else "allah"
            return [*stem[:-1], stem[-1] + suffix]
    if len(bare) == 3 and bare[1] == _YA and bare[0] in _CONSONANTS and bare[2] in _CONSONANTS:
        # CyC monosyllables are mostly CayC: sayf, zayd, zayn, khayr, layth.
        latin = _CONSONANTS[bare[0]] + "ay" + _CONSONANTS[bare[2]]
    else:
        latin = _vocalise(_units(word))
    if learned and _LEARNED[0] and bare == word and len(bare) >= _LEARNED_MIN_LETTERS and not _ARABIC_ONLY.intersection(bare):
        latin = _learned_or_rule(bare, latin)
    return [latin] if latin else []


#: Whether words outside the lexicon go through the learned model (see `use_arabic_model`).
_LEARNED = [True]
#: Shorter words stay with the rules: mostly Arabic roots (فهد fahad, سيف sayf), on which the
#: model gains nothing on held-out words and loses on the UN list's.
_LEARNED_MIN_LETTERS = 4
#: The rule spelling is kept unless the learned model finds it this much less probable
#: (natural log) than its own best spelling. The rules vocalise Arabic names as the lists
#: spell them; the model, trained mostly on the names of non-Arab people, spells those better
#: but writes Arabic names as European clusters (برزان przan). Chosen by sweeping 0-15 on
#: per-word key agreement, UN original-script words vs held-out wd_arabic_20 words: held-out
#: agreement starts to fall above 6; bench b and bench/arabic_eval.py were run at 4, 6 and 8
#: (6 at least as good as 4 and 8 on both).
RULE_MARGIN = 6.0


def _learned_or_rule(bare: str, rule: str) -> str:
    """The learned model's spelling of an unmarked word the lexicon lacks, or the rules'.

    Words with harakat keep the rules: they read the marks, the model ignores them."""
    from qalqan.names import arabic_model

    best, logp = arabic_model.best(bare)
    if not best or best == rule:
        return rule
    margin = logp - arabic_model.load_model().score(arabic_model.normalise(bare), rule) if rule else math.inf
    return rule if margin <= RULE_MARGIN else best


def use_arabic_model(enabled: bool) -> None:
    """Switch the learned model on (default) or off (rules and lexicon only, as before it
    existed), clearing this module's memo caches. Benchmarks compare the two; callers that
    memoise latinized text themselves must start afresh after a switch."""
    _LEARNED[0] = enabled
    _transliterate_word.cache_clear()
    _rules_word.cache_clear()
    _mixed_word.cache_clear()
    _latinize_cached.cache_clear()


def _skip(word: str, n_letters: int) -> int:
    """Index in `word` after `n_letters` base letters (marks not counted)."""
    seen = 0
    for i, c in enumerate(word):
        if c in _HARAKAT or c in (_SHADDA, _SUKUN):
            continue
        if seen == n_letters:
            return i
        seen += 1
    return len(word)


def _skip_back(word: str, n_letters: int) -> int:
    """Index in `word` where its last `n_letters` base letters begin."""
    seen = 0
    for i in range(len(word) - 1, -1, -1):
        c = word[i]
        if c in _HARAKAT or c in (_SHADDA, _SUKUN):
            continue
        seen += 1
        if seen == n_letters:
            return i
    return 0


_ARABIC_WORD_SEP = re.compile(r"[^\w\u064b-\u0652\u0670]+")


def arabic_to_latin(text: str) -> str:
    """Arabic-script text (one or more words) to lower-case Latin words."""
    text = _normalise_arabic(text)
    tokens: list[str] = []
    for word in _ARABIC_WORD_SEP.split(text):
        if word:
            tokens.extend(_transliterate_word(word))
    return " ".join(t for t in tokens if t)


# --- Entry point ------------------------------------------------------------

_ARABIC_RUN = re.compile(
    r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]+"
)


def _other_script(chunk: str) -> str:
    return chunk if chunk.isascii() else ascii_text(chunk)


@lru_cache(maxsize=CACHE_SIZE)
def _mixed_word(word: str) -> str:
    """One whitespace-free chunk holding Arabic script, maybe mixed with others."""
    parts: list[str] = []
    pos = 0
    for m in _ARABIC_RUN.finditer(word):
        if m.start() > pos:
            parts.append(_other_script(word[pos : m.start()]))
        parts.append(" " + arabic_to_latin(m.group()) + " ")
        pos = m.end()
    if pos < len(word):
        parts.append(_other_script(word[pos:]))
    return "".join(parts)


def _latinize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_PRE_LATIN)
    if text.isascii():
        return _finish(text)
    if _ARABIC_RUN.search(text) is None:
        # Whole-text ascii_text keeps rigour's context rules (e.g. Han spacing).
        return _finish(ascii_text(text))
    # Arabic script: word by word, so frequent words are memo hits.
    return _finish(" ".join(_mixed_word(w) if _ARABIC_RUN.search(w) else _other_script(w) for w in text.split()))


_latinize_cached = lru_cache(maxsize=CACHE_SIZE)(_latinize)


def latinize(text: str) -> str:
    """Any-script name to lower-case ASCII words separated by single spaces.

    Punctuation and hyphens separate words ("al-Zawahiri" -> "al zawahiri");
    apostrophes join them ("Ma'ruf" -> "maruf"). Arabic script is vocalised
    ("محمد بن عبد الله" -> "muhammad bin abd allah"). Digits are kept.
    """
    if len(text) > MAX_CACHED_LEN:
        return _latinize(text)
    return _latinize_cached(text)
