"""The compiled pass of the bulk hard controls (see `fundwall.engine.controls.bulk`).

It knows no control by name: what each one checks comes in as rows of numbers made from the
control table (`model.CONTROLS`) by `BulkControls`, the same table `OnlineControls` reads.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.domain.decisions import Action
from fundwall.engine.controls.model import (
    BALANCE,
    DAY,
    DAY_IN,
    DAY_OUT,
    MOST,
    YEAR,
    YEAR_IN,
    YEAR_OUT,
)
from fundwall.engine.features.scalar import local_yyyymmdd

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]
Rows = tuple[I64, I64, I64, I64, I64]
"""Intervals by code: start per code, then begin, end, value and extra per interval."""

BLOCK: Final = Action.BLOCK.severity
PAYER, PAYEE = range(2)
"""Sides of a transaction, as rows of `by_status` and values of an amount check's SIDE."""
HOLDS_ALL = 2
"""Row of `by_status`: 1 where the status holds the whole balance (FREE_BALANCE)."""
CONTROL, HOLDS, CAPS = range(3)
"""Rows of `by_kind`, per kind of restriction: the control a whole-account restriction
triggers, 1 where one of an amount holds that amount (FREE_BALANCE), 1 where its amount caps
what the account pays out in a day (OUTFLOW_CAP)."""
AMOUNT_CONTROL, CAP, USED, PERIOD, DAILY, LIMIT = range(6)
"""Columns of an amount check (a LIMIT or BALANCE_CAP control; `online.amount_checks`): the
checks of an account of class k on a side are rows amount_rows[side, k + 1] up to
amount_rows[side, k + 2] (classes -1, unknown, to 3)."""
KEY_CONTROL, KEY_PAYER_SIDE = range(2)
"""Columns of `keys`, per key a row is looked up by on the risk list: the control, and 1
when the key is on the paying side."""


@njit(inline="always")
def plus(value: int, change: int) -> int:
    """`value + change`, held within ±MOST."""
    if change > 0 and value > MOST - change:
        return MOST
    if change < 0 and value < -MOST - change:
        return -MOST
    return value + change


