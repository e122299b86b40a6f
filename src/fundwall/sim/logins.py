"""Login events: residents opening their banking apps, honest phone changes (new device,
face check passed), batch openings, and the takeovers of sold accounts (gang phone, gang
city, face check failed or mismatched before a pass)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fundwall.sim.life import START_US, World, device_at
from fundwall.sim.mules import FAILED, MISMATCH, NOT_DONE, PASSED, MuleState
from fundwall.sim.params import US_PER_DAY, US_PER_MIN
from fundwall.sim.region import CITY_INDEX, HOME_CITY

I64 = npt.NDArray[np.int64]
HOME = CITY_INDEX[HOME_CITY]


@dataclass(slots=True)
class Logins:
    """Login events in time order (ties in generation order)."""

    ts: I64
    account: I64
    device: I64
    city: I64
    face_check: I64
    success: npt.NDArray[np.bool_]


def make_logins(w: World, mules: MuleState) -> Logins:
    """Every login event of the period."""
    rng = w.rng
    parts: list[tuple[I64, I64, I64, I64, I64]] = []
    owners = np.flatnonzero(w.devices.person >= 0)
    n = int(rng.poisson(w.behaviour.logins_per_week / 7 * len(owners) * w.scale.days))
    who = owners[rng.integers(0, len(owners), n)]
    ts = START_US + rng.integers(0, w.scale.days * US_PER_DAY, n)
    second = w.accounts.secondary[who]
    account = np.where((second >= 0) & (rng.random(n) < 0.2), second, w.accounts.main[who])
    # A few residents log in while travelling: a new city is not proof of a takeover.
    city = np.where(rng.random(n) < 0.04, rng.integers(1, 10, n), HOME)
    face = np.where(rng.random(n) < 0.1, PASSED, NOT_DONE)
    # After a sale the holder no longer logs in: the account is in the gang's hands.
    handed = np.full(w.accounts.count, np.iinfo(np.int64).max, dtype=np.int64)
    for a, when in mules.sold_at.items():
        handed[a] = when
    mine = ts < handed[account]
    parts.append((ts[mine], account[mine], device_at(w, who, ts)[mine], city[mine], face[mine]))
    changers = np.flatnonzero(w.devices.new_person >= 0)
    t = w.devices.change_at[changers] + rng.integers(1, 120, len(changers)) * US_PER_MIN
    parts.append(
        (
            t,
            w.accounts.main[changers],
            w.devices.new_person[changers],
            np.full(len(changers), HOME),
            np.full(len(changers), PASSED),
        )
    )
    batch = w.accounts.batch
    in_period = batch[w.accounts.opened_at[batch] >= START_US]
    parts.append(
        (
            w.accounts.opened_at[in_period] + US_PER_MIN,
            in_period,
            w.accounts.device[in_period],
            np.full(len(in_period), HOME),
            np.full(len(in_period), PASSED),
        )
    )
    take = mules.logins
    parts.append(
        (
            np.array([x.ts for x in take], dtype=np.int64),
            np.array([x.account for x in take], dtype=np.int64),
            np.array([x.device for x in take], dtype=np.int64),
            np.array([x.city for x in take], dtype=np.int64),
            np.array([x.face_check for x in take], dtype=np.int64),
        )
    )
    cols: list[Any] = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    end = START_US + w.scale.days * US_PER_DAY
    keep = (cols[0] >= START_US) & (cols[0] < end)
    cols = [c[keep] for c in cols]
    order = np.argsort(cols[0], kind="stable")
    ts_, account_, device_, city_, face_ = (c[order] for c in cols)
    success = ~np.isin(face_, (FAILED, MISMATCH))
    return Logins(ts_, account_, device_, city_, face_, success)
