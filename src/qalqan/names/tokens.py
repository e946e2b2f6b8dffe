"""From a name as written to the tokens the matcher compares.

A name is latinised (any script to lower-case ASCII words), stripped of honorifics and
organisation legal forms, and split into tokens. Each token carries three forms of decreasing
precision: its Latin spelling, a spelling-variant key (Mohammed / Muhammad -> one key) and a
consonant skeleton (for vowel and typo noise). Particles (al, bin, de, ...) are kept but marked,
so they count for little; the Arabic theophoric/kunya prefixes (abd, abu, umm) are glued to the
following token, because "Abdul Rahman", "Abd al-Rahman" and "Abdulrahman" are one name.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rigour.names import extract_org_types, replace_org_types_compare
from rigour.text import is_stopword

from qalqan.names.keys import token_key
from qalqan.names.orgwords import GENERIC_ORG_WORDS
from qalqan.names.orgwords import rewrite as org_rewrite
from qalqan.names.translit import APOSTROPHES, latinize

#: Titles and honorifics that precede names on lists and manifests; dropped when at least two
#: other tokens remain (so a person actually named "Imam" or "Haji" still has a name).
HONORIFICS = frozenset(
    """mr mrs ms miss dr prof sir sheikh shaikh shaykh sheik mullah mulla mullo maulavi mawlawi
    maulvi moulvi mawlavi maulana haji hajji hadji alhaji qari hafiz hafez mufti sayyid sayed
    syed said_ ustad ustadh ustaz general gen colonel col major maj captain capt lieutenant lt
    commander brigadier admiral sergeant eng engineer doctor president prasident minister""".split()
) | frozenset(
    # The same titles written in Cyrillic, as latinised and as Russian practice reads them
    # (Кари, Хаджи, Қажы, Шейх, Шайх, Мавлави, Мавлана, Хафиз, Муфтий, Сейид, Саййид, Доктор,
    # Профессор, Полковник, Инженер, Мистер).
    """kari hadzhi khaji hadzhzhi kazhy qazhy sheih sheykh sheyh shaih shaykh shayh mavlavi
    mavlana khafiz mufty seiid seyid saiiid doktor professor polkovnik inzhener mister""".split()
)

#: Connecting words of personal and family names: kept as tokens, weighted as near-nothing.
PARTICLES = frozenset(
    """al el ul ol il ad ad ar as at az an ash adh ath bin ibn ben bint binti bte bt b ibnu
    ould wuld walad oglu ogly uulu uly kyzy qyzy kizi de da di del della der des du la le van
    von den ter zu y e and""".split()
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


#: The skeleton also folds voicing and affricate spellings (p/b, t/d, k/g/q/c, s/z,
#: ch/j/zh/dj, w/v), which romanisation systems disagree on (Korean Chon/Jon, Kuk/Guk; Arabic
#: Gh/Q/K; Aziz/Asis). Keys hold no th or dh (they read them t and d): the interdentals are
#: folded from a token's spelling, in `token_skeleton`.
_VOICING = (("dzh", "j"), ("dj", "j"), ("zh", "j"), ("tch", "j"), ("ch", "j"), ("sch", "s"), ("p", "b"), ("t", "d"), ("k", "g"), ("q", "g"), ("c", "g"), ("z", "s"))
#: Arabic ث and ذ/ظ are written th and dh in English practice, but с and з in Russian and
#: Kazakh, s and z in Turkish, Persian and Urdu (Uthman / Усман / Osman, Qadhafi / Казафи,
#: Muthana / Мусана, Chaudhry / Чаузри). The key reads th as t and dh as d (English names want
#: that), so a token's skeleton is taken from its spelling with th and dh read as s and z first.
_INTERDENTALS = (("tth", "th"), ("ddh", "dh"), ("th", "s"), ("dh", "z"))


def token_skeleton(word: str, key: str) -> str:
    """The skeleton of a token spelled `word` whose key is `key`: `skeleton(key)`, except that
    an Arabic interdental spelled th or dh after the first letter counts as the s or z other
    conventions write (the first letter is kept as written: Thomas is not Somas)."""
    rest = word[1:]
    if "th" not in rest and "dh" not in rest:
        return skeleton(key)
    for spelling, other in _INTERDENTALS:
        rest = rest.replace(spelling, other)
    return skeleton(token_key(word[0] + rest))


@lru_cache(maxsize=100_000)  # pure, and called for the same words again and again
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


@lru_cache(maxsize=100_000)  # pure, and called for the same words again and again
def _compound(word: str) -> str:
    if word.startswith("abd"):
        return word
    for pattern, element in _COMPOUND_JOINED:
        m = pattern.match(word)
        if m:
            return m.group(1) + element
    return word


#: A word of a name with the positions (first, last) of the latinised words it was made from.
Spanned = tuple[str, int, int]


def _swapped(word: str, vocabulary: frozenset[str]) -> str | None:
    """The vocabulary word that `word` is with two adjacent letters typed the wrong way round
    (adbul -> abdul, rahamn -> rahman), for words of 5 letters or more, else None."""
    if len(word) < 5 or "".join(sorted(word)) not in _LETTER_SETS:
        return None  # a swap keeps the letters: most words are ruled out without a loop
    for k in range(len(word) - 1):
        if word[k] != word[k + 1]:
            fixed = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
            if fixed in vocabulary:
                return fixed
    return None


#: The glue prefixes and compound elements a transposition typo is read back to.
_TYPO_VOCABULARY = frozenset(w for w in (*GLUE_PREFIXES, *_COMPOUND_WORDS) if len(w) >= 5)
#: Their letters, sorted: a word with other letters cannot be one of them with two swapped.
_LETTER_SETS = frozenset("".join(sorted(w)) for w in _TYPO_VOCABULARY)


#: The servant-of prefixes of 5 letters (abdul, abdel, abdur ...): other one-letter typos of
#: these are read back too.
_ABD_PREFIXES = frozenset(w for w in GLUE_PREFIXES if len(w) == 5 and w.startswith("abd"))


def _abd_typo(word: str) -> str | None:
    """The abd- prefix `word` is with one letter doubled or added (Abddul), its b or d mistyped
    (Andul, Absul), or its vowel left out (Abdl); None if none. Other letters are not guessed:
    Abdin, Abel and Abdus stay what they are."""
    n = len(word)
    if n == 6:
        for k in range(n):
            if word[:k] + word[k + 1 :] in _ABD_PREFIXES:
                return word[:k] + word[k + 1 :]
    elif n == 5 and word[0] == "a" and word[3:] in {p[3:] for p in _ABD_PREFIXES}:
        if word[2] == "d" or word[1] == "b":  # one of b, d mistyped
            return "abd" + word[3:]
    elif n == 4 and word.startswith("abd") and word[3] in "lr":
        return "abdu" + word[3]
    return None


@lru_cache(maxsize=100_000)  # pure, and called for the same words again and again
def _untypo(word: str) -> str:
    """A glue prefix or compound element with a typo, read as meant, whether written alone
    (Adbul Qadir, Andul Qadir, Abdl Qadir) or onto its noun (Adbulqadir; only the prefix of a
    joined word is looked at): two letters swapped in any of them, and for the abd- prefixes
    also the slips `_abd_typo` reads."""
    if word in GLUE_PREFIXES or word in _COMPOUND_WORDS:
        return word
    fixed = _swapped(word, _TYPO_VOCABULARY) or _abd_typo(word)
    if fixed:
        return fixed
    if len(word) > 7 and not word.startswith("abd"):
        head = _swapped(word[:5], _TYPO_VOCABULARY)
        if head and head.startswith("abd"):
            return head + word[5:]
    return word


def _glue(words: list[str], prefixes: bool = True) -> list[Spanned]:
    """Compound Arabic names and glue prefixes joined to the word they belong to; each result
    keeps the positions of the words it joins, so an explanation can show them as written.
    A prefix or element typed with two letters swapped (Adbul) is still one. With `prefixes`
    False the glue prefixes stay words of their own (compounds are still joined)."""
    out: list[Spanned] = []
    words = [_untypo(w) for w in words]
    i = 0
    while i < len(words):
        word = words[i]
        element = _COMPOUND_WORDS.get(word)
        if element and out and out[-1][0] not in PARTICLES and out[-1][0] not in _ARTICLES and out[-1][0] not in GLUE_PREFIXES:
            out[-1] = (out[-1][0] + element, out[-1][1], i)  # habib allah -> habiballah
            i += 1
            continue
        if (
            word in _ARTICLES
            and out
            and i + 1 < len(words)
            and _COMPOUND_WORDS.get(words[i + 1]) in ("din", "rahman")
            and not out[-1][0].startswith("abd")
        ):
            out[-1] = (out[-1][0] + _COMPOUND_WORDS[words[i + 1]], out[-1][1], i + 1)  # nur al din -> nurdin
            i += 2
            continue
        if prefixes and word in GLUE_PREFIXES and i + 1 < len(words):
            j = i + 1
            if words[j] in _ARTICLES and j + 1 < len(words):
                j += 1  # abd al rahman -> abdrahman (the article is spelling, not name)
            stem = "abd" if word.startswith("abd") else word
            out.append((stem + words[j], i, j))
            i = j + 1
            continue
        if word.startswith("abd"):
            word = "abdallah" if _ABD_ALLAH.match(word) else _ABD_ARTICLE.sub("abd", word)
        out.append((_compound(word), i, i))
        i += 1
    return out


def _join_letters(words: list[str]) -> list[Spanned]:
    """Runs of single letters in an organisation's name are one acronym: A.B.C. = ABC."""
    out: list[Spanned] = []
    start = 0
    for i, word in enumerate([*words, ""]):
        if len(word) == 1:
            continue
        if start < i:
            out.append(("".join(words[start:i]), start, i - 1))
        if word:
            out.append((word, i, i))
        start = i + 1
    return out


