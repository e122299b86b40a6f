"""The account rows the accounts use cases share; entrypoints never import them
(tests/test_architecture.py)."""

from __future__ import annotations

from fundwall.auth.actor import Actor
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.identity import mask_account
from fundwall.store.engine_tables import AccountStatusChangeRow
from fundwall.store.tables import AccountRow
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
    uow.commit()
    return previous
