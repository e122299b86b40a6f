"""Restrictions on accounts and their standing status: what the hard controls enforce on an
account from the next transaction on.

A restriction (止付, 冻结, 非柜面暂停) holds from its start until its end or until it is
lifted; a status (销户, 久悬, 非柜面暂停 …) holds until changed. Each use case checks its
input, writes its row and an audit record in one transaction, and stamps the row with the
record's sequence number (`revision`), which is how the running decision service finds it.

An actor of a member acts for that member: on the accounts it holds only (another member's
account reads as unknown, exactly as an account no one holds) and only with the measures a
bank takes by itself, a non-counter suspension or the statuses it reports. Stop-payments and
freezes are legal orders (police, courts); they come from actors of no member (the
operator, and police orders when they arrive).

    restrict(uow, actor, "6222021234567890123", RestrictionKind.STOP_PAYMENT,
             reason="紧急止付 order 2024-0042", ends_at=now + timedelta(hours=48))
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from fundwall.accounts.model import MEMBER_MEASURES
from fundwall.accounts.queries import (
    end_restriction,
    write_restriction,
    write_status,
)
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.changes import check_period, reference, stated_reason
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.tables import AccountRow
from fundwall.store.uow import UnitOfWork

MEMBER_STATUSES: Final = frozenset(
    {
        AccountStatus.NORMAL,
        AccountStatus.NON_COUNTER_SUSPENDED,
        AccountStatus.DORMANT,
        AccountStatus.CLOSED,
    }
)
"""Statuses a member sets itself; stop-payments and freezes are legal orders."""


def own_account(uow: UnitOfWork, member: str, account_no: str) -> AccountRow:
    """The account if `member` holds it; NotFound otherwise, as if it did not exist."""
    row = uow.session.get(AccountRow, account_no)
    if row is None or row.institution_code != member:
        raise NotFound("account", mask_account(account_no))
    return row


def check_member_status(account_no: str, current: AccountStatus, status: AccountStatus) -> None:
    """Refuse a status change a member may not make: from closed (final), from a status a
    legal order set, or to a status only a legal order sets."""
    if current is AccountStatus.CLOSED:
        raise Conflict(f"account {mask_account(account_no)} is closed; a closure is final")
    if current not in MEMBER_STATUSES:
        raise Conflict(
            f"account {mask_account(account_no)} is {current.value} by a police order; the "
            "order's end or lifting changes that, not the member"
        )
    if status not in MEMBER_STATUSES:
        raise InvalidInput(
            "a member sets normal, non_counter_suspended, dormant or closed; stop-payments "
            "and freezes are police orders",
            "status",
        )


@use_case(Permission.RESTRICT_ACCOUNTS)
def set_account_status(
    uow: UnitOfWork, actor: Actor, account_no: str, status: AccountStatus, reason: str
) -> AccountStatus:
    """Set an account's standing status (销户, 久悬, 非柜面暂停 …); returns the previous one.

    A partial freeze needs its amount: use `restrict(…, RestrictionKind.FREEZE, amount_fen=…)`.
    """
    status = AccountStatus(status)
    if status is AccountStatus.FROZEN_PARTIAL:
        raise InvalidInput(
            "a partial freeze needs an amount: use restrict with kind freeze and amount_fen",
            "status",
        )
    why = stated_reason(reason)
    if actor.member is not None:
        row = own_account(uow, actor.member, account_no)
        check_member_status(account_no, AccountStatus(row.status), status)
    else:
        found = uow.session.get(AccountRow, account_no)
        if found is None:
            raise NotFound("account", mask_account(account_no))
        row = found
    return write_status(uow, actor, row, status, why)


@use_case(Permission.RESTRICT_ACCOUNTS)
def restrict(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    kind: RestrictionKind,
    *,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    amount_fen: int | None = None,
    order_reference: str | None = None,
) -> int:
    """Restrict an account from `starts_at` (now by default) until `ends_at` (open when None):
    a stop-payment or freeze of the whole account or of `amount_fen`, a non-counter
    suspension, or a daily outflow cap of `amount_fen`. Returns the restriction's id (for
    `lift_restriction`).

    The account need not be in the directory (an order may name a counterparty outside the
    region), except for an actor of a member, who restricts the member's own accounts."""
    kind = RestrictionKind(kind)
    reference(account_no, "account_no")
    why = stated_reason(reason)
    if amount_fen is not None:
        if type(amount_fen) is not int or amount_fen <= 0:
            raise InvalidInput("a whole, positive number of fen", "amount_fen")
        if kind is RestrictionKind.NON_COUNTER_SUSPENSION:
            raise InvalidInput("a non-counter suspension has no amount", "amount_fen")
    elif kind is RestrictionKind.OUTFLOW_CAP:
        raise InvalidInput("an outflow cap needs its daily amount", "amount_fen")
    if order_reference is not None:
        reference(order_reference, "order_reference")
    start = starts_at if starts_at is not None else uow.clock.now()
    check_period(start, ends_at, "ends_at")
    if actor.member is not None:
        if kind not in MEMBER_MEASURES:
            raise PermissionDenied(f"a {kind.value} is a legal order, not a member's measure")
        own_account(uow, actor.member, account_no)
    row = write_restriction(
        uow,
        actor,
        account_no,
        kind,
        reason=why,
        starts_at=start,
        ends_at=ends_at,
        amount_fen=amount_fen,
        order_reference=order_reference,
    )
    uow.commit()
    return row.id


@use_case(Permission.RESTRICT_ACCOUNTS)
def lift_restriction(uow: UnitOfWork, actor: Actor, restriction_id: int, reason: str) -> None:
    """End a restriction now (解除止付/解冻, or an appeal upheld). An actor of a member lifts
    only the member's own measures on its own accounts."""
    why = stated_reason(reason)
    row = uow.session.get(AccountRestrictionRow, restriction_id)
    if row is not None and actor.member is not None:
        holder = uow.session.get(AccountRow, row.account_no)
        if holder is None or holder.institution_code != actor.member:
            row = None
        elif RestrictionKind(row.kind) not in MEMBER_MEASURES:
            raise PermissionDenied(f"a {row.kind} is a legal order; its issuer lifts it")
    if row is None:
        raise NotFound("account restriction", str(restriction_id))
    if row.lifted_at is not None:
        raise Conflict(f"restriction {restriction_id} was lifted already")
    end_restriction(uow, actor, row, why)
    uow.commit()
