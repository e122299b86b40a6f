"""跑分 (score-running) networks: illegal payment operators collecting gamblers' stakes
through rented accounts (TYPOLOGIES.md, "Illegal payment operators and gambling funds").

Each network rents ordinary residents' spare accounts (a second Class I account or a Class II
e-account: renters and students, who keep using them a little for their own life) as
collection accounts. Gamblers of the region pay many small stakes into them, around the clock,
the platform handing each deposit to one of the accounts rented at that moment; each account
forwards what came in, less the holder's commission, within minutes to one of the network's
few collector accounts (complicit small merchants' settlement accounts, or Class I accounts of
the operator's people), which pay it on in large round amounts to a cash-out merchant that
turns it into goods and cards (the exchange). Rentals start and stop within the period.

The networks draw from a random stream of their own, so planting them leaves every other
draw of the region as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fundwall.sim.accounts import CLASS_II
from fundwall.sim.firms import MERCHANT
from fundwall.sim.life import World, device_at, instants
from fundwall.sim.params import US_PER_DAY, US_PER_H, US_PER_MIN, US_PER_S, Behaviour
from fundwall.sim.people import STUDENT
from fundwall.sim.region import CITY_INDEX, HOME_CITY
from fundwall.sim.txbuf import (
    COLLECTION,
    FORWARDING,
    MOBILE,
    NORMAL,
    ONLINE,
    TRANSFER,
    P,
    TxBuffer,
)

I64 = npt.NDArray[np.int64]

NETWORK_SOURCES = ("paofen_collection", "paofen_collector")
"""account_labels.mule_source of a network's accounts."""
STREAM = 1
"""The spawn key of the networks' random stream (the region's main stream is the seed's)."""
HOME = CITY_INDEX[HOME_CITY]
_PLATFORMS = ("an online casino", "a sports betting site", "a lottery app", "a live baccarat room")
_PLACES = ("Phnom Penh", "Sihanoukville", "Manila", "Myawaddy", "Shenzhen")


def network_rng(seed: int) -> np.random.Generator:
    """The networks' own random stream, derived from the region's seed."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(STREAM,))))


@dataclass(slots=True)
class Network:
    """Ground truth of one network."""

    operator: str
    exchange: int
    """The cash-out merchant its collectors pay on to."""
    collection: list[int] = field(default_factory=list)
    """Collection accounts that received at least one stake, in order of first use."""
    rented_at: dict[int, int] = field(default_factory=dict)
    """Collection account → start of its rental."""
    collectors: list[int] = field(default_factory=list)
    """Collector accounts that received at least one forwarding."""


@dataclass(slots=True)
class Networks:
    """Everything the networks added to the region."""

    networks: list[Network]
    buffer: TxBuffer
    reserved: dict[int, int]
    """Gamblers' main accounts → the stakes they will pay (kept from ordinary spending)."""
    gamblers: list[int]
    """Persons who paid at least one stake."""

    def account_network(self, count: int) -> tuple[I64, I64]:
        """Per account: its network (-1 for none) and its kind (index into NETWORK_SOURCES)."""
        network = np.full(count, -1, dtype=np.int64)
        kind = np.full(count, -1, dtype=np.int64)
        for n, net in enumerate(self.networks):
            network[net.collection] = n
            kind[net.collection] = 0
            network[net.collectors] = n
            kind[net.collectors] = 1
        return network, kind


