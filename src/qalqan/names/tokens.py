"""From a name as written to the tokens the matcher compares.

A name is latinised (any script to lower-case ASCII words), stripped of honorifics and
organisation legal forms, and split into tokens. Each token carries three forms of decreasing
precision: its Latin spelling, a spelling-variant key (Mohammed / Muhammad -> one key) and a
consonant skeleton (for vowel and typo noise). Particles (al, bin, de, ...) are kept but marked,
so they count for little; the Arabic theophoric/kunya prefixes (abd, abu, umm) are glued to the
following token, because "Abdul Rahman", "Abd al-Rahman" and "Abdulrahman" are one name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rigour.names import extract_org_types, replace_org_types_compare
from rigour.text import is_stopword

from qalqan.names.keys import token_key
from qalqan.names.translit import latinize

#: Titles and honorifics that precede names on lists and manifests; dropped when at least two
#: other tokens remain (so a person actually named "Imam" or "Haji" still has a name).
HONORIFICS = frozenset(
    """mr mrs ms miss dr prof sir sheikh shaikh shaykh sheik mullah mulla mullo maulavi mawlawi
    maulvi moulvi mawlavi maulana haji hajji hadji alhaji qari hafiz hafez mufti sayyid sayed
    syed said_ ustad ustadh ustaz general gen colonel col major maj captain capt lieutenant lt
    commander brigadier admiral sergeant eng engineer doctor president prasident minister""".split()
)

#: Connecting words of personal and family names: kept as tokens, weighted as near-nothing.
PARTICLES = frozenset(
    """al el ul ol il ad ad ar as at az an ash adh ath bin ibn ben bint binti bte bt b ibnu
    ould wuld walad oglu ogly uulu uly kyzy qyzy kizi de da di del della der des du la le van
    von den ter zu y e and""".split()
)

#: Words that say an organisation is an organisation, not which one: weighted like particles.
GENERIC_ORG_WORDS = frozenset(
    """company co corporation corp incorporated inc limited ltd group holding holdings the""".split()
)

#: Prefixes that form one name with the next token (Abd al-Rahman = Abdulrahman, Abu Bakr =
#: Abubakr). The glued form is what both sides compare, so spacing variants meet.
GLUE_PREFIXES = frozenset("abd abdul abdel abdal abdil abdol abdur abdu abu abou abo umm um".split())
#: Articles that may sit between a glue prefix and its noun ("abd al rahman").
_ARTICLES = frozenset("al el ul ol il ad ar as at az an ash ur ud".split())

_VOWELS = re.compile(r"[aeiouyw]+")  # w and y too: Arabic و/ي are vowels as often as not
_REPEATS = re.compile(r"(.)\1+")
#: Second elements of compound Arabic names, written apart or together in every spelling:
#: Habib Allah / Habibullah, Nur al-Din / Noureddine / Nuruddin, Aziz al-Rahman / Azizurrahman.
#: Both forms are reduced to stem + canonical element.
_COMPOUND_WORDS = {"allah": "allah", "ullah": "allah", "ulla": "allah", "alla": "allah", "ollah": "allah",
                   "din": "din", "deen": "din", "dine": "din", "rahman": "rahman", "rehman": "rahman"}
_COMPOUND_JOINED = (
    (re.compile(r"^([a-z]{3,}?)[uaoei]ll(?:ah?|o)$"), "allah"),
    (re.compile(r"^([a-z]{3,}?)(?:ud|ad|ed|id|al|el|ul|u|e|i)?d?d(?:in|een|ine)$"), "din"),
    (re.compile(r"^([a-z]{3,}?)(?:ur|ul|ar|al|er|el|u|i|e)?r(?:a|e)h?man$"), "rahman"),
)
#: A definite article written onto its noun: al-/el- (in words of 7+ letters, so Alfred stays
#: whole) or assimilated to a sun letter (Essabar = es-Sabar, Ennahda, Ettadamon).
_ARTICLE_PREFIX = re.compile(r"^(?:[ae]l(?=[a-z]{5,})|[ae](?=(t|d|r|z|s|n)\1[a-z]{3,}))")
#: "abdul-", "abdel-", "abdal-", "abdur-" ... written as one word: the servant-of prefix plus an
#: article, spelled many ways. Reduced to "abd" so Abdulrahman meets Abd al-Rahman.
_ABD_ALLAH = re.compile(r"^abd[uaeio]?ll?ah?$")  # Abdullah, Abdallah, Abdulla, Abdalah
_ABD_ARTICLE = re.compile(r"^abd(?:ul|el|al|ol|il|ur|ar|er|us|as|un|an|u|i|e)?(?=[a-z]{3,}$)")


@dataclass(frozen=True, slots=True)
class Token:
    """One comparable token of a name."""

    text: str  # latinised spelling, e.g. "mohammed"
    key: str  # spelling-variant key, e.g. the same for "muhammad"
    skeleton: str  # consonant skeleton of the key: first letter kept, vowels dropped
    particle: bool = False  # a particle (al, bin, de) or an organisation's legal form
    bare: str | None = None  # key without an article written onto the word (elsseid -> sseid)

    def __str__(self) -> str:
        return self.text


#: The skeleton also folds voicing and affricate spellings (p/b, t/d, k/g/q/c, ch/j/zh/dj, w/v),
#: which romanisation systems disagree on (Korean Chon/Jon, Kuk/Guk; Arabic Gh/Q/K).
#: Arabic ث ذ ظ are written th, dh, z or s: th/dh fold to z.
_VOICING = (("dzh", "j"), ("dj", "j"), ("zh", "j"), ("tch", "j"), ("ch", "j"), ("sch", "s"), ("th", "z"), ("dh", "z"), ("p", "b"), ("t", "d"), ("k", "g"), ("q", "g"), ("c", "g"))


def skeleton(key: str) -> str:
    """Consonant skeleton of a key: the first letter kept (vowel or not), then consonants only
    (w and y count as vowels), with voicing folded and repeated letters collapsed."""
    if len(key) <= 2:
        return key
    out = key
    for spelling, folded in _VOICING:
        out = out.replace(spelling, folded)
    out = out[0] + _VOWELS.sub("", out[1:])
    return _REPEATS.sub(r"\1", out)


def _compound(word: str) -> str:
    if word.startswith("abd"):
        return word
    for pattern, element in _COMPOUND_JOINED:
        m = pattern.match(word)
        if m:
            return m.group(1) + element
    return word


def _glue(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        element = _COMPOUND_WORDS.get(word)
        if element and out and out[-1] not in PARTICLES and out[-1] not in _ARTICLES:
            out[-1] = out[-1] + element  # habib allah -> habiballah
            i += 1
            continue
        if (
            word in _ARTICLES
            and out
            and i + 1 < len(words)
            and _COMPOUND_WORDS.get(words[i + 1]) in ("din", "rahman")
            and not out[-1].startswith("abd")
        ):
            out[-1] = out[-1] + _COMPOUND_WORDS[words[i + 1]]  # nur al din -> nurdin
            i += 2
            continue
        if word in GLUE_PREFIXES and i + 1 < len(words):
            j = i + 1
            if words[j] in _ARTICLES and j + 1 < len(words):
                j += 1  # abd al rahman -> abdrahman (the article is spelling, not name)
            stem = "abd" if word.startswith("abd") else word
            out.append(stem + words[j])
            i = j + 1
            continue
        if word.startswith("abd"):
            word = "abdallah" if _ABD_ALLAH.match(word) else _ABD_ARTICLE.sub("abd", word)
        out.append(_compound(word))
        i += 1
    return out


def _join_letters(words: list[str]) -> list[str]:
    """Runs of single letters in an organisation's name are one acronym: A.B.C. = ABC."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        if run:
            out.append("".join(run))
            run = []
        if word:
            out.append(word)
    return out


