"""The features of a (query, candidate) pair: small pure functions, each with a weight.

Each feature reads two `Compiled` records and returns a `FeatureResult` with its own score, its
weight from `MatchConfig`, and the query and candidate values it read. The total score is the name
similarity plus the weighted evidence features (negative weights for conflicts), clipped to
[0, 1] by the scorer. `FEATURES` lists the evidence features in the order they are explained.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from rapidfuzz.distance import Levenshtein

from qalqan.matching.compiled import Compiled, CompiledName, token_weights
from qalqan.matching.config import MatchConfig
from qalqan.model import AlignedToken, DateKind, FeatureResult, PartialDate
from qalqan.names.tokens import Token

# -- names ------------------------------------------------------------------------------------


def token_similarity(a: Token, b: Token, config: MatchConfig) -> tuple[float, str]:
    """How alike two tokens are, and on what evidence.

    Same spelling 1.0; same spelling-variant key (Mohammed / Muhammad) `key_similarity`; an
    initial against a token with that first letter `initial_similarity`; same consonant skeleton,
    or the same key once an article written onto the word is removed (Elsseid / Sayid),
    `skeleton_similarity`; else, if the spellings (from 5 letters) or the keys (from 7) are within
    an edit budget (one edit up to 8 letters, two beyond: Daniel / Donald are two names,
    Zawahiri / Zawahry one), their Levenshtein similarity (if at least `fuzzy_floor`, scaled so a fuzzy match never
    outranks a variant match); else 0.
    """
    if a.text == b.text:
        return 1.0, "exact"
    if a.key == b.key:
        return config.key_similarity, "variant"
    if len(a.text) == 1 or len(b.text) == 1:
        if a.text[0] == b.text[0]:
            return config.initial_similarity, "initial"
        return 0.0, "unmatched"
    if len(a.skeleton) >= 3 and a.skeleton == b.skeleton:
        return config.skeleton_similarity, "skeleton"
    if (a.bare or b.bare) and (a.bare or a.key) == (b.bare or b.key):
        return config.skeleton_similarity, "article"
    for x, y, shortest_budgeted in ((a.text, b.text, 5), (a.key, b.key, 7)):
        longest = max(len(x), len(y))
        if longest < shortest_budgeted:
            continue
        budget = 1 if longest <= 8 else 2
        distance = Levenshtein.distance(x, y, score_cutoff=budget)
        sim = 1.0 - distance / longest
        if distance <= budget and sim >= config.fuzzy_floor:
            return sim * config.key_similarity, "fuzzy"
    return 0.0, "unmatched"


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
    With `explain=False` the alignment steps are not built (the scoring hot path); `rows` are
    the query tokens' memo rows, when the caller already has them.
    """
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
    for sim, i, j, how in pairs:
        i, j = -i, -j
        if q_sim[i] == 0.0 and c_sim[j] == 0.0:
            q_sim[i] = c_sim[j] = sim
            if explain:
                steps.append(AlignedToken(qt[i].text, ct[j].text, sim, how, qw[i]))
    if (candidate.joined and 0.0 in q_sim) or (query.joined and 0.0 in c_sim):
        _align_joined(query, candidate, q_sim, c_sim, config, steps if explain else None)
    if explain:
        steps.extend(AlignedToken(t.text, None, 0.0, "unmatched", qw[i]) for i, t in enumerate(qt) if not q_sim[i])
        steps.extend(AlignedToken(None, t.text, 0.0, "unmatched", cw[j]) for j, t in enumerate(ct) if not c_sim[j])
    q_total = sum(qw) or 1.0
    c_total = sum(cw) or 1.0
    qc = sum([w * s for w, s in zip(qw, q_sim)]) / q_total
    cc = sum([w * s for w, s in zip(cw, c_sim)]) / c_total
    if qc <= 0.0 or cc <= 0.0:
        return 0.0, tuple(steps)
    score = qc**config.query_exponent * cc**config.candidate_exponent
    if candidate.low_quality:
        score *= config.low_quality_factor
    return min(score, 1.0), tuple(steps)


#: A one-word-against-two match needs this many skeleton letters ("khanna" / "han yu" is "hn").
_MIN_JOINED_SKELETON = 4


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
    steps: list[AlignedToken] | None,
) -> None:
    """Leftover tokens: one word on one side against two adjacent words written together on the
    other (Abdulrahman / Abdul Rahman, Kim Jongun / Kim Jong Un), by consonant skeleton."""
    sim = config.skeleton_similarity
    for single, double, s_sim, d_sim, flip in ((query, candidate, q_sim, c_sim, False), (candidate, query, c_sim, q_sim, True)):
        if not double.joined:
            continue
        for i, token in enumerate(single.tokens):
            if s_sim[i] or token.particle or len(token.skeleton) < _MIN_JOINED_SKELETON:
                continue
            j = next((pos for skel, pos in double.joined if skel == token.skeleton), None)
            if j is None or d_sim[j] or d_sim[j + 1]:
                continue
            s_sim[i] = d_sim[j] = d_sim[j + 1] = sim
            if steps is not None:
                pair_text = f"{double.tokens[j].text} {double.tokens[j + 1].text}"
                q_text, c_text = (pair_text, token.text) if flip else (token.text, pair_text)
                steps.append(AlignedToken(q_text, c_text, sim, "joined", 1.0))


