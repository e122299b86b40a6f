"""Online account closure (线上销户): a verified request closes an account without a branch
visit, once nothing holds it.

The member's own channel verifies the holder (ID and a code sent to the bound phone); the
public portal verifies the person the same way and closes through
`fundwall.appeals.filing.close_my_account`, with the same checks and writes
(`fundwall.accounts.queries.write_closure`). A member's request is always the member's
channel: it cannot say the portal verified the holder. The closure is refused, naming every
reason at once, while the account has a balance (the holder moves it out first, to the
account they name, by a transfer the engine decides: a closed account pays nothing), a
police order or a restriction in force, a status other than normal (a stop, a freeze, a
suspension: those end with their order or at a counter), or an open case of the member
about it. A refusal is
audited as a closure request with its reasons; a closure sets the status `closed` through
the same writer as any status change (the engine refuses every payment from and to the
account from its next decision).
"""

from __future__ import annotations

from fundwall.accounts.controls import own_account
from fundwall.accounts.model import Closure, Verification
from fundwall.accounts.queries import write_closure
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.store.uow import UnitOfWork

__all__ = ["Closure", "Verification", "close_online"]


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
    account the holder names for the balance (its number is checked and quoted in the
    refusal while money remains)."""
    if actor.member is None:
        raise PermissionDenied(f"an account is closed by the member holding it ({actor})")
    if verification == Verification.PUBLIC_PORTAL:
        raise InvalidInput(
            "a member verifies through its own channel (member_channel); the public portal "
            "closes accounts through its own page",
            "verification",
        )
    return write_closure(
        uow, actor, own_account(uow, actor.member, account_no), verification, move_to
    )
