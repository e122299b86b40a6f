"""The SQL and writes the phone use cases share: a member's customers, their bindings, and
recording a check. The actor is never taken here; callers pass the member they act for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from fundwall.crypto import PHONE_HASH_KIND, Keyring
from fundwall.domain.identity import MobilePhone
from fundwall.phones.registry import CheckTrigger, RegistryAnswer
from fundwall.store.phone_tables import PhoneBindingRow, PhoneCheckRow
from fundwall.store.tables import AccountRow


@dataclass(frozen=True, slots=True)
class Bound:
    """A binding and the check recorded for it just now."""

    binding: PhoneBindingRow
    check: PhoneCheckRow


def is_customer(member: str) -> Select[str]:
    """The party ids holding an account at `member` (its customers)."""
    return select(AccountRow.party_id).where(AccountRow.institution_code == member).distinct()


def holds_account(session: Session, member: str, party_id: str) -> bool:
    """Whether `party_id` is a customer of `member`."""
    held = exists().where(AccountRow.institution_code == member, AccountRow.party_id == party_id)
    return bool(session.scalar(select(held)))


def current_binding(session: Session, member: str, party_id: str) -> PhoneBindingRow | None:
    """The member's current binding of the party's phone, if any."""
    return session.scalars(
        select(PhoneBindingRow).where(
            PhoneBindingRow.member == member,
            PhoneBindingRow.party_id == party_id,
            PhoneBindingRow.unbound_at.is_(None),
        )
    ).one_or_none()


def latest_checks() -> Select[int, int]:
    """Each checked binding's newest check id (`binding_id`, `check_id`)."""
    return select(PhoneCheckRow.binding_id, func.max(PhoneCheckRow.id).label("check_id")).group_by(
        PhoneCheckRow.binding_id
    )


def bind(
    session: Session,
    keyring: Keyring,
    *,
    member: str,
    party_id: str,
    phone: MobilePhone,
    at: datetime,
    by: str,
    revision: int | None,
) -> PhoneBindingRow:
    """Bind `phone` to the member's customer from `at`, ending the current binding (history
    kept). The caller has checked the party is the member's customer."""
    current = current_binding(session, member, party_id)
    if current is not None:
        current.unbound_at = at
    row = PhoneBindingRow(
        member=member,
        party_id=party_id,
        phone_enc=keyring.encrypt(phone.number),
        phone_hash=keyring.keyed_hash(PHONE_HASH_KIND, phone.number),
        bound_at=at,
        unbound_at=None,
        bound_by=by,
        revision=revision,
    )
    session.add(row)
    session.flush()
    return row


def record_check(
    session: Session,
    binding: PhoneBindingRow,
    answer: RegistryAnswer,
    *,
    registry: str,
    trigger: CheckTrigger,
    at: datetime,
    by: str,
) -> PhoneCheckRow:
    """Keep a registry's answer on `binding`."""
    row = PhoneCheckRow(
        binding_id=binding.id,
        result=answer.result.value,
        released_at=answer.released_at,
        name_checked=answer.name_checked,
        answered_by=registry,
        answered_at=answer.answered_at,
        checked_at=at,
        trigger=trigger.value,
        checked_by=by,
    )
    session.add(row)
    session.flush()
    return row
