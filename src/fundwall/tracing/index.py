"""The transfer index a trace walks: every account's money movements in time order, with the
balance before each, built once and extended as transactions arrive.

Columns hold one entry per movement that moved money (transfers, withdrawals, deposits; a
blocked transaction moved none and is not added). Each account's movements are a slice of a
sorted base (compressed rows: `_offsets`, `_events`), built in one vectorised sort, plus a
short tail of what arrived since (`_tail`), so adding a batch never re-sorts the base and a
trace never rebuilds anything. `rebuild()` folds the tail into the base when it grows.

    index = TransferIndex.from_columns(columns, accounts)    # once
    index.extend(new_columns)                                # as transactions arrive
    for event in index.events_after(account, moment, seq):   # what a trace reads
        ...
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
NO_ACCOUNT: Final = -1
TAIL_FOLD: Final = 200_000
"""Movements kept in the tail before `extend` folds them into the sorted base."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


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
    cash; a number the directory does not hold counts as outside)."""

    tx_id: Sequence[str]
    ts_us: Sequence[int]
    payer_account: Sequence[str | None]
    payee_account: Sequence[str | None]
    payee_bank: Sequence[str | None]
    amount_fen: Sequence[int]

    def __len__(self) -> int:
        return len(self.tx_id)


@dataclass(frozen=True, slots=True)
class Directory:
    """The accounts the region's banks hold: number, bank, balance at the index's start."""

    account_no: Sequence[str]
    bank: Sequence[str]
    opening_fen: Sequence[int]


@dataclass
class TransferIndex:
    """Accounts and their movements in time order; see the module's docstring."""

    account_no: list[str]
    bank: list[str]
    opening_fen: I64
    position: dict[str, int]
    tx_id: list[str] = field(default_factory=list)
    ts_us: list[int] = field(default_factory=list)
    payer: list[int] = field(default_factory=list)
    payee: list[int] = field(default_factory=list)
    payee_account: list[str | None] = field(default_factory=list)
    payee_bank: list[str | None] = field(default_factory=list)
    amount_fen: list[int] = field(default_factory=list)
    _offsets: I64 = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    _events: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _tail: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    _tail_size: int = 0

    @classmethod
    def of(cls, directory: Directory, movements: Columns | None = None) -> TransferIndex:
        """An index over `directory`'s accounts holding `movements`."""
        index = cls(
            account_no=list(directory.account_no),
            bank=list(directory.bank),
            opening_fen=np.asarray(directory.opening_fen, dtype=np.int64),
            position={number: i for i, number in enumerate(directory.account_no)},
        )
        index._offsets = np.zeros(len(index.account_no) + 1, dtype=np.int64)
        if movements is not None:
            index._append(movements)
            index.rebuild()
        return index

    def __len__(self) -> int:
        return len(self.tx_id)

    @property
    def accounts(self) -> int:
        return len(self.account_no)

    def extend(self, movements: Columns) -> None:
        """Add movements that arrived; each account's tail stays in time order."""
        start = len(self.tx_id)
        self._append(movements)
        for seq in range(start, len(self.tx_id)):
            key = (self.ts_us[seq], seq)
            for account in (self.payer[seq], self.payee[seq]):
                if account != NO_ACCOUNT:
                    bisect.insort(self._tail.setdefault(account, []), key)
                    self._tail_size += 1
        if self._tail_size > TAIL_FOLD:
            self.rebuild()

    def rebuild(self) -> None:
        """Sort every movement into the base, by account, time and arrival (one sort)."""
        payer = np.asarray(self.payer, dtype=np.int64)
        payee = np.asarray(self.payee, dtype=np.int64)
        ts = np.asarray(self.ts_us, dtype=np.int64)
        seqs = np.arange(len(self.tx_id), dtype=np.int64)
        owner = np.concatenate([payer, payee])
        both = np.concatenate([seqs, seqs])
        keep = owner != NO_ACCOUNT
        owner, both = owner[keep], both[keep]
        order = np.lexsort((both, ts[both], owner))
        self._events = both[order]
        counts = np.bincount(owner, minlength=self.accounts)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._tail, self._tail_size = {}, 0

    def events(self, account: int) -> list[int]:
        """The movements of `account` in time order (arrival order within the same moment)."""
        base: list[int] = self._events[self._offsets[account] : self._offsets[account + 1]].tolist()
        tail = self._tail.get(account)
        if not tail:
            return base
        keyed = [(self.ts_us[seq], seq) for seq in base]
        return [seq for _, seq in sorted(keyed + tail)]

    def events_after(self, account: int, ts_us: int, seq: int) -> Iterator[int]:
        """The movements of `account` after the one at (`ts_us`, `seq`), in order."""
        for other in self.events(account):
            if (self.ts_us[other], other) > (ts_us, seq):
                yield other

    def balance_before(self, account: int, ts_us: int, seq: int) -> int:
        """What `account` held just before the movement at (`ts_us`, `seq`): its opening
        balance and every movement before it."""
        balance = int(self.opening_fen[account])
        for other in self.events(account):
            if (self.ts_us[other], other) >= (ts_us, seq):
                break
            balance += self._delta(account, other)
        return balance

    def movement(self, seq: int) -> Movement:
        return Movement(
            seq,
            self.tx_id[seq],
            self.ts_us[seq],
            self.payer[seq],
            self.payee[seq],
            self.payee_account[seq],
            self.payee_bank[seq],
            self.amount_fen[seq],
        )

    def find(self, tx_id: str) -> int | None:
        """The position of a movement by its transaction id (a linear search: for the few
        victims' payments a trace starts from)."""
        try:
            return self.tx_id.index(tx_id)
        except ValueError:
            return None

    def _delta(self, account: int, seq: int) -> int:
        amount = self.amount_fen[seq]
        return (amount if self.payee[seq] == account else 0) - (
            amount if self.payer[seq] == account else 0
        )

    def _append(self, movements: Columns) -> None:
        position = self.position
        self.tx_id.extend(movements.tx_id)
        self.ts_us.extend(int(ts) for ts in movements.ts_us)
        self.payer.extend(_positions(position, movements.payer_account))
        self.payee.extend(_positions(position, movements.payee_account))
        self.payee_account.extend(movements.payee_account)
        self.payee_bank.extend(movements.payee_bank)
        self.amount_fen.extend(int(amount) for amount in movements.amount_fen)


def _positions(position: Mapping[str, int], numbers: Sequence[str | None]) -> list[int]:
    return [position.get(number, NO_ACCOUNT) if number else NO_ACCOUNT for number in numbers]
