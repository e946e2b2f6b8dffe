"""The features of a (query, candidate) pair: small pure functions, each with a weight.

Each feature reads two `Compiled` records and returns a `FeatureResult` with its own score, its
weight from `MatchConfig`, and the query and candidate values it read. The total score is the name
similarity plus the weighted evidence features (negative weights for conflicts), clipped to
[0, 1] by the scorer. `FEATURES` lists the evidence features in the order they are explained.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from qalqan.matching.compiled import Compiled, CompiledName, token_weights
from qalqan.matching.config import MatchConfig
from qalqan.model import AlignedToken, DateKind, FeatureResult, MissingSide, PartialDate
from qalqan.names.tokens import _GLUED_STARTS, GLUE_PREFIXES, Token, name_tokens, token_spans, unglued_tokens
from qalqan.names.translit import latinize

# -- which side lacks a value ------------------------------------------------------------------


#: The side lacking a value, by (the query has it, the candidate has it).
_MISSING: Mapping[tuple[bool, bool], MissingSide | None] = {
    (True, True): None,
    (True, False): "candidate",
    (False, True): "query",
    (False, False): "both",
}


def _lacking(what: str) -> Mapping[MissingSide | None, str | None]:
    """A feature's `detail`, by the side that gives no `what`, in words: "missing" alone does not
    tell an analyst whether the subject or the listed entry lacks it."""
    return {
        None: None,
        "query": f"query has no {what}",
        "candidate": f"candidate has no {what}",
        "both": f"neither side has a {what}",
    }


_NO_NAME = _lacking("name")
_NO_DATE = _lacking("date of birth")
_NO_COUNTRY = _lacking("nationality or country")
_NO_NATIONALITY = _lacking("nationality")
_NO_DOCUMENT = _lacking("document number")
_NO_GENDER = _lacking("gender")
_NO_IMO = _lacking("IMO number")
_NO_VESSEL_ID = _lacking("MMSI or call sign")
_NO_FLAG = _lacking("flag")


# -- names ------------------------------------------------------------------------------------


def token_similarity(a: Token, b: Token, config: MatchConfig) -> tuple[float, str]:
    """How alike two tokens are, and on what evidence.

    Same spelling 1.0; a glue prefix standing alone meets only another spelling of the prefix
    (`key_similarity`); same spelling-variant key (Mohammed / Muhammad) `key_similarity`; an
    initial against a token with that first letter `initial_similarity`; same consonant skeleton
    (voicing folded, and an Arabic interdental written th or dh after the first letter counting
    as the s or z that Russian, Kazakh, Turkish and Persian practice write: Uthman / Usman,
    Qadhafi / Казафи), or the same key once an article written onto the word is removed (Elsseid / Sayid),
    `skeleton_similarity`, as is a 3- or 4-letter token with two letters after the first swapped
    (Sok / Sko); else, if the spellings (from 5 letters) or the keys (from 7) are within
    an edit budget (one edit up to 8 letters, two beyond: Daniel / Donald are two names,
    Zawahiri / Zawahry one), their edit similarity (if at least `fuzzy_floor`, scaled so a fuzzy match never
    outranks a variant match); else 0. Edits are counted by optimal string alignment, so two
    adjacent letters typed the wrong way round (Ahmad / Amhad, Lakhal / Lakahl) are one edit, not
    two.
    """
    x, y = a.text, b.text
    if x == y:
        return 1.0, "exact"
    if x in GLUE_PREFIXES or y in GLUE_PREFIXES:
        # a glue prefix standing alone (no noun after it) is a spelling of the prefix, not a
        # name to fuzz: Abdul meets Abdel, never Abdullah or Abdi
        same = _glue_stem(x) is not None and _glue_stem(x) == _glue_stem(y)
        return (config.key_similarity, "variant") if same else (0.0, "unmatched")
    if a.key == b.key:
        return config.key_similarity, "variant"
    nx, ny = len(x), len(y)
    if nx == 1 or ny == 1:
        if x[0] == y[0]:
            return config.initial_similarity, "initial"
        return 0.0, "unmatched"
    if len(a.skeleton) >= 3 and a.skeleton == b.skeleton:
        return config.skeleton_similarity, "skeleton"
    if nx == ny and _short_transposition(x, y):
        return config.skeleton_similarity, "fuzzy"
    if (a.bare or b.bare) and (a.bare or a.key) == (b.bare or b.key):
        return config.skeleton_similarity, "article"
    # The spellings (from 5 letters), then the keys (from 7), each within its edit budget. Every
    # edit changes the length by at most one: a length gap over the budget is over it.
    longest = nx if nx > ny else ny
    if longest >= 5:
        budget = 1 if longest <= 8 else 2
        if abs(nx - ny) <= budget:
            found = _budgeted(x, y, longest, budget, config)
            if found:
                return found, "fuzzy"
    x, y = a.key, b.key
    nx, ny = len(x), len(y)
    longest = nx if nx > ny else ny
    if longest >= 7:
        budget = 1 if longest <= 8 else 2
        if abs(nx - ny) <= budget:
            found = _budgeted(x, y, longest, budget, config)
            if found:
                return found, "fuzzy"
    return 0.0, "unmatched"


def _budgeted(x: str, y: str, longest: int, budget: int, config: MatchConfig) -> float:
    """The fuzzy similarity of two spellings within `budget` edits of each other (optimal string
    alignment) and at least `fuzzy_floor` alike, scaled by `key_similarity`; else 0."""
    distance = OSA.distance(x, y, score_cutoff=budget)
    sim = 1.0 - distance / longest
    if distance <= budget and sim >= config.fuzzy_floor:
        return sim * config.key_similarity
    return 0.0


def _short_transposition(x: str, y: str) -> bool:
    """Two 3- or 4-letter tokens that are one adjacent transposition apart after their first
    letter (Sok / Sko, Omar / Omra): too short for an edit budget, but a swap keeps every letter."""
    n = len(x)
    if n != len(y) or not 3 <= n <= 4 or x[0] != y[0]:
        return False
    diff = [k for k in range(n) if x[k] != y[k]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]]


#: Memo of token similarities for one configuration: {query text: {candidate text: (sim, how)}}.
#: Two levels, so the hot loop looks up one row per query token and no tuple keys are built.
SimilarityMemo = dict[str, dict[str, tuple[float, str]]]
#: A memo is dropped when it holds more query tokens than this (bounded memory on endless streams).
_MEMO_LIMIT = 200_000


def _memo_rows(tokens: tuple[Token, ...], memo: SimilarityMemo | None) -> list[dict[str, tuple[float, str]]]:
    if memo is None:
        return [{} for _ in tokens]
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    return [memo.setdefault(t.text, {}) for t in tokens]


def query_memo_rows(query: Compiled, memo: SimilarityMemo | None) -> list[list[dict[str, tuple[float, str]]]]:
    """The memo rows of each name of `query` (`best_name_pair`'s `query_rows`): looked up once
    per query, not once per candidate."""
    return [_memo_rows(name.tokens, memo) for name in query.names]


def align_names(
    query: CompiledName,
    candidate: CompiledName,
    config: MatchConfig,
    memo: SimilarityMemo | None = None,
    explain: bool = True,
    rows: list[dict[str, tuple[float, str]]] | None = None,
) -> tuple[float, tuple[AlignedToken, ...]]:
    """Similarity of two names in [0, 1] and the token alignment behind it.

    Token weights are the names' own `weights` (rarity from the index; uniform when absent).
    Tokens are paired greedily by similarity (each used once; order does not matter, since lists
    and users order given and family names differently). Tokens left over may still meet as
    one word against two adjacent words. Coverage on each side is the rarity-weighted share of
    its tokens matched; the score is `qc ** query_exponent * cc ** candidate_exponent`.
    Two names with the same letters in the same order whose word boundaries fall elsewhere
    (Myong-chin / Myongc-hin, Razuki Abd / Razuk Iabd: equal `squeezed` digests) score at least
    `skeleton_similarity`, explained as one joined step. Two organisation names that are both
    parts of bracketed names (`CompiledName.partial`: "AL-HARAMAYN FOUNDATION" of "... (KENYA)"
    and of "... (TANZANIA)", or two acronyms in brackets alone) score `bracket_part_factor` of
    their alignment: the parts each side left out may tell them apart, and the whole names,
    also compared, score in full when they agree.
    With `explain=False` the alignment steps are not built (the scoring hot path); `rows` are
    the query tokens' memo rows, when the caller already has them.
    """
    if not explain:
        return _name_score(query, candidate, config, rows if rows is not None else _memo_rows(query.tokens, memo)), ()
    qt, ct = query.tokens, candidate.tokens
    qw = query.weights or _uniform(qt, config)
    cw = candidate.weights or _uniform(ct, config)
    pairs: list[tuple[float, int, int, str]] = []
    for i, (a, row) in enumerate(zip(qt, rows if rows is not None else _memo_rows(qt, memo))):
        for j, b in enumerate(ct):
            found = row.get(b.text)
            if found is None:
                found = row[b.text] = token_similarity(a, b, config)
            if found[0] > 0.0:
                pairs.append((found[0], -i, -j, found[1]))
    if len(pairs) > 1:
        pairs.sort(reverse=True)
    q_sim = [0.0] * len(qt)
    c_sim = [0.0] * len(ct)
    steps: list[AlignedToken] = []
    step = _Steps(query, candidate, steps) if explain else None
    for sim, i, j, how in pairs:
        i, j = -i, -j
        if q_sim[i] == 0.0 and c_sim[j] == 0.0:
            q_sim[i] = c_sim[j] = sim
            if step is not None:
                step.pair(i, j, sim, how, qw[i])
    if (candidate.joined and 0.0 in q_sim) or (query.joined and 0.0 in c_sim):
        _align_joined(query, candidate, q_sim, c_sim, config, step)
    if step is not None:
        for i in range(len(qt)):
            if not q_sim[i]:
                step.query_only(i, qw[i])
        for j in range(len(ct)):
            if not c_sim[j]:
                step.candidate_only(j, cw[j])
    q_total = sum(qw) or 1.0
    c_total = sum(cw) or 1.0
    qc = sum([w * s for w, s in zip(qw, q_sim)]) / q_total
    cc = sum([w * s for w, s in zip(cw, c_sim)]) / c_total
    score = qc**config.query_exponent * cc**config.candidate_exponent if qc > 0.0 and cc > 0.0 else 0.0
    if query.squeezed and query.squeezed == candidate.squeezed and score < config.skeleton_similarity:
        score = config.skeleton_similarity
        if step is not None:
            steps[:] = [_whole_joined(query, candidate, score)]
    if score <= 0.0:
        return 0.0, tuple(steps)
    if candidate.low_quality:
        score *= config.low_quality_factor
    if candidate.partial and query.partial and candidate.organisation:
        score *= config.bracket_part_factor
    return min(score, 1.0), tuple(steps)


def _name_score(
    query: CompiledName, candidate: CompiledName, config: MatchConfig, rows: list[dict[str, tuple[float, str]]]
) -> float:
    """`align_names(...)[0]` without the alignment steps (the scoring hot path): the same
    arithmetic in the same order, so the same score to the last bit. `rows` are the query
    tokens' memo rows (`_memo_rows`)."""
    qt, ct = query.tokens, candidate.tokens
    pairs: list[tuple[float, int, int]] = []
    for i, row in enumerate(rows):
        for j, b in enumerate(ct):
            found = row.get(b.text)
            if found is None:
                found = row[b.text] = token_similarity(qt[i], b, config)
            if found[0] > 0.0:
                pairs.append((found[0], -i, -j))
    q_sim = [0.0] * len(qt)
    c_sim = [0.0] * len(ct)
    if pairs:
        if len(pairs) > 1:
            pairs.sort(reverse=True)  # (i, j) never repeat: the order of `align_names`' 4-tuples
        for sim, i, j in pairs:
            if q_sim[-i] == 0.0 and c_sim[-j] == 0.0:
                q_sim[-i] = c_sim[-j] = sim
    if (candidate.joined and 0.0 in q_sim) or (query.joined and 0.0 in c_sim):
        _align_joined(query, candidate, q_sim, c_sim, config, None)
    score = 0.0
    if any(q_sim) and any(c_sim):  # else a side has no token met: its coverage, and the score, 0
        qw = query.weights or _uniform(qt, config)
        cw = candidate.weights or _uniform(ct, config)
        qc = sum([w * s for w, s in zip(qw, q_sim)]) / (sum(qw) or 1.0)
        cc = sum([w * s for w, s in zip(cw, c_sim)]) / (sum(cw) or 1.0)
        if qc > 0.0 and cc > 0.0:
            score = qc**config.query_exponent * cc**config.candidate_exponent
    if query.squeezed and query.squeezed == candidate.squeezed and score < config.skeleton_similarity:
        score = config.skeleton_similarity
    if score <= 0.0:
        return 0.0
    if candidate.low_quality:
        score *= config.low_quality_factor
    if candidate.partial and query.partial and candidate.organisation:
        score *= config.bracket_part_factor
    return min(score, 1.0)


def _whole_joined(query: CompiledName, candidate: CompiledName, similarity: float) -> AlignedToken:
    """One step for two names with the same letters and word boundaries in other places
    (Myong-chin / Myongc-hin): the whole names met as one word each."""
    q_key = " ".join(t.text for t in query.tokens)
    c_key = " ".join(t.text for t in candidate.tokens)
    return AlignedToken(
        query.value, candidate.value, similarity, "joined", 1.0, q_key, c_key, latinize(query.value), latinize(candidate.value)
    )


#: A one-word-against-two match needs this many skeleton letters ("khanna" / "han yu" is "hn").
_MIN_JOINED_SKELETON = 4


class _Steps:
    """Builds the alignment steps of one name pair, each token shown as written in its name,
    latinised, and as compared. Only explanations build it: where each token was written is
    found from the names as written when a result is explained, never while scoring."""

    def __init__(self, query: CompiledName, candidate: CompiledName, out: list[AlignedToken]):
        self.query, self.candidate, self.out = query, candidate, out
        self.query_forms = _written_forms(query.value, query.organisation, query.glued)
        self.candidate_forms = _written_forms(candidate.value, candidate.organisation, candidate.glued)

    def pair(self, i: int, j: int, similarity: float, how: str, weight: float) -> None:
        _, _, q_written, q_latin, q_key = self.query_forms[i]
        _, _, c_written, c_latin, c_key = self.candidate_forms[j]
        self.out.append(AlignedToken(q_written, c_written, similarity, how, weight, q_key, c_key, q_latin, c_latin))

    def query_only(self, i: int, weight: float) -> None:
        _, _, written, latin, key = self.query_forms[i]
        self.out.append(AlignedToken(written, None, 0.0, "unmatched", weight, key, None, latin, None))

    def candidate_only(self, j: int, weight: float) -> None:
        _, _, written, latin, key = self.candidate_forms[j]
        self.out.append(AlignedToken(None, written, 0.0, "unmatched", weight, None, key, None, latin))

    def apart(self, single: int, prefix: int, noun: int, similarity: float, query_is_single: bool) -> None:
        """Token `single` of one name against a glue prefix and its noun written apart, in another
        order, in the other (abdwali / "Wali ... Abdul")."""
        if query_is_single:
            one, two_forms = self.query_forms[single][2:], self.candidate_forms
        else:
            one, two_forms = self.candidate_forms[single][2:], self.query_forms
        first, second = two_forms[prefix], two_forms[noun]
        two = (f"{first[2]} … {second[2]}", f"{first[3]} {second[3]}", f"{first[4]} {second[4]}")
        q, c = (one, two) if query_is_single else (two, one)
        self.out.append(AlignedToken(q[0], c[0], similarity, "joined", 1.0, q[2], c[2], q[1], c[1]))

    def joined(self, single: int, double: int, similarity: float, query_is_single: bool) -> None:
        """Token `single` of one name against tokens `double`, `double + 1` of the other."""
        if query_is_single:
            one, two_name, two_forms = self.query_forms[single][2:], self.candidate, self.candidate_forms
        else:
            one, two_name, two_forms = self.candidate_forms[single][2:], self.query, self.query_forms
        first, second = two_forms[double], two_forms[double + 1]
        two_written = two_name.value[first[0] : second[1]].strip() or f"{first[2]} {second[2]}"
        two = (two_written, latinize(two_written), f"{first[4]} {second[4]}")
        q, c = (one, two) if query_is_single else (two, one)
        self.out.append(AlignedToken(q[0], c[0], similarity, "joined", 1.0, q[2], c[2], q[1], c[1]))


#: One token of a name as written: (start, end) of its span in the name, the span as written,
#: latinised, and the token as compared.
WrittenForm = tuple[int, int, str, str, str]


@lru_cache(maxsize=20_000)
def _written_forms(value: str, organisation: bool, glued: bool = True) -> tuple[WrittenForm, ...]:
    """Each token of the name `value` as written, latinised and compared (memoised: a listed
    name is explained again and again); `glued` False for a name's `unglued_tokens`."""
    tokens = name_tokens(value, organisation) if glued else (unglued_tokens(value) or name_tokens(value, organisation))
    spans = token_spans(value, organisation, glued)
    if len(spans) != len(tokens):  # cannot happen for tokens made from `value`; the key is still true
        return tuple((0, 0, t.text, t.text, t.text) for t in tokens)
    forms = []
    for (start, end), token in zip(spans, tokens):
        written = value[start:end].strip() or token.text
        forms.append((start, end, written, latinize(written), token.text))
    return tuple(forms)


def _uniform(tokens: tuple[Token, ...], config: MatchConfig) -> tuple[float, ...]:
    return token_weights(tokens, _one, config.particle_weight, config.initial_weight)


def _one(token: Token) -> float:
    return 1.0


def _align_joined(
    query: CompiledName,
    candidate: CompiledName,
    q_sim: list[float],
    c_sim: list[float],
    config: MatchConfig,
    step: _Steps | None,
) -> None:
    """Leftover tokens: one word on one side against two adjacent words written together on the
    other (Abdulrahman / Abdul Rahman, Kim Jongun / Kim Jong Un), by consonant skeleton (from
    `_MIN_JOINED_SKELETON` letters), or by the spelling of the two words run together, the same
    (Sufaat / Suf Aat) or within one edit from `_MIN_JOINED_FUZZY` letters (Abdrazaq / Abdl Razaq)."""
    # Every way in `_join_side` joins two unmatched words of the side written apart.
    if candidate.joined and c_sim.count(0.0) >= 2:
        _join_side(query, candidate, q_sim, c_sim, config, step, False)
    if query.joined and q_sim.count(0.0) >= 2:
        _join_side(candidate, query, c_sim, q_sim, config, step, True)


def _join_side(
    single: CompiledName,
    double: CompiledName,
    s_sim: list[float],
    d_sim: list[float],
    config: MatchConfig,
    step: _Steps | None,
    flip: bool,
) -> None:
    """`_align_joined` one way: each unmatched word of `single` against two unmatched words of
    `double` (which has `joined` pairs), joined or a glue prefix apart; `flip` when `single` is
    the candidate."""
    heads = double.heads
    k = len(double.joined)
    skeleton_heads, text_heads = heads[:k], heads[k:]
    for i, token in enumerate(single.tokens):
        if s_sim[i] or token.particle:
            continue
        text, skel = token.text, token.skeleton
        # `_joined_partner`'s own first test, inline: most words meet no pair at all.
        if (len(skel) >= _MIN_JOINED_SKELETON and skel[0] in skeleton_heads) or (len(text) >= 5 and text[0] in text_heads):
            found = _joined_partner(token, double, d_sim, config)
            if found is not None:
                j, joined_sim = found
                s_sim[i] = d_sim[j] = d_sim[j + 1] = joined_sim
                if step is not None:
                    step.joined(i, j, joined_sim, query_is_single=not flip)
                continue
        if text.startswith(_GLUED_STARTS):
            apart = _prefix_apart(token, double, d_sim)
            if apart is not None:
                p, n = apart
                s_sim[i] = d_sim[p] = d_sim[n] = config.skeleton_similarity
                if step is not None:
                    step.apart(i, p, n, config.skeleton_similarity, query_is_single=not flip)


def _glue_stem(text: str) -> str | None:
    """The stem a glue prefix leaves on the word it is glued to (abdul -> abd, abu -> abu)."""
    if text not in GLUE_PREFIXES:
        return None
    return "abd" if text.startswith("abd") else text


def _prefix_apart(token: Token, double: CompiledName, d_sim: list[float]) -> tuple[int, int] | None:
    """(prefix, noun) positions of two unmatched words of `double`, a glue prefix written apart
    from its noun in another place of the name (Wali Seddiqi Abdul, Jabir Abu Bakr Yunis), that
    together are `token` (abdwali); None if there are none. The prefix was not glued where it
    stood because the noun was not next to it: names reordered by a system or a person."""
    text = token.text
    if len(text) < 5 or not text.startswith(_GLUED_STARTS):
        return None
    tokens = double.tokens
    for p, prefix in enumerate(tokens):
        stem = None if d_sim[p] else _glue_stem(prefix.text)
        if stem is None or not text.startswith(stem):
            continue
        rest = text[len(stem) :]
        for n, noun in enumerate(tokens):
            if n != p and not d_sim[n] and not noun.particle and noun.text == rest:
                return p, n
    return None


#: Letters of two words run together from which one edit is allowed against a single word.
_MIN_JOINED_FUZZY = 7


def _joined_partner(token: Token, double: CompiledName, d_sim: list[float], config: MatchConfig) -> tuple[int, float] | None:
    """The first of two adjacent unmatched words of `double` that `token` is, written together,
    and the similarity they meet at; None if no pair is. One pass over the pairs, cheapest
    tests first (this runs for every unmatched token of every scored pair)."""
    skel = token.skeleton if len(token.skeleton) >= _MIN_JOINED_SKELETON else None
    text = token.text
    n = len(text)
    if skel is None and n < 5:
        return None
    first = text[0]
    joined = double.joined
    heads = double.heads
    if heads:
        # Every way below needs a pair whose skeleton starts as `skel` does, or (from 5
        # letters) whose first word starts with `first`: none, no pair is a partner.
        k = len(joined)
        if (skel is None or heads.find(skel[0], 0, k) < 0) and (n < 5 or heads.find(first, k) < 0):
            return None
    tokens = double.tokens
    sim = config.skeleton_similarity
    for joined_skel, pos in joined:
        if d_sim[pos] or d_sim[pos + 1]:
            continue
        if joined_skel == skel:
            return pos, sim
        if n < 5:
            continue
        a, b = tokens[pos].text, tokens[pos + 1].text
        if a[0] != first or abs(len(a) + len(b) - n) > 1:
            continue
        together = a + b
        if together == text:
            return pos, sim
        longest = max(len(together), n)
        if longest >= _MIN_JOINED_FUZZY and OSA.distance(together, text, score_cutoff=1) <= 1:
            fuzzy = (1.0 - 1.0 / longest) * config.key_similarity
            if fuzzy >= config.fuzzy_floor:
                return pos, min(fuzzy, sim)
    return None


NamePair = tuple[float, CompiledName, CompiledName] | None


def best_name_pair(
    query: Compiled,
    candidate: Compiled,
    config: MatchConfig,
    memo: SimilarityMemo | None = None,
    relevant: frozenset[str] | None = None,
    query_rows: list[list[dict[str, tuple[float, str]]]] | None = None,
) -> NamePair:
    """The best-aligned (query name, candidate name) pair and its score, or None if a side has
    no names. The scoring hot path: no explanation is built.

    `relevant` (optional, from candidate retrieval) is the set of token keys the query can stand
    for; a candidate name holding none of them is not aligned, unless no name holds any or it
    has the letters of a query name (`CompiledName.squeezed`: the same name, its word
    boundaries elsewhere).
    `query_rows` (optional) are `query_memo_rows(query, memo)`, for a caller scoring many
    candidates for one query.
    """
    best: NamePair = None
    names = candidate.names
    if relevant is not None and len(names) > 1:
        isdisjoint = relevant.isdisjoint
        digests = [qn.squeezed for qn in query.names if qn.squeezed]
        names = (
            tuple([n for n in names if not isdisjoint([t.key for t in n.tokens]) or (n.squeezed and n.squeezed in digests)])
            or names
        )
    for k, qn in enumerate(query.names):
        rows = query_rows[k] if query_rows is not None else _memo_rows(qn.tokens, memo)
        for cn in names:
            score = _name_score(qn, cn, config, rows)
            if best is None or score > best[0]:
                best = (score, qn, cn)
                if score >= 1.0:  # no later pair can score higher (a name scores at most 1)
                    return best
    return best


def explain_name_pair(
    query: Compiled, candidate: Compiled, pair: NamePair, config: MatchConfig, memo: SimilarityMemo | None = None
) -> FeatureResult:
    """The name feature for a pair found by `best_name_pair`, with its token alignment."""
    if pair is None:
        side = _MISSING[bool(query.names), bool(candidate.names)] or "both"
        q_value = query.names[0].value if query.names else None
        c_value = candidate.names[0].value if candidate.names else None
        return FeatureResult("name", 0.0, 1.0, q_value, c_value, _NO_NAME[side], missing=side)
    _, qn, cn = pair
    score, steps = align_names(qn, cn, config, memo, explain=True)
    return FeatureResult("name", score, 1.0, qn.value, cn.value, None, steps)


def name_similarity(
    query: Compiled,
    candidate: Compiled,
    config: MatchConfig,
    memo: SimilarityMemo | None = None,
    relevant: frozenset[str] | None = None,
) -> FeatureResult:
    """Best alignment over every name of both sides (aliases and original-script names
    included; low-quality aliases discounted by `low_quality_factor`). Weight 1: the base score."""
    return explain_name_pair(query, candidate, best_name_pair(query, candidate, config, memo, relevant), config, memo)


# -- dates of birth ---------------------------------------------------------------------------


def _one_digit_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def compare_dates(q: PartialDate, c: PartialDate, config: MatchConfig) -> tuple[float, float, str]:
    """(support, conflict, how) for one pair of dates of birth, each of support/conflict in [0, 1].

    exact: equal at the precision both give; same-year: equal years, one side less precise;
    in-range: inside an approximate (± `approximate_years`) or BETWEEN range; day-month-swapped;
    digit-typo: one digit of a full date differs; year-off-by-one; same-year-other-day; else conflicting.
    """
    if c.kind is not DateKind.EXACT or q.kind is not DateKind.EXACT:
        slack = config.approximate_years
        lo = min(q.first_year, c.first_year)
        q_lo = q.first_year - (slack if q.kind is DateKind.APPROXIMATE else 0)
        q_hi = q.last_year + (slack if q.kind is DateKind.APPROXIMATE else 0)
        c_lo = c.first_year - (slack if c.kind is DateKind.APPROXIMATE else 0)
        c_hi = c.last_year + (slack if c.kind is DateKind.APPROXIMATE else 0)
        del lo
        if q_lo <= c_hi and c_lo <= q_hi:
            return 0.6, 0.0, "in-range"
        return 0.0, 1.0, "outside-range"
    if q.year == c.year:
        if q.month is None or c.month is None:
            return (1.0 if q.month == c.month else 0.8), 0.0, ("exact" if q.month == c.month else "same-year")
        if q.month == c.month and (q.day is None or c.day is None or q.day == c.day):
            return (1.0 if q.day == c.day else 0.85), 0.0, ("exact" if q.day == c.day else "same-month")
        if q.day is not None and c.day is not None:
            if q.day == c.month and q.month == c.day:
                return 0.7, 0.0, "day-month-swapped"
            if _one_digit_apart(f"{q.month:02d}{q.day:02d}", f"{c.month:02d}{c.day:02d}"):
                return 0.5, 0.0, "digit-typo"
        return 0.2, 0.4, "same-year-other-day"
    same_rest = q.month == c.month and q.day == c.day
    if same_rest and abs(q.year - c.year) == 1:
        return 0.4, 0.0, "year-off-by-one"
    if same_rest and q.day is not None and _one_digit_apart(str(q.year), str(c.year)):
        return 0.4, 0.0, "digit-typo"
    if abs(q.year - c.year) == 1:
        return 0.1, 0.5, "year-off-by-one"
    return 0.0, 1.0, "conflicting"


class _LastPair(threading.local):
    """The last pair compared by `_best_dates` / `_document_pairs` and the result, per thread:
    each is read by two features (support, then conflict) in a row, so one entry halves the
    work. Thread-local because the HTTP service scores in a thread pool."""

    dates: tuple[object, object, object, object] = (None, None, None, None)
    documents: tuple[object, object, object] = (None, None, None)


_last = _LastPair()


def _best_dates(query: Compiled, candidate: Compiled, config: MatchConfig) -> tuple[float, float, str, str, str] | None:
    if not query.birth_dates or not candidate.birth_dates:
        return None
    last = _last.dates
    if last[0] is query and last[1] is candidate and last[2] is config:
        return last[3]  # type: ignore[return-value]
    result = _compare_all_dates(query, candidate, config)
    _last.dates = (query, candidate, config, result)
    return result


def _compare_all_dates(query: Compiled, candidate: Compiled, config: MatchConfig) -> tuple[float, float, str, str, str]:
    best: tuple[float, float, str, PartialDate, PartialDate] | None = None
    for q in query.birth_dates:
        for c in candidate.birth_dates:
            support, conflict, how = compare_dates(q, c, config)
            if best is None or (support - conflict) > (best[0] - best[1]):
                best = (support, conflict, how, q, c)
    assert best is not None
    return best[0], best[1], best[2], str(best[3]), str(best[4])


def _dates_missing(feature: str, weight: float, query: Compiled, candidate: Compiled) -> FeatureResult:
    side = _MISSING[bool(query.birth_dates), bool(candidate.birth_dates)] or "both"
    q_value, c_value = query.shown_birth_dates, candidate.shown_birth_dates
    return FeatureResult(feature, 0.0, weight, q_value, c_value, _NO_DATE[side], (), side)


def dob_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Support from dates of birth: exact 1.0 down to a near miss (off by a year, a typo'd digit,
    day and month swapped). The best pair over all dates of both sides counts."""
    best = _best_dates(query, candidate, config)
    if best is None:
        return _dates_missing("dob_match", config.dob_match_weight, query, candidate)
    return FeatureResult("dob_match", best[0], config.dob_match_weight, best[3], best[4], best[2])


def dob_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Dates of birth that cannot be the same person's. Counts against the score (negative
    weight) only when no pair of dates agrees."""
    best = _best_dates(query, candidate, config)
    if best is None:
        return _dates_missing("dob_conflict", -config.dob_conflict_weight, query, candidate)
    return FeatureResult("dob_conflict", best[1], -config.dob_conflict_weight, best[3], best[4], best[2])


# -- countries, documents, gender, schema -----------------------------------------------------


def _joined(values: frozenset[str]) -> str | None:
    return ", ".join(sorted(values)) or None


def nationality_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """A nationality or country in common (query nationalities and countries against the
    candidate's nationalities, residence and address countries)."""
    shared = query.countries & candidate.countries
    score = 1.0 if shared else 0.0
    side = _MISSING[bool(query.countries), bool(candidate.countries)]
    return FeatureResult(
        "nationality_match",
        score,
        config.nationality_match_weight,
        _joined(query.countries),
        _joined(candidate.countries),
        _NO_COUNTRY[side],
        missing=side,
    )


def country_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both sides give nationalities and no country of either side appears on the other. Kept
    light: people hold several nationalities and lists are incomplete."""
    conflict = bool(query.nationalities and candidate.nationalities and not (query.countries & candidate.countries))
    side = _MISSING[bool(query.nationalities), bool(candidate.nationalities)]
    return FeatureResult(
        "country_conflict",
        1.0 if conflict else 0.0,
        -config.country_conflict_weight,
        _joined(query.nationalities),
        _joined(candidate.nationalities),
        _NO_NATIONALITY[side],
        missing=side,
    )


def _document_pairs(query: Compiled, candidate: Compiled) -> tuple[float, str | None, str | None, str]:
    """The best pair of document numbers; both sides give some (`_documents_missing` is asked first)."""
    last = _last.documents
    if last[0] is query and last[1] is candidate:
        return last[2]  # type: ignore[return-value]
    result = _compare_all_documents(query, candidate)
    _last.documents = (query, candidate, result)
    return result


def _compare_all_documents(query: Compiled, candidate: Compiled) -> tuple[float, str | None, str | None, str]:
    best: tuple[float, str | None, str | None, str] = (0.0, None, None, "different")
    for q in query.documents:
        for c in candidate.documents:
            if q == c:
                return 1.0, q, c, "exact"
            if min(len(q), len(c)) >= 7 and Levenshtein.distance(q, c, score_cutoff=1) <= 1:
                best = (0.7, q, c, "one-character-off")
    if best[0] == 0.0:
        return 0.0, query.shown_documents, candidate.shown_documents, "different"
    return best


def _documents_missing(feature: str, weight: float, query: Compiled, candidate: Compiled) -> FeatureResult | None:
    if query.documents and candidate.documents:
        return None
    side = _MISSING[bool(query.documents), bool(candidate.documents)] or "both"
    q_value, c_value = query.shown_documents, candidate.shown_documents
    return FeatureResult(feature, 0.0, weight, q_value, c_value, _NO_DOCUMENT[side], (), side)


def document_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """The same identity-document number on both sides (after removing spaces, dashes, case and
    leading zeros): strong evidence. One character off counts 0.7 (a typo on a manifest)."""
    missing = _documents_missing("document_match", config.document_match_weight, query, candidate)
    if missing is not None:
        return missing
    score, q, c, how = _document_pairs(query, candidate)
    return FeatureResult("document_match", score, config.document_match_weight, q, c, how)


def document_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both sides give document numbers and none agrees. Light: a person has many documents."""
    missing = _documents_missing("document_conflict", -config.document_conflict_weight, query, candidate)
    if missing is not None:
        return missing
    score, q, c, how = _document_pairs(query, candidate)
    conflict = 1.0 if how == "different" else 0.0
    return FeatureResult("document_conflict", conflict, -config.document_conflict_weight, q, c, how)


def gender_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both genders known and different."""
    conflict = bool(query.gender and candidate.gender and query.gender != candidate.gender)
    side = _MISSING[bool(query.gender), bool(candidate.gender)]
    return FeatureResult(
        "gender_conflict",
        1.0 if conflict else 0.0,
        -config.gender_conflict_weight,
        query.gender,
        candidate.gender,
        _NO_GENDER[side],
        missing=side,
    )


COMPATIBLE_SCHEMATA: Mapping[str, frozenset[str]] = {
    "Person": frozenset({"Person", "LegalEntity"}),
    "Organization": frozenset({"Organization", "LegalEntity"}),
    "LegalEntity": frozenset({"Person", "Organization", "LegalEntity", "Vessel"}),
    "Vessel": frozenset({"Vessel", "LegalEntity"}),
}


def schema_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """A person queried against an organisation or a vessel (or the reverse): not the same thing.
    LegalEntity ("could be either") is compatible with both."""
    conflict = candidate.schema not in COMPATIBLE_SCHEMATA[query.schema]
    return FeatureResult(
        "schema_conflict", 1.0 if conflict else 0.0, -config.schema_conflict_weight, query.schema, candidate.schema
    )


# -- vessels ----------------------------------------------------------------------------------


def _imo_missing(feature: str, weight: float, query: Compiled, candidate: Compiled) -> FeatureResult | None:
    if query.imo and candidate.imo:
        return None
    side = _MISSING[bool(query.imo), bool(candidate.imo)] or "both"
    return FeatureResult(feature, 0.0, weight, _joined(query.imo), _joined(candidate.imo), _NO_IMO[side], (), side)


def imo_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """The same IMO number on both sides (a ship's, or a shipping company's; check digit valid,
    compared exactly): a ship keeps its IMO number for life while its name and flag change
    (renaming and reflagging are how listed tankers hide), so this alone reaches the threshold,
    whatever the name."""
    missing = _imo_missing("imo_match", config.imo_match_weight, query, candidate)
    if missing is not None:
        return missing
    shared = query.imo & candidate.imo
    q, c = (_joined(shared),) * 2 if shared else (_joined(query.imo), _joined(candidate.imo))
    return FeatureResult("imo_match", 1.0 if shared else 0.0, config.imo_match_weight, q, c, "exact" if shared else "different")


def imo_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both sides give IMO numbers and none agrees: another hull, however alike the names
    (sister ships are named SAM JONG 1 and SAM JONG 2)."""
    missing = _imo_missing("imo_conflict", -config.imo_conflict_weight, query, candidate)
    if missing is not None:
        return missing
    conflict = not (query.imo & candidate.imo)
    return FeatureResult(
        "imo_conflict", 1.0 if conflict else 0.0, -config.imo_conflict_weight,
        _joined(query.imo), _joined(candidate.imo), "different" if conflict else "exact",
    )


def vessel_id_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """The same MMSI or radio call sign on both sides (compared exactly, each with its own
    kind). Support, not proof: both are re-issued when a ship changes flag."""
    side = _MISSING[bool(query.vessel_ids), bool(candidate.vessel_ids)]
    shared = query.vessel_ids & candidate.vessel_ids
    q, c = (_joined(shared),) * 2 if shared else (_joined(query.vessel_ids), _joined(candidate.vessel_ids))
    detail = _NO_VESSEL_ID[side] if side else ("exact" if shared else "different")
    return FeatureResult("vessel_id_match", 1.0 if shared else 0.0, config.vessel_id_match_weight, q, c, detail, missing=side)


def flag_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both vessels give flags and none is shared. Light, and only when no IMO number agrees:
    flags change more often than names (a sanctioned tanker is reflagged to hide)."""
    side = _MISSING[bool(query.flags), bool(candidate.flags)]
    conflict = bool(query.flags and candidate.flags and not (query.flags & candidate.flags) and not (query.imo & candidate.imo))
    return FeatureResult(
        "flag_conflict", 1.0 if conflict else 0.0, -config.flag_conflict_weight,
        _joined(query.flags), _joined(candidate.flags), _NO_FLAG[side], missing=side,
    )


EvidenceFeature = Callable[[Compiled, Compiled, MatchConfig], FeatureResult]

#: The evidence features beyond the name, in explanation order.
FEATURES: tuple[EvidenceFeature, ...] = (
    dob_match,
    dob_conflict,
    nationality_match,
    country_conflict,
    document_match,
    document_conflict,
    gender_conflict,
    schema_conflict,
    imo_match,
    imo_conflict,
    vessel_id_match,
    flag_conflict,
)
