"""Accounts of persons and firms, including those that will later serve gangs.

Ordinary holdings: a Class I account at a main bank for everyone, for some a second Class I,
a Class II e-account and a Class III payment account bound to it; a corporate account per
firm. Then the accounts the fraud is made of: extra accounts card sellers opened to sell,
long-dormant accounts, dealers' accounts across many banks, batches opened by one agent or
device, and shell firms' corporate accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fundwall.sim.firms import CASHOUT, DEVELOPER, EMPLOYER, MERCHANT, PENSION_FUND, SHELL, Firms
from fundwall.sim.params import START, US_PER_DAY, US_PER_H, US_PER_MIN, Behaviour, Scale
from fundwall.sim.people import People

I64 = npt.NDArray[np.int64]

CLASS_I, CLASS_II, CLASS_III, CORPORATE = 0, 1, 2, 3
CLASS_NAMES = ("I", "II", "III", "corporate")
COUNTER, MOBILE, ONLINE, AGENT = 0, 1, 2, 3
OPENING_CHANNELS = ("counter", "mobile", "online", "agent")
NO_TIME = np.iinfo(np.int64).min
START_US = int(START.timestamp()) * 1_000_000
_YEAR = 365 * US_PER_DAY
_EARLIEST = START_US - 19 * _YEAR


@dataclass(slots=True)
class Ledger:
    """Accounts as growing lists, turned into arrays by `frozen()`."""

    bank: list[int] = field(default_factory=list)
    party: list[int] = field(default_factory=list)
    cls: list[int] = field(default_factory=list)
    opened_at: list[int] = field(default_factory=list)
    channel: list[int] = field(default_factory=list)
    device: list[int] = field(default_factory=list)
    agent: list[int] = field(default_factory=list)
    bound: list[int] = field(default_factory=list)
    balance: list[int] = field(default_factory=list)
    last_active: list[int] = field(default_factory=list)

    def add(
        self,
        bank: int,
        party: int,
        cls: int,
        opened_at: int,
        balance: int,
        *,
        channel: int = COUNTER,
        device: int = -1,
        agent: int = -1,
        bound: int = -1,
        last_active: int = NO_TIME,
    ) -> int:
        return int(
            self.add_many(
                np.array([bank]),
                np.array([party]),
                cls,
                np.array([opened_at]),
                np.array([balance]),
                channel=channel,
                device=np.array([device]),
                agent=np.array([agent]),
                bound=np.array([bound]),
                last_active=np.array([last_active]),
            )[0]
        )

    def add_many(
        self,
        bank: I64,
        party: I64,
        cls: int,
        opened_at: I64,
        balance: I64,
        *,
        channel: int = COUNTER,
        device: I64 | None = None,
        agent: I64 | None = None,
        bound: I64 | None = None,
        last_active: I64 | None = None,
    ) -> I64:
        """Open len(bank) accounts of one class and channel; returns their numbers."""
        k = len(bank)
        first = len(self.bank)
        none = [-1] * k
        self.bank += bank.tolist()
        self.party += party.tolist()
        self.cls += [cls] * k
        self.opened_at += opened_at.tolist()
        self.channel += [channel] * k
        self.device += none if device is None else device.tolist()
        self.agent += none if agent is None else agent.tolist()
        self.bound += none if bound is None else bound.tolist()
        self.balance += balance.tolist()
        self.last_active += [NO_TIME] * k if last_active is None else last_active.tolist()
        return np.arange(first, first + k, dtype=np.int64)


@dataclass(slots=True)
class Accounts:
    """Every account, one entry per account; `party` numbers persons first, then firms."""

    bank: I64
    party: I64
    cls: I64
    opened_at: I64
    channel: I64
    device: I64
    agent: I64
    bound: I64
    balance: I64
    last_active: I64
    main: I64
    secondary: I64
    small: I64
    corporate: I64
    sellers: I64
    dormant: I64
    dealer: I64
    batch: I64
    shell: I64
    cashout: I64

    @property
    def count(self) -> int:
        return len(self.bank)

    def mule_candidates(self) -> I64:
        """Persons' accounts the gangs may turn into mules: card sellers' spare accounts,
        dealers' and batch accounts, and long-dormant accounts."""
        return np.concatenate([self.sellers, self.dealer, self.batch, self.dormant])


def _frozen(ledger: Ledger) -> dict[str, I64]:
    return {
        name: np.array(getattr(ledger, name), dtype=np.int64)
        for name in (
            "bank",
            "party",
            "cls",
            "opened_at",
            "channel",
            "device",
            "agent",
            "bound",
            "balance",
            "last_active",
        )
    }


