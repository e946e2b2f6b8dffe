"""The alert lifecycle (pure): every action from every status by every role is allowed or a
DecisionError of the right kind, with four eyes on and off; four-eyes confirmation (an analyst
proposes, another supervisor approves or rejects); the rules for a new hit on a pair;
what-changed citations."""

from __future__ import annotations

import itertools

import pytest

from qalqan.monitoring.alerts import (
    ACTIVE,
    Action,
    AlertStatus,
    DecisionError,
    Rehit,
    Role,
    entity_changes,
    explanation_changes,
    on_rehit,
    subject_changes,
    transition,
)

S, A = AlertStatus, Action

#: The lifecycle as the issue and the design state it, four eyes off: (action, from status) -> to status.
EXPECTED_MOVES = {
    (A.ESCALATE, S.OPEN): S.ESCALATED,
    (A.CONFIRM, S.OPEN): S.CONFIRMED,
    (A.CONFIRM, S.ESCALATED): S.CONFIRMED,
    (A.FALSE_POSITIVE, S.OPEN): S.FALSE_POSITIVE,
    (A.FALSE_POSITIVE, S.ESCALATED): S.FALSE_POSITIVE,
    (A.CLOSE, S.OPEN): S.CLOSED,
    (A.CLOSE, S.ESCALATED): S.CLOSED,
    (A.REOPEN, S.CONFIRMED): S.OPEN,
    (A.REOPEN, S.FALSE_POSITIVE): S.OPEN,
    (A.REOPEN, S.CLOSED): S.OPEN,
    (A.REASSIGN, S.OPEN): S.OPEN,
    (A.REASSIGN, S.ESCALATED): S.ESCALATED,
    (A.TAKE, S.OPEN): S.OPEN,
    (A.TAKE, S.ESCALATED): S.ESCALATED,
    # Alerts left pending when four eyes was on are still approved or rejected.
    (A.APPROVE, S.PENDING_APPROVAL): S.CONFIRMED,
    (A.REJECT, S.PENDING_APPROVAL): S.OPEN,
}
#: With four eyes on, an analyst's confirm is a proposal; a supervisor's or admin's is final.
FOUR_EYES_MOVES = {
    role: {**EXPECTED_MOVES, (A.CONFIRM, S.OPEN): S.PENDING_APPROVAL, (A.CONFIRM, S.ESCALATED): S.PENDING_APPROVAL}
    if role is Role.ANALYST
    else EXPECTED_MOVES
    for role in Role
}
ANALYST_ACTIONS = {A.ESCALATE, A.CONFIRM, A.FALSE_POSITIVE, A.CLOSE, A.TAKE}
EXPECTED_ROLES = {
    Role.ANALYST: ANALYST_ACTIONS,
    Role.SUPERVISOR: ANALYST_ACTIONS | {A.REOPEN, A.REASSIGN, A.APPROVE, A.REJECT},
    Role.ADMIN: ANALYST_ACTIONS | {A.REOPEN, A.REASSIGN, A.APPROVE, A.REJECT},
    Role.AUDITOR: set(),
}


@pytest.mark.parametrize("four_eyes", [True, False], ids=["four-eyes", "one-pair"])
@pytest.mark.parametrize(("action", "status", "role"), list(itertools.product(Action, AlertStatus, Role)))
def test_every_action_status_and_role(action: Action, status: AlertStatus, role: Role, four_eyes: bool) -> None:
    assignee = "bob" if action is A.REASSIGN else None
    who = {"actor": "boss", "proposed_by": "ana", "four_eyes": four_eyes}
    if action not in EXPECTED_ROLES[role]:
        with pytest.raises(DecisionError) as info:
            transition(status, action, role, "checked the passport", assignee, **who)
        assert info.value.kind == "role"
        assert role.value in str(info.value)
        return
    target = (FOUR_EYES_MOVES[role] if four_eyes else EXPECTED_MOVES).get((action, status))
    if target is None:
        with pytest.raises(DecisionError) as info:
            transition(status, action, role, "checked the passport", assignee, **who)
        assert info.value.kind == "transition"
        assert status.value in str(info.value)
        return
    step = transition(status, action, role, "checked the passport", assignee, assignee_role="analyst", **who)
    assert (step.from_status, step.to_status, step.reason) == (status, target, "checked the passport")
    assert step.assignee == ("boss" if action is A.TAKE else assignee)


def test_take_assigns_an_alert_nobody_has_to_the_actor() -> None:
    step = transition("open", "take", "analyst", "", actor="ana")
    assert (step.to_status, step.assignee, step.reason) == (S.OPEN, "ana", "assigned to themselves")
    # Someone else's alert: an analyst may not take it; a supervisor may.
    with pytest.raises(DecisionError) as info:
        transition("open", "take", "analyst", "", actor="ana", assigned_to="bob")
    assert info.value.kind == "assigned"
    assert transition("escalated", "take", "supervisor", "", actor="boss", assigned_to="bob").assignee == "boss"
    with pytest.raises(DecisionError, match="already assigned to you"):
        transition("open", "take", "analyst", "", actor="ana", assigned_to="ana")
    with pytest.raises(DecisionError) as info:
        transition("pending_approval", "take", "analyst", "", actor="ana")
    assert info.value.kind == "transition"


