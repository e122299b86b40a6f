"""The account rows the accounts use cases share, and their writes: restrictions (that the
police orders make too), statuses, openings, risk tiers and the restriction notice SMS;
entrypoints never import them (tests/test_architecture.py).

The writers here check nothing of the actor: their callers are use cases that have."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, NamedTuple

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from fundwall.accounts.model import (
    MEMBER_MEASURES,
    TIER_RANK,
    AccountOpening,
    Closure,
    ClosureRefused,
    Holder,
    TierChange,
    TierSource,
    Verification,
    tier_measures,
)
from fundwall.auth.actor import Actor
from fundwall.cases.model import CaseStatus
from fundwall.config import PolicySettings, PortalSettings, get_settings
from fundwall.crypto import ID_HASH_KIND, Keyring
from fundwall.domain.accounts import Account, AccountStatus, RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.identity import AccountNumber, MobilePhone, ResidentId, mask_account
from fundwall.domain.parties import Party
from fundwall.domain.police import OrderStatus
from fundwall.engine.controls.changes import stamp_change
from fundwall.engine.controls.model import RestrictionKind
from fundwall.engine.rules import format_money
from fundwall.outreach.model import SmsPurpose
from fundwall.outreach.queries import queue_sms
from fundwall.outreach.templates import clause
from fundwall.phones.queries import bind, current_binding, record_check
from fundwall.phones.registry import CheckTrigger, RegistryAnswer, TelecomRegistry
from fundwall.store.engine_tables import (
    AccountRestrictionRow,
    AccountStatusChangeRow,
    AccountTierChangeRow,
    PaymentCancellationRow,
)
from fundwall.store.mapping import account_of, account_row, party_row
from fundwall.store.police_tables import CaseAccountRow, CaseRow, PoliceOrderRow
from fundwall.store.tables import AccountRow, DecisionRow, InstitutionRow, PartyRow, TransactionRow
from fundwall.store.uow import UnitOfWork


def write_status(
    uow: UnitOfWork, actor: Actor, row: AccountRow, status: AccountStatus, reason: str
) -> AccountStatus:
    """Write an account's new status, its history row and the audit record, and commit;
    returns the previous status. The callers (`set_account_status`, and `change_account`
    for a member's report) have checked the actor and the change."""
    previous = AccountStatus(row.status)
    record = uow.audit.record(
        actor,
        "set_account_status",
        f"account:{mask_account(row.account_no)}",
        {"from": previous.value, "to": status.value, "reason": reason},
    )
    row.status = status.value
    uow.session.add(
        AccountStatusChangeRow(
            account_no=row.account_no,
            status=status.value,
            previous=previous.value,
            reason=reason,
            changed_at=record.ts,
            changed_by=record.actor,
            revision=record.seq,
        )
    )
    if status is AccountStatus.NON_COUNTER_SUSPENDED and previous is not status:
        notify_holder(uow, actor, row, status.value, reason)
    uow.commit()
    return previous


def write_restriction(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    kind: RestrictionKind,
    *,
    reason: str,
    starts_at: datetime,
    ends_at: datetime | None,
    amount_fen: int | None,
    order_reference: str | None,
) -> AccountRestrictionRow:
    """Write a restriction and its audit record, not yet committed (the caller commits it
    with whatever else belongs to the same change, such as a police order). A bank's own
    measure on an account of the directory tells its holder by SMS (`notify_holder`)."""
    record = uow.audit.record(
        actor,
        "restrict_account",
        f"account:{mask_account(account_no)}",
        {
            "kind": kind.value,
            "amount_fen": amount_fen,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat() if ends_at else None,
            "reference": order_reference,
            "reason": reason,
        },
    )
    row = AccountRestrictionRow(
        account_no=account_no,
        kind=kind.value,
        amount_fen=amount_fen,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        reference=order_reference,
    )
    stamp_change(uow, row, record)
    if kind in MEMBER_MEASURES:
        account = uow.session.get(AccountRow, account_no)
        if account is not None:
            notify_holder(uow, actor, account, kind.value, reason)
    return row


def end_restriction(uow: UnitOfWork, actor: Actor, row: AccountRestrictionRow, reason: str) -> None:
    """Lift a restriction now, audited, not yet committed; the engine stops enforcing it
    from its next transaction."""
    record = uow.audit.record(
        actor,
        "lift_restriction",
        f"account:{mask_account(row.account_no)}",
        {"restriction": row.id, "kind": row.kind, "reason": reason},
    )
    row.lifted_at = record.ts
    row.lifted_by = record.actor
    row.revision = record.seq


def extend_restriction(
    uow: UnitOfWork, actor: Actor, row: AccountRestrictionRow, ends_at: datetime, reason: str
) -> None:
    """Move a restriction's end to `ends_at` (a renewal), audited, not yet committed."""
    record = uow.audit.record(
        actor,
        "extend_restriction",
        f"account:{mask_account(row.account_no)}",
        {
            "restriction": row.id,
            "kind": row.kind,
            "from": row.ends_at.isoformat() if row.ends_at else None,
            "to": ends_at.isoformat(),
            "reason": reason,
        },
    )
    row.ends_at = ends_at
    row.revision = record.seq


def moved_money() -> ColumnElement[bool]:
    """WHERE clause on `transactions`: those that moved money after the loaded history, the
    decided ones but those the engine blocked and those their payer cancelled (both moved
    nothing). A balance is the account's `balance_fen` (after the loaded history; decisions
    never change it) plus what these moved in and out."""
    # One EXISTS on the live decision by its transaction's id: a second one on "blocked" led
    # SQLite to scan every blocked decision for each transaction (minutes on 500,000). The
    # cancellations are few and looked up by their unique transaction id.
    return and_(
        exists().where(
            DecisionRow.tx_id == TransactionRow.tx_id,
            DecisionRow.shadow.is_(False),
            DecisionRow.action != Action.BLOCK.value,
        ),
        ~exists().where(PaymentCancellationRow.tx_id == TransactionRow.tx_id),
    )


def settled_balance(uow: UnitOfWork, account: AccountRow) -> int:
    """What the account holds now, as the engine's ledger counts it (`moved_money`)."""
    number = account.account_no
    delta = case(
        (TransactionRow.payee_account == number, TransactionRow.amount_fen),
        else_=-TransactionRow.amount_fen,
    )
    moved = uow.session.scalar(
        select(func.coalesce(func.sum(delta), 0)).where(
            or_(TransactionRow.payer_account == number, TransactionRow.payee_account == number),
            moved_money(),
        )
    )
    return account.balance_fen + int(moved or 0)


CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of the server's clock an opening time may lie (members' clocks differ)."""
PARTY_PREFIX: Final = "H"
PARTY_HASH_CHARS: Final = 20
"""A reported holder's party id: "H" and the ID number's keyed hash in base32, cut to 100 bits
(no raw ID in an identifier; distinct holders stay apart). Base32 has no 0 or 1, so no run of
its characters reads as an ID or mobile number to the audit log's guard."""


