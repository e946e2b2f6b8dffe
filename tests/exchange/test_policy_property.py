"""The egress filter against a second statement of the rules, over many small networks of nodes.

Each organisation runs a node. Partner links are random and may be one-sided: a node serves an
organisation only if it lists it as an (active) partner, with its own community/connected flags
for it; an organisation pulls from the nodes it lists as active partners. Sharing groups are
per node (a node's view of a group may differ from another's). One object starts on one node —
on its originator's (hops 0) or on a node that received it from elsewhere (hops >= 1) — and
spreads by pulls: a node serves what `decide` allows to the puller, and the puller stores
`on_receipt(marking, via=node)`, until no pull brings anything new.

The oracle says the same rules as sets rather than as a sequence of checks: from a node, the
audience of a copy is (who TLP allows) ∩ (who the recipient list allows) ∩ (who the distribution
allows), plus the originator; the organisations that end up holding the object are the closure
of those audiences along the pull links. Checked: every decision equals the oracle's; the holders
are exactly the oracle's (nothing forbidden arrives, everything allowed does); and, stated
separately, RED never reaches a non-recipient, AMBER never goes past the first hop, ORGANISATION
never leaves, a sharing group never reaches a non-member.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalqan.exchange.policy import TLP, Distribution, Marking, NodePolicy, Partner, decide, on_receipt

POOL = ("a", "b", "c", "d")
#: An organisation outside the simulated network: it can originate, be named, be a group member.
OUTSIDE = "x"
GROUP_NAMES = ("g1", "g2")
#: A group no node knows.
UNKNOWN_GROUP = "g3"
#: How a node lists another: not at all (weighted up so some links are missing), or as a partner
#: with each combination of (community, connected, active).
LINKS: tuple[tuple[bool, bool, bool] | None, ...] = (None, None, None) + tuple(
    (community, connected, active) for community in (True, False) for connected in (True, False) for active in (True, True, False)
)
NOT_RELAYED = {TLP.AMBER, TLP.AMBER_STRICT, TLP.RED}


@dataclass(frozen=True)
class World:
    orgs: tuple[str, ...]
    nodes: dict[str, NodePolicy]
    start: str  # the node the object is on at first
    marking: Marking  # its marking there

    def pulls_from(self, puller: str) -> list[str]:
        """The nodes `puller` pulls from: those it lists as active partners."""
        mine = self.nodes[puller].partners
        return [n for n in self.orgs if n in mine and mine[n].active]


# Strategies are built once: building them inside `worlds` costs more than the test itself.
_SIZES = range(2, len(POOL) + 1)
_N_ORGS = st.sampled_from(list(_SIZES))
_LINK = st.sampled_from(LINKS)
_NAMED = {n: st.sampled_from((*POOL[:n], OUTSIDE)) for n in _SIZES}
_MEMBERS = {n: st.none() | st.frozensets(_NAMED[n], max_size=3) for n in _SIZES}
_START = {n: st.sampled_from(POOL[:n]) for n in _SIZES}
_OTHER_ORIGINATOR = {(n, s): st.sampled_from([o for o in (*POOL[:n], OUTSIDE) if o != s]) for n in _SIZES for s in POOL[:n]}
_RECIPIENTS = {(n, red): st.frozensets(_NAMED[n], min_size=1 if red else 0, max_size=3) for n in _SIZES for red in (True, False)}
_QUARTER = st.integers(0, 3)
_HOPS = st.integers(1, 3)
_DISTRIBUTION = st.sampled_from(list(Distribution))
_TLP = st.sampled_from(list(TLP))
_GROUP = st.sampled_from((*GROUP_NAMES, UNKNOWN_GROUP))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(_N_ORGS)
    orgs = POOL[:n]
    nodes = {}
    for me in orgs:
        partners = {}
        for other in orgs:
            link = draw(_LINK) if other != me else None
            if link is not None:
                partners[other] = Partner(other, community=link[0], connected=link[1], active=link[2])
        groups = {}
        for name in GROUP_NAMES:
            members = draw(_MEMBERS[n])
            if members is not None:
                groups[name] = members
        nodes[me] = NodePolicy(org=me, partners=partners, groups=groups)
    start = draw(_START[n])
    if draw(_QUARTER) == 0:  # a quarter start on a node that received the object from elsewhere
        originator, hops = draw(_OTHER_ORIGINATOR[(n, start)]), draw(_HOPS)
    else:
        originator, hops = start, 0
    distribution = draw(_DISTRIBUTION)
    tlp = draw(_TLP)
    group = draw(_GROUP) if distribution == Distribution.GROUP else None
    recipients = draw(_RECIPIENTS[(n, tlp == TLP.RED)])
    marking = Marking(originator=originator, distribution=distribution, tlp=tlp, group=group, recipients=recipients, hops=hops)
    return World(orgs=orgs, nodes=nodes, start=start, marking=marking)


# --- the oracle --------------------------------------------------------------------------------


def audience(world: World, node: str, m: Marking) -> set[str]:
    """Who may receive the copy marked `m` from `node`, as an intersection of what each rule allows."""
    policy = world.nodes[node]
    partners = {org for org, p in policy.partners.items() if p.active and p.org == org}
    community = {org for org in partners if policy.partners[org].community}
    connected = {org for org in partners if policy.partners[org].connected}
    made_here = m.hops == 0 and m.originator == node
    claims_made_here = m.hops == 0 and m.originator != node
    if claims_made_here:
        return {m.originator} & partners
    by_tlp = {
        TLP.CLEAR: partners,
        TLP.GREEN: partners,
        TLP.AMBER: partners if made_here else set(),
        TLP.AMBER_STRICT: partners if made_here else set(),
        TLP.RED: (partners & m.recipients) if made_here else set(),
    }[m.tlp]
    by_recipients = set(m.recipients) if m.recipients else partners
    by_distribution = {
        Distribution.ORGANISATION: set(),
        Distribution.COMMUNITY: community,
        Distribution.CONNECTED: community | connected if made_here else community,
        Distribution.ALL: partners,
        Distribution.GROUP: (partners & policy.groups.get(m.group or "", frozenset())) if made_here else set(),
    }[m.distribution]
    return (by_tlp & by_recipients & by_distribution) | ({m.originator} & partners)


def stored_copy(m: Marking) -> Marking:
    """What a receiver holds: no longer the original; CONNECTED reaches no further than COMMUNITY."""
    return replace(m, hops=m.hops + 1, distribution=Distribution.COMMUNITY if m.distribution == Distribution.CONNECTED else m.distribution)


def oracle_holders(world: World) -> set[str]:
    """Every organisation the object may reach: the closure of the audiences along pull links."""
    held = {world.start: world.marking}
    frontier = [world.start]
    while frontier:
        node = frontier.pop()
        for puller in world.orgs:
            if puller not in held and node in world.pulls_from(puller) and puller in audience(world, node, held[node]):
                held[puller] = stored_copy(held[node])
                frontier.append(puller)
    return set(held)


# --- the simulation ----------------------------------------------------------------------------


def simulate(world: World) -> dict[str, Marking]:
    """Pull rounds until nothing new arrives; every decision is checked against the oracle."""
    held = {world.start: world.marking}
    for _round in range(len(world.orgs) + 1):
        arrived: dict[str, Marking] = {}
        for puller in world.orgs:
            for node in world.pulls_from(puller):
                if node not in held:
                    continue
                verdict = decide(held[node], puller, world.nodes[node])
                expected = puller in audience(world, node, held[node])
                assert verdict.allowed is expected, (node, puller, held[node], verdict)
                if verdict.allowed and puller not in held and puller not in arrived:
                    arrived[puller] = on_receipt(held[node], via=node)
        if not arrived:
            return held
        held.update(arrived)
    raise AssertionError(f"no fixpoint after {len(world.orgs) + 1} rounds: {held}")


def assert_named_properties(world: World, held: dict[str, Marking]) -> None:
    """The rules the brief names, each stated on its own."""
    m, start = world.marking, world.start
    made_here = m.hops == 0
    others = set(held) - {start, m.originator}
    if m.recipients:
        assert others <= m.recipients, "reached an organisation outside the recipient list"
    if m.tlp == TLP.RED:
        assert others <= m.recipients, "TLP:RED reached a non-recipient"
    if m.tlp in NOT_RELAYED or m.distribution == Distribution.GROUP:
        if made_here:
            direct = {p for p in world.orgs if start in world.pulls_from(p)}
            assert others <= direct, "AMBER/RED/group object went past the first hop"
            assert all(held[o].hops == 1 for o in others)
        else:
            assert others == set(), "a received AMBER/RED/group object was relayed"
    if m.distribution == Distribution.ORGANISATION:
        assert others == set(), "ORGANISATION left the originator"
    if m.distribution == Distribution.GROUP and made_here:
        members = world.nodes[start].groups.get(m.group or "", frozenset())
        assert others <= members, "a sharing-group object reached a non-member"
    for org, copy in held.items():
        if org != start:
            assert copy.hops >= 1 and copy.distribution != Distribution.CONNECTED


@settings(max_examples=10_000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_objects_reach_exactly_whom_the_rules_allow(world: World) -> None:
    held = simulate(world)
    assert_named_properties(world, held)
    assert set(held) == oracle_holders(world)


def test_the_oracle_is_not_vacuous() -> None:
    """A hand-made chain a -> b -> c: ALL travels two hops, CONNECTED one hop beyond the
    community, AMBER one hop, ORGANISATION none — so the property above compares real spreads."""
    link = Partner
    nodes = {
        "a": NodePolicy("a", partners={"b": link("b", connected=True)}),
        "b": NodePolicy("b", partners={"a": link("a"), "c": link("c", community=False)}),
        "c": NodePolicy("c", partners={"b": link("b")}),
    }

    def spread(distribution: Distribution, tlp: TLP) -> set[str]:
        world = World(("a", "b", "c"), nodes, "a", Marking("a", distribution, tlp))
        held = simulate(world)
        assert set(held) == oracle_holders(world)
        return set(held)

    assert spread(Distribution.ALL, TLP.GREEN) == {"a", "b", "c"}
    assert spread(Distribution.CONNECTED, TLP.GREEN) == {"a", "b"}
    assert spread(Distribution.ALL, TLP.AMBER) == {"a", "b"}
    assert spread(Distribution.ORGANISATION, TLP.CLEAR) == {"a"}
