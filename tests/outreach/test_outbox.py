"""The SMS outbox: queuing inside the caller's transaction, templates, tenancy, idempotency,
opt-outs, rate limits and the dispatcher over the local gateway (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auth import world
from fundwall.clock import FixedClock
from fundwall.config import OutreachSettings
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.outreach import (
    GatewayUnavailable,
    LocalGateway,
    OptOutChannel,
    OutgoingSms,
    SendResult,
    SmsPurpose,
    SmsStatus,
    add_template,
    delivered_to,
    dispatch_outbox,
    record_opt_out,
)
from fundwall.outreach.queries import queue_sms
from fundwall.store.outreach_tables import SmsMessageRow
from fundwall.store.tables import AuditRow
from outreach.conftest import ANALYST_A, ANALYST_B, OPERATOR, SYSTEM_A, Uow, phone_of

CODE = {"code": "493817", "minutes": "10"}
WARNING = {"bank": "银行B001", "payee_tail": "0042", "amount": "5,000.00"}


def _queue(uow_factory: Uow, **given: object) -> int:
    arguments: dict[str, object] = {
        "phone": phone_of(1),
        "template": "portal_code",
        "variables": CODE,
        "member": None,
        "purpose": SmsPurpose.CODE,
    }
    arguments.update(given)
    actor = arguments.pop("actor", OPERATOR)
    with uow_factory() as uow:
        message = queue_sms(uow, actor, **arguments)  # type: ignore[arg-type]
        uow.audit.record(actor, "test_queue", f"sms:{message}")
        uow.commit()
    return message


def _row(uow_factory: Uow, message: int) -> SmsMessageRow:
    with uow_factory() as uow:
        row = uow.session.get(SmsMessageRow, message)
        assert row is not None
        uow.session.expunge(row)  # read as it is now, kept from the rollback at the end
        return row


def test_a_code_is_queued_dispatched_and_read_on_the_handset(
    outreach_world: Uow, clock: FixedClock
) -> None:
    message = _queue(outreach_world)
    queued = _row(outreach_world, message)
    assert queued.status == SmsStatus.QUEUED.value
    assert queued.queued_at == clock.now()
    clock.advance(timedelta(seconds=1))
    with outreach_world() as uow:
        counts = dispatch_outbox(uow, LocalGateway())
    assert (counts.delivered, counts.failed, counts.retrying) == (1, 0, 0)
    row = _row(outreach_world, message)
    assert row.status == SmsStatus.DELIVERED.value
    assert row.sent_at == row.delivered_at == clock.now()
    assert row.attempts == 1
    with outreach_world() as uow:
        received = delivered_to(uow, phone_of(1))
        assert delivered_to(uow, phone_of(2)) == []
    assert [r.message_id for r in received] == [message]
    assert received[0].text.startswith("【金融反诈】您的验证码为493817，10分钟内有效")
    assert received[0].purpose is SmsPurpose.CODE
    with outreach_world() as uow:
        assert dispatch_outbox(uow, LocalGateway()).offered == 0  # nothing sent twice
        actions = uow.session.scalars(select(AuditRow.action)).all()
    assert actions.count("sms_dispatch") == 1


def test_the_phone_and_text_are_encrypted_at_rest(outreach_world: Uow) -> None:
    message = _queue(outreach_world)
    row = _row(outreach_world, message)
    for blob in (row.phone_enc, row.text_enc):
        assert phone_of(1).encode() not in blob
        assert b"493817" not in blob
    assert phone_of(1) not in row.phone_hash


def test_nothing_is_queued_when_the_callers_transaction_rolls_back(outreach_world: Uow) -> None:
    with outreach_world() as uow:
        queue_sms(
            uow,
            OPERATOR,
            phone=phone_of(1),
            template="portal_code",
            variables=CODE,
            member=None,
            purpose=SmsPurpose.CODE,
        )
    with outreach_world() as uow:
        assert uow.session.scalars(select(SmsMessageRow)).all() == []


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"template": "no_such"}, "template"),
        ({"purpose": SmsPurpose.CAMPAIGN}, "purpose"),
        ({"variables": {"code": "1"}}, "variables.minutes"),
        ({"variables": {**CODE, "name": "张三"}}, "variables.name"),
        ({"variables": {**CODE, "code": ""}}, "variables.code"),
        ({"variables": {**CODE, "code": "1\n2"}}, "variables.code"),
        ({"variables": {**CODE, "code": "验" * 201}}, "variables.code"),
        ({"idempotency_key": "k" * 65}, "idempotency_key"),
        ({"party_id": "P1"}, "member"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_queues_nothing(
    outreach_world: Uow, given: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _queue(outreach_world, **given)
    assert refused.value.field == field
    with outreach_world() as uow:
        assert uow.session.scalars(select(SmsMessageRow)).all() == []


def test_a_message_longer_than_the_segments_allowed_names_its_longest_variable(
    outreach_world: Uow,
) -> None:
    notice = {
        "bank": "银行B001",
        "account_tail": "1234",
        "measure": "暂停非柜面业务",
        "reason": "涉嫌" * 60,
        "portal_url": "https://fw.example.cn/a",
    }
    with pytest.raises(InvalidInput) as refused:
        _queue(
            outreach_world,
            template="restriction_notice",
            variables=notice,
            purpose=SmsPurpose.NOTICE,
            settings=OutreachSettings(max_segments=3),
        )
    assert refused.value.field == "variables.reason"
    assert "at most 3 segments (201 characters)" in refused.value.reason
    notice["reason"] = "您的账户存在涉诈风险"
    message = _queue(
        outreach_world, template="restriction_notice", variables=notice, purpose=SmsPurpose.NOTICE
    )
    assert _row(outreach_world, message).segments == 2


def test_a_member_queues_only_its_own_members_messages_to_its_own_customers(
    outreach_world: Uow,
) -> None:
    with pytest.raises(PermissionDenied):
        _queue(outreach_world, actor=ANALYST_A, member=world.BANK_B)
    arguments = {"member": world.BANK_A, "template": "dissuasion_warning"}
    arguments |= {"purpose": SmsPurpose.WARNING, "variables": WARNING}
    with pytest.raises(NotFound):  # P3 holds accounts at B002 only
        _queue(outreach_world, actor=ANALYST_A, party_id="P3", **arguments)
    message = _queue(outreach_world, actor=ANALYST_A, party_id="P1", **arguments)
    row = _row(outreach_world, message)
    assert (row.member, row.party_id, row.queued_by) == (world.BANK_A, "P1", ANALYST_A.audit_id)


def test_an_idempotency_key_queues_once_per_member_and_refuses_another_message(
    outreach_world: Uow,
) -> None:
    first = _queue(outreach_world, idempotency_key="appeal-7")
    assert _queue(outreach_world, idempotency_key="appeal-7") == first
    with pytest.raises(Conflict, match=f"message {first}"):
        _queue(outreach_world, idempotency_key="appeal-7", variables={**CODE, "code": "111111"})
    other = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        idempotency_key="appeal-7",
        template="dissuasion_warning",
        purpose=SmsPurpose.WARNING,
        variables=WARNING,
    )
    assert other != first


def test_an_opted_out_phone_gets_no_campaign_but_still_its_codes_and_warnings(
    outreach_world: Uow,
) -> None:
    with outreach_world() as uow:
        opt_out = record_opt_out(uow, SYSTEM_A, phone_of(1), OptOutChannel.SMS_REPLY)
    assert opt_out.phone == "138****0001"
    with outreach_world() as uow, pytest.raises(Conflict, match="opted out already"):
        record_opt_out(uow, SYSTEM_A, phone_of(1), OptOutChannel.COUNTER)
    campaign = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        template="campaign_elderly",
        purpose=SmsPurpose.CAMPAIGN,
        variables={"bank": "银行B001"},
    )
    warning = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        template="dissuasion_warning",
        purpose=SmsPurpose.WARNING,
        variables=WARNING,
    )
    code = _queue(outreach_world)
    assert _row(outreach_world, campaign).status == SmsStatus.OPTED_OUT.value
    with outreach_world() as uow:
        assert dispatch_outbox(uow, LocalGateway()).delivered == 2
        received = [r.message_id for r in delivered_to(uow, phone_of(1))]
    assert sorted(received) == sorted([code, warning])


def test_codes_past_the_phones_hourly_limit_are_refused_and_campaigns_limited(
    outreach_world: Uow, clock: FixedClock
) -> None:
    for _ in range(5):
        _queue(outreach_world)
    with pytest.raises(Conflict, match="5 codes within the hour"):
        _queue(outreach_world)
    campaign = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        template="campaign_elderly",
        purpose=SmsPurpose.CAMPAIGN,
        variables={"bank": "银行B001"},
    )
    assert _row(outreach_world, campaign).status == SmsStatus.LIMITED.value
    warning = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        template="dissuasion_warning",
        purpose=SmsPurpose.WARNING,
        variables=WARNING,
    )
    assert _row(outreach_world, warning).status == SmsStatus.QUEUED.value
    _queue(outreach_world, phone=phone_of(2))  # another phone is not held back
    clock.advance(timedelta(minutes=61))
    _queue(outreach_world)


def test_the_messages_a_person_is_owed_do_not_use_up_their_codes(
    outreach_world: Uow, clock: FixedClock
) -> None:
    """A person whose accounts were just restricted, or who was warned, still gets the code
    to sign in to the portal and appeal: only codes count against the codes' limit."""
    for _ in range(6):
        _queue(
            outreach_world,
            actor=ANALYST_A,
            member=world.BANK_A,
            template="dissuasion_warning",
            purpose=SmsPurpose.WARNING,
            variables=WARNING,
        )
    code = _queue(outreach_world)
    assert _row(outreach_world, code).status == SmsStatus.QUEUED.value
    campaign = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        template="campaign_elderly",
        purpose=SmsPurpose.CAMPAIGN,
        variables={"bank": "银行B001"},
    )
    assert _row(outreach_world, campaign).status == SmsStatus.LIMITED.value  # all count here


