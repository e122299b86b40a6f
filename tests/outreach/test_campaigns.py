"""Campaigns to segments of a member's customers and the events members hold: segments as of
a time, previews, opt-outs skipped and counted, delivery figures, tenancy, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from auth import world
from fundwall.clock import FixedClock
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone, ResidentId, resident_id_check_char
from fundwall.domain.parties import Party, PartyKind
from fundwall.outreach import LocalGateway, OptOutChannel, dispatch_outbox, record_opt_out
from fundwall.outreach.campaigns import (
    EventKind,
    Segment,
    get_campaign,
    list_campaigns,
    list_events,
    preview_campaign,
    record_event,
    send_campaign,
)
from fundwall.phones.queries import bind
from fundwall.store.mapping import account_row, party_row
from fundwall.store.outreach_tables import SmsMessageRow
from outreach.conftest import ANALYST_A, ANALYST_B, HUB, SYSTEM_A, SYSTEM_B, Uow, phone_of

ELDER_PHONE = "13900000009"
AFTER_THE_TRANSFERS = world.START + timedelta(days=1)


@pytest.fixture
def customers(outreach_world: Uow, clock: FixedClock) -> Uow:
    """The world, with P9 (born 1950) holding A9 at B001 opened five days ago, and P1 and P9
    bound to their phones at B001."""
    first17 = "35020319500101009"
    elder = Party(
        "P9",
        PartyKind.PERSON,
        "李九",
        ResidentId(first17 + resident_id_check_char(first17)),
        MobilePhone(ELDER_PHONE),
        "350203",
    )
    with outreach_world() as uow:
        uow.session.add(party_row(elder, uow.keyring))
        uow.session.flush()
        uow.session.add(
            account_row(
                Account(
                    "A9",
                    world.BANK_A,
                    "P9",
                    AccountClass.CLASS_I,
                    AccountStatus.NORMAL,
                    RiskTier.LOW,
                    clock.now() - timedelta(days=5),
                    OpeningChannel.COUNTER,
                ),
                balance_fen=0,
            )
        )
        for party, phone in (("P1", phone_of(1)), ("P9", ELDER_PHONE)):
            bind(
                uow.session,
                uow.keyring,
                member=world.BANK_A,
                party_id=party,
                phone=MobilePhone(phone),
                at=world.START,
                by="test",
                revision=None,
            )
        uow.commit()
    return outreach_world


def test_a_campaign_to_the_elderly_is_previewed_sent_and_counted(customers: Uow) -> None:
    with customers() as uow:
        preview = preview_campaign(uow, ANALYST_A, Segment.ELDERLY)
    assert (preview.customers, preview.with_phone, preview.opted_out) == (1, 1, 0)
    with customers() as uow:
        campaign = send_campaign(
            uow, ANALYST_A, "重阳节防骗提醒", "campaign_elderly", Segment.ELDERLY
        )
    assert (campaign.audience, campaign.queued, campaign.waiting, campaign.no_phone) == (1, 1, 1, 0)
    with customers() as uow:
        dispatch_outbox(uow, LocalGateway())
    with customers() as uow:
        done = get_campaign(uow, ANALYST_A, campaign.id)
        [text] = [
            uow.keyring.decrypt(row.text_enc)
            for row in uow.session.scalars(
                select(SmsMessageRow).where(SmsMessageRow.campaign_id == campaign.id)
            )
        ]
    assert (done.sent, done.delivered, done.waiting) == (1, 1, 0)
    assert text.startswith("【金融反诈】银行B001提醒您：冒充公检法")


def test_segments_are_computed_as_of_a_time(customers: Uow) -> None:
    with customers() as uow:
        payers_a = preview_campaign(uow, ANALYST_A, Segment.NEW_PAYEE, AFTER_THE_TRANSFERS)
        payers_b = preview_campaign(uow, ANALYST_B, Segment.NEW_PAYEE, AFTER_THE_TRANSFERS)
        late = preview_campaign(uow, ANALYST_A, Segment.NEW_PAYEE)  # 3 months after
        opened = preview_campaign(uow, ANALYST_A, Segment.NEW_ACCOUNT)
        before = preview_campaign(uow, ANALYST_A, Segment.NEW_ACCOUNT, AFTER_THE_TRANSFERS)
    assert (payers_a.customers, payers_a.with_phone) == (1, 1)  # P1 paid A2 and B1
    assert (payers_b.customers, payers_b.with_phone) == (2, 0)  # P3 and P4, none bound
    assert late.customers == 0
    assert opened.customers == 1 and before.customers == 0


def test_opted_out_and_phoneless_customers_are_skipped_and_counted(customers: Uow) -> None:
    with customers() as uow:
        record_opt_out(uow, SYSTEM_A, phone_of(1), OptOutChannel.SMS_REPLY)
    with customers() as uow:
        preview = preview_campaign(uow, ANALYST_A, Segment.NEW_PAYEE, AFTER_THE_TRANSFERS)
        campaign = send_campaign(
            uow,
            ANALYST_A,
            "新收款人提醒",
            "campaign_new_payee",
            Segment.NEW_PAYEE,
            as_of=AFTER_THE_TRANSFERS,
        )
    assert preview.opted_out == 1
    assert (campaign.queued, campaign.opted_out, campaign.waiting) == (1, 1, 0)
    with customers() as uow:
        phoneless = send_campaign(
            uow,
            SYSTEM_B,
            "新收款人提醒",
            "campaign_new_payee",
            Segment.NEW_PAYEE,
            None,
            AFTER_THE_TRANSFERS,
        )
    assert (phoneless.audience, phoneless.queued, phoneless.no_phone) == (2, 0, 2)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"template": "portal_code"}, "template"),
        ({"template": "nobody_s"}, "template"),
        ({"variables": {"tip": "x"}}, "variables.tip"),
        ({"variables": {"bank": "假银行"}}, "variables.bank"),
        ({"title": " "}, "title"),
        ({"title": f"致{ELDER_PHONE}"}, "title"),
        ({"as_of": world.START + timedelta(days=3650)}, "as_of"),
    ],
)
def test_a_bad_campaign_is_refused_whole_naming_the_field(
    customers: Uow, given: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "title": "提醒",
        "template": "campaign_elderly",
        "segment": Segment.ELDERLY,
    }
    arguments.update(given)
    with customers() as uow, pytest.raises(InvalidInput) as refused:
        send_campaign(uow, ANALYST_A, **arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    with customers() as uow:
        assert uow.session.scalars(select(SmsMessageRow)).all() == []
        assert list_campaigns(uow, ANALYST_A) == []


def test_a_member_reads_only_its_own_campaigns(customers: Uow) -> None:
    with customers() as uow:
        campaign = send_campaign(uow, ANALYST_A, "提醒", "campaign_elderly", Segment.ELDERLY)
    with customers() as uow:
        assert list_campaigns(uow, ANALYST_B) == []
        with pytest.raises(NotFound):
            get_campaign(uow, ANALYST_B, campaign.id)
        with pytest.raises(PermissionDenied):
            list_campaigns(uow, HUB)


def test_events_are_recorded_checked_and_listed_per_member(
    customers: Uow, clock: FixedClock
) -> None:
    today = date(2024, 6, 1)
    with customers() as uow:
        event = record_event(
            uow, ANALYST_A, EventKind.COMMUNITY, "社区反诈讲座", today, "鹭江社区", 80, 300
        )
    assert (event.kind, event.attendance, event.reach) == (EventKind.COMMUNITY, 80, 300)
    bad = [
        ({"held_on": today + timedelta(days=1)}, "held_on"),
        ({"held_on": date(2020, 1, 1)}, "held_on"),
        ({"attendance": -1}, "attendance"),
        ({"reach": -5}, "reach"),
        ({"reach": True}, "reach"),
        ({"title": ""}, "title"),
        ({"place": "x" * 201}, "place"),
    ]
    for given, field in bad:
        arguments: dict[str, object] = {
            "kind": EventKind.SCHOOL,
            "title": "校园讲座",
            "held_on": today,
            "place": "一中",
            "attendance": 10,
            "reach": 10,
        }
        arguments.update(given)
        with customers() as uow, pytest.raises(InvalidInput) as refused:
            record_event(uow, ANALYST_A, **arguments)  # type: ignore[arg-type]
        assert refused.value.field == field
    with customers() as uow:
        assert [e.id for e in list_events(uow, ANALYST_A)] == [event.id]
        assert list_events(uow, ANALYST_B) == []
        assert list_events(uow, ANALYST_A, start=today + timedelta(days=1)) == []
