"""Ordinary life, drawn in bulk: pay, pensions, rent, bills, shopping, family, cash, firms.

Each flow is a Poisson process over the whole period drawn at once with numpy (how many, then
who, which day, which hour), so ten million transfers take seconds. The daily rhythm comes
from hourly profiles with a night lull, the weekly one from weekday factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from fundwall.sim.accounts import Accounts
from fundwall.sim.devices import Devices
from fundwall.sim.firms import DEVELOPER, EMPLOYER, MERCHANT, PENSION_FUND, UTILITY, Firms
from fundwall.sim.params import LOCAL_OFFSET_US, START, US_PER_DAY, US_PER_H, Behaviour, Scale
from fundwall.sim.people import RETIRED, People
from fundwall.sim.txbuf import (
    ATM,
    COUNTER,
    DEPOSIT,
    MOBILE,
    ONLINE,
    POS,
    TRANSFER,
    WITHDRAWAL,
    P,
    TxBuffer,
)

I64 = npt.NDArray[np.int64]
START_US = int(START.timestamp()) * 1_000_000


@dataclass(slots=True)
class World:
    """Everything the flows draw from."""

    rng: np.random.Generator
    scale: Scale
    behaviour: Behaviour
    people: People
    firms: Firms
    accounts: Accounts
    devices: Devices
    employer: I64

    @property
    def weekend(self) -> npt.NDArray[np.bool_]:
        day0 = (START + timedelta(seconds=LOCAL_OFFSET_US // 1_000_000)).weekday()
        return np.array([(day0 + d) % 7 >= 5 for d in range(self.scale.days)])

    def days_of_month(self) -> I64:
        local = START + timedelta(seconds=LOCAL_OFFSET_US // 1_000_000)
        return np.array([(local + timedelta(days=d)).day for d in range(self.scale.days)])


def instants(rng: np.random.Generator, day: I64, hours: tuple[float, ...]) -> I64:
    """Instants on the given days, hours drawn from a 24-entry local-time profile."""
    hour = rng.choice(24, size=len(day), p=np.asarray(hours))
    return START_US + day * US_PER_DAY + hour * US_PER_H + rng.integers(0, US_PER_H, len(day))


def _days(rng: np.random.Generator, n: int, weights: npt.NDArray[Any]) -> I64:
    return rng.choice(len(weights), size=n, p=weights / weights.sum()).astype(np.int64)


def _amounts(
    rng: np.random.Generator,
    n: int,
    median_yuan: float,
    sigma: float,
    low_yuan: float,
    high_yuan: float,
) -> I64:
    yuan = np.clip(rng.lognormal(np.log(median_yuan), sigma, n), low_yuan, high_yuan)
    return np.maximum((yuan * 100).astype(np.int64), 1)


def device_at(w: World, person: I64, ts: I64) -> I64:
    """The phone a person uses at that moment (the new one after a device change)."""
    old = w.devices.person[person]
    new = w.devices.new_person[person]
    return np.where((new >= 0) & (ts >= w.devices.change_at[person]), new, old)


def _count(w: World, per_unit_day: float, units: int, days: float) -> int:
    return int(w.rng.poisson(per_unit_day * units * days))


def ordinary_life(w: World) -> TxBuffer:
    """Every ordinary transaction of the period, unsorted."""
    buf = TxBuffer()
    for flow in (
        _salaries,
        _pensions,
        _rent,
        _bills,
        _shopping,
        _family,
        _cash,
        _topups,
        _firm_payments,
        _large_transfers,
    ):
        flow(w, buf)
    return buf


def _salaries(w: World, buf: TxBuffer) -> None:
    staff = np.flatnonzero(w.employer >= 0)
    firm = w.employer[staff]
    payday = np.array([5, 10, 15, 25])[firm % 4]
    dom = w.days_of_month()
    for day, d in enumerate(dom.tolist()):
        paid = staff[payday == d]
        if len(paid) == 0:
            continue
        f = w.employer[paid]
        # A firm runs its payroll as one batch: same hour for all its staff, seconds apart.
        ts = START_US + day * US_PER_DAY + (9 + f % 3) * US_PER_H + (paid % 3_000) * 1_000_000
        buf.add(
            ts,
            kind=TRANSFER,
            payer=w.accounts.corporate[f],
            payee=w.accounts.main[paid],
            amount=w.people.salary_fen[paid],
            channel=ONLINE,
            purpose=P["salary"],
        )


def _pensions(w: World, buf: TxBuffer) -> None:
    retired = np.flatnonzero(w.people.occupation == RETIRED)
    fund = w.accounts.corporate[np.flatnonzero(w.firms.kind == PENSION_FUND)[0]]
    for day, d in enumerate(w.days_of_month().tolist()):
        if d != 8:
            continue
        ts = START_US + day * US_PER_DAY + 8 * US_PER_H + (retired % 3_600) * 1_000_000
        buf.add(
            ts,
            kind=TRANSFER,
            payer=fund,
            payee=w.accounts.main[retired],
            amount=w.people.pension_fen[retired],
            channel=ONLINE,
            purpose=P["pension"],
        )


def _rent(w: World, buf: TxBuffer) -> None:
    renters = np.flatnonzero(w.people.renter)
    due = 1 + renters % 5
    amount = _amounts(w.rng, len(renters), 3_000, 0.4, 800, 20_000)
    for day, d in enumerate(w.days_of_month().tolist()):
        sel = due == d
        if not sel.any():
            continue
        who = renters[sel]
        ts = instants(w.rng, np.full(len(who), day), w.behaviour.transfer_hours)
        channel, dev = _pay_channel(w, who, ts)
        buf.add(
            ts,
            kind=TRANSFER,
            payer=w.accounts.main[who],
            payee=w.accounts.main[w.people.landlord[who]],
            amount=amount[sel],
            channel=channel,
            device=dev,
            purpose=P["rent"],
        )


def _weekday_weights(w: World, weekend_factor: float) -> npt.NDArray[Any]:
    return np.where(w.weekend, weekend_factor, 1.0)


def _pay_channel(w: World, who: I64, ts: I64) -> tuple[I64, I64]:
    """Mobile with the person's phone, or at the counter for those without one."""
    dev = device_at(w, who, ts)
    return np.where(dev >= 0, MOBILE, COUNTER), dev


