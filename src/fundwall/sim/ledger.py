"""Put every transaction in time order and settle it against balances (conservation).

Ordinary transactions that the payer cannot afford, that break a Class II/III limit, or that
touch an account before it was opened or after it changed hands are dropped; illicit transfers
(scams and 跑分 networks: every role but `normal`) are never dropped, and the pass fails
loudly if one would overdraw or break a class limit, since that would be a bug in the
generator. Money a victim or a gambler will pay is reserved in their account from the start,
and illicit money that arrives in an account is reserved there, so ordinary spending cannot
eat either first (a rented collection account's holder keeps spending their own money).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.sim.accounts import CLASS_II, CLASS_III
from fundwall.sim.params import START, US_PER_DAY
from fundwall.sim.txbuf import NORMAL

I64 = npt.NDArray[np.int64]
START_US = int(START.timestamp()) * 1_000_000
NEVER = np.iinfo(np.int64).max

CLASS_II_DAILY_OUT_FEN = 1_000_000
CLASS_III_DAILY_OUT_FEN = 200_000
CLASS_III_BALANCE_CAP_FEN = 200_000
"""REGULATIONS.md defaults: Class II pays out at most ¥10,000 a day, Class III ¥2,000 a day and
holds at most ¥2,000."""
_CAP = 3  # index of the Class III balance cap in the limits array; 1 and 2 are the classes


@dataclass(slots=True)
class Settled:
    """The kept transactions in time order and what settling them left behind."""

    columns: dict[str, npt.NDArray[Any]]
    dropped: int


@njit(cache=True)
def _settle(
    payer: Any,
    payee: Any,
    amount: Any,
    day: Any,
    role: Any,
    cls: Any,
    balance: Any,
    reserve: Any,
    limits: Any,
) -> Any:  # pragma: no cover - compiled by numba; exercised through settle()
    n = len(payer)
    keep = np.ones(n, dtype=np.bool_)
    out_day = np.full(len(balance), -1, dtype=np.int64)
    out_sum = np.zeros(len(balance), dtype=np.int64)
    for i in range(n):
        a = payer[i]
        b = payee[i]
        x = amount[i]
        c = cls[a] if a >= 0 else -1
        limited = CLASS_II <= c <= CLASS_III  # the classes with daily limits
        if limited and out_day[a] != day[i]:
            out_day[a] = day[i]
            out_sum[a] = 0
        if role[i] != NORMAL:
            if a >= 0:
                if balance[a] < x or (limited and out_sum[a] + x > limits[c]):
                    return keep, i
                balance[a] -= x
                reserve[a] = max(reserve[a] - x, 0)
                if limited:
                    out_sum[a] += x
            if b >= 0:
                balance[b] += x
                reserve[b] += x
            continue
        if a >= 0:
            if balance[a] - reserve[a] < x:
                keep[i] = False
                continue
            if limited and out_sum[a] + x > limits[c]:
                keep[i] = False
                continue
        if b >= 0 and cls[b] == CLASS_III and balance[b] + x > limits[_CAP]:
            keep[i] = False
            continue
        if a >= 0:
            balance[a] -= x
            if limited:
                out_sum[a] += x
        if b >= 0:
            balance[b] += x
    return keep, -1


def settle(
    columns: dict[str, npt.NDArray[Any]],
    cls: I64,
    opened_at: I64,
    opening_balance: I64,
    reserved: dict[int, int],
    handed_over: dict[int, int],
) -> Settled:
    """Sort by time (ties keep generation order) and keep only what balances allow."""
    ts = columns["ts"]
    payer = columns["payer"].astype(np.int64)
    payee = columns["payee"].astype(np.int64)
    ordinary = columns["role"] == NORMAL
    hand = np.full(len(cls), NEVER, dtype=np.int64)
    for account, when in handed_over.items():
        hand[account] = when
    opened = np.append(opened_at, np.iinfo(np.int64).min)
    hand = np.append(hand, NEVER)
    too_early = (ts < opened[payer]) | (ts < opened[payee])
    other_hands = (ts >= hand[payer]) | (ts >= hand[payee])
    valid = ~(ordinary & (too_early | other_hands))
    order = np.flatnonzero(valid)
    order = order[np.argsort(ts[order], kind="stable")]
    cut = {name: col[order] for name, col in columns.items()}
    del order
    balance = opening_balance.astype(np.int64).copy()
    reserve = np.zeros(len(cls), dtype=np.int64)
    for account, total in reserved.items():
        reserve[account] = total
    limits = np.array(
        [0, CLASS_II_DAILY_OUT_FEN, CLASS_III_DAILY_OUT_FEN, CLASS_III_BALANCE_CAP_FEN],
        dtype=np.int64,
    )
    day = (cut["ts"] - START_US) // US_PER_DAY
    keep, failed = _settle(
        cut["payer"].astype(np.int64),
        cut["payee"].astype(np.int64),
        cut["amount"],
        day,
        cut["role"],
        cls.astype(np.int64),
        balance,
        reserve,
        limits,
    )
    if failed >= 0:
        raise RuntimeError(
            f"illicit transfer {failed} would overdraw account {int(cut['payer'][failed])} "
            "or break its class limit"
        )
    dropped = int(len(ts) - keep.sum())
    kept = {name: col[keep] for name, col in cut.items()}
    return Settled(kept, dropped)