def test_each_member_sends_within_its_rate_urgent_messages_first(
    outreach_world: Uow, clock: FixedClock
) -> None:
    limits = OutreachSettings(member_per_minute=2, phone_per_hour=100)
    queued: dict[str, list[int]] = {world.BANK_A: [], world.BANK_B: []}
    for member, actor, n in ((world.BANK_A, ANALYST_A, 1), (world.BANK_B, ANALYST_B, 3)):
        for _ in range(3):
            queued[member].append(
                _queue(
                    outreach_world,
                    actor=actor,
                    member=member,
                    phone=phone_of(n),
                    template="campaign_elderly",
                    purpose=SmsPurpose.CAMPAIGN,
                    variables={"bank": member},
                )
            )
    urgent = _queue(
        outreach_world,
        actor=ANALYST_A,
        member=world.BANK_A,
        template="dissuasion_warning",
        purpose=SmsPurpose.WARNING,
        variables=WARNING,
    )
    with outreach_world() as uow:
        assert dispatch_outbox(uow, LocalGateway(), settings=limits).delivered == 4
    status = {m: _row(outreach_world, m).status for ids in queued.values() for m in ids}
    assert _row(outreach_world, urgent).status == SmsStatus.DELIVERED.value
    assert [status[m] for m in queued[world.BANK_A]] == ["delivered", "queued", "queued"]
    assert [status[m] for m in queued[world.BANK_B]] == ["delivered", "delivered", "queued"]
    with outreach_world() as uow:  # the same minute: both members have used their rate
        assert dispatch_outbox(uow, LocalGateway(), settings=limits).offered == 0
    clock.advance(timedelta(minutes=1))
    with outreach_world() as uow:
        assert dispatch_outbox(uow, LocalGateway(), settings=limits).delivered == 3


