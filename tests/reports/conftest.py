"""A small set of records on the two-bank world (tests/auth/world.py), every one made through
the workflows' own use cases, with the figures counted by hand.

    March 2024 (the world's transactions): live block T1 (B001, ¥1,000); delays T3 (B002,
      ¥3,000) and D1 (B002, a cash deposit, ¥6,000); warn T4 (B002)
    1 June 2024 (the clock's start):
      clues    B001 → PSB1, accepted (police case A3502032024060001); B002 → PSB1, rejected
      orders   PSB1 stop-pays A2 (B001 holds ¥10,000), freezes ¥6,000 of A1 (B001 holds it),
               both under case A3502032024060001; a freeze of B1 B002 refuses
      sharing  B001 publishes two accounts and retracts one; B002 publishes one
      screening B001 screens its accounts
      opening  B001 opens a flexible worker's account and refers a second applicant
    20 June 2024: PSB1 reports the clue's result (3 suspects, ¥1,500 recovered); a return
      plan of ¥2,000 to B1 on the freeze is drawn up and published
    20 July 2024: the plan is approved and B001 pays it
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from auth import world  # tests/auth/world.py
from clues.conftest import add_case
from fundwall.accounts.onboarding import Applicant, Application, decide_onboarding
from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.clues import ClueAnswer, answer_clue, send_clue
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.domain.identity.resident_id import resident_id_check_char
from fundwall.domain.police import ClueStatus, OrderKind
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.fund_returns import (
    PlanDraft,
    VictimLoss,
    approve_plan,
    draft_plan,
    execute_return,
    publish_plan,
)
from fundwall.phones.local import LocalRegistry
from fundwall.police import OrderAnswer, answer_order, issue_order
from fundwall.screening.runs import screen_accounts
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries, retract_entry
from fundwall.store import UnitOfWork
from phones.conftest import register
from police.conftest import request

Uow = Callable[[], UnitOfWork]
UNIT = "PSB1"
CASE_NO = "A3502032024060001"
OFFICER = Actor(ActorKind.USER, "wang", Role.POLICE_OFFICER, UNIT, 71)
OTHER_UNIT = Actor(ActorKind.USER, "li", Role.POLICE_OFFICER, "PSB9", 72)
BANK_A = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 1)
BANK_B = Actor(ActorKind.USER, "bob", Role.MEMBER_ANALYST, world.BANK_B, 3)
SYSTEM_A = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 92)
AUDITOR = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 93)
RECOVERED = 150_000
SUSPECTS = 3
RETURNED = 200_000


@dataclass(frozen=True)
class Seeded:
    stop_held: int
    freeze_held: int


def _newcomer(n: int) -> tuple[str, str]:
    first17 = f"35020319920202{n:03d}"
    return first17 + resident_id_check_char(first17), f"1391234{n:04d}"


def _card(n: int) -> str:
    from fundwall.domain.identity.account_number import luhn_check_digit

    number = f"622202000000{n:06d}"
    return number + luhn_check_digit(number)


def seed(uow_factory: Uow, keyring: Keyring, platform: Platform, clock: FixedClock) -> Seeded:
    with uow_factory() as uow:
        world.add_deposit(uow)
    with uow_factory() as uow:
        case_a = add_case(uow, world.BANK_A, ("A1", "B1"), ("T1", "T2"))
        case_b = add_case(uow, world.BANK_B, ("B2",), ("T4",))
        uow.commit()
    summary = "A1 received card-sale money and paid it on to B1 within the hour."
    with uow_factory() as uow:
        clue_a = send_clue(uow, BANK_A, case_a, UNIT, summary)
        clue_b = send_clue(uow, BANK_B, case_b, UNIT, summary)
        answer_clue(uow, OFFICER, clue_a.item.clue_id, ClueAnswer(ClueStatus.ACCEPTED, CASE_NO))
        answer_clue(
            uow, OFFICER, clue_b.item.clue_id,
            ClueAnswer(ClueStatus.REJECTED, reason="no loss reported for B2"),
        )  # fmt: skip
    with uow_factory() as uow:
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT, account_no="A2"))
        stop = answer_order(
            uow, BANK_A, stop.id, OrderAnswer(executed=True, held_fen=1_000_000), keyring
        )
        freeze = issue_order(uow, OFFICER, request(OrderKind.FREEZE, amount_fen=600_000))
        freeze = answer_order(uow, BANK_A, freeze.id, OrderAnswer(executed=True), keyring)
        refused = issue_order(uow, OFFICER, request(OrderKind.FREEZE, account_no="B1"))
        answer_order(
            uow, BANK_B, refused.id, OrderAnswer(executed=False, reason="账户已销户，无法执行"),
            keyring,
        )  # fmt: skip
    with uow_factory() as uow:
        mule = RiskCategory.MULE
        published = publish_entries(
            uow, BANK_A,
            [NewEntry(ListKind.ACCOUNT, n, mule, Evidence.MEMBER_SUSPECTED, bank=world.BANK_A)
             for n in ("A1", "A2")],
        )  # fmt: skip
        retract_entry(uow, BANK_A, published.ids[0], "listed by mistake, cleared by review")
        publish_entries(
            uow, BANK_B,
            [NewEntry(ListKind.ACCOUNT, "B2", mule, Evidence.MEMBER_SUSPECTED, bank=world.BANK_B)],
        )  # fmt: skip
    with uow_factory() as uow:
        screen_accounts(uow, SYSTEM_A, PolicySettings())
    registry = LocalRegistry(platform.database, keyring, platform.clock)
    opened_id, opened_phone = _newcomer(1)
    with uow_factory() as uow:
        register(uow, keyring, MobilePhone(opened_phone), ResidentId(opened_id))
        register(uow, keyring, MobilePhone(_newcomer(3)[1]), ResidentId(_newcomer(3)[0]))
    for n, phone in ((1, opened_phone), (2, _newcomer(3)[1])):
        application = Application(
            Applicant.FLEXIBLE_WORKER, _newcomer(n)[0], "王五", phone, account_no=_card(n)
        )
        with uow_factory() as uow:
            decide_onboarding(uow, SYSTEM_A, application, keyring, registry, PolicySettings())
    clock.advance(timedelta(days=19))  # 20 June
    with uow_factory() as uow:
        answer_clue(
            uow, OFFICER, clue_a.item.clue_id,
            ClueAnswer(ClueStatus.RESULT, suspects_caught=SUSPECTS, recovered_fen=RECOVERED),
        )  # fmt: skip
        plan = draft_plan(uow, OFFICER, PlanDraft(freeze.id, (VictimLoss("B1", RETURNED),)))
        publish_plan(uow, OFFICER, plan.id)
    clock.advance(timedelta(days=30))  # 20 July
    with uow_factory() as uow:
        approved = approve_plan(uow, OFFICER, plan.id)
        execute_return(uow, BANK_A, plan.id, approved.allocations[0].id, "RT20240720-0001")
    assert stop.held_fen is not None and freeze.held_fen is not None
    return Seeded(stop.held_fen, freeze.held_fen)


@pytest.fixture
def seeded(stocked: Uow, keyring: Keyring, platform: Platform, clock: FixedClock) -> Seeded:
    return seed(stocked, keyring, platform, clock)
