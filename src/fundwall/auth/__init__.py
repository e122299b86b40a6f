"""Users, roles, sessions, API keys and tenancy: who may see and do what.

    actor.require(Permission.VIEW_CUSTOMER_DATA)             # 403 unless the role allows it
    account = visible_account(uow.session, actor, number)      # 404 for another member's

See docs/console.md for the roles and what each sees.
"""

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.api_keys import (
    ApiKey,
    actor_for_key,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
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
from fundwall.auth.users import (
    DEMO_PASSWORD,
    Operator,
    SystemActor,
    User,
    add_user,
    create_demo_users,
    demo_notice,
    demo_users,
    get_user,
    list_users,
    set_disabled,
    set_password,
    unlock_user,
)

__all__ = [
    "DEMO_PASSWORD",
    "ROLE_PERMISSIONS",
    "ActiveSession",
    "Actor",
    "ActorKind",
    "AddressThrottle",
    "ApiKey",
    "Backoff",
    "LoginFailed",
    "Operator",
    "Passwords",
    "Permission",
    "Role",
    "SessionPolicy",
    "SignedIn",
    "SystemActor",
    "User",
    "accounts_visible",
    "actor_for_key",
    "add_user",
    "aggregate_scope",
    "check_password",
    "create_api_key",
    "create_demo_users",
    "decisions_visible",
    "demo_notice",
    "demo_users",
    "get_user",
    "list_api_keys",
    "list_users",
    "owned_by",
    "owned_through",
    "owner_bank",
    "resume",
    "revoke_api_key",
    "set_disabled",
    "set_password",
    "sign_in",
    "sign_out",
    "transactions_visible",
    "unlock_user",
    "visible_account",
    "visible_transaction",
]