def _bills(w: World, buf: TxBuffer) -> None:
    n = _count(w, w.behaviour.bills_per_month / 30, w.people.count, w.scale.days)
    who = w.rng.integers(0, w.people.count, n)
    day = _days(w.rng, n, _weekday_weights(w, 0.5))
    ts = instants(w.rng, day, w.behaviour.transfer_hours)
    utilities = w.accounts.corporate[np.flatnonzero(w.firms.kind == UTILITY)]
    channel, dev = _pay_channel(w, who, ts)
    buf.add(
        ts,
        kind=TRANSFER,
        payer=w.accounts.main[who],
        payee=utilities[w.rng.integers(0, len(utilities), n)],
        amount=_amounts(w.rng, n, 150, 0.6, 10, 3_000),
        channel=channel,
        device=dev,
        purpose=P["utilities"],
    )


def _payer_account(w: World, who: I64, amount: I64) -> I64:
    """Small payments from the Class III account when there is one, a share from the second
    account, the rest from the main account."""
    u = w.rng.random(len(who))
    small = w.accounts.small[who]
    second = w.accounts.secondary[who]
    use_small = (small >= 0) & (amount <= 30_000) & (u < 0.6)
    use_second = ~use_small & (second >= 0) & (u > 1 - w.behaviour.secondary_use)
    return np.where(use_small, small, np.where(use_second, second, w.accounts.main[who]))


def _shopping(w: World, buf: TxBuffer) -> None:
    b = w.behaviour
    activity = np.where(w.people.age >= 70, 0.5, 1.0)
    n = _count(w, b.shop_per_day * float(activity.mean()), w.people.count, w.scale.days)
    who = w.rng.choice(w.people.count, size=n, p=activity / activity.sum())
    day = _days(w.rng, n, _weekday_weights(w, b.weekend_shop_factor))
    ts = instants(w.rng, day, b.shop_hours)
    merchants = np.flatnonzero(w.firms.kind == MERCHANT)
    size = w.firms.size[merchants]
    shop = merchants[w.rng.choice(len(merchants), size=n, p=size / size.sum())]
    amount = _amounts(w.rng, n, 45, 1.0, 1, 5_000)
    dev = device_at(w, who, ts)
    pos = (dev < 0) | (w.rng.random(n) < 0.45)
    buf.add(
        ts,
        kind=TRANSFER,
        payer=_payer_account(w, who, amount),
        payee=w.accounts.corporate[shop],
        amount=amount,
        channel=np.where(pos, POS, MOBILE),
        device=np.where(pos, -1, dev),
        purpose=P["shopping"],
    )


def _family(w: World, buf: TxBuffer) -> None:
    n = _count(w, w.behaviour.family_per_day, w.people.count, w.scale.days)
    who = w.rng.integers(0, w.people.count, n)
    day = _days(w.rng, n, _weekday_weights(w, 1.4))
    ts = instants(w.rng, day, w.behaviour.transfer_hours)
    channel, dev = _pay_channel(w, who, ts)
    buf.add(
        ts,
        kind=TRANSFER,
        payer=w.accounts.main[who],
        payee=w.accounts.main[w.people.relative[who]],
        amount=_amounts(w.rng, n, 800, 0.9, 20, 20_000),
        channel=channel,
        device=dev,
        purpose=P["family"],
    )


