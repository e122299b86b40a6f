"""The hard controls' ledger as one matrix (`controls.ledger.Ledger`): entries read and booked
through views of their rows, gathered and scattered by a batch, kept in the order the
accounts got them, across the matrix growing and accounts dropped."""

from __future__ import annotations

import numpy as np

from fundwall.engine.controls.ledger import Ledger
from fundwall.engine.controls.model import BALANCE, LEDGER_COLUMNS


def row(balance: int) -> list[int]:
    return [balance, *range(1, LEDGER_COLUMNS)]


def test_entries_outlive_the_matrix_growing_and_keep_their_order() -> None:
    ledger = Ledger()
    accounts = [f"A{i}" for i in range(3000)]  # past the first matrix's rows, twice
    for i, account in enumerate(accounts[:1500]):
        ledger.add(account, row(i))
    ledger.extend(accounts[1500:], np.array([row(i) for i in range(1500, 3000)], np.int64))
    entry = ledger.entry("A7")
    assert entry is not None
    entry[BALANCE] += 5  # a view: written in place
    again = ledger.entry("A7")
    assert again is not None and again[BALANCE] == 12
    assert ledger.accounts() == accounts
    expected = np.array([row(i) for i in range(3000)], np.int64)
    expected[7, BALANCE] = 12
    assert (ledger.entries() == expected).all()


def test_a_batch_reads_and_writes_rows_and_an_account_without_one_reads_zeros() -> None:
    ledger = Ledger(["A", "B"], np.array([row(10), row(20)], np.int64))
    rows = ledger.rows_of(["B", "X", "A"])
    assert rows.tolist() == [1, -1, 0]
    taken = ledger.read(rows)
    assert taken.tolist() == [row(20), [0] * LEDGER_COLUMNS, row(10)]
    taken[:, BALANCE] += 1
    known = rows >= 0
    ledger.write(rows[known], taken[known])
    ledger.extend(["X"], taken[~known])
    assert ledger.accounts() == ["A", "B", "X"]
    assert ledger.entries().tolist() == [row(11), row(21), [1] + [0] * (LEDGER_COLUMNS - 1)]


def test_a_dropped_account_is_gone_and_comes_back_last() -> None:
    ledger = Ledger(["A", "B"], np.array([row(10), row(20)], np.int64))
    ledger.pop("A")
    ledger.pop("nobody")
    assert "A" not in ledger and ledger.entry("A") is None and len(ledger) == 1
    assert ledger.rows_of(["A"]).tolist() == [-1]
    ledger.set("A", row(30))
    ledger.set("B", row(40))
    assert ledger.accounts() == ["B", "A"]
    assert ledger.entries().tolist() == [row(40), row(30)]


def test_accounts_dropped_and_taken_back_again_and_again_keep_their_rows() -> None:
    ledger = Ledger()
    for _ in range(5_000):  # a replica forgetting and taking back the same accounts
        ledger.set("A", row(1))
        ledger.extend(["B", "C"], np.array([row(2), row(3)], np.int64))
        ledger.pop("A")
        ledger.pop("B")
        ledger.pop("C")
    ledger.set("A", row(4))
    assert sorted(ledger.rows_of(["A", "B"]).tolist()) == [-1, 0]
    assert ledger.entries().tolist() == [row(4)]
    assert ledger._size == 3