@lru_cache(maxsize=1_000)
def _legal_token(word: str) -> Token:
    key = token_key(word)
    return Token(word, key, token_skeleton(word, key), True)


@lru_cache(maxsize=200_000)
def _token(word: str) -> Token:
    key = token_key(word)
    bare = _ARTICLE_PREFIX.sub("", word)
    # A glue prefix reaches here alone when no noun follows it (Wali Seddiqi Abdul): it still
    # counts as a word (an "Abdul" says the name is Abdul-something, which "Idris" alone does
    # not), and the matcher may join it to its noun elsewhere in the other name.
    return Token(word, key, token_skeleton(word, key), word in PARTICLES, token_key(bare) if bare != word else None)


@lru_cache(maxsize=100_000)
def name_tokens(name: str, organisation: bool = False) -> tuple[Token, ...]:
    """Tokens of one name.

    For an organisation, legal forms in any language are rewritten by rigour to a generic class
    (ТОО / LLP, Limited / LLC, АО / Joint Stock Company / JSC) and marked like particles, as are
    generic words (company, group) and stopwords: they still align, but a missing or different
    one costs little. Single letters in a row are one acronym.
    """
    return _tokenise(name, organisation)[0]


#: Readings of a name with a glue prefix moved before another word: at most this many.
MAX_REGLUED = 4