def test_four_eyes_an_analysts_confirm_waits_for_another_supervisor() -> None:
    proposed = transition("open", "confirm", "analyst", "same passport number", actor="ana")
    assert proposed.to_status is S.PENDING_APPROVAL
    assert transition("escalated", "confirm", "analyst", "same passport number", actor="ana").to_status is S.PENDING_APPROVAL
    approved = transition(proposed.to_status, "approve", "supervisor", "agreed: same passport", actor="boss", proposed_by="ana")
    assert (approved.from_status, approved.to_status) == (S.PENDING_APPROVAL, S.CONFIRMED)
    assert transition("pending_approval", "approve", "admin", "agreed", actor="root", proposed_by="ana").to_status is S.CONFIRMED
    rejected = transition("pending_approval", "reject", "supervisor", "the birth year differs: look again", actor="boss", proposed_by="ana")
    assert (rejected.from_status, rejected.to_status) == (S.PENDING_APPROVAL, S.OPEN)
    # A supervisor's (or admin's) own confirm is the second pair of eyes: final at once.
    assert transition("open", "confirm", "supervisor", "same passport", actor="boss").to_status is S.CONFIRMED
    assert transition("escalated", "confirm", "admin", "same passport", actor="root").to_status is S.CONFIRMED


def test_four_eyes_nobody_approves_their_own_proposal() -> None:
    # An analyst who proposed and has since become a supervisor still may not approve it.
    with pytest.raises(DecisionError, match="'ana' proposed") as info:
        transition("pending_approval", "approve", "supervisor", "looks right to me", actor="ana", proposed_by="ana")
    assert info.value.kind == "four-eyes"
    # An approval whose proposer (or approver) is unknown is refused, not waved through.
    for who in ({"actor": "boss"}, {"proposed_by": "ana"}, {}):
        with pytest.raises(DecisionError) as info:
            transition("pending_approval", "approve", "supervisor", "agreed", **who)
        assert info.value.kind == "four-eyes"
    # Sending one's own proposal back is allowed (it only reopens the alert).
    assert transition("pending_approval", "reject", "supervisor", "withdrawn", actor="ana", proposed_by="ana").to_status is S.OPEN


def test_four_eyes_analysts_neither_approve_nor_reject() -> None:
    for action in ("approve", "reject"):
        with pytest.raises(DecisionError) as info:
            transition("pending_approval", action, "analyst", "agreed", actor="sam", proposed_by="ana")
        assert info.value.kind == "role"


@pytest.mark.parametrize("action", ["confirm", "false_positive", "close", "escalate", "reopen"])
def test_four_eyes_a_pending_alert_takes_only_approve_or_reject(action: str) -> None:
    with pytest.raises(DecisionError) as info:
        transition("pending_approval", action, "supervisor", "changed my mind", actor="boss", proposed_by="ana")
    assert info.value.kind == "transition"
    with pytest.raises(DecisionError) as info:
        transition("pending_approval", "reassign", "supervisor", "workload", assignee="carol", assignee_role="analyst", actor="boss", proposed_by="ana")
    assert info.value.kind == "transition"


def test_four_eyes_off_an_analysts_confirm_is_final() -> None:
    assert transition("open", "confirm", "analyst", "same person", actor="ana", four_eyes=False).to_status is S.CONFIRMED
    assert transition("escalated", "confirm", "analyst", "same person", actor="ana", four_eyes=False).to_status is S.CONFIRMED
    # Still no self-approval of an alert left pending from before.
    with pytest.raises(DecisionError) as info:
        transition("pending_approval", "approve", "supervisor", "ok", actor="ana", proposed_by="ana", four_eyes=False)
    assert info.value.kind == "four-eyes"


def test_a_pending_alert_is_active() -> None:
    assert S.PENDING_APPROVAL in ACTIVE  # a delisting closes it; a new hit refreshes it
    assert on_rehit("pending_approval", True, True) is Rehit.UPDATE


def test_closed_delisted_is_final_for_users() -> None:
    for action, role in itertools.product(Action, Role):
        with pytest.raises(DecisionError):
            transition("closed_delisted", action, role, "because", "bob" if action is A.REASSIGN else None)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_mandatory(reason: str | None) -> None:
    with pytest.raises(DecisionError) as info:
        transition("open", "false_positive", "analyst", reason)  # type: ignore[arg-type]
    assert info.value.kind == "reason"


