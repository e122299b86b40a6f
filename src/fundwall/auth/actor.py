"""The Actor: who is asking, with which role, for which member.

Every service takes an Actor, checks its permission with `actor.require(...)` and narrows its
queries with `fundwall.auth.tenancy`. A console user and an API key are both Actors; the
audit log names them by `audit_id` ("user:analyst1@301", "apikey:k3f9…@301").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.domain.errors import PermissionDenied


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "apikey"
    SYSTEM = "system"
    PERSON = "person"
    """A member of the public verified by the portal; named by the keyed hash of their ID
    number (base32), never the number."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in user, an API key, or the server's operator (`Actor.operator`).

    `name` is the user name or the key id; `member` the institution code the actor belongs
    to (None for the hub, auditors, and police officers without a unit); `user_id` is set
    for users only.
    """

    kind: ActorKind
    name: str
    role: Role
    member: str | None = None
    user_id: int | None = None

    @classmethod
    def operator(cls, name: str) -> Actor:
        """Whoever runs `fundwall` on the server (`system:cli`, `system:demo`): every
        permission, no member, so no member's customer data."""
        return cls(ActorKind.SYSTEM, name, Role.OPERATOR)

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    @property
    def audit_id(self) -> str:
        """How the audit log names this actor."""
        suffix = f"@{self.member}" if self.member else ""
        return f"{self.kind.value}:{self.name}{suffix}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """PermissionDenied naming the permission unless the actor holds it."""
        if permission not in self.permissions:
            raise PermissionDenied(f"{permission.value} (role {self.role.value})")

    @property
    def customer_member(self) -> str | None:
        """The member whose customer data this actor may read, or None for none at all (a
        police unit holds no customers: its actors read the police scope instead)."""
        if (
            self.member is not None
            and not self.role.is_police
            and self.can(Permission.VIEW_CUSTOMER_DATA)
        ):
            return self.member
        return None
