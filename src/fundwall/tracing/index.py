"""The transfer index a trace walks: every account's money movements in time order, with the
balance before each, built once and extended as transactions arrive.

Columns hold one entry per movement that moved money (transfers, withdrawals, deposits; a
blocked transaction moved none and is not added), compactly (`fundwall.tracing.columns`):
numpy arrays for times, amounts and account positions, Arrow arrays for the transaction ids
and payee banks; a payee's account number is the directory's own unless it is outside the
region, and only those are kept. Each account's movements are a slice of a sorted base
(compressed rows: `_offsets`, `_events`, with each event's time in `_event_ts` and a running
sum of the balance changes in `_sums`), built in one vectorised sort, plus a short tail of
what arrived since (`_tail`), so adding a batch never re-sorts the base and a trace never
rebuilds anything. Finding a moment in an account's movements is a binary search of its
slice; its balance then is its opening balance, the running sum up to there and the tail's
few movements before it. `rebuild()` folds the tail into the base when it grows.

    index = TransferIndex.of(directory, columns)             # once
    index.extend(new_columns)                                # as transactions arrive
    for event in index.events_after(account, moment, seq):   # what a trace reads
        ...
"""

from __future__ import annotations

import bisect
import heapq
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.tracing.columns import (
    IntColumn,
    Names,
    StringColumn,
    TextColumn,
    as_ints,
    as_strings,
)

I64 = npt.NDArray[np.int64]
NO_ACCOUNT: Final = -1
TAIL_FOLD: Final = 200_000
"""Movements kept in the tail before `extend` folds them into the sorted base (or a sixteenth
of the base, when that is more: a fold re-sorts everything)."""
BULK_LOOKUP: Final = 10_000
"""Batches at least this long find their accounts with one hash lookup over the directory."""
_READ_AHEAD: Final = 256
"""Base events turned into Python values at a time as `events_after` is read."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

Texts: TypeAlias = Sequence[str | None] | pa.Array | pa.ChunkedArray
Numbers: TypeAlias = Sequence[int] | npt.NDArray[np.integer] | pa.Array | pa.ChunkedArray


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch, the index's clock."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement of money: `payer`/`payee` are account positions in the index, or
    `NO_ACCOUNT` (cash, or an account the directory does not hold)."""

    seq: int
    tx_id: str
    ts_us: int
    payer: int
    payee: int
    payee_account: str | None
    payee_bank: str | None
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Columns:
    """Movements to add, column by column (the payer's or payee's account number is None for
    cash; a number the directory does not hold counts as outside). Python sequences, numpy
    or Arrow arrays."""

    tx_id: Texts
    ts_us: Numbers
    payer_account: Texts
    payee_account: Texts
    payee_bank: Texts
    amount_fen: Numbers

    def __len__(self) -> int:
        return len(self.tx_id)


@dataclass(frozen=True, slots=True)
class Directory:
    """The accounts the region's banks hold: number, bank, balance at the index's start."""

    account_no: Sequence[str] | pa.Array | pa.ChunkedArray
    bank: Sequence[str] | pa.Array | pa.ChunkedArray
    opening_fen: Sequence[int] | npt.NDArray[np.integer]


class _Tail:
    """An account's movements since the last fold: (time, arrival) keys in order, and what
    each changed the account's balance by."""

    __slots__ = ("deltas", "keys")

    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []
        self.deltas: list[int] = []

    def add(self, key: tuple[int, int], delta: int) -> None:
        at = bisect.bisect_right(self.keys, key)
        self.keys.insert(at, key)
        self.deltas.insert(at, delta)

    def sum_before(self, key: tuple[int, int]) -> int:
        return sum(self.deltas[: bisect.bisect_left(self.keys, key)])


class PayeeAccounts(TextColumn):
    """The payee's account number of each movement: the directory's number of the payee, or
    the number kept for a payee outside the region (None for cash)."""

    def __init__(self, index: TransferIndex) -> None:
        self._index = index
        self.outside: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._index)

    def entry(self, at: int) -> str | None:
        payee = self._index.payee[at]
        return self._index.account_no[payee] if payee != NO_ACCOUNT else self.outside.get(at)


