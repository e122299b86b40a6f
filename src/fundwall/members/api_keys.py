"""Members' API keys (API 密钥管理): make one (its text shown once), list them, revoke one.

Each is a use case requiring `MANAGE_API_KEYS`. The operator administers every member's keys;
a member admin only its own member's, and to it another member's key reads as unknown (404).
How a key is shaped and checked is `fundwall.auth.api_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from fundwall.auth.actor import Actor
from fundwall.auth.api_keys import new_key
from fundwall.auth.key_cache import forget_key
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput, NotFound, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.store.auth_tables import LABEL, ApiKeyRow
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork


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


def _administered(actor: Actor) -> Select[ApiKeyRow]:
    """The keys `actor` administers: its member's, or every member's for the operator."""
    query = select(ApiKeyRow)
    if actor.member is not None:
        query = query.where(ApiKeyRow.member_code == actor.member)
    return query


def _check_member(actor: Actor, member: str | None) -> None:
    if actor.member is not None and member not in (None, actor.member):
        raise PermissionDenied(f"manage API keys of member {member}")


@use_case(Permission.MANAGE_API_KEYS)
def create_api_key(
    uow: UnitOfWork, actor: Actor, member: str, label: str = "system"
) -> tuple[ApiKey, str]:
    """Make a key for `member` and commit; returns the key and its full text, shown once."""
    _check_member(actor, member)
    institution = uow.session.get(InstitutionRow, member)
    if institution is None:
        raise NotFound("institution", member)
    kind = InstitutionKind(institution.kind)
    if not kind.holds_accounts and kind is not InstitutionKind.POLICE_UNIT:
        raise InvalidInput(
            f"API keys are for member banks, payment institutions and police units; {member} "
            f"is a {institution.kind}",
            "member",
        )
    label = label.strip()
    if not label or len(label) > LABEL:
        raise InvalidInput(f"a label is 1 to {LABEL} characters", "label")
    ensure_no_personal_data(label, "label")
    made = new_key()
    row = ApiKeyRow(
        key_id=made.key_id,
        member_code=member,
        secret_hash=made.secret_hash,
        label=label,
        created_at=uow.clock.now(),
        created_by=actor.audit_id,
    )
    uow.session.add(row)
    uow.audit.record(
        actor, "apikey_add", f"apikey:{made.key_id}", {"member": member, "label": label}
    )
    uow.commit()
    return ApiKey.of(row), made.text


@use_case(Permission.MANAGE_API_KEYS)
def list_api_keys(uow: UnitOfWork, actor: Actor, member: str | None = None) -> list[ApiKey]:
    """The keys `actor` administers (or one member's), by member and age."""
    _check_member(actor, member)
    query = _administered(actor).order_by(ApiKeyRow.member_code, ApiKeyRow.created_at)
    if member is not None:
        query = query.where(ApiKeyRow.member_code == member)
    return [ApiKey.of(row) for row in uow.session.scalars(query)]


@use_case(Permission.MANAGE_API_KEYS)
def revoke_api_key(uow: UnitOfWork, actor: Actor, key_id: str) -> ApiKey:
    """Revoke a key for good, and commit; revoking twice changes nothing."""
    row = uow.session.scalars(_administered(actor).where(ApiKeyRow.key_id == key_id)).one_or_none()
    if row is None:
        raise NotFound("API key", key_id)
    if row.revoked_at is None:
        row.revoked_at = uow.clock.now()
        uow.audit.record(actor, "apikey_revoke", f"apikey:{key_id}", {"member": row.member_code})
        uow.commit()
    forget_key(key_id)
    return ApiKey.of(row)