def new_party_id(id_hash: str) -> str:
    """The party id of a holder new to the store, from the keyed hash of its ID number."""
    encoded = base64.b32encode(bytes.fromhex(id_hash)).decode()
    return PARTY_PREFIX + encoded[:PARTY_HASH_CHARS]


def party_id_of(uow: UnitOfWork, holder: Holder, keyring: Keyring) -> tuple[str, bool]:
    """The holder's party id, and whether the party is new to the store."""
    id_hash = keyring.keyed_hash(ID_HASH_KIND, holder.id_number.number)
    found = uow.session.scalar(select(PartyRow.party_id).where(PartyRow.id_number_hash == id_hash))
    if found is not None:
        return found, False
    return new_party_id(id_hash), True


def write_opening(
    uow: UnitOfWork,
    actor: Actor,
    member: str,
    opening: AccountOpening,
    keyring: Keyring,
    registry: TelecomRegistry | None,
    *,
    answer: RegistryAnswer | None = None,
) -> Account:
    """`open_account`'s checks and writes, not committed; `answer` is the registry's answer
    on the holder's phone when the caller asked it already (simplified opening). Its callers
    are use cases that checked the actor and its `member`."""
    number = opening.account_no.number
    if uow.session.get(AccountRow, number) is not None:
        raise Conflict(f"account {mask_account(number)} is already in the account directory")
    now = uow.clock.now()
    if opening.opened_at > now + CLOCK_SKEW:
        raise InvalidInput("an account cannot be opened in the future", "opened_at")
    if type(opening.balance_fen) is not int or opening.balance_fen < 0:
        raise InvalidInput("a whole, non-negative number of fen", "balance_fen")
    party_id, new_party = party_id_of(uow, opening.holder, keyring)
    holder = opening.holder
    phone_answer = None
    if (
        registry is not None
        and holder.phone is not None
        and isinstance(holder.id_number, ResidentId)
        and phone_changes(uow, member, party_id, holder.phone, keyring)
    ):
        phone_answer = answer or registry.verify(
            holder.phone, holder.id_number, holder.name, opening.opened_at
        )
    bound = opening.bound_account.number if opening.bound_account is not None else None
    account = Account(
        account_no=number,
        institution_code=member,
        party_id=party_id,
        account_class=opening.account_class,
        status=AccountStatus.NORMAL,
        risk_tier=RiskTier.LOW,
        opened_at=opening.opened_at,
        opening_channel=opening.opening_channel,
        bound_account=bound,
        opening_device=opening.opening_device,
        opening_ip=opening.opening_ip,
        opening_agent=opening.opening_agent,
    )
    record = uow.audit.record(
        actor,
        "open_account",
        f"account:{mask_account(number)}",
        {
            "class": account.account_class.value,
            "opened_at": opening.opened_at.isoformat(),
            "channel": account.opening_channel.value,
            "holder": f"party:{party_id}",
            "new_holder": new_party,
            **(
                {"phone_check": phone_answer.result.value, "registry": registry.name}
                if phone_answer is not None and registry is not None
                else {}
            ),
        },
    )
    if new_party:
        party = Party(
            party_id=party_id,
            kind=holder.kind,
            name=holder.name,
            id_number=holder.id_number,
            phone=holder.phone,
            home_region=holder.id_number.region_code,
        )
        uow.session.add(party_row(party, keyring))
        uow.session.flush()
    row = account_row(account, balance_fen=opening.balance_fen)
    row.revision = record.seq
    uow.session.add(row)
    if phone_answer is not None and registry is not None and holder.phone is not None:
        uow.session.flush()
        binding = bind(
            uow.session,
            keyring,
            member=member,
            party_id=party_id,
            phone=holder.phone,
            at=record.ts,
            by=actor.audit_id,
            revision=record.seq,
        )
        record_check(
            uow.session,
            binding,
            phone_answer,
            registry=registry.name,
            trigger=CheckTrigger.OPEN_ACCOUNT,
            at=record.ts,
            by=actor.audit_id,
        )
    uow.session.flush()
    return account


