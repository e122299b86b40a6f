"""The hard controls of a batch (`OnlineControls.check_many`): the controls' compiled pass
(`kernel.control_pass`, the one replay runs) carried on from the online ledger, leaving it as
`check` and `settle` of one transaction after another would.

The batch's accounts get dense codes, in the order they first appear; what the pass reads of
each (class, status, bound account, holder's punishment listings, restrictions) and of each
transaction (its risk list entries, by role) is gathered from the control book for those
codes only, and the accounts' ledger entries (rows of the ledger's matrix, `controls.ledger`)
are gathered into one matrix (an account without one starts from its opening balance, as
`OnlineControls` starts it). The pass then checks and books the transactions in order; it
also keeps the payer's and the payee's rows before each one, and marks each account the
online form would have made an entry of (it reads or books it: an account whose transactions
were all blocked may have none). Last, the rows are written back over the accounts' entries,
and the marked accounts without one get theirs.

The pass gives each transaction a mask of the controls that applied; most have none, and
their hits are the empty list. One with some has its hits made by `OnlineControls.hits`
itself, over the ledger rows as they were before it, so that their reasons and figures are
the online ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import TYPE_CHECKING, Final, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls.bulk import (
    STATUSES,
    control_table,
    entry_row,
    interval_rows,
    intervals,
    restriction_row,
)
from fundwall.engine.controls.kernel import PAYEE, PAYER, Rows, control_pass
from fundwall.engine.controls.model import (
    FREE_BALANCE,
    LEDGER_COLUMNS,
    OUTFLOW_CAP,
    PUNISHMENT,
    Hit,
)
from fundwall.engine.features.flags import non_counter_column
from fundwall.engine.features.inputs import TransactionLike

if TYPE_CHECKING:
    from fundwall.engine.controls.online import OnlineControls

I64 = npt.NDArray[np.int64]

_STATUS_CODE: Final = {status: STATUSES.index(status) for status in AccountStatus}
_LIST_KEYS: Final = 8
"""Rows of the risk list's keys a transaction is looked up by (`bulk._KEYS`): payer,
payee, device, IP, then the payer's and the payee's holder, each in two rows (identity,
phone), of which this form fills the first with all the holder's keys (one control)."""
_ROLE_ROWS: Final = (0, 1, 2, 3, 4, 6)
"""The row of each `ListRole`, in its order (`ControlBook.listed_at`)."""


def check_batch(
    controls: OnlineControls,
    txs: Sequence[TransactionLike],
    times: Sequence[int],
    orders_at: Sequence[int],
    actions: Sequence[int],
) -> list[list[Hit]]:
    """See `OnlineControls.check_many`."""
    n = len(txs)
    if n == 0:
        return []
    book = controls.book
    payers = [tx.payer_account for tx in txs]
    payees = [tx.payee_account for tx in txs]
    seen = dict.fromkeys(chain.from_iterable(zip(payers, payees, strict=True)))
    seen.pop(None, None)
    names = cast(list[str], list(seen))  # None popped
    code: dict[str | None, int] = dict(zip(names, range(len(names)), strict=True))
    payer = np.fromiter(map(code.get, payers, repeat(-1)), np.int32, n)
    payee = np.fromiter(map(code.get, payees, repeat(-1)), np.int32, n)
    klass = controls.classes(names)
    statuses = book.statuses
    status = np.fromiter(
        map(_STATUS_CODE.__getitem__, map(statuses.get, names, repeat(AccountStatus.NORMAL))),
        np.int64,
        len(names),
    )
    bound = np.fromiter(map(code.get, map(book.bound.get, names), repeat(-1)), np.int64, len(names))
    rows = controls._ledger.rows_of(names)
    fresh = np.flatnonzero(rows < 0)
    ledger = controls._ledger.read(rows)
    for i in fresh.tolist():
        ledger[i] = controls.new_entry(names[i])
    # The channel's rule as the columnar form reads it (`flags`): a transaction naming none is
    # not a non-counter one.
    channels = pa.array([tx.channel for tx in txs], pa.string())
    non_counter = non_counter_column(channels).fill_null(False).to_numpy(zero_copy_only=False)
    table = control_table()
    amounts, amount_rows = controls.amount_table
    id_hash, punished = _punished(controls, names)
    list_keys, lists = _risk_list(controls, txs)
    mask = np.zeros(n, dtype=np.int64)
    forced = np.zeros(n, dtype=np.uint8)
    final = np.zeros(n, dtype=np.uint8)
    before = np.zeros((n, 2, LEDGER_COLUMNS), dtype=np.int64)
    touched = np.zeros(len(names), dtype=np.uint8)
    ts = np.fromiter(times, np.int64, n)
    control_pass(
        0, n, ts, np.fromiter(orders_at, np.int64, n),
        np.fromiter((tx.amount_fen for tx in txs), np.int64, n), payer, payee, payer, payee,
        non_counter, klass, status, bound, id_hash,
        table.by_status, table.by_kind, FREE_BALANCE, PUNISHMENT, OUTFLOW_CAP, amounts,
        amount_rows, table.severity_of, table.non_counter_only, _restrictions(controls, names),
        punished, table.keys, list_keys, *lists, ledger,
        np.fromiter(actions, np.uint8, n), mask, forced, final, before, touched,
    )  # fmt: skip
    # Back into the ledger; an account without an entry gets one only where the online form
    # would have made it.
    known = rows >= 0
    controls._ledger.write(rows[known], ledger[known])
    made = fresh[touched[fresh] != 0]
    controls._ledger.extend([names[i] for i in made.tolist()], ledger[made])
    hits: list[list[Hit]] = [[] for _ in range(n)]
    for i in np.flatnonzero(mask).tolist():
        tx = txs[i]
        kept = before[i].tolist()
        as_before = {tx.payer_account: kept[PAYER], tx.payee_account: kept[PAYEE]}
        hits[i] = controls.hits(tx, times[i], orders_at[i], as_before.__getitem__)
    return hits