class TransferIndex:
    """Accounts and their movements in time order; see the module's docstring."""

    def __init__(self, directory: Directory) -> None:
        self.account_no = Names(directory.account_no)
        self.bank = Names(directory.bank)
        self.opening_fen: I64 = np.asarray(directory.opening_fen, dtype=np.int64)
        # Only strings and ints: a dict the garbage collector does not track.
        numbers = self.account_no.to_list()
        self.position: dict[str, int] = dict(zip(numbers, range(len(numbers)), strict=True))
        self.tx_id = StringColumn()
        self.ts_us = IntColumn(np.int64)
        self.payer = IntColumn(np.int32)
        self.payee = IntColumn(np.int32)
        self.amount_fen = IntColumn(np.int64)
        self.payee_bank = StringColumn()
        self.payee_account = PayeeAccounts(self)
        self._offsets: I64 = np.zeros(len(self.account_no) + 1, dtype=np.int64)
        self._events: I64 = np.zeros(0, dtype=np.int64)
        self._event_ts: I64 = np.zeros(0, dtype=np.int64)
        self._sums: I64 = np.zeros(1, dtype=np.int64)
        self._tail: dict[int, _Tail] = {}
        self._tail_size = 0

    @classmethod
    def of(cls, directory: Directory, movements: Columns | None = None) -> TransferIndex:
        """An index over `directory`'s accounts holding `movements`."""
        index = cls(directory)
        if movements is not None:
            index._append(movements)
            index.rebuild()
        return index

    def __len__(self) -> int:
        return len(self.ts_us)

    @property
    def accounts(self) -> int:
        return len(self.account_no)

    def memory_bytes(self) -> int:
        """What the index holds in memory: its arrays and tail, and the dict of positions."""
        arrays = [self._offsets, self._events, self._event_ts, self._sums, self.opening_fen]
        columns = (self.ts_us, self.payer, self.payee, self.amount_fen)
        held = sum(a.nbytes for a in arrays) + sum(c.capacity_bytes for c in columns)
        held += self.tx_id.nbytes + self.payee_bank.nbytes
        held += int(self.account_no.arrow.nbytes) + int(self.bank.arrow.nbytes)
        held += sys.getsizeof(self.position) + sum(map(sys.getsizeof, self.position))
        held += 32 * len(self.position)  # its int values
        tails = sum(sys.getsizeof(t.keys) + sys.getsizeof(t.deltas) for t in self._tail.values())
        return held + tails + 150 * self._tail_size  # a key tuple, its ints, a delta

    def extend(self, movements: Columns) -> None:
        """Add movements that arrived; each account's tail stays in time order."""
        start = len(self)
        self._append(movements)
        new = zip(
            self.ts_us[start:].tolist(),
            self.payer[start:].tolist(),
            self.payee[start:].tolist(),
            self.amount_fen[start:].tolist(),
            strict=True,
        )
        for seq, (ts, payer, payee, amount) in enumerate(new, start):
            for account in (payer, payee):
                if account != NO_ACCOUNT:
                    delta = (amount if payee == account else 0) - (
                        amount if payer == account else 0
                    )
                    self._tail.setdefault(account, _Tail()).add((ts, seq), delta)
                    self._tail_size += 1
        if self._tail_size > max(TAIL_FOLD, len(self._events) // 16):
            self.rebuild()

    def rebuild(self) -> None:
        """Sort every movement into the base, by account, time and arrival (one sort)."""
        count = len(self)
        payer, payee = self.payer.values, self.payee.values
        ts, amount = self.ts_us.values, self.amount_fen.values
        seqs = np.arange(count, dtype=np.int64)
        owner = np.concatenate([payer, payee])
        both = np.concatenate([seqs, seqs])
        keep = owner != NO_ACCOUNT
        owner, both = owner[keep], both[keep]
        # Each movement's rank in (time, arrival) order makes (account, time, arrival) one key.
        if np.all(ts[1:] >= ts[:-1]):
            rank = seqs  # arrived in time order, as a region's file is
        else:
            rank = np.empty(count, dtype=np.int64)
            rank[np.argsort(ts, kind="stable")] = seqs
        order = np.argsort(owner.astype(np.int64) * max(count, 1) + rank[both])
        del rank
        self._events = both[order]
        owner = owner[order]
        del both, order
        moved = amount[self._events]
        delta = np.where(payee[self._events] == owner, moved, 0) - np.where(
            payer[self._events] == owner, moved, 0
        )
        self._sums = np.concatenate([[0], np.cumsum(delta)]).astype(np.int64)
        self._event_ts = ts[self._events]
        counts = np.bincount(owner, minlength=self.accounts)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.tx_id.join()
        self.payee_bank.join()
        self._tail, self._tail_size = {}, 0

    def events(self, account: int) -> list[int]:
        """The movements of `account` in time order (arrival order within the same moment)."""
        return list(self._after(account, None))

    def events_after(self, account: int, ts_us: int, seq: int) -> Iterator[int]:
        """The movements of `account` after the one at (`ts_us`, `seq`), in order, read
        lazily (a busy account's later movements are not all read at once)."""
        return self._after(account, (ts_us, seq))

    def balance_before(self, account: int, ts_us: int, seq: int) -> int:
        """What `account` held just before the movement at (`ts_us`, `seq`): its opening
        balance and every movement before it."""
        at = self._base_start(account, ts_us, seq)
        balance = int(self.opening_fen[account])
        balance += int(self._sums[at] - self._sums[self._offsets[account]])
        tail = self._tail.get(account)
        return balance + tail.sum_before((ts_us, seq)) if tail else balance

    def movement_count(self, account: int) -> int:
        tail = self._tail.get(account)
        base = int(self._offsets[account + 1] - self._offsets[account])
        return base + (len(tail.keys) if tail else 0)

    def span(
        self,
        account: int,
        after: tuple[int, int],
        before: tuple[int, int],
        limit: int | None = None,
    ) -> I64:
        """The movements of `account` after the key `after` and before `before` ((time,
        arrival) keys), in order, each once (a payment to itself is two of its movements), at
        most `limit` of them: a numpy array, for a walk that passes over many at once."""
        start = self._base_start(account, after[0], after[1] + 1)
        end = self._base_start(account, *before)
        if limit is not None:
            end = min(end, start + limit)
        seqs = self._events[start:end]
        tail = self._tail.get(account)
        keys = tail.keys[bisect.bisect_right(tail.keys, after) :] if tail else []
        keys = keys[: bisect.bisect_left(keys, before)]
        if keys:
            times = np.concatenate([self._event_ts[start:end], [ts for ts, _ in keys]])
            seqs = np.concatenate([seqs, [seq for _, seq in keys]])
            seqs = seqs[np.lexsort((seqs, times))][:limit]
        if len(seqs) > 1:
            seqs = seqs[np.concatenate([[True], seqs[1:] != seqs[:-1]])]
        return seqs

    def movement(self, seq: int) -> Movement:
        return Movement(
            seq,
            self.tx_id[seq] or "",
            self.ts_us[seq],
            self.payer[seq],
            self.payee[seq],
            self.payee_account[seq],
            self.payee_bank[seq],
            self.amount_fen[seq],
        )

    def find(self, tx_id: str) -> int | None:
        """The position of a movement by its transaction id (a vectorised scan)."""
        return self.tx_id.find(tx_id)

    def find_paid_into(self, account: int, tx_id: str) -> int | None:
        """The movement `tx_id` if it paid into `account` (a scan of that account's
        movements alone)."""
        lo, hi = self._offsets[account], self._offsets[account + 1]
        mine = self._events[lo:hi]
        tail = self._tail.get(account)
        if tail:
            mine = np.concatenate([mine, np.array([seq for _, seq in tail.keys], np.int64)])
        seq = self.tx_id.find_among(tx_id, mine)
        return seq if seq is not None and self.payee[seq] == account else None

    def _after(self, account: int, key: tuple[int, int] | None) -> Iterator[int]:
        """The movements of `account` after `key` (all of them for None), base and tail
        merged in (time, arrival) order."""
        if key is None:
            start = int(self._offsets[account])
        else:
            start = self._base_start(account, key[0], key[1] + 1)
        base = self._base_run(start, int(self._offsets[account + 1]))
        tail = self._tail.get(account)
        if not tail:
            return (seq for _, seq in base)
        later = tail.keys if key is None else tail.keys[bisect.bisect_right(tail.keys, key) :]
        return (seq for _, seq in heapq.merge(base, later))

    def _base_run(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        while start < end:
            stop = min(start + _READ_AHEAD, end)
            yield from zip(
                self._event_ts[start:stop].tolist(), self._events[start:stop].tolist(), strict=True
            )
            start = stop

    def _base_start(self, account: int, ts_us: int, seq: int) -> int:
        """Where in the base the movements of `account` at or after (`ts_us`, `seq`) begin:
        a binary search of its slice by time, then by arrival among those at `ts_us`."""
        lo, hi = int(self._offsets[account]), int(self._offsets[account + 1])
        times = self._event_ts[lo:hi]
        first = lo + int(np.searchsorted(times, ts_us, "left"))
        last = lo + int(np.searchsorted(times, ts_us, "right"))
        if first < last:
            first += int(np.searchsorted(self._events[first:last], seq, "left"))
        return first

    def _append(self, movements: Columns) -> None:
        start = len(self)
        payee_numbers = as_strings(movements.payee_account)
        payee = self._positions(payee_numbers)
        self.tx_id.append(movements.tx_id)
        self.ts_us.append(as_ints(movements.ts_us))
        self.payer.append(self._positions(as_strings(movements.payer_account)))
        self.payee.append(payee)
        self.payee_bank.append(movements.payee_bank)
        self.amount_fen.append(as_ints(movements.amount_fen))
        numbered = payee_numbers.is_valid().to_numpy(zero_copy_only=False)
        outside = np.flatnonzero((payee == NO_ACCOUNT) & numbered)
        kept = payee_numbers.take(outside).to_pylist()
        self.payee_account.outside.update(zip((outside + start).tolist(), kept, strict=True))

    def _positions(self, numbers: pa.Array) -> npt.NDArray[np.int32]:
        """Each account number's position in the directory, or `NO_ACCOUNT` (none, empty,
        or not held)."""
        if len(numbers) < BULK_LOOKUP:
            position = self.position
            return np.array(
                [position.get(n, NO_ACCOUNT) if n else NO_ACCOUNT for n in numbers.to_pylist()],
                dtype=np.int32,
            )
        found = pc.index_in(numbers, value_set=self.account_no.arrow)
        positions = np.array(pc.fill_null(found, NO_ACCOUNT).to_numpy(), dtype=np.int32)
        positions[pc.fill_null(pc.equal(numbers, ""), False).to_numpy(zero_copy_only=False)] = (
            NO_ACCOUNT
        )
        return positions
