"""The alert lifecycle: statuses, who may take which decision from which status, and what a new
hit on a subject-entity pair does to the alert already standing on it. Pure: no I/O; the
service (`qalqan.service.alerts`, `qalqan.service.hits`) stores what these functions decide.

    open ──escalate──> escalated
    open / escalated ──confirm──> confirmed            (supervisor / admin; analyst with four-eyes off)
    open / escalated ──confirm──> pending_approval     (analyst, four-eyes on: the default)
    pending_approval ──approve──> confirmed            (supervisor / admin, not the proposer)
    pending_approval ──reject──> open                  (supervisor / admin: sent back)
    open / escalated ──false_positive──> false_positive
    open / escalated ──close──> closed            ("not relevant", e.g. a customer relationship ended)
    open / escalated / pending_approval ──(system: entity delisted)──> closed_delisted
    confirmed ──(system: partner's subject retracted)──> closed_delisted  (reason "retracted by originator")
    confirmed / false_positive / closed ──reopen──> open      (supervisor)
    open / escalated ──reassign──> (unchanged)                (supervisor)
    open / escalated ──take──> (unchanged, assigned to the actor)  (analyst: an alert nobody has)

Four eyes (`transition(..., four_eyes=True)`, the deployment's `QALQAN_FOUR_EYES`, on by
default): an analyst's confirmation is a proposal, not a decision. The alert waits in
pending_approval until a supervisor (or admin) other than the proposer approves it (confirmed)
or rejects it (back to open, for another look). A supervisor's or admin's own confirm is final
at once: they are the second pair of eyes. Nobody approves a confirmation they proposed
(DecisionError kind "four-eyes"), whatever their role is now. From pending_approval no other
user action applies (no confirm, false_positive, close, escalate, reassign): only approve,
reject, and the system's closing on a delisting or a removed subject. With four-eyes off an
analyst's confirm is final, as before; alerts already pending can still be approved or
rejected. Only a final confirmation (confirmed) counts as a confirmed hit, e.g. for the
sighting reported to a partner agency.

Assignment: only a supervisor (or admin) assigns, by `reassign`, and only to a user whose role
may decide alerts (never an auditor). An alert assigned to someone is decided by that person or
a supervisor, not by another analyst.

A closed-delisted alert is not reopened: the listing is gone; if it comes back, the re-screen
raises a new alert (generation + 1, trigger "relisted").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qalqan.model.codec import IDENTITY_FIELDS


class AlertStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    PENDING_APPROVAL = "pending_approval"  # an analyst's confirm, awaiting a supervisor (four eyes)
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    CLOSED = "closed"
    CLOSED_DELISTED = "closed_delisted"


class Action(StrEnum):
    ESCALATE = "escalate"
    CONFIRM = "confirm"
    FALSE_POSITIVE = "false_positive"
    CLOSE = "close"
    REOPEN = "reopen"
    REASSIGN = "reassign"
    APPROVE = "approve"  # a supervisor approves a pending confirmation: confirmed
    REJECT = "reject"  # ... or sends it back: open
    TAKE = "take"  # "assign to me": the actor takes an alert nobody has (a supervisor: any)


class Role(StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Trigger(StrEnum):
    """Why an alert (generation) was raised."""

    NEW_SUBJECT = "new-subject"  # a subject screened on arrival
    SUBJECT_CHANGED = "subject-changed"  # a subject's data updated, screened again
    LIST_ADDED = "list-added"  # the delta re-screen: the entity is new in the version
    LIST_AMENDED = "list-amended"  # ... or amended
    DATA_CHANGED = "data-changed"  # re-raised after a false positive / close: a side's data changed
    RELISTED = "relisted"  # re-raised after a delisting: the entity is back
    TRAVELLER = "traveller"  # a traveller of an API/PNR message matched a listed party
    LOST_DOCUMENT = "lost-document"  # a traveller's document is on the lost and stolen list


#: Statuses awaiting a user's decision on the match itself (confirm, false positive, close).
UNDECIDED = frozenset({AlertStatus.OPEN, AlertStatus.ESCALATED})
#: Statuses still awaiting a (final) decision: the ones a delisting closes and a new hit updates.
ACTIVE = UNDECIDED | {AlertStatus.PENDING_APPROVAL}
#: Statuses a human decided "not a match (any more)": a new hit is suppressed unless data changed.
DISMISSED = frozenset({AlertStatus.FALSE_POSITIVE, AlertStatus.CLOSED})

#: action -> (statuses it may leave, status it leads to; None = unchanged)
TRANSITIONS: dict[Action, tuple[frozenset[AlertStatus], AlertStatus | None]] = {
    Action.ESCALATE: (frozenset({AlertStatus.OPEN}), AlertStatus.ESCALATED),
    Action.CONFIRM: (UNDECIDED, AlertStatus.CONFIRMED),  # PENDING_APPROVAL instead: see `needs_approval`
    Action.FALSE_POSITIVE: (UNDECIDED, AlertStatus.FALSE_POSITIVE),
    Action.CLOSE: (UNDECIDED, AlertStatus.CLOSED),
    Action.REOPEN: (frozenset({AlertStatus.CONFIRMED, AlertStatus.FALSE_POSITIVE, AlertStatus.CLOSED}), AlertStatus.OPEN),
    Action.REASSIGN: (UNDECIDED, None),
    Action.APPROVE: (frozenset({AlertStatus.PENDING_APPROVAL}), AlertStatus.CONFIRMED),
    Action.REJECT: (frozenset({AlertStatus.PENDING_APPROVAL}), AlertStatus.OPEN),
    Action.TAKE: (UNDECIDED, None),
}

#: Actions that may name the user an alert goes to: only a supervisor's reassignment.
ASSIGNING = frozenset({Action.REASSIGN})

_ANALYST = frozenset({Action.ESCALATE, Action.CONFIRM, Action.FALSE_POSITIVE, Action.CLOSE, Action.TAKE})
#: The reason recorded for a `take` given without one.
TAKE_REASON = "assigned to themselves"
#: Which role may take which action (the issue's roles; auditors read the audit log only).
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ANALYST: _ANALYST,
    Role.SUPERVISOR: _ANALYST | {Action.REOPEN, Action.REASSIGN, Action.APPROVE, Action.REJECT},
    Role.ADMIN: _ANALYST | {Action.REOPEN, Action.REASSIGN, Action.APPROVE, Action.REJECT},
    Role.AUDITOR: frozenset(),
}

#: The reason recorded when the system closes an alert on a delisted entity.
DELISTED_REASON = "delisted on {date}"
#: Lists built from a partner agency's shared subjects are named PARTNER_LIST_PREFIX + its org
#: code; a subject leaving one was retracted by the partner that shared it.
PARTNER_LIST_PREFIX = "partner-"
RETRACTED_REASON = "retracted by originator"


def removal_reason(list_name: str, date: str) -> str:
    """Why alerts on an entity a new version removed are closed."""
    return RETRACTED_REASON if list_name.startswith(PARTNER_LIST_PREFIX) else DELISTED_REASON.format(date=date)
#: ... and when a subject is removed from the watched population.
SUBJECT_REMOVED_REASON = "subject removed"
#: Pseudo-action of those system decisions (not in TRANSITIONS: no user may take them).
SYSTEM_CLOSE = "system-close"
#: Longest reason kept: a decision's reason is a sentence or a paragraph, not a document.
MAX_REASON_CHARS = 10_000


class DecisionError(ValueError):
    """A decision that may not be taken: `kind` is "action", "role", "actor", "transition",
    "reason", "assignee", "assigned" (the alert is someone else's) or "four-eyes" (approving
    one's own confirmation); the message says what was wrong and what is allowed."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    from_status: AlertStatus
    to_status: AlertStatus
    reason: str
    assignee: str | None = None  # set by reassign


def _enum(kind: type[StrEnum], value: str, what: str, error_kind: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)  # type: ignore[attr-defined]
        raise DecisionError(error_kind, f"unknown {what} {value!r}; expected one of: {allowed}") from None


def may_decide(role: str | None) -> bool:
    """Whether a user with `role` may decide alerts at all (an alert may be assigned only to such a user)."""
    try:
        return bool(ROLE_ACTIONS[Role(role or "")] & {Action.CONFIRM, Action.FALSE_POSITIVE})
    except ValueError:
        return False


def needs_approval(role: str, *, four_eyes: bool = True) -> bool:
    """Whether a confirm by a user with `role` is a proposal awaiting approval (pending_approval)
    rather than final: with four eyes on, when the role may not approve confirmations itself."""
    return four_eyes and Action.APPROVE not in ROLE_ACTIONS.get(Role(role), frozenset())


def transition(
    status: str,
    action: str,
    role: str,
    reason: str,
    assignee: str | None = None,
    *,
    actor: str | None = None,
    assigned_to: str | None = None,
    assignee_role: str | None = None,
    four_eyes: bool = True,
    proposed_by: str | None = None,
) -> Transition:
    """The decision `action` by `actor` with `role` on an alert in `status` (assigned to
    `assigned_to`, if anyone), or DecisionError. `assignee_role` is the role of the user a
    reassignment names (None: no such active user). With `four_eyes`, an analyst's confirm leads
    to pending_approval; `proposed_by` is the actor of the pending confirm, who may not approve
    it (an approval with either the actor or the proposer unknown is refused too)."""
    act: Action = _enum(Action, action, "action", "action")
    who: Role = _enum(Role, role, "role", "role")
    current: AlertStatus = _enum(AlertStatus, status, "alert status", "transition")
    if act not in ROLE_ACTIONS[who]:
        may = ", ".join(sorted(a.value for a in ROLE_ACTIONS[who])) or "no alert decisions"
        raise DecisionError("role", f"role {who.value!r} may not {act.value} an alert (it may: {may})")
    if assigned_to and actor is not None and actor != assigned_to and Action.REASSIGN not in ROLE_ACTIONS[who]:
        raise DecisionError("assigned", f"the alert is assigned to {assigned_to!r}: only they or a supervisor may decide it")
    text = (reason or "").strip()
    if act is Action.TAKE:
        if actor is None:
            raise DecisionError("actor", "take needs the user who takes the alert")
        if assigned_to == actor:
            raise DecisionError("transition", "the alert is already assigned to you")
        text = text or TAKE_REASON
    if not text:
        raise DecisionError("reason", "a decision needs a reason: it is kept with the decision for audit")
    if len(text) > MAX_REASON_CHARS:
        raise DecisionError("reason", f"reason is {len(text)} characters long; at most {MAX_REASON_CHARS} are accepted")
    sources, target = TRANSITIONS[act]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise DecisionError("transition", f"cannot {act.value} an alert that is {current.value} (only from: {allowed})")
    if act is Action.APPROVE:
        if actor is None or proposed_by is None:
            raise DecisionError("four-eyes", "cannot approve: who proposed the confirmation (or who approves it) is unknown")
        if actor == proposed_by:
            raise DecisionError("four-eyes", f"{actor!r} proposed this confirmation: another supervisor must approve it (four eyes)")
    if act is Action.CONFIRM and needs_approval(who, four_eyes=four_eyes):
        target = AlertStatus.PENDING_APPROVAL
    new_assignee = (assignee or "").strip() or None
    if act is Action.REASSIGN and new_assignee is None:
        raise DecisionError("assignee", "reassign needs the user to assign the alert to")
    if new_assignee is not None and act not in ASSIGNING:
        raise DecisionError("assignee", f"{act.value} takes no assignee (only a supervisor's reassign does)")
    if new_assignee is not None and not may_decide(assignee_role):
        what = "no active user" if assignee_role is None else f"role {assignee_role!r}, which cannot decide alerts"
        raise DecisionError("assignee", f"cannot assign the alert to {new_assignee!r}: {what}")
    if act is Action.TAKE:
        new_assignee = actor
    return Transition(act, current, target or current, text, new_assignee)


class Rehit(StrEnum):
    """What a new hit on a (subject, list, entity) pair does to the latest alert on it."""

    NEW = "new"  # no alert yet: raise generation 1
    UPDATE = "update"  # open / escalated / pending_approval: refresh score, explanation and version; keep the status
    KEEP = "keep"  # confirmed: the decision stands
    SUPPRESS = "suppress"  # dismissed, and neither side changed: no alert
    RERAISE = "reraise"  # dismissed, and a side changed: new generation, trigger data-changed
    RELISTED = "relisted"  # closed-delisted and back on the list: new generation


def on_rehit(status: str | None, subject_changed: bool, entity_changed: bool) -> Rehit:
    """The rule for a hit on a pair whose latest alert has `status` (None: no alert)."""
    if status is None:
        return Rehit.NEW
    current = AlertStatus(status)
    if current in ACTIVE:
        return Rehit.UPDATE
    if current is AlertStatus.CONFIRMED:
        return Rehit.KEEP
    if current is AlertStatus.CLOSED_DELISTED:
        return Rehit.RELISTED
    return Rehit.RERAISE if subject_changed or entity_changed else Rehit.SUPPRESS


def entity_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The listed party's fields that differ between two stored contents (`entity_to_dict`
    form), identity fields (id, list, source id) left out: a re-issued record under a new id says
    nothing new about the person."""
    if old is None:
        return []
    out = []
    for field in sorted(set(old) | set(new)):
        if field in IDENTITY_FIELDS:
            continue
        if old.get(field) != new.get(field):
            out.append({"side": "entity", "field": field, "old": old.get(field), "new": new.get(field)})
    return out


def subject_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The subject's screening-input columns that differ between two versions of its data."""
    if old is None:
        return []
    return [
        {"side": "subject", "field": field, "old": old.get(field), "new": new.get(field)}
        for field in sorted(set(old) | set(new))
        if old.get(field) != new.get(field)
    ]


def explanation_changes(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Where the subject's old data is no longer at hand: the query values of each feature as
    the two explanations recorded them (what the subject said then and now)."""
    before = {f.get("feature"): f.get("query_value") for f in old}
    after = {f.get("feature"): f.get("query_value") for f in new}
    return [
        {"side": "subject", "field": feature, "old": before.get(feature), "new": after.get(feature)}
        for feature in sorted(set(before) | set(after), key=str)
        if before.get(feature) != after.get(feature)
    ]
