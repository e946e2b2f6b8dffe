"""Section (e): namesakes, real screening's hardest false alerts.

For every listed UN Person whose primary name has a given and a family part, two seeded,
non-listed namesakes: the listed person's given names with another family name, and the listed
family name with other given names. Replacement parts come from other listed persons and from
yente's negatives file, never share a token with any of the listed person's names, and the
result never equals any listed name. Each namesake gets a birth date at least 5 years from every
listed birth year, another nationality, and the listed person's gender. (The same full name with
another DOB / nationality is deliberately excluded: that is arguably the same person.)
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, replace
from typing import Any

from rigour.text import ascii_text

from bench import common
from bench.false_alerts import alert_rate
from qalqan.model import Entity, NameKind, PartialDate, Query
from qalqan.sources.values import country_code

#: A namesake's birth year differs from every listed birth year by at least this much, so date
#: evidence clearly says "not the same person".
MIN_YEAR_GAP = 5
#: Birth years drawn for namesakes.
YEARS = (1940, 2005)
#: Draws before giving up on a replacement part that shares no token with the listed person.
MAX_DRAWS = 50

_TOKEN = re.compile(r"[\W_]+")


def tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in _TOKEN.split(ascii_text(text).lower()) if t)


@dataclass(frozen=True)
class Namesake:
    query: Query
    listed_id: str
    variant: str  # "other-family" | "other-given"


def split_name(entity: Entity) -> tuple[str, str] | None:
    """(given, family) of an entity's primary name: the source's parts when given, else all
    tokens but the last vs the last."""
    primary = next((n for n in entity.names if n.kind is NameKind.PRIMARY), entity.names[0])
    parts = dict(primary.parts)
    given = " ".join(p for p in (parts.get("given"), parts.get("middle")) if p)
    family = parts.get("family", "")
    if given and family:
        return given, family
    words = primary.value.split()
    if len(words) < 2:
        return None
    return " ".join(words[:-1]), words[-1]


def _latin(text: str) -> bool:
    return bool(text) and text.isascii()


def generate(entities: list[Entity], seed: int = common.SEED) -> list[Namesake]:
    rng = random.Random(seed)
    persons: list[tuple[Entity, tuple[str, str]]] = []
    for e in entities:
        split = split_name(e) if e.schema == "Person" else None
        if split is not None:
            persons.append((e, split))
    givens = sorted({s[0] for _, s in persons if _latin(s[0])})
    families = sorted({s[1] for _, s in persons if _latin(s[1])})
    nationalities: set[str] = {n for e in entities for n in e.nationalities}
    with common.NEGATIVES_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if _latin(row["first_name"]):
                givens.append(row["first_name"])
            if _latin(row["last_name"]):
                families.append(row["last_name"])
            if row["nationality"]:
                code = country_code(row["nationality"])
                if code:
                    nationalities.add(code)
    givens, families = sorted(set(givens)), sorted(set(families))
    nat_pool = sorted(nationalities)
    listed_names = {tokens(n.value) for e in entities for n in e.names}

    def draw(pool: list[str], avoid: frozenset[str]) -> str | None:
        for _ in range(MAX_DRAWS):
            pick = rng.choice(pool)
            if not tokens(pick) & avoid:
                return pick
        return None

    out: list[Namesake] = []
    for e, (given, family) in persons:
        own = frozenset().union(*(tokens(n.value) for n in e.names))
        years = [y for d in e.birth_dates for y in range(d.first_year, d.last_year + 1)]
        for variant in ("other-family", "other-given"):
            other = draw(families if variant == "other-family" else givens, own)
            if other is None:
                continue
            name = f"{given} {other}" if variant == "other-family" else f"{other} {family}"
            if tokens(name) in listed_names:
                continue
            year = rng.choice([y for y in range(YEARS[0], YEARS[1] + 1) if all(abs(y - x) >= MIN_YEAR_GAP for x in years)])
            dob = PartialDate(year, rng.randint(1, 12), rng.randint(1, 28))
            nat = rng.choice([n for n in nat_pool if n not in e.nationalities])
            q = Query(
                names=(name,),
                schema="Person",
                id=f"ns-{e.id}-{variant}",
                birth_dates=(dob,),
                nationalities=(nat,),
                gender=e.gender,
            )
            out.append(Namesake(q, e.id, variant))
    return out


def section_e(entities: list[Entity]) -> dict[str, Any]:
    namesakes = generate(entities)
    common.log(f"  {len(namesakes)} namesakes")
    result = alert_rate(entities, [n.query for n in namesakes])
    # The same namesakes by name alone: how much each scorer relies on birth date and
    # nationality to clear a namesake (a screening file often carries only names).
    common.log("  the same namesakes, name only")
    name_only = alert_rate(entities, [replace(n.query, birth_dates=(), nationalities=(), gender=None) for n in namesakes])
    result["name_only"] = {k: {"alerts": v["alerts"], "alert_rate": v["alert_rate"]} for k, v in name_only["scorers"].items()}
    result["variants"] = {v: sum(n.variant == v for n in namesakes) for v in ("other-family", "other-given")}
    result["seed"] = common.SEED
    result["examples"] = [
        {"query": n.query.names[0], "dob": str(n.query.birth_dates[0]), "nationality": n.query.nationalities[0], "listed": n.listed_id}
        for n in namesakes[:6]
    ]
    return result