def phone_changes(
    uow: UnitOfWork, member: str, party_id: str, phone: MobilePhone, keyring: Keyring
) -> bool:
    """Whether `phone` is not yet the one the member has bound to the party (a second
    account of a customer, opened with the same phone, checks nothing again)."""
    current = current_binding(uow.session, member, party_id)
    return current is None or keyring.decrypt(current.phone_enc) != phone.number


TIER_REFERENCE: Final = "tier:"
_TIER_WORDS: Final = {RiskTier.LOW: "低风险", RiskTier.MEDIUM: "中风险", RiskTier.HIGH: "高风险"}


def tier_measure_reason(tier: RiskTier, source: TierSource, why: str) -> str:
    """The reason a tier's measures state to the holder (the portal, the restriction notice),
    in plain Chinese: a person's reason as they gave it; the mule score's and simplified
    opening's in words, not the model's figures or the checks' names (the tier's change
    keeps those for the staff)."""
    level = f"列为{_TIER_WORDS[tier]}账户"
    if source is TierSource.MODEL:
        return f"经风险监测，账户交易特征与涉诈账户相似，{level}"
    if source is TierSource.ONBOARDING:
        return f"简易开户部分核验未通过，{level}，可到柜面核实身份"
    return f"{level}：{why}"


"""The prefix of the `reference` of a restriction a tier wrote."""


