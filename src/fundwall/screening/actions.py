"""Bulk actions on a work list: notify holders, restrict, suspend non-counter business, mark
dormant or close, in one step on chosen accounts, tracked per account to the end.

`request_action` records the action and its accounts (pending), all or nothing;
`carry_out_action` then takes the pending accounts one by one, each in its own transaction:
it refuses what must not be done (a police order in force or unanswered, a closed account,
money still in an account to close), else changes the account through the accounts
workflow's use cases (`restrict`, `set_account_status`, or `change_account` for a member's
system reporting the change; `set_risk_tier` for a tier, its source the screening), so the
engine enforces it from its next transaction, and
writes the notice the holder receives (why, what was done, where to appeal). An error of the
account use case ends that account as refused or failed with its reason; the others go on.
The API answers at once and carries out in the background (`action_progress` reads how far
it is); the command line carries out at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from fundwall.accounts.controls import restrict, set_account_status
from fundwall.accounts.model import TierSource, tier_measures
from fundwall.accounts.queries import notify_holder, settled_balance
from fundwall.accounts.reports import change_account
from fundwall.accounts.tiers import TIER_REASON_MAX, set_risk_tier
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.errors import Conflict, FundwallError, InvalidInput, PermissionDenied
from fundwall.domain.police import OrderStatus
from fundwall.domain.screening import Check, Outcome, ScreeningAction, parse_checks
from fundwall.engine.controls.changes import stated_reason
from fundwall.engine.controls.model import RestrictionKind
from fundwall.engine.rules.templates import format_money
from fundwall.police.queries import in_force_clause
from fundwall.screening.model import MAX_TARGETS, TARGETS_PAGE, ActionView
from fundwall.screening.queries import (
    actions_visible,
    items_visible,
    target_view,
    visible_action,
    visible_run,
)
from fundwall.screening.reasons import notice, reason
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.paging import fetch_page
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.screening_tables import (
    HolderNoticeRow,
    ScreeningActionRow,
    ScreeningFindingRow,
    ScreeningItemRow,
    ScreeningTargetRow,
)
from fundwall.store.tables import AccountRow, InstitutionRow
from fundwall.store.uow import UnitOfWork

Progress = Callable[[int, int], None]
"""Called with (accounts finished, accounts of the action) as an action is carried out."""

STATUSES = {
    ScreeningAction.SUSPEND_NON_COUNTER: AccountStatus.NON_COUNTER_SUSPENDED,
    ScreeningAction.MARK_DORMANT: AccountStatus.DORMANT,
    ScreeningAction.CLOSE: AccountStatus.CLOSED,
}
TIERS = {ScreeningAction.TIER_MEDIUM: RiskTier.MEDIUM, ScreeningAction.TIER_HIGH: RiskTier.HIGH}
LEGAL_ORDERS = (RestrictionKind.STOP_PAYMENT.value, RestrictionKind.FREEZE.value)


def _action(value: object) -> ScreeningAction:
    try:
        return ScreeningAction(str(value))
    except ValueError:
        names = ", ".join(action.value for action in ScreeningAction)
        raise InvalidInput(f"one of {names}", "action") from None


def refusal_of(
    action: ScreeningAction, can: Callable[[Permission], bool], of_member: bool
) -> str | None:
    """Why an actor (its permissions `can`, whether it acts for a member) may not change
    accounts as `action` does, None when it may: restrict with restrict_accounts; set a
    status with restrict_accounts, or as a member's system reporting it (report_accounts);
    set a tier with set_risk_tiers, for a member. The console asks it to offer only the
    actions the actor may take."""
    if action in TIERS:
        if not can(Permission.SET_RISK_TIERS):
            return f"it needs the {Permission.SET_RISK_TIERS.value} permission"
        return None if of_member else "a risk tier is set by the member holding the account"
    if action is ScreeningAction.NOTIFY or can(Permission.RESTRICT_ACCOUNTS):
        return None
    if action in STATUSES and of_member and can(Permission.REPORT_ACCOUNTS):
        return None
    return f"it needs the {Permission.RESTRICT_ACCOUNTS.value} permission"


def _able(actor: Actor, action: ScreeningAction) -> None:
    refused = refusal_of(action, actor.can, actor.member is not None)
    if refused is not None:
        raise PermissionDenied(f"{refused} ({actor.audit_id})")


@use_case(Permission.SCREEN_ACCOUNTS)
def request_action(
    uow: UnitOfWork,
    actor: Actor,
    run_id: int,
    action: str,
    *,
    reason: str,
    accounts: Sequence[str] | None = None,
    checks: Sequence[str] | None = None,
) -> ActionView:
    """Record `action` on the run's items the actor may work (a member: its own accounts)
    that are among `accounts` and found by one of `checks` (either may be left out, not
    both), each pending, with the stated `reason`; carry it out with `carry_out_action`."""
    kind = _action(action)
    why = stated_reason(reason)
    if kind in TIERS and len(why) > TIER_REASON_MAX:
        raise InvalidInput(f"a tier's reason is at most {TIER_REASON_MAX} characters", "reason")
    _able(actor, kind)
    session = uow.session
    run = visible_run(session, actor, run_id)
    if accounts is None and checks is None:
        raise InvalidInput("choose the accounts: give accounts, checks, or both", "accounts")
    chosen = select(ScreeningItemRow).where(ScreeningItemRow.run_id == run.id, items_visible(actor))
    if checks is not None:
        only = parse_checks(checks)
        chosen = chosen.where(
            ScreeningItemRow.id.in_(
                select(ScreeningFindingRow.item_id).where(
                    ScreeningFindingRow.run_id == run.id,
                    ScreeningFindingRow.check.in_([check.value for check in only]),
                )
            )
        )
    items = list(session.scalars(chosen.order_by(ScreeningItemRow.id)))
    if accounts is not None:
        items = _named(items, accounts)
    if not items:
        raise InvalidInput("no account of the run's work list is chosen", "accounts")
    if len(items) > MAX_TARGETS:
        raise InvalidInput(f"at most {MAX_TARGETS:,} accounts in one action", "accounts")
    record = uow.audit.record(
        actor,
        "request_screening_action",
        f"screening_run:{run.id}",
        {"action": kind.value, "accounts": len(items), "reason": why},
    )
    row = ScreeningActionRow(
        run_id=run.id,
        member=actor.member,
        action=kind.value,
        reason=why,
        requested_at=record.ts,
        requested_by=record.actor,
        finished_at=None,
        revision=record.seq,
    )
    session.add(row)
    session.flush()
    session.execute(
        insert(ScreeningTargetRow),
        [
            {
                "action_id": row.id,
                "item_id": item.id,
                "member": item.member,
                "account_no": item.account_no,
                "outcome": Outcome.PENDING.value,
            }
            for item in items
        ],
    )
    uow.commit()
    return _view(session, actor, row, 1)


def _named(items: list[ScreeningItemRow], accounts: Sequence[str]) -> list[ScreeningItemRow]:
    """The items of the accounts named, each named once and on the list (else InvalidInput
    naming `accounts[i]`: an account not on the actor's part of the list is not told apart
    from one not on it at all)."""
    if isinstance(accounts, str) or not accounts:
        raise InvalidInput("name at least one account of the work list", "accounts")
    by_number = {item.account_no: item for item in items}
    picked: dict[str, ScreeningItemRow] = {}
    for i, number in enumerate(accounts):
        if not isinstance(number, str) or number not in by_number:
            raise InvalidInput("not on this run's work list (or not found by the checks named)",
                               f"accounts[{i}]")  # fmt: skip
        if number in picked:
            raise InvalidInput("named twice", f"accounts[{i}]")
        picked[number] = by_number[number]
    return list(picked.values())


@use_case(Permission.SCREEN_ACCOUNTS)
def carry_out_action(
    uow: UnitOfWork,
    actor: Actor,
    action_id: int,
    policy: PolicySettings,
    *,
    progress: Progress | None = None,
) -> ActionView:
    """Carry out the action's pending accounts, one transaction each (see the module); a
    tier's measures take their figures from `policy`."""
    session = uow.session
    row = visible_action(session, actor, action_id)
    kind = ScreeningAction(row.action)
    _able(actor, kind)
    total = session.scalar(select(func.count()).where(ScreeningTargetRow.action_id == row.id)) or 0
    pending = list(
        session.scalars(
            select(ScreeningTargetRow.id)
            .where(
                ScreeningTargetRow.action_id == row.id,
                ScreeningTargetRow.outcome == Outcome.PENDING.value,
            )
            .order_by(ScreeningTargetRow.id)
        )
    )
    finished = total - len(pending)
    for target_id in pending:
        _carry(uow, actor, policy, kind, row.reason, target_id)
        finished += 1
        if progress is not None:
            progress(finished, total)
    row = visible_action(session, actor, action_id)
    if row.finished_at is None:
        counts = _counts(session, row.id)
        record = uow.audit.record(
            actor,
            "finish_screening_action",
            f"screening_action:{row.id}",
            {outcome.value: counts[outcome] for outcome in Outcome},
        )
        row.finished_at = record.ts
        uow.commit()
    return _view(session, actor, row, 1)