def reglued_variants(name: str) -> list[str]:
    """A person's name with a glue prefix (Abdul, Abu, Umm) written before another word than
    the one it stands before — or last, with no word after it — also read with the prefix moved
    before each other word: "Manan Agha Abdul" -> "Abdul Manan Agha", "Manan Abdul Agha". For
    names reordered by a system or a person (a given-name field holding only the prefix,
    appended after the family name): the prefix then glues to its own noun, which an index finds.
    At most `MAX_REGLUED`, in word order; [] for a name without a glue prefix."""
    words = name.split()
    if len(words) < 2 or len(words) > 8 or "," in name:
        return []  # "FAMILY, Given": its natural order is read instead (`names.variants`)
    found: list[str] = []
    for k, word in enumerate(words):
        if k == 0 or latinize(word) not in GLUE_PREFIXES:
            continue  # a name that starts with its prefix is in natural order
        rest = words[:k] + words[k + 1 :]
        for j in range(len(rest)):
            if j == k or latinize(rest[j]) in GLUE_PREFIXES or latinize(rest[j]) in PARTICLES:
                continue  # j == k: the prefix already stands before that word
            moved = " ".join([*rest[:j], word, *rest[j:]])
            if moved not in found:
                found.append(moved)
            if len(found) >= MAX_REGLUED:
                return found
    return found