def write_tier(
    uow: UnitOfWork,
    actor: Actor,
    row: AccountRow,
    tier: RiskTier,
    why: str,
    source: TierSource,
    policy: PolicySettings,
) -> TierChange:
    """Write the change, lift the old tier's measures, write the new one's; not committed.
    Its callers are use cases that checked the actor and the account."""
    previous = RiskTier(row.risk_tier)
    record = uow.audit.record(
        actor,
        "set_risk_tier",
        f"account:{mask_account(row.account_no)}",
        {"from": previous.value, "to": tier.value, "source": source.value, "reason": why},
    )
    change = AccountTierChangeRow(
        account_no=row.account_no,
        tier=tier.value,
        previous=previous.value,
        source=source.value,
        reason=why,
        changed_at=record.ts,
        changed_by=record.actor,
        revision=record.seq,
    )
    uow.session.add(change)
    uow.session.flush()
    row.risk_tier = tier.value
    for old in uow.session.scalars(
        select(AccountRestrictionRow).where(
            AccountRestrictionRow.account_no == row.account_no,
            AccountRestrictionRow.reference.like(f"{TIER_REFERENCE}%"),
            AccountRestrictionRow.lifted_at.is_(None),
        )
    ):
        end_restriction(uow, actor, old, f"risk tier now {tier.value}: {why}")
    for measure in tier_measures(tier, policy):
        write_restriction(
            uow,
            actor,
            row.account_no,
            measure.kind,
            reason=tier_measure_reason(tier, source, why),
            starts_at=record.ts,
            ends_at=None,
            amount_fen=measure.amount_fen,
            order_reference=f"{TIER_REFERENCE}{change.id}",
        )
    return tier_view(change)


PERSONS_TIERS: Final = frozenset({TierSource.ANALYST, TierSource.MEMBER_SYSTEM, TierSource.APPEAL})
"""Tiers a person decided (an analyst, the member's system for its staff, an appeal's
lifting), which a mule score leaves as they are."""


def write_model_tiers(
    uow: UnitOfWork,
    actor: Actor,
    wanted: Mapping[str, tuple[RiskTier, str]],
    policy: PolicySettings,
) -> list[TierChange]:
    """Set the tiers the mule scores lead to (`wanted`: account → tier and why, for the
    accounts scored above low); not committed. A score raises an open account's tier unless a
    person set it (`PERSONS_TIERS`: a reviewed or appealed account is not re-restricted by the
    next refresh); it lowers only a tier the model set itself, to the tier the score leads to
    now."""
    latest = (
        select(AccountTierChangeRow.account_no, AccountTierChangeRow.source)
        .where(
            AccountTierChangeRow.id.in_(
                select(func.max(AccountTierChangeRow.id)).group_by(AccountTierChangeRow.account_no)
            )
        )
        .subquery()
    )
    rows = uow.session.execute(
        select(AccountRow, latest.c.source)
        .outerjoin(latest, latest.c.account_no == AccountRow.account_no)
        .where(
            AccountRow.status != AccountStatus.CLOSED.value,
            or_(
                AccountRow.account_no.in_(list(wanted)),
                (AccountRow.risk_tier != RiskTier.LOW.value)
                & (latest.c.source == TierSource.MODEL.value),
            ),
        )
        .order_by(AccountRow.account_no)
    ).all()
    changes = []
    for row, source in rows:
        if source in PERSONS_TIERS:
            continue
        tier, why = wanted.get(row.account_no, (RiskTier.LOW, "mule score below the tiers"))
        rank, current = TIER_RANK[tier], TIER_RANK[RiskTier(row.risk_tier)]
        if rank > current or (rank < current and source == TierSource.MODEL.value):
            changes.append(write_tier(uow, actor, row, tier, why, TierSource.MODEL, policy))
    return changes