@lru_cache(maxsize=1_000)
def _legal_token(word: str) -> Token:
    key = token_key(word)
    return Token(word, key, skeleton(key), True)


@lru_cache(maxsize=200_000)
def _token(word: str) -> Token:
    key = token_key(word)
    bare = _ARTICLE_PREFIX.sub("", word)
    return Token(word, key, skeleton(key), word in PARTICLES, token_key(bare) if bare != word else None)


@lru_cache(maxsize=100_000)
def name_tokens(name: str, organisation: bool = False) -> tuple[Token, ...]:
    """Tokens of one name.

    For an organisation, legal forms in any language are rewritten by rigour to a generic class
    (ТОО / LLP, Limited / LLC, АО / Joint Stock Company / JSC) and marked like particles, as are
    generic words (company, group) and stopwords: they still align, but a missing or different
    one costs little. Single letters in a row are one acronym.
    """
    text = name
    legal: frozenset[str] = frozenset()
    if organisation:
        lowered = name.casefold()  # rigour misses upper-case Cyrillic forms (ТОО, АО)
        found = extract_org_types(lowered, generic=True)
        if found:
            text = replace_org_types_compare(lowered, generic=True)
            legal = frozenset(w for _, form in found for w in latinize(form).split())
    words = latinize(text).split()
    if not words:
        return ()
    if organisation:
        words = _join_letters(words)
        return tuple(
            _legal_token(w) if w in legal or w in GENERIC_ORG_WORDS or is_stopword(w) else _token(w) for w in words
        )
    kept = [w for w in words if w not in HONORIFICS]
    if len(kept) >= 2:
        words = kept
    return tuple(_token(w) for w in _glue(words))
