"""Phone investigations (手机号排查): one phone bound to several people, one person with many
phones, recently recycled numbers still bound to accounts; and the hub's region-wide counts.

What a member sees: its own customers (their parties, masked names, its accounts, the phone
masked) and, of the rest of the region, counts only ("bound to 2 people at 1 other
institution"), never another member's customer, account or binding. The views read the
current bindings (`phone_bindings` whose `unbound_at` is empty) and, for recycled numbers,
the newest recorded check of each binding, so what they show is what the registry said when
it was last asked (`recheck_bound_phones` asks again). The hub supervisor reads counts of the
whole region (`phone_overview`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import Keyring
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.domain.parties import mask_name
from fundwall.phones.queries import is_customer, latest_checks
from fundwall.phones.registry import PhoneResult
from fundwall.store.phone_tables import PhoneBindingRow, PhoneCheckRow
from fundwall.store.tables import AccountRow, PartyRow
from fundwall.store.uow import UnitOfWork

MAX_ROWS: Final = 500
"""At most this many rows in one view, most striking first; a view is a work list."""
MAX_THRESHOLD: Final = 100
MAX_DAYS: Final = 10 * 366
"""The longest look-back over recycled numbers (a number given up longer ago than that has
almost surely been re-checked since)."""


@dataclass(frozen=True, slots=True)
class Customer:
    """One of the member's own customers in a finding: party, masked name, its accounts at
    the member."""

    party_id: str
    name: str
    accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SharedPhone:
    """A phone bound to several people: the member's customers bound to it, and how many
    other people and institutions it is bound to elsewhere (counts only)."""

    binding_ids: tuple[int, ...]
    phone: str
    customers: tuple[Customer, ...]
    people: int
    """Everyone it is bound to in the region (the member's customers included)."""
    other_people: int
    """People bound to it at other institutions only."""
    other_members: int


@dataclass(frozen=True, slots=True)
class ManyPhones:
    """A customer with many phones: those the member bound to it over time, and how many
    other phones other institutions have bound to it now (counts only)."""

    binding_id: int
    customer: Customer
    phones: int
    """Distinct phones bound to the person in the region now, or by the member ever."""
    own_phones: int
    """Distinct phones the member has bound to the person, the current one and earlier."""
    other_phones: int
    """Phones bound to the person now at other institutions only."""
    other_members: int


@dataclass(frozen=True, slots=True)
class RecycledBound:
    """A number the customer gave up (the registry said so at the last check) that is still
    the phone the member has bound to it."""

    binding_id: int
    phone: str
    customer: Customer
    bound_at: datetime | None
    released_at: datetime | None
    checked_at: datetime
    answered_by: str
    other_members: int
    """Other institutions where the number is bound now (to anyone)."""


@dataclass(frozen=True, slots=True)
class PhoneOverview:
    """Region-wide counts for the hub (no customer, no phone)."""

    bindings: int
    checks_by_result: dict[str, int]
    """The newest check of each current binding, by result ("unchecked": none yet)."""
    shared_phones: int
    people_on_shared_phones: int
    people_with_many_phones: int
    recycled_still_bound: int
    by_member: dict[str, dict[str, int]]
    """Per member: current bindings and their newest checks by result."""


def _member(actor: Actor) -> str:
    member = actor.customer_member
    if member is None:
        raise PermissionDenied(
            f"phone investigations are a member's, of its customers ({actor.audit_id})"
        )
    return member


def _threshold(value: int, field: str) -> int:
    if type(value) is not int or not 2 <= value <= MAX_THRESHOLD:
        raise InvalidInput(f"a whole number from 2 to {MAX_THRESHOLD}", field)
    return value


def _current() -> ColumnElement[bool]:
    """The current bindings (not yet replaced by another phone)."""
    return PhoneBindingRow.unbound_at.is_(None)


def _customers(
    session: Session, member: str, party_ids: set[str], keyring: Keyring
) -> dict[str, Customer]:
    """The member's customers among `party_ids`, with masked names and their accounts there."""
    if not party_ids:
        return {}
    accounts: dict[str, list[str]] = defaultdict(list)
    for party_id, number in session.execute(
        select(AccountRow.party_id, AccountRow.account_no)
        .where(AccountRow.institution_code == member, AccountRow.party_id.in_(party_ids))
        .order_by(AccountRow.account_no)
    ):
        accounts[party_id].append(number)
    names = {
        party_id: name_enc
        for party_id, name_enc in session.execute(
            select(PartyRow.party_id, PartyRow.name_enc).where(PartyRow.party_id.in_(accounts))
        )
    }
    return {
        party_id: Customer(party_id, mask_name(keyring.decrypt(names[party_id])), tuple(numbers))
        for party_id, numbers in accounts.items()
    }


def _masked(keyring: Keyring, phone_enc: bytes) -> str:
    return str(MobilePhone(keyring.decrypt(phone_enc)))


@use_case(Permission.VIEW_CUSTOMER_DATA)
def shared_phones(
    uow: UnitOfWork, actor: Actor, keyring: Keyring, *, min_people: int = 2
) -> tuple[SharedPhone, ...]:
    """The phones bound now to the member's customers that are bound now to at least
    `min_people` people in the region (a phone used by several people: a family's, or an
    organiser's given for a batch of accounts), most people first."""
    member = _member(actor)
    min_people = _threshold(min_people, "min_people")
    session = uow.session
    crowded = (
        select(PhoneBindingRow.phone_hash)
        .where(_current())
        .group_by(PhoneBindingRow.phone_hash)
        .having(func.count(distinct(PhoneBindingRow.party_id)) >= min_people)
    )
    own = session.execute(
        select(PhoneBindingRow)
        .where(
            _current(),
            PhoneBindingRow.member == member,
            PhoneBindingRow.party_id.in_(is_customer(member)),
            PhoneBindingRow.phone_hash.in_(crowded),
        )
        .order_by(PhoneBindingRow.id)
    ).scalars()
    by_phone: dict[str, list[PhoneBindingRow]] = defaultdict(list)
    for binding in own:
        by_phone[binding.phone_hash].append(binding)
    everyone: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for phone_hash, at, party_id in session.execute(
        select(PhoneBindingRow.phone_hash, PhoneBindingRow.member, PhoneBindingRow.party_id).where(
            _current(), PhoneBindingRow.phone_hash.in_(list(by_phone))
        )
    ):
        everyone[phone_hash].add((at, party_id))
    customers = _customers(
        session, member, {b.party_id for rows in by_phone.values() for b in rows}, keyring
    )
    found = []
    for phone_hash, bindings in by_phone.items():
        own_people = {b.party_id for b in bindings}
        elsewhere = {(at, p) for at, p in everyone[phone_hash] if at != member}
        found.append(
            SharedPhone(
                binding_ids=tuple(b.id for b in bindings),
                phone=_masked(keyring, bindings[0].phone_enc),
                customers=tuple(customers[p] for p in sorted(own_people)),
                people=len({p for _, p in everyone[phone_hash]}),
                other_people=len({p for _, p in elsewhere} - own_people),
                other_members=len({at for at, _ in elsewhere}),
            )
        )
    found.sort(key=lambda row: (-row.people, row.phone))
    return tuple(found[:MAX_ROWS])


@use_case(Permission.VIEW_CUSTOMER_DATA)
def many_phones(
    uow: UnitOfWork, actor: Actor, keyring: Keyring, *, min_phones: int = 2
) -> tuple[ManyPhones, ...]:
    """The member's customers with at least `min_phones` distinct phones: those the member
    bound to them over time and those other institutions have bound to them now (one
    person, many phones: numbers bought in bulk, or changed again and again), most first."""
    member = _member(actor)
    min_phones = _threshold(min_phones, "min_phones")
    session = uow.session
    current = {
        b.party_id: b
        for b in session.scalars(
            select(PhoneBindingRow).where(
                _current(),
                PhoneBindingRow.member == member,
                PhoneBindingRow.party_id.in_(is_customer(member)),
            )
        )
    }
    phones: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for party_id, at, phone_hash, unbound in session.execute(
        select(
            PhoneBindingRow.party_id,
            PhoneBindingRow.member,
            PhoneBindingRow.phone_hash,
            PhoneBindingRow.unbound_at,
        ).where(PhoneBindingRow.party_id.in_(is_customer(member)))
    ):
        if at == member or unbound is None:
            phones[party_id].add((at, phone_hash))
    striking = {
        party_id: held
        for party_id, held in phones.items()
        if party_id in current and len({h for _, h in held}) >= min_phones
    }
    customers = _customers(session, member, set(striking), keyring)
    found = []
    for party_id, held in striking.items():
        own = {h for at, h in held if at == member}
        elsewhere = {(at, h) for at, h in held if at != member}
        found.append(
            ManyPhones(
                binding_id=current[party_id].id,
                customer=customers[party_id],
                phones=len({h for _, h in held}),
                own_phones=len(own),
                other_phones=len({h for _, h in elsewhere} - own),
                other_members=len({at for at, _ in elsewhere}),
            )
        )
    found.sort(key=lambda row: (-row.phones, row.customer.party_id))
    return tuple(found[:MAX_ROWS])


@use_case(Permission.VIEW_CUSTOMER_DATA)
def recycled_still_bound(
    uow: UnitOfWork, actor: Actor, keyring: Keyring, *, days: int = 365
) -> tuple[RecycledBound, ...]:
    """The phones bound now to the member's customers whose newest check says the customer
    gave the number up within the last `days` (or at a time the registry did not say):
    messages and verification codes for the account reach whoever holds the number now.
    Newest given up first."""
    member = _member(actor)
    if type(days) is not int or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a whole number of days from 1 to {MAX_DAYS}", "days")
    session = uow.session
    since = uow.clock.now() - timedelta(days=days)
    newest = latest_checks().subquery()
    rows = session.execute(
        select(PhoneBindingRow, PhoneCheckRow)
        .join(newest, newest.c.binding_id == PhoneBindingRow.id)
        .join(PhoneCheckRow, PhoneCheckRow.id == newest.c.check_id)
        .where(
            _current(),
            PhoneBindingRow.member == member,
            PhoneBindingRow.party_id.in_(is_customer(member)),
            PhoneCheckRow.result == PhoneResult.RECYCLED.value,
            PhoneCheckRow.released_at.is_(None) | (PhoneCheckRow.released_at >= since),
        )
    )
    found_rows = list(rows)
    elsewhere: dict[str, set[str]] = defaultdict(set)
    for phone_hash, at in session.execute(
        select(PhoneBindingRow.phone_hash, PhoneBindingRow.member).where(
            _current(),
            PhoneBindingRow.member != member,
            PhoneBindingRow.phone_hash.in_({b.phone_hash for b, _ in found_rows}),
        )
    ):
        elsewhere[phone_hash].add(at)
    customers = _customers(session, member, {b.party_id for b, _ in found_rows}, keyring)
    found = [
        RecycledBound(
            binding_id=binding.id,
            phone=_masked(keyring, binding.phone_enc),
            customer=customers[binding.party_id],
            bound_at=binding.bound_at,
            released_at=check.released_at,
            checked_at=check.checked_at,
            answered_by=check.answered_by,
            other_members=len(elsewhere[binding.phone_hash]),
        )
        for binding, check in found_rows
    ]
    oldest = datetime.min.replace(tzinfo=since.tzinfo)
    found.sort(key=lambda row: (row.released_at or oldest, row.binding_id), reverse=True)
    return tuple(found[:MAX_ROWS])


@use_case(Permission.VIEW_REGION)
def phone_overview(uow: UnitOfWork, actor: Actor, *, days: int = 365) -> PhoneOverview:
    """The region's counts for the hub: current bindings and their newest checks by result,
    phones bound to several people, people with several phones, recycled numbers (given up
    within `days`) still bound; per member its bindings and checks. No customer, no phone."""
    if type(days) is not int or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a whole number of days from 1 to {MAX_DAYS}", "days")
    session = uow.session
    since = uow.clock.now() - timedelta(days=days)
    newest = latest_checks().subquery()
    by_member: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    recycled = 0
    for member, result, released_at in session.execute(
        select(PhoneBindingRow.member, PhoneCheckRow.result, PhoneCheckRow.released_at)
        .outerjoin(newest, newest.c.binding_id == PhoneBindingRow.id)
        .outerjoin(PhoneCheckRow, PhoneCheckRow.id == newest.c.check_id)
        .where(_current())
    ):
        key = result or "unchecked"
        by_member[member]["bindings"] += 1
        by_member[member][key] += 1
        totals[key] += 1
        if result == PhoneResult.RECYCLED.value and (released_at is None or released_at >= since):
            recycled += 1
    people = (
        select(func.count(distinct(PhoneBindingRow.party_id)).label("n"))
        .where(_current())
        .group_by(PhoneBindingRow.phone_hash)
        .subquery()
    )
    shared = session.execute(
        select(func.count(), func.coalesce(func.sum(people.c.n), 0)).where(people.c.n >= 2)
    ).one()
    phones = (
        select(func.count(distinct(PhoneBindingRow.phone_hash)).label("n"))
        .where(_current())
        .group_by(PhoneBindingRow.party_id)
        .subquery()
    )
    many = session.scalar(select(func.count()).where(phones.c.n >= 2)) or 0
    return PhoneOverview(
        bindings=sum(row["bindings"] for row in by_member.values()),
        checks_by_result=dict(totals),
        shared_phones=int(shared[0]),
        people_on_shared_phones=int(shared[1]),
        people_with_many_phones=int(many),
        recycled_still_bound=recycled,
        by_member={member: dict(counts) for member, counts in sorted(by_member.items())},
    )
