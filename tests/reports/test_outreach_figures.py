"""The outreach section counts the records outreach's use cases wrote: the warned payment's
dissuasion task and its outcome (in the month of the warning), the SMS in the month they
were sent, the events on their Beijing days; each member its own."""

from __future__ import annotations

from datetime import date, timedelta

from auth import world
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.identity import MobilePhone
from fundwall.outreach import LocalGateway, dispatch_outbox
from fundwall.outreach.campaigns import EventKind, record_event
from fundwall.outreach.dissuasion import (
    claim_dissuasion_task,
    raise_dissuasion_tasks,
    record_dissuasion_outcome,
)
from fundwall.outreach.model import DissuasionOutcome
from fundwall.phones.queries import bind
from fundwall.reports import official_figures
from outreach.conftest import ANALYST_A, ANALYST_B, HUB, OPERATOR, Uow, phone_of


def _stock(uow_factory: Uow, keyring: Keyring, clock: FixedClock) -> None:
    with uow_factory() as uow:
        world.build(uow, keyring)
        bind(
            uow.session, uow.keyring, member=world.BANK_B, party_id="P3",
            phone=MobilePhone(phone_of(3)), at=world.START, by="test", revision=None,
        )  # fmt: skip
        uow.commit()
    with uow_factory() as uow:
        [task] = raise_dissuasion_tasks(uow, OPERATOR)
    with uow_factory() as uow:
        claim_dissuasion_task(uow, ANALYST_B, task)
        record_dissuasion_outcome(uow, ANALYST_B, task, DissuasionOutcome.DISSUADED, "已劝阻")
    with uow_factory() as uow:
        dispatch_outbox(uow, LocalGateway())
    for kind, day, attendance, reach in (
        (EventKind.SCHOOL, date(2024, 5, 31), 120, 400),
        (EventKind.COMMUNITY, date(2024, 5, 20), 80, 1_000),
    ):
        with uow_factory() as uow:
            record_event(uow, ANALYST_A, kind, "反诈进校园", day, "厦门一中", attendance, reach)
    with uow_factory() as uow:
        record_event(uow, ANALYST_B, EventKind.ONLINE, "直播", date(2024, 4, 30), "线上", 0, 9_000)
    clock.advance(timedelta(days=1))


def test_the_outreach_section_counts_tasks_sms_and_events(
    uow_factory: Uow, keyring: Keyring, clock: FixedClock
) -> None:
    _stock(uow_factory, keyring, clock)
    with uow_factory() as uow:
        march = official_figures(uow, HUB, "2024-03").by_key["outreach"]
        june = official_figures(uow, HUB, "2024-06").by_key["outreach"]
        may = official_figures(uow, HUB, "2024-05").by_key["outreach"]
        may_b = official_figures(uow, ANALYST_B, "2024-05").by_key["outreach"]
        april_b = official_figures(uow, ANALYST_B, "2024-04").by_key["outreach"]
    # T4 was warned on 5 March: its task and how it ended count in March
    assert (march["tasks"], march["dissuaded"], march["dissuaded_fen"]) == (1, 1, 400_000)
    assert march["not_reached"] == march["paid_anyway"] == march["sms_sent"] == 0
    # its warning SMS was sent on 1 June (the clock), delivered by the local gateway
    assert (june["sms_sent"], june["sms_delivered"], june["warnings_sent"]) == (1, 1, 1)
    assert june["campaign_sent"] == june["tasks"] == 0
    # the events' Beijing days: the school on 31 May, the community on 20 May
    assert (may["events"], may["attendance"], may["reach"]) == (2, 200, 1_400)
    assert may_b["events"] == 0  # the other bank's events are not B002's
    assert (april_b["events"], april_b["reach"]) == (1, 9_000)
