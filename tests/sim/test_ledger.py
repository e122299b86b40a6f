"""The settlement pass on random streams: what it keeps never overdraws or breaks a limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.sim.accounts import CLASS_I, CLASS_II, CLASS_III, NO_TIME
from fundwall.sim.ledger import (
    CLASS_II_DAILY_OUT_FEN,
    CLASS_III_BALANCE_CAP_FEN,
    CLASS_III_DAILY_OUT_FEN,
    START_US,
    settle,
)
from fundwall.sim.params import US_PER_DAY
from fundwall.sim.txbuf import COLLECTION, FORWARDING, LAYERING, NORMAL, VICTIM_PAYMENT, TxBuffer


def _stream(
    seed: int, accounts: int, rows: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    buf = TxBuffer()
    payer = rng.integers(-1, accounts, rows)
    payee = rng.integers(-1, accounts, rows)
    payee = np.where((payer < 0) & (payee < 0), 0, payee)
    buf.add(
        START_US + rng.integers(0, 5 * US_PER_DAY, rows),
        kind=0,
        payer=payer,
        payee=payee,
        amount=rng.integers(1, 300_000, rows),
        channel=2,
    )
    cls = rng.choice([CLASS_I, CLASS_II, CLASS_III], size=accounts)
    balance = np.where(
        cls == CLASS_III, rng.integers(0, 200_000, accounts), rng.integers(0, 2_000_000, accounts)
    )
    return buf.columns(), cls.astype(np.int64), balance.astype(np.int64)


def _replay(cols: dict[str, np.ndarray], cls: np.ndarray, balance: np.ndarray) -> None:
    money = balance.copy()
    out: dict[tuple[int, int], int] = {}
    for a, b, x, t in zip(
        cols["payer"].tolist(),
        cols["payee"].tolist(),
        cols["amount"].tolist(),
        cols["ts"].tolist(),
        strict=True,
    ):
        if a >= 0:
            money[a] -= x
            assert money[a] >= 0
            day = (t - START_US) // US_PER_DAY
            out[(a, day)] = out.get((a, day), 0) + x
            limit = {CLASS_II: CLASS_II_DAILY_OUT_FEN, CLASS_III: CLASS_III_DAILY_OUT_FEN}
            assert out[(a, day)] <= limit.get(int(cls[a]), 1 << 62)
        if b >= 0:
            money[b] += x
            assert cls[b] != CLASS_III or money[b] <= CLASS_III_BALANCE_CAP_FEN


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 30), st.integers(0, 400))
def test_kept_transactions_never_overdraw_or_break_limits(
    seed: int, accounts: int, rows: int
) -> None:
    cols, cls, balance = _stream(seed, accounts, rows)
    opened = np.full(accounts, NO_TIME, dtype=np.int64)
    settled = settle(cols, cls, opened, balance, {}, {})
    kept = settled.columns
    assert len(kept["ts"]) + settled.dropped == rows
    assert (np.diff(kept["ts"]) >= 0).all()
    _replay(kept, cls, balance)


def test_reserved_money_is_left_for_the_victim_payment() -> None:
    buf = TxBuffer()
    day = START_US
    buf.add(
        np.array([day + 1, day + 2]),
        kind=0,
        payer=0,
        payee=1,
        amount=np.array([60_000, 50_000]),
        channel=2,
    )
    buf.add(
        np.array([day + 3]),
        kind=0,
        payer=0,
        payee=2,
        amount=np.array([80_000]),
        channel=2,
        role=VICTIM_PAYMENT,
        scam=0,
    )
    cls = np.full(3, CLASS_I, dtype=np.int64)
    opened = np.full(3, NO_TIME, dtype=np.int64)
    settled = settle(buf.columns(), cls, opened, np.array([150_000, 0, 0]), {0: 80_000}, {})
    assert settled.columns["amount"].tolist() == [60_000, 80_000]
    assert settled.dropped == 1


def test_a_scam_transfer_that_would_overdraw_is_a_bug_not_a_drop() -> None:
    buf = TxBuffer()
    buf.add(
        np.array([START_US]),
        kind=0,
        payer=0,
        payee=1,
        amount=np.array([10]),
        channel=2,
        role=LAYERING,
        scam=0,
    )
    cls = np.full(2, CLASS_I, dtype=np.int64)
    with pytest.raises(RuntimeError, match="would overdraw"):
        settle(
            buf.columns(), cls, np.full(2, NO_TIME, dtype=np.int64), np.zeros(2, np.int64), {}, {}
        )


def test_ordinary_use_after_a_handover_is_dropped() -> None:
    buf = TxBuffer()
    buf.add(
        np.array([START_US + 10, START_US + 30]),
        kind=0,
        payer=0,
        payee=1,
        amount=np.array([5, 5]),
        channel=2,
        role=NORMAL,
    )
    cls = np.full(2, CLASS_I, dtype=np.int64)
    settled = settle(
        buf.columns(),
        cls,
        np.full(2, NO_TIME, dtype=np.int64),
        np.array([100, 0]),
        {},
        {0: START_US + 20},
    )
    assert settled.columns["ts"].tolist() == [START_US + 10]


def test_illicit_money_that_arrives_is_kept_from_the_holders_spending() -> None:
    # Account 1, a rented collection account holding 300 of its holder's own, takes a 1,000
    # stake; before it is forwarded the holder tries to spend 500: dropped, since only 300
    # is theirs, and the forwarding of 970 minutes later finds the money still there.
    buf = TxBuffer()
    t = START_US + 3_600_000_000
    buf.add(
        np.array([t, t + 1, t + 2]),
        kind=0,
        payer=np.array([0, 1, 1]),
        payee=np.array([1, 2, 2]),
        amount=np.array([1_000, 500, 970]),
        channel=2,
        role=np.array([COLLECTION, NORMAL, FORWARDING]),
    )
    cls = np.array([CLASS_I, CLASS_I, CLASS_I], dtype=np.int64)
    opened = np.full(3, NO_TIME, dtype=np.int64)
    settled = settle(buf.columns(), cls, opened, np.array([1_000, 300, 0]), {0: 1_000}, {})
    assert settled.columns["role"].tolist() == [COLLECTION, FORWARDING]
    assert settled.dropped == 1


def test_illicit_outflows_count_against_a_class_ii_daily_limit() -> None:
    cls = np.array([CLASS_I, CLASS_II, CLASS_I], dtype=np.int64)
    opened = np.full(3, NO_TIME, dtype=np.int64)
    big = CLASS_II_DAILY_OUT_FEN
    buf = TxBuffer()
    t = START_US + 3_600_000_000
    buf.add(
        np.array([t]), kind=0, payer=0, payee=1, amount=np.array([big]), channel=2, role=COLLECTION
    )
    buf.add(
        np.array([t + 1, t + 2]),
        kind=0,
        payer=1,
        payee=2,
        amount=np.array([big - 50, 100]),
        channel=2,
        role=np.array([FORWARDING, NORMAL]),
    )
    settled = settle(buf.columns(), cls, opened, np.array([big, 1_000, 0]), {}, {})
    assert settled.columns["role"].tolist() == [COLLECTION, FORWARDING]
    over = TxBuffer()
    over.add(
        np.array([t]),
        kind=0,
        payer=0,
        payee=1,
        amount=np.array([big + 1]),
        channel=2,
        role=COLLECTION,
    )
    over.add(
        np.array([t + 1]),
        kind=0,
        payer=1,
        payee=2,
        amount=np.array([big + 1]),
        channel=2,
        role=FORWARDING,
    )
    with pytest.raises(RuntimeError, match="class limit"):
        settle(over.columns(), cls, opened, np.array([big + 1, 0, 0]), {}, {})
