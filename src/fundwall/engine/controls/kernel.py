"""The compiled pass of the bulk hard controls (see `fundwall.engine.controls.bulk`)."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.domain.decisions import Action
from fundwall.engine.controls.model import (
    C2_IN_DAY,
    C2_OUT_DAY,
    C3_BALANCE,
    C3_OUT_DAY,
    FREE_BALANCE,
    LIST_DEVICE,
    LIST_IP,
    LIST_PAYEE_ACCOUNT,
    LIST_PAYEE_PARTY,
    LIST_PAYER_ACCOUNT,
    LIST_PAYER_PARTY,
    NON_COUNTER,
    PAYEE_CLOSED,
    PAYER_CLOSED,
    PAYER_DORMANT,
    PAYER_FROZEN,
    PAYER_STOP_PAID,
    PUNISHED,
)
from fundwall.engine.features.scalar import local_yyyymmdd

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]
Rows = tuple[I64, I64, I64, I64, I64]
"""Intervals by code: start per code, then begin, end, value and extra per interval."""

BLOCK: Final = Action.BLOCK.severity
KEY_CONTROL: Final = np.array(
    [
        LIST_PAYER_ACCOUNT,
        LIST_PAYEE_ACCOUNT,
        LIST_DEVICE,
        LIST_IP,
        LIST_PAYER_PARTY,
        LIST_PAYER_PARTY,
        LIST_PAYEE_PARTY,
        LIST_PAYEE_PARTY,
    ],
    dtype=np.int64,
)
"""The control of each key a row is looked up by: payer, payee, device, IP, payer's ID and
phone hashes, payee's ID and phone hashes."""
_PAYER_SIDE: Final = np.array([1, 0, 1, 1, 1, 1, 0, 0], dtype=np.bool_)


@njit(nogil=True, cache=True)
def control_pass(
    start: int, stop: int, ts: I64, amount: I64, payer: I32, payee: I32, device: I32, ip: I32,
    non_counter: B, klass: I64, status: I64, bound: I64, id_hash: I64, phone_hash: I64,
    predicates: I64, restrictions: Rows, punished: Rows, list_keys: I64, l_start: I64,
    l_begin: I64, l_end: I64, l_level: I64, l_only: I64, limits: I64, ledger: I64,
    rule_codes: U8, mask: I64, forced: U8, final: U8,
) -> None:  # fmt: skip
    """See `BulkControls.run`; `ledger[account]` = balance, day, day out, day in, year, year
    out, year in (the online ledger's layout)."""
    r_start, r_begin, r_end, r_kind, r_amount = restrictions
    p_start, p_begin, p_end, _, _ = punished
    for i in range(start, stop):
        out = i - start
        t = ts[i]
        a = amount[i]
        p = payer[i]
        q = payee[i]
        hits = 0
        severity = 0
        day = local_yyyymmdd(t)
        year = day // 10000
        if p >= 0:
            s = status[p]
            whole = predicates[s, 3]
            if whole >= 0:
                hits |= 1 << whole
            suspended = predicates[s, 0] == 1 and predicates[s, 1] == 0
            held = 0
            for k in range(r_start[p], r_start[p + 1]):
                if not (r_begin[k] <= t < r_end[k]):
                    continue
                if r_kind[k] == 2:
                    suspended = True
                elif r_amount[k] < 0:
                    hits |= 1 << (PAYER_STOP_PAID if r_kind[k] == 0 else PAYER_FROZEN)
                else:
                    held += r_amount[k]
            whole_mask = (
                (1 << PAYER_CLOSED)
                | (1 << PAYER_STOP_PAID)
                | (1 << PAYER_FROZEN)
                | (1 << PAYER_DORMANT)
            )
            if hits & whole_mask == 0:
                balance = ledger[p, 0]
                if predicates[s, 4] == 1 and held == 0:
                    held = max(balance, 1)
                if held > 0 and a > balance - held:
                    hits |= 1 << FREE_BALANCE
            if non_counter[i] and suspended:
                hits |= 1 << NON_COUNTER
            if non_counter[i]:
                h = id_hash[p]
                if h >= 0:
                    for k in range(p_start[h], p_start[h + 1]):
                        if p_begin[k] <= t < p_end[k]:
                            hits |= 1 << PUNISHED
            c = klass[p]
            if (c == 2 or c == 3) and (q < 0 or bound[p] != q):
                base = C2_OUT_DAY if c == 2 else C3_OUT_DAY
                limit = 0 if c == 2 else 4
                used_day = ledger[p, 2] if ledger[p, 1] == day else 0
                used_year = ledger[p, 5] if ledger[p, 4] == year else 0
                if used_day + a > limits[limit]:
                    hits |= 1 << base
                if used_year + a > limits[limit + 1]:
                    hits |= 1 << (base + 1)
        if q >= 0:
            if predicates[status[q], 2] == 0:
                hits |= 1 << PAYEE_CLOSED
            c = klass[q]
            if c == 2 and (p < 0 or bound[q] != p):
                used_day = ledger[q, 3] if ledger[q, 1] == day else 0
                used_year = ledger[q, 6] if ledger[q, 4] == year else 0
                if used_day + a > limits[2]:
                    hits |= 1 << C2_IN_DAY
                if used_year + a > limits[3]:
                    hits |= 1 << (C2_IN_DAY + 1)
            elif c == 3 and ledger[q, 0] + a > limits[6]:
                hits |= 1 << C3_BALANCE
        if hits:
            severity = BLOCK
        for k in range(list_keys.shape[0]):
            code = list_keys[k, out]
            if code < 0:
                continue
            for e in range(l_start[code], l_start[code + 1]):
                if l_begin[e] <= t < l_end[e] and (_PAYER_SIDE[k] or l_only[e] == 0):
                    hits |= 1 << KEY_CONTROL[k]
                    severity = max(severity, l_level[e])
        mask[out] = hits
        forced[out] = severity
        action = max(rule_codes[out], severity)
        final[out] = action
        if action == BLOCK:
            continue
        for account, sign, slot, other in ((p, -1, 2, q), (q, 1, 3, p)):
            if account < 0:
                continue
            ledger[account, 0] += sign * a
            if ledger[account, 1] != day:
                ledger[account, 1] = day
                ledger[account, 2] = 0
                ledger[account, 3] = 0
            if ledger[account, 4] != year:
                ledger[account, 4] = year
                ledger[account, 5] = 0
                ledger[account, 6] = 0
            if other < 0 or bound[account] != other:
                ledger[account, slot] += a
                ledger[account, slot + 3] += a
