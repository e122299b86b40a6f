"""Login events (`catalog.LOGIN_FEATURES`): the account-trading signs (断卡) of an account's
logins, for both executions.

A login is a fact about an account at its own time: it does not move the engine's clock, and a
transaction at time t reads the logins at or before t (a login at the same µs counts as before
it). Whether a login came from a new device depends only on what happened strictly before it
(`catalog.Signal`), so the value of every login feature is a function of the logins and the
transactions, whatever order they reached the engine in. That is what lets a restart fold the
logins beside the transactions by time and rebuild the very same state.

Online (`LoginHistory`): each account keeps its logins sorted by time; a login older than the
longest login window before the engine's clock (`LOGIN_HORIZON_US`) is folded into the latest
time of each signal and dropped. The online state refuses a login that arrives older than that
horizon, so what was dropped is final: no later event can come before it.

Bulk (`login_index`): which signals each login carries, then, per signal, the logins' times
grouped by account in the transactions' code space (`kernels.login_pass` reads them).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from sys import intern
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import (
    BAD_FACE_CHECKS,
    FACE_CHECKS,
    LOGIN_ABSENT,
    LOGIN_FEATURES,
    NEVER,
    LoginMeasure,
    Role,
    Signal,
)
from fundwall.engine.features.encode import Encoded, codes
from fundwall.engine.features.inputs import LOGIN_COLUMNS
from fundwall.engine.features.scalar import hours_since

I64 = npt.NDArray[np.int64]
_NEW_BIT: Final = 1 << Signal.NEW_DEVICE
_NEW_BITS: Final = _NEW_BIT | 1 << Signal.RISKY
"""The signals of a login from a new device: both a new device and a risky login."""
_FAILED_BITS: Final = 1 << Signal.FACE_FAILED | 1 << Signal.RISKY
_HOURS_SINCE: Final = int(LoginMeasure.HOURS_SINCE)
RoleRows = tuple[tuple[int, int, int], ...]
"""Login features of one role: (signal, measure, window µs), in catalogue order."""


class DeviceUse(Protocol):
    """The devices an account paid from (`online_singles.AccountState`)."""

    seen: dict[str, int | None]
    """`d:<device>` → when the account first paid from the device."""
    device_since: int | None
    """When the account first paid from any device."""


def _rows(role: Role) -> RoleRows:
    return tuple(
        (int(row.signal), int(row.measure), row.window.micros if row.window else 0)
        for row in LOGIN_FEATURES
        if row.feature.role is role
    )


PAYER_ROWS: Final = _rows(Role.PAYER)
PAYEE_ROWS: Final = _rows(Role.PAYEE)
PAYER_ABSENT: Final = [LOGIN_ABSENT[LoginMeasure(m)] for _, m, _ in PAYER_ROWS]
PAYEE_ABSENT: Final = [LOGIN_ABSENT[LoginMeasure(m)] for _, m, _ in PAYEE_ROWS]


def is_bad_face(face_check: str) -> bool:
    """A failed or mismatched face check."""
    return face_check in BAD_FACE_CHECKS


class LoginHistory:
    """The logins of one account: those not yet past the horizon, sorted by time and id, and
    the latest time of each signal among those dropped."""

    __slots__ = ("bad", "devices", "first", "ids", "older", "since", "ts")

    def __init__(self) -> None:
        self.ts: list[int] = []
        self.ids: list[str] = []
        self.devices: list[str | None] = []
        self.bad = bytearray()
        self.first: dict[str, int] = {}
        """Each device's earliest login to the account, of every login folded."""
        self.since: int | None = None
        """The earliest login with a device."""
        self.older = [NEVER] * len(Signal)

    def add(self, login_id: str, t: int, device: str | None, bad: bool) -> bool:
        """Insert a login in its place (ties by id, so the order does not depend on arrival);
        False (nothing changes) when a login of that id at that time is here already."""
        ts = self.ts
        ids = self.ids
        at, end = bisect_left(ts, t), bisect_right(ts, t)
        if any(ids[k] == login_id for k in range(at, end)):
            return False
        while at < end and ids[at] < login_id:
            at += 1
        if device is not None:  # the same device in many logins: one object (`online`)
            device = intern(device)
        ts.insert(at, t)
        ids.insert(at, login_id)
        self.devices.insert(at, device)
        self.bad.insert(at, 1 if bad else 0)
        if device is not None:
            first = self.first.get(device)
            if first is None or t < first:
                self.first[device] = t
            if self.since is None or t < self.since:
                self.since = t
        return True

    def _signals(self, stop: int, account: DeviceUse) -> bytearray:
        """The signals of each of the first `stop` logins, bit `1 << signal` each. A login is
        from a new device when the account never showed that device before it, while it had
        shown another: an account's first device is no change of hands."""
        ts, devices, bad, first = self.ts, self.devices, self.bad, self.first
        paid_from, since, paid_since = account.seen, self.since, account.device_since
        signals = bytearray(stop)
        for k in range(stop):
            t = ts[k]
            device = devices[k]
            new = (
                device is not None
                and first[device] >= t
                and (
                    (since is not None and since < t) or (paid_since is not None and paid_since < t)
                )
            )
            if new:
                paid = paid_from.get("d:" + device)  # type: ignore[operator]
                new = paid is None or paid >= t
            if bad[k]:
                signals[k] = _FAILED_BITS | (_NEW_BIT if new else 0)
            elif new:
                signals[k] = _NEW_BITS
        return signals

    def prune(self, horizon: int, account: DeviceUse) -> int:
        """Drop the logins before `horizon`, keeping the latest time of each signal among them;
        how many were dropped."""
        ts = self.ts
        n = bisect_left(ts, horizon)
        if n == 0:
            return 0
        signals = self._signals(n, account)
        older = self.older
        for signal in range(len(older)):
            bit = 1 << signal
            for k in range(n - 1, -1, -1):
                if signals[k] & bit:
                    older[signal] = max(older[signal], ts[k])
                    break
        del ts[:n], self.ids[:n], self.devices[:n], self.bad[:n]
        return n

    def values(self, t: int, rows: RoleRows, account: DeviceUse, out: list[Any]) -> None:
        """Append the features of `rows` for a transaction at `t`."""
        ts = self.ts
        end = bisect_right(ts, t)
        signals = self._signals(end, account)
        for signal, measure, window in rows:
            bit = 1 << signal
            if measure == _HOURS_SINCE:
                k = end - 1
                while k >= 0 and not signals[k] & bit:
                    k -= 1
                out.append(hours_since(t, ts[k] if k >= 0 else self.older[signal]))
            else:
                count = 0
                for k in range(bisect_left(ts, t - window, 0, end), end):
                    if signals[k] & bit:
                        count += 1
                out.append(count)


