"""Entities and queries in the form the features compare: tokenised names, normalised ids.

Compiling is done once per entity when an index is built and once per query, so the features
themselves stay small pure functions over prepared values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from qalqan.model import Entity, NameQuality, PartialDate, Query
from qalqan.names.tokens import Token, name_tokens, skeleton
from qalqan.names.variants import name_variants

_DOC_JUNK = re.compile(r"[^0-9a-z]")


def normalise_document(number: str) -> str:
    """Document numbers compare without spaces, dashes, case or leading zeros."""
    return _DOC_JUNK.sub("", number.lower()).lstrip("0")


@dataclass(frozen=True, slots=True)
class CompiledName:
    value: str  # as written
    tokens: tuple[Token, ...]
    low_quality: bool = False
    #: Rarity weight of each token (particles get `particle_weight`); empty until weighed
    #: against an index, and then treated as all 1.0.
    weights: tuple[float, ...] = ()
    #: Skeletons of adjacent token pairs written together, with the first token's position,
    #: so "Abdulrahman" can meet "Abdul Rahman" (a tuple: a dict per name costs too much memory
    #: on a list of millions).
    joined: tuple[tuple[str, int], ...] = ()
    #: Tokenised as an organisation's name (legal forms, acronyms): what `token_spans` needs to
    #: show each token as written in `value`.
    organisation: bool = False


@dataclass(frozen=True, slots=True)
class Compiled:
    """A query or an entity, reduced to what the features read."""

    schema: str
    names: tuple[CompiledName, ...]
    birth_dates: tuple[PartialDate, ...]
    nationalities: frozenset[str]
    countries: frozenset[str]  # nationalities plus residence / address / jurisdiction countries
    documents: frozenset[str]  # normalised numbers
    gender: str | None
    #: The dates of birth and document numbers as an explanation shows them when the other side
    #: has none: written once here, so scoring a pair never formats them.
    shown_birth_dates: str | None = None
    shown_documents: str | None = None


def _joined(tokens: tuple[Token, ...]) -> tuple[tuple[str, int], ...]:
    if len(tokens) < 2:
        return ()
    return tuple(
        (skeleton(a.key + b.key), i) for i, (a, b) in enumerate(zip(tokens, tokens[1:])) if not (a.particle or b.particle)
    )


def _names(values: list[tuple[str, bool]], organisation: bool, split: bool) -> tuple[CompiledName, ...]:
    out: dict[tuple[Token, ...], CompiledName] = {}
    for value, low in values:
        for variant in name_variants(value) if split else (value,):
            tokens = name_tokens(variant, organisation)
            if not tokens:
                continue
            seen = out.get(tokens)
            if seen is None or (seen.low_quality and not low):
                out[tokens] = CompiledName(variant, tokens, low, joined=_joined(tokens), organisation=organisation)
    return tuple(out.values())


def token_weights(
    tokens: tuple[Token, ...], rarity: Callable[[Token], float], particle_weight: float, initial_weight: float
) -> tuple[float, ...]:
    """Rarity of each token; particles and legal forms weigh `particle_weight`; an initial at
    most `initial_weight` (a middle initial the other side leaves out is no conflict)."""
    return tuple(
        particle_weight if t.particle else min(initial_weight, rarity(t)) if len(t.text) == 1 else rarity(t) for t in tokens
    )


def weigh(record: Compiled, rarity: Callable[[Token], float], particle_weight: float, initial_weight: float) -> Compiled:
    """The record with each name's token weights filled in from an index's rarity."""
    names = tuple(replace(n, weights=token_weights(n.tokens, rarity, particle_weight, initial_weight)) for n in record.names)
    return replace(record, names=names)


def _shown(values: Iterable[object]) -> str | None:
    return ", ".join(str(v) for v in values) or None


def is_organisation(schema: str) -> bool:
    return schema in ("Organization", "LegalEntity", "Vessel")


def compile_entity(entity: Entity) -> Compiled:
    org = is_organisation(entity.schema) and entity.schema != "LegalEntity"
    names = _names([(n.value, n.quality is NameQuality.LOW) for n in entity.names], org, split=True)
    nats = frozenset(entity.nationalities)
    documents = frozenset(d for d in (normalise_document(x.number) for x in entity.documents) if len(d) >= 4)
    return Compiled(
        schema=entity.schema,
        names=names,
        birth_dates=entity.birth_dates,
        nationalities=nats,
        countries=nats | frozenset(entity.countries),
        documents=documents,
        gender=entity.gender,
        shown_birth_dates=_shown(entity.birth_dates),
        shown_documents=_shown(sorted(documents)),
    )


def compile_query(query: Query) -> Compiled:
    org = query.schema in ("Organization", "Vessel")
    nats = frozenset(query.nationalities)
    documents = frozenset(d for d in (normalise_document(x.number) for x in query.documents) if len(d) >= 4)
    return Compiled(
        schema=query.schema,
        names=_names([(n, False) for n in query.names if n.strip()], org, split=True),
        birth_dates=query.birth_dates,
        nationalities=nats,
        countries=nats | frozenset(query.countries),
        documents=documents,
        gender=query.gender,
        shown_birth_dates=_shown(query.birth_dates),
        shown_documents=_shown(sorted(documents)),
    )
