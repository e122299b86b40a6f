"""Whose transaction it is (交易归属): the one member that submits it, decides it and works
its alert.

A member answers for its own customers' accounts: it submits the transfers and withdrawals
they pay and the cash they deposit. So a transaction belongs to the payer's bank, except a
deposit, which has no payer and belongs to the payee's bank. `OWNING_SIDE` says so once, kind
by kind; `owner_of` reads it for one transaction, and the store's queries build their SQL from
the same table (`fundwall.auth.tenancy.owner_bank`), so admission, visibility and every
aggregate give one answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from fundwall.domain.transactions import TransactionKind


class Side(StrEnum):
    PAYER = "payer"
    PAYEE = "payee"


OWNING_SIDE: Final[Mapping[TransactionKind, Side]] = MappingProxyType(
    {
        TransactionKind.TRANSFER: Side.PAYER,
        TransactionKind.WITHDRAWAL: Side.PAYER,
        TransactionKind.DEPOSIT: Side.PAYEE,
    }
)
"""Which side's bank owns a transaction of each kind."""


def owner_of(
    kind: TransactionKind | str, payer_bank: str | None, payee_bank: str | None
) -> str | None:
    """The member a transaction belongs to: the payer's bank, the payee's for a deposit."""
    side = OWNING_SIDE[TransactionKind(kind)]
    return payer_bank if side is Side.PAYER else payee_bank
