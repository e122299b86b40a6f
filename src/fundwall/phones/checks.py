"""Phone real-name checks (手机实名验证) as use cases: a member binds or changes its customer's
phone, re-checks it, and reads the checks of an account's holder. (Opening an account checks
the phone given with it: `fundwall.accounts.reports.open_account`.)

Each check asks the telecom registry first and writes nothing until it has the answer, so a
registry that does not answer leaves nothing half-done. A member reaches a customer by one
of its own accounts: another member's account reads as unknown (404), as everywhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from fundwall.accounts.controls import own_account
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import Keyring
from fundwall.domain.errors import Conflict, InvalidInput, PermissionDenied
from fundwall.domain.identity import MobilePhone, ResidentId, mask_account
from fundwall.domain.parties import Party, PartyKind
from fundwall.phones.queries import (
    bind,
    current_binding,
    is_customer,
    record_check,
)
from fundwall.phones.registry import CheckTrigger, PhoneResult, TelecomRegistry
from fundwall.store.mapping import party_of
from fundwall.store.phone_tables import PhoneBindingRow, PhoneCheckRow
from fundwall.store.tables import PartyRow
from fundwall.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    """One check of a binding, as a member reads it (the phone masked)."""

    check_id: int
    phone: str
    bound_at: datetime | None
    current: bool
    result: PhoneResult
    released_at: datetime | None
    name_checked: bool
    answered_by: str
    answered_at: datetime
    checked_at: datetime
    trigger: CheckTrigger

    def to_dict(self) -> dict[str, object]:
        return {
            "check_id": self.check_id,
            "phone": self.phone,
            "bound_at": self.bound_at.isoformat() if self.bound_at else None,
            "current": self.current,
            "result": self.result.value,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "name_checked": self.name_checked,
            "answered_by": self.answered_by,
            "answered_at": self.answered_at.isoformat(),
            "checked_at": self.checked_at.isoformat(),
            "trigger": self.trigger.value,
        }


def phone_check(binding: PhoneBindingRow, check: PhoneCheckRow, keyring: Keyring) -> PhoneCheck:
    """A stored check as the member that bound the phone reads it."""
    return PhoneCheck(
        check_id=check.id,
        phone=str(MobilePhone(keyring.decrypt(binding.phone_enc))),
        bound_at=binding.bound_at,
        current=binding.unbound_at is None,
        result=PhoneResult(check.result),
        released_at=check.released_at,
        name_checked=check.name_checked,
        answered_by=check.answered_by,
        answered_at=check.answered_at,
        checked_at=check.checked_at,
        trigger=CheckTrigger(check.trigger),
    )


def _member(actor: Actor) -> str:
    member = actor.customer_member
    if member is None:
        raise PermissionDenied(f"phone checks are a member's, of its customers ({actor.audit_id})")
    return member


def _person(uow: UnitOfWork, party_id: str, keyring: Keyring) -> Party:
    row = uow.session.get(PartyRow, party_id)
    assert row is not None  # foreign key of the account
    party = party_of(row, keyring)
    if party.kind is not PartyKind.PERSON or not isinstance(party.id_number, ResidentId):
        raise InvalidInput(
            "a firm's phone is its owner's: check it on the owner's own account", "account_no"
        )
    return party


@use_case(Permission.REPORT_ACCOUNTS)
def bind_phone(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    phone: MobilePhone,
    registry: TelecomRegistry,
    keyring: Keyring,
) -> PhoneCheck:
    """Bind `phone` to the holder of one of the member's accounts (绑定/变更手机号), ending the
    phone bound before, and check it against the telecom registry; the check is kept with
    the binding. The registry is asked before anything is written."""
    member = _member(actor)
    account = own_account(uow, member, account_no)
    party = _person(uow, account.party_id, keyring)
    current = current_binding(uow.session, member, party.party_id)
    if current is not None and keyring.decrypt(current.phone_enc) == phone.number:
        raise Conflict(
            f"{phone} is bound to the holder of {mask_account(account_no)} already; "
            "re-check it instead"
        )
    assert isinstance(party.id_number, ResidentId)  # _person
    answer = registry.verify(phone, party.id_number, party.name, None)
    record = uow.audit.record(
        actor,
        "bind_phone",
        f"account:{mask_account(account_no)}",
        {
            "party": party.party_id,
            "phone": str(phone),
            "replaces": None if current is None else current.id,
            "result": answer.result.value,
            "registry": registry.name,
        },
    )
    binding = bind(
        uow.session,
        keyring,
        member=member,
        party_id=party.party_id,
        phone=phone,
        at=record.ts,
        by=actor.audit_id,
        revision=record.seq,
    )
    check = record_check(
        uow.session,
        binding,
        answer,
        registry=registry.name,
        trigger=CheckTrigger.BIND_PHONE,
        at=record.ts,
        by=actor.audit_id,
    )
    uow.commit()
    return phone_check(binding, check, keyring)


@use_case(Permission.VERIFY_PHONES)
def recheck_phone(
    uow: UnitOfWork,
    actor: Actor,
    account_no: str,
    registry: TelecomRegistry,
    keyring: Keyring,
) -> PhoneCheck:
    """Check again the phone the member has bound to the holder of one of its accounts (a
    number may have been given up and reissued since it was bound)."""
    member = _member(actor)
    account = own_account(uow, member, account_no)
    binding = current_binding(uow.session, member, account.party_id)
    if binding is None:
        raise Conflict(f"no phone is bound to the holder of {mask_account(account_no)}")
    party = _person(uow, account.party_id, keyring)
    assert isinstance(party.id_number, ResidentId)  # _person
    phone = MobilePhone(keyring.decrypt(binding.phone_enc))
    answer = registry.verify(phone, party.id_number, party.name, binding.bound_at)
    record = uow.audit.record(
        actor,
        "recheck_phone",
        f"account:{mask_account(account_no)}",
        {"binding": binding.id, "result": answer.result.value, "registry": registry.name},
    )
    check = record_check(
        uow.session,
        binding,
        answer,
        registry=registry.name,
        trigger=CheckTrigger.RECHECK,
        at=record.ts,
        by=actor.audit_id,
    )
    uow.commit()
    return phone_check(binding, check, keyring)


@use_case(Permission.VERIFY_PHONES)
def recheck_bound_phones(
    uow: UnitOfWork, actor: Actor, registry: TelecomRegistry, keyring: Keyring
) -> dict[str, int]:
    """Check every current binding again: a member's actor its own, the operator the
    region's (a periodic job: numbers are given up and reissued after they were bound).
    Firms' bindings are skipped (a firm's phone is its owner's). One audit record with the
    counts by result; returns them."""
    member = actor.customer_member
    if member is None and not actor.can(Permission.VIEW_REGION):
        raise PermissionDenied(f"recheck phones without a member ({actor.audit_id})")
    query = (
        select(PhoneBindingRow, PartyRow)
        .join(PartyRow, PartyRow.party_id == PhoneBindingRow.party_id)
        .where(PhoneBindingRow.unbound_at.is_(None), PartyRow.kind == PartyKind.PERSON.value)
        .order_by(PhoneBindingRow.id)
    )
    if member is not None:
        query = query.where(
            PhoneBindingRow.member == member, PhoneBindingRow.party_id.in_(is_customer(member))
        )
    now = uow.clock.now()
    results: Counter[str] = Counter()
    for binding, party_row in uow.session.execute(query):
        party = party_of(party_row, keyring)
        assert isinstance(party.id_number, ResidentId)  # a person
        phone = MobilePhone(keyring.decrypt(binding.phone_enc))
        answer = registry.verify(phone, party.id_number, party.name, binding.bound_at)
        record_check(
            uow.session,
            binding,
            answer,
            registry=registry.name,
            trigger=CheckTrigger.RECHECK,
            at=now,
            by=actor.audit_id,
        )
        results[answer.result.value] += 1
    counts = {result.value: results[result.value] for result in PhoneResult}
    uow.audit.record(
        actor,
        "recheck_phones",
        f"member:{member}" if member else "region",
        {"registry": registry.name, **counts},
    )
    uow.commit()
    return counts


@use_case(Permission.VIEW_CUSTOMER_DATA)
def holder_phone_checks(
    uow: UnitOfWork, actor: Actor, account_no: str, keyring: Keyring
) -> tuple[PhoneCheck, ...]:
    """The checks of the phones the member bound to the holder of one of its accounts,
    newest first (the current binding's and those of the phones bound before)."""
    member = _member(actor)
    account = own_account(uow, member, account_no)
    rows = uow.session.execute(
        select(PhoneBindingRow, PhoneCheckRow)
        .join(PhoneCheckRow, PhoneCheckRow.binding_id == PhoneBindingRow.id)
        .where(PhoneBindingRow.member == member, PhoneBindingRow.party_id == account.party_id)
        .order_by(PhoneCheckRow.id.desc())
    )
    return tuple(phone_check(binding, check, keyring) for binding, check in rows)
