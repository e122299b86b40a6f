"""Compiled kernels of the columnar form: one time-ordered pass per event stream.

`layout_stream` first lays each stream out owner by owner (a stable counting sort, so each
owner's events stay in time order and sit side by side): `evt[p] = (ts, amount total before
p)` for sorted position p, so a window is a range [tail, head) of the owner's segment, its
count is head - tail and its sum a difference of two totals. The pass then walks the
transactions in time order; each owner's row in `ent` holds, per window, [tail, distinct,
max front], then [head, stack top]. Moving a tail is a short forward scan over memory that
is next to itself, rather than a chase through pointers.

A distinct count is the number of in-window events that are still the latest of their
(owner, counterpart) pair: an event entering adds one unless its pair's previous event is
still in the window (`prev`); an event leaving removes one unless its pair has occurred since
(`later`: row of the next occurrence). The window maximum is the oldest element of the
owner's stack of suffix maxima (events larger than every later one) inside the window.
These are other algorithms than the online form's (binary search over per-entity arrays,
flags counted per eviction, maxima found by bisecting the stack), so the property test
compares two executions, not one.

The single-value pass (`scalar_pass`) walks BLOCK transactions in time order, fetching each
one's facts (balances and last activity carry over from one to the next), then makes every
feature of its plan (`catalog.SINGLES` as rows of numbers) for the whole block: the loop
over the plan runs once per block, not once per transaction, and each feature writes a
stretch of its own column.

The login pass (`login_pass`) reads, per transaction and login feature, the times of the
account's logins with the feature's signal (`logins.LoginIndex`) by binary search: logins are
facts at their own times and carry nothing over from one transaction to the next. The ratio
pass (`ratio_pass`) divides two rows of the integer output into a float row, once every other
pass of the chunk is done.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from fundwall.engine.features.catalog import Fact, LoginMeasure, Measure, Role
from fundwall.engine.features.scalar import (
    civil_date,
    hours_since,
    integer_value,
    local_day,
    ratio_of,
    ratio_value,
)

# numba's code-generation helpers carry partial type hints that do not fit the way they are
# meant to be called; the prefetch intrinsic uses them through Any.
_cg: Any = cgutils
_intrinsic: Any = intrinsic

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

TS, CUM = range(2)
"""Columns of a stream's event matrix (row = sorted position): the time, then the running
total when the stream's sums or maxima are read, then LINKS and STACK where needed (their
places: `evt_layout`). LINKS and STACK each hold two int32 values (`_pair`), so that a row is
8 to 32 bytes: fewer cache lines to wait on and a third less memory than a column each.
LINKS: the pair's previous event (`prev`) and the row of its next one (`later`); STACK: the
events below and above in the maxima stack (always one column after LINKS)."""
NULL_PAIR: Final = -2
NOT_YET: Final = np.iinfo(np.int32).max
"""`later` of an event whose pair never occurs again."""
AHEAD: Final = 16
"""Transactions ahead whose owner rows are prefetched: the passes wait on memory, not on
arithmetic, and the rows of the next transactions are known in advance."""

_jit = njit(nogil=True, cache=True)
_inline = njit(nogil=True, cache=True, inline="always")


@_inline
def _pair(high: int, low: int) -> int:
    """Two int32 values in one int64 cell."""
    return (high << 32) | (low & 0xFFFFFFFF)


@_inline
def _high(cell: int) -> int:
    return cell >> 32


@_inline
def _low(cell: int) -> int:
    return (cell << 32) >> 32


def row_width(n_windows: int) -> int:
    """int32 cells of an owner's row: per window a tail, a distinct count and a max front
    (each block of n_windows), then the head. 16 cells (one cache line) for 5 windows."""
    return 3 * n_windows + 1


def _prefetch_typer(typingctx: object, rows: Any, row: Any) -> tuple[Any, Any]:
    """Typing and code of `_prefetch(rows, row)`: llvm.prefetch of rows[row, 0]."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ir = _cg.ir
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        row_index = context.cast(builder, args[1], signature.args[1], types.intp)
        pointer = _cg.get_item_pointer(
            context, builder, array_type, array, [row_index, zero], wraparound=False
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        function = _cg.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0i8")
        read, keep, data = ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)
        builder.call(function, [builder.bitcast(pointer, i8p), read, keep, data])
        return context.get_dummy_value()

    return types.void(rows, row), codegen


_prefetch: Any = _intrinsic(_prefetch_typer)
"""Ask the CPU to start loading rows[row, 0] into cache."""


