"""API keys (API 密钥): one member's systems calling Fundwall without a person signing in.

A key reads `fwk_<key id>_<secret>`. The key id is public (it names the key in lists and in
the audit log); the secret is shown once, when the key is made, and only its SM3 digest is
stored. A key acts as its member with the role `member_system`. Making and revoking keys is
audited; using one is not (every transaction would add a record), but `last_used_at` says
when a key last worked. Requests check keys through a short-lived cache
(`fundwall.auth.key_cache`), so `last_used_at` lags by up to a minute and a half.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.key_cache import forget_key
from fundwall.auth.roles import Permission, Role
from fundwall.auth.tokens import digest, new_token, same
from fundwall.auth.users import Operator, SystemActor
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import LABEL, ApiKeyRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import InstitutionRow

PREFIX: Final = "fwk"
_KEY: Final = re.compile(rf"{PREFIX}_([a-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})")
_ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
USE_RECORDED_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never its secret."""

    key_id: str
    member: str
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            row.key_id,
            row.member_code,
            row.label,
            row.created_at,
            row.created_by,
            row.revoked_at,
            row.last_used_at,
        )


def _require_key_admin(by: Operator, member: str) -> None:
    if isinstance(by, SystemActor):
        return
    by.require(Permission.MANAGE_API_KEYS)
    if by.member != member:
        raise PermissionDenied(f"manage API keys of member {member}")


def create_api_key(
    uow: UnitOfWork, by: Operator, member: str, label: str = "system"
) -> tuple[ApiKey, str]:
    """Make a key for `member` and commit; returns the key and its full text, shown once."""
    institution = uow.session.get(InstitutionRow, member)
    if institution is None:
        raise NotFound("institution", member)
    if not InstitutionKind(institution.kind).holds_accounts:
        raise InvalidInput(
            f"API keys are for member banks and payment institutions; {member} is a "
            f"{institution.kind}",
            "member",
        )
    _require_key_admin(by, member)
    label = label.strip()
    if not label or len(label) > LABEL:
        raise InvalidInput(f"a label is 1 to {LABEL} characters", "label")
    ensure_no_personal_data(label, "label")
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = new_token()
    row = ApiKeyRow(
        key_id=key_id,
        member_code=member,
        secret_hash=digest(secret),
        label=label,
        created_at=uow.clock.now(),
        created_by=by.audit_id,
    )
    uow.session.add(row)
    uow.audit.record(by, "apikey_add", f"apikey:{key_id}", {"member": member, "label": label})
    uow.commit()
    return ApiKey.of(row), f"{PREFIX}_{key_id}_{secret}"


def list_api_keys(uow: UnitOfWork, member: str | None = None) -> list[ApiKey]:
    query = select(ApiKeyRow).order_by(ApiKeyRow.member_code, ApiKeyRow.created_at)
    if member is not None:
        query = query.where(ApiKeyRow.member_code == member)
    return [ApiKey.of(row) for row in uow.session.scalars(query)]


def revoke_api_key(uow: UnitOfWork, by: Operator, key_id: str) -> ApiKey:
    """Revoke a key for good, and commit; revoking twice changes nothing."""
    row = uow.session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound("API key", key_id)
    _require_key_admin(by, row.member_code)
    if row.revoked_at is None:
        row.revoked_at = uow.clock.now()
        uow.audit.record(by, "apikey_revoke", f"apikey:{key_id}", {"member": row.member_code})
        uow.commit()
    forget_key(key_id)
    return ApiKey.of(row)


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
    return Actor(ActorKind.API_KEY, key_id, Role.MEMBER_SYSTEM, row.member_code)
