"""Scams woven into the region: victims pay first-level mules, gangs layer and cash out.

Each scam (TYPOLOGIES.md, "How the money moves") has a victim chosen by the scam type's age
profile (the elderly over-represented), one or several payments, and for every payment a
layering tree of 2-5 mule levels across banks: each level holds the money for minutes,
splits it, sometimes merges branches, keeps a small residue; the last level withdraws cash
at ATMs in the gang's city or buys goods from a complicit merchant at a payment institution,
or leaves the money resting. Each victim reports to the police after a delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fundwall.sim.life import World, device_at
from fundwall.sim.mules import SHELL_SOURCE, Gangs
from fundwall.sim.params import US_PER_DAY, US_PER_H, US_PER_MIN
from fundwall.sim.region import CITY_INDEX, DISTRICTS, HOME_CITY, police_unit
from fundwall.sim.txbuf import (
    ATM,
    CASH_OUT,
    COUNTER,
    LAYERING,
    MOBILE,
    ONLINE,
    TRANSFER,
    VICTIM_PAYMENT,
    WITHDRAWAL,
    P,
)

I64 = npt.NDArray[np.int64]

_PREFERRED_AGES = ((60, 95), (45, 70), (30, 60), (20, 45), (18, 35), (20, 45))
_PURPOSES = (
    P["safe account"],
    P["investment"],
    -1,
    P["refund fee"],
    P["task order"],
    P["loan fee"],
)
HOME = CITY_INDEX[HOME_CITY]
_SLOW_TYPES = (1, 2)  # investment and romance scams pay over days, the others within hours


@dataclass(slots=True)
class Scam:
    """Ground truth of one scam."""

    scam_type: int
    victim: int
    account: int
    gang: int
    levels: int
    payments: list[tuple[int, int, int]] = field(default_factory=list)
    reported_at: int = 0
    police_unit: str = ""
    known: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Fraud:
    """Everything the fraud added to the region."""

    scams: list[Scam]
    rows: list[tuple[int, ...]]
    gangs: Gangs
    reserved: dict[int, int]


def _victims(w: World, kinds: I64, excluded: set[int]) -> I64:
    """One distinct victim per scam, drawn by the type's age profile; the elderly weigh
    more in every profile (behaviour.elderly_weight)."""
    age = w.people.age
    has_phone = w.devices.person >= 0
    queues: dict[int, list[int]] = {}
    for kind in range(len(_PREFERRED_AGES)):
        lo, hi = _PREFERRED_AGES[kind]
        weight = 1.0 + 6.0 * ((age >= lo) & (age < hi)) + w.behaviour.elderly_weight * (age >= 60)
        weight = weight * np.where(has_phone | (kind == 0), 1.0, 0.05)
        wanted = 3 * int((kinds == kind).sum()) + 10
        queues[kind] = w.rng.choice(len(age), size=wanted, p=weight / weight.sum()).tolist()
    chosen: list[int] = []
    taken = set(excluded)
    for kind in kinds.tolist():
        queue = queues[kind]
        while queue and queue[-1] in taken:
            queue.pop()
        p = queue.pop() if queue else next(i for i in range(len(age)) if i not in taken)
        taken.add(p)
        chosen.append(p)
    return np.array(chosen, dtype=np.int64)


def _schedule(w: World, kind: int, t0: int, end: int) -> list[tuple[int, int]]:
    """(time, amount) of each payment: escalating amounts, often round, summing to the loss."""
    b = w.behaviour
    total = int(max(w.rng.lognormal(np.log(b.scam_median_yuan[kind]), 0.8), 500)) * 100
    count = int(w.rng.integers(1, b.scam_max_payments[kind], endpoint=True))
    weights = 1.6 ** np.arange(count)
    unit = 100_000 if total >= 1_000_000 and w.rng.random() < 0.6 else 10_000
    parts = (total * weights / weights.sum()).astype(np.int64) // unit * unit
    parts = np.maximum(parts, unit)
    parts[-1] = max(total - int(parts[:-1].sum()), unit)
    out = []
    t = t0
    for amount in parts.tolist():
        if t >= end:
            break
        out.append((t, int(amount)))
        gap_h = w.rng.lognormal(np.log(40 if kind in _SLOW_TYPES else 0.6), 0.7)
        t += int(gap_h * US_PER_H)
    return out


def make_fraud(w: World, start_us: int) -> Fraud:
    """Draw every scam, its layering and its report."""
    b = w.behaviour
    end = start_us + w.scale.days * US_PER_DAY
    gangs = Gangs(w.rng, b, w.accounts, w.devices, start_us)
    count = w.scale.scams
    # Every scam type appears at least twice, whatever the size.
    kinds = np.concatenate(
        [
            np.repeat(np.arange(len(b.scam_types)), 2),
            w.rng.choice(
                len(b.scam_types),
                size=max(count - 2 * len(b.scam_types), 0),
                p=np.array(b.scam_type_weights) / sum(b.scam_type_weights),
            ),
        ]
    )
    mule_holders = set(w.accounts.party[w.accounts.mule_candidates()].tolist())
    victims = _victims(w, kinds, mule_holders)
    day = w.rng.integers(1, max(w.scale.days - 1, 2), size=len(kinds))
    hour = w.rng.choice(24, size=len(kinds), p=np.asarray(b.transfer_hours))
    t0 = start_us + day * US_PER_DAY + hour * US_PER_H + w.rng.integers(0, US_PER_H, len(kinds))
    order = np.lexsort((np.arange(len(kinds)), t0))
    scams: list[Scam] = []
    buf: list[tuple[int, ...]] = []
    reserved: dict[int, int] = {}
    for s, i in enumerate(order.tolist()):
        kind = int(kinds[i])
        victim = int(victims[i])
        levels = 2 + int(w.rng.choice(len(b.levels_weights), p=np.asarray(b.levels_weights)))
        scam = Scam(kind, victim, int(w.accounts.main[victim]), s % gangs.count, levels)
        schedule = _schedule(w, kind, int(t0[i]), end - 6 * US_PER_H)
        level1 = -1
        for n, (t, amount) in enumerate(schedule):
            if level1 < 0 or w.rng.random() < 0.3:
                prefer = SHELL_SOURCE if kind == 1 and amount >= 2_000_000 else -1
                level1 = gangs.take(scam.gang, t, int(w.accounts.bank[scam.account]), s, prefer)
            scam.payments.append((t, amount, level1))
            _pay(w, buf, scam, s, n, t, amount, level1)
            gangs.record_use(level1, t, 1, s)
            _layer(w, buf, gangs, scam, s, {level1: (amount, t)}, end)
        total = sum(a for _, a, _ in scam.payments)
        reserved[scam.account] = reserved.get(scam.account, 0) + total
        _report(w, scam)
        scams.append(scam)
    return Fraud(scams, buf, gangs, reserved)


def _row(
    ts: int,
    kind: int,
    payer: int,
    payee: int,
    amount: int,
    channel: int,
    device: int,
    city: int,
    purpose: int,
    role: int,
    scam: int,
) -> tuple[int, ...]:
    """One transaction in txbuf.COLUMNS order."""
    return (ts, kind, payer, payee, amount, channel, device, city, purpose, role, scam)


def _pay(
    w: World,
    buf: list[tuple[int, ...]],
    scam: Scam,
    s: int,
    n: int,
    t: int,
    amount: int,
    payee: int,
) -> None:
    """The victim's own transfer to the first-level account."""
    person = np.array([scam.victim])
    ts = np.array([t])
    device = int(device_at(w, person, ts)[0])
    counter = device < 0 or (scam.scam_type == 0 and n == 0 and w.rng.random() < 0.35)
    buf.append(
        _row(
            t,
            TRANSFER,
            scam.account,
            payee,
            amount,
            COUNTER if counter else MOBILE,
            -1 if counter else device,
            HOME,
            _PURPOSES[scam.scam_type],
            VICTIM_PAYMENT,
            s,
        )
    )