#: How a token glued from a prefix and its noun starts (abd..., abu..., umm...); the matcher
#: reads it too.
_GLUED_STARTS = ("abd", "abu", "abou", "abo", "umm", "um")


def unglued_tokens(name: str) -> tuple[Token, ...] | None:
    """A person's name tokens with the glue prefixes left apart (Salam Abdul Bhuttavi: salam,
    abdul, bhuttavi, not salam, abdbhuttavi), or None when that changes nothing. For names
    whose words were reordered, so the prefix stands before another noun than its own: the
    matcher can then join it to the right one (see `matching.features`)."""
    glued = name_tokens(name, False)
    if not any(t.text.startswith(_GLUED_STARTS) for t in glued):
        return None  # nothing was glued to a prefix: the reading would be the same
    tokens = _tokenise(name, False, False)[0]
    return tokens if tokens != glued else None


@lru_cache(maxsize=100_000)
def _tokenise(
    name: str, organisation: bool, glue: bool = True
) -> tuple[tuple[Token, ...], tuple[tuple[int, int], ...], list[str]]:
    """The tokens of a name, for each the positions (first, last) of the latinised words it
    was made from, and those words (for an organisation, after rigour rewrote its legal form).
    `glue` False: glue prefixes are not joined to the word after them (`unglued_tokens`)."""
    text = name
    legal: frozenset[str] = frozenset()
    if organisation:
        lowered = name.casefold()  # rigour misses upper-case Cyrillic forms (ТОО, АО)
        # An NGO's type is what most of its name says (Благотворительный фонд, Stiftung: a
        # charitable foundation), and rigour reads it in some languages, not in others
        # ("Charitable Foundation" stays words): such names are left to the vocabulary, so a
        # translated name keeps the words its original has.
        found = [item for item in extract_org_types(lowered, generic=True) if item[1] != "ngo"]
        if found:
            text = replace_org_types_compare(lowered, generic=True)
            legal = frozenset(w for _, form in found for w in latinize(form).split())
        text = org_rewrite(text)  # translated words meet the original: Корейская -> korea
    words = latinize(text).split()
    if not words:
        return (), (), words
    if organisation:
        joined = _join_letters(words)
        tokens = tuple(
            _legal_token(w) if w in legal or w in GENERIC_ORG_WORDS or is_stopword(w) else _token(w) for w, _, _ in joined
        )
        return tokens, tuple((a, b) for _, a, b in joined), words
    positions = [i for i, w in enumerate(words) if w not in HONORIFICS]
    if len(positions) < 2:
        positions = list(range(len(words)))
    glued = _glue([words[i] for i in positions], prefixes=glue)
    return tuple(_token(w) for w, _, _ in glued), tuple((positions[a], positions[b]) for _, a, b in glued), words


def squeezed(name: str, organisation: bool = False) -> str:
    """The name's latinised letters with no word boundaries, every word kept (honorifics and
    legal forms too: a boundary typed inside one, "Mullahh Uwaysh", "FINANCEl Imited", hides it
    from the word lists): "Myong-chin" and "Myongc-hin", "Razuki Abd" and "Razuk Iabd" squeeze
    to the same letters, where a boundary typed in the wrong place makes their tokens differ.
    `organisation` is accepted for symmetry with `name_tokens`; both kinds squeeze alike."""
    return "".join(latinize(name).split())


# -- where each token was written (explanations only) -----------------------------------------


def _separates(ch: str) -> bool:
    """Punctuation, symbols and separators split written words as latinize splits them, except
    the apostrophes that join letters (Ma'ruf)."""
    return ch not in APOSTROPHES and unicodedata.category(ch)[0] in "PSZ"


