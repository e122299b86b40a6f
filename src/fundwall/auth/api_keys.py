"""API keys (API 密钥): one member's systems calling Fundwall without a person signing in.

A key reads `fwk_<key id>_<secret>`. The key id is public (it names the key in lists and in
the audit log); the secret is shown once, when the key is made, and only its SM3 digest is
stored. A key acts as its member with the role `member_system`, or for a police unit with
the role `police_system`. Making and revoking keys
(use cases of `fundwall.members`) is audited; using one is not (every transaction would add a
record), but `last_used_at` says when a key last worked. Requests check keys through a
short-lived cache (`fundwall.auth.key_cache`), so `last_used_at` lags by up to a minute and
a half.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.auth.tokens import digest, new_token, same
from fundwall.domain.institutions import InstitutionKind
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ApiKeyRow
from fundwall.store.tables import InstitutionRow

PREFIX: Final = "fwk"
_KEY: Final = re.compile(rf"{PREFIX}_([a-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})")
_ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
USE_RECORDED_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: its id, the digest of its secret (what is stored) and its full text,
    shown once."""

    key_id: str
    secret_hash: str
    text: str


def new_key() -> NewKey:
    """A fresh key: a random id and a random secret."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = new_token()
    return NewKey(key_id, digest(secret), f"{PREFIX}_{key_id}_{secret}")


def parse_key(presented: str) -> tuple[str, str] | None:
    """The key id and secret of a presented key, or None when it is not shaped like one."""
    match = _KEY.fullmatch(presented.strip())
    if match is None:
        return None
    key_id, secret = match.groups()
    return key_id, secret


def actor_for_key(uow: UnitOfWork, presented: str) -> Actor | None:
    """The actor of a presented key, or None when it is malformed, unknown or revoked.

    Records when the key was used (at most once a minute, to spare the database a write per
    request) and commits that.
    """
    parsed = parse_key(presented)
    if parsed is None:
        return None
    key_id, secret = parsed
    row = uow.session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None or not same(row.secret_hash, digest(secret)):
        return None
    now = uow.clock.now()
    if row.last_used_at is None or now - row.last_used_at >= USE_RECORDED_EVERY:
        row.last_used_at = now
        uow.commit()
    institution = uow.session.get(InstitutionRow, row.member_code)
    police = institution is not None and institution.kind == InstitutionKind.POLICE_UNIT.value
    role = Role.POLICE_SYSTEM if police else Role.MEMBER_SYSTEM
    return Actor(ActorKind.API_KEY, key_id, role, row.member_code)