def _restrictions(controls: OnlineControls, names: list[str]) -> Rows:
    """The restrictions of the batch's accounts, by code (most have none)."""
    by_account = controls.book.restrictions
    codes: list[int] = []
    rows: list[tuple[int, int, int, int]] = []
    if by_account:
        for c, found in enumerate(map(by_account.get, names)):
            for r in found.values() if found else ():
                codes.append(c)
                rows.append(restriction_row(r))
    return interval_rows(intervals(len(names), codes, rows))


def _punished(controls: OnlineControls, names: list[str]) -> tuple[I64, Rows]:
    """Per account code, the code of its holder's punishment listings (-1: none), and those
    listings."""
    book = controls.book
    id_hash = np.full(len(names), -1, dtype=np.int64)
    codes: list[int] = []
    rows: list[tuple[int, int, int, int]] = []
    if book.punished:
        party_keys, punished = book.party_keys, book.punished
        holders = 0
        for c, keys in enumerate(map(party_keys.get, names)):
            listings = punished.get(keys.id_hash) if keys and keys.id_hash else None
            if listings:
                id_hash[c] = holders
                for listing in listings.values():
                    codes.append(holders)
                    rows.append((listing.start_us, listing.end_us, 0, 0))
                holders += 1
    return id_hash, interval_rows(intervals(int(id_hash.max(initial=-1)) + 1, codes, rows))


def _risk_list(controls: OnlineControls, txs: Sequence[TransactionLike]) -> tuple[I64, Rows]:
    """Per transaction, a code for each role of `_LIST_KEYS` at which the risk list has
    entries (-1: none), and those entries by code; no rows at all when the list is empty."""
    book = controls.book
    if not book.listed:
        return np.zeros((0, len(txs)), dtype=np.int64), interval_rows(intervals(0, [], []))
    keys = np.full((_LIST_KEYS, len(txs)), -1, dtype=np.int64)
    codes: list[int] = []
    rows: list[tuple[int, int, int, int]] = []
    count = 0
    for i, tx in enumerate(txs):
        for k, found in zip(_ROLE_ROWS, book.listed_at(tx), strict=True):
            if found:
                keys[k, i] = count
                codes.extend(repeat(count, len(found)))
                rows.extend(map(entry_row, found))
                count += 1
    return keys, interval_rows(intervals(count, codes, rows))


def warm_up() -> None:
    """Compile the pass (or load it from numba's cache) on one transaction over an empty
    book, so that a server's first batch does not wait for it."""
    from fundwall.config import PolicySettings
    from fundwall.engine.controls.book import ControlBook
    from fundwall.engine.controls.online import OnlineControls
    from fundwall.engine.features.directory import AccountDirectory
    from fundwall.engine.features.inputs import TxEvent

    controls = OnlineControls(ControlBook(), AccountDirectory.empty(), PolicySettings())
    when = datetime(2024, 1, 1, tzinfo=UTC)
    event = TxEvent("warm-up", when, "transfer", "a", "b", None, None, 1, "mobile")
    check_batch(controls, [event], [0], [0], [0])