def _pieces(chunk: str, start: int) -> list[tuple[int, int]]:
    """Character spans of the runs of `chunk` between separators (al-Zawahiri: al, Zawahiri)."""
    spans: list[tuple[int, int]] = []
    begin: int | None = None
    for k, ch in enumerate(chunk + " "):
        if _separates(ch) or ch.isspace():
            if begin is not None:
                spans.append((start + begin, start + k))
                begin = None
        elif begin is None:
            begin = k
    return spans


def _refine(name: str, words: list[str], finer: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """The span of each of `words` (a chunk of `name`, latinised) if latinising the `finer`
    spans of the chunk one by one gives the same words; else None."""
    out: list[tuple[int, int]] = []
    flat: list[str] = []
    for piece in finer:
        latin = latinize(name[piece[0] : piece[1]]).split()
        flat.extend(latin)
        out.extend([piece] * len(latin))
    return out if flat == words else None


_ASCII_APOSTROPHES = "".join(c for c in APOSTROPHES if c.isascii())
_ASCII_WORD = re.compile(f"[A-Za-z0-9{re.escape(_ASCII_APOSTROPHES)}]+")
_NO_APOSTROPHES = str.maketrans("", "", _ASCII_APOSTROPHES)


def _written_words(name: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The latinised words of `name`, each with the character span it was written in: the
    smallest of its whitespace chunk, the chunk's run between punctuation, or its character
    (Han: 金正恩 is jin zheng en), that latinises to exactly that word."""
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    if name.isascii():  # the common case, as latinize reads ASCII: apostrophes join, all else splits
        for m in _ASCII_WORD.finditer(name):
            word = m.group().lower().translate(_NO_APOSTROPHES)
            if word:
                words.append(word)
                spans.append(m.span())
        return words, spans
    for m in re.finditer(r"\S+", name):
        chunk_words = latinize(m.group()).split()
        refined = _refine(name, chunk_words, _pieces(m.group(), m.start()))
        if refined is None or len(set(refined)) < len(refined):  # a run made several words
            refined = _refine(name, chunk_words, [(k, k + 1) for k in range(m.start(), m.end())]) or refined
        chunk_spans = refined or [m.span()] * len(chunk_words)
        words.extend(chunk_words)
        spans.extend(chunk_spans)
    return words, spans


def _word_spans(compared: list[str], written: list[str], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character span of each compared word: the written word it is (or, where rigour rewrote
    a legal form or latinising a whole name split it differently, the written words it replaced)."""
    if compared == written:
        return spans
    out: list[tuple[int, int]] = [(0, 0)] * len(compared)
    if not spans:
        return out
    matcher = difflib.SequenceMatcher(None, written, compared, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            out[b0:b1] = spans[a0:a1]
        elif op == "replace" and a1 - a0 == b1 - b0:  # word for word (a legal form, a translated word)
            out[b0:b1] = spans[a0:a1]
        elif op in ("replace", "insert"):
            a0, a1 = (a0, a1) if a1 > a0 else (max(a0 - 1, 0), max(a0, 1))  # inserted: its neighbour
            whole = (spans[a0][0], spans[min(a1, len(spans)) - 1][1])
            out[b0:b1] = [whole] * (b1 - b0)
    return out


def token_spans(name: str, organisation: bool = False, glue: bool = True) -> tuple[tuple[int, int], ...]:
    """For each token of `name_tokens(name, organisation)`, the character span of `name` it was
    made from: the word as written, in its own script (Sirajuddin for sirajdin; the joined span
    "Abd al-Hakim" for abdhakim; ТОО for the legal form llp). Computed for explanations only,
    never on the scoring path."""
    # Called as `name_tokens` calls it when glued, so the lru_cache finds the same entry.
    _, positions, compared = _tokenise(name, organisation) if glue else _tokenise(name, organisation, glue)
    written, spans = _written_words(name)
    at = _word_spans(compared, written, spans)
    return tuple((at[first][0], at[last][1]) for first, last in positions)
