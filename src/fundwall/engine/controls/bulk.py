"""The bulk form of the hard controls: a compiled pass over a whole history in time order.

`BulkControls(book, directory, policy, encoded)` encodes the control book against a
transactions table as the feature pass encoded it: accounts, devices, IPs (the feature
pass's codes) and holders' hashes are dense codes, each kind of restriction and list entry a
compressed row of intervals per code (most codes have none), and the control table
(`model.CONTROLS`, the one `OnlineControls` reads) small arrays: the control each status and
each kind of restriction triggers, the amount checks with the policy's limits, the control
of each risk list key. `run(start, stop, rule_codes)` then walks the rows in
order with the ledger (settled balance, calendar-day and calendar-year limit usage per
account) carried over between calls, exactly as `OnlineControls.check` and `settle` do one
transaction at a time. It needs the live rule pack's action per row, because only what was
not blocked is booked. The parity test holds both forms to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls import kernel
from fundwall.engine.controls.book import ControlBook, Restriction, RiskEntry
from fundwall.engine.controls.kernel import Rows, control_pass
from fundwall.engine.controls.model import (
    BALANCE,
    CAP_KIND,
    CONTROLS,
    FREE_BALANCE,
    LEDGER_COLUMNS,
    LIST_CONTROLS,
    NON_COUNTER_ONLY,
    OUTFLOW_CAP,
    PUNISHMENT,
    RESTRICTION_CONTROLS,
    STATUS_CONTROLS,
    AmountCheck,
    ListKind,
    ListRole,
    RestrictionKind,
    Side,
    amount_checks,
)
from fundwall.engine.features.catalog import Fact, Role
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.encode import Encoded
from fundwall.engine.features.flags import FLAG_ROW

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

STATUSES: Final = tuple(AccountStatus)
KINDS: Final = tuple(RestrictionKind)
_SIDES: Final = {Side.PAYER: kernel.PAYER, Side.PAYEE: kernel.PAYEE}
_CLASSES: Final = 5
"""Account classes as the features code them: -1 unknown, 0 corporate, 1–3."""
_KEYS: Final = (
    ListRole.PAYER_ACCOUNT,
    ListRole.PAYEE_ACCOUNT,
    ListRole.DEVICE,
    ListRole.IP,
    ListRole.PAYER_PARTY,
    ListRole.PAYER_PARTY,
    ListRole.PAYEE_PARTY,
    ListRole.PAYEE_PARTY,
)
"""The role of each key a row is looked up by on the risk list: payer, payee, device, IP,
payer's ID and phone hashes, payee's ID and phone hashes (`BulkControls._list_keys`)."""


@dataclass(frozen=True)
class _Table:
    """The control table as the kernel reads it (see `kernel.control_pass`)."""

    by_status: I64
    by_kind: I64
    severity_of: I64
    non_counter_only: int
    keys: I64


@cache
def control_table() -> _Table:
    # The compiled pass reads restrictions, holds and the punishment list of the payer only.
    paying = {
        CONTROLS[c].side
        for c in (FREE_BALANCE, PUNISHMENT, OUTFLOW_CAP, *RESTRICTION_CONTROLS.values())
    }
    assert paying == {Side.PAYER}, paying
    by_status = np.full((3, len(STATUSES)), -1, dtype=np.int64)
    for side, controls in STATUS_CONTROLS.items():
        for status, control in controls.items():
            by_status[_SIDES[side], STATUSES.index(status)] = control
    by_status[kernel.HOLDS_ALL] = [s in CONTROLS[FREE_BALANCE].statuses for s in STATUSES]
    by_kind = np.full((3, len(KINDS)), -1, dtype=np.int64)
    for kind, control in RESTRICTION_CONTROLS.items():
        assert kind is not None
        by_kind[kernel.CONTROL, KINDS.index(kind)] = control
    by_kind[kernel.HOLDS] = [kind in CONTROLS[FREE_BALANCE].holds for kind in KINDS]
    by_kind[kernel.CAPS] = [kind is CAP_KIND for kind in KINDS]
    keys = np.array(
        [(LIST_CONTROLS[role], role.payer_side) for role in _KEYS], dtype=np.int64
    ).reshape(-1, 2)
    return _Table(
        by_status=by_status,
        by_kind=by_kind,
        severity_of=np.array(
            [-1 if c.action is None else c.action.severity for c in CONTROLS], dtype=np.int64
        ),
        non_counter_only=sum(1 << c for c in NON_COUNTER_ONLY),
        keys=keys,
    )


def amount_table(policy: PolicySettings) -> tuple[I64, I64]:
    """The LIMIT and BALANCE_CAP controls with the policy's limits (`kernel` columns), by
    side and account class, and where each side's and class's rows start."""
    checks = amount_checks(policy)
    rows: list[AmountCheck] = []
    starts = np.zeros((2, _CLASSES + 1), dtype=np.int64)
    for side in Side:
        for k, klass in enumerate(range(-1, _CLASSES - 1)):
            starts[_SIDES[side], k] = len(rows)
            rows += checks.get((side, klass), ())
        starts[_SIDES[side], _CLASSES] = len(rows)
    return np.array(rows, dtype=np.int64).reshape(-1, 6), starts


_NOT_KEPT: Final = np.zeros((0, 2, LEDGER_COLUMNS), dtype=np.int64)
_NO_ACCOUNTS: Final = np.zeros(0, dtype=np.uint8)
"""A history keeps no ledger rows before each row and marks no account touched
(`kernel.control_pass`)."""

_SPACES: Final = 5
_LIST_SPACE: Final = {
    ListKind.ACCOUNT: 0,
    ListKind.DEVICE: 1,
    ListKind.IP: 2,
    ListKind.ID_HASH: 3,
    ListKind.CREDIT_CODE_HASH: 3,
    ListKind.PHONE_HASH: 4,
}
"""The key space of each kind in the combined code space of list entries (a holder's ID and
credit code hashes share the identity codes); a merchant names nothing a transaction has."""
_HOLDER_SPACES: Final = 3
"""The spaces from this one on are holders' (identity, phone), keyed by kind and key."""