@njit(nogil=True, cache=True)
def control_pass(
    start: int, stop: int, ts: I64, orders_at: I64, amount: I64, payer: I32, payee: I32,
    device: I32, ip: I32,
    non_counter: B, klass: I64, status: I64, bound: I64, id_hash: I64, by_status: I64,
    by_kind: I64, free_balance: int, punishment: int, outflow_cap: int, amounts: I64,
    amount_rows: I64,
    severity_of: I64,
    non_counter_only: int, restrictions: Rows, punished: Rows, keys: I64, list_keys: I64,
    l_start: I64, l_begin: I64, l_end: I64, l_level: I64, l_only: I64, ledger: I64,
    rule_codes: U8, mask: I64, forced: U8, final: U8, before: I64, touched: U8,
) -> None:  # fmt: skip
    """See `BulkControls.run`; `ledger[account]` = balance, day, day out, day in, year, year
    out, year in (the online ledger's layout). `severity_of[c]` is what control c forces
    (-1: the risk list entry says); `non_counter_only` the bits of the controls that apply
    only outside a counter. The restrictions and both lists are read at `orders_at[i]`, the
    limits at `ts[i]` (`OnlineControls.check`'s `orders_at` and `t`).

    For a batch carried on from the online ledger (`controls.batch`), `before[row]` gets the
    payer's and the payee's ledger rows before the row (the figures of its reasons), and
    `touched[account]` is set where `OnlineControls` would have made the account an entry of
    its ledger (it reads or books it); both have no rows when not wanted."""
    r_start, r_begin, r_end, r_kind, r_amount = restrictions
    p_start, p_begin, p_end, _, _ = punished
    for i in range(start, stop):
        out = i - start
        t = ts[i]
        at = orders_at[i]
        a = amount[i]
        p = payer[i]
        q = payee[i]
        hits = 0
        severity = 0
        day = local_yyyymmdd(t)
        year = day // 10000
        keep = before.shape[0] > 0
        if keep:
            if p >= 0:
                before[out, PAYER, :] = ledger[p]
            if q >= 0:
                before[out, PAYEE, :] = ledger[q]
        if p >= 0:
            s = status[p]
            if by_status[PAYER, s] >= 0:
                hits |= 1 << by_status[PAYER, s]
            held = 0
            cap = -1
            for k in range(r_start[p], r_start[p + 1]):
                if not (r_begin[k] <= at < r_end[k]):
                    continue
                kind = r_kind[k]
                if r_amount[k] >= 0 and by_kind[HOLDS, kind] == 1:
                    held += r_amount[k]
                elif r_amount[k] >= 0 and by_kind[CAPS, kind] == 1:
                    if cap < 0 or r_amount[k] < cap:
                        cap = r_amount[k]
                elif by_kind[CONTROL, kind] >= 0:
                    hits |= 1 << by_kind[CONTROL, kind]
            if cap >= 0 and not (q >= 0 and bound[p] == q):
                if keep and (non_counter[i] or ((non_counter_only >> outflow_cap) & 1) == 0):
                    touched[p] = 1
                used = ledger[p, DAY_OUT] if ledger[p, DAY] == day else 0
                if used > cap - a:
                    hits |= 1 << outflow_cap
            if (hits & ~non_counter_only) == 0:  # nothing stops every payment already
                if keep:
                    touched[p] = 1
                balance = ledger[p, BALANCE]
                if by_status[HOLDS_ALL, s] == 1 and held == 0:
                    held = max(balance, 1)
                if held > 0 and a + held > balance:
                    hits |= 1 << free_balance
            h = id_hash[p]
            if h >= 0 and (non_counter[i] or ((non_counter_only >> punishment) & 1) == 0):
                for k in range(p_start[h], p_start[h + 1]):
                    if p_begin[k] <= at < p_end[k]:
                        hits |= 1 << punishment
        if q >= 0 and by_status[PAYEE, status[q]] >= 0:
            hits |= 1 << by_status[PAYEE, status[q]]
        for side, account, other in ((PAYER, p, q), (PAYEE, q, p)):
            if account < 0:
                continue
            k = klass[account] + 1
            if keep and amount_rows[side, k] < amount_rows[side, k + 1]:
                touched[account] = 1
            for c in range(amount_rows[side, k], amount_rows[side, k + 1]):
                if amounts[c, CAP] == 1:
                    used = ledger[account, BALANCE]
                elif other >= 0 and bound[account] == other:
                    continue  # the holder's own money going home or coming from home
                else:
                    now = day if amounts[c, DAILY] == 1 else year
                    used = ledger[account, amounts[c, USED]]
                    if ledger[account, amounts[c, PERIOD]] != now:
                        used = 0
                if used > amounts[c, LIMIT] - a:
                    hits |= 1 << amounts[c, AMOUNT_CONTROL]
        if not non_counter[i]:
            hits &= ~non_counter_only
        if hits:
            for c in range(severity_of.shape[0]):
                if (hits >> c) & 1:
                    severity = max(severity, severity_of[c])
        for k in range(list_keys.shape[0]):
            code = list_keys[k, out]
            if code < 0:
                continue
            for e in range(l_start[code], l_start[code + 1]):
                if l_begin[e] <= at < l_end[e] and (keys[k, KEY_PAYER_SIDE] == 1 or l_only[e] == 0):
                    hits |= 1 << keys[k, KEY_CONTROL]
                    severity = max(severity, l_level[e])
        mask[out] = hits
        forced[out] = severity
        action = max(rule_codes[out], severity)
        final[out] = action
        if action == BLOCK:
            continue
        for account, sign, day_at, year_at, other in (
            (p, -1, DAY_OUT, YEAR_OUT, q),
            (q, 1, DAY_IN, YEAR_IN, p),
        ):
            if account < 0:
                continue
            if keep:
                touched[account] = 1
            ledger[account, BALANCE] = plus(ledger[account, BALANCE], sign * a)
            if ledger[account, DAY] != day:
                ledger[account, DAY] = day
                ledger[account, DAY_OUT] = 0
                ledger[account, DAY_IN] = 0
            if ledger[account, YEAR] != year:
                ledger[account, YEAR] = year
                ledger[account, YEAR_OUT] = 0
                ledger[account, YEAR_IN] = 0
            if other < 0 or bound[account] != other:
                ledger[account, day_at] = plus(ledger[account, day_at], a)
                ledger[account, year_at] = plus(ledger[account, year_at], a)