def _split(w: World, amount: int, parts: int) -> list[int]:
    """Random shares, all but the last rounded down to 100 yuan (round amounts are typical)."""
    shares = w.rng.dirichlet(np.full(parts, 2.0))
    out = [int(amount * x) // 10_000 * 10_000 for x in shares[:-1]]
    out = [x for x in out if x > 0]
    out.append(amount - sum(out))
    return [x for x in out if x > 0]


def _layer(
    w: World,
    buf: list[tuple[int, ...]],
    gangs: Gangs,
    scam: Scam,
    s: int,
    holding: dict[int, tuple[int, int]],
    end: int,
) -> None:
    """Move the money down the levels; branches that pick the same account merge there."""
    b = w.behaviour
    city = gangs.gang_city(scam.gang)
    for level in range(1, scam.levels):
        nxt: dict[int, tuple[int, int]] = {}
        for account in sorted(holding):
            amount, t = holding[account]
            t += int(w.rng.lognormal(np.log(b.hold_median_min), b.hold_sigma) * US_PER_MIN)
            if t >= end:
                continue
            keep = int(amount * w.rng.uniform(0, b.residual_max_share))
            k = 1 + int(w.rng.choice(len(b.split_weights), p=np.asarray(b.split_weights)))
            for part in _split(w, amount - keep, k):
                ready = [a for a in sorted(nxt) if gangs.handed_over_before(a, t)]
                if ready and (len(nxt) >= 6 or w.rng.random() < b.merge_probability):
                    target = ready[int(w.rng.integers(0, len(ready)))]
                else:
                    target = gangs.take(scam.gang, t, int(w.accounts.bank[account]), s)
                if target == account:
                    continue
                t += int(w.rng.integers(20, 180)) * 1_000_000
                buf.append(
                    _row(
                        t,
                        TRANSFER,
                        account,
                        target,
                        part,
                        ONLINE if w.rng.random() < 0.2 else MOBILE,
                        gangs.gang_device(scam.gang, account),
                        city,
                        -1,
                        LAYERING,
                        s,
                    )
                )
                gangs.record_use(target, t, level + 1, s)
                before, arrived = nxt.get(target, (0, t))
                nxt[target] = (before + part, max(arrived, t))
        holding = nxt
    for account in sorted(holding):
        amount, t = holding[account]
        _cash_out(w, buf, gangs, scam, s, account, amount, t, end)


def _cash_out(
    w: World,
    buf: list[tuple[int, ...]],
    gangs: Gangs,
    scam: Scam,
    s: int,
    account: int,
    amount: int,
    t: int,
    end: int,
) -> None:
    """ATM withdrawals in the gang's city, or goods bought from a complicit merchant; some
    money is left resting where it is (what a freeze can still recover)."""
    b = w.behaviour
    if w.rng.random() < b.rest_probability:
        return
    t += int(w.rng.lognormal(np.log(b.hold_median_min * 2), b.hold_sigma) * US_PER_MIN)
    city = gangs.gang_city(scam.gang)
    if w.rng.random() < b.atm_cashout_probability:
        left = amount
        while left >= 10_000 and t < end:
            take = min(left, b.atm_max_yuan * 100) // 10_000 * 10_000
            buf.append(
                _row(
                    t,
                    WITHDRAWAL,
                    account,
                    -1,
                    take,
                    ATM,
                    -1,
                    city,
                    P["cash withdrawal"],
                    CASH_OUT,
                    s,
                )
            )
            left -= take
            t += int(w.rng.integers(2, 12)) * US_PER_MIN
        return
    if t < end:
        merchant = gangs.cashout_account(scam.gang)
        gangs.record_use(merchant, t, scam.levels + 1, s)
        buf.append(
            _row(
                t,
                TRANSFER,
                account,
                merchant,
                amount,
                MOBILE,
                gangs.gang_device(scam.gang, account),
                city,
                P["goods"],
                CASH_OUT,
                s,
            )
        )


def _report(w: World, scam: Scam) -> None:
    """When the victim goes to the police, and what they can tell: the account they paid,
    roughly when (to ten minutes) and how much (to the yuan, or to the hundred)."""
    b = w.behaviour
    last = max(t for t, _, _ in scam.payments)
    if w.rng.random() < b.report_quick_share:
        delay = int(w.rng.integers(8, 60)) * US_PER_MIN
    else:
        hours = min(w.rng.lognormal(np.log(b.report_median_h), b.report_sigma), 240.0)
        delay = int(hours * US_PER_H) + 5 * US_PER_MIN
    scam.reported_at = last + delay
    district = DISTRICTS[int(w.people.district[scam.victim])][0]
    scam.police_unit = police_unit(district)
    rounded = w.rng.random() < b.report_rounded_share
    step = 10_000 if rounded else 100
    scam.known = [
        (t // (10 * US_PER_MIN) * (10 * US_PER_MIN), max(amount // step * step, step))
        for t, amount, _ in scam.payments
    ]
