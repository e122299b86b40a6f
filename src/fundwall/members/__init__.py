"""Members' people and systems (成员机构管理): console users and API keys, as use cases.

    with platform.unit_of_work() as uow:
        add_user(uow, platform.operator, "alice", Role.MEMBER_ANALYST, "B001", password,
                 platform.passwords)
        key, text = create_api_key(uow, admin, "B001", "core banking")

Each use case takes the acting `Actor`: the operator administers the whole region, a member
admin only its own member (`MANAGE_USERS`, `MANAGE_API_KEYS`).
"""

from fundwall.members.api_keys import ApiKey, create_api_key, list_api_keys, revoke_api_key
from fundwall.members.demo import DEMO_PASSWORD, create_demo_users, demo_notice, demo_users
from fundwall.members.users import (
    add_user,
    check_username,
    get_user,
    list_users,
    set_disabled,
    set_password,
    unlock_user,
)

__all__ = [
    "DEMO_PASSWORD",
    "ApiKey",
    "add_user",
    "check_username",
    "create_api_key",
    "create_demo_users",
    "demo_notice",
    "demo_users",
    "get_user",
    "list_api_keys",
    "list_users",
    "revoke_api_key",
    "set_disabled",
    "set_password",
    "unlock_user",
]
