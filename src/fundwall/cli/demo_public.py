"""The demo's appeals and public portal (异议申诉), on the simulated region's own people.

The first bank's system puts accounts of two of its customers in a risk tier (high: a
non-counter suspension, the account shared on the risk list as a suspected card dealer's;
medium: a daily cap); each holder gets the restriction notice by SMS on the phone the bank
bound, signs in as the portal does (ID number, and the code the local gateway's handset
received) and appeals. The bank asks the police unit's opinion on the suspension, which the
unit gives; it lifts the suspension and retracts its shared entry (the person's payment,
refused before, then passes through the running engine) and maintains the cap with its
answer.
A third holder of the bank appealed a cap a month ago and the bank never answered: that
appeal stays open, overdue, for the supervisors' list. Running the demo again finds the
bank's appeals of the last run and walks nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from fundwall.accounts.tiers import set_risk_tier
from fundwall.appeals.filing import file_appeal, my_measures
from fundwall.appeals.identity import request_code, verify_code
from fundwall.appeals.model import Outcome
from fundwall.appeals.review import appeal_queue, ask_opinion, decide_appeal, give_opinion
from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.clock import Clock, FixedClock
from fundwall.domain.accounts import RiskTier
from fundwall.domain.decisions import Decision
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.service import DecisionService
from fundwall.outreach import delivered_to, dispatch_outbox
from fundwall.region import read_table
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries, retract_entry

Say = Callable[[str], None]
CODE: Final = re.compile(r"验证码为(\d{4,8})")
DAYS_A_WORKING_DAY: Final = 3
"""Calendar days the late appeal goes back per working day of the appeal deadline: past it,
whatever holidays fall in between."""


def walk_appeals(
    service: DecisionService,
    folder: Path,
    platform: Platform,
    member: str,
    police_unit: str,
    say: Say,
) -> None:
    """Step 13 of the demo; `member` is the first demo bank."""
    say("13. appeals and the public portal (异议申诉):")
    bank = Actor(ActorKind.API_KEY, "demo", Role.MEMBER_SYSTEM, member)
    police = Actor(ActorKind.API_KEY, "demo", Role.POLICE_SYSTEM, police_unit)
    (first, suspended), (second, capped), (third, late), payee = _holders(folder, member)
    with platform.unit_of_work() as uow:
        # the bank's queue, not the holder's portal: a sign-in would send a code again
        earlier = appeal_queue(uow, bank, platform.keyring) or appeal_queue(
            uow, bank, platform.keyring, decided=True
        )
    if earlier:
        say(f"   the holder of …{suspended[-4:]} appealed in an earlier run: see the portal")
        return
    first_actor = _sign_in(platform, first)
    if first_actor is None:
        say("   the holder's code did not arrive (the phone's hourly limit): run the demo later")
        return
    policy = platform.settings.policy
    with platform.unit_of_work() as uow:
        set_risk_tier(uow, bank, suspended, RiskTier.HIGH, policy,
                      reason="一号多人：绑定手机号被多人共用，需本人到柜面核实")  # fmt: skip
    with platform.unit_of_work() as uow:
        # the phone many people share is a card dealer's sign: the bank shares its suspicion
        shared = publish_entries(uow, bank, [NewEntry(
            ListKind.ACCOUNT, suspended, RiskCategory.CARD_DEALER, Evidence.MEMBER_SUSPECTED,
            bank=member)]).ids[0]  # fmt: skip
    with platform.unit_of_work() as uow:
        set_risk_tier(uow, bank, capped, RiskTier.MEDIUM, policy, reason="交易对手涉及风险名单")
    notice = next((t for t in _received(platform, first["phone"]) if "通知：" in t), None)
    told = (
        f"got the notice by SMS: “{notice}”"
        if notice is not None
        else "has the notice queued (the bank's SMS this minute went to its campaign; the "
        "outbox sends the notice within the minute)"
    )
    say(f"   bank {member} put account …{suspended[-4:]} in the high risk tier (non-counter "
        f"business suspended; shared as a suspected card dealer's) and …{capped[-4:]} in the "
        f"medium one (a daily cap); each holder {told}")  # fmt: skip
    when = platform.clock.now()  # the measures hold from now: the payments are made now
    before = _pays(service, suspended, member, payee, when, 1)
    second_actor = _sign_in(platform, second)
    assert second_actor is not None  # a first code to this phone
    lifting = _appeal(platform, first_actor, "工资卡，本人日常使用，可提供劳动合同。")
    keeping = _appeal(platform, second_actor, "收款方为本人房东，有租赁合同。")
    say(f"   both signed in at the portal with the code their handset got, and appealed: "
        f"#{lifting} and #{keeping}")  # fmt: skip
    with platform.unit_of_work() as uow:
        ask_opinion(uow, bank, lifting, police_unit, "该账户是否涉及在侦案件？")
    with platform.unit_of_work() as uow:
        give_opinion(uow, police, lifting, "经查，该账户未涉及在侦案件。")
    say(f"   the bank asked police unit {police_unit} for its opinion on #{lifting}; the unit "
        "answered: not in any open case")  # fmt: skip
    with platform.unit_of_work() as uow:
        decide_appeal(uow, bank, lifting, Outcome.LIFTED,
                      "经核实为本人正常使用，已解除非柜面业务限制。", platform.keyring)  # fmt: skip
    with platform.unit_of_work() as uow:
        retract_entry(uow, bank, shared, "申诉成立，经公安核实未涉案，撤销共享风险信息")
    after = _pays(service, suspended, member, payee, when, 2)
    say(f"   #{lifting} lifted, its shared entry retracted: a ¥100 mobile payment was "
        f"{before.action.value} before, {after.action.value} after")  # fmt: skip
    with platform.unit_of_work() as uow:
        decide_appeal(uow, bank, keeping, Outcome.MAINTAINED,
                      "交易对手仍在风险名单中，维持限额管控，三个月后可再次申请。",
                      platform.keyring)  # fmt: skip
    say(f"   #{keeping} maintained, with the bank's answer in the portal and by SMS")
    say("   " + _overdue(platform, bank, third, late))
    _dispatch(platform)  # the answers' SMS go out now
    phone = first["phone"]
    say(f"   the portal: {platform.settings.portal.public_url} (ID {first['id_number']}; the "
        f"code goes to the local handset: fundwall sms received {phone})")  # fmt: skip


def _overdue(platform: Platform, bank: Actor, person: dict[str, str], account: str) -> str:
    """A month ago (three days a working day of the deadline) the bank capped another holder's
    account and the holder appealed at the portal; the bank has not answered since: the
    appeal is open and overdue."""
    now, policy = platform.clock.now(), platform.settings.policy
    then = now - timedelta(days=DAYS_A_WORKING_DAY * policy.appeal_decide_working_days)
    with platform.unit_of_work(clock=FixedClock(then)) as uow:
        set_risk_tier(uow, bank, account, RiskTier.MEDIUM, policy, reason="交易对手涉及风险名单")
    actor = _sign_in(platform, person, FixedClock(then + timedelta(hours=2)))
    if actor is None:
        return f"the holder of …{account[-4:]}'s code did not arrive: no late appeal"
    late = _appeal(platform, actor, "收款方为本人亲属，有户口簿为证。",
                   FixedClock(then + timedelta(hours=2, minutes=5)))  # fmt: skip
    with platform.unit_of_work() as uow:
        (view,) = [a for a in appeal_queue(uow, bank, platform.keyring) if a.id == late]
    due = (
        f"overdue since {view.deadline:%Y-%m-%d} (on the supervisors' list)"
        if view.deadline <= now
        else f"due by {view.deadline:%Y-%m-%d}"
    )
    return (
        f"#{late}: the holder of …{account[-4:]} appealed its cap on {then:%Y-%m-%d}; the bank "
        f"has not answered: {due}"
    )


def _appeal(platform: Platform, actor: Actor, reason: str, clock: Clock | None = None) -> int:
    """The person appeals their (one) measure (at `clock`'s time, by default now); the
    appeal's id."""
    with platform.unit_of_work(clock=clock) as uow:
        (measure,) = [m for m in my_measures(uow, actor) if m.appealable]
        return file_appeal(uow, actor, measure.key, reason, platform.keyring).id


Holder = tuple[dict[str, str], str]
"""A person of the region (their row) and their account at the bank."""


def _holders(folder: Path, member: str) -> tuple[Holder, Holder, Holder, tuple[str, str]]:
    """Three persons of the region with a phone of their own, each with an open account at
    `member`, and an account of another bank to pay (number, bank)."""
    labels = read_table(folder, "party_labels").select(["party_id", "phone_issue"]).to_pylist()
    mules = {
        row["account_no"]
        for row in read_table(folder, "account_labels").to_pylist()
        if row["is_mule"]
    }
    accounts = read_table(folder, "accounts").to_pylist()
    # Nobody the demo's earlier steps put on the shared list: no mule account, own phone.
    listed = {row["party_id"] for row in accounts if row["account_no"] in mules}
    clean = {r["party_id"] for r in labels if r["phone_issue"] == "none"} - listed
    people = {
        row["party_id"]: row
        for row in read_table(folder, "parties").to_pylist()
        if row["kind"] == "person" and row["phone"] and row["party_id"] in clean
    }
    held: dict[str, str] = {}
    for row in sorted(accounts, key=lambda row: row["account_no"]):
        if row["bank"] == member and row["status"] == "normal" and row["party_id"] in people:
            held.setdefault(row["party_id"], row["account_no"])
    (one, first), (two, second), (three, third) = list(held.items())[:3]
    payee = next((row["account_no"], row["bank"]) for row in accounts if row["bank"] != member)
    return (people[one], first), (people[two], second), (people[three], third), payee


def _received(platform: Platform, phone: str, clock: Clock | None = None) -> list[str]:
    """What the phone received, after a round of the outbox (at `clock`'s time)."""
    _dispatch(platform, clock)
    with platform.unit_of_work() as uow:
        return [sms.text for sms in delivered_to(uow, phone)]


def _dispatch(platform: Platform, clock: Clock | None = None) -> None:
    """A round of the outbox (at `clock`'s time, by default now)."""
    with platform.unit_of_work(clock=clock) as uow:
        dispatch_outbox(uow, platform.sms_gateway)


def _sign_in(
    platform: Platform, person: dict[str, str], clock: Clock | None = None
) -> Actor | None:
    """The person's actor, signed in as the portal signs them in (at `clock`'s time, by
    default now): a code to their phone, read from the local handset."""
    id_number, phone = person["id_number"], person["phone"]
    with platform.unit_of_work(clock=clock) as uow:
        request_code(uow, id_number, platform.settings.portal)
    received = _received(platform, phone, clock)
    codes = [found.group(1) for text in received if (found := CODE.search(text))]
    if not codes:
        return None
    with platform.unit_of_work(clock=clock) as uow:
        return verify_code(uow, id_number, codes[-1], platform.settings.portal)


def _pays(
    service: DecisionService,
    account: str,
    member: str,
    payee: tuple[str, str],
    when: datetime,
    n: int,
) -> Decision:
    """The holder's ¥100 mobile payment (the `n`th of the step), through the engine."""
    transfer = Transaction(
        tx_id=f"DEMO-{member}-APPEAL-{n}", ts=when + timedelta(seconds=n),
        kind=TransactionKind.TRANSFER, payer_account=account, payer_bank=member,
        payee_account=payee[0], payee_bank=payee[1], amount=Money.parse("100"),
        channel=Channel.MOBILE,
    )  # fmt: skip
    return service.decide(transfer, member=member)
