"""Alert work on SQLite and PostgreSQL: the queue, its counts, taking, closing and refusing,
over the small two-bank world of tests/auth/world.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Role
from fundwall.cases import (
    AlertChange,
    AlertFilter,
    AlertStatus,
    AssigneeFilter,
    Disposition,
    alert_counts,
    alert_queue,
    colleagues,
    get_alert,
    work_alert,
)
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.monitoring.overview import overview
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]

HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
AUDITOR = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 98)
KEY_A = Actor(ActorKind.API_KEY, "k", Role.MEMBER_SYSTEM, world.BANK_A)


def _user(uow: UnitOfWork, name: str) -> Actor:
    return world.user_actor(uow, name)


def test_alerts_are_taken_worked_and_closed_with_an_audit_trail(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        assert colleagues(uow, ann) == ["amy", "ann"]
        queue = alert_queue(uow, ann, AlertFilter())
        assert [a.tx_id for a in queue.items] == ["T2", "T1"]
        assert queue.items[1].top_rule == "R001"
        taken = work_alert(uow, ann, "T1", AlertChange("ann", AlertStatus.IN_PROGRESS))
        assert (taken.status, taken.assignee) == (AlertStatus.IN_PROGRESS, "ann")
        with pytest.raises(InvalidInput, match="needs a disposition"):
            work_alert(uow, ann, "T1", AlertChange("ann", AlertStatus.CLOSED))
        uow.rollback()
        closed = work_alert(
            uow,
            ann,
            "T1",
            AlertChange("ann", AlertStatus.CLOSED, Disposition.MULE_ACCOUNT, "holder sold it"),
        )
        assert (closed.status, closed.disposition, closed.note) == (
            AlertStatus.CLOSED,
            Disposition.MULE_ACCOUNT,
            "holder sold it",
        )
        counts = alert_counts(uow, ann)
        mine = alert_queue(uow, ann, AlertFilter(assignee=AssigneeFilter.ME))
        nobody = alert_queue(uow, ann, AlertFilter(assignee=AssigneeFilter.NOBODY))
        closed_only = alert_queue(uow, ann, AlertFilter(status=AlertStatus.CLOSED))
        blocks = alert_queue(uow, ann, AlertFilter(action=Action.BLOCK))
        trail = [(r.action, r.details["status"]) for r in uow.audit.tail(2)]
        waiting = overview(uow, ann).alerts_waiting
    assert counts == {AlertStatus.NEW: 1, AlertStatus.IN_PROGRESS: 0, AlertStatus.CLOSED: 1}
    assert [a.tx_id for a in mine.items] == ["T1"] and [a.tx_id for a in nobody.items] == ["T2"]
    assert [a.tx_id for a in closed_only.items] == ["T1"] == [a.tx_id for a in blocks.items]
    assert trail == [
        ("alert_update", ["new", "in_progress"]),
        ("alert_update", ["in_progress", "closed"]),
    ]
    assert waiting == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (AlertChange("bob", AlertStatus.IN_PROGRESS), InvalidInput),
        (AlertChange(None, AlertStatus.IN_PROGRESS, Disposition.FALSE_POSITIVE), InvalidInput),
        (AlertChange("ann", AlertStatus.NEW), Conflict),
        (AlertChange(None, AlertStatus.IN_PROGRESS, None, "x" * 1001), InvalidInput),
        (AlertChange(None, AlertStatus.IN_PROGRESS, None, "call 13812345678"), InvalidInput),
    ],
)
def test_an_alert_change_that_makes_no_sense_is_refused(
    stocked: Uow, change: AlertChange, error: type[Exception]
) -> None:
    with stocked() as uow, pytest.raises(error):
        work_alert(uow, _user(uow, "ann"), "T2", change)


def test_another_members_alert_and_a_passed_transaction_are_not_alerts(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        for tx_id in ("T3", "T4", "T5", "T999"):
            with pytest.raises(NotFound):
                work_alert(uow, ann, tx_id, AlertChange(None, AlertStatus.IN_PROGRESS))
            with pytest.raises(NotFound):
                get_alert(uow, ann, tx_id)


def test_the_payees_bank_works_the_alert_on_a_deposit(stocked: Uow) -> None:
    with stocked() as uow:
        world.add_deposit(uow)
        bob, ann = _user(uow, "bob"), _user(uow, "ann")
        queue = [a.tx_id for a in alert_queue(uow, bob, AlertFilter()).items]
        theirs = [a.tx_id for a in alert_queue(uow, ann, AlertFilter()).items]
        counts = alert_counts(uow, bob)
        taken = work_alert(uow, bob, world.DEPOSIT, AlertChange("bob", AlertStatus.IN_PROGRESS))
        with pytest.raises(NotFound):
            get_alert(uow, ann, world.DEPOSIT)
    assert queue == ["D1", "T4", "T3"] and world.DEPOSIT not in theirs
    assert counts[AlertStatus.NEW] == 3
    assert (taken.action, taken.payer_account, taken.payee_account) == (Action.DELAY, None, "B1")


def _calls() -> list[tuple[str, Callable[[UnitOfWork, Actor], Any]]]:
    change = AlertChange(None, AlertStatus.IN_PROGRESS)
    return [
        ("alert_queue", lambda uow, actor: alert_queue(uow, actor, AlertFilter())),
        ("alert_counts", alert_counts),
        ("get_alert", lambda uow, actor: get_alert(uow, actor, "T1")),
        ("colleagues", colleagues),
        ("work_alert", lambda uow, actor: work_alert(uow, actor, "T1", change)),
    ]


@pytest.mark.parametrize(("name", "call"), _calls(), ids=[name for name, _ in _calls()])
@pytest.mark.parametrize("actor", [HUB, AUDITOR], ids=["hub", "auditor"])
def test_alert_work_refuses_roles_without_the_members_customers(
    stocked: Uow, name: str, call: Callable[[UnitOfWork, Actor], Any], actor: Actor
) -> None:
    with stocked() as uow, pytest.raises(PermissionDenied):
        call(uow, actor)


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, actor: colleagues(uow, actor),
        lambda uow, actor: work_alert(uow, actor, "T1", AlertChange(None, AlertStatus.IN_PROGRESS)),
    ],
    ids=["colleagues", "work_alert"],
)
def test_a_members_system_reads_alerts_but_does_not_work_them(
    stocked: Uow, call: Callable[[UnitOfWork, Actor], Any]
) -> None:
    with stocked() as uow:
        assert [a.tx_id for a in alert_queue(uow, KEY_A, AlertFilter()).items] == ["T2", "T1"]
        with pytest.raises(PermissionDenied, match="work_alerts"):
            call(uow, KEY_A)
