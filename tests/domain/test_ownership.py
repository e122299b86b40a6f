"""Whose transaction it is: the payer's bank, the payee's for a deposit."""

from __future__ import annotations

import pytest

from fundwall.domain.ownership import OWNING_SIDE, Side, owner_of
from fundwall.domain.transactions import TransactionKind


@pytest.mark.parametrize(
    ("kind", "owner"),
    [
        (TransactionKind.TRANSFER, "PAYER"),
        (TransactionKind.WITHDRAWAL, "PAYER"),
        (TransactionKind.DEPOSIT, "PAYEE"),
        ("deposit", "PAYEE"),
        ("transfer", "PAYER"),
    ],
)
def test_a_transaction_belongs_to_the_payers_bank_a_deposit_to_the_payees(
    kind: TransactionKind | str, owner: str
) -> None:
    assert owner_of(kind, "PAYER", "PAYEE") == owner


def test_a_deposit_without_a_payer_still_has_its_owner() -> None:
    assert owner_of(TransactionKind.DEPOSIT, None, "B001") == "B001"
    assert owner_of(TransactionKind.WITHDRAWAL, "B001", None) == "B001"


def test_every_kind_has_an_owning_side() -> None:
    assert set(OWNING_SIDE) == set(TransactionKind)
    assert {side for kind, side in OWNING_SIDE.items() if kind.has_payer} == {Side.PAYER}


def test_an_unknown_kind_has_no_owner() -> None:
    with pytest.raises(ValueError):
        owner_of("gift", "B001", "B002")
