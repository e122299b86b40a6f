"""The portal's identity check on SQLite and PostgreSQL: a code goes to the phones bound to
the person's accounts and signs them in once; an unknown ID sends nothing and answers the
same; wrong entries spend a code; an expired or replaced code signs nobody in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from auth import world
from fundwall.appeals.identity import request_code, verify_code
from fundwall.clock import FixedClock
from fundwall.config import PortalSettings, get_settings
from fundwall.crypto import Keyring
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import MobilePhone
from fundwall.outreach.gateway import LocalGateway
from fundwall.outreach.outbox import delivered_to, dispatch_outbox
from fundwall.phones.queries import bind

from .conftest import Uow, person_of

CONFIG = PortalSettings()
PHONE = "13912340001"
STRANGER = "11010519491231002X"


@pytest.fixture
def bound(stocked: Uow, keyring: Keyring) -> Uow:
    """The world, with bank B001 having bound PHONE to A1's holder (P1)."""
    with stocked() as uow:
        bind(uow.session, keyring, member=world.BANK_A, party_id="P1", phone=MobilePhone(PHONE),
             at=uow.clock.now(), by="system:test", revision=None)  # fmt: skip
        uow.commit()
    return stocked


def _code(uow_factory: Uow) -> str:
    with uow_factory() as uow:
        dispatch_outbox(uow, LocalGateway())
        text = delivered_to(uow, PHONE)[-1].text
    found = re.search(r"\d{6}", text)
    assert found is not None
    return found.group()


def test_a_code_sent_to_the_bound_phone_signs_its_person_in_once(
    bound: Uow, keyring: Keyring
) -> None:
    ann = world.person(1).id_number
    with bound() as uow:
        assert request_code(uow, ann, CONFIG) is None
    code = _code(bound)
    with bound() as uow:
        assert verify_code(uow, world.person(2).id_number, code, CONFIG) is None
        assert verify_code(uow, ann, code, CONFIG) == person_of(keyring, 1)
        assert verify_code(uow, ann, code, CONFIG) is None  # used once


def test_an_unknown_id_sends_nothing_and_is_answered_alike(bound: Uow) -> None:
    with bound() as uow:
        assert request_code(uow, STRANGER, CONFIG) is None
        assert request_code(uow, world.person(2).id_number, CONFIG) is None  # no phone bound
        dispatch_outbox(uow, LocalGateway())
        assert verify_code(uow, STRANGER, "123456", CONFIG) is None
        with pytest.raises(InvalidInput, match="id_number"):
            request_code(uow, "110105194912310021", CONFIG)
        actions = [record.action for record in uow.audit.tail(3)]
    assert "portal_code" not in actions


def test_wrong_entries_spend_a_code_and_time_and_a_new_code_end_it(
    bound: Uow, clock: FixedClock
) -> None:
    ann = world.person(1).id_number
    with bound() as uow:
        request_code(uow, ann, CONFIG)
    code = _code(bound)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with bound() as uow:
        for _ in range(CONFIG.code_attempts):
            assert verify_code(uow, ann, wrong, CONFIG) is None
        assert verify_code(uow, ann, code, CONFIG) is None  # spent by the wrong guesses
        request_code(uow, ann, CONFIG)
    first = _code(bound)
    with bound() as uow:
        request_code(uow, ann, CONFIG)
    second = _code(bound)
    clock.advance(timedelta(minutes=CONFIG.code_minutes))
    with bound() as uow:
        assert verify_code(uow, ann, second, CONFIG) is None  # expired
        assert verify_code(uow, ann, first, CONFIG) is None  # replaced


def test_a_request_held_back_by_the_phones_limit_leaves_the_persons_code_good(
    bound: Uow,
) -> None:
    """Anyone may type a person's ID: once the phone has had its codes for the hour, more
    requests send nothing and do not end the code the person is about to type."""
    ann = world.person(1).id_number
    with bound() as uow:
        for _ in range(get_settings().outreach.phone_per_hour):
            request_code(uow, ann, CONFIG)
    code = _code(bound)
    with bound() as uow:
        request_code(uow, ann, CONFIG)  # a stranger's, past the phone's limit
        assert verify_code(uow, ann, code, CONFIG) == person_of(uow.keyring, 1)
