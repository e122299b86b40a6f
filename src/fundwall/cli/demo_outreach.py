"""The demo's outreach (预警劝阻, 反诈宣传), on the simulated region's own data.

The payments the demo's feed warned on at the first bank become dissuasion tasks (a warning
SMS to each payer's bound phone, a call due within minutes); the bank's staff call the
first payer, who is dissuaded (the payment is cancelled), cannot reach the second, and the
third, told the risk, pays anyway (a region with fewer warned payments ends fewer calls). The
bank sends a campaign to its customers over 60 and records a few publicity events. The
messages go through the local gateway, whose handset the figures read. Running the demo
again raises, sends and records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.outreach import dispatch_outbox
from fundwall.outreach.campaigns import (
    EventKind,
    Segment,
    list_campaigns,
    list_events,
    record_event,
    send_campaign,
)
from fundwall.outreach.dissuasion import (
    claim_dissuasion_task,
    dissuasion_queue,
    raise_dissuasion_tasks,
    record_dissuasion_outcome,
)
from fundwall.outreach.model import DissuasionOutcome

Say = Callable[[str], None]
TASKS: Final = 20
"""Warned payments the demo makes tasks of: a morning's queue for a branch's staff."""
EVENTS: Final = (
    (EventKind.COMMUNITY, "社区老年人反诈讲座", "鹭江街道社区服务中心", 86, 240),
    (EventKind.SCHOOL, "校园防范电信网络诈骗宣讲", "厦门第一中学", 420, 1_300),
    (EventKind.ONLINE, "手机银行反诈专题直播", "手机银行直播间", 0, 18_500),
)


def reach_out(platform: Platform, member: str, say: Say) -> None:
    """Step 12 of the demo; `member` is the first demo bank."""
    say("12. outreach (预警劝阻, 反诈宣传):")
    bank = Actor(ActorKind.API_KEY, "demo-outreach", Role.MEMBER_SYSTEM, member)
    staff = Actor(ActorKind.API_KEY, "demo-call-centre", Role.MEMBER_SYSTEM, member)
    settings = platform.settings.outreach
    with platform.unit_of_work() as uow:
        earlier = dissuasion_queue(uow, bank)
    if earlier:
        say(f"   bank {member} has {len(earlier):,} dissuasion tasks from an earlier run")
    else:
        with platform.unit_of_work() as uow:
            raised = raise_dissuasion_tasks(uow, bank, limit=TASKS, settings=settings)
        _send(platform)
        with platform.unit_of_work() as uow:
            tasks = dissuasion_queue(uow, bank)
        warned = sum(task.sms_status is not None for task in tasks)
        say(
            f"   {len(raised):,} payments warned on at bank {member} became dissuasion tasks: "
            f"{warned:,} warning SMS sent to the payers' bound phones, a call due within "
            f"{settings.call_within_minutes} minutes each"
        )
        for task, outcome, note in zip(
            tasks,
            (
                DissuasionOutcome.DISSUADED,
                DissuasionOutcome.NOT_REACHED,
                DissuasionOutcome.PAID_ANYWAY,
            ),
            (
                "冒充客服退款诈骗，付款人已放弃付款",
                "三次外呼均未接通",
                "付款人坚称为亲友转账，已告知风险，仍坚持付款",
            ),
            strict=False,
        ):
            with platform.unit_of_work() as uow:
                claim_dissuasion_task(uow, staff, task.id)
            with platform.unit_of_work() as uow:
                done = record_dissuasion_outcome(uow, staff, task.id, outcome, note)
            cancelled = ", the payment cancelled" if done.cancelled else ""
            say(f"     task {task.id} ({task.tx_id}): {outcome.value}{cancelled}")
    _campaign(platform, bank, say)
    _events(platform, bank, say)


def _send(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        dispatch_outbox(
            uow, platform.sms_gateway, limit=10_000, settings=platform.settings.outreach
        )


def _campaign(platform: Platform, bank: Actor, say: Say) -> None:
    with platform.unit_of_work() as uow:
        done = list_campaigns(uow, bank)
    if not done:
        with platform.unit_of_work() as uow:
            send_campaign(uow, bank, "老年客户防骗提醒", "campaign_elderly", Segment.ELDERLY)
        _send(platform)
        with platform.unit_of_work() as uow:
            done = list_campaigns(uow, bank)
    campaign = done[-1]
    say(
        f"   campaign to customers over {platform.settings.outreach.elderly_age}: "
        f"{campaign.audience:,} customers, {campaign.delivered:,} delivered, "
        f"{campaign.opted_out:,} opted out, {campaign.no_phone:,} without a bound phone"
    )


def _events(platform: Platform, bank: Actor, say: Say) -> None:
    with platform.unit_of_work() as uow:
        events = list_events(uow, bank)
    if not events:
        today = (platform.clock.now() + timedelta(hours=8)).date()
        for days_ago, (kind, title, place, attendance, reach) in enumerate(EVENTS):
            with platform.unit_of_work() as uow:
                record_event(
                    uow, bank, kind, title, today - timedelta(days=7 * days_ago), place,
                    attendance, reach,
                )  # fmt: skip
        with platform.unit_of_work() as uow:
            events = list_events(uow, bank)
    attended = sum(event.attendance for event in events)
    reached = sum(event.reach for event in events)
    say(f"   {len(events)} publicity events: {attended:,} attending, {reached:,} reached")
