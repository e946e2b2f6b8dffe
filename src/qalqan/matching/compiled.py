"""Entities and queries in the form the features compare: tokenised names, normalised ids.

Compiling is done once per entity when an index is built and once per query, so the features
themselves stay small pure functions over prepared values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from qalqan.model import Document, Entity, NameQuality, PartialDate, Query
from qalqan.model.entity import IdKind
from qalqan.names.cyrillic import cyrillic_readings, has_cyrillic
from qalqan.names.tokens import Token, name_tokens, reglued_variants, skeleton, squeezed, unglued_tokens
from qalqan.names.variants import marked_variants
from qalqan.sources.idnumbers import imo_digits

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
    #: A 64-bit digest of the name's letters without word boundaries (`names.tokens.squeezed`),
    #: 0 when under `MIN_SQUEEZED` letters: two names equal here are one name whose boundary
    #: was typed in another place (Myong-chin / Myongc-hin). A digest, not the text, so a list
    #: of millions does not hold every name twice.
    squeezed: int = 0
    #: False for a query name's extra reading with its glue prefixes left apart
    #: (`names.tokens.unglued_tokens`): what an explanation needs to find its words.
    glued: bool = True
    #: Part of a bracketed name (`names.variants.marked_variants`): the text outside the
    #: brackets, or a bracket's content, alone.
    partial: bool = False
    #: Derived from `joined` (never passed): the first letter of each joined skeleton, then the
    #: first letter of each joined pair's first word, in `joined` order. A word whose skeleton
    #: and spelling start with none of them meets no pair (`features._joined_partner` skips it
    #: without a loop over the pairs).
    heads: str = field(init=False, default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        joined = self.joined
        if joined:
            tokens = self.tokens
            heads = "".join([s[0] for s, _ in joined]) + "".join([tokens[pos].text[0] for _, pos in joined])
            object.__setattr__(self, "heads", heads)


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
    #: A vessel's flag states. A vessel's nationality is its flag (UNCLOS art. 91): a Vessel
    #: query's nationalities are its flags, and a vessel's flags are no `nationalities`, so
    #: `flag_conflict`, not `country_conflict`, weighs a reflagged ship.
    flags: frozenset[str] = frozenset()
    #: IMO numbers (7 digits, check digit valid); one that fails it is a plain document number.
    imo: frozenset[str] = frozenset()
    #: MMSIs and call signs, as "mmsi:273456789" / "call_sign:ubcd7" (kinds never meet).
    vessel_ids: frozenset[str] = frozenset()

    @property
    def exact_keys(self) -> frozenset[str]:
        """What the index finds this record by exactly, whatever its name: document numbers,
        "imo:<digits>" and the vessel ids. The same as `documents` for people and companies."""
        if not self.imo and not self.vessel_ids:
            return self.documents
        return self.documents | {IMO_PREFIX + n for n in self.imo} | self.vessel_ids


def _joined(tokens: tuple[Token, ...]) -> tuple[tuple[str, int], ...]:
    if len(tokens) < 2:
        return ()
    return tuple(
        (skeleton(a.key + b.key), i) for i, (a, b) in enumerate(zip(tokens, tokens[1:])) if not (a.particle or b.particle)
    )


#: Fewer letters than this squeeze to no digest: short names meet by their tokens alone.
MIN_SQUEEZED = 6


def squeeze_digest(value: str, organisation: bool) -> int:
    """The `CompiledName.squeezed` digest of a name (stable across processes and runs)."""
    letters = squeezed(value, organisation)
    if len(letters) < MIN_SQUEEZED:
        return 0
    return int.from_bytes(hashlib.blake2b(letters.encode(), digest_size=8).digest(), "big") or 1


def _names(values: list[tuple[str, bool]], organisation: bool, split: bool, unglued: bool = False) -> tuple[CompiledName, ...]:
    """The compiled names of `values` (name, low quality): each variant (`name_variants`, when
    `split`), once per distinct token sequence; with `unglued` (queries of people) also each
    variant's reading with glue prefixes apart, where it differs, and with a glue prefix moved
    before each other word (`reglued_variants`: reordered names)."""
    out: dict[tuple[Token, ...], CompiledName] = {}
    for value, low in values:
        for variant, partial in marked_variants(value) if split else ((value, False),):
            tokens = name_tokens(variant, organisation)
            if not tokens:
                continue
            apart = unglued_tokens(variant) if unglued and not organisation else None
            if apart and apart not in out:
                out[apart] = CompiledName(variant, apart, low, joined=_joined(apart), glued=False, partial=partial)
            for moved in reglued_variants(variant) if unglued and not organisation else ():
                moved_tokens = name_tokens(moved, organisation)
                if moved_tokens and moved_tokens not in out:
                    out[moved_tokens] = CompiledName(moved, moved_tokens, low, joined=_joined(moved_tokens), partial=partial)
            seen = out.get(tokens)
            if seen is None or (seen.low_quality and not low) or (seen.partial and not partial and seen.low_quality == low):
                out[tokens] = CompiledName(
                    variant,
                    tokens,
                    low,
                    joined=_joined(tokens),
                    organisation=organisation,
                    squeezed=squeeze_digest(variant, organisation),
                    partial=partial,
                )
            if not variant.isascii() and has_cyrillic(variant):
                _add_readings(out, variant, tokens, low, organisation, partial)
    return tuple(out.values())


def _add_readings(
    out: dict[tuple[Token, ...], CompiledName],
    variant: str,
    tokens: tuple[Token, ...],
    low: bool,
    organisation: bool,
    partial: bool = False,
) -> None:
    """A Cyrillic name's other readings (`names.cyrillic`) as extra names, where a reading spells
    some word otherwise than the name's own latinised form: Ли Мён Су is also ri myong su."""
    plain = {t.key for t in tokens if not t.particle}
    for reading in cyrillic_readings(variant, organisation):
        found = name_tokens(reading, organisation)
        if found and found not in out and {t.key for t in found if not t.particle} != plain:
            out[found] = CompiledName(reading, found, low, joined=_joined(found), organisation=organisation, partial=partial)


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
    # Built directly, not with `dataclasses.replace` (which reads the fields anew each call):
    # this runs for every query. Every init field of CompiledName, in order: keep in step.
    names = tuple(
        [
            CompiledName(
                n.value,
                n.tokens,
                n.low_quality,
                token_weights(n.tokens, rarity, particle_weight, initial_weight),
                n.joined,
                n.organisation,
                n.squeezed,
                n.glued,
                n.partial,
            )
            for n in record.names
        ]
    )
    return replace(record, names=names)