class ClassOneBanks:
    """The banks where each person already holds a Class I account: REGULATIONS.md allows
    one Class I account per person per bank."""

    def __init__(self, main_bank: I64, other_bank: I64, second: npt.NDArray[np.bool_]) -> None:
        self._main = main_bank
        self._other = other_bank
        self._second = second
        self._extra: dict[int, set[int]] = {}

    def held(self, person: int) -> set[int]:
        banks = {int(self._main[person])}
        if self._second[person]:
            banks.add(int(self._other[person]))
        return banks | self._extra.get(person, set())

    def claim(self, person: int, bank: int) -> bool:
        """Record a new Class I account at `bank`, unless the person already has one there."""
        if bank in self.held(person):
            return False
        self._extra.setdefault(person, set()).add(bank)
        return True

    def pick(self, rng: np.random.Generator, person: int, banks: int, count: int) -> list[int]:
        """Up to `count` banks, uniformly among those where the person has no Class I yet."""
        free = np.array(sorted(set(range(banks)) - self.held(person)), dtype=np.int64)
        chosen = rng.choice(free, size=min(count, len(free)), replace=False).tolist()
        self._extra.setdefault(person, set()).update(chosen)
        return [int(b) for b in chosen]


def make_accounts(
    rng: np.random.Generator,
    scale: Scale,
    behaviour: Behaviour,
    people: People,
    firms: Firms,
    employer: I64,
    person_device: I64,
    batch_devices: I64,
) -> Accounts:
    """Open every account the simulation needs, with opening dates and balances."""
    led = Ledger()
    n = people.count
    nb = scale.banks
    pis = np.arange(nb, nb + scale.payment_institutions)
    # Big banks hold more customers: bank shares fall off like a Zipf law.
    share = 1.0 / np.arange(1, nb + 1) ** 0.8
    main_bank = rng.choice(nb, size=n, p=share / share.sum())
    adult_since = np.maximum(START_US - (people.age - 16) * _YEAR, _EARLIEST)
    span = np.maximum(START_US - 30 * US_PER_DAY - adult_since, US_PER_DAY)
    opened = adult_since + (rng.random(n) * span).astype(np.int64)
    recent = START_US - rng.integers(0, 20, size=n) * US_PER_DAY - rng.integers(0, US_PER_DAY, n)
    persons = np.arange(n, dtype=np.int64)
    second = rng.random(n) < behaviour.second_class1_share
    kept = np.where(second, people.savings_fen * 85 // 100, people.savings_fen)
    main = led.add_many(main_bank, persons, CLASS_I, opened, kept, last_active=recent)
    later = opened + (rng.random(n) * (START_US - opened) * 0.5).astype(np.int64)
    other_bank = (main_bank + rng.integers(1, nb, size=n)) % nb
    secondary = np.full(n, -1, dtype=np.int64)
    secondary[second] = led.add_many(
        other_bank[second],
        persons[second],
        CLASS_I,
        later[second],
        (people.savings_fen - kept)[second],
        last_active=recent[second],
    )
    has2 = rng.random(n) < behaviour.class2_share
    led.add_many(
        other_bank[has2],
        persons[has2],
        CLASS_II,
        later[has2],
        rng.integers(0, 800_000, size=int(has2.sum())),
        channel=MOBILE,
        device=person_device[has2],
        bound=main[has2],
        last_active=recent[has2],
    )
    has3 = rng.random(n) < behaviour.class3_share
    small = np.full(n, -1, dtype=np.int64)
    small[has3] = led.add_many(
        rng.choice(pis, size=int(has3.sum())),
        persons[has3],
        CLASS_III,
        later[has3],
        rng.integers(0, 150_000, size=int(has3.sum())),
        channel=MOBILE,
        device=person_device[has3],
        bound=main[has3],
        last_active=recent[has3],
    )
    class_one = ClassOneBanks(main_bank, other_bank, second)
    many = np.flatnonzero((rng.random(n) < behaviour.many_accounts_share) & (people.age >= 25))
    for p in many.tolist():
        for b in class_one.pick(rng, p, nb, int(rng.integers(2, 5))):
            led.add(
                b,
                p,
                CLASS_I,
                int(opened[p]),
                int(rng.integers(0, 5_000_000)),
                last_active=int(recent[p]),
            )
    young = np.flatnonzero((people.age >= 18) & (people.age < 40))
    sellers = rng.choice(young, size=scale.card_sellers, replace=False)
    seller_accounts = []
    for i, p in enumerate(sellers.tolist()):
        when = START_US - int(rng.integers(30, 180)) * US_PER_DAY
        acct = led.add(
            class_one.pick(rng, p, nb, 1)[0],
            p,
            CLASS_I,
            when,
            int(rng.integers(1_000, 200_000)),
            last_active=NO_TIME if i % 2 else int(recent[p]),
        )
        seller_accounts.append(acct)
        # Half of the sellers use the new account a little before selling it, half never.
        if i % 2 == 0 and secondary[p] < 0:
            secondary[p] = acct
    dormant_holders = np.flatnonzero(rng.random(n) < behaviour.dormant_share)
    dormant = []
    for p in dormant_holders.tolist():
        banks = class_one.pick(rng, p, nb, 1)
        if not banks:
            continue
        last = START_US - int(rng.integers(400, 6 * 365)) * US_PER_DAY
        since = max(last - int(rng.integers(30, 3_000)) * US_PER_DAY, _EARLIEST)
        dormant.append(
            led.add(banks[0], p, CLASS_I, since, int(rng.integers(0, 1_001)), last_active=last)
        )
    dealers = rng.choice(young, size=scale.dealers, replace=False)
    dealer_accounts = []
    for p in dealers.tolist():
        first = START_US - int(rng.integers(20, 120)) * US_PER_DAY
        k = int(rng.integers(*behaviour.dealer_accounts, endpoint=True))
        for b in class_one.pick(rng, p, nb, k):
            when = first + int(rng.integers(0, 14 * US_PER_DAY))
            dealer_accounts.append(led.add(b, p, CLASS_I, when, 0, channel=COUNTER))
    batch_accounts = []
    ring_agent = scale.batches
    for g in range(scale.batches):
        size = int(rng.integers(*behaviour.batch_size, endpoint=True))
        b = int(rng.integers(0, nb))
        candidates = rng.permutation(young)[: size * 3].tolist()
        holders: list[int] = []
        for p in candidates:
            if len(holders) == size:
                break
            if class_one.claim(p, b):
                holders.append(p)
        day = int(rng.integers(-10, max(scale.days - 5, 1)))
        t0 = START_US + day * US_PER_DAY + int(rng.integers(9, 16)) * US_PER_H
        # Opened face to face through agents (代理见证) on one tablet: half the batches by one
        # agent, half by a ring of agents sharing the tablet, so only the device links them.
        for k, p in enumerate(holders):
            when = t0 + k * int(rng.integers(4, 15)) * US_PER_MIN
            agent = g if g % 2 == 0 else ring_agent
            ring_agent += g % 2
            batch_accounts.append(
                led.add(
                    b, p, CLASS_I, when, 0, channel=AGENT, device=int(batch_devices[g]), agent=agent
                )
            )
    corporate, shell, cashout = _firm_accounts(rng, led, scale, people, firms, employer, pis)
    arrays = _frozen(led)
    return Accounts(
        **arrays,
        main=main,
        secondary=secondary,
        small=small,
        corporate=corporate,
        sellers=np.array(seller_accounts, dtype=np.int64),
        dormant=np.array(dormant, dtype=np.int64),
        dealer=np.array(dealer_accounts, dtype=np.int64),
        batch=np.array(batch_accounts, dtype=np.int64),
        shell=shell,
        cashout=cashout,
    )


def _firm_accounts(
    rng: np.random.Generator,
    led: Ledger,
    scale: Scale,
    people: People,
    firms: Firms,
    employer: I64,
    pis: I64,
) -> tuple[I64, I64, I64]:
    """One corporate account per firm; returns (per-firm account, shell accounts, cash-out
    merchant accounts)."""
    n = people.count
    nb = scale.banks
    corporate = np.empty(firms.count, dtype=np.int64)
    employees = np.bincount(employer[employer >= 0], minlength=firms.count)
    total_pension = int(people.pension_fen.sum())
    for f in range(firms.count):
        kind = int(firms.kind[f])
        size = float(firms.size[f])
        opened = START_US - int(rng.integers(60, 15 * 365)) * US_PER_DAY
        bank = int(rng.integers(0, nb))
        if kind == CASHOUT:
            bank = int(rng.choice(pis))
        if kind == SHELL:
            opened = START_US - int(rng.integers(30, 240)) * US_PER_DAY
            balance = int(rng.integers(0, 500_000))
        elif kind == PENSION_FUND:
            balance = total_pension * 3 + 1_000_000_00
        elif kind in (EMPLOYER, MERCHANT, DEVELOPER):
            payroll = int(employees[f]) * 9_000_00
            balance = int(payroll * rng.uniform(2.0, 4.0) + size * 200_000_00 * rng.random())
        else:
            balance = int(size * 5_000_000_00)
        corporate[f] = led.add(
            bank,
            n + f,
            CORPORATE,
            opened,
            balance,
            last_active=START_US - int(rng.integers(0, 5)) * US_PER_DAY,
        )
    shell = corporate[firms.kind == SHELL]
    cashout = corporate[firms.kind == CASHOUT]
    return corporate, shell, cashout