def _carry(
    uow: UnitOfWork,
    actor: Actor,
    policy: PolicySettings,
    kind: ScreeningAction,
    why: str,
    target_id: int,
) -> None:
    session = uow.session
    # Claim the account by writing to it first: the write lock (a row lock on PostgreSQL, the
    # database's on SQLite) makes a second carrier wait, then find it no longer pending.
    claimed = session.execute(
        update(ScreeningTargetRow)
        .where(
            ScreeningTargetRow.id == target_id,
            ScreeningTargetRow.outcome == Outcome.PENDING.value,
        )
        .values(outcome=Outcome.PENDING.value)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        uow.rollback()  # carried out meanwhile by another process
        return
    target = session.get_one(ScreeningTargetRow, target_id)
    now = uow.clock.now()
    account = session.get(AccountRow, target.account_no)
    refusal = _refusal(uow, kind, account, now)
    if refusal is not None:
        _end(target, Outcome.REFUSED, refusal, now)
        uow.commit()
        return
    assert account is not None  # a missing account is refused above
    already = _already(session, kind, account, now)
    target.outcome, target.done_at, target.detail = Outcome.DONE.value, now, already
    if already is not None:
        uow.commit()
        return
    _write_notice(uow, actor, kind, target, account, policy)
    if kind is ScreeningAction.NOTIFY:
        uow.commit()
        return
    try:
        restriction = _apply(uow, actor, policy, kind, account.account_no, why)
    except (Conflict, PermissionDenied) as error:
        _ended_after_error(uow, target_id, Outcome.REFUSED, error)
        return
    except FundwallError as error:
        _ended_after_error(uow, target_id, Outcome.FAILED, error)
        return
    if restriction is not None:
        target = session.get_one(ScreeningTargetRow, target_id)
        target.restriction_id = restriction
        uow.commit()


def _apply(
    uow: UnitOfWork,
    actor: Actor,
    policy: PolicySettings,
    kind: ScreeningAction,
    account_no: str,
    why: str,
) -> int | None:
    """Change the account through the accounts workflow (each commits the target's outcome
    and notice with its own change); the restriction's id for a restrict action."""
    if kind in TIERS:
        tier = TIERS[kind]
        set_risk_tier(uow, actor, account_no, tier, policy, reason=why, source=TierSource.SCREENING)
        return None
    if kind is ScreeningAction.RESTRICT:
        return restrict(uow, actor, account_no, RestrictionKind.NON_COUNTER_SUSPENSION, reason=why)
    status = STATUSES[kind]
    if actor.can(Permission.RESTRICT_ACCOUNTS):
        set_account_status(uow, actor, account_no, status, why)
    else:
        change_account(uow, actor, account_no, reason=why, status=status)
    return None


def _ended_after_error(
    uow: UnitOfWork, target_id: int, outcome: Outcome, error: FundwallError
) -> None:
    uow.rollback()
    target = uow.session.get_one(ScreeningTargetRow, target_id)
    _end(target, outcome, str(error), uow.clock.now())
    uow.commit()


def _end(target: ScreeningTargetRow, outcome: Outcome, detail: str, now: datetime) -> None:
    target.outcome, target.detail, target.done_at = outcome.value, detail[:500], now


def _refusal(
    uow: UnitOfWork, kind: ScreeningAction, account: AccountRow | None, now: datetime
) -> str | None:
    """Why the action must not be done to the account now, if it must not."""
    if account is None:
        return "the account is no longer in the account directory"
    if account.status == AccountStatus.CLOSED.value:
        return "the account is closed"
    session = uow.session
    number = account.account_no
    ordered = session.scalar(
        select(func.count()).where(
            PoliceOrderRow.account_no == number,
            or_(in_force_clause(now), PoliceOrderRow.status == OrderStatus.ISSUED.value),
        )
    )
    restricted = session.scalar(
        select(func.count()).where(
            AccountRestrictionRow.account_no == number,
            AccountRestrictionRow.kind.in_(LEGAL_ORDERS),
            AccountRestrictionRow.lifted_at.is_(None),
            AccountRestrictionRow.starts_at <= now,
            or_(AccountRestrictionRow.ends_at.is_(None), AccountRestrictionRow.ends_at > now),
        )
    )
    if ordered or restricted:
        return (
            "a police order on the account is in force or awaits the bank's answer: the "
            "account is left as it is, and the holder is not told, until the order ends"
        )
    if kind is ScreeningAction.CLOSE:
        balance = settled_balance(uow, account)
        if balance > 0:
            return f"the account holds {format_money(balance)}: paid out to the holder first"
    return None


def _already(
    session: Session, kind: ScreeningAction, account: AccountRow, now: datetime
) -> str | None:
    """What makes the action's change needless: the status is already the one it sets, or
    a non-counter restriction of the bank is in force."""
    if kind in STATUSES and account.status == STATUSES[kind].value:
        return f"already {account.status}"
    if kind in TIERS and account.risk_tier == TIERS[kind].value:
        return f"already {account.risk_tier} risk"
    if kind is ScreeningAction.RESTRICT:
        held = session.scalar(
            select(func.count()).where(
                AccountRestrictionRow.account_no == account.account_no,
                AccountRestrictionRow.kind == RestrictionKind.NON_COUNTER_SUSPENSION.value,
                AccountRestrictionRow.lifted_at.is_(None),
                AccountRestrictionRow.starts_at <= now,
                or_(AccountRestrictionRow.ends_at.is_(None), AccountRestrictionRow.ends_at > now),
            )
        )
        if held:
            return "already restricted"
    return None


def _write_notice(
    uow: UnitOfWork,
    actor: Actor,
    kind: ScreeningAction,
    target: ScreeningTargetRow,
    account: AccountRow,
    policy: PolicySettings,
) -> None:
    """The notice to the holder: the item's reasons, the measure, where to appeal; and its
    SMS (the one the measure's writer would send, which then sends none)."""
    session, now = uow.session, uow.clock.now()
    item = session.get_one(ScreeningItemRow, target.item_id)
    bank = session.get_one(InstitutionRow, item.member)
    findings = session.scalars(
        select(ScreeningFindingRow).where(ScreeningFindingRow.item_id == item.id)
    ).all()
    ordered = sorted(findings, key=lambda f: list(Check).index(Check(f.check)))
    reasons = [reason(Check(f.check), f.details) for f in ordered]
    zh, en = notice(kind, (bank.name_zh, bank.name_en), item.account_no, reasons)
    session.add(
        HolderNoticeRow(
            member=item.member,
            account_no=item.account_no,
            party_id=item.party_id,
            target_id=target.id,
            text_zh=zh,
            text_en=en,
            created_at=now,
            created_by=actor.audit_id,
        )
    )
    session.flush()
    why = "；".join(zh for zh, _ in reasons)
    notify_holder(uow, actor, account, _measure_of(kind, policy), why)


def _measure_of(kind: ScreeningAction, policy: PolicySettings) -> str | None:
    """The restriction kind or status the action puts on the account (None: a notice only)."""
    if kind is ScreeningAction.RESTRICT:
        return RestrictionKind.NON_COUNTER_SUSPENSION.value
    if kind in TIERS:
        measures = tier_measures(TIERS[kind], policy)
        return measures[0].kind.value if measures else None
    return STATUSES[kind].value if kind in STATUSES else None


def _counts(session: Session, action_id: int) -> dict[Outcome, int]:
    counts = dict.fromkeys(Outcome, 0)
    for outcome, count in session.execute(
        select(ScreeningTargetRow.outcome, func.count())
        .where(ScreeningTargetRow.action_id == action_id)
        .group_by(ScreeningTargetRow.outcome)
    ):
        counts[Outcome(outcome)] = int(count)
    return counts


@use_case(Permission.VIEW_SCREENING)
def action_progress(
    uow: UnitOfWork, actor: Actor, action_id: int, *, page: int = 1, outcome: str | None = None
) -> ActionView:
    """An action the actor sees (a member: its own), its outcomes counted, and a page of
    its accounts (of one `outcome` when given)."""
    only = None
    if outcome is not None:
        try:
            only = Outcome(outcome)
        except ValueError:
            names = ", ".join(o.value for o in Outcome)
            raise InvalidInput(f"one of {names}", "outcome") from None
    session = uow.session
    return _view(session, actor, visible_action(session, actor, action_id), page, only)


def _view(
    session: Session,
    actor: Actor,
    row: ScreeningActionRow,
    page: int,
    outcome: Outcome | None = None,
) -> ActionView:
    target = ScreeningTargetRow
    chosen = and_(target.action_id == row.id, actions_visible(actor))
    if outcome is not None:
        chosen = and_(chosen, target.outcome == outcome.value)
    targets = fetch_page(
        session,
        select(target).join(ScreeningActionRow, ScreeningActionRow.id == target.action_id)
        .where(chosen).order_by(target.id),
        page,
        TARGETS_PAGE,
        lambda found: target_view(actor, found[0], row.action),
    )  # fmt: skip
    return ActionView(
        id=row.id,
        run_id=row.run_id,
        action=ScreeningAction(row.action),
        reason=row.reason,
        member=row.member,
        requested_at=row.requested_at,
        requested_by=row.requested_by,
        finished_at=row.finished_at,
        counts=_counts(session, row.id),
        targets=targets,
    )