def latest_tier_change(session: Session, account_no: str) -> TierChange | None:
    """The change that set the account's current tier; None when it was never changed."""
    row = session.scalars(
        select(AccountTierChangeRow)
        .where(AccountTierChangeRow.account_no == account_no)
        .order_by(AccountTierChangeRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else tier_view(row)


def tier_view(row: AccountTierChangeRow) -> TierChange:
    return TierChange(
        row.id,
        row.account_no,
        RiskTier(row.tier),
        RiskTier(row.previous),
        TierSource(row.source),
        row.reason,
        row.changed_at,
        row.changed_by,
    )


_ORDERS_IN_FORCE: Final = (OrderStatus.ISSUED.value, OrderStatus.EXECUTED.value)


_STATUS_ZH: Final = {
    AccountStatus.NON_COUNTER_SUSPENDED.value: "非柜面业务暂停",
    AccountStatus.STOP_PAID.value: "紧急止付",
    AccountStatus.FROZEN_FULL.value: "全额冻结",
    AccountStatus.FROZEN_PARTIAL.value: "部分冻结",
    AccountStatus.DORMANT.value: "久悬",
}
_RESTRICTION_ZH: Final = {
    RestrictionKind.STOP_PAYMENT.value: "止付",
    RestrictionKind.FREEZE.value: "冻结",
    RestrictionKind.NON_COUNTER_SUSPENSION.value: "非柜面业务暂停",
    RestrictionKind.OUTFLOW_CAP.value: "非柜面转出限额",
}


def closure_blockers(
    uow: UnitOfWork,
    row: AccountRow,
    status: AccountStatus,
    balance: int,
    move_to: str | None,
) -> list[Blocker]:
    """Every reason the account cannot be closed now, in Chinese and English.

    A balance blocks the closure even when the holder names where it goes: a closed account
    pays nothing (HC01), so money left in it could never leave, and the move out is a payment
    the engine decides like any other (a closure is no way around the controls)."""
    now = uow.clock.now()
    session = uow.session
    account_no = row.account_no
    blockers: list[Blocker] = []
    if balance > 0:
        money = format_money(balance)
        shown = mask_account(move_to) if move_to is not None else None
        blockers.append(
            Blocker(
                f"账户余额{money}须先转出（"
                + (f"转至所填账户{shown}" if shown else "转至本人指定的账户")
                + "，转账与其他付款一样经风险决策）；销户后的账户不能付款",
                f"the balance of {money} must be moved out first ("
                + (f"to {shown}, as asked" if shown else "to an account the holder names")
                + ", by a transfer decided as any payment); a closed account pays nothing",
            )
        )
    if status is not AccountStatus.NORMAL:
        blockers.append(
            Blocker(
                f"账户状态为{_STATUS_ZH.get(status.value, status.value)}，"
                "须待相关措施结束或到柜面办理",
                f"the account is {status.value}: that ends with its order or at a counter",
            )
        )
    orders = session.scalars(
        select(PoliceOrderRow.document_no).where(
            PoliceOrderRow.account_no == account_no,
            PoliceOrderRow.status.in_(_ORDERS_IN_FORCE),
            or_(PoliceOrderRow.ends_at.is_(None), PoliceOrderRow.ends_at > now),
        )
    ).all()
    blockers += [
        Blocker(f"公安机关指令{document}正在执行", f"police order {document} is in force on it")
        for document in orders
    ]
    restrictions = session.scalars(
        select(AccountRestrictionRow.kind).where(
            AccountRestrictionRow.account_no == account_no,
            AccountRestrictionRow.lifted_at.is_(None),
            AccountRestrictionRow.starts_at <= now,
            or_(AccountRestrictionRow.ends_at.is_(None), AccountRestrictionRow.ends_at > now),
        )
    ).all()
    blockers += [
        Blocker(
            f"账户正受{_RESTRICTION_ZH.get(kind, kind)}限制",
            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} restriction is in force on it",
        )
        for kind in sorted(set(restrictions))
    ]
    # The member's own cases only: another member's case is that member's business.
    cases = session.scalars(
        select(CaseRow.id)
        .join(CaseAccountRow, CaseAccountRow.case_id == CaseRow.id, isouter=True)
        .where(
            CaseRow.member_code == row.institution_code,
            CaseRow.status != CaseStatus.CLOSED.value,
            or_(CaseAccountRow.account_no == account_no, CaseRow.subject == account_no),
        )
        .distinct()
    ).all()
    blockers += [
        Blocker(f"开户机构关于该账户的案件{case}尚未办结", f"case {case} about it is open", True)
        for case in sorted(cases)
    ]
    return blockers


class Blocker(NamedTuple):
    """A reason an account cannot be closed now, in Chinese and English; `case`: the
    member's open case, which the holder is not told of (`told_to_holder`)."""

    zh: str
    en: str
    case: bool = False


HOLDER_CASE_BLOCKER: Final = Blocker(
    "该账户暂不能线上销户，请携带身份证件到开户网点柜台办理",
    "the account cannot be closed online: please bring your ID to a branch of your bank",
)
"""What the person on the public portal reads for the member's open cases: the bank's
investigation is not theirs to learn of (telling a suspect would warn them). The bank's own
channel and every audit record name the cases."""


def told_to_holder(blockers: list[Blocker]) -> list[Blocker]:
    """`blockers` as the person on the public portal reads them: the cases as one visit to a
    counter, the rest (balance, status, orders, restrictions: theirs to know) as they are."""
    told = [blocker for blocker in blockers if not blocker.case]
    return told if len(told) == len(blockers) else [*told, HOLDER_CASE_BLOCKER]


def write_closure(
    uow: UnitOfWork,
    actor: Actor,
    row: AccountRow,
    verification: Verification,
    move_to: str | None,
) -> Closure:
    """Close the account on its holder's verified request, or audit the refusal naming every
    blocker and raise Conflict; commits either way. Its callers (`close_online` for the
    member's channel, `close_my_account` for the portal's person) have checked the actor and
    that the account is theirs to close."""
    try:
        verification = Verification(verification)
    except ValueError:
        raise InvalidInput("member_channel or public_portal", "verification") from None
    target = AccountNumber.parse(move_to, field="move_to").number if move_to is not None else None
    account_no = row.account_no
    if target == account_no:
        raise InvalidInput("the balance cannot move to the account being closed", "move_to")
    status = AccountStatus(row.status)
    if status is AccountStatus.CLOSED:
        raise Conflict(f"account {mask_account(account_no)} is closed already")
    balance = settled_balance(uow, row)
    blockers = closure_blockers(uow, row, status, balance, target)
    if blockers:
        uow.audit.record(
            actor,
            "closure_refused",
            f"account:{mask_account(account_no)}",
            {
                "verification": verification.value,
                "move_to": mask_account(target) if target else None,
                "blockers": [blocker.en for blocker in blockers],
            },
        )
        uow.commit()
        if verification is Verification.PUBLIC_PORTAL:
            blockers = told_to_holder(blockers)
        raise ClosureRefused(
            f"account {mask_account(account_no)} cannot be closed online: "
            + "; ".join(blocker.en for blocker in blockers),
            "；".join(blocker.zh for blocker in blockers),
        )
    why = f"online closure (线上销户), verified by {verification.value}"
    write_status(uow, actor, row, AccountStatus.CLOSED, why)
    return Closure(account_of(row), target)


# The restriction notice (告知短信): when a bank puts one of its own measures on an account, or
# screening tells the holder what it found, the holder gets one SMS saying what, why, what to
# bring and where to appeal (the public portal). `notify_holder` is the one place that queues
# it, in the caller's transaction; several writes in one transaction tell the holder once.

MEASURE_WORDS: Final = {
    RestrictionKind.NON_COUNTER_SUSPENSION.value: "暂停非柜面业务",
    RestrictionKind.OUTFLOW_CAP.value: "限制非柜面转出额度",
    AccountStatus.NON_COUNTER_SUSPENDED.value: "暂停非柜面业务",
    AccountStatus.DORMANT.value: "列为久悬账户",
    AccountStatus.CLOSED.value: "销户",
}
"""What the SMS says was done ("您尾号…的账户已被{measure}"), by restriction kind or status."""
REVIEW_WORDS: Final = "列入风险排查"
"""What a notice without a measure (screening's 告知) says was done."""
REASON_IN_SMS: Final = 30
"""The reason's first characters the SMS carries (the portal shows it whole): the template,
a bank's name, the address and 30 characters stay within the outbox's four segments."""
_NOTIFIED: Final = "fundwall_restriction_notices"


def notify_holder(
    uow: UnitOfWork,
    actor: Actor,
    account: AccountRow,
    measure: str | None,
    reason: str,
    *,
    portal: PortalSettings | None = None,
) -> int | None:
    """Queue the `restriction_notice` SMS to the phone the account's bank bound to its holder,
    in the caller's transaction; the message's id, or None when the holder has no bound phone
    or was told in this transaction already. `measure` is a restriction kind or a status
    (MEASURE_WORDS), None for a notice of a review without a measure."""
    session = uow.session
    transaction = session.get_transaction()
    told: tuple[object, set[str]] | None = session.info.get(_NOTIFIED)
    if told is None or told[0] is not transaction:
        told = session.info[_NOTIFIED] = (transaction, set())
    if account.account_no in told[1]:
        return None
    binding = current_binding(session, account.institution_code, account.party_id)
    if binding is None:
        return None
    told[1].add(account.account_no)
    bank = session.get(InstitutionRow, account.institution_code)
    stated = clause(reason)
    brief = stated if len(stated) <= REASON_IN_SMS else stated[: REASON_IN_SMS - 1] + "…"
    return queue_sms(
        uow,
        actor,
        phone=uow.keyring.decrypt(binding.phone_enc),
        template="restriction_notice",
        variables={
            "bank": bank.name_zh if bank is not None else account.institution_code,
            "account_tail": account.account_no[-4:],
            "measure": MEASURE_WORDS.get(measure or "", REVIEW_WORDS),
            "reason": brief,
            "portal_url": (portal or get_settings().portal).public_url,
        },
        member=account.institution_code,
        purpose=SmsPurpose.NOTICE,
        party_id=account.party_id,
    )
