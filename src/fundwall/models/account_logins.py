"""Account-trading (断卡) signs from mobile-banking logins, as of a moment.

A bought or rented account changes hands through a login: the buyer's phone, the buyer's city,
often a face check that fails or does not match the holder, and money arriving soon after.
Per account, in time order over its logins and its own transactions:

- a login is from a **new device** or a **new city** when the account was seen before (an
  earlier login, or an outflow made from a device or city) and never from that device or
  city; an account's very first sighting sets what is known, it is not new;
- a login is **away** when its city is not the holder's usual city: the city of the holder's
  first login or outflow that names one, over all of their accounts (a buyer arrives after the
  holder, and may soon log in more often than the holder ever did, so the most frequent city
  would follow the buyer); an account whose holder is unknown is its own holder;
- a login is **risky** when it is new-device, new-city, away, or its face check failed or did
  not match; the hours from the latest risky login to the first inflow after it, and from it
  to the moment, measure "taken over, then used";
- the most holders seen on one of the account's login devices counts a gang phone that logs
  into many people's accounts.

A region without logins (imported AMLSim or PaySim folders) leaves every login feature
unknown (NaN); where logins exist, an account without any has 0 logins.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from fundwall.engine.features.catalog import US_PER_HOUR
from fundwall.models.account_history import F64, I64, History, Mask, micros

LOGIN_COLUMNS: Final = ("ts", "account_no", "device_id", "city", "face_check")
BAD_FACE_CHECKS: Final = ("failed", "mismatch")
LOGIN: Final = 0
OUTFLOW: Final = 1
INFLOW: Final = 2

LOGIN_FEATURES: Final = (
    "logins",
    "new_device_logins",
    "new_city_logins",
    "failed_face_checks",
    "away_logins",
    "risky_login_to_inflow_hours",
    "hours_since_risky_login",
    "login_device_holders",
)


@njit(cache=True)
def _scan(
    start: I64,
    account: I64,
    ts: I64,
    kind: I64,
    device: I64,
    city: I64,
    bad_face: Mask,
    usual: I64,
    moment: int,
    n_devices: int,
    n_cities: int,
    out: F64,
) -> None:
    """Fill `out` (7 × accounts) for the accounts that have events, in LOGIN_FEATURES order
    (the device holders are counted elsewhere)."""
    seen_device = np.full(n_devices, -1, np.int64)
    seen_city = np.full(n_cities, -1, np.int64)
    for k in range(start.size - 1):
        lo, hi = start[k], start[k + 1]
        a = account[lo]
        sighted = False
        logins, new_device, new_city, failed, away = 0, 0, 0, 0, 0
        last_risky, to_inflow, waiting = -1, -1.0, False
        for i in range(lo, hi):
            d, c = device[i], city[i]
            if kind[i] == INFLOW:
                if waiting:
                    to_inflow = (ts[i] - last_risky) / US_PER_HOUR
                    waiting = False
                continue
            if kind[i] == LOGIN:
                logins += 1
                is_new_device = sighted and d >= 0 and seen_device[d] != a
                is_new_city = sighted and c >= 0 and seen_city[c] != a
                is_away = c >= 0 and usual[a] >= 0 and c != usual[a]
                new_device += is_new_device
                new_city += is_new_city
                failed += bad_face[i]
                away += is_away
                if is_new_device or is_new_city or is_away or bad_face[i]:
                    last_risky, to_inflow, waiting = ts[i], -1.0, True
            if d >= 0:
                seen_device[d] = a
                sighted = True
            if c >= 0:
                seen_city[c] = a
                sighted = True
        out[0, a] = logins
        out[1, a] = new_device
        out[2, a] = new_city
        out[3, a] = failed
        out[4, a] = away
        if to_inflow >= 0:
            out[5, a] = to_inflow
        if last_risky >= 0:
            out[6, a] = (moment - last_risky) / US_PER_HOUR


def _codes_in(values: pa.Array, dictionary: pa.Array) -> I64:
    """Codes of `values` in a dictionary that `values` extend (new values get new codes)."""
    found = pc.index_in(values, value_set=dictionary)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64)


def login_features(history: History, logins: pa.Table | None, holder: I64) -> dict[str, np.ndarray]:
    """Every login feature per history row; `holder` is each row's party code (-1 unknown)."""
    n = len(history)
    values = {name: np.full(n, np.nan) for name in LOGIN_FEATURES}
    if logins is None or logins.num_rows == 0:
        return values
    ts = micros(logins["ts"], "ts")
    before = history.is_before(ts)
    logins = logins.filter(pa.array(before))
    ts = ts[before]
    row = history.rows_of(logins["account_no"])
    devices = pc.unique(
        pa.concat_arrays([history.devices, logins["device_id"].cast(pa.string()).combine_chunks()])
    ).drop_null()
    cities = pc.unique(
        pa.concat_arrays([history.cities, logins["city"].cast(pa.string()).combine_chunks()])
    ).drop_null()
    login_device = _codes_in(logins["device_id"].cast(pa.string()), devices)
    login_city = _codes_in(logins["city"].cast(pa.string()), cities)
    # Index -1 (no device, no city) maps to the -1 appended at the end.
    tx_device = np.append(_codes_in(history.devices, devices), -1)[history.device]
    tx_city = np.append(_codes_in(history.cities, cities), -1)[history.city]
    bad = pc.is_in(logins["face_check"].cast(pa.string()), pa.array(BAD_FACE_CHECKS))
    # An account whose holder is unknown stands for its own holder (codes past the parties).
    owner = np.where(holder >= 0, holder, holder.max(initial=-1) + 1 + np.arange(n))
    out = history.payer >= 0
    into = history.payee >= 0
    none = np.full(int(into.sum()), -1, np.int64)
    frame = pl.DataFrame(
        {
            "account": np.concatenate([row, history.payer[out], history.payee[into]]),
            "ts": np.concatenate([ts, history.ts[out], history.ts[into]]),
            "kind": np.concatenate(
                [
                    np.full(row.size, LOGIN),
                    np.full(int(out.sum()), OUTFLOW),
                    np.full(int(into.sum()), INFLOW),
                ]
            ),
            "device": np.concatenate([login_device, tx_device[out], none]),
            "city": np.concatenate([login_city, tx_city[out], none]),
            "bad_face": np.concatenate(
                [
                    np.asarray(pc.fill_null(bad, False).to_numpy(zero_copy_only=False)),
                    np.zeros(int(out.sum() + into.sum()), np.bool_),
                ]
            ),
        }
    ).filter(pl.col("account") >= 0)
    frame = frame.with_columns(owner=pl.Series(owner)[frame["account"]])
    usual = _usual_city(frame, owner)
    frame = frame.with_row_index("order").sort(["account", "ts", "order"])
    account = frame["account"].to_numpy()
    start = np.r_[0, np.flatnonzero(np.diff(account)) + 1, account.size].astype(np.int64)
    scanned = np.full((len(LOGIN_FEATURES) - 1, n), np.nan)
    scanned[:5] = 0.0
    _scan(
        start,
        account,
        frame["ts"].to_numpy(),
        frame["kind"].to_numpy().astype(np.int64),
        frame["device"].to_numpy(),
        frame["city"].to_numpy(),
        frame["bad_face"].to_numpy(),
        usual,
        history.moment,
        len(devices),
        len(cities),
        scanned,
    )
    values.update(zip(LOGIN_FEATURES[:-1], scanned, strict=True))
    values["login_device_holders"] = _device_holders(frame, n)
    return values


def _usual_city(frame: pl.DataFrame, owner: I64) -> I64:
    """Per account row: the city its holder was first seen in (a login or an outflow)."""
    first = (
        frame.filter((pl.col("kind") != INFLOW) & (pl.col("city") >= 0))
        .sort(["owner", "ts", "city"])
        .unique("owner", keep="first")
    )
    by_owner = dict(zip(first["owner"].to_list(), first["city"].to_list(), strict=True))
    return np.asarray([by_owner.get(int(o), -1) for o in owner.tolist()], np.int64)


def _device_holders(frame: pl.DataFrame, n: int) -> F64:
    """Per account: the most other holders seen logging in on one of its login devices."""
    logins = frame.filter((pl.col("kind") == LOGIN) & (pl.col("device") >= 0))
    holders = logins.group_by("device").agg(pl.col("owner").n_unique().alias("holders"))
    most = (
        logins.select("account", "device")
        .unique()
        .join(holders, on="device")
        .group_by("account")
        .agg((pl.col("holders").max() - 1).alias("others"))
    )
    result = np.zeros(n)
    result[most["account"].to_numpy()] = most["others"].to_numpy()
    return result
