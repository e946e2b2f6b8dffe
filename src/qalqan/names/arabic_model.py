"""Learned Arabic-script to Latin transliteration: a joint-sequence n-gram model.

The rule transliterator in `qalqan.names.translit` knows Arabic name structure
(vowel patterns, the article, a lexicon of frequent morphemes) but not how the
names of everyone else are written in Arabic script: ``غريغوريان`` is
*grigorian*, ``كوسونوكي`` *kusunoki*, ``ماكورميك`` *mccormick*. This module
decodes such words with a model learned from transliteration pairs by
``bench/train_arabic.py`` and shipped as package data
(``qalqan/names/data/arabic_translit.json.gz``):

* every training pair is aligned letter by letter by EM: each Arabic letter
  writes a Latin chunk of 0-4 letters (``ب``->``b``, ``و``->``ou``, ``ع``->``""``);
* the aligned pairs become sequences of joint tokens (Arabic letter, Latin
  chunk), and an n-gram model over those tokens (interpolated Witten-Bell,
  stored in back-off form) scores a whole spelling with its left context;
* a word is decoded by beam search over the tokens each of its letters can
  write (a weighted transducer composed with the n-gram model).

Pure: the only I/O is reading the package data file through importlib.resources,
lazily, once. Decoded words are memoised.
"""

from __future__ import annotations

import gzip
import json
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["ArabicModel", "DATA_FILE", "best", "candidates", "covers", "load_model", "normalise", "transliterate"]

#: The package data file (in ``qalqan.names``).
DATA_FILE = "data/arabic_translit.json.gz"
#: The data format this decoder reads.
FORMAT = "qalqan-arabic-joint-ngram"
FORMAT_VERSION = 1

#: Hypotheses kept per Arabic letter position while decoding.
BEAM = 6
#: Latin chunks each Arabic letter may write while decoding (its most frequent ones).
OPTIONS = 10
#: Memoised words (names repeat; short strings).
CACHE_SIZE = 1 << 16
#: Words longer than this (in letters) are not decoded: no name word is that long.
MAX_LETTERS = 40

# Variant letters folded onto one form (Persian/Urdu letter shapes, presentation
# forms via NFKC); hamza carriers stay distinct: they tell vowels apart.
_FOLD = str.maketrans(
    {
        "ی": "ي", "ې": "ي", "ۍ": "ي", "ێ": "ي", "ے": "ي", "ۓ": "ي",
        "ک": "ك", "ڪ": "ك", "ہ": "ه", "ھ": "ه", "ۃ": "ة", "ە": "ه", "ۀ": "ة",
        "ٱ": "ا", "ٲ": "أ", "ٳ": "إ", "ۆ": "و", "ۇ": "و", "ۉ": "و", "ۏ": "و",
        "ڨ": "ق", "ڤ": "ف",
    }
)


def normalise(word: str) -> str:
    """The letters of an Arabic-script word as the model reads them: presentation
    forms and variant shapes folded, marks (harakat, shadda), tatweel, joiners
    and anything that is not an Arabic-script letter dropped."""
    word = unicodedata.normalize("NFKC", word).translate(_FOLD)
    return "".join(c for c in word if "\u0620" <= c <= "\u06ff" and unicodedata.category(c) == "Lo")


@dataclass(frozen=True)
class _Loaded:
    order: int
    by_letter: dict[str, tuple[tuple[int, str], ...]]
    grams: dict[tuple[int, ...], tuple[float, float]]
    floor: float