def _cash(w: World, buf: TxBuffer) -> None:
    b = w.behaviour
    n = _count(w, b.atm_per_day, w.people.count, w.scale.days)
    who = w.rng.integers(0, w.people.count, n)
    ts = instants(w.rng, _days(w.rng, n, np.ones(w.scale.days)), b.shop_hours)
    hundreds = np.clip(w.rng.lognormal(np.log(8), 0.7, n), 1, 50).astype(np.int64)
    buf.add(
        ts,
        kind=WITHDRAWAL,
        payer=w.accounts.main[who],
        payee=-1,
        amount=hundreds * 10_000,
        channel=ATM,
        purpose=P["cash withdrawal"],
    )
    n = _count(w, b.deposit_per_day, w.people.count, w.scale.days)
    who = w.rng.integers(0, w.people.count, n)
    ts = instants(w.rng, _days(w.rng, n, _weekday_weights(w, 0.3)), b.transfer_hours)
    buf.add(
        ts,
        kind=DEPOSIT,
        payer=-1,
        payee=w.accounts.main[who],
        amount=_amounts(w.rng, n, 2_000, 0.8, 100, 50_000) // 10_000 * 10_000 + 10_000,
        channel=np.where(w.rng.random(n) < 0.5, COUNTER, ATM),
        purpose=P["cash deposit"],
    )


def _topups(w: World, buf: TxBuffer) -> None:
    holders = np.flatnonzero(w.accounts.small >= 0)
    n = _count(w, w.behaviour.topups_per_month / 30, len(holders), w.scale.days)
    who = holders[w.rng.integers(0, len(holders), n)]
    ts = instants(w.rng, _days(w.rng, n, np.ones(w.scale.days)), w.behaviour.shop_hours)
    channel, dev = _pay_channel(w, who, ts)
    buf.add(
        ts,
        kind=TRANSFER,
        payer=w.accounts.main[who],
        payee=w.accounts.small[who],
        amount=w.rng.integers(1, 5, n) * 10_000,
        channel=channel,
        device=dev,
        purpose=P["top-up"],
    )


def _firm_payments(w: World, buf: TxBuffer) -> None:
    active = np.flatnonzero(np.isin(w.firms.kind, (MERCHANT, EMPLOYER, DEVELOPER)))
    weekdays = int((~w.weekend).sum())
    n = _count(w, w.behaviour.firm_payments_per_weekday, len(active), weekdays)
    size = w.firms.size[active]
    payer = active[w.rng.choice(len(active), size=n, p=size / size.sum())]
    payee = active[w.rng.integers(0, len(active), n)]
    payee = np.where(
        payee == payer, active[(np.searchsorted(active, payer) + 1) % len(active)], payee
    )
    day = _days(w.rng, n, np.where(w.weekend, 0.0, 1.0))
    ts = instants(w.rng, day, w.behaviour.transfer_hours)
    buf.add(
        ts,
        kind=TRANSFER,
        payer=w.accounts.corporate[payer],
        payee=w.accounts.corporate[payee],
        amount=_amounts(w.rng, n, 8_000, 1.2, 100, 500_000),
        channel=ONLINE,
        purpose=P["supplier payment"],
    )


def _large_transfers(w: World, buf: TxBuffer) -> None:
    """House deposits, business payments and gifts to relatives: big but honest, so that a
    model cannot learn that big means bad."""
    rich = np.flatnonzero(w.accounts.balance[w.accounts.main] >= 15_000_000)
    if len(rich) == 0:
        return
    n = max(int(w.people.count * w.behaviour.large_legit_per_person), 3)
    who = rich[w.rng.integers(0, len(rich), n)]
    day = _days(w.rng, n, _weekday_weights(w, 0.4))
    ts = instants(w.rng, day, w.behaviour.transfer_hours)
    share = w.rng.uniform(0.3, 0.8, n)
    amount = (w.accounts.balance[w.accounts.main[who]] * share).astype(np.int64) // 100_000
    what = w.rng.integers(0, 3, n)
    developers = w.accounts.corporate[np.flatnonzero(w.firms.kind == DEVELOPER)]
    firms = w.accounts.corporate[np.flatnonzero(np.isin(w.firms.kind, (MERCHANT, EMPLOYER)))]
    payee = np.select(
        [what == 0, what == 1],
        [
            developers[w.rng.integers(0, len(developers), n)],
            firms[w.rng.integers(0, len(firms), n)],
        ],
        w.accounts.main[w.people.relative[who]],
    )
    purpose = np.array([P["house deposit"], P["business payment"], P["gift to relative"]])[what]
    buf.add(
        ts,
        kind=TRANSFER,
        payer=w.accounts.main[who],
        payee=payee,
        amount=np.maximum(amount, 1) * 100_000,
        channel=np.where(w.rng.random(n) < 0.5, COUNTER, ONLINE),
        purpose=purpose,
    )
