"""Compiled kernels of the columnar form: one time-ordered pass per event stream.

Events are identified by their transaction's row, so each stream keeps its per-event links in
one small int32 matrix (row i = event of transaction i):

- column 0, chain: the owner's next event, which is how a window's tail moves forward;
- PREV/NEXT: the previous/next event with the same (owner, counterpart) pair, precomputed by
  `pair_links`; PREV is -1 for a first occurrence and -2 when the counterpart is null;
- SP/SN: links of the owner's stack of suffix maxima (every event larger than all later ones).

and per owner one int64 row with, for each window, [tail, count, sum, distinct, max front]
followed by [last event, stack top]. A distinct count is the number of in-window events that
are still the latest of their pair: an event entering adds one unless its pair's previous
event is still in the window; an event leaving removes one unless its pair has occurred since.
The window maximum is the oldest element of the suffix-maxima stack inside the window.
These are different algorithms from the online form's multisets and deques on purpose: the
property test then compares two executions, not one.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.engine.features.scalar import (
    age_years,
    balance_share,
    days_since,
    is_night,
    local_hour,
)

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]

SLOT: Final = 5
"""int64 cells per window in an owner's row: tail, count, sum, distinct, max front."""
TAIL, COUNT, SUM, DISTINCT, FRONT = range(SLOT)
NULL_PAIR: Final = -2

_jit = njit(nogil=True, cache=True)


@_jit
def pair_links(
    owner: I32, cp: I32, n_owner: int, n_cp: int, links: I32, c_prev: int, c_next: int
) -> None:
    """Fill links[:, c_prev] and links[:, c_next] with the neighbouring events of each pair.

    Events are grouped by owner with a counting sort (stable, so time order within a group),
    then a stamp array over counterparts finds each pair's previous event in O(1).
    """
    n = owner.shape[0]
    starts = np.zeros(n_owner + 1, dtype=np.int64)
    for i in range(n):
        if owner[i] >= 0:
            starts[owner[i] + 1] += 1
    for g in range(n_owner):
        starts[g + 1] += starts[g]
    fill = starts.copy()
    order = np.empty(starts[n_owner], dtype=np.int32)
    for i in range(n):
        g = owner[i]
        if g >= 0:
            order[fill[g]] = i
            fill[g] += 1
    stamp = np.full(n_cp, -1, dtype=np.int64)
    latest = np.empty(n_cp, dtype=np.int32)
    for g in range(n_owner):
        for k in range(starts[g], starts[g + 1]):
            i = order[k]
            links[i, c_next] = -1
            c = cp[i]
            if c < 0:
                links[i, c_prev] = NULL_PAIR
                continue
            if stamp[c] == g:
                p = latest[c]
                links[i, c_prev] = p
                links[p, c_next] = i
            else:
                links[i, c_prev] = -1
            stamp[c] = g
            latest[c] = i


@_jit
def _advance(
    e: int, t: int, cur: int, ts: I64, amount: I64, links: I32, ent: I64, windows: I64,
    c_next: int, c_sn: int,
) -> None:  # fmt: skip
    """Evict the owner's events with ts < t - W from each window W (`cur`: the current row)."""
    for w in range(windows.shape[0]):
        b = w * SLOT
        tail = ent[e, b + TAIL]
        bound = t - windows[w]
        if tail < 0 or ts[tail] >= bound:
            continue
        count = ent[e, b + COUNT]
        total = ent[e, b + SUM]
        distinct = ent[e, b + DISTINCT]
        while tail >= 0 and ts[tail] < bound:
            count -= 1
            total -= amount[tail]
            if c_next >= 0 and links[tail, c_next - 1] != NULL_PAIR:
                later = links[tail, c_next]
                if later < 0 or later >= cur:
                    distinct -= 1
            tail = links[tail, 0]
        ent[e, b + TAIL] = tail
        ent[e, b + COUNT] = count
        ent[e, b + SUM] = total
        ent[e, b + DISTINCT] = distinct
        if c_sn >= 0:
            front = ent[e, b + FRONT]
            while front >= 0 and ts[front] < bound:
                front = links[front, c_sn]
            ent[e, b + FRONT] = front


@_jit
def _add(
    e: int, i: int, amount: I64, links: I32, ent: I64, nw: int, c_prev: int, c_sp: int
) -> None:
    """Append event i to owner e (its windows are already advanced to its time)."""
    last_col = nw * SLOT
    last = ent[e, last_col]
    if last >= 0:
        links[last, 0] = i
    ent[e, last_col] = i
    a = amount[i]
    top = -1
    if c_sp >= 0:
        top = ent[e, last_col + 1]
        while top >= 0 and amount[top] <= a:
            top = links[top, c_sp]
        links[i, c_sp] = top
        if top >= 0:
            links[top, c_sp + 1] = i
        ent[e, last_col + 1] = i
    for w in range(nw):
        b = w * SLOT
        tail = ent[e, b + TAIL]
        if c_prev >= 0:
            p = links[i, c_prev]
            if p != NULL_PAIR and not (tail >= 0 and p >= tail):
                ent[e, b + DISTINCT] += 1
        if tail < 0:
            ent[e, b + TAIL] = i
        ent[e, b + COUNT] += 1
        ent[e, b + SUM] += a
        if c_sp >= 0:
            front = ent[e, b + FRONT]
            if front < 0 or front > top:
                ent[e, b + FRONT] = i