def test_unknown_values_and_assignee_rules() -> None:
    with pytest.raises(DecisionError, match="unknown action 'approve-all'") as info:
        transition("open", "approve-all", "analyst", "x")
    assert info.value.kind == "action"
    with pytest.raises(DecisionError, match="unknown role 'boss'"):
        transition("open", "confirm", "boss", "x")
    with pytest.raises(DecisionError) as info:
        transition("open", "reassign", "supervisor", "workload")
    assert info.value.kind == "assignee"
    with pytest.raises(DecisionError) as info:
        transition("open", "confirm", "analyst", "same person", assignee="bob")
    assert info.value.kind == "assignee"
    # Escalating hands nothing to anyone: only a supervisor's reassign names an assignee.
    with pytest.raises(DecisionError) as info:
        transition("open", "escalate", "analyst", "needs a second look", assignee="carol", assignee_role="analyst")
    assert info.value.kind == "assignee"
    step = transition("open", "reassign", "supervisor", "workload", assignee=" carol ", assignee_role="analyst")
    assert step.assignee == "carol"


@pytest.mark.parametrize(("assignee_role", "ok"), [("analyst", True), ("supervisor", True), ("admin", True), ("auditor", False), (None, False)])
def test_an_alert_goes_only_to_someone_who_can_decide_it(assignee_role: str | None, ok: bool) -> None:
    if ok:
        assert transition("open", "reassign", "supervisor", "workload", assignee="x", assignee_role=assignee_role).assignee == "x"
        return
    with pytest.raises(DecisionError, match="cannot assign") as info:
        transition("open", "reassign", "supervisor", "workload", assignee="x", assignee_role=assignee_role)
    assert info.value.kind == "assignee"


def test_an_assigned_alert_is_its_assignees_or_a_supervisors() -> None:
    with pytest.raises(DecisionError, match="assigned to 'sam'") as info:
        transition("open", "confirm", "analyst", "mine now", actor="ana", assigned_to="sam")
    assert info.value.kind == "assigned"
    assert transition("open", "confirm", "analyst", "checked", actor="sam", assigned_to="sam").to_status == S.PENDING_APPROVAL
    assert transition("open", "confirm", "supervisor", "checked", actor="boss", assigned_to="sam").to_status == S.CONFIRMED
    assert transition("open", "confirm", "analyst", "checked", actor="ana").to_status == S.PENDING_APPROVAL  # nobody's
    assert transition("open", "confirm", "analyst", "checked", actor="sam", assigned_to="sam", four_eyes=False).to_status == S.CONFIRMED


def test_reason_is_stripped_and_bounded() -> None:
    assert transition("open", "close", "analyst", "  customer left  ").reason == "customer left"
    with pytest.raises(DecisionError):
        transition("open", "close", "analyst", "x" * 10_001)


@pytest.mark.parametrize(
    ("status", "subject_changed", "entity_changed", "expected"),
    [
        (None, False, False, Rehit.NEW),
        ("open", True, True, Rehit.UPDATE),
        ("escalated", False, False, Rehit.UPDATE),
        ("pending_approval", False, False, Rehit.UPDATE),
        ("confirmed", True, False, Rehit.KEEP),
        ("false_positive", False, False, Rehit.SUPPRESS),
        ("false_positive", True, False, Rehit.RERAISE),
        ("false_positive", False, True, Rehit.RERAISE),
        ("closed", False, False, Rehit.SUPPRESS),
        ("closed", False, True, Rehit.RERAISE),
        ("closed_delisted", False, False, Rehit.RELISTED),
    ],
)
def test_rehit_rules(status: str | None, subject_changed: bool, entity_changed: bool, expected: Rehit) -> None:
    assert on_rehit(status, subject_changed, entity_changed) is expected


def test_entity_changes_ignore_identity_fields() -> None:
    old = {"id": "UN-1", "source_id": "1", "list": "un", "names": [{"value": "A B"}], "notes": ["x"]}
    reissued = {**old, "id": "UN-9", "source_id": "9"}
    assert entity_changes(old, reissued) == []
    amended = {**old, "birth_dates": [{"year": 1970}]}
    assert entity_changes(old, amended) == [{"side": "entity", "field": "birth_dates", "old": None, "new": [{"year": 1970}]}]
    assert entity_changes(None, amended) == []


def test_subject_and_explanation_changes() -> None:
    assert subject_changes({"name": "A", "birth_date": "1970"}, {"name": "A", "birth_date": "1971"}) == [
        {"side": "subject", "field": "birth_date", "old": "1970", "new": "1971"}
    ]
    before = [{"feature": "name", "query_value": "Ali Khan"}, {"feature": "birth_date", "query_value": None}]
    after = [{"feature": "name", "query_value": "Ali Khan"}, {"feature": "birth_date", "query_value": "1970"}]
    assert explanation_changes(before, after) == [{"side": "subject", "field": "birth_date", "old": None, "new": "1970"}]