@dataclass(frozen=True)
class Intervals:
    """Per code, rows `start[c]:start[c + 1]` of `[begin, end)` periods with a value."""

    start: I64
    begin: I64
    end: I64
    value: I64
    extra: I64


def intervals(
    n_codes: int, codes: Sequence[int] | I64, rows: Sequence[tuple[int, int, int, int]]
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
        self.non_counter = enc.flags[FLAG_ROW[Fact.NON_COUNTER]].astype(np.bool_)
        # The book's accounts, devices and IPs are looked up among the table's (Arrow's hash
        # table), rather than the table's tens of thousands made into Python dictionaries.
        accounts = enc.values[0]
        n_acc = len(accounts)
        rows = enc.account_row
        known = rows >= 0
        self.klass = np.full(n_acc, -1, dtype=np.int64)
        self.klass[known] = directory.account_class[rows[known]]
        self.status = np.zeros(n_acc, dtype=np.int64)
        code = places(accounts, book.statuses)
        status = np.array([STATUSES.index(s) for s in book.statuses.values()], dtype=np.int64)
        self.status[code[code >= 0]] = status[code >= 0]
        self.bound = np.full(n_acc, -1, dtype=np.int64)
        pairs = places(accounts, [*book.bound, *book.bound.values()]).reshape(2, -1)
        code, bound = pairs[0], pairs[1]
        self.bound[code[code >= 0]] = bound[code >= 0]
        # A holder's identity (the server's ID hash and the shared hashes of the ID or credit
        # code under every version) is one code; so is a phone under every version.
        id_code: dict[str, int] = {}
        phone_code: dict[str, int] = {}
        self.id_hash = np.full(n_acc, -1, dtype=np.int64)
        self.phone_hash = np.full(n_acc, -1, dtype=np.int64)
        holders = places(accounts, book.party_keys)
        for holder, keys in zip(holders.tolist(), book.party_keys.values(), strict=True):
            if holder < 0:
                continue
            identity = [_keyed(k, key) for k, key in keys.shared if k is not ListKind.PHONE_HASH]
            phones = [_keyed(k, key) for k, key in keys.shared if k is ListKind.PHONE_HASH]
            if keys.id_hash is not None:
                identity.insert(0, keys.id_hash)
            self.id_hash[holder] = _code_of(id_code, identity)
            self.phone_hash[holder] = _code_of(phone_code, phones)
        self.restrictions = intervals(
            n_acc,
            places(accounts, [r.account_no for r in book.all_restrictions()]),
            [restriction_row(r) for r in book.all_restrictions()],
        )
        listings = book.all_listings()
        self.punished = intervals(
            len(id_code),
            [id_code.get(listing.id_hash, -1) for listing in listings],
            [(listing.start_us, listing.end_us, 0, 0) for listing in listings],
        )
        holder_spaces = (id_code, phone_code)
        sizes = [*(len(values) for values in enc.values), *map(len, holder_spaces)]
        # One code space for every kind of key: each space's codes shifted past the previous.
        entries = [e for e in book.all_entries() if e.kind in _LIST_SPACE]
        self.list_base = np.zeros(_SPACES, dtype=np.int64)
        np.cumsum(sizes[:-1], out=self.list_base[1:])
        codes = np.full(len(entries), -1, dtype=np.int64)
        for k in range(_SPACES):
            at = [j for j, e in enumerate(entries) if _LIST_SPACE[e.kind] == k]
            if k < _HOLDER_SPACES:
                found = places(enc.values[k], [entries[j].key for j in at])
            else:
                space = holder_spaces[k - _HOLDER_SPACES]
                keyed = (_keyed(entries[j].kind, entries[j].key) for j in at)
                found = np.array([space.get(key, -1) for key in keyed], dtype=np.int64)
            codes[at] = np.where(found >= 0, found + self.list_base[k], -1)
        self.lists = intervals(
            sum(sizes),
            codes,
            [entry_row(e) for e in entries],
        )
        self.table = control_table()
        self.amounts, self.amount_rows = amount_table(policy)
        self.ledger = np.zeros((n_acc, LEDGER_COLUMNS), dtype=np.int64)
        self.ledger[known, BALANCE] = directory.opening_balance[rows[known]]

    def run(self, start: int, stop: int, rule_codes: U8) -> tuple[I64, U8, U8]:
        """Controls of rows `start:stop` given the live pack's action codes of those rows:
        (bit mask of the controls that applied, the most severe action they force, the
        final live action) per row. Rows must be run in order, each once."""
        rows = stop - start
        mask = np.zeros(rows, dtype=np.int64)
        forced = np.zeros(rows, dtype=np.uint8)
        final = np.zeros(rows, dtype=np.uint8)
        control_pass(
            start,
            stop,
            self.ts,
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
            self.table.by_status,
            self.table.by_kind,
            FREE_BALANCE,
            PUNISHMENT,
            OUTFLOW_CAP,
            self.amounts,
            self.amount_rows,
            self.table.severity_of,
            self.table.non_counter_only,
            interval_rows(self.restrictions),
            interval_rows(self.punished),
            self.table.keys,
            self._list_keys(start, stop),
            *interval_rows(self.lists),
            self.ledger,
            np.ascontiguousarray(rule_codes, dtype=np.uint8),
            mask,
            forced,
            final,
            _NOT_KEPT,
            _NO_ACCOUNTS,
        )
        return mask, forced, final

    def _list_keys(self, start: int, stop: int) -> I64:
        """Per row of `start:stop`, the list codes of its eight keys (`_KEYS` order), -1
        where absent; no rows at all when the list is empty."""
        if not len(self.lists.begin):
            return np.zeros((0, stop - start), dtype=np.int64)
        payer, payee = self.payer[start:stop], self.payee[start:stop]
        keys = np.full((len(_KEYS), stop - start), -1, dtype=np.int64)
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


def places(values: pa.Array, keys: Iterable[str]) -> I64:
    """The place of each of `keys` among `values` (unique strings), -1 where it is not."""
    wanted = list(keys)
    if not wanted:  # each lookup hashes every value first
        return np.zeros(0, dtype=np.int64)
    found = pc.index_in(pa.array(wanted, pa.string()), value_set=values)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64)