@_jit
def stream_pass(
    start: int, stop: int, ts: I64, amount: I64, roles: I32, owner_role: int,
    query_roles: I64, cols: I64, windows: I64, links: I32, c_prev: int, c_sp: int,
    ent: I64, out: I64,
) -> None:  # fmt: skip
    """Rows [start, stop) of one stream: read every query's windows, then add the event.

    cols[q, measure, w] is the row of `out` that receives the value (-1: not a feature);
    `out` column r is transaction start + r.
    """
    nw = windows.shape[0]
    c_next = c_prev + 1 if c_prev >= 0 else -1
    c_sn = c_sp + 1 if c_sp >= 0 else -1
    for i in range(start, stop):
        t = ts[i]
        r = i - start
        for q in range(query_roles.shape[0]):
            e = roles[query_roles[q], i]
            if e >= 0:
                _advance(e, t, i, ts, amount, links, ent, windows, c_next, c_sn)
            for w in range(nw):
                b = w * SLOT
                for m in range(4):
                    col = cols[q, m, w]
                    if col < 0:
                        continue
                    if e < 0:
                        out[col, r] = 0
                    elif m == 2:
                        front = ent[e, b + FRONT]
                        out[col, r] = amount[front] if front >= 0 else 0
                    else:
                        out[col, r] = ent[e, b + (COUNT, SUM, 0, DISTINCT)[m]]
        e = roles[owner_role, i]
        if e >= 0:
            _advance(e, t, i, ts, amount, links, ent, windows, c_next, c_sn)
            _add(e, i, amount, links, ent, nw, c_prev, c_sp)


@_jit
def scalar_pass(
    start: int, stop: int, ts: I64, amount: I64, roles: I32, city: I32, flags: I8,
    account_row: I64, klass: I64, opened: I64, party_birth: I64, party_phones: I64,
    party_start: I64, party_opened: I64, party_banks: I64,
    payee_prev: I32, device_prev: I32, city_prev: I32,
    balance: I64, last_seen: I64, device_accounts: I64, cols: I64, share_col: int,
    out: I64, out_float: F64,
) -> None:  # fmt: skip
    """Rows [start, stop) of the single-value features, in `SINGLES` order through `cols`.

    flags rows: 0 cross bank, 1 ATM, 2 non-counter, 3 withdrawal. `balance`, `last_seen`
    (INT64 min: never) and `device_accounts` carry over from one chunk to the next.
    """
    never = np.iinfo(np.int64).min
    for i in range(start, stop):
        t = ts[i]
        r = i - start
        a = amount[i]
        payer = roles[0, i]
        payee = roles[1, i]
        device = roles[2, i]
        party = roles[4, i]
        payer_row = account_row[payer] if payer >= 0 else -1
        payee_row = account_row[payee] if payee >= 0 else -1
        out[cols[0], r] = a
        out[cols[1], r] = is_night(t)
        out[cols[2], r] = local_hour(t)
        out[cols[3], r] = days_since(t, opened[payer_row]) if payer_row >= 0 else -1
        out[cols[4], r] = days_since(t, opened[payee_row]) if payee_row >= 0 else -1
        seen = last_seen[payer] if payer >= 0 else never
        out[cols[5], r] = days_since(t, seen) if seen != never else -1
        seen = last_seen[payee] if payee >= 0 else never
        out[cols[6], r] = days_since(t, seen) if seen != never else -1
        out[cols[7], r] = 1 if payer >= 0 and payee >= 0 and payee_prev[i] == -1 else 0
        held = balance[payer] if payer >= 0 else 0
        out[cols[8], r] = held
        out_float[share_col, r] = balance_share(a, held) if payer >= 0 else 0.0
        for f in range(4):
            out[cols[10 + f], r] = flags[f, i]
        out[cols[14], r] = klass[payer_row] if payer_row >= 0 else -1
        out[cols[15], r] = klass[payee_row] if payee_row >= 0 else -1
        if party >= 0:
            lo = party_start[party]
            k = np.searchsorted(party_opened[lo : party_start[party + 1]], t, side="right")
            out[cols[16], r] = age_years(t, party_birth[party])
            out[cols[17], r] = k
            out[cols[18], r] = party_banks[lo + k - 1] if k > 0 else 0
            out[cols[19], r] = party_phones[party]
        else:
            for f in range(16, 20):
                out[cols[f], r] = -1
        out[cols[20], r] = device_accounts[device] if device >= 0 else 0
        first_on_device = payer >= 0 and device >= 0 and device_prev[i] == -1
        out[cols[21], r] = 1 if first_on_device else 0
        out[cols[22], r] = 1 if payer >= 0 and city[i] >= 0 and city_prev[i] == -1 else 0
        if first_on_device:
            device_accounts[device] += 1
        if payer >= 0:
            balance[payer] -= a
            last_seen[payer] = t
        if payee >= 0:
            balance[payee] += a
            last_seen[payee] = t
