"""The egress filter: which stored object a TAXII read may return to which partner organisation.

Nothing leaves a Qalqan node except what a partner pulls over TAXII, and every object a pull
returns passes `decide` first. The filter is default-deny: an object goes to a requester only
when every rule below allows it, and the first rule that refuses gives the reason.

Two vocabularies mark an object, and the stricter of the two always wins:

Distribution (MISP's distribution levels, https://www.misp-project.org/features/ — "Your
organisation only", "This community only", "Connected communities", "All communities", "Sharing
group"):

- ``organisation`` — the originator's organisation only: it never leaves the originator.
- ``community`` — the partners this node flags as members of its community.
- ``connected`` — the community and the connected partner nodes. One hop only: the recipient
  stores it as ``community`` (`on_receipt`), so it goes no further than the recipient's community.
- ``all`` — every (active) partner, at every hop.
- ``sharing-group`` — the named member organisations of one sharing group, as this node knows the
  group. Members need not see each other. Only the originator's node serves it: a member that
  received it may not know every member, so it never relays it.

TLP 2.0 (FIRST, https://www.first.org/tlp/):

- ``clear`` and ``green`` — disclosure is not limited beyond the distribution level (TLP:GREEN is
  community-wide; every partner is a peer of the community), so the distribution governs.
- ``amber`` and ``amber+strict`` — recipients may use it inside their own organisation (and, for
  AMBER, its clients) but not pass it to another organisation: only the originator's node
  (``hops == 0``) serves it, to whom the distribution allows.
- ``red`` — for the named recipients only: only the originator's node serves it, and only to the
  organisations in `Marking.recipients`.

A non-empty `Marking.recipients` restricts every TLP to those organisations. The originator may
always read its own object back. An unknown or inactive requester gets nothing, and so does
everyone for an inconsistent marking (`validate_marking`).

Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class PolicyError(ValueError):
    """A marking that cannot be enforced as written; `field` names the marking field at fault."""

    def __init__(self, message: str, *, field: str = "marking"):
        super().__init__(message)
        self.field = field


class Distribution(StrEnum):
    """MISP's distribution levels (who may receive, hop by hop)."""

    ORGANISATION = "organisation"
    COMMUNITY = "community"
    CONNECTED = "connected"
    ALL = "all"
    GROUP = "sharing-group"


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 labels."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


#: TLP labels whose holders may not pass the object to another organisation: only the
#: originator's node serves them.
NOT_RELAYED_TLP = frozenset({TLP.AMBER, TLP.AMBER_STRICT, TLP.RED})


class Reason(StrEnum):
    """Why `decide` allowed or refused: a stable code for the audit log and for tests."""

    # allowed
    OWN_OBJECT = "own-object"
    COMMUNITY_MEMBER = "community-member"
    CONNECTED_PARTNER = "connected-partner"
    DISTRIBUTION_ALL = "distribution-all"
    GROUP_MEMBER = "group-member"
    # refused: the requester
    UNKNOWN_PARTNER = "unknown-partner"
    INACTIVE_PARTNER = "inactive-partner"
    PARTNER_MISMATCH = "partner-mismatch"
    # refused: the marking
    INVALID_MARKING = "invalid-marking"
    ORIGIN_MISMATCH = "origin-mismatch"
    # refused: TLP
    TLP_RED_RELAY = "tlp-red-relay"
    TLP_RED_NOT_RECIPIENT = "tlp-red-not-recipient"
    TLP_AMBER_RELAY = "tlp-amber-relay"
    NOT_RECIPIENT = "not-recipient"
    # refused: distribution
    DISTRIBUTION_ORGANISATION = "distribution-organisation"
    NOT_COMMUNITY = "distribution-community-not-member"
    NOT_CONNECTED = "distribution-connected-not-partner"
    GROUP_UNKNOWN = "group-unknown"
    GROUP_NOT_MEMBER = "group-not-member"
    GROUP_RELAY = "group-relay"


