"""Spelling-variant keys for one latinized name token.

`token_key` folds the usual English spellings of one Arabic, Central-Asian or
Russian name onto one key (Muhammad / Mohammed / Mohamad -> ``mahamad``,
Khasan / Hassan -> ``hasan``, Abdul / Abdel -> ``abdal``, bin / ibn / ben ->
``bin``) while keeping most different names apart (Muhammad / Mahmud, Ali /
Allah, Omar / Amr, Tikriti / Tikrit).

How: consonant digraphs and letters with several spellings are folded (dzh,
dj, zh -> j; sch -> sh; ph -> f; q -> k; x -> ks; w -> v; kh -> h; th -> t;
dh -> d; ch -> sh; ts, tz -> c), French ou before a vowel becomes w, y after
the first letter counts as a vowel, every vowel run becomes "a" except a
word-final one, which keeps its class (a, i or u), doubled letters are single
and a final -ah loses its h. Which rules are on was decided by measurement
(``.venv/bin/python -m bench.translit_eval``, ``bench/results/translit.md``):
each one raised key agreement between Arabic/Cyrillic-script names and their
Latin spellings without raising false collisions between different names
noticeably. Known, measured cost: names that differ only in an internal
vowel share a key (Hasan / Husayn, Hamid / Hamad, Umar / Amir).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from qalqan.names.translit import CACHE_SIZE, latinize

__all__ = ["token_key", "make_key", "KEY_RULES"]

# Particles whose spellings differ in their vowel or a leading i-.
_PARTICLES = {
    "bin": "bin", "ibn": "bin", "ben": "bin", "bn": "bin", "ibni": "bin", "bini": "bin",
    "al": "al", "el": "al", "ul": "al", "il": "al", "ol": "al",
    "abu": "abu", "abou": "abu", "abo": "abu", "bou": "abu", "abi": "abu",
    "umm": "um", "um": "um", "oum": "um", "omm": "um", "om": "um",
}

# Consonant digraphs and letters with several spellings, longest first.
# kh, gh, th/dh, w, ch and the vowel treatment are options measured in the bench.
_BASE_FOLDS: list[tuple[str, str]] = [
    ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("tch", "ch"), ("sch", "sh"),
    ("tsch", "ch"), ("ph", "f"), ("ck", "k"), ("ts", "c"), ("tz", "c"),
    ("x", "ks"), ("q", "k"),
]
_CLASS_FOLDS: list[tuple[str, str]] = [
    ("ee", "i"),
]


# Vowel class of a word-initial or word-final vowel run, read from its edge
# letter: e goes with i at the start (Ebrahim, Essam, Ehab) and with a at the
# end (Abdoulaye aside, final -e is mostly -a or silent and removed first).
_INITIAL_CLASS = {"a": "a", "e": "i", "i": "i", "o": "u", "u": "u"}
_FINAL_CLASS = {"a": "a", "e": "a", "i": "i", "o": "u", "u": "u"}


def make_key(
    *,
    vowels: str = "classes",
    kh_to_h: bool = False,
    gh_to_k: bool = False,
    th_to_t: bool = False,
    w_to_v: bool = True,
    ch_to_sh: bool = False,
    y_glide: bool = False,
    particles: bool = True,
) -> Callable[[str], str]:
    """Build a key function from the folding options (the bench compares them).

    vowels: "keep" (only doubled vowels folded), "classes" (a/e -> a, o/u -> u,
    i/y/ee -> i, ai/ay/ei/ey -> ai), "collapse" (every vowel run -> a),
    "final" (collapse, but a word-final run keeps its class a/i/u), "edges"
    (final, and the initial run keeps its class too), "skeleton" (internal
    runs dropped, a leading and a final run written a) or "drop" (vowel runs
    dropped except a leading one, written a).
    """
    folds = list(_BASE_FOLDS)
    if kh_to_h:
        folds.insert(0, ("kh", "h"))
    if gh_to_k:
        folds.insert(0, ("gh", "k"))
    else:
        folds.insert(0, ("gh", "g"))
    if th_to_t:
        folds += [("th", "t"), ("dh", "d")]
    if w_to_v:
        folds.append(("w", "v"))
    if ch_to_sh:
        folds.append(("ch", "sh"))
    if vowels == "classes":
        folds += _CLASS_FOLDS
    # Longest first, applied in sequence with str.replace (C speed); single
    # letters go through one translate table.
    folds.sort(key=lambda kv: -len(kv[0]))
    multi = [(a, b) for a, b in folds if len(a) > 1]
    single = str.maketrans({a: b for a, b in folds if len(a) == 1})

    # y is a vowel unless a vowel follows it (yusuf, iyad keep it); with
    # y_glide every non-initial y is a vowel (sayed = said, yahia = yahya).
    y_vowel = re.compile(r"(?<=.)y" if y_glide else r"y(?![aeiou])")
    # French "ou" before a vowel is w: ouali, aouadi, zarkaoui.
    ou_glide = re.compile(r"ou(?=[aeiy])")
    # Lookbehind form: 3x faster than substituting a group reference.
    doubled = re.compile(r"(?<=([a-z]))\1+")
    if vowels == "classes":
        class_map = str.maketrans({"e": "a", "o": "u", "y": "i"})
        diphthong = re.compile(r"a[iy]|e[iy]")
    elif vowels not in ("collapse", "drop", "skeleton", "edges", "final", "keep"):
        raise ValueError(f"unknown vowel mode {vowels!r}")
    # After y_vowel every remaining y is a consonant (yusuf, sayyid's second y).
    vowel_run = re.compile(r"[aeiou]+")

    def key(token: str) -> str:
        t = token.lower()
        if not (t.isascii() and t.isalnum()):
            t = latinize(t).replace(" ", "")
            if not t:
                return ""
        if particles and t in _PARTICLES:
            return _PARTICLES[t]
        if "ou" in t:
            t = ou_glide.sub("w", t)
        for a, b in multi:
            t = t.replace(a, b)
        t = t.translate(single)
        if "y" in t:
            t = y_vowel.sub("i", t)
        if vowels == "classes":
            t = diphthong.sub("ai", t).translate(class_map)
        elif vowels == "collapse":
            t = vowel_run.sub("a", t)
        elif vowels == "drop":
            head = "a" if t[0] in "aeiou" else ""
            t = head + vowel_run.sub("", t)
        elif vowels in ("edges", "final"):
            if len(t) > 3 and t[-1] == "e" and t[-2] not in "aeiou":
                # French silent final e after a consonant: zidane, alouche.
                t = t[:-1]
            end = _FINAL_CLASS.get(t[-1])
            start = _INITIAL_CLASS.get(t[0]) if vowels == "edges" else None
            t = vowel_run.sub("a", t)
            if start is not None:
                t = start + t[1:]
            if end is not None and len(t) > 1:
                t = t[:-1] + end
        elif vowels == "skeleton":
            # Leading and final vowels kept as one class "a"; internal ones dropped.
            head = "a" if t[0] in "aeiou" else ""
            tail = "a" if t[-1] in "aeiou" and len(t) > 1 else ""
            t = head + vowel_run.sub("", t) + tail
        t = doubled.sub("", t)
        if len(t) > 2 and t.endswith("ah"):
            # Final -ah is usually ta marbuta (Fatimah, Hamzah, Abdullah).
            # Applied after the vowel folds, so Saleh/Salih/Salah agree too.
            t = t[:-1]
        return t

    return key


#: The chosen rules (see bench/results/translit.md for the measurement).
KEY_RULES: dict[str, object] = {
    "vowels": "final", "y_glide": True, "kh_to_h": True, "th_to_t": True,
    "gh_to_k": False, "w_to_v": True, "ch_to_sh": True,
}

_key = make_key(**KEY_RULES)  # type: ignore[arg-type]


#: Folding passes until the key is a fixed point. One rule can create the
#: input of another (q -> k before kh, ts -> c before ck); in practice a
#: second pass confirms the key and a third is never needed on real tokens.
MAX_KEY_PASSES = 4


def _stable_key(token: str) -> str:
    k = _key(token)
    for _ in range(MAX_KEY_PASSES - 1):
        again = _key(k)
        if again == k:
            break
        k = again
    return k


_cached_key = lru_cache(maxsize=CACHE_SIZE)(_stable_key)


def token_key(token: str) -> str:
    """Spelling-variant key of ONE latinized name token (any input is accepted).

    Input that is not a single lower-case ASCII word is latinized and its words
    joined first, so the function never raises. The key is a fixed point:
    ``token_key(token_key(x)) == token_key(x)``.
    """
    if len(token) > 64:
        return _stable_key(token)
    return _cached_key(token)
