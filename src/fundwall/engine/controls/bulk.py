"""The bulk form of the hard controls: a compiled pass over a whole history in time order.

`BulkControls(book, directory, policy, encoded)` encodes the control book against a
transactions table as the feature pass encoded it: accounts, devices, IPs (the feature
pass's codes) and holders' hashes are dense codes, each
kind of restriction and list entry a compressed row of intervals per code (most codes have
none), and the status predicates of the domain (`can_pay_out`, `allows_non_counter`,
`can_receive`) small lookup tables. `run(start, stop, rule_codes)` then walks the rows in
order with the ledger (settled balance, calendar-day and calendar-year limit usage per
account) carried over between calls, exactly as `OnlineControls.check` and `settle` do one
transaction at a time. It needs the live rule pack's action per row, because only what was
not blocked is booked. The parity test holds both forms to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.engine.controls.book import ControlBook
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
    ListKind,
    RestrictionKind,
)
from fundwall.engine.controls.online import Limits
from fundwall.engine.features.catalog import Role
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.encode import Encoded
from fundwall.engine.features.scalar import local_yyyymmdd

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]
Rows = tuple[I64, I64, I64, I64, I64]

STATUSES: Final = tuple(AccountStatus)
_STATUS_WHOLE: Final = {
    AccountStatus.CLOSED: PAYER_CLOSED,
    AccountStatus.STOP_PAID: PAYER_STOP_PAID,
    AccountStatus.FROZEN_FULL: PAYER_FROZEN,
    AccountStatus.DORMANT: PAYER_DORMANT,
}
_KIND_CODE: Final = {
    RestrictionKind.STOP_PAYMENT: 0,
    RestrictionKind.FREEZE: 1,
    RestrictionKind.NON_COUNTER_SUSPENSION: 2,
}
BLOCK: Final = Action.BLOCK.severity
NON_COUNTER_FLAG: Final = 2
"""Row of `Encoded.flags` that says the channel is not the counter (the feature
`is_non_counter`: a missing channel is not a non-counter one)."""
_LIST_KINDS: Final = (
    ListKind.ACCOUNT,
    ListKind.DEVICE,
    ListKind.IP,
    ListKind.ID_HASH,
    ListKind.PHONE_HASH,
)
"""The order of the key spaces in the combined code space of list entries."""
_KEY_CONTROL: Final = np.array(
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


@dataclass(frozen=True)
class Intervals:
    """Per code, rows `start[c]:start[c + 1]` of `[begin, end)` periods with a value."""

    start: I64
    begin: I64
    end: I64
    value: I64
    extra: I64


def intervals(
    n_codes: int, codes: Sequence[int], rows: Sequence[tuple[int, int, int, int]]
) -> Intervals:
    """Group `rows` (begin, end, value, extra) by their code; codes < 0 are dropped."""
    code = np.asarray(codes, dtype=np.int64).reshape(-1)
    data = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    keep = code >= 0
    code, data = code[keep], data[keep]
    order = np.argsort(code, kind="stable")
    start = np.zeros(n_codes + 1, dtype=np.int64)
    np.cumsum(np.bincount(code, minlength=n_codes), out=start[1:])
    data = data[order]
    return Intervals(
        start,
        np.ascontiguousarray(data[:, 0]),
        np.ascontiguousarray(data[:, 1]),
        np.ascontiguousarray(data[:, 2]),
        np.ascontiguousarray(data[:, 3]),
    )


class BulkControls:
    """The hard controls over one transactions table, run chunk by chunk in order."""

    def __init__(
        self,
        book: ControlBook,
        directory: AccountDirectory,
        policy: PolicySettings,
        enc: Encoded,
    ) -> None:
        """Over a table as the features encoded it (`fundwall.engine.features.encode`), so
        accounts, devices and IPs have the same codes here as in the feature pass."""
        self.ts = enc.ts
        self.amount = enc.amount
        self.payer = enc.roles[Role.PAYER]
        self.payee = enc.roles[Role.PAYEE]
        self.device = enc.roles[Role.DEVICE]
        self.ip = enc.roles[Role.IP]
        self.non_counter = enc.flags[NON_COUNTER_FLAG].astype(np.bool_)
        accounts, devices, ips = (values.to_pylist() for values in enc.values)
        code_of = {account: i for i, account in enumerate(accounts)}
        n_acc = len(accounts)
        rows = enc.account_row
        known = rows >= 0
        self.klass = np.full(n_acc, -1, dtype=np.int64)
        self.klass[known] = directory.account_class[rows[known]]
        self.status = np.zeros(n_acc, dtype=np.int64)
        for account, status in book.statuses.items():
            if account in code_of:
                self.status[code_of[account]] = STATUSES.index(status)
        self.bound = np.full(n_acc, -1, dtype=np.int64)
        for account, bound in book.bound.items():
            if account in code_of:
                self.bound[code_of[account]] = code_of.get(bound, -1)
        id_code: dict[str, int] = {}
        phone_code: dict[str, int] = {}
        self.id_hash = np.full(n_acc, -1, dtype=np.int64)
        self.phone_hash = np.full(n_acc, -1, dtype=np.int64)
        for account, (id_hash, phone_hash) in book.party_keys.items():
            code = code_of.get(account)
            if code is None:
                continue
            if id_hash is not None:
                self.id_hash[code] = id_code.setdefault(id_hash, len(id_code))
            if phone_hash is not None:
                self.phone_hash[code] = phone_code.setdefault(phone_hash, len(phone_code))
        self.restrictions = intervals(
            n_acc,
            [code_of.get(r.account_no, -1) for r in book.all_restrictions()],
            [
                (
                    r.start_us,
                    r.end_us,
                    _KIND_CODE[r.kind],
                    -1 if r.amount_fen is None else r.amount_fen,
                )
                for r in book.all_restrictions()
            ],
        )
        listings = book.all_listings()
        self.punished = intervals(
            len(id_code),
            [id_code.get(listing.id_hash, -1) for listing in listings],
            [(listing.start_us, listing.end_us, 0, 0) for listing in listings],
        )
        spaces = {
            ListKind.ACCOUNT: code_of,
            ListKind.DEVICE: {d: i for i, d in enumerate(devices)},
            ListKind.IP: {a: i for i, a in enumerate(ips)},
            ListKind.ID_HASH: id_code,
            ListKind.PHONE_HASH: phone_code,
        }
        # One code space for every kind of key: each kind's codes shifted past the previous.
        entries = book.all_entries()
        self.list_base = np.zeros(len(_LIST_KINDS), dtype=np.int64)
        total = 0
        for k, kind in enumerate(_LIST_KINDS):
            self.list_base[k] = total
            total += len(spaces[kind])
        self.lists = intervals(
            total,
            [
                int(self.list_base[_LIST_KINDS.index(e.kind)]) + spaces[e.kind][e.key]
                if e.key in spaces[e.kind]
                else -1
                for e in entries
            ],
            [
                (e.start_us, e.end_us, e.category.action.severity, int(e.category.payer_side_only))
                for e in entries
            ],
        )
        self.predicates = np.array(
            [
                [
                    int(s.can_pay_out),
                    int(s.allows_non_counter),
                    int(s.can_receive),
                    _STATUS_WHOLE.get(s, -1),
                    int(s is AccountStatus.FROZEN_PARTIAL),
                ]
                for s in STATUSES
            ],
            dtype=np.int64,
        )
        self.limits = np.array(Limits(policy).as_tuple(), dtype=np.int64)
        self.ledger = np.zeros((n_acc, 7), dtype=np.int64)
        self.ledger[known, 0] = directory.opening_balance[rows[known]]

    def run(self, start: int, stop: int, rule_codes: U8) -> tuple[I64, U8, U8]:
        """Controls of rows `start:stop` given the live pack's action codes of those rows:
        (bit mask of the controls that applied, the most severe action they force, the
        final live action) per row. Rows must be run in order, each once."""
        rows = stop - start
        mask = np.zeros(rows, dtype=np.int64)
        forced = np.zeros(rows, dtype=np.uint8)
        final = np.zeros(rows, dtype=np.uint8)
        _control_pass(
            start,
            stop,
            self.ts,
            self.amount,
            self.payer,
            self.payee,
            self.device,
            self.ip,
            self.non_counter,
            self.klass,
            self.status,
            self.bound,
            self.id_hash,
            self.phone_hash,
            self.predicates,
            _tuple(self.restrictions),
            _tuple(self.punished),
            self._list_keys(start, stop),
            *_tuple(self.lists),
            self.limits,
            self.ledger,
            np.ascontiguousarray(rule_codes, dtype=np.uint8),
            mask,
            forced,
            final,
        )
        return mask, forced, final

    def _list_keys(self, start: int, stop: int) -> I64:
        """Per row of `start:stop`, the list codes of its eight keys (`_KEY_CONTROL` order),
        -1 where absent; no rows at all when the list is empty."""
        if not len(self.lists.begin):
            return np.zeros((0, stop - start), dtype=np.int64)
        payer, payee = self.payer[start:stop], self.payee[start:stop]
        keys = np.full((len(_KEY_CONTROL), stop - start), -1, dtype=np.int64)
        columns = (
            (payer, None, 0),
            (payee, None, 0),
            (self.device[start:stop], None, 1),
            (self.ip[start:stop], None, 2),
            (payer, self.id_hash, 3),
            (payer, self.phone_hash, 4),
            (payee, self.id_hash, 3),
            (payee, self.phone_hash, 4),
        )
        for k, (codes, through, space) in enumerate(columns):
            present = codes >= 0
            found = codes[present] if through is None else through[codes[present]]
            keys[k, present] = np.where(found >= 0, found + self.list_base[space], -1)
        return keys


def _tuple(found: Intervals) -> Rows:
    return (found.start, found.begin, found.end, found.value, found.extra)


@njit(nogil=True, cache=True)
def _control_pass(
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
                    hits |= 1 << _KEY_CONTROL[k]
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