class _Down:
    name = "down"

    def __init__(self) -> None:
        self.offered: list[OutgoingSms] = []

    def send(self, message: OutgoingSms) -> SendResult:
        self.offered.append(message)
        raise GatewayUnavailable(self.name, "HTTP 503 (tried 3 times)")


def test_a_message_the_gateway_does_not_take_waits_longer_each_round_then_fails(
    outreach_world: Uow, clock: FixedClock
) -> None:
    message = _queue(outreach_world)
    gateway = _Down()
    waits = []
    for _ in range(3):
        with outreach_world() as uow:
            counts = dispatch_outbox(uow, gateway, settings=OutreachSettings(max_attempts=3))
        row = _row(outreach_world, message)
        if row.status == SmsStatus.QUEUED.value:
            assert counts.retrying == 1
            assert row.next_attempt_at is not None
            waits.append(row.next_attempt_at - clock.now())
            with outreach_world() as uow:  # not due yet
                assert dispatch_outbox(uow, gateway).offered == 0
            clock.set(row.next_attempt_at)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2)]
    assert counts.failed == 1
    assert (row.status, row.attempts, row.failed_at) == ("failed", 3, clock.now())
    assert row.failure is not None and "HTTP 503" in row.failure
    assert len({offer.message_key for offer in gateway.offered}) == 1  # one key every time


