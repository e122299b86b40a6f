"""The engine's reading of the control changes on SQLite and PostgreSQL: the store's
accounts and parties fill a control book, and list keys are held to what the book matches.
The changes themselves are the workflows' use cases (tests/accounts, tests/sharing)."""

from __future__ import annotations

import pytest
from engine_store import seed
from sqlalchemy import Engine

from fundwall.crypto import Keyring
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls import ListKind
from fundwall.engine.controls.changes import list_key, load_book
from fundwall.store import UnitOfWork


def test_load_book_reads_statuses_bound_accounts_and_holders_hashes(
    database: Engine, keyring: Keyring
) -> None:
    hashes = seed(database, keyring)
    with UnitOfWork(database) as uow:
        loaded = load_book(uow.session)
    assert loaded.statuses == {}
    assert loaded.bound == {"C2": "A1", "C3": "B1"}
    assert loaded.party_keys["B1"] == hashes["P2"]


def test_list_keys_take_the_form_the_book_matches() -> None:
    assert list_key(ListKind.IP, "2001:DB8::0:1") == "2001:db8::1"
    assert list_key(ListKind.ACCOUNT, "6222021234567890123") == "6222021234567890123"
    with pytest.raises(InvalidInput, match="keyed hash"):
        list_key(ListKind.PHONE_HASH, "A" * 64)
