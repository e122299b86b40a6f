"""Yes/no facts read straight off a transaction, each rule written once for one transaction
and once for a column of transactions.

`is_non_counter` is also the rule of the hard controls that only apply outside a counter
(非柜面: a suspension of non-counter business, the punishment list): a transaction that names
no channel is not a non-counter one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.transactions import Channel, TransactionKind
from fundwall.domain.transactions import is_non_counter as non_counter_channel
from fundwall.engine.features.catalog import Fact
from fundwall.engine.features.inputs import TransactionLike

COUNTER: Final = Channel.COUNTER.value
ATM: Final = Channel.ATM.value
WITHDRAWAL: Final = TransactionKind.WITHDRAWAL.value


def is_non_counter(tx: TransactionLike) -> bool:
    """非柜面 (`fundwall.domain.transactions.is_non_counter` of its channel)."""
    return non_counter_channel(tx.channel)


def non_counter_column(channel: pa.Array) -> pa.Array:
    """`is_non_counter` of each value of a channel column (null where the channel is)."""
    return pc.not_equal(channel, COUNTER)


def _cross_bank(tx: TransactionLike) -> bool:
    payer, payee = tx.payer_bank, tx.payee_bank
    return payer is not None and payee is not None and payer != payee


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag fact: its rule for one transaction, and for columns of a table (a null result
    counts as no)."""

    fact: Fact
    of: Callable[[TransactionLike], bool]
    column: Callable[[Callable[[str], pa.Array]], pa.Array]
    """Given the table's string column by name."""


FLAGS: Final = (
    Flag(
        Fact.CROSS_BANK,
        _cross_bank,
        lambda column: pc.not_equal(column("payer_bank"), column("payee_bank")),
    ),
    Flag(Fact.ATM, lambda tx: tx.channel == ATM, lambda column: pc.equal(column("channel"), ATM)),
    Flag(Fact.NON_COUNTER, is_non_counter, lambda column: non_counter_column(column("channel"))),
    Flag(
        Fact.WITHDRAWAL,
        lambda tx: tx.kind == WITHDRAWAL,
        lambda column: pc.equal(column("kind"), WITHDRAWAL),
    ),
)
"""Every flag fact, in the order of the rows of `Encoded.flags`."""

FLAG_ROW: Final = {flag.fact: row for row, flag in enumerate(FLAGS)}
"""The row of `Encoded.flags` that holds each flag."""
