"""The egress filter rule by rule: who a node returns an object to, and the markings it refuses."""

from __future__ import annotations

import pytest

from qalqan.exchange.policy import (
    TLP,
    Distribution,
    Marking,
    NodePolicy,
    Partner,
    PolicyError,
    decide,
    egress,
    may_receive,
    on_receipt,
    validate_marking,
)

ME = "kz-ctc"
COMMUNITY = "kg-border"  # a member of this node's community
CONNECTED = "uz-fiu"  # a connected partner node, not in the community
PLAIN = "tj-dks"  # a partner, neither community nor connected
GONE = "tm-old"  # a removed (inactive) community partner
OUTSIDER = "af-nds"  # not a partner at all

NODE = NodePolicy(
    org=ME,
    partners={
        COMMUNITY: Partner(COMMUNITY, community=True),
        CONNECTED: Partner(CONNECTED, connected=True),
        PLAIN: Partner(PLAIN),
        GONE: Partner(GONE, community=True, active=False),
    },
    groups={"ftf-ab": frozenset({ME, COMMUNITY}), "ftf-cd": frozenset({CONNECTED, PLAIN})},
)

PARTNERS = (COMMUNITY, CONNECTED, PLAIN)


def mark(distribution: Distribution = Distribution.ALL, tlp: TLP = TLP.GREEN, *, originator: str = ME, group: str | None = None,
         recipients: frozenset[str] = frozenset(), hops: int = 0) -> Marking:
    return Marking(originator=originator, distribution=distribution, tlp=tlp, group=group, recipients=recipients, hops=hops)


def allowed(m: Marking, node: NodePolicy = NODE) -> set[str]:
    return {org for org in (*PARTNERS, GONE, OUTSIDER) if may_receive(m, org, node)}


# --- the requester -----------------------------------------------------------------------------


def test_an_unknown_requester_gets_nothing_not_even_clear_for_all() -> None:
    v = decide(mark(Distribution.ALL, TLP.CLEAR), OUTSIDER, NODE)
    assert not v.allowed and v.reason == "unknown-partner"


def test_an_inactive_partner_gets_nothing_not_even_its_own_object() -> None:
    assert decide(mark(Distribution.ALL, TLP.CLEAR), GONE, NODE).reason == "inactive-partner"
    own = mark(Distribution.ALL, TLP.CLEAR, originator=GONE, hops=1)
    v = decide(own, GONE, NODE)
    assert not v.allowed and v.reason == "inactive-partner"


def test_a_partner_entry_filed_under_another_name_is_refused() -> None:
    node = NodePolicy(org=ME, partners={COMMUNITY: Partner(PLAIN, community=True)})
    v = decide(mark(Distribution.ALL), COMMUNITY, node)
    assert not v.allowed and v.reason == "partner-mismatch"


# --- the originator ----------------------------------------------------------------------------


@pytest.mark.parametrize("tlp", list(TLP))
@pytest.mark.parametrize("distribution", list(Distribution))
def test_the_originator_always_gets_its_own_object_back(distribution: Distribution, tlp: TLP) -> None:
    group = "ftf-cd" if distribution == Distribution.GROUP else None
    recipients = frozenset({COMMUNITY}) if tlp == TLP.RED else frozenset()
    m = mark(distribution, tlp, originator=PLAIN, group=group, recipients=recipients, hops=3)
    v = decide(m, PLAIN, NODE)
    assert v.allowed and v.reason == "own-object"


def test_an_object_claiming_to_be_made_here_by_another_org_is_refused() -> None:
    m = mark(Distribution.ALL, TLP.CLEAR, originator=CONNECTED, hops=0)
    v = decide(m, COMMUNITY, NODE)
    assert not v.allowed and v.reason == "origin-mismatch"
    assert decide(m, CONNECTED, NODE).allowed  # its originator still gets it back


# --- distribution ------------------------------------------------------------------------------


def test_organisation_never_leaves_the_originator() -> None:
    m = mark(Distribution.ORGANISATION, TLP.CLEAR)
    assert allowed(m) == set()
    assert decide(m, COMMUNITY, NODE).reason == "distribution-organisation"


