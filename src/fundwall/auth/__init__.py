"""Actors, roles, use cases, sign-in, sessions, API-key checks and tenancy: who may see and
do what. Administering users and API keys is a workflow of its own, `fundwall.members`.

    actor.require(Permission.VIEW_CUSTOMER_DATA)             # 403 unless the role allows it
    account = visible_account(uow.session, actor, number)      # 404 for another member's

See docs/console.md for the roles and what each sees.
"""

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.api_keys import actor_for_key
from fundwall.auth.passwords import Passwords, check_password
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.auth.sessions import (
    ActiveSession,
    LoginFailed,
    SessionPolicy,
    SignedIn,
    resume,
    sign_in,
    sign_out,
)
from fundwall.auth.tenancy import (
    accounts_visible,
    aggregate_scope,
    decisions_visible,
    owned_by,
    owned_through,
    owner_bank,
    transactions_visible,
    visible_account,
    visible_transaction,
)
from fundwall.auth.throttle import AddressThrottle, Backoff
from fundwall.auth.users import User

__all__ = [
    "ROLE_PERMISSIONS",
    "ActiveSession",
    "Actor",
    "ActorKind",
    "AddressThrottle",
    "Backoff",
    "LoginFailed",
    "Passwords",
    "Permission",
    "Role",
    "SessionPolicy",
    "SignedIn",
    "User",
    "accounts_visible",
    "actor_for_key",
    "aggregate_scope",
    "check_password",
    "decisions_visible",
    "owned_by",
    "owned_through",
    "owner_bank",
    "resume",
    "sign_in",
    "sign_out",
    "transactions_visible",
    "visible_account",
    "visible_transaction",
]
