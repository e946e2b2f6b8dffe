"""The watched population's side of screening, free of I/O: a subject record made comparable
(normalised data, its content hash, its prefilter tokens), the delta screener over what a list
version added or amended, and the exact prefilter that skips the subjects it could never retrieve.

Why the prefilter is exact. `NameIndex.candidates` retrieves an entity only through a query
token whose expansion over the index vocabulary is non-empty, or a shared document number, and
`Screener.match` scores a retrieved entity only if its retrieval gain reaches `min_coverage` of
the weight of one of the query's names (gain = sum over the name's tokens of rarity x expansion
similarity <= 1). So a subject is a candidate only when (a) one of its document numbers (or the
letters of one of its names) is in the delta index, or (b) for one of its names, the rarity of
the tokens that reach the delta vocabulary adds up to at least `min_coverage` of the rarity of
all that name's tokens. Both are decided from the stored token keys alone (stored name by name,
`NAME_SEPARATOR` before each name); a subject failing both could not get a single result from the
delta screener. Tokens stored before names were kept apart (no separator first) cannot tell one name
from another: such a subject is a candidate as soon as one of its tokens reaches the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qalqan.matching.compiled import Compiled
from qalqan.matching.config import MatchConfig
from qalqan.matching.index import Rarity, name_key_sets
from qalqan.matching.screener import Screener
from qalqan.model import Entity, ListInfo, Match, Query
from qalqan.model.codec import content_hash
from qalqan.model.identifiers import check_identifier, check_text
from qalqan.model.query import FieldWarning
from qalqan.names.tokens import Token, skeleton
from qalqan.sources.queries import MAX_NAME_CHARS, MAX_VALUE_CHARS, QUERY_COLUMNS, QueryRow, to_query_row

#: Prefix marking a document number among a subject's prefilter tokens (name keys are letters).
DOCUMENT_PREFIX = "#"
#: Prefilter tokens of a name's letters without word boundaries (`CompiledName.squeezed`, hex).
SQUEEZED_PREFIX = "="
#: Columns of a subject's stored data: the screening input without the id (kept apart as the
#: subject's external id).
DATA_COLUMNS = tuple(c for c in QUERY_COLUMNS if c != "id")
#: Between the token keys of two names of a subject, in its prefilter tokens.
NAME_SEPARATOR = "/"
#: Float slack in the coverage bound: rarity sums are compared in a different order than the
#: index adds them; a hair of tolerance keeps the prefilter on the safe (inclusive) side.
_COVERAGE_SLACK = 1e-9
#: The longest subject id: what the store's column holds (PostgreSQL refuses a longer one).
MAX_ID_CHARS = 200


#: The entity fields `compile_entity` reads: an amendment touching none of them (notes, record
#: ids, programmes, addresses) cannot change any subject's score against the entity.
MATCHING_FIELDS = frozenset({"schema", "names", "birth_dates", "nationalities", "countries", "documents", "gender"})


def changes_matching(change: str, fields: Iterable[Mapping[str, Any]]) -> bool:
    """Whether an added or amended entity can score any subject differently than before (an
    amendment with no field list is assumed to)."""
    if change != "amended":
        return True
    names = [f.get("field") for f in fields]
    return not names or any(n in MATCHING_FIELDS or n is None for n in names)


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """One input row made ready to store: normalised data, its hash, its prefilter tokens."""

    external_id: str
    schema: str
    caption: str
    data: dict[str, Any]
    hash: str
    query: Query
    #: Values left out of the query (the subject is stored and screened without them).
    warnings: tuple[FieldWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value).strip()
    return value.strip() if isinstance(value, str) else value  # non-text: make_query names it


def prepare_subject(values: Mapping[str, Any], row: int) -> SubjectRecord | RowError:
    """A subject from one record in the screening-input schema; `id` (the client's own system
    id) is required. A record without a usable id or name is a RowError naming the row and the
    field; any other bad value is left out of the query with a warning, and the subject is
    stored and screened on the rest (a typo in a date must not hide a listed person).

    The data stored is what the client sent, as text: a value that cannot be read (an impossible
    date) is kept as written, so the analyst sees it, and is left out again whenever the stored
    data is read (`query_of`); a value that cannot be stored at all (not text, too long, a NUL
    character) is left out of the data too."""
    raw_id = values.get("id")
    external_id = _clean(raw_id) if raw_id is not None and not isinstance(raw_id, bool) else ""
    if not isinstance(external_id, str) or not external_id:
        return RowError(row, "id", "missing id: every subject needs the client's own system id")
    problem = _unstorable_id(external_id)
    if problem is not None:
        return RowError(row, "id", problem)
    usable, dropped = _storable(values)
    if "name" in dropped:
        return RowError(row, "name", dropped["name"].message)
    parsed: QueryRow = to_query_row((row, usable))
    if parsed.query is None:
        return RowError(row, parsed.field, parsed.error or "unusable record")
    data = {c: v for c in DATA_COLUMNS if isinstance(v := _clean(usable.get(c)), str) and v and _fits(c, v)}
    data["schema"] = parsed.query.schema
    warnings = (*dropped.values(), *parsed.warnings)
    return SubjectRecord(str(parsed.id), parsed.query.schema, data["name"], data, content_hash(data), parsed.query, warnings)


def _fits(column: str, value: str) -> bool:
    """Whether a text value is short enough to store (a longer one is left out of the query
    with a warning, and so out of the data)."""
    return len(value) <= (MAX_NAME_CHARS if column == "name" else MAX_VALUE_CHARS)


def _unstorable_id(external_id: str) -> str | None:
    """Why the id is no usable identifier (`model.identifiers`: control, bidi or surrogate
    characters, too long for the store), else None."""
    try:
        check_identifier(external_id, "subject id")
    except ValueError as exc:
        return str(exc)
    if len(external_id) > MAX_ID_CHARS:
        return f"subject id is {len(external_id)} characters long; at most {MAX_ID_CHARS}"
    return None


def _storable(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, FieldWarning]]:
    """The record without its text values that cannot be stored (NUL, a lone surrogate:
    PostgreSQL and the audit log's JSON refuse them), and a warning for each one left out."""
    usable = dict(values)
    dropped: dict[str, FieldWarning] = {}
    for column in DATA_COLUMNS:
        value = values.get(column)
        try:
            if isinstance(value, str):
                check_text(value, column)
        except ValueError as exc:
            usable.pop(column)
            dropped[column] = FieldWarning.of(column, value, f"{exc}; stored and screened without it")
    return usable, dropped


def query_of(external_id: str, data: Mapping[str, Any]) -> Query:
    """The query a stored subject's data stands for (the data was validated when stored)."""
    row = to_query_row((0, {"id": external_id, **data}))
    if row.query is None:
        raise ValueError(f"subject {external_id}: stored data no longer valid: {row.error} (field {row.field})")
    return row.query


def subject_tokens(compiled: Compiled) -> str:
    """The prefilter tokens of a compiled subject: the non-particle token keys of each of its
    names (what the index can retrieve by; `NAME_SEPARATOR` before each name, each distinct set
    of keys once), and what it finds exactly whatever the name (`exact_keys`: document numbers,
    and a vessel's IMO number, MMSI and call sign; the digests of its names' letters without
    word boundaries, `SQUEEZED_PREFIX` + hex), space-separated."""
    words: list[str] = []
    for keys in name_key_sets(name.tokens for name in compiled.names):  # as retrieval groups them
        words.append(NAME_SEPARATOR)  # first too: it marks tokens stored name by name
        words.extend(keys)
    docs = sorted(DOCUMENT_PREFIX + d for d in compiled.exact_keys)
    squeezed = sorted({f"{SQUEEZED_PREFIX}{n.squeezed:x}" for n in compiled.names if n.squeezed})
    return " ".join([*words, *docs, *squeezed])


def delta_screener(
    entities: Sequence[Entity], lists: Sequence[ListInfo], rarity: Rarity, threshold: float, config: MatchConfig
) -> Screener:
    """A screener over the changed entities only, weighing tokens with the full live list's
    rarity: each (subject, entity) pair then scores as in a screen against the whole list."""
    return Screener(entities, lists, threshold, config, rarity=rarity)


class Prefilter:
    """Decides from stored tokens whether a subject could get any result from a screener
    (see the module doc). Memoised per distinct key: a population of millions shares a few
    hundred thousand keys."""

    def __init__(self, screener: Screener):
        self._index = screener.index
        self._rarity = screener.index.rarity
        self._coverage = screener.config.min_coverage
        self._reach: dict[str, tuple[bool, float]] = {}

    def _key(self, key: str) -> tuple[bool, float]:
        found = self._reach.get(key)
        if found is None:
            skel = skeleton(key)
            weight = self._rarity(Token(key, key, skel))
            found = self._reach[key] = (self._index.reaches(key, skel), weight)
        return found

    def candidate(self, tokens: str) -> bool:
        if not tokens:
            return False
        words = tokens.split(" ")
        by_name = words[0] == NAME_SEPARATOR
        covered = False
        total = reached = 0.0
        for key in (*words[by_name:], NAME_SEPARATOR):
            if key == NAME_SEPARATOR:  # one name's keys are all read
                if reached > 0.0 and (not by_name or reached + _COVERAGE_SLACK >= self._coverage * total):
                    covered = True
                total = reached = 0.0
                continue
            if key.startswith(DOCUMENT_PREFIX):
                if self._index.has_document(key[len(DOCUMENT_PREFIX) :]):
                    return True
                continue
            if key.startswith(SQUEEZED_PREFIX):
                if self._index.squeezed_hits([int(key[len(SQUEEZED_PREFIX) :], 16)]):
                    return True
                continue
            reaches, weight = self._key(key)
            total += weight
            if reaches:
                reached += weight
        return covered

    @property
    def distinct_keys(self) -> int:
        return len(self._reach)


@dataclass(frozen=True, slots=True)
class Hit:
    """One match of a subject at or over the threshold, in the form the store keeps."""

    entity_id: str
    score: float
    explanation: list[dict[str, Any]]

    @classmethod
    def of(cls, match: Match) -> Hit:
        return cls(match.entity.id, match.score, [f.as_dict() for f in match.explanation])


def screen(screener: Screener, query: Query, limit: int, threshold: float) -> list[Hit]:
    """The subject's matches at or over `threshold` (alerts), best first, at most `limit`."""
    return [Hit.of(m) for m in screener.match(query, limit=limit, threshold=threshold, cutoff=threshold) if m.score >= threshold]


def screen_all(screener: Screener, items: Iterable[tuple[int, Query]], limit: int, threshold: float) -> list[tuple[int, list[Hit]]]:
    """Hits per (subject key, query); subjects without hits left out."""
    out = []
    for key, query in items:
        hits = screen(screener, query, limit, threshold)
        if hits:
            out.append((key, hits))
    return out