def test_community_reaches_community_members_only() -> None:
    m = mark(Distribution.COMMUNITY)
    assert allowed(m) == {COMMUNITY}
    assert decide(m, CONNECTED, NODE).reason == "distribution-community-not-member"
    assert decide(m, COMMUNITY, NODE).reason == "community-member"


def test_community_is_relayed_to_the_relaying_nodes_community() -> None:
    m = mark(Distribution.COMMUNITY, originator=OUTSIDER, hops=2)
    assert allowed(m) == {COMMUNITY}


def test_connected_reaches_community_and_connected_partners_on_the_first_hop() -> None:
    m = mark(Distribution.CONNECTED)
    assert allowed(m) == {COMMUNITY, CONNECTED}
    assert decide(m, CONNECTED, NODE).reason == "connected-partner"
    assert decide(m, PLAIN, NODE).reason == "distribution-connected-not-partner"


def test_connected_received_from_elsewhere_goes_to_the_community_only() -> None:
    # on_receipt stores it as COMMUNITY; one stored as CONNECTED with hops >= 1 is treated so.
    stored = mark(Distribution.CONNECTED, originator=OUTSIDER, hops=1)
    assert allowed(stored) == {COMMUNITY}
    assert allowed(on_receipt(mark(Distribution.CONNECTED, originator=OUTSIDER), via=OUTSIDER)) == {COMMUNITY}


def test_all_reaches_every_active_partner_at_every_hop() -> None:
    for hops, originator in ((0, ME), (1, OUTSIDER), (5, OUTSIDER)):
        m = mark(Distribution.ALL, originator=originator, hops=hops)
        assert allowed(m) == set(PARTNERS)
        assert decide(m, PLAIN, NODE).reason == "distribution-all"


def test_a_sharing_group_reaches_its_members_only() -> None:
    assert allowed(mark(Distribution.GROUP, group="ftf-ab")) == {COMMUNITY}
    assert allowed(mark(Distribution.GROUP, group="ftf-cd")) == {CONNECTED, PLAIN}
    v = decide(mark(Distribution.GROUP, group="ftf-ab"), CONNECTED, NODE)
    assert not v.allowed and v.reason == "group-not-member"
    assert decide(mark(Distribution.GROUP, group="ftf-ab"), COMMUNITY, NODE).reason == "group-member"


def test_a_sharing_group_this_node_does_not_know_reaches_nobody() -> None:
    m = mark(Distribution.GROUP, group="ftf-zz")
    assert allowed(m) == set()
    assert decide(m, COMMUNITY, NODE).reason == "group-unknown"


def test_a_received_sharing_group_object_is_not_relayed_even_to_a_member() -> None:
    m = mark(Distribution.GROUP, group="ftf-cd", originator=OUTSIDER, hops=1)
    assert allowed(m) == set()
    assert decide(m, PLAIN, NODE).reason == "group-relay"


# --- TLP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tlp", [TLP.CLEAR, TLP.GREEN])
@pytest.mark.parametrize(("distribution", "expected"), [
    (Distribution.ORGANISATION, set()),
    (Distribution.COMMUNITY, {COMMUNITY}),
    (Distribution.CONNECTED, {COMMUNITY, CONNECTED}),
    (Distribution.ALL, {COMMUNITY, CONNECTED, PLAIN}),
])
def test_clear_and_green_follow_the_distribution(tlp: TLP, distribution: Distribution, expected: set[str]) -> None:
    assert allowed(mark(distribution, tlp)) == expected
    relayed = mark(distribution, tlp, originator=OUTSIDER, hops=1)
    assert allowed(relayed) == (expected - {CONNECTED} if distribution == Distribution.CONNECTED else expected)


@pytest.mark.parametrize("tlp", [TLP.AMBER, TLP.AMBER_STRICT])
def test_amber_is_served_by_the_originators_node_only(tlp: TLP) -> None:
    assert allowed(mark(Distribution.ALL, tlp)) == set(PARTNERS)
    assert allowed(mark(Distribution.COMMUNITY, tlp)) == {COMMUNITY}
    relayed = mark(Distribution.ALL, tlp, originator=OUTSIDER, hops=1)
    assert allowed(relayed) == set()
    v = decide(relayed, COMMUNITY, NODE)
    assert not v.allowed and v.reason == "tlp-amber-relay"