def test_a_claim_left_by_a_stopped_dispatcher_is_taken_back(
    outreach_world: Uow, clock: FixedClock
) -> None:
    message = _queue(outreach_world)
    with outreach_world() as uow:
        row = uow.session.get(SmsMessageRow, message)
        assert row is not None
        row.status, row.claimed_at = SmsStatus.SENDING.value, clock.now()
        uow.commit()
    with outreach_world() as uow:
        assert dispatch_outbox(uow, LocalGateway()).offered == 0
    clock.advance(timedelta(minutes=6))
    with outreach_world() as uow:
        assert dispatch_outbox(uow, LocalGateway()).delivered == 1


def test_a_members_own_template_is_its_own(outreach_world: Uow) -> None:
    text = "{bank}提醒：近期冒充“客服退款”诈骗高发，{tip}。回复TD退订"
    with outreach_world() as uow:
        template = add_template(uow, ANALYST_A, "refund_scam", text)
    assert template.variables == ("bank", "tip")
    with outreach_world() as uow, pytest.raises(Conflict):
        add_template(uow, ANALYST_A, "refund_scam", text)
    arguments = {"template": "refund_scam", "purpose": SmsPurpose.CAMPAIGN}
    arguments |= {"variables": {"bank": "银行B001", "tip": "退款不需要您先转账"}}
    _queue(outreach_world, actor=ANALYST_A, member=world.BANK_A, **arguments)
    with pytest.raises(InvalidInput) as refused:
        _queue(outreach_world, actor=ANALYST_B, member=world.BANK_B, phone=phone_of(3), **arguments)
    assert refused.value.field == "template"


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("portal_code", "您好{bank}", "name"),
        ("Bad Name", "您好", "name"),
        ("ok_name", "您好{bank!r}", "text"),
        ("ok_name", "您好{0}", "text"),
        ("ok_name", "您好{bank", "text"),
        ("ok_name", "您好}", "text"),
        ("ok_name", "   ", "text"),
        ("ok_name", "长" * 300, "text"),
    ],
)
def test_a_bad_template_is_refused_naming_the_field(
    outreach_world: Uow, name: str, text: str, field: str
) -> None:
    with outreach_world() as uow, pytest.raises(InvalidInput) as refused:
        add_template(uow, ANALYST_A, name, text)
    assert refused.value.field == field