@dataclass(frozen=True, eq=False)
class LoginIndex:
    """The logins of a history, as `kernels.login_pass` reads them: the times of the logins
    with signal s of the account with code a are `times[starts[s, a]:starts[s, a + 1]]`,
    sorted."""

    starts: I64
    times: I64

    @classmethod
    def empty(cls, n_accounts: int) -> LoginIndex:
        return cls(np.zeros((len(Signal), n_accounts + 1), np.int64), np.zeros(0, np.int64))


def _string(table: pa.Table, name: str) -> pa.Array:
    return table[name].cast(pa.string()).combine_chunks()


def _first_login(table: pa.Table, mask: npt.NDArray[np.bool_]) -> str:
    return str(table["login_id"][int(np.flatnonzero(mask)[0])].as_py())


def _validated(table: pa.Table) -> I64:
    """Check a logins table as the online state checks each login; its times in µs."""
    for name in LOGIN_COLUMNS:
        if name not in table.column_names:
            raise InvalidInput(f"logins table has no column '{name}'", field=name)
    column = table["ts"]
    if not pa.types.is_timestamp(column.type) or column.type.tz is None:
        raise InvalidInput(f"expected timestamp with time zone, got {column.type}", field="ts")
    for name in ("login_id", "ts", "account_no", "face_check"):
        nulls = table[name].is_null().to_numpy(zero_copy_only=False)
        if nulls.any():
            # A login without an id is named by its row.
            row = int(np.flatnonzero(nulls)[0])
            record = str(row) if name == "login_id" else _first_login(table, nulls)
            raise InvalidInput("empty value", field=name, record=record)
    ids = _string(table, "login_id")
    if pc.count_distinct(ids).as_py() != len(ids):
        raise InvalidInput("login ids repeat", field="login_id")
    known = pc.is_in(_string(table, "face_check"), pa.array(sorted(FACE_CHECKS)))
    unknown_rows = ~np.asarray(known.to_numpy(zero_copy_only=False), bool)
    if unknown_rows.any():
        raise InvalidInput(
            f"face check is one of {', '.join(sorted(FACE_CHECKS))}",
            field="face_check",
            record=_first_login(table, unknown_rows),
        )
    micros = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return np.asarray(micros.to_numpy(), np.int64)


