"""The hard controls' ledger: per account, its entry (`model.LEDGER_COLUMNS` int64 figures:
the settled balance, what the day and the year counted), as a row of one matrix.

The online form reads and books an entry through a view of its row (`entry`: a memoryview of
int64, read and written as fast as an `array`); a batch (`controls.batch`) reads the rows of
its accounts with one gather (`read`) and writes them back with one scatter (`write`), where
an object per account cost it a join to read and an object made per account to write back.
An account gets a row when it first gets an entry; a row whose account was dropped (`pop`:
a replica forgets an entity) is the next new account's, so a replica that forgets and takes
back the same accounts for months keeps a matrix of the accounts it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Final

import numpy as np
import numpy.typing as npt

from fundwall.engine.controls.model import LEDGER_COLUMNS

I64 = npt.NDArray[np.int64]
_FIRST_ROWS: Final = 1024


class Ledger:
    """The ledger's entries by account, in the order the accounts got theirs."""

    __slots__ = ("_flat", "_free", "_matrix", "_rows", "_size")

    def __init__(self, accounts: Sequence[str] = (), entries: I64 | None = None) -> None:
        """A ledger of `accounts` with `entries` (one row each; none: an empty ledger)."""
        self._rows: dict[str, int] = dict(zip(accounts, range(len(accounts)), strict=True))
        self._size = len(accounts)
        self._free: list[int] = []
        """Rows below `_size` whose accounts were dropped, for the next new accounts."""
        self._matrix = np.zeros((max(self._size, _FIRST_ROWS), LEDGER_COLUMNS), np.int64)
        if entries is not None:
            self._matrix[: self._size] = entries
        self._flat = _flat(self._matrix)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, account: object) -> bool:
        return account in self._rows

    def accounts(self) -> list[str]:
        """The accounts with an entry, in the order they got it."""
        return list(self._rows)

    def entries(self) -> I64:
        """The entries of `accounts()`, in that order, as the rows of a new matrix."""
        return self._matrix[np.fromiter(self._rows.values(), np.int64, len(self._rows))]

    def entry(self, account: str) -> memoryview | None:
        """A view of the account's entry (None: it has none); read and write it at once, as
        a later entry may move the rows (`add`)."""
        row = self._rows.get(account)
        if row is None:
            return None
        return self._flat[row * LEDGER_COLUMNS : (row + 1) * LEDGER_COLUMNS]

    def add(self, account: str, entry: Sequence[int]) -> memoryview:
        """Give `account` (which has no entry) the entry `entry`; a view of it."""
        self.extend([account], np.asarray([entry], np.int64))
        view = self.entry(account)
        assert view is not None
        return view

    def set(self, account: str, entry: Sequence[int]) -> None:
        """Replace the account's entry, or give it one."""
        row = self._rows.get(account)
        if row is None:
            self.add(account, entry)
        else:
            self._matrix[row] = entry

    def pop(self, account: str) -> None:
        """Drop the account's entry, if it has one."""
        row = self._rows.pop(account, None)
        if row is not None:
            self._free.append(row)

    def rows_of(self, accounts: Sequence[str]) -> I64:
        """The row of each account's entry, -1 for one without."""
        return np.fromiter(map(self._rows.get, accounts, repeat(-1)), np.int64, len(accounts))

    def read(self, rows: I64) -> I64:
        """A copy of the entries at `rows` (from `rows_of`; a row of -1 reads zeros)."""
        taken = self._matrix[np.maximum(rows, 0)]
        taken[rows < 0] = 0
        return taken

    def write(self, rows: I64, entries: I64) -> None:
        """Write `entries` over the entries at `rows` (none of them -1)."""
        self._matrix[rows] = entries

    def extend(self, accounts: Sequence[str], entries: I64) -> None:
        """Give each of `accounts` (none with an entry) its row of `entries`."""
        reused = [self._free.pop() for _ in range(min(len(self._free), len(accounts)))]
        start = self._size
        end = start + len(accounts) - len(reused)
        if end > len(self._matrix):
            grown = np.zeros((max(2 * len(self._matrix), end), LEDGER_COLUMNS), np.int64)
            grown[:start] = self._matrix[:start]
            self._matrix = grown
            self._flat = _flat(grown)
        rows = [*reused, *range(start, end)]
        self._matrix[rows] = entries
        self._rows.update(zip(accounts, rows, strict=True))
        self._size = end


def _flat(matrix: I64) -> memoryview:
    """The matrix's numbers as one memoryview of int64, each entry a slice of it."""
    return matrix.data.cast("B").cast("q")