class ArabicModel:
    """A joint-sequence n-gram model over (Arabic letter, Latin chunk) tokens."""

    BOS = 0
    EOS = 1

    def __init__(self, data: dict[str, Any], options: int | None = None):
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} v{FORMAT_VERSION} model: {data.get('format')!r} v{data.get('version')!r}")
        order = int(data["order"])
        options = int(data.get("options", OPTIONS)) if options is None else options
        scale = float(data["scale"])
        tokens: list[str] = data["tokens"]
        # Letters the model was trained on enough to write (others are left to the rules).
        known = set(data.get("letters", ""))
        by_letter: dict[str, list[tuple[int, str]]] = {}
        for tid, tok in enumerate(tokens):
            if tid in (self.BOS, self.EOS):
                continue
            letter, _, latin = tok.partition("\t")
            if letter not in known:
                continue
            by_letter.setdefault(letter, []).append((tid, latin))
        grams: dict[tuple[int, ...], tuple[float, float]] = {}
        for k, flat in enumerate(data["grams"], start=1):
            stride = k + 2
            for r in range(0, len(flat), stride):
                grams[tuple(flat[r : r + k])] = (flat[r + k] / scale, flat[r + k + 1] / scale)
        def unigram(option: tuple[int, str]) -> float:
            return grams.get((option[0],), (-math.inf, 0.0))[0]

        # Each letter writes only its most frequent chunks: rare ones are alignment noise, and
        # the decoder's cost grows with the options per letter.
        self._m = _Loaded(
            order,
            {c: tuple(sorted(v, key=lambda o: (-unigram(o), o[1]))[:options]) for c, v in by_letter.items()},
            grams,
            float(data["floor"]) / scale,
        )
        self.meta: dict[str, Any] = dict(data.get("meta", {}))

    @property
    def order(self) -> int:
        return self._m.order

    def covers(self, letters: str) -> bool:
        """True when every letter of a normalised word is one the model has seen."""
        return bool(letters) and all(c in self._m.by_letter for c in letters)

    def logp(self, history: tuple[int, ...], token: int) -> float:
        """log P(token | history) in the back-off form of the interpolated model."""
        grams = self._m.grams
        back = 0.0
        while True:
            hit = grams.get(history + (token,))
            if hit is not None:
                return back + hit[0]
            if not history:
                return back + self._m.floor
            seen = grams.get(history)
            if seen is not None:
                back += seen[1]
            history = history[1:]

    def decode(self, letters: str, k: int = 1, beam: int = BEAM) -> list[tuple[str, float]]:
        """Up to k best (latin, log probability) for a normalised word, best first.

        Spellings reached by several token sequences keep their best one
        (Viterbi). Empty when a letter is unknown to the model."""
        if not self.covers(letters) or len(letters) > MAX_LETTERS:
            return []
        m = self._m
        keep = m.order - 1
        by_letter = m.by_letter
        logp = self.logp
        layer: dict[tuple[int, ...], tuple[float, str]] = {(self.BOS,): (0.0, "")}
        width = max(beam, k)
        for c in letters:
            options = by_letter[c]
            nxt: dict[tuple[int, ...], tuple[float, str]] = {}
            for hist, (score, latin) in layer.items():
                for tid, chunk in options:
                    s = score + logp(hist, tid)
                    nh = (hist + (tid,))[-keep:]
                    cur = nxt.get(nh)
                    if cur is None or s > cur[0]:
                        nxt[nh] = (s, latin + chunk)
            if len(nxt) > width:
                best = sorted(nxt.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:width]
                nxt = dict(best)
            layer = nxt
        final: dict[str, float] = {}
        for hist, (score, latin) in layer.items():
            s = score + logp(hist, self.EOS)
            if latin and s > final.get(latin, -math.inf):
                final[latin] = s
        ranked = sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:k]


    def score(self, letters: str, latin: str, beam: int = BEAM * 4) -> float:
        """Best log probability of one given spelling of a normalised word (its best
        alignment); -inf when the model cannot write it with its chunks."""
        if not self.covers(letters) or not latin or len(letters) > MAX_LETTERS:
            return -math.inf
        m = self._m
        keep = m.order - 1
        logp = self.logp
        layer: dict[tuple[int, tuple[int, ...]], float] = {(0, (self.BOS,)): 0.0}
        for c in letters:
            options = m.by_letter[c]
            nxt: dict[tuple[int, tuple[int, ...]], float] = {}
            for (j, hist), score in layer.items():
                for tid, chunk in options:
                    if not latin.startswith(chunk, j):
                        continue
                    s = score + logp(hist, tid)
                    key = (j + len(chunk), (hist + (tid,))[-keep:])
                    if s > nxt.get(key, -math.inf):
                        nxt[key] = s
            if len(nxt) > beam:
                nxt = dict(sorted(nxt.items(), key=lambda kv: -kv[1])[:beam])
            layer = nxt
            if not layer:
                return -math.inf
        end = len(latin)
        return max((s + logp(hist, self.EOS) for (j, hist), s in layer.items() if j == end), default=-math.inf)


@lru_cache(maxsize=1)
def load_model() -> ArabicModel:
    """The shipped model, read once (gzip JSON via importlib.resources)."""
    raw = resources.files("qalqan.names").joinpath(DATA_FILE).read_bytes()
    return ArabicModel(json.loads(gzip.decompress(raw)))


def covers(word: str) -> bool:
    """True when the model can read every letter of the word."""
    return load_model().covers(normalise(word))


@lru_cache(maxsize=CACHE_SIZE)
def _best(letters: str) -> tuple[str, float]:
    found = load_model().decode(letters, 1)
    return found[0] if found else ("", -math.inf)


def best(word: str) -> tuple[str, float]:
    """(most probable Latin spelling, its log probability); ("", -inf) when the model
    cannot read the word. Memoised."""
    letters = normalise(word)
    if not letters or len(letters) > MAX_LETTERS:
        return "", -math.inf
    return _best(letters)


def transliterate(word: str) -> str:
    """The most probable Latin spelling (lower-case ASCII) of one Arabic-script
    word; "" when the word holds no letter the model can read."""
    return best(word)[0]


@lru_cache(maxsize=CACHE_SIZE)
def _ranked(letters: str, k: int) -> tuple[tuple[str, float], ...]:
    return tuple(load_model().decode(letters, k, beam=max(BEAM, k)))


def candidates(word: str, k: int = 5) -> list[tuple[str, float]]:
    """Up to k (latin spelling, probability among the k) pairs, best first."""
    letters = normalise(word)
    if not letters or k < 1 or len(letters) > MAX_LETTERS:
        return []
    ranked = _ranked(letters, k)
    if not ranked:
        return []
    top = ranked[0][1]
    weights = [math.exp(s - top) for _, s in ranked]
    total = sum(weights)
    return [(latin, w / total) for (latin, _), w in zip(ranked, weights)]