@dataclass(slots=True)
class _Rows:
    """Transfers under construction; the device is looked up in bulk at the end from the
    person whose phone made them (-1: no device)."""

    ts: list[int] = field(default_factory=list)
    payer: list[int] = field(default_factory=list)
    payee: list[int] = field(default_factory=list)
    amount: list[int] = field(default_factory=list)
    channel: list[int] = field(default_factory=list)
    phone_of: list[int] = field(default_factory=list)
    purpose: list[int] = field(default_factory=list)
    role: list[int] = field(default_factory=list)

    def add(
        self,
        ts: int,
        payer: int,
        payee: int,
        amount: int,
        role: int,
        *,
        phone_of: int = -1,
        channel: int = MOBILE,
        purpose: int = -1,
    ) -> None:
        self.ts.append(ts)
        self.payer.append(payer)
        self.payee.append(payee)
        self.amount.append(amount)
        self.channel.append(channel)
        self.phone_of.append(phone_of)
        self.purpose.append(purpose)
        self.role.append(role)

    def into(self, w: World, buf: TxBuffer) -> None:
        ts = np.array(self.ts, dtype=np.int64)
        person = np.array(self.phone_of, dtype=np.int64)
        device = np.full(len(ts), -1, dtype=np.int64)
        has = person >= 0
        device[has] = device_at(w, person[has], ts[has])
        buf.add(
            ts,
            kind=TRANSFER,
            payer=np.array(self.payer, dtype=np.int64),
            payee=np.array(self.payee, dtype=np.int64),
            amount=np.array(self.amount, dtype=np.int64),
            channel=np.array(self.channel, dtype=np.int64),
            device=device,
            city=HOME,
            purpose=np.array(self.purpose, dtype=np.int64),
            role=np.array(self.role, dtype=np.int64),
        )


def plant_networks(
    w: World, rng: np.random.Generator, excluded: set[int], start_us: int
) -> Networks:
    """Draw every network: its rented accounts, collectors, gamblers' stakes, forwardings,
    collectors' payouts, and the holders' own use of the rented accounts. `excluded` are
    persons already cast in the scams (victims, mule holders)."""
    b = w.behaviour
    end = start_us + w.scale.days * US_PER_DAY
    taken = set(excluded)
    spare = _spare_accounts(w)
    rows = _Rows()
    networks: list[Network] = []
    plans = []
    # The cash-out merchants no gang uses (firms.make_firms makes two more than gangs).
    exchanges = w.accounts.cashout[w.scale.gangs :]
    for n in range(w.scale.networks):
        place = _PLACES[int(rng.integers(0, len(_PLACES)))]
        platform = _PLATFORMS[int(rng.integers(0, len(_PLATFORMS)))]
        wanted = int(rng.integers(*b.collection_accounts, endpoint=True))
        holders = _renters(w, rng, spare, taken, wanted)
        collectors = _collectors(w, rng, taken, int(rng.integers(*b.collectors, endpoint=True)))
        # Network n begins in the n-th of equal slices of the start span, so the starts cover
        # the whole period at any seed (a time split judges networks that begin after its cut).
        slice_days = b.network_start_share * w.scale.days / w.scale.networks
        begin = start_us + int((n + rng.uniform(0, 1)) * slice_days * US_PER_DAY)
        accounts = [int(spare[p]) for p in holders]
        rent = _rentals(w, rng, len(accounts), begin, end)
        operator = f"collects deposits for {platform}; operator in {place}"
        networks.append(Network(operator, int(exchanges[n % len(exchanges)])))
        plans.append((begin, holders, accounts, rent, collectors))
    gamblers = _gamblers(w, rng, taken, [len(plan[2]) for plan in plans])
    reserved: dict[int, int] = {}
    for net, (begin, holders, accounts, rent, collectors), players in zip(
        networks, plans, gamblers, strict=True
    ):
        period = (start_us, begin, end)
        inflows = _stakes(w, rng, rows, players, accounts, rent, period, reserved)
        firsts = [stakes[0][0] if stakes else end for stakes in inflows]
        for k in np.argsort(firsts, kind="stable").tolist():
            if inflows[k]:
                net.collection.append(accounts[k])
                net.rented_at[accounts[k]] = int(rent[0][k])
        arrivals = _forward(w, rng, rows, inflows, accounts, holders, collectors, end)
        for collector in collectors:
            if arrivals[collector[0]]:
                net.collectors.append(collector[0])
                _sweep(w, rng, rows, collector, arrivals[collector[0]], net.exchange, end)
        _own_use(w, rng, rows, accounts, holders)
    buf = TxBuffer()
    rows.into(w, buf)
    players = sorted({p for group in gamblers for p in group})
    paying = [p for p in players if int(w.accounts.main[p]) in reserved]
    return Networks(networks, buf, reserved, paying)


def _spare_accounts(w: World) -> I64:
    """Per person, the account they could rent out: their second Class I account, else their
    Class II e-account, else -1 (nobody rents out the account their salary arrives in)."""
    acc = w.accounts
    spare = np.full(w.people.count, -1, dtype=np.int64)
    class2 = np.flatnonzero(acc.cls == CLASS_II)
    spare[acc.party[class2]] = class2
    has_second = acc.secondary >= 0
    spare[has_second] = acc.secondary[has_second]
    return spare


