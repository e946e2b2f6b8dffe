"""The alert lifecycle (pure): every action from every status by every role is allowed or a
DecisionError of the right kind; the rules for a new hit on a pair; what-changed citations."""

from __future__ import annotations

import itertools

import pytest

from qalqan.monitoring.alerts import (
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

#: The lifecycle as the issue and the design state it: (action, from status) -> to status.
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
}
ANALYST_ACTIONS = {A.ESCALATE, A.CONFIRM, A.FALSE_POSITIVE, A.CLOSE}
EXPECTED_ROLES = {
    Role.ANALYST: ANALYST_ACTIONS,
    Role.SUPERVISOR: ANALYST_ACTIONS | {A.REOPEN, A.REASSIGN},
    Role.ADMIN: ANALYST_ACTIONS | {A.REOPEN, A.REASSIGN},
    Role.AUDITOR: set(),
}


@pytest.mark.parametrize(("action", "status", "role"), list(itertools.product(Action, AlertStatus, Role)))
def test_every_action_status_and_role(action: Action, status: AlertStatus, role: Role) -> None:
    assignee = "bob" if action is A.REASSIGN else None
    if action not in EXPECTED_ROLES[role]:
        with pytest.raises(DecisionError) as info:
            transition(status, action, role, "checked the passport", assignee)
        assert info.value.kind == "role"
        assert role.value in str(info.value)
        return
    target = EXPECTED_MOVES.get((action, status))
    if target is None:
        with pytest.raises(DecisionError) as info:
            transition(status, action, role, "checked the passport", assignee)
        assert info.value.kind == "transition"
        assert status.value in str(info.value)
        return
    step = transition(status, action, role, "checked the passport", assignee, assignee_role="analyst")
    assert (step.from_status, step.to_status, step.reason) == (status, target, "checked the passport")
    assert step.assignee == assignee


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
    with pytest.raises(DecisionError, match="unknown action 'approve'") as info:
        transition("open", "approve", "analyst", "x")
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
    assert transition("open", "confirm", "analyst", "checked", actor="sam", assigned_to="sam").to_status == S.CONFIRMED
    assert transition("open", "confirm", "supervisor", "checked", actor="boss", assigned_to="sam").to_status == S.CONFIRMED
    assert transition("open", "confirm", "analyst", "checked", actor="ana").to_status == S.CONFIRMED  # nobody's


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
