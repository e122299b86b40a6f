"""The phone investigations as a hostile member sees them: its own customers in full (masked),
the rest of the region as counts only; the hub's counts; the shared-list seam.

The world: B001 holds A1 (P1) and A2 (P2); B002 holds B1 (P3), B2 (P4) and here B3 (P1
too). Phone X is bound to P1 and P2 at B001 and to P3 at B002; B001 bound Z to P1 before X;
B002 bound W to P1; B002 bound V to P4, a number P4 gave up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auth import world
from fundwall.auth.actor import Actor
from fundwall.crypto import PHONE_HASH_KIND, Keyring, SharingKeys
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.phones.checks import bind_phone
from fundwall.phones.investigations import (
    many_phones,
    phone_overview,
    recycled_still_bound,
    shared_phones,
)
from fundwall.phones.listing import Finding, listing_draft, publish_finding
from fundwall.phones.local import LocalRegistry
from fundwall.sharing.keys import rotate_sharing_key
from fundwall.sharing.risk_list import query_identifier
from fundwall.store.mapping import account_row
from phones.conftest import (
    ANALYST_A,
    ANALYST_B,
    HUB,
    POLICE,
    SYSTEM_A,
    SYSTEM_B,
    Uow,
    holder,
    other_id,
    register,
)

X = MobilePhone("13900000011")
Z = MobilePhone("13900000022")
W = MobilePhone("13900000033")
V = MobilePhone("13900000044")
GAVE_UP = datetime(2024, 4, 1, tzinfo=UTC)


@pytest.fixture
def region(stocked: Uow, keyring: Keyring, registry: LocalRegistry) -> Uow:
    with stocked() as uow:
        opened = world.START - timedelta(days=10)
        b3 = Account(
            "B3", world.BANK_B, "P1", AccountClass.CLASS_II, AccountStatus.NORMAL,
            RiskTier.LOW, opened, OpeningChannel.MOBILE,
        )  # fmt: skip
        uow.session.add(account_row(b3))
        uow.commit()
        _, p4 = holder(4)
        register(uow, keyring, V, p4, until=GAVE_UP)
        register(uow, keyring, V, other_id(1), since=GAVE_UP + timedelta(days=1))
    for actor, account, phone in (
        (SYSTEM_A, "A1", Z),
        (SYSTEM_A, "A1", X),
        (SYSTEM_A, "A2", X),
        (SYSTEM_B, "B1", X),
        (SYSTEM_B, "B3", W),
        (SYSTEM_B, "B2", V),
    ):
        with stocked() as uow:
            bind_phone(uow, actor, account, phone, registry, keyring)
    return stocked


def _text(rows: object) -> str:
    return repr(rows)


def test_a_shared_phone_shows_own_customers_and_only_counts_of_others(
    region: Uow, keyring: Keyring
) -> None:
    with region() as uow:
        seen_by_a = shared_phones(uow, ANALYST_A, keyring)
        seen_by_b = shared_phones(uow, ANALYST_B, keyring)
    (row,) = seen_by_a
    assert row.phone == str(X)
    assert [(c.party_id, c.accounts) for c in row.customers] == [("P1", ("A1",)), ("P2", ("A2",))]
    assert (row.people, row.other_people, row.other_members) == (3, 1, 1)
    for forbidden in ("P3", "'B1'", "'B3'", "13900000011"):
        assert forbidden not in _text(seen_by_a)
    (row_b,) = seen_by_b
    assert [c.party_id for c in row_b.customers] == ["P3"]
    assert (row_b.people, row_b.other_people, row_b.other_members) == (3, 2, 1)
    assert "'A1'" not in _text(seen_by_b) and "'A2'" not in _text(seen_by_b)


def test_a_person_with_many_phones_counts_other_members_phones_without_showing_them(
    region: Uow, keyring: Keyring
) -> None:
    with region() as uow:
        (row,) = many_phones(uow, ANALYST_A, keyring)
        seen_by_b = many_phones(uow, ANALYST_B, keyring, min_phones=2)
        assert many_phones(uow, ANALYST_A, keyring, min_phones=4) == ()
    assert row.customer.party_id == "P1" and row.customer.accounts == ("A1",)
    assert (row.phones, row.own_phones, row.other_phones, row.other_members) == (3, 2, 1, 1)
    assert "B3" not in _text(row)
    (row_b,) = seen_by_b
    assert row_b.customer.accounts == ("B3",)
    assert (row_b.phones, row_b.own_phones, row_b.other_phones) == (2, 1, 1)


def test_a_recycled_number_still_bound_is_the_binding_members_alone(
    region: Uow, keyring: Keyring
) -> None:
    with region() as uow:
        (row,) = recycled_still_bound(uow, ANALYST_B, keyring)
        assert recycled_still_bound(uow, ANALYST_A, keyring) == ()
        assert recycled_still_bound(uow, ANALYST_B, keyring, days=30) == ()
    assert (row.phone, row.customer.party_id, row.released_at) == (str(V), "P4", GAVE_UP)


def test_the_hub_sees_counts_and_members_cannot(region: Uow, keyring: Keyring) -> None:
    with region() as uow:
        overview = phone_overview(uow, HUB)
        with pytest.raises(PermissionDenied):
            phone_overview(uow, ANALYST_A)
        for view in (shared_phones, many_phones, recycled_still_bound):
            with pytest.raises(PermissionDenied):
                view(uow, HUB, keyring)
            with pytest.raises(PermissionDenied):
                view(uow, POLICE, keyring)
    assert overview.bindings == 5
    assert overview.shared_phones == 1 and overview.people_on_shared_phones == 3
    assert overview.people_with_many_phones == 1
    assert overview.recycled_still_bound == 1
    assert overview.by_member["B002"]["bindings"] == 3
    assert "P1" not in repr(overview)


def test_bad_thresholds_are_refused(region: Uow, keyring: Keyring) -> None:
    with region() as uow, pytest.raises(InvalidInput, match="min_people"):
        shared_phones(uow, ANALYST_A, keyring, min_people=1)


def test_a_finding_becomes_a_shared_list_draft_for_its_member_only(
    region: Uow, keyring: Keyring
) -> None:
    with region() as uow:
        (recycled,) = recycled_still_bound(uow, ANALYST_B, keyring)
        (many,) = many_phones(uow, ANALYST_A, keyring)
        draft = listing_draft(uow, ANALYST_B, Finding.RECYCLED_PHONE, recycled.binding_id, keyring)
        person = listing_draft(uow, ANALYST_A, Finding.MANY_PHONES, many.binding_id, keyring)
        with pytest.raises(NotFound):
            listing_draft(uow, ANALYST_A, Finding.RECYCLED_PHONE, recycled.binding_id, keyring)
        with pytest.raises(NotFound):
            listing_draft(uow, ANALYST_B, Finding.SHARED_PHONE, recycled.binding_id, keyring)
    assert (draft.kind, draft.identifier, draft.evidence) == (
        ListKind.PHONE_HASH,
        V.number,
        Evidence.MEMBER_VERIFIED,
    )
    assert draft.category is RiskCategory.RECYCLED_PHONE and "2024-04-01" in draft.reason
    assert V.number not in repr(draft)
    assert (person.kind, person.identifier) == (ListKind.ID_HASH, world.person(1).id_number)
    assert (person.category, person.evidence) == (
        RiskCategory.CARD_DEALER,
        Evidence.MEMBER_SUSPECTED,
    )


def test_a_finding_is_published_hashed_on_the_members_side_and_only_by_its_member(
    region: Uow, keyring: Keyring, tmp_path: Path
) -> None:
    with region() as uow:
        version = rotate_sharing_key(uow, Actor.operator("test"), tmp_path)
    keys = SharingKeys.load(tmp_path, (version,))
    with region() as uow:
        (recycled,) = recycled_still_bound(uow, ANALYST_B, keyring)
        with pytest.raises(NotFound):
            publish_finding(uow, ANALYST_A, Finding.RECYCLED_PHONE, recycled.binding_id,
                            keyring, keys)  # fmt: skip
        published = publish_finding(
            uow, ANALYST_B, Finding.RECYCLED_PHONE, recycled.binding_id, keyring, keys
        )
        with pytest.raises(Conflict, match=f"entry {published.ids[0]}"):
            publish_finding(uow, ANALYST_B, Finding.RECYCLED_PHONE, recycled.binding_id,
                            keyring, keys)  # fmt: skip
    key = keys.hash(PHONE_HASH_KIND, V.number)
    with region() as uow:
        (seen_by_a,) = query_identifier(uow, ANALYST_A, ListKind.PHONE_HASH, key)
        (own,) = query_identifier(uow, ANALYST_B, ListKind.PHONE_HASH, key)
    assert published.entries == 1 and seen_by_a.id == published.ids[0]
    assert seen_by_a.category is RiskCategory.RECYCLED_PHONE
    assert seen_by_a.note is None and seen_by_a.reporting_member is None
    assert own.note is not None and "2024-04-01" in own.note and V.number not in own.note
