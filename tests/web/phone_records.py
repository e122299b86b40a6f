"""The phone findings of the console tests' region, planted once when it is built.

The region's bindings are loaded unchecked. Here the hub makes its first sharing key (so a
finding can be published), and for each demo bank the local registry learns that one of its
customers gave their number up a month ago (a recycled number still bound); the night's
re-check asks the registry about every bound phone of the region, as `fundwall phones recheck`
does; and in the morning the bank binds a new phone to another customer (one person, two
phones, the earlier one with its check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundwall.auth import Actor, Role
from fundwall.auth.actor import ActorKind
from fundwall.bootstrap import Platform
from fundwall.domain.identity import MobilePhone
from fundwall.phones.checks import bind_phone, recheck_bound_phones
from fundwall.phones.queries import current_binding
from fundwall.sharing.keys import rotate_sharing_key
from fundwall.store.phone_tables import PhoneBindingRow, PhoneRegistrationRow
from fundwall.store.tables import AccountRow, PartyRow


@dataclass(frozen=True)
class PlantedPhones:
    """One bank's planted findings: the binding of a recycled number still bound and an
    account of its holder; the current binding of a customer with two phones, and an account
    of theirs."""

    recycled_binding: int
    recycled_account: str
    many_binding: int
    many_account: str


def _own_phones(session: Session, bank: str) -> list[tuple[int, str, str]]:
    """The bank's current bindings of a person's own phone (registered to them now and bound
    to nobody else), lowest first: binding, party and the party's first account there."""
    alone = (
        select(PhoneBindingRow.phone_hash)
        .where(PhoneBindingRow.unbound_at.is_(None))
        .group_by(PhoneBindingRow.phone_hash)
        .having(func.count() == 1)
    )
    first_account = (
        select(AccountRow.party_id, func.min(AccountRow.account_no).label("account_no"))
        .where(AccountRow.institution_code == bank)
        .group_by(AccountRow.party_id)
        .subquery()
    )
    rows = session.execute(
        select(PhoneBindingRow.id, PhoneBindingRow.party_id, first_account.c.account_no)
        .join(first_account, first_account.c.party_id == PhoneBindingRow.party_id)
        .join(PartyRow, PartyRow.party_id == PhoneBindingRow.party_id)
        .join(
            PhoneRegistrationRow,
            (PhoneRegistrationRow.phone_hash == PhoneBindingRow.phone_hash)
            & (PhoneRegistrationRow.id_number_hash == PartyRow.id_number_hash)
            & PhoneRegistrationRow.deregistered_at.is_(None),
        )
        .where(
            PhoneBindingRow.member == bank,
            PhoneBindingRow.unbound_at.is_(None),
            PartyRow.kind == "person",
            PhoneBindingRow.phone_hash.in_(alone),
        )
        .order_by(PhoneBindingRow.id)
    )
    return [(binding, party, account) for binding, party, account in rows]


def _give_up(session: Session, binding_id: int, when: datetime) -> None:
    """The registry's answer from now on: the holder gave the bound number up `when`."""
    binding = session.get(PhoneBindingRow, binding_id)
    party = session.get(PartyRow, binding.party_id) if binding else None
    assert binding is not None and party is not None
    registration = session.scalars(
        select(PhoneRegistrationRow).where(
            PhoneRegistrationRow.phone_hash == binding.phone_hash,
            PhoneRegistrationRow.id_number_hash == party.id_number_hash,
            PhoneRegistrationRow.deregistered_at.is_(None),
        )
    ).one()
    registration.deregistered_at = when


def plant_phones(platform: Platform, banks: list[str], now: datetime) -> dict[str, PlantedPhones]:
    """Plant each bank's findings around the night's re-check; what was planted, by bank."""
    registry, keyring = platform.telecom_registry, platform.keyring
    with platform.unit_of_work() as uow:
        rotate_sharing_key(uow, platform.operator, platform.settings.keys_dir)
    chosen = {}
    with platform.unit_of_work() as uow:
        for bank in banks:
            chosen[bank] = _own_phones(uow.session, bank)[:2]
            _give_up(uow.session, chosen[bank][0][0], now - timedelta(days=30))
        uow.commit()
    with platform.unit_of_work() as uow:
        recheck_bound_phones(uow, platform.operator, registry, keyring)
    planted = {}
    for number, bank in enumerate(banks, start=1):
        (recycled, _, recycled_account), (_, many_party, many_account) = chosen[bank]
        system = Actor(ActorKind.API_KEY, f"phones{number}", Role.MEMBER_SYSTEM, bank)
        with platform.unit_of_work() as uow:
            new_phone = MobilePhone(f"1390000{number:04d}")
            bind_phone(uow, system, many_account, new_phone, registry, keyring)
            many = current_binding(uow.session, bank, many_party)
            assert many is not None
            planted[bank] = PlantedPhones(recycled, recycled_account, many.id, many_account)
    return planted
