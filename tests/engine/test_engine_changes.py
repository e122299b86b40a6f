"""The engine's reading of the control changes on SQLite and PostgreSQL: the store's
accounts and parties fill a control book, and list keys are held to what the book matches.
The changes themselves are the workflows' use cases (tests/accounts, tests/sharing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_store import id_number, phone, seed
from sqlalchemy import Engine

from fundwall.crypto import Keyring, SharingKeys
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls import ListKind, PartyHasher, PartyKeys
from fundwall.engine.controls.changes import list_key, load_book
from fundwall.store import UnitOfWork


def test_load_book_reads_statuses_bound_accounts_and_holders_hashes(
    database: Engine, keyring: Keyring, tmp_path: Path
) -> None:
    hashes = seed(database, keyring)
    for version in (1, 2):
        SharingKeys.create(tmp_path / "share-keys", version)
    sharing = SharingKeys.load(tmp_path / "share-keys", (1, 2))
    with UnitOfWork(database) as uow:
        loaded = load_book(uow.session, PartyHasher(keyring, sharing))
        unshared = load_book(uow.session)
    assert loaded.statuses == {}
    assert loaded.bound == {"C2": "A1", "C3": "B1"}
    # The punishment list's server hash, and the holder under every sharing key version.
    assert loaded.party_keys["B1"] == PartyKeys(
        hashes["P2"][0],
        (
            (ListKind.ID_HASH, sharing.hash("id", id_number("P2"), 1)),
            (ListKind.ID_HASH, sharing.hash("id", id_number("P2"), 2)),
            (ListKind.PHONE_HASH, sharing.hash("phone", phone("P2"), 1)),
            (ListKind.PHONE_HASH, sharing.hash("phone", phone("P2"), 2)),
        ),
    )
    assert unshared.party_keys["B1"] == PartyKeys(hashes["P2"][0])


def test_list_keys_take_the_form_the_book_matches() -> None:
    assert list_key(ListKind.IP, "2001:DB8::0:1") == "2001:db8::1"
    assert list_key(ListKind.ACCOUNT, "6222021234567890123") == "6222021234567890123"
    assert list_key(ListKind.PHONE_HASH, "v2:" + "a" * 64) == "v2:" + "a" * 64
    for bare in ("a" * 64, "v1:" + "A" * 64, "v0:" + "a" * 64, "v1:" + "a" * 63):
        with pytest.raises(InvalidInput, match="shared hash is written vN"):
            list_key(ListKind.PHONE_HASH, bare)
    with pytest.raises(InvalidInput, match="1 to 64"):
        list_key(ListKind.MERCHANT, "has space")
