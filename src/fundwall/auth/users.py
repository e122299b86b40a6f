"""A console user (用户) as sign-in and sessions hand it out: never the password hash.

Creating users, changing their passwords and lifting their sign-in waits are use cases of
`fundwall.members`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.store.auth_tables import UserRow

USERNAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9._-]{1,31}")


@dataclass(frozen=True, slots=True)
class User:
    """A user as services hand it out: never the password hash."""

    id: int
    username: str
    role: Role
    member: str | None
    disabled: bool
    locked_until: datetime | None
    """Until when the user's sign-ins wait, after wrong passwords (`fundwall.auth.throttle`)."""
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(
            id=row.id,
            username=row.username,
            role=Role(row.role),
            member=row.member_code,
            disabled=row.disabled,
            locked_until=row.locked_until,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
        )

    def actor(self) -> Actor:
        return Actor(ActorKind.USER, self.username, self.role, self.member, self.id)

    def waits_until(self, now: datetime) -> datetime | None:
        """Until when the user's sign-ins wait, seen at `now`; None when they do not."""
        if self.locked_until is not None and self.locked_until > now:
            return self.locked_until
        return None