@dataclass(frozen=True, slots=True)
class Marking:
    """How one stored object may travel.

    `originator` is the organisation that made it; `group` names the sharing group (set if and
    only if the distribution is ``sharing-group``); `recipients` names the organisations a
    TLP:RED object is for (required) or, for another TLP, further restricts who may receive it
    (when non-empty); `hops` is 0 on the node that made the object and n after n pulls.
    String values of `distribution` and `tlp` are converted to their enums."""

    originator: str
    distribution: Distribution
    tlp: TLP
    group: str | None = None
    recipients: frozenset[str] = frozenset()
    hops: int = 0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "distribution", Distribution(self.distribution))
        except ValueError:
            raise PolicyError(f"marking.distribution: unknown distribution {self.distribution!r} (one of {', '.join(d.value for d in Distribution)})", field="distribution") from None
        try:
            object.__setattr__(self, "tlp", TLP(str(self.tlp).lower()))
        except ValueError:
            raise PolicyError(f"marking.tlp: unknown TLP label {self.tlp!r} (one of {', '.join(t.value for t in TLP)})", field="tlp") from None
        if isinstance(self.recipients, str):
            raise PolicyError(f"marking.recipients: a set of organisations, not the string {self.recipients!r}", field="recipients")
        if not isinstance(self.recipients, frozenset):
            object.__setattr__(self, "recipients", frozenset(self.recipients))


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner organisation as this node knows it: a member of this node's community, a
    connected partner node, and whether it is active (a removed partner is not)."""

    org: str
    community: bool = False
    connected: bool = False
    active: bool = True


@dataclass(frozen=True, slots=True)
class NodePolicy:
    """What the filter needs to know about this node: its own organisation, its partners by
    organisation, and its sharing groups (name -> member organisations)."""

    org: str
    partners: Mapping[str, Partner] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The filter's answer for one object and one requester, with the reason code."""

    allowed: bool
    reason: str


def _allow(reason: Reason) -> Verdict:
    return Verdict(True, reason.value)


def _deny(reason: Reason) -> Verdict:
    return Verdict(False, reason.value)


def marking_problem(marking: Marking) -> PolicyError | None:
    """Why `marking` is inconsistent (as the error `validate_marking` would raise), or None."""
    if not isinstance(marking.originator, str) or not marking.originator.strip():
        return PolicyError(f"marking.originator: an organisation is required, not {marking.originator!r}", field="originator")
    if marking.distribution == Distribution.GROUP:
        if not isinstance(marking.group, str) or not marking.group.strip():
            return PolicyError("marking.group: distribution sharing-group needs the sharing group's name", field="group")
    elif marking.group is not None:
        return PolicyError(f"marking.group: {marking.group!r} is set but the distribution is {marking.distribution.value}, not sharing-group", field="group")
    for org in marking.recipients:
        if not isinstance(org, str) or not org.strip():
            return PolicyError(f"marking.recipients: {org!r} is not an organisation", field="recipients")
    if marking.tlp == TLP.RED and not marking.recipients:
        return PolicyError("marking.recipients: TLP:RED is for named recipients only, and none is named", field="recipients")
    if isinstance(marking.hops, bool) or not isinstance(marking.hops, int):
        return PolicyError(f"marking.hops: a whole number, not {marking.hops!r}", field="hops")
    if marking.hops < 0:
        return PolicyError(f"marking.hops: {marking.hops} is negative (0 means made on this node)", field="hops")
    return None


def validate_marking(marking: Marking) -> None:
    """Raise PolicyError (naming the field) if `marking` is inconsistent: no originator, a
    sharing group without a group name (or a group name on another distribution), TLP:RED
    without recipients, an empty recipient, or negative hops."""
    problem = marking_problem(marking)
    if problem is not None:
        raise problem


def _requester_problem(requester: str, node: NodePolicy) -> Reason | None:
    partner = node.partners.get(requester)
    if partner is None:
        return Reason.UNKNOWN_PARTNER
    if partner.org != requester:
        return Reason.PARTNER_MISMATCH
    if not partner.active:
        return Reason.INACTIVE_PARTNER
    return None