@_jit
def _group(owner: I32, n_owner: int) -> tuple[I64, I32]:
    """Stable counting sort by owner: (segment starts, row of each sorted position)."""
    starts = np.zeros(n_owner + 1, dtype=np.int64)
    for i in range(owner.shape[0]):
        if owner[i] >= 0:
            starts[owner[i] + 1] += 1
    for g in range(n_owner):
        starts[g + 1] += starts[g]
    fill = starts[:-1].copy()
    order = np.empty(starts[n_owner], dtype=np.int32)
    for i in range(owner.shape[0]):
        g = owner[i]
        if g >= 0:
            order[fill[g]] = i
            fill[g] += 1
    return starts, order


@_jit
def first_pairs(owner: I32, cp: I32, n_owner: int, n_cp: int, first: I8) -> None:
    """first[i] = 1 when row i is the first with its (owner, non-null counterpart) pair."""
    starts, order = _group(owner, n_owner)
    stamp = np.full(n_cp, -1, dtype=np.int64)
    for g in range(n_owner):
        for p in range(starts[g], starts[g + 1]):
            i = order[p]
            c = cp[i]
            if c >= 0 and stamp[c] != g:
                stamp[c] = g
                first[i] = 1


@_jit
def layout_stream(
    owner: I32, cp: I32, ts: I64, amount: I64, n_owner: int, n_cp: int, starts: I64, evt: I64,
    links: int, first: I8,
) -> None:  # fmt: skip
    """Fill `starts` (n_owner + 1) and `evt` (m + 1 rows laid out as `evt_layout` says, LINKS
    in column `links`; the extra row closes the last segment): time, running total when there
    is one and, when wide enough, pair links (prev: sorted position, -1 first, -2 null
    counterpart; later: row of the next one) and first[i] = 1 for the row that opens each
    pair (when `first` is not empty)."""
    group_starts, order = _group(owner, n_owner)
    starts[:] = group_starts
    m = order.shape[0]
    sums = links > CUM
    total = 0
    for p in range(m):
        i = order[p]
        evt[p, TS] = ts[i]
        if sums:
            evt[p, CUM] = total
            total += amount[i]
    evt[m, TS] = np.iinfo(np.int64).max
    if sums:
        evt[m, CUM] = total
    if evt.shape[1] > links + 1:
        evt[:, links + 1] = _pair(-1, -1)
    if evt.shape[1] <= links:
        return
    stamp = np.full(n_cp, -1, dtype=np.int64)
    latest = np.empty(n_cp, dtype=np.int64)
    for g in range(n_owner):
        for p in range(starts[g], starts[g + 1]):
            c = cp[order[p]]
            if c < 0:
                evt[p, links] = _pair(NULL_PAIR, NOT_YET)
            elif stamp[c] == g:
                evt[p, links] = _pair(latest[c], NOT_YET)
                evt[latest[c], links] = _pair(_high(evt[latest[c], links]), order[p])
            else:
                evt[p, links] = _pair(-1, NOT_YET)
                if first.shape[0] > 0:
                    first[order[p]] = 1
            if c >= 0:
                stamp[c] = g
                latest[c] = p


def evt_layout(sums: bool, distinct: bool, maximum: bool) -> tuple[int, int]:
    """A stream's event matrix: its width and the place of LINKS. TS, then CUM when sums or
    maxima are read (a maximum is a difference of totals), then LINKS when distinct counts
    or maxima are, then STACK when maxima are: a stream read for distinct counts alone has
    rows of 16 bytes rather than 24."""
    links = CUM + 1 if sums or maximum else CUM
    width = links + 2 if maximum else links + 1 if distinct else links
    return width, links


@_inline
def _advance(e: int, t: int, cur: int, evt: I64, links: int, ent: I32, windows: I64) -> None:
    """Move the owner's windows to time t (`cur`: the row being processed)."""
    nw = windows.shape[0]
    head = ent[e, 3 * nw]
    distinct = evt.shape[1] > links
    for w in range(nw):
        tail = ent[e, w]
        bound = t - windows[w]
        if tail >= head or evt[tail, TS] >= bound:
            continue
        gone = 0
        while tail < head and evt[tail, TS] < bound:
            if distinct:
                pair = evt[tail, links]
                if _high(pair) != NULL_PAIR and _low(pair) >= cur:
                    gone += 1
            tail += 1
        ent[e, w] = tail
        ent[e, nw + w] -= gone
        if evt.shape[1] > links + 1:
            front = ent[e, 2 * nw + w]
            while front >= 0 and evt[front, TS] < bound:
                front = _low(evt[front, links + 1])
            ent[e, 2 * nw + w] = front