def login_index(enc: Encoded, table: pa.Table) -> LoginIndex:
    """The logins of `table` (logins.parquet's columns, any order) for the transactions of
    `enc`: only logins of accounts the transactions name are kept, in their code space."""
    n_accounts = enc.n_entities[Role.PAYER]
    if table.num_rows == 0:
        _validated(table)
        return LoginIndex.empty(n_accounts)
    ts = _validated(table)
    found = pc.index_in(_string(table, "account_no"), value_set=enc.values[0])
    account = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64)
    # Devices of transactions and of logins in one code space.
    tx_devices = enc.values[1]
    merged, _ = codes(pa.concat_arrays([tx_devices, _string(table, "device_id")]))
    to_merged, device = merged[: len(tx_devices)], merged[len(tx_devices) :].astype(np.int64)
    n_devices = int(merged.max()) + 1 if merged.size else 0
    bad = pc.is_in(_string(table, "face_check"), pa.array(sorted(BAD_FACE_CHECKS)))
    bad_rows = np.asarray(bad.to_numpy(zero_copy_only=False), bool)
    new = _new_device(enc, to_merged, n_devices, account, device, ts)
    signals = {Signal.RISKY: bad_rows | new, Signal.NEW_DEVICE: new, Signal.FACE_FAILED: bad_rows}
    starts = np.zeros((len(Signal), n_accounts + 1), np.int64)
    parts = []
    offset = 0
    for signal in Signal:
        keep = signals[signal] & (account >= 0)
        owner, when = account[keep], ts[keep]
        order = np.lexsort((when, owner))
        starts[signal, 1:] = offset + np.cumsum(np.bincount(owner, minlength=n_accounts))
        starts[signal, 0] = offset
        parts.append(when[order])
        offset += int(keep.sum())
    return LoginIndex(starts, np.concatenate(parts))


def _new_device(
    enc: Encoded, to_merged: npt.NDArray[np.int32], n_devices: int, account: I64, device: I64,
    ts: I64,
) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Per login: its device was never shown by its account strictly before it, in a login or
    as the device of a transaction the account paid, while another device was."""
    shown = (account >= 0) & (device >= 0)
    payer = enc.roles[Role.PAYER].astype(np.int64)
    tx_device = enc.roles[Role.DEVICE]
    paid = (payer >= 0) & (tx_device >= 0)
    width = max(n_devices, 1)
    keys = np.concatenate(
        [account[shown] * width + device[shown], payer[paid] * width + to_merged[tx_device[paid]]]
    )
    times = np.concatenate([ts[shown], enc.ts[paid]])
    order = np.lexsort((times, keys))
    sorted_keys = keys[order]
    opens = np.ones(len(sorted_keys), dtype=bool)
    opens[1:] = sorted_keys[1:] != sorted_keys[:-1]
    unique_keys, earliest = sorted_keys[opens], times[order][opens]
    mine = np.searchsorted(unique_keys, account[shown] * width + device[shown])
    # The earliest device each account showed, of any device.
    owners = sorted_keys // width
    any_device = np.full(enc.n_entities[Role.PAYER], np.iinfo(np.int64).max)
    np.minimum.at(any_device, owners[opens], earliest)
    new = np.zeros(len(account), dtype=bool)
    new[shown] = (earliest[mine] >= ts[shown]) & (any_device[account[shown]] < ts[shown])
    return new
