"""The gangs' mule accounts: who controls which account, and from when.

Each gang gets a share of every kind of account that can serve as a mule: card sellers'
extra accounts, woken dormant accounts, dealers' accounts at many banks, accounts opened in
a batch by one agent or device, and shell firms' corporate accounts. An account is handed
over (sold) only when the gang first needs it: a takeover a few hours to days before its
first use, seen as a login from the gang's phone in the gang's city, often failing the face
check. Batch accounts are handed over right after they are opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fundwall.sim.accounts import Accounts
from fundwall.sim.devices import Devices
from fundwall.sim.params import US_PER_DAY, US_PER_H, US_PER_MIN, Behaviour

I64 = npt.NDArray[np.int64]

SOURCES = ("sold", "dormant", "dealer", "batch", "shell", "cashout_merchant")
SOLD, DORMANT, DEALER, BATCH, SHELL_SOURCE, CASHOUT_SOURCE = range(6)
FACE_CHECKS = ("passed", "failed", "mismatch", "not_done")
PASSED, FAILED, MISMATCH, NOT_DONE = range(4)


@dataclass(slots=True)
class Takeover:
    """A login that shows an account changing hands (or, later, its gang using it)."""

    account: int
    ts: int
    device: int
    city: int
    face_check: int


@dataclass(slots=True)
class MuleState:
    """What the gangs did with each account they used."""

    source: dict[int, int] = field(default_factory=dict)
    gang: dict[int, int] = field(default_factory=dict)
    sold_at: dict[int, int] = field(default_factory=dict)
    since: dict[int, int] = field(default_factory=dict)
    level: dict[int, int] = field(default_factory=dict)
    scams: dict[int, set[int]] = field(default_factory=dict)
    logins: list[Takeover] = field(default_factory=list)


class Gangs:
    """Mule pools per gang and the rules for taking the next account."""

    def __init__(
        self,
        rng: np.random.Generator,
        behaviour: Behaviour,
        accounts: Accounts,
        devices: Devices,
        start_us: int,
    ) -> None:
        self.rng = rng
        self.b = behaviour
        self.accounts = accounts
        self.devices = devices
        self.start_us = start_us
        self.count = len(devices.gang)
        self.state = MuleState()
        self.pools: list[dict[int, list[int]]] = [{} for _ in range(self.count)]
        self.used: list[list[int]] = [[] for _ in range(self.count)]
        self.ready: dict[int, int] = {}
        self.bank = accounts.bank
        self._deal(accounts)

    def _deal(self, acc: Accounts) -> None:
        """Share the candidate accounts out among the gangs (a dealer's or a batch's
        accounts all go to one gang)."""
        groups: list[tuple[int, list[int]]] = []
        groups += [(SOLD, [int(a)]) for a in acc.sellers]
        groups += [(DORMANT, [int(a)]) for a in acc.dormant]
        groups += [(SHELL_SOURCE, [int(a)]) for a in acc.shell]
        for holder in np.unique(acc.party[acc.dealer]).tolist():
            groups.append((DEALER, acc.dealer[acc.party[acc.dealer] == holder].tolist()))
        for b in np.unique(acc.device[acc.batch]).tolist():
            members = acc.batch[acc.device[acc.batch] == b].tolist()
            groups.append((BATCH, members))
            for a in members:
                self.ready[a] = int(acc.opened_at[a]) + int(
                    self.rng.integers(6 * US_PER_H, 3 * US_PER_DAY)
                )
        order = self.rng.permutation(len(groups))
        for i, g in enumerate(order.tolist()):
            source, members = groups[g]
            self.pools[i % self.count].setdefault(source, []).extend(members)

    def handed_over_before(self, account: int, t: int) -> bool:
        """Whether the gang had the account (and logged in to it) well before t."""
        sold = self.state.sold_at.get(account)
        return sold is not None and sold < t - 30 * US_PER_MIN

    def gang_device(self, gang: int, account: int) -> int:
        devices = self.devices.gang[gang]
        return int(devices[account % len(devices)])

    def gang_city(self, gang: int) -> int:
        return int(self.devices.gang_city[gang])

    def cashout_account(self, gang: int) -> int:
        merchants = self.accounts.cashout
        return int(merchants[gang % len(merchants)])

    def _usable(self, source: int, account: int, t: int, avoid_bank: int, scam: int) -> bool:
        s = self.state
        if int(self.bank[account]) == avoid_bank:
            return False
        if account in s.sold_at:
            if not self.handed_over_before(account, t):
                return False
            if account not in s.since:
                return True
            fresh = t - s.since[account] < self.b.mule_max_days * US_PER_DAY
            return (fresh and len(s.scams[account]) < self.b.mule_max_scams) or (
                scam in s.scams[account]
            )
        lead = int(self.b.sold_lead_min_h * US_PER_H)
        if source == BATCH:
            return max(self.ready[account], self.start_us + US_PER_H) < t - lead
        earliest = max(self.start_us, int(self.accounts.opened_at[account])) + US_PER_H
        return earliest < t - lead

    def take(self, gang: int, t: int, avoid_bank: int, scam: int, prefer: int = -1) -> int:
        """The account the gang moves money into at time t: preferably of kind `prefer`, at
        another bank, not yet worn out; the least-used one of the gang when all are."""
        pool = self.pools[gang]
        # The kind of account varies from hop to hop: gangs use what they have at hand.
        others = [k for k in sorted(pool) if k != prefer]
        others = [others[i] for i in self.rng.permutation(len(others))]
        order = ([prefer] if prefer in pool else []) + others
        for source in order:
            for account in pool[source]:
                if self._usable(source, account, t, avoid_bank, scam):
                    self._hand_over(gang, source, account, t)
                    return account
        ready = [a for a in self.used[gang] if self.handed_over_before(a, t)]
        used = [a for a in ready if int(self.bank[a]) != avoid_bank] or ready
        if not used:
            raise RuntimeError(f"gang {gang} has no mule account usable at {t}")
        return min(used, key=lambda a: (len(self.state.scams[a]), a))

    def _hand_over(self, gang: int, source: int, account: int, t: int) -> None:
        s = self.state
        if account in s.sold_at:
            return
        if source == BATCH:
            sold = max(
                self.ready[account] - int(self.rng.integers(10, 60)) * US_PER_MIN,
                self.start_us + 30 * US_PER_MIN,
            )
        else:
            lo = self.b.sold_lead_min_h * US_PER_H
            hi = self.b.sold_lead_max_h * US_PER_H
            lead = int(self.rng.uniform(lo, hi))
            floor = max(self.start_us, int(self.accounts.opened_at[account])) + US_PER_H // 2
            sold = max(t - lead, floor)
        s.sold_at[account] = sold
        s.source[account] = source
        s.gang[account] = gang
        device = self.gang_device(gang, account)
        city = self.gang_city(gang)
        first = int(self.rng.choice(3, p=(0.2, 0.5, 0.3)))
        s.logins.append(Takeover(account, sold, device, city, first))
        if first != PASSED:
            retry = sold + int(self.rng.integers(2, 20)) * US_PER_MIN
            s.logins.append(Takeover(account, retry, device, city, PASSED))

    def record_use(self, account: int, t: int, level: int, scam: int) -> None:
        """Note that the account received scam money at level `level` at time t."""
        s = self.state
        if account not in s.since or t < s.since[account]:
            s.since[account] = t
        s.level[account] = min(level, s.level.get(account, level))
        if account not in s.scams:
            s.scams[account] = set()
            if account in s.gang:
                self.used[s.gang[account]].append(account)
        s.scams[account].add(scam)
