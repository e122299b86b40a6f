"""Restrictions and standing statuses on SQLite and PostgreSQL: each change is checked,
written with an audit record that names no raw identity, and read back into a control book;
only actors with the right make them, and a member's admin only on its own accounts and only
with a bank's own measures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from fundwall.accounts.controls import lift_restriction, restrict, set_account_status
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.clock import FixedClock
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.engine.controls import ControlBook, RestrictionKind
from fundwall.engine.controls.changes import apply_changes, load_book
from fundwall.engine.controls.model import NEVER_US
from fundwall.engine.features.inputs import micros
from fundwall.store import UnitOfWork

from .conftest import ADMIN_A, ADMIN_B, OPERATOR, Uow, actor_of

SUSPEND = RestrictionKind.NON_COUNTER_SUSPENSION


def book(uow_factory: Uow) -> ControlBook:
    with uow_factory() as uow:
        return load_book(uow.session)


def us(moment: datetime) -> int:
    return micros(moment, "t")


def test_status_changes_are_audited_and_reach_a_running_book(stocked: Uow) -> None:
    running = book(stocked)
    with stocked() as uow:
        previous = set_account_status(uow, OPERATOR, "A1", AccountStatus.CLOSED, "销户申请")
    with stocked() as uow:
        (record,) = uow.audit.tail(1)
        apply_changes(uow.session, running, 0)
    assert previous is AccountStatus.NORMAL
    assert running.statuses == {"A1": AccountStatus.CLOSED}
    assert (record.actor, record.action, record.subject) == (
        "system:test",
        "set_account_status",
        "account:*1",
    )
    assert record.details == {"from": "normal", "to": "closed", "reason": "销户申请"}
    assert book(stocked).statuses == {"A1": AccountStatus.CLOSED}


def test_restrictions_are_time_bounded_and_lifted(stocked: Uow, clock: FixedClock) -> None:
    now = clock.now()
    with stocked() as uow:
        stop = restrict(
            uow, OPERATOR, "6222021234567890123", RestrictionKind.STOP_PAYMENT,
            reason="紧急止付", ends_at=now + timedelta(hours=48), order_reference="ZF-2024-42",
        )  # fmt: skip
        freeze = restrict(
            uow, OPERATOR, "A1", RestrictionKind.FREEZE, reason="冻结", amount_fen=5_000_00,
            starts_at=now + timedelta(hours=1),
        )  # fmt: skip
        first, second = uow.audit.tail(2)
    assert first.subject == "account:6222***********0123"
    assert first.details["reference"] == "ZF-2024-42"
    assert second.subject == "account:*1"
    loaded = book(stocked)
    (stopped,) = loaded.restrictions["6222021234567890123"].values()
    assert (stopped.start_us, stopped.end_us) == (us(now), us(now + timedelta(hours=48)))
    assert stopped.whole and stopped.reference == "ZF-2024-42"
    (frozen,) = loaded.restrictions["A1"].values()
    assert (frozen.amount_fen, frozen.end_us) == (5_000_00, NEVER_US)
    clock.advance(timedelta(hours=2))
    with stocked() as uow:
        lift_restriction(uow, OPERATOR, freeze, "解冻")
    (lifted,) = book(stocked).restrictions["A1"].values()
    assert lifted.end_us == us(clock.now())
    with stocked() as uow, pytest.raises(Conflict, match="lifted already"):
        lift_restriction(uow, OPERATOR, freeze, "again")
    assert stop != freeze


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow: set_account_status(uow, OPERATOR, "A1", AccountStatus.FROZEN_PARTIAL, "x"),
         "status"),
        (lambda uow: set_account_status(uow, OPERATOR, "A1", AccountStatus.CLOSED, "  "),
         "reason"),
        (lambda uow: restrict(uow, OPERATOR, "A1", RestrictionKind.FREEZE, reason="x",
                              amount_fen=0), "amount_fen"),
        (lambda uow: restrict(uow, OPERATOR, "A1", SUSPEND, reason="x", amount_fen=100),
         "amount_fen"),
        (lambda uow: restrict(uow, OPERATOR, "A 1", RestrictionKind.FREEZE, reason="x"),
         "account_no"),
        (lambda uow: restrict(uow, OPERATOR, "A1", RestrictionKind.FREEZE, reason="x",
                              ends_at=uow.clock.now() - timedelta(seconds=1)), "ends_at"),
        (lambda uow: restrict(uow, OPERATOR, "A1", RestrictionKind.FREEZE, reason="x",
                              ends_at=datetime(2030, 1, 1)), "ends_at"),
        (lambda uow: set_account_status(uow, ADMIN_A, "A1", AccountStatus.FROZEN_FULL, "x"),
         "status"),
    ],
)  # fmt: skip
def test_bad_changes_are_refused_naming_the_field(
    stocked: Uow, call: Callable[[UnitOfWork], object], field: str
) -> None:
    with stocked() as uow:
        with pytest.raises(InvalidInput) as caught:
            call(uow)
        assert caught.value.field == field
        assert uow.audit.tail(1) == []


def test_unknown_rows_are_not_found(stocked: Uow) -> None:
    with stocked() as uow:
        with pytest.raises(NotFound, match=r"account not found: \*\*\*UCH"):
            set_account_status(uow, OPERATOR, "NOSUCH", AccountStatus.CLOSED, "x")
        with pytest.raises(NotFound):
            lift_restriction(uow, OPERATOR, 12345, "x")


def test_a_reason_with_a_raw_id_number_never_enters_the_audit_log(stocked: Uow) -> None:
    with stocked() as uow, pytest.raises(InvalidInput, match="ID number in the clear"):
        restrict(uow, OPERATOR, "A1", RestrictionKind.FREEZE, reason="holder 11010519491231002X")


def test_only_actors_with_the_right_restrict_or_set_statuses(stocked: Uow) -> None:
    without = [r for r in Role if Permission.RESTRICT_ACCOUNTS not in ROLE_PERMISSIONS[r]]
    assert Role.MEMBER_ANALYST in without and Role.HUB_SUPERVISOR in without
    with stocked() as uow:
        stop = restrict(uow, OPERATOR, "A1", RestrictionKind.STOP_PAYMENT, reason="止付")
    for role in without:
        actor = actor_of(role)
        with stocked() as uow:
            with pytest.raises(PermissionDenied, match="restrict_accounts"):
                restrict(uow, actor, "A1", SUSPEND, reason="suspicious logins")
            with pytest.raises(PermissionDenied, match="restrict_accounts"):
                lift_restriction(uow, actor, stop, "order withdrawn")
            with pytest.raises(PermissionDenied, match="restrict_accounts"):
                set_account_status(uow, actor, "A1", AccountStatus.DORMANT, "idle")
            assert [r.action for r in uow.audit.tail(2)] == ["restrict_account"]


def test_a_member_admin_suspends_its_own_accounts_and_lifts_its_own_suspensions(
    stocked: Uow,
) -> None:
    with stocked() as uow:
        suspension = restrict(uow, ADMIN_A, "A1", SUSPEND, reason="customer cannot be reached")
        previous = set_account_status(uow, ADMIN_A, "A2", AccountStatus.DORMANT, "idle a year")
    with stocked() as uow:
        lift_restriction(uow, ADMIN_A, suspension, "customer came to the counter")
        trail = [(r.actor, r.action) for r in uow.audit.tail(3)]
    assert previous is AccountStatus.NORMAL
    assert trail == [
        ("user:amy@B001", "restrict_account"),
        ("user:amy@B001", "set_account_status"),
        ("user:amy@B001", "lift_restriction"),
    ]
    loaded = book(stocked)
    assert loaded.statuses == {"A2": AccountStatus.DORMANT}
    (lifted,) = loaded.restrictions["A1"].values()
    assert lifted.kind is SUSPEND


def test_a_member_admin_cannot_touch_another_members_accounts(stocked: Uow) -> None:
    with stocked() as uow:
        theirs = restrict(uow, ADMIN_B, "B1", SUSPEND, reason="customer cannot be reached")
    with stocked() as uow:
        for account in ("B1", "NOSUCH"):
            with pytest.raises(NotFound, match="account not found"):
                restrict(uow, ADMIN_A, account, SUSPEND, reason="not mine")
            with pytest.raises(NotFound, match="account not found"):
                set_account_status(uow, ADMIN_A, account, AccountStatus.CLOSED, "not mine")
        with pytest.raises(NotFound, match="account restriction not found"):
            lift_restriction(uow, ADMIN_A, theirs, "not mine")
        assert [r.actor for r in uow.audit.tail(2)] == ["user:bea@B002"]
    assert set(book(stocked).restrictions) == {"B1"}


def test_stop_payments_and_freezes_are_legal_orders_not_a_members_measures(
    stocked: Uow,
) -> None:
    with stocked() as uow:
        for kind in (RestrictionKind.STOP_PAYMENT, RestrictionKind.FREEZE):
            with pytest.raises(PermissionDenied, match="legal order"):
                restrict(uow, ADMIN_A, "A1", kind, reason="suspected mule")
        order = restrict(uow, OPERATOR, "A1", RestrictionKind.STOP_PAYMENT, reason="止付令 7")
    with stocked() as uow:
        with pytest.raises(PermissionDenied, match="legal order"):
            lift_restriction(uow, ADMIN_A, order, "customer says it is fine")
        assert [r.actor for r in uow.audit.tail(2)] == ["system:test"]
