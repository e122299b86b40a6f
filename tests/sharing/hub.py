"""What the sharing hub's tests share: members' actors, the keys, raw identities."""

from __future__ import annotations

from pathlib import Path

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.crypto import SharingKeys
from fundwall.domain.identity.resident_id import resident_id_check_char

BANK_A = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, "B001")
BANK_A_ANALYST = Actor(ActorKind.USER, "ana", Role.MEMBER_ANALYST, "B001", 11)
BANK_B = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, "B002")
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
OPERATOR = Actor.operator("test")
CREDIT_CODE = "91350200MA2Y3K4LX9"


def resident_id(n: int) -> str:
    """A valid resident ID number, born 1980-01-n."""
    first17 = f"35020319800{1 + n // 28:01d}{1 + n % 28:02d}123"
    return first17 + resident_id_check_char(first17)


def phone(n: int) -> str:
    return f"138{n:08d}"


def sharing(keys_dir: Path, *versions: int) -> SharingKeys:
    return SharingKeys.load(keys_dir, versions)