def _tlp_verdict(marking: Marking, requester: str, at_origin: bool) -> Verdict | None:
    """A refusal the TLP label imposes, or None when TLP leaves it to the distribution."""
    if marking.tlp == TLP.RED:
        if not at_origin:
            return _deny(Reason.TLP_RED_RELAY)
        if requester not in marking.recipients:
            return _deny(Reason.TLP_RED_NOT_RECIPIENT)
    elif marking.tlp in NOT_RELAYED_TLP and not at_origin:
        return _deny(Reason.TLP_AMBER_RELAY)
    if marking.recipients and requester not in marking.recipients:
        return _deny(Reason.NOT_RECIPIENT)
    return None


def _distribution_verdict(marking: Marking, partner: Partner, node: NodePolicy, at_origin: bool) -> Verdict:
    """What the distribution level says about this partner (TLP has already been checked)."""
    level = marking.distribution
    if level == Distribution.ORGANISATION:
        return _deny(Reason.DISTRIBUTION_ORGANISATION)
    if level == Distribution.ALL:
        return _allow(Reason.DISTRIBUTION_ALL)
    if level == Distribution.GROUP:
        if not at_origin:
            return _deny(Reason.GROUP_RELAY)
        members = node.groups.get(marking.group or "")
        if members is None:
            return _deny(Reason.GROUP_UNKNOWN)
        return _allow(Reason.GROUP_MEMBER) if partner.org in members else _deny(Reason.GROUP_NOT_MEMBER)
    if partner.community:
        return _allow(Reason.COMMUNITY_MEMBER)
    # CONNECTED reaches connected partners on the first hop only; received copies are stored as
    # COMMUNITY, and one that was not (hops >= 1) is treated as COMMUNITY here all the same.
    if level == Distribution.CONNECTED and at_origin:
        return _allow(Reason.CONNECTED_PARTNER) if partner.connected else _deny(Reason.NOT_CONNECTED)
    return _deny(Reason.NOT_COMMUNITY)


def decide(marking: Marking, requester: str, node: NodePolicy) -> Verdict:
    """May `node` return an object marked `marking` to partner organisation `requester`?

    Default deny, in this order: the requester must be a known, active partner of this node;
    the marking must be consistent; the originator always gets its own object back; a marking
    with hops 0 must have been made here (its originator is this node's organisation); then TLP
    (AMBER, AMBER+STRICT and RED only from the originator's node, RED only to its recipients,
    any recipient list restricts) and the distribution level must both allow it."""
    problem = _requester_problem(requester, node)
    if problem is not None:
        return _deny(problem)
    if marking_problem(marking) is not None:
        return _deny(Reason.INVALID_MARKING)
    if requester == marking.originator:
        return _allow(Reason.OWN_OBJECT)
    at_origin = marking.hops == 0
    if at_origin and marking.originator != node.org:
        return _deny(Reason.ORIGIN_MISMATCH)
    refused = _tlp_verdict(marking, requester, at_origin)
    if refused is not None:
        return refused
    return _distribution_verdict(marking, node.partners[requester], node, at_origin)


def may_receive(marking: Marking, requester: str, node: NodePolicy) -> bool:
    """`decide(...).allowed`: may `node` return the object to `requester`."""
    return decide(marking, requester, node).allowed


def egress(items: Iterable[T], marking_of: Callable[[T], Marking], requester: str, node: NodePolicy) -> list[T]:
    """The items `requester` may receive from `node`, in their order."""
    return [item for item in items if may_receive(marking_of(item), requester, node)]


def on_receipt(marking: Marking, *, via: str) -> Marking:
    """The marking a node stores for an object it pulled from partner `via`.

    One more hop; CONNECTED becomes COMMUNITY (it reaches one hop beyond the originator's
    community only); everything else is kept. An object served with hops 0 by a partner that is
    not its originator has passed through at least one other node, so it counts two hops.
    Raises PolicyError for an inconsistent marking or an empty `via`."""
    validate_marking(marking)
    if not isinstance(via, str) or not via.strip():
        raise PolicyError(f"via: the partner the object came from is required, not {via!r}", field="via")
    hops = marking.hops + 1 if (marking.hops > 0 or via == marking.originator) else 2
    distribution = Distribution.COMMUNITY if marking.distribution == Distribution.CONNECTED else marking.distribution
    return Marking(
        originator=marking.originator,
        distribution=distribution,
        tlp=marking.tlp,
        group=marking.group,
        recipients=marking.recipients,
        hops=hops,
    )