@_inline
def _add(e: int, evt: I64, links: int, starts: I64, ent: I32, nw: int) -> None:
    """Append the owner's next event (its windows are already at its time). The newest
    event always ends on top of the maxima stack, so the top is the owner's previous event."""
    p = ent[e, 3 * nw]
    ent[e, 3 * nw] = p + 1
    stack = links + 1
    maximum = evt.shape[1] > stack
    top = -1
    if maximum:
        amount = evt[p + 1, CUM] - evt[p, CUM]
        top = p - 1 if p > starts[e] else -1
        while top >= 0 and evt[top + 1, CUM] - evt[top, CUM] <= amount:
            top = _high(evt[top, stack])
        evt[p, stack] = _pair(top, _low(evt[p, stack]))
        if top >= 0:
            evt[top, stack] = _pair(_high(evt[top, stack]), p)
    for w in range(nw):
        if evt.shape[1] > links:
            q = _high(evt[p, links])
            if q != NULL_PAIR and q < ent[e, w]:
                ent[e, nw + w] += 1
        if maximum:
            front = ent[e, 2 * nw + w]
            if front < 0 or front > top:
                ent[e, 2 * nw + w] = p


@_inline
def _prefetch_ahead(
    i: int, roles: I32, query_roles: I64, evt: I64, links: int, ent: I32, nw: int
) -> None:
    """Owner rows of transaction i + 2·AHEAD, and the events that transaction i + AHEAD
    (whose rows arrived by now) reads: every window's tail and maximum, and the head. Each
    tail sits in its own stretch of the owner's history, so each is a miss of its own."""
    n = roles.shape[1]
    maximum = evt.shape[1] > links + 1
    for q in range(query_roles.shape[0]):
        if i + 2 * AHEAD < n:
            far = roles[query_roles[q], i + 2 * AHEAD]
            if far >= 0:
                _prefetch(ent, far)
        if i + AHEAD < n:
            near = roles[query_roles[q], i + AHEAD]
            if near >= 0:
                for w in range(nw):
                    _prefetch(evt, ent[near, w])
                    if maximum and ent[near, 2 * nw + w] >= 0:
                        _prefetch(evt, ent[near, 2 * nw + w])
                _prefetch(evt, ent[near, 3 * nw])


@_jit
def stream_pass(
    start: int, stop: int, ts: I64, roles: I32, owner_role: int, query_roles: I64, cols: I64,
    windows: I64, evt: I64, links: int, starts: I64, ent: I32, out: I64,
) -> None:  # fmt: skip
    """Rows [start, stop) of one stream: read every query's windows, then add the event.

    cols[q, measure, w] is the row of `out` that receives the value (-1: not a feature);
    `out` column r is transaction start + r. `evt` is laid out as `evt_layout` says (LINKS
    in column `links`): its width switches distinct counts and maxima on.
    """
    nw = windows.shape[0]
    # A query of the owner's own role has moved its windows to the transaction's time: moving
    # them again before adding its event would change nothing.
    owner_queried = False
    for q in range(query_roles.shape[0]):
        owner_queried = owner_queried or query_roles[q] == owner_role
    for i in range(start, stop):
        _prefetch_ahead(i, roles, query_roles, evt, links, ent, nw)
        t = ts[i]
        r = i - start
        for q in range(query_roles.shape[0]):
            e = roles[query_roles[q], i]
            if e < 0:
                for w in range(nw):
                    for m in range(cols.shape[1]):
                        if cols[q, m, w] >= 0:
                            out[cols[q, m, w], r] = 0
                continue
            _advance(e, t, i, evt, links, ent, windows)
            head = ent[e, 3 * nw]
            for w in range(nw):
                tail = ent[e, w]
                if cols[q, Measure.COUNT, w] >= 0:
                    out[cols[q, Measure.COUNT, w], r] = head - tail
                if cols[q, Measure.SUM, w] >= 0:
                    out[cols[q, Measure.SUM, w], r] = evt[head, CUM] - evt[tail, CUM]
                if cols[q, Measure.MAX, w] >= 0:
                    front = ent[e, 2 * nw + w]
                    biggest = evt[front + 1, CUM] - evt[front, CUM] if front >= 0 else 0
                    out[cols[q, Measure.MAX, w], r] = biggest
                if cols[q, Measure.DISTINCT, w] >= 0:
                    out[cols[q, Measure.DISTINCT, w], r] = ent[e, nw + w]
        e = roles[owner_role, i]
        if e >= 0:
            if not owner_queried:
                _advance(e, t, i, evt, links, ent, windows)
            _add(e, evt, links, starts, ent, nw)


