"""Speed against a synthetic list of 1,000,000 entities (100,000 with --quick), to show how cost
grows with the list: index build time, peak memory and single-query speed on one core, measured
in a fresh subprocess (`bench.speed child --list synthetic`).

The list is generated (seeded) by recombining real name parts from ../shared/data: given and
family names of yente's negatives, US Congress members, the UN list and Canada's list, with birth
dates, nationalities, genders and a few aliases each. Queries are real names (UN names and
negatives), as for the UN list.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from typing import Any

from bench import common
from bench.namesakes import YEARS, split_name
from bench.speed import SINGLE_QUERIES, TIME_BUDGET_S, run_child
from qalqan.model import Entity, Name, NameKind, PartialDate

ENTITIES = 1_000_000
ENTITIES_QUICK = 100_000
#: Share of generated entities that are organisations (UN: about a quarter; lists of people
#: dominate national lists).
ORG_SHARE = 0.1
#: Aliases per generated entity are drawn from 0..MAX_ALIASES (UN persons average about two).
MAX_ALIASES = 3
ORG_SUFFIXES = ("LLC", "Ltd", "Trading Company", "Group", "Holding", "Foundation", "Brigade", "Network", "JSC", "GmbH")


def script_of(text: str) -> str:
    """The Unicode script of a name's first letter ("LATIN", "CYRILLIC", "ARABIC", ...), so
    generated names never mix scripts."""
    for ch in text:
        if ch.isalpha():
            return unicodedata.name(ch, "UNKNOWN").split()[0]
    return "UNKNOWN"


def name_pools() -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """(given names by script, family names by script, nationality codes) from the shared data,
    sorted so that generation is reproducible."""
    given: set[str] = set()
    family: set[str] = set()
    nats: set[str] = set()
    with common.NEGATIVES_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["first_name"]:
                given.add(r["first_name"])
            if r["last_name"]:
                family.add(r["last_name"])
    with common.CONGRESS_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            words = r["full_name"].replace(",", " ").split()
            if len(words) >= 2:
                given.add(words[0])
                family.add(words[-1])
    for path, fmt in ((common.UN_XML, "un"), (common.CANADA_XML, "canada")):
        for e in common.load_list(path, fmt).entities:
            nats.update(e.nationalities)
            if e.schema == "Person":
                split = split_name(e)
                if split:
                    given.add(split[0])
                    family.add(split[1])
    by_script: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
    for pool, out in ((given, by_script[0]), (family, by_script[1])):
        for value in sorted(pool):
            out.setdefault(script_of(value), []).append(value)
    shared = set(by_script[0]) & set(by_script[1])
    return ({k: v for k, v in by_script[0].items() if k in shared}, {k: v for k, v in by_script[1].items() if k in shared}, sorted(nats))


def synthetic_entities(n: int, seed: int = common.SEED) -> list[Entity]:
    rng = random.Random(seed)
    given_by, family_by, nats = name_pools()
    scripts = sorted(given_by)
    # A script is drawn as often as it has given names, so Latin dominates as in the sources.
    weights = [len(given_by[s]) for s in scripts]
    out: list[Entity] = []
    for i in range(n):
        script = rng.choices(scripts, weights)[0]
        given, family = given_by[script], family_by[script]
        if rng.random() < ORG_SHARE:
            base = f"{rng.choice(family)} {rng.choice(family)} {rng.choice(ORG_SUFFIXES)}"
            names = [Name(base)] + [Name(f"{rng.choice(family)} {rng.choice(ORG_SUFFIXES)}", NameKind.ALIAS) for _ in range(rng.randint(0, MAX_ALIASES))]
            out.append(Entity(f"syn-{i}", "Organization", "syn", str(i), tuple(names), countries=(rng.choice(nats),)))
            continue
        g, f = rng.choice(given), rng.choice(family)
        names = [Name(f"{g} {f}", parts=(("given", g), ("family", f)))]
        for _ in range(rng.randint(0, MAX_ALIASES)):
            names.append(Name(f"{rng.choice((g, rng.choice(given)))} {rng.choice(family)}", NameKind.ALIAS))
        out.append(
            Entity(
                f"syn-{i}",
                "Person",
                "syn",
                str(i),
                tuple(names),
                birth_dates=(PartialDate(rng.randint(*YEARS), rng.randint(1, 12), rng.randint(1, 28)),),
                nationalities=(rng.choice(nats),),
                gender=rng.choice(("male", "female")),
            )
        )
    return out


def section_scale(quick: bool) -> dict[str, Any]:
    n = ENTITIES_QUICK if quick else ENTITIES
    common.log(f"  {n:,} synthetic entities: generate, build, query (subprocess)")
    out = run_child("synthetic", n, SINGLE_QUERIES, TIME_BUDGET_S)
    out["entities"] = n
    out["seed"] = common.SEED
    return out