def _keyed(kind: ListKind, key: str) -> str:
    """A holder's shared key with its kind, as the holder spaces key them (an entry of one
    kind never matches a key of another, as online)."""
    return f"{kind.value}|{key}"


def _code_of(codes: dict[str, int], keys: Sequence[str]) -> int:
    """The one code of `keys` (the same thing's keys): the code any of them has already,
    else a new one; -1 without keys."""
    if not keys:
        return -1
    code = next((codes[key] for key in keys if key in codes), len(codes))
    for key in keys:
        codes.setdefault(key, code)
    return code


def interval_rows(found: Intervals) -> Rows:
    """`found` as the compiled pass takes it (`kernel.Rows`)."""
    return (found.start, found.begin, found.end, found.value, found.extra)


def restriction_row(restriction: Restriction) -> tuple[int, int, int, int]:
    """A restriction as an interval row: its period, its kind's code, its amount (-1: the
    whole account)."""
    amount = restriction.amount_fen
    return (
        restriction.start_us,
        restriction.end_us,
        KINDS.index(restriction.kind),
        -1 if amount is None else amount,
    )


def entry_row(entry: RiskEntry) -> tuple[int, int, int, int]:
    """A risk list entry as an interval row: its period, the action its category forces,
    whether it counts on the paying side only."""
    category = entry.category
    return (entry.start_us, entry.end_us, category.action.severity, int(category.payer_side_only))
