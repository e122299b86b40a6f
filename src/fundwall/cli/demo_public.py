"""The demo's appeals and public portal (异议申诉), on the simulated region's own people.

The first bank's system puts two accounts of one of its customers in a risk tier (high: a
non-counter suspension; medium: a daily cap); for each the holder gets the restriction notice
by SMS on the phone the bank bound. The holder signs in as the portal does (ID number, and the
code the local gateway's handset received) and appeals both. The bank asks the police unit's
opinion on the suspension, which the unit gives; it lifts the suspension (the person's
payment, refused before, then passes through the running engine) and maintains the cap with
its answer.
Running the demo again finds the appeals of the last run and walks nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from fundwall.accounts.tiers import set_risk_tier
from fundwall.appeals.filing import file_appeal, my_appeals, my_measures
from fundwall.appeals.identity import request_code, verify_code
from fundwall.appeals.model import Outcome
from fundwall.appeals.review import ask_opinion, decide_appeal, give_opinion
from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.domain.accounts import RiskTier
from fundwall.domain.decisions import Decision
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.service import DecisionService
from fundwall.outreach import delivered_to, dispatch_outbox
from fundwall.region import read_table

Say = Callable[[str], None]
CODE: Final = re.compile(r"验证码为(\d{4,8})")


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
    (first, suspended), (second, capped), payee = _holders(folder, member)
    first_actor = _sign_in(platform, first)
    if first_actor is None:
        say("   the holder's code did not arrive (the phone's hourly limit): run the demo later")
        return
    with platform.unit_of_work() as uow:
        if my_appeals(uow, first_actor, platform.keyring):
            say(f"   the holder of …{suspended[-4:]} appealed in an earlier run: see the portal")
            return
    policy = platform.settings.policy
    with platform.unit_of_work() as uow:
        set_risk_tier(uow, bank, suspended, RiskTier.HIGH, policy,
                      reason="一号多人：绑定手机号被多人共用，需本人到柜面核实")  # fmt: skip
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
        f"business suspended) and …{capped[-4:]} in the medium one (a daily cap); each holder "
        f"{told}")  # fmt: skip
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
    after = _pays(service, suspended, member, payee, when, 2)
    say(f"   #{lifting} lifted: a ¥100 mobile payment was {before.action.value} before, "
        f"{after.action.value} after")  # fmt: skip
    with platform.unit_of_work() as uow:
        decide_appeal(uow, bank, keeping, Outcome.MAINTAINED,
                      "交易对手仍在风险名单中，维持限额管控，三个月后可再次申请。",
                      platform.keyring)  # fmt: skip
    say(f"   #{keeping} maintained, with the bank's answer in the portal and by SMS")
    phone = first["phone"]
    say(f"   the portal: {platform.settings.portal.public_url} (ID {first['id_number']}; the "
        f"code goes to the local handset of {phone[:3]}****{phone[-4:]})")  # fmt: skip


def _appeal(platform: Platform, actor: Actor, reason: str) -> int:
    """The person appeals their (one) measure; the appeal's id."""
    with platform.unit_of_work() as uow:
        (measure,) = [m for m in my_measures(uow, actor) if m.appealable]
        return file_appeal(uow, actor, measure.key, reason, platform.keyring).id


def _holders(
    folder: Path, member: str
) -> tuple[tuple[dict[str, str], str], tuple[dict[str, str], str], tuple[str, str]]:
    """Two persons of the region with a phone of their own, each with an open account at
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
    (one, first), (two, second) = list(held.items())[:2]
    payee = next((row["account_no"], row["bank"]) for row in accounts if row["bank"] != member)
    return (people[one], first), (people[two], second), payee


def _received(platform: Platform, phone: str) -> list[str]:
    """What the phone received, after a round of the outbox."""
    with platform.unit_of_work() as uow:
        dispatch_outbox(uow, platform.sms_gateway)
        return [sms.text for sms in delivered_to(uow, phone)]


def _sign_in(platform: Platform, person: dict[str, str]) -> Actor | None:
    """The person's actor, signed in as the portal signs them in: a code to their phone,
    read from the local handset."""
    id_number, phone = person["id_number"], person["phone"]
    with platform.unit_of_work() as uow:
        request_code(uow, id_number, platform.settings.portal)
    codes = [found.group(1) for text in _received(platform, phone) if (found := CODE.search(text))]
    if not codes:
        return None
    with platform.unit_of_work() as uow:
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