def test_red_goes_to_its_named_recipients_only() -> None:
    m = mark(Distribution.ALL, TLP.RED, recipients=frozenset({CONNECTED}))
    assert allowed(m) == {CONNECTED}
    v = decide(m, COMMUNITY, NODE)
    assert not v.allowed and v.reason == "tlp-red-not-recipient"


def test_red_is_never_relayed_even_to_a_recipient() -> None:
    m = mark(Distribution.ALL, TLP.RED, originator=OUTSIDER, recipients=frozenset({ME, COMMUNITY}), hops=1)
    assert allowed(m) == set()
    assert decide(m, COMMUNITY, NODE).reason == "tlp-red-relay"


def test_the_stricter_of_tlp_and_distribution_wins() -> None:
    # RED for a recipient, but the distribution keeps it in the organisation.
    assert allowed(mark(Distribution.ORGANISATION, TLP.RED, recipients=frozenset({COMMUNITY}))) == set()
    # RED for a recipient who is not in the community of a community-only object.
    assert allowed(mark(Distribution.COMMUNITY, TLP.RED, recipients=frozenset({COMMUNITY, PLAIN}))) == {COMMUNITY}
    # A sharing group, RED for one member only.
    assert allowed(mark(Distribution.GROUP, TLP.RED, group="ftf-cd", recipients=frozenset({PLAIN, COMMUNITY}))) == {PLAIN}
    # AMBER for everyone in the group, but the distribution is the group.
    assert allowed(mark(Distribution.GROUP, TLP.AMBER, group="ftf-ab")) == {COMMUNITY}


def test_recipients_restrict_any_tlp() -> None:
    m = mark(Distribution.ALL, TLP.GREEN, recipients=frozenset({PLAIN, OUTSIDER}))
    assert allowed(m) == {PLAIN}
    v = decide(m, COMMUNITY, NODE)
    assert not v.allowed and v.reason == "not-recipient"
    relayed = mark(Distribution.ALL, TLP.CLEAR, originator=OUTSIDER, recipients=frozenset({CONNECTED}), hops=2)
    assert allowed(relayed) == {CONNECTED}


def test_an_inconsistent_marking_is_served_to_nobody_and_does_not_raise() -> None:
    bad = mark(Distribution.GROUP, TLP.GREEN, group=None)
    v = decide(bad, COMMUNITY, NODE)
    assert not v.allowed and v.reason == "invalid-marking"
    assert allowed(bad) == set()
    assert not may_receive(mark(Distribution.ALL, TLP.RED), COMMUNITY, NODE)  # RED without recipients
    assert not may_receive(mark(Distribution.ALL, hops=-1), COMMUNITY, NODE)


# --- may_receive, egress -----------------------------------------------------------------------


def test_may_receive_is_decides_answer() -> None:
    for m in (mark(Distribution.COMMUNITY), mark(Distribution.ORGANISATION), mark(Distribution.GROUP, group="ftf-ab")):
        for org in (*PARTNERS, GONE, OUTSIDER):
            assert may_receive(m, org, NODE) is decide(m, org, NODE).allowed


def test_egress_keeps_what_the_requester_may_read_in_order() -> None:
    items = [
        ("a", mark(Distribution.ALL)),
        ("b", mark(Distribution.ORGANISATION)),
        ("c", mark(Distribution.COMMUNITY)),
        ("d", mark(Distribution.ALL, TLP.RED, recipients=frozenset({CONNECTED}))),
        ("e", mark(Distribution.CONNECTED)),
        ("f", mark(Distribution.ALL, TLP.AMBER, originator=OUTSIDER, hops=1)),
    ]
    assert egress(items, lambda i: i[1], COMMUNITY, NODE) == [items[0], items[2], items[4]]
    assert [i[0] for i in egress(items, lambda i: i[1], CONNECTED, NODE)] == ["a", "d", "e"]
    assert egress(items, lambda i: i[1], OUTSIDER, NODE) == []
    assert egress(iter(items), lambda i: i[1], PLAIN, NODE) == [items[0]]