NamePair = tuple[float, CompiledName, CompiledName] | None


def best_name_pair(
    query: Compiled,
    candidate: Compiled,
    config: MatchConfig,
    memo: SimilarityMemo | None = None,
    relevant: frozenset[str] | None = None,
) -> NamePair:
    """The best-aligned (query name, candidate name) pair and its score, or None if a side has
    no names. The scoring hot path: no explanation is built.

    `relevant` (optional, from candidate retrieval) is the set of token keys the query can stand
    for; a candidate name holding none of them is not aligned, unless no name holds any.
    """
    best: NamePair = None
    names = candidate.names
    if relevant is not None and len(names) > 1:
        names = tuple(n for n in names if any(t.key in relevant for t in n.tokens)) or names
    for qn in query.names:
        rows = _memo_rows(qn.tokens, memo)
        for cn in names:
            score, _ = align_names(qn, cn, config, memo, explain=False, rows=rows)
            if best is None or score > best[0]:
                best = (score, qn, cn)
    return best


def explain_name_pair(pair: NamePair, config: MatchConfig, memo: SimilarityMemo | None = None) -> FeatureResult:
    """The name feature for a pair found by `best_name_pair`, with its token alignment."""
    if pair is None:
        return FeatureResult("name", 0.0, 1.0, None, None, "no-names")
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
    return explain_name_pair(best_name_pair(query, candidate, config, memo, relevant), config, memo)


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


def dob_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Support from dates of birth: exact 1.0 down to a near miss (off by a year, a typo'd digit,
    day and month swapped). The best pair over all dates of both sides counts."""
    best = _best_dates(query, candidate, config)
    if best is None:
        return FeatureResult("dob_match", 0.0, config.dob_match_weight, None, None, "missing")
    return FeatureResult("dob_match", best[0], config.dob_match_weight, best[3], best[4], best[2])


def dob_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Dates of birth that cannot be the same person's. Counts against the score (negative
    weight) only when no pair of dates agrees."""
    best = _best_dates(query, candidate, config)
    if best is None:
        return FeatureResult("dob_conflict", 0.0, -config.dob_conflict_weight, None, None, "missing")
    return FeatureResult("dob_conflict", best[1], -config.dob_conflict_weight, best[3], best[4], best[2])


# -- countries, documents, gender, schema -----------------------------------------------------


def _joined(values: frozenset[str]) -> str | None:
    return ", ".join(sorted(values)) or None


def nationality_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """A nationality or country in common (query nationalities and countries against the
    candidate's nationalities, residence and address countries)."""
    shared = query.countries & candidate.countries
    score = 1.0 if shared else 0.0
    return FeatureResult(
        "nationality_match", score, config.nationality_match_weight, _joined(query.countries), _joined(candidate.countries)
    )


def country_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both sides give nationalities and no country of either side appears on the other. Kept
    light: people hold several nationalities and lists are incomplete."""
    conflict = bool(query.nationalities and candidate.nationalities and not (query.countries & candidate.countries))
    return FeatureResult(
        "country_conflict",
        1.0 if conflict else 0.0,
        -config.country_conflict_weight,
        _joined(query.nationalities),
        _joined(candidate.nationalities),
    )


def _document_pairs(query: Compiled, candidate: Compiled) -> tuple[float, str | None, str | None, str]:
    if not query.documents or not candidate.documents:
        return (0.0, None, None, "missing")
    last = _last.documents
    if last[0] is query and last[1] is candidate:
        return last[2]  # type: ignore[return-value]
    result = _compare_all_documents(query, candidate)
    _last.documents = (query, candidate, result)
    return result


def _compare_all_documents(query: Compiled, candidate: Compiled) -> tuple[float, str | None, str | None, str]:
    best: tuple[float, str | None, str | None, str] = (0.0, None, None, "missing")
    for q in query.documents:
        for c in candidate.documents:
            if q == c:
                return 1.0, q, c, "exact"
            if min(len(q), len(c)) >= 7 and Levenshtein.distance(q, c, score_cutoff=1) <= 1:
                best = (0.7, q, c, "one-character-off")
    if best[0] == 0.0:
        return 0.0, _joined(query.documents), _joined(candidate.documents), "different"
    return best


def document_match(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """The same identity-document number on both sides (after removing spaces, dashes, case and
    leading zeros): strong evidence. One character off counts 0.7 (a typo on a manifest)."""
    score, q, c, how = _document_pairs(query, candidate)
    return FeatureResult("document_match", score, config.document_match_weight, q, c, how)


def document_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both sides give document numbers and none agrees. Light: a person has many documents."""
    score, q, c, how = _document_pairs(query, candidate)
    conflict = 1.0 if how == "different" else 0.0
    return FeatureResult("document_conflict", conflict, -config.document_conflict_weight, q, c, how)


def gender_conflict(query: Compiled, candidate: Compiled, config: MatchConfig) -> FeatureResult:
    """Both genders known and different."""
    conflict = bool(query.gender and candidate.gender and query.gender != candidate.gender)
    return FeatureResult(
        "gender_conflict", 1.0 if conflict else 0.0, -config.gender_conflict_weight, query.gender, candidate.gender
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
)