BALANCE, LAST_SEEN, OPENED, CLASS, PARTY = range(5)
"""Columns of an account's row in the single-value pass (a 64-byte row: one cache line)."""
BIRTH, PHONES, FIRST_ACCOUNT, END_ACCOUNT = range(4)
"""Columns of a party's row."""
FIRST_ROWS: Final = range(3)
FIRST_PAYEE, FIRST_DEVICE, FIRST_CITY = FIRST_ROWS
"""Rows of the first-pair flags: first (payer, payee), (device, payer) and (payer, city)."""
OUT_ROW, WHO, SLOT, FORMULA, ABSENT = range(5)
"""Columns of a single-value plan, one row per feature: its row of the output, whose fact it
reads (a `Role`, or TRANSACTION), where the pass keeps that fact (`fact_slot`), its
`Formula`, and its value when the transaction has no such entity."""
TRANSACTION: Final = len(Role)
"""The `WHO` of the transaction's own facts."""
_FACTS: Final = len(Fact)
BLOCK: Final = 256
"""Transactions whose facts the single-value pass gathers before it makes their features: a
feature is then made for a run of transactions at a time, writing one stretch of its column
(rather than one value in each of 23 columns per transaction), and its formula is known for
the whole run."""


def fact_slot(who: int, fact: Fact) -> int:
    """The row of the single-value pass's facts that holds the fact of `who`."""
    return who * _FACTS + int(fact)


@_inline
def _make(
    value: Any, plan: I64, fact: I64, present: B, ts: I64, date: I64, amount: I64, first: int,
    rows: int, out: npt.NDArray[Any], column: int,
) -> None:  # fmt: skip
    """The features of `plan` for the `rows` transactions from `first`, from their facts,
    by `value` (`integer_value` or `ratio_value`)."""
    for s in range(plan.shape[0]):
        row, who, slot = plan[s, OUT_ROW], plan[s, WHO], plan[s, SLOT]
        formula, absent = plan[s, FORMULA], plan[s, ABSENT]
        for j in range(rows):
            i = first + j
            made = value(formula, fact[slot, j], ts[i], date[j], amount[i])
            out[row, column + j] = made if present[who, j] else absent


@_jit
def scalar_pass(
    start: int, stop: int, ts: I64, amount: I64, roles: I32, flags: I8, flag_facts: I64,
    firsts: I8, account: I64, party: I64, party_opened: I64, party_banks: I64,
    device_accounts: I64, integers: I64, ratios: I64, out: I64, out_float: F64,
) -> None:  # fmt: skip
    """Rows [start, stop) of the single-value features, BLOCK transactions at a time: fetch
    every fact of each transaction and of its entities (`catalog.FACTS_OF`) in time order,
    then make each feature of the plans `integers` (into `out`) and `ratios` (`out_float`)
    from its fact (`scalar.integer_value`, `ratio_value`).

    flags[f] is the flag fact flag_facts[f]; firsts rows: FIRST_PAYEE, FIRST_DEVICE,
    FIRST_CITY. `account` rows hold the balance and last activity (NEVER: none), which carry
    over from chunk to chunk, and the directory facts (OPENED is NEVER for an unknown
    account); device_accounts[d, 0] counts payers seen on d.
    """
    n = ts.shape[0]
    fact = np.zeros(((TRANSACTION + 1) * _FACTS, BLOCK), dtype=np.int64)
    present = np.ones((TRANSACTION + 1, BLOCK), dtype=np.bool_)
    date = np.zeros(BLOCK, dtype=np.int64)
    day = np.iinfo(np.int64).min
    today = 0
    tx = TRANSACTION * _FACTS
    for first in range(start, stop, BLOCK):
        rows = min(BLOCK, stop - first)
        for j in range(rows):
            i = first + j
            if i + 2 * AHEAD < n:
                for side in (Role.PAYER, Role.PAYEE):
                    far = roles[side, i + 2 * AHEAD]
                    if far >= 0:
                        _prefetch(account, far)
            if i + AHEAD < n:
                near = roles[Role.PERSON, i + AHEAD]
                if near >= 0:
                    _prefetch(party, near)
                near = roles[Role.DEVICE, i + AHEAD]
                if near >= 0:
                    _prefetch(device_accounts, near)
            t = ts[i]
            a = amount[i]
            if local_day(t) != day:  # time order: the date moves on now and then
                day = local_day(t)
                today = civil_date(day)
            date[j] = today
            fact[tx + Fact.AMOUNT, j] = a
            fact[tx + Fact.TIME, j] = t
            for f in range(flags.shape[0]):
                fact[tx + flag_facts[f], j] = flags[f, i]
            for side in (Role.PAYER, Role.PAYEE):
                who = roles[side, i]
                present[side, j] = who >= 0
                if who >= 0:
                    at = side * _FACTS
                    fact[at + Fact.OPENED, j] = account[who, OPENED]
                    fact[at + Fact.LAST_ACTIVE, j] = account[who, LAST_SEEN]
                    fact[at + Fact.BALANCE, j] = account[who, BALANCE]
                    fact[at + Fact.CLASS, j] = account[who, CLASS]
            payer = Role.PAYER * _FACTS
            fact[payer + Fact.NEW_PAYEE, j] = firsts[FIRST_PAYEE, i]
            fact[payer + Fact.NEW_DEVICE, j] = firsts[FIRST_DEVICE, i]
            fact[payer + Fact.NEW_CITY, j] = firsts[FIRST_CITY, i]
            holder = roles[Role.PERSON, i]
            present[Role.PERSON, j] = holder >= 0
            if holder >= 0:
                person = Role.PERSON * _FACTS
                lo = party[holder, FIRST_ACCOUNT]
                k = np.searchsorted(party_opened[lo : party[holder, END_ACCOUNT]], t, side="right")
                fact[payer + Fact.HOLDER_BIRTH, j] = party[holder, BIRTH]
                fact[person + Fact.ACCOUNTS, j] = k
                fact[person + Fact.BANKS, j] = party_banks[lo + k - 1] if k > 0 else 0
                fact[person + Fact.PHONE_PARTIES, j] = party[holder, PHONES]
            else:
                fact[payer + Fact.HOLDER_BIRTH, j] = -1
            device = roles[Role.DEVICE, i]
            present[Role.DEVICE, j] = device >= 0
            if device >= 0:
                fact[Role.DEVICE * _FACTS + Fact.DEVICE_PAYERS, j] = device_accounts[device, 0]
                if firsts[FIRST_DEVICE, i] == 1:
                    device_accounts[device, 0] += 1
            for side, sign in ((Role.PAYER, -1), (Role.PAYEE, 1)):
                who = roles[side, i]
                if who >= 0:
                    account[who, BALANCE] += sign * a
                    account[who, LAST_SEEN] = t
        column = first - start
        _make(integer_value, integers, fact, present, ts, date, amount, first, rows, out, column)
        _make(ratio_value, ratios, fact, present, ts, date, amount, first, rows, out_float, column)


