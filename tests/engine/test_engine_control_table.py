"""The table of hard controls: each control declared whole, and the statuses it names agree
with what the domain says each status still allows."""

from __future__ import annotations

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls.model import (
    CAP_KIND,
    CONTROL_IDS,
    CONTROLS,
    RESTRICTION_CONTROLS,
    STATUS_CONTROLS,
    Check,
    ListRole,
    RestrictionKind,
    Side,
)


def statuses_of(side: Side, *, non_counter: bool) -> set[AccountStatus]:
    return {
        status
        for control in CONTROLS
        if control.check is Check.STATUS
        and control.side is side
        and control.non_counter is non_counter
        for status in control.statuses
    }


def test_status_controls_follow_the_domain_predicates() -> None:
    statuses = set(AccountStatus)
    assert statuses_of(Side.PAYER, non_counter=False) == {s for s in statuses if not s.can_pay_out}
    assert statuses_of(Side.PAYER, non_counter=True) == {
        s for s in statuses if s.can_pay_out and not s.allows_non_counter
    }
    assert statuses_of(Side.PAYEE, non_counter=False) == {s for s in statuses if not s.can_receive}
    assert not statuses_of(Side.PAYEE, non_counter=True)


def test_a_status_triggers_at_most_one_control_of_a_side() -> None:
    for side in Side:
        named = [
            status
            for control in CONTROLS
            if control.check is Check.STATUS and control.side is side
            for status in control.statuses
        ]
        assert len(named) == len(STATUS_CONTROLS[side])


def test_every_kind_of_restriction_triggers_a_control() -> None:
    """A whole-account restriction a STATUS control; the outflow cap (always an amount) its
    own control."""
    assert set(RESTRICTION_CONTROLS) | {CAP_KIND} == set(RestrictionKind)
    assert CAP_KIND not in RESTRICTION_CONTROLS


def test_each_control_declares_what_its_check_reads() -> None:
    assert len(set(CONTROL_IDS)) == len(CONTROLS)
    policy = PolicySettings()
    for control in CONTROLS:
        if control.check in (Check.LIMIT, Check.BALANCE_CAP):
            assert control.account_class in (2, 3), control.id
            assert isinstance(getattr(policy, control.limit or ""), int), control.id
        if control.check is Check.LIMIT:
            assert control.flow and control.period, control.id
        if control.check is Check.STATUS:
            assert all(control.says), control.id
        assert (control.check is Check.RISK_LIST) is (control.list_role is not None), control.id
        assert (control.check is Check.RISK_LIST) is (control.action is None), control.id
    listed = [control.list_role for control in CONTROLS if control.list_role]
    assert sorted(listed) == sorted(ListRole)
