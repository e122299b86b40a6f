"""Binding and checking a customer's phone against the local registry: the four answers,
history kept, rights and tenancy, nothing written when the registry does not answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from fundwall.accounts import AccountOpening, Holder, open_account
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountClass, OpeningChannel
from fundwall.domain.errors import Conflict, NotFound, PermissionDenied
from fundwall.domain.identity import AccountNumber, MobilePhone, ResidentId
from fundwall.domain.parties import PartyKind
from fundwall.phones.checks import bind_phone, holder_phone_checks, recheck_bound_phones
from fundwall.phones.local import LocalRegistry
from fundwall.phones.registry import PhoneResult, RegistryAnswer, RegistryUnavailable
from fundwall.store.phone_tables import PhoneBindingRow, PhoneCheckRow
from fundwall.store.tables import AuditRow
from phones.conftest import (
    ANALYST_A,
    HUB,
    POLICE,
    SYSTEM_A,
    SYSTEM_B,
    Uow,
    holder,
    other_id,
    register,
)

GAVE_UP = datetime(2023, 5, 1, tzinfo=UTC)


class Silent:
    """A registry that never answers."""

    name = "silent"

    def verify(
        self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
    ) -> RegistryAnswer:
        raise RegistryUnavailable(self.name, "no answer within 3 s (tried 3 times)")


def test_each_answer_of_the_registry_is_kept_with_the_binding(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    own, person = holder(1)
    given_up, _ = holder(2)
    someone_elses = MobilePhone("13900000001")
    with stocked() as uow:
        register(uow, keyring, own, person)
        register(uow, keyring, given_up, person, until=GAVE_UP)
        register(uow, keyring, given_up, other_id(1), since=GAVE_UP)
        register(uow, keyring, someone_elses, other_id(2))
    answers = {}
    for phone in (own, given_up, someone_elses, MobilePhone("13900000002")):
        with stocked() as uow:
            answers[phone.number] = bind_phone(uow, SYSTEM_A, "A1", phone, registry, keyring)
    assert [a.result for a in answers.values()] == [
        PhoneResult.MATCH,
        PhoneResult.RECYCLED,
        PhoneResult.MISMATCH,
        PhoneResult.NOT_FOUND,
    ]
    assert answers[given_up.number].released_at == GAVE_UP
    assert answers[own.number].phone == str(own) and "****" in str(own)
    with stocked() as uow:
        history = holder_phone_checks(uow, ANALYST_A, "A1", keyring)
        current = uow.session.scalar(
            select(func.count()).where(PhoneBindingRow.unbound_at.is_(None))
        )
        audit = " ".join(str(row.details) for row in uow.session.scalars(select(AuditRow)))
    assert [c.result for c in history] == [
        PhoneResult.NOT_FOUND,
        PhoneResult.MISMATCH,
        PhoneResult.RECYCLED,
        PhoneResult.MATCH,
    ]
    assert [c.current for c in history] == [True, False, False, False]
    assert current == 1
    assert own.number not in audit


def test_binding_the_same_phone_again_is_a_conflict(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    phone, _ = holder(1)
    with stocked() as uow:
        bind_phone(uow, SYSTEM_A, "A1", phone, registry, keyring)
    with stocked() as uow, pytest.raises(Conflict, match="re-check"):
        bind_phone(uow, SYSTEM_A, "A1", phone, registry, keyring)


def test_a_member_cannot_bind_or_read_another_members_customer(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    phone, _ = holder(3)
    with stocked() as uow:
        bind_phone(uow, SYSTEM_B, "B1", phone, registry, keyring)
    with stocked() as uow, pytest.raises(NotFound):
        bind_phone(uow, SYSTEM_A, "B1", phone, registry, keyring)
    with stocked() as uow, pytest.raises(NotFound):
        holder_phone_checks(uow, ANALYST_A, "B1", keyring)
    with stocked() as uow, pytest.raises(PermissionDenied):
        holder_phone_checks(uow, POLICE, "B1", keyring)
    with stocked() as uow, pytest.raises(PermissionDenied):
        bind_phone(uow, HUB, "B1", phone, registry, keyring)


def test_nothing_is_written_when_the_registry_does_not_answer(
    stocked: Uow, keyring: Keyring
) -> None:
    phone, _ = holder(1)
    with stocked() as uow, pytest.raises(RegistryUnavailable):
        bind_phone(uow, SYSTEM_A, "A1", phone, Silent(), keyring)
    with stocked() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PhoneBindingRow)) == 0
        assert uow.session.scalar(select(func.count()).select_from(AuditRow)) == 0


def test_opening_an_account_checks_the_phone_given_with_it_once(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    phone, person = holder(1)
    with stocked() as uow:
        register(uow, keyring, phone, person)

    def opening(number: str) -> AccountOpening:
        return AccountOpening(
            AccountNumber.parse(number),
            AccountClass.CLASS_II,
            datetime(2024, 5, 1, tzinfo=UTC),
            OpeningChannel.MOBILE,
            Holder(PartyKind.PERSON, person, "张三", phone),
        )

    with stocked() as uow:
        open_account(uow, SYSTEM_A, opening("6222021234567890128"), keyring, registry)
        open_account(uow, SYSTEM_A, opening("6222020000000000017"), keyring, registry)
    with stocked() as uow:
        checks = holder_phone_checks(uow, ANALYST_A, "6222021234567890128", keyring)
        assert [(c.result, c.trigger.value) for c in checks] == [
            (PhoneResult.MATCH, "open_account")
        ]
        assert uow.session.scalar(select(func.count()).select_from(PhoneCheckRow)) == 1


def test_a_recheck_finds_a_number_given_up_since_it_was_bound(
    stocked: Uow, keyring: Keyring, registry: LocalRegistry
) -> None:
    phone, person = holder(1)
    with stocked() as uow:
        register(uow, keyring, phone, person)
        bind_phone(uow, SYSTEM_A, "A1", phone, registry, keyring)
    with stocked() as uow:
        row = uow.session.scalars(select(PhoneBindingRow)).one()
        assert row.member == "B001"
    from fundwall.store.phone_tables import PhoneRegistrationRow

    with stocked() as uow:
        registration = uow.session.scalars(select(PhoneRegistrationRow)).one()
        registration.deregistered_at = GAVE_UP
        uow.commit()
    with stocked() as uow:
        assert recheck_bound_phones(uow, SYSTEM_A, registry, keyring)["recycled"] == 1
    with stocked() as uow:
        assert recheck_bound_phones(uow, SYSTEM_B, registry, keyring)["recycled"] == 0
    with stocked() as uow:
        newest = holder_phone_checks(uow, ANALYST_A, "A1", keyring)[0]
    assert (newest.result, newest.released_at) == (PhoneResult.RECYCLED, GAVE_UP)
