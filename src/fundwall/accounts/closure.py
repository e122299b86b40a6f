"""Online account closure (线上销户): a verified request closes an account without a branch
visit, once nothing holds it.

The member's own channel verifies the holder (ID and a code sent to the bound phone; the
public portal will verify through the same use case) and says how. The closure is refused,
naming every reason at once, while the account has a balance not moved out to a named
account, a police order or a restriction in force, a status other than normal (a stop, a
freeze, a suspension: those end with their order or at a counter), or an open case of the
member about it. A refusal is audited as a closure request with its reasons; a closure sets
the status `closed` through the same writer as any status change (the engine refuses every
payment from and to the account from its next decision).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from sqlalchemy import or_, select

from fundwall.accounts.controls import own_account
from fundwall.accounts.queries import settled_balance, write_status
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.model import CaseStatus
from fundwall.domain.accounts import Account, AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.identity import AccountNumber, mask_account
from fundwall.domain.police import OrderStatus
from fundwall.engine.rules import format_money
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.mapping import account_of
from fundwall.store.police_tables import CaseAccountRow, CaseRow, PoliceOrderRow
from fundwall.store.uow import UnitOfWork

_ORDERS_IN_FORCE: Final = (OrderStatus.ISSUED.value, OrderStatus.EXECUTED.value)


class Verification(StrEnum):
    """How the holder's identity was checked for the request."""

    MEMBER_CHANNEL = "member_channel"
    """The member's own app or site: ID number and a code sent to the bound phone."""
    PUBLIC_PORTAL = "public_portal"
    """Fundwall's public portal: ID number and a code sent to the bound phone."""


@dataclass(frozen=True, slots=True)
class Closure:
    account: Account
    """The account, closed."""
    moved_fen: int
    """The balance the holder moved out to `move_to`."""
    move_to: str | None


def _blockers(
    uow: UnitOfWork, account_no: str, status: AccountStatus, balance: int, move_to: str | None
) -> list[str]:
    """Every reason the account cannot be closed now, in words."""
    now = uow.clock.now()
    session = uow.session
    blockers = []
    if balance > 0 and move_to is None:
        blockers.append(
            f"the balance of {format_money(balance)} must be moved out first: name the account "
            "to move it to"
        )
    if status is not AccountStatus.NORMAL:
        blockers.append(f"the account is {status.value}: that ends with its order or at a counter")
    orders = session.scalars(
        select(PoliceOrderRow.document_no).where(
            PoliceOrderRow.account_no == account_no,
            PoliceOrderRow.status.in_(_ORDERS_IN_FORCE),
            or_(PoliceOrderRow.ends_at.is_(None), PoliceOrderRow.ends_at > now),
        )
    ).all()
    blockers += [f"police order {document} is in force on it" for document in orders]
    restrictions = session.scalars(
        select(AccountRestrictionRow.kind).where(
            AccountRestrictionRow.account_no == account_no,
            AccountRestrictionRow.lifted_at.is_(None),
            AccountRestrictionRow.starts_at <= now,
            or_(AccountRestrictionRow.ends_at.is_(None), AccountRestrictionRow.ends_at > now),
        )
    ).all()
    blockers += [f"a {kind} restriction is in force on it" for kind in sorted(set(restrictions))]
    cases = session.scalars(
        select(CaseRow.id)
        .join(CaseAccountRow, CaseAccountRow.case_id == CaseRow.id, isouter=True)
        .where(
            CaseRow.status != CaseStatus.CLOSED.value,
            or_(CaseAccountRow.account_no == account_no, CaseRow.subject == account_no),
        )
        .distinct()
    ).all()
    blockers += [f"case {case} about it is open" for case in sorted(cases)]
    return blockers


@use_case(Permission.REPORT_ACCOUNTS)
def close_online(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    verification: Verification,
    *,
    move_to: str | None = None,
) -> Closure:
    """Close one of the member's accounts on the holder's verified request; Conflict (409)
    naming every blocker otherwise, the request audited either way. `move_to` is the
    account the holder moves the balance to (its number is checked, the money moves at the
    member)."""
    if actor.member is None:
        raise PermissionDenied(f"an account is closed by the member holding it ({actor})")
    try:
        verification = Verification(verification)
    except ValueError:
        raise InvalidInput("member_channel or public_portal", "verification") from None
    target = AccountNumber.parse(move_to, field="move_to").number if move_to is not None else None
    if target == account_no:
        raise InvalidInput("the balance cannot move to the account being closed", "move_to")
    row = own_account(uow, actor.member, account_no)
    status = AccountStatus(row.status)
    if status is AccountStatus.CLOSED:
        raise Conflict(f"account {mask_account(account_no)} is closed already")
    balance = settled_balance(uow, row)
    blockers = _blockers(uow, account_no, status, balance, target)
    if blockers:
        uow.audit.record(
            actor,
            "closure_refused",
            f"account:{mask_account(account_no)}",
            {"verification": verification.value, "blockers": blockers},
        )
        uow.commit()
        raise Conflict(
            f"account {mask_account(account_no)} cannot be closed online: " + "; ".join(blockers)
        )
    moved = max(balance, 0)
    shown = mask_account(target) if target else "none"
    why = f"online closure (线上销户), verified by {verification.value}; balance moved to {shown}"
    write_status(uow, actor, row, AccountStatus.CLOSED, why)
    return Closure(account_of(row), moved, target)