#: How an IMO number is keyed in the index, beside document numbers.
IMO_PREFIX = "imo:"


def split_identifiers(documents: Iterable[Document], vessel: bool) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(document numbers, IMO numbers, vessel ids) of a record's documents, each normalised.

    An IMO number, MMSI or call sign (`Document.kind`) is kept apart, for the vessel features;
    an IMO number failing its check digit stays a plain document number (still compared, as a
    list's typo may be the input's too). Everything else (passports, registration and tax
    numbers, BIC, IBAN, wallet addresses) is a document number, as before kinds existed. A
    `vessel`'s IMO number must pass the ship check digit; others (a shipping company's) either
    scheme."""
    docs: set[str] = set()
    imo: set[str] = set()
    vessel_ids: set[str] = set()
    for doc in documents:
        kind = doc.kind
        if kind is IdKind.IMO and (digits := imo_digits(doc.number, vessel_only=vessel)) is not None:
            imo.add(digits)
            continue
        number = normalise_document(doc.number)
        if kind is IdKind.MMSI or kind is IdKind.CALL_SIGN:
            if number:
                vessel_ids.add(f"{kind.value}:{number}")
        elif len(number) >= 4:
            docs.add(number)
    return frozenset(docs), frozenset(imo), frozenset(vessel_ids)


def _shown(values: Iterable[object]) -> str | None:
    return ", ".join(str(v) for v in values) or None


def is_organisation(schema: str) -> bool:
    return schema in ("Organization", "LegalEntity", "Vessel")


def compile_entity(entity: Entity) -> Compiled:
    org = is_organisation(entity.schema) and entity.schema != "LegalEntity"
    names = _names([(n.value, n.quality is NameQuality.LOW) for n in entity.names], org, split=True)
    nats = frozenset(entity.nationalities)
    flags = frozenset(entity.flags)
    if entity.schema == "Vessel":  # a ship's nationality is its flag
        nats, flags = frozenset(), flags | nats
    documents, imo, vessel_ids = split_identifiers(entity.documents, entity.schema == "Vessel")
    return Compiled(
        schema=entity.schema,
        names=names,
        birth_dates=entity.birth_dates,
        nationalities=nats,
        countries=nats | frozenset(entity.countries) | flags,
        documents=documents,
        gender=entity.gender,
        shown_birth_dates=_shown(entity.birth_dates),
        shown_documents=_shown(sorted(documents)),
        flags=flags,
        imo=imo,
        vessel_ids=vessel_ids,
    )


def compile_query(query: Query) -> Compiled:
    org = query.schema in ("Organization", "Vessel")
    nats = frozenset(query.nationalities)
    flags: frozenset[str] = frozenset()
    if query.schema == "Vessel":  # the input's `flag` (FtM `flag`) is a vessel's nationality
        nats, flags = frozenset(), nats
    documents, imo, vessel_ids = split_identifiers(query.documents, query.schema == "Vessel")
    return Compiled(
        schema=query.schema,
        names=_names([(n, False) for n in query.names if n.strip()], org, split=True, unglued=True),
        birth_dates=query.birth_dates,
        nationalities=nats,
        countries=nats | frozenset(query.countries) | flags,
        documents=documents,
        gender=query.gender,
        shown_birth_dates=_shown(query.birth_dates),
        shown_documents=_shown(sorted(documents)),
        flags=flags,
        imo=imo,
        vessel_ids=vessel_ids,
    )