def _pick(
    rng: np.random.Generator, pool: I64, weight: npt.NDArray[np.float64], count: int
) -> list[int]:
    """Up to `count` distinct members of `pool`, drawn by weight."""
    if len(pool) == 0 or count <= 0:
        return []
    chosen = rng.choice(pool, size=min(count, len(pool)), replace=False, p=weight / weight.sum())
    return [int(p) for p in chosen]


def _free(w: World, taken: set[int], ages: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """Persons of the age band with a phone, not cast in another part yet."""
    age = w.people.age
    free = (age >= ages[0]) & (age < ages[1]) & (w.devices.person >= 0)
    free[[p for p in sorted(taken) if p < w.people.count]] = False
    return free


def _renters(
    w: World, rng: np.random.Generator, spare: I64, taken: set[int], wanted: int
) -> list[int]:
    """Holders of the collection accounts: young residents, renters and students above all,
    with a second Class I account (preferred: no daily limit) or a Class II account."""
    b = w.behaviour
    pool = np.flatnonzero(_free(w, taken, b.renter_ages) & (spare >= 0))
    people = w.people
    weight = np.where(
        people.renter[pool] | (people.occupation[pool] == STUDENT), b.renter_weight, 1.0
    )
    weight = weight * np.where(w.accounts.secondary[pool] >= 0, b.spare_class1_weight, 1.0)
    chosen = _pick(rng, pool, weight, wanted)
    taken.update(chosen)
    return chosen


def _collectors(
    w: World, rng: np.random.Generator, taken: set[int], wanted: int
) -> list[tuple[int, int]]:
    """The network's collector accounts, each at another bank: a small merchant's settlement
    account, or the spare Class I account of one of the operator's people. Returns (account,
    person whose phone pays out from it, or -1 for corporate online banking)."""
    b = w.behaviour
    acc = w.accounts
    firms = w.firms
    merchants = np.flatnonzero(firms.kind == MERCHANT)
    small = merchants[firms.size[merchants] <= np.median(firms.size[merchants])]
    persons = np.flatnonzero(_free(w, taken, b.collector_ages) & (acc.secondary >= 0))
    banks: set[int] = set()
    out: list[tuple[int, int]] = []
    for _ in range(wanted):
        corporate = len(persons) == 0 or rng.random() < b.corporate_collector_share
        # A few tries to find one at a bank the network has no collector at yet.
        for _attempt in range(50):
            if corporate:
                firm = int(small[rng.integers(0, len(small))])
                party, account, phone = w.people.count + firm, int(acc.corporate[firm]), -1
            else:
                person = int(persons[rng.integers(0, len(persons))])
                party, account, phone = person, int(acc.secondary[person]), person
            if party not in taken and int(acc.bank[account]) not in banks:
                taken.add(party)
                banks.add(int(acc.bank[account]))
                out.append((account, phone))
                break
    return out


def _rentals(
    w: World, rng: np.random.Generator, count: int, begin: int, end: int
) -> tuple[I64, I64]:
    """Start and end of each rental: a first wave when the network begins, the others joining
    later; each lasts days to a few weeks (accounts are rotated before banks notice)."""
    b = w.behaviour
    first = int(np.ceil(b.first_wave_share * count))
    latest = max(end - int(b.rental_min_days * US_PER_DAY), begin)
    joins = rng.integers(begin, latest + 1, size=count)
    joins[:first] = begin + rng.integers(0, 6 * US_PER_H, size=first)
    days = np.maximum(
        rng.lognormal(np.log(b.rental_median_days), b.rental_sigma, count), b.rental_min_days
    )
    return joins.astype(np.int64), np.minimum(joins + (days * US_PER_DAY).astype(np.int64), end)


def _gamblers(
    w: World, rng: np.random.Generator, taken: set[int], sizes: list[int]
) -> list[list[int]]:
    """The gamblers of each network (one platform each), men above all; a network's share of
    them follows its number of collection accounts."""
    b = w.behaviour
    if not sizes:
        return []
    pool = np.flatnonzero(_free(w, taken, b.gambler_ages))
    weight = np.where(w.people.male[pool], b.gambler_male_weight, 1.0)
    chosen = _pick(rng, pool, weight, w.scale.gamblers)
    taken.update(chosen)
    # A network that found no holders still draws gamblers, who then find no account open.
    share = np.maximum(np.array(sizes, dtype=np.float64), 1.0)
    platform = rng.choice(len(sizes), size=len(chosen), p=share / share.sum())
    return [
        [p for p, n in zip(chosen, platform.tolist(), strict=True) if n == k]
        for k in range(len(sizes))
    ]


def _stake_amounts(rng: np.random.Generator, count: int, b: Behaviour) -> I64:
    """Stakes in fen: lognormal, most snapped to a tier and put just off it (¥1,999, ¥2,003)
    so the platform can tell whose deposit arrived."""
    lo, hi = b.stake_range_yuan
    yuan = np.clip(rng.lognormal(np.log(b.stake_median_yuan), b.stake_sigma, count), lo, hi)
    tiers = np.array(b.stake_tiers_yuan, dtype=np.float64)
    nearest = tiers[np.abs(yuan[:, None] - tiers[None, :]).argmin(axis=1)]
    offset = rng.integers(1, b.stake_offset_max_yuan + 1, count) * rng.choice((-1, 1), count)
    tiered = rng.random(count) < b.stake_tier_share
    chosen = np.where(tiered, nearest + offset, np.round(yuan))
    return (np.clip(chosen, lo, hi) * 100).astype(np.int64)


def _after(rng: np.random.Generator, median_min: float, sigma: float) -> int:
    """A delay of minutes (lognormal, at least one) plus a few seconds."""
    minutes = max(rng.lognormal(np.log(median_min), sigma), 1.0)
    return int(minutes * US_PER_MIN) + int(rng.integers(0, 60)) * US_PER_S


def _stakes(
    w: World,
    rng: np.random.Generator,
    rows: _Rows,
    players: list[int],
    accounts: list[int],
    rent: tuple[I64, I64],
    period: tuple[int, int, int],
    reserved: dict[int, int],
) -> list[list[tuple[int, int]]]:
    """The gamblers' stakes, each paid into one of the accounts rented at that moment (a
    Class II account only while its daily quota lasts); returns each account's inflows
    (time, fen) in time order. `period` is (start of the period, network begins, end)."""
    b = w.behaviour
    start, begin, end = period
    rent_from, rent_to = rent
    inflows: list[list[tuple[int, int]]] = [[] for _ in accounts]
    if not players or not accounts:
        return inflows
    # Some gamble daily, most now and then: a gamma-distributed rate per gambler.
    shape = b.stakes_rate_shape
    rate = b.stakes_per_day * rng.gamma(shape, 1 / shape, len(players))
    counts = rng.poisson(rate * (end - begin) / US_PER_DAY)
    payer = np.repeat(np.array(players, dtype=np.int64), counts)
    day = rng.integers((begin - start) // US_PER_DAY, w.scale.days, len(payer))
    ts = instants(rng, day, b.stake_hours)
    amount = _stake_amounts(rng, len(payer), b)
    order = np.lexsort((payer, ts))
    order = order[(ts[order] >= begin) & (ts[order] < end - US_PER_H)]
    class2 = w.accounts.cls[np.array(accounts, dtype=np.int64)] == CLASS_II
    quota = b.class2_daily_quota_yuan * 100
    used: dict[tuple[int, int], int] = {}
    for t, p, x in zip(
        ts[order].tolist(), payer[order].tolist(), amount[order].tolist(), strict=True
    ):
        open_now = (rent_from <= t) & (t < rent_to)
        today = (t - start) // US_PER_DAY
        for k in np.flatnonzero(open_now & class2).tolist():
            if used.get((k, today), 0) + x > quota:
                open_now[k] = False
        candidates = np.flatnonzero(open_now)
        if len(candidates) == 0:
            continue
        k = int(candidates[rng.integers(0, len(candidates))])
        if class2[k]:
            used[(k, today)] = used.get((k, today), 0) + x
        main = int(w.accounts.main[p])
        rows.add(t, main, accounts[k], x, COLLECTION, phone_of=p)
        inflows[k].append((t, x))
        reserved[main] = reserved.get(main, 0) + x
    return inflows


def _forward(
    w: World,
    rng: np.random.Generator,
    rows: _Rows,
    inflows: list[list[tuple[int, int]]],
    accounts: list[int],
    holders: list[int],
    collectors: list[tuple[int, int]],
    end: int,
) -> dict[int, list[tuple[int, int]]]:
    """Each collection account forwards what arrived, less its commission, minutes after the
    first unforwarded stake (stakes arriving meanwhile go along), mostly to one collector at
    another bank; returns each collector's arrivals (time, fen)."""
    b = w.behaviour
    bank = w.accounts.bank
    arrivals: dict[int, list[tuple[int, int]]] = {c: [] for c, _ in collectors}
    if not collectors:
        return arrivals
    every = [c for c, _ in collectors]
    for k, account in enumerate(accounts):
        if not inflows[k]:
            continue
        commission = rng.uniform(*b.commission)
        elsewhere = [c for c in every if bank[c] != bank[account]] or every
        primary = elsewhere[int(rng.integers(0, len(elsewhere)))]
        pending, due = 0, -1
        for t, x in [*inflows[k], (end, 0)]:
            if due >= 0 and t >= due:
                if due >= end:
                    break  # not forwarded before the period ends: it rests in the account
                amount = pending - round(pending * commission)
                target = primary
                if len(every) > 1 and rng.random() >= b.primary_collector_share:
                    others = [c for c in every if c != primary]
                    target = others[int(rng.integers(0, len(others)))]
                rows.add(due, account, target, amount, FORWARDING, phone_of=holders[k])
                arrivals[target].append((due, amount))
                pending, due = 0, -1
            if t >= end:
                break
            pending += x
            if due < 0:
                due = t + _after(rng, b.forward_median_min, b.forward_sigma)
    return arrivals


def _sweep(
    w: World,
    rng: np.random.Generator,
    rows: _Rows,
    collector: tuple[int, int],
    arrivals: list[tuple[int, int]],
    exchange: int,
    end: int,
) -> None:
    """A collector pays what has gathered on to the exchange in round ¥10,000s whenever it
    passes the collector's threshold; the rest waits for the next round."""
    b = w.behaviour
    account, phone = collector
    lo, hi = b.sweep_threshold_yuan
    threshold = int(rng.integers(lo, hi, endpoint=True)) * 100
    unit = b.sweep_unit_yuan * 100
    pending, free_at = 0, 0
    for t, x in sorted(arrivals):
        pending += x
        if pending < threshold or t < free_at:
            continue
        at = t + _after(rng, b.sweep_median_min, b.forward_sigma)
        if at >= end:
            break
        amount = pending // unit * unit
        channel = MOBILE if phone >= 0 else ONLINE
        rows.add(
            at,
            account,
            exchange,
            amount,
            FORWARDING,
            phone_of=phone,
            channel=channel,
            purpose=P["goods"],
        )
        pending -= amount
        free_at = at


def _own_use(
    w: World, rng: np.random.Generator, rows: _Rows, accounts: list[int], holders: list[int]
) -> None:
    """The holders keep paying for small things from the rented account: at most one
    purchase a day, so a Class II account stays inside its daily limit with the forwardings."""
    b = w.behaviour
    merchants = np.flatnonzero(w.firms.kind == MERCHANT)
    size = w.firms.size[merchants]
    for account, holder in zip(accounts, holders, strict=True):
        days = np.flatnonzero(rng.random(w.scale.days) < b.own_use_per_day)
        ts = instants(rng, days, b.shop_hours)
        yuan = np.clip(
            rng.lognormal(np.log(b.own_use_median_yuan), 0.8, len(days)), 1, b.own_use_max_yuan
        )
        shops = merchants[rng.choice(len(merchants), size=len(days), p=size / size.sum())]
        for t, amount, shop in zip(
            ts.tolist(), (yuan * 100).astype(np.int64).tolist(), shops.tolist(), strict=True
        ):
            payee = int(w.accounts.corporate[shop])
            rows.add(t, account, payee, amount, NORMAL, phone_of=holder, purpose=P["shopping"])
