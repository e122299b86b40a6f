"""Members report their own accounts' life (账户开立、变更、销户) to the account directory.

The account directory says which bank holds each account of the region; the engine admits a
member's transactions only from accounts it holds there, and reads each account's class,
opening date and holder from it. So a member reports each account it opens, each change of
class, and each change of standing status it makes itself (非柜面暂停, 久悬, 销户); stop-payments
and freezes come from police orders, not from the member. Each use case takes the actor,
checks its permission and that the account is the actor's member's, writes the account and an
audit record in one transaction, and stamps the account with the record's sequence number
(`revision`), so the running decision service reads the report at its next decision.

Another member's account reads as unknown (404), exactly as an account no one holds, so a
member cannot learn which accounts other members hold.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select

from fundwall.accounts.controls import check_member_status, own_account
from fundwall.accounts.model import AccountOpening
from fundwall.accounts.queries import write_opening, write_status
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import PolicySettings, get_settings
from fundwall.crypto import Keyring
from fundwall.domain.accounts import (
    Account,
    AccountClass,
    AccountStatus,
)
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.identity import (
    mask_account,
)
from fundwall.engine.controls.changes import stated_reason
from fundwall.phones.registry import TelecomRegistry
from fundwall.store.mapping import account_of
from fundwall.store.tables import AccountRow
from fundwall.store.uow import UnitOfWork


def _member(actor: Actor) -> str:
    if actor.member is None:
        raise PermissionDenied(f"report accounts without a member ({actor.audit_id})")
    return actor.member


@use_case(Permission.REPORT_ACCOUNTS)
def open_account(
    uow: UnitOfWork,
    actor: Actor,
    opening: AccountOpening,
    keyring: Keyring,
    registry: TelecomRegistry | None = None,
) -> Account:
    """Put an account the actor's member opened into the directory (账户开立).

    With a telecom `registry`, a person's phone given with the opening is checked against
    it (手机实名验证) and bound to the holder at the member, the check kept with the binding
    (`fundwall.phones`); the registry is asked before anything is written, so one that does
    not answer refuses the opening whole. A firm's phone is its owner's and is not checked
    here."""
    account = write_opening(uow, actor, _member(actor), opening, keyring, registry)
    uow.commit()
    return account


@use_case(Permission.REPORT_ACCOUNTS)
def change_account(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    *,
    reason: str,
    account_class: AccountClass | None = None,
    status: AccountStatus | None = None,
    policy: PolicySettings | None = None,
) -> Account:
    """Change the class (账户分类变更) or the standing status (非柜面暂停, 久悬, 销户) of an
    account the actor's member holds; both in one transaction. A class change is refused on
    a closed account, and when the holder has as many open accounts of the new class at the
    member as a bank may open (`policy.max_class_*_accounts_per_bank`)."""
    member = _member(actor)
    why = stated_reason(reason)
    if account_class is None and status is None:
        raise InvalidInput("say what changes: account_class or status", "account_class")
    row = own_account(uow, member, account_no)
    current = AccountStatus(row.status)
    if status is not None and status is not current:
        check_member_status(account_no, current, status)
    if account_class is not None and account_class.value != row.account_class:
        if (account_class is AccountClass.CORPORATE) != (row.account_class == "corporate"):
            raise InvalidInput(
                "a personal account cannot become a company account or the other way round",
                "account_class",
            )
        if current is AccountStatus.CLOSED:
            raise Conflict(f"account {mask_account(account_no)} is closed; a closure is final")
        _check_room(uow, row, account_class, policy or get_settings().policy)
        record = uow.audit.record(
            actor,
            "change_account_class",
            f"account:{mask_account(account_no)}",
            {"from": row.account_class, "to": account_class.value, "reason": why},
        )
        row.account_class = account_class.value
        if not account_class.may_be_bound:
            row.bound_account = None
        row.revision = record.seq
    if status is not None and status is not current:
        write_status(uow, actor, row, status, why)
    else:
        uow.commit()
    return account_of(row)


_CLASS_LIMITS: Final = {
    AccountClass.CLASS_I: "max_class_i_accounts_per_bank",
    AccountClass.CLASS_II: "max_class_ii_accounts_per_bank",
    AccountClass.CLASS_III: "max_class_iii_accounts_per_bank",
}


def _check_room(
    uow: UnitOfWork, row: AccountRow, account_class: AccountClass, policy: PolicySettings
) -> None:
    """Conflict when the holder has as many open accounts of `account_class` at the member as
    a bank may open (一人一行一个Ⅰ类户, and the policy's counts of class II and III)."""
    field = _CLASS_LIMITS.get(account_class)
    if field is None:
        return
    limit = int(getattr(policy, field))
    held = uow.session.scalar(
        select(func.count()).where(
            AccountRow.party_id == row.party_id,
            AccountRow.institution_code == row.institution_code,
            AccountRow.account_class == account_class.value,
            AccountRow.status != AccountStatus.CLOSED.value,
            AccountRow.account_no != row.account_no,
        )
    )
    if int(held or 0) >= limit:
        raise Conflict(
            f"the holder has {held} open class {account_class.value} account(s) at this bank "
            f"already, the most a bank may open ({field} {limit})"
        )