LOGIN_OUT_ROW, LOGIN_WHO, LOGIN_SIGNAL, LOGIN_MEASURE, LOGIN_WINDOW, LOGIN_ABSENT = range(6)
"""Columns of the login plan, one row per login feature: its row of the output, the role of
its account, its `Signal`, its `LoginMeasure`, its window (µs) and its value without logins."""
_HOURS_SINCE: Final = int(LoginMeasure.HOURS_SINCE)


@_jit
def login_pass(
    start: int, stop: int, ts: I64, roles: I32, plan: I64, starts: I64, times: I64, out: I64
) -> None:
    """Rows [start, stop) of the login features: for the account in each feature's role, the
    logins with its signal at or before the transaction (`times[starts[s, a]:starts[s, a+1]]`,
    sorted)."""
    for i in range(start, stop):
        t = ts[i]
        r = i - start
        for k in range(plan.shape[0]):
            row = plan[k, LOGIN_OUT_ROW]
            a = roles[plan[k, LOGIN_WHO], i]
            signal = plan[k, LOGIN_SIGNAL]
            if a < 0 or starts[signal, a] == starts[signal, a + 1]:
                out[row, r] = plan[k, LOGIN_ABSENT]
                continue
            mine = times[starts[signal, a] : starts[signal, a + 1]]
            end = np.searchsorted(mine, t, side="right")
            if plan[k, LOGIN_MEASURE] == _HOURS_SINCE:
                out[row, r] = hours_since(t, mine[end - 1]) if end > 0 else plan[k, LOGIN_ABSENT]
            else:
                begin = np.searchsorted(mine, t - plan[k, LOGIN_WINDOW], side="left")
                out[row, r] = end - begin


@_jit
def ratio_pass(rows: I64, out: I64, out_float: F64) -> None:
    """out_float[rows[k, 2]] = ratio_of(out[rows[k, 0]], out[rows[k, 1]]) for every ratio k
    (numerator row, denominator row, float row), over the chunk's columns."""
    for k in range(rows.shape[0]):
        numerator, denominator, target = rows[k, 0], rows[k, 1], rows[k, 2]
        for j in range(out.shape[1]):
            out_float[target, j] = ratio_of(out[numerator, j], out[denominator, j])
