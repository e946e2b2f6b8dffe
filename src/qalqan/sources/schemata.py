"""Which screening schema (Person, Organization, LegalEntity, Vessel) a schema name means.

One answer for every reader and adapter: FollowTheMoney schema names by their ancestry (Company
and PublicBody are Organizations, Airplane is not screened), and the plain words lists and users
write (individual, organisation, entity, ship), case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache

from qalqan.model import SCHEMATA

#: Plain words for our schemata. "Entity" is an organisation, as on the UN and Canadian lists.
_WORDS = {s.lower(): s for s in SCHEMATA} | {
    "individual": "Person",
    "organisation": "Organization",
    "company": "Organization",
    "entity": "Organization",
    "ship": "Vessel",
}


@lru_cache(maxsize=256)
def screening_schema(name: str) -> str | None:
    """The schema Qalqan screens for `name`, or None if it names nothing we screen."""
    word = _WORDS.get(name.strip().lower().replace(" ", "").replace("_", ""))
    if word is not None:
        return word
    from followthemoney import model  # here, not at import: it takes ~1 s to load its schemata

    schema = model.get(name.strip())
    if schema is None:
        return None
    for ours in ("Person", "Vessel", "Organization"):
        if schema.is_a(ours):
            return ours
    if schema.name in ("LegalEntity", "Thing"):
        return "LegalEntity"
    return None
