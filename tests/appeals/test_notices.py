"""The restriction notice (告知短信) on SQLite and PostgreSQL: a bank's own measure on an account
(a restriction, a tier's measures, the status 非柜面暂停) queues one SMS to the phone the bank
bound to the holder, with the portal's address, in the measure's transaction; a police order,
a lifting and a holder without a bound phone queue none; several writes in one transaction
tell the holder once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth import world
from fundwall.accounts.controls import lift_restriction, restrict, set_account_status
from fundwall.accounts.queries import notify_holder, write_model_tiers
from fundwall.accounts.tiers import set_risk_tier
from fundwall.appeals.filing import my_measures
from fundwall.config import PolicySettings, get_settings
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import MobilePhone
from fundwall.engine.controls.model import RestrictionKind
from fundwall.outreach.gateway import LocalGateway
from fundwall.outreach.outbox import delivered_to, dispatch_outbox
from fundwall.phones.queries import bind
from fundwall.store.outreach_tables import SmsMessageRow
from fundwall.store.tables import AccountRow

from .conftest import ADMIN_A, ANALYST_A, OPERATOR, Uow, person_of

PHONE = "13912340001"
"""Bound by bank B001 to P1, the holder of A1."""
POLICY = PolicySettings()


@pytest.fixture
def bound(stocked: Uow, keyring: Keyring) -> Uow:
    with stocked() as uow:
        bind(uow.session, keyring, member=world.BANK_A, party_id="P1", phone=MobilePhone(PHONE),
             at=uow.clock.now(), by="system:test", revision=None)  # fmt: skip
        uow.commit()
    return stocked


def _notices(uow_factory: Uow) -> list[str]:
    """The texts of the restriction notices the holder's handset received."""
    with uow_factory() as uow:
        dispatch_outbox(uow, LocalGateway())
        return [sms.text for sms in delivered_to(uow, PHONE)]


def test_a_banks_suspension_tells_the_holder_once_where_to_appeal(bound: Uow) -> None:
    with bound() as uow:
        restriction = restrict(uow, ADMIN_A, "A1", RestrictionKind.NON_COUNTER_SUSPENSION,
                               reason="一号多人：绑定手机号同时绑定了7人")  # fmt: skip
    (text,) = _notices(bound)
    assert "尾号A1" in text and "暂停非柜面业务" in text and "一号多人" in text
    assert get_settings().portal.public_url in text and "身份证件" in text
    with bound() as uow:  # lifting it, and a police order, tell nothing by this SMS
        lift_restriction(uow, ADMIN_A, restriction, "已核实")
        restrict(uow, OPERATOR, "A1", RestrictionKind.STOP_PAYMENT, reason="紧急止付")
    assert len(_notices(bound)) == 1


def test_a_tier_a_cap_and_a_status_each_tell_the_holder_once(bound: Uow) -> None:
    with bound() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.MEDIUM, POLICY, reason="多头开户")
    with bound() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.HIGH, POLICY, reason="快进快出")
    with bound() as uow:
        set_account_status(uow, ADMIN_A, "A1", AccountStatus.NON_COUNTER_SUSPENDED, "久未核实")
        set_account_status(uow, ADMIN_A, "A1", AccountStatus.NON_COUNTER_SUSPENDED, "again")
    texts = _notices(bound)
    assert ["限制非柜面转出额度" in t for t in texts] == [True, False, False]
    assert ["暂停非柜面业务" in t for t in texts] == [False, True, True]
    assert "多头开户" in texts[0] and "快进快出" in texts[1] and "久未核实" in texts[2]
    with bound() as uow:
        restrict(uow, ADMIN_A, "A1", RestrictionKind.NON_COUNTER_SUSPENSION, reason=" 一号 多人。 ")
    assert "原因：一号 多人。如有异议" in _notices(bound)[-1]  # the reason's own 。 dropped


def test_writes_in_one_transaction_tell_once_and_a_refused_measure_tells_nothing(
    bound: Uow,
) -> None:
    with bound() as uow:
        account = uow.session.get_one(AccountRow, "A1")
        # A screening notice and the restriction it comes with, in one transaction.
        first = notify_holder(uow, ADMIN_A, account, None, "存量账户排查")
        restrict(uow, ADMIN_A, "A1", RestrictionKind.NON_COUNTER_SUSPENSION, reason="排查")
        assert first is not None
    with bound() as uow, pytest.raises(InvalidInput):
        restrict(uow, ADMIN_A, "A1", RestrictionKind.OUTFLOW_CAP, reason="  ")
    with bound() as uow:
        queued = uow.session.scalars(
            select(SmsMessageRow.template).where(SmsMessageRow.party_id == "P1")
        ).all()
    assert queued == ["restriction_notice"]
    (text,) = _notices(bound)
    assert "列入风险排查" in text and "存量账户排查" in text


def test_a_holder_without_a_bound_phone_is_restricted_and_sent_nothing(stocked: Uow) -> None:
    with stocked() as uow:
        restrict(uow, ADMIN_A, "A2", RestrictionKind.NON_COUNTER_SUSPENSION, reason="一号多人")
        assert uow.session.scalars(select(SmsMessageRow)).all() == []


def test_a_long_reason_is_cut_to_fit_the_message(bound: Uow) -> None:
    with bound() as uow:
        restrict(uow, ADMIN_A, "A1", RestrictionKind.NON_COUNTER_SUSPENSION, reason="理由" * 200)
    (text,) = _notices(bound)
    assert "理由" * 14 + "理…" in text


def test_a_mule_scores_tier_tells_the_holder_in_plain_words(bound: Uow, keyring: Keyring) -> None:
    """The holder reads why in words, in the notice and the portal: not the model's name and
    figures, which the tier's change keeps for the staff."""
    with bound() as uow:
        wanted = {"A1": (RiskTier.HIGH, "mule score 0.97 (acct-5d8cf8310b14): block")}
        (change,) = write_model_tiers(uow, OPERATOR, wanted, POLICY)
        uow.commit()
    assert change.reason == "mule score 0.97 (acct-5d8cf8310b14): block"
    (text,) = _notices(bound)
    assert "原因：经风险监测，账户交易特征与涉诈账户相似，列为高风险账户。" in text
    with bound() as uow:
        (measure,) = my_measures(uow, person_of(keyring, 1))
    assert measure.why == "经风险监测，账户交易特征与涉诈账户相似，列为高风险账户"
    for technical in ("mule", "acct-", "0.97", "risk tier"):
        assert technical not in text and technical not in measure.why


def test_a_tier_a_person_set_states_their_reason_after_the_tier(
    bound: Uow, keyring: Keyring
) -> None:
    with bound() as uow:
        set_risk_tier(uow, ANALYST_A, "A1", RiskTier.HIGH, POLICY, reason="一号多人")
    (text,) = _notices(bound)
    assert "原因：列为高风险账户：一号多人。" in text