# --- on_receipt --------------------------------------------------------------------------------


def test_on_receipt_adds_a_hop_and_keeps_the_rest() -> None:
    m = mark(Distribution.GROUP, TLP.AMBER, group="ftf-ab", recipients=frozenset({COMMUNITY}))
    got = on_receipt(m, via=ME)
    assert got == Marking(originator=ME, distribution=Distribution.GROUP, tlp=TLP.AMBER, group="ftf-ab", recipients=frozenset({COMMUNITY}), hops=1)
    assert on_receipt(got, via=COMMUNITY).hops == 2


def test_on_receipt_turns_connected_into_community() -> None:
    got = on_receipt(mark(Distribution.CONNECTED, TLP.CLEAR), via=ME)
    assert got.distribution == Distribution.COMMUNITY and got.hops == 1
    assert on_receipt(mark(Distribution.ALL), via=ME).distribution == Distribution.ALL


def test_on_receipt_counts_a_relayed_origin_claim_as_two_hops() -> None:
    # Served with hops 0 by a node that is not the originator: it went through at least that node.
    assert on_receipt(mark(Distribution.ALL, originator="ir-x"), via="hub").hops == 2


def test_on_receipt_refuses_an_inconsistent_marking_or_no_partner() -> None:
    with pytest.raises(PolicyError, match="recipients") as err:
        on_receipt(mark(Distribution.ALL, TLP.RED), via=ME)
    assert err.value.field == "recipients"
    with pytest.raises(PolicyError, match="via") as err:
        on_receipt(mark(Distribution.ALL), via=" ")
    assert err.value.field == "via"


# --- validate_marking and construction ---------------------------------------------------------


@pytest.mark.parametrize(("m", "field", "words"), [
    (mark(Distribution.GROUP, group=None), "group", "sharing group"),
    (mark(Distribution.GROUP, group="  "), "group", "sharing group"),
    (mark(Distribution.ALL, group="ftf-ab"), "group", "not sharing-group"),
    (mark(Distribution.ALL, TLP.RED), "recipients", "TLP:RED"),
    (mark(Distribution.ALL, recipients=frozenset({""})), "recipients", "not an organisation"),
    (mark(Distribution.ALL, hops=-1), "hops", "negative"),
    (mark(Distribution.ALL, hops=True), "hops", "whole number"),  # type: ignore[arg-type]
    (mark(Distribution.ALL, originator=""), "originator", "organisation is required"),
])
def test_validate_marking_names_what_is_inconsistent(m: Marking, field: str, words: str) -> None:
    with pytest.raises(PolicyError, match=words) as err:
        validate_marking(m)
    assert err.value.field == field
    assert isinstance(err.value, ValueError)
    assert f"marking.{field}" in str(err.value)


def test_validate_marking_accepts_consistent_markings() -> None:
    validate_marking(mark(Distribution.GROUP, TLP.RED, group="ftf-ab", recipients=frozenset({COMMUNITY})))
    validate_marking(mark(Distribution.ORGANISATION, TLP.AMBER_STRICT, hops=4))


def test_string_values_become_enums_and_bad_ones_are_refused() -> None:
    m = Marking(originator=ME, distribution="sharing-group", tlp="AMBER+STRICT", group="g", recipients={COMMUNITY})  # type: ignore[arg-type]
    assert m.distribution is Distribution.GROUP and m.tlp is TLP.AMBER_STRICT
    assert m.recipients == frozenset({COMMUNITY}) and isinstance(m.recipients, frozenset)
    with pytest.raises(PolicyError, match="unknown distribution") as err:
        Marking(originator=ME, distribution="everyone", tlp=TLP.GREEN)  # type: ignore[arg-type]
    assert err.value.field == "distribution"
    with pytest.raises(PolicyError, match="unknown TLP") as err:
        Marking(originator=ME, distribution=Distribution.ALL, tlp="white")  # type: ignore[arg-type]
    assert err.value.field == "tlp"
    with pytest.raises(PolicyError, match="not the string"):
        Marking(originator=ME, distribution=Distribution.ALL, tlp=TLP.RED, recipients="kg-border")  # type: ignore[arg-type]
