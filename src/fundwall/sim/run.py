"""`simulate`: draw one region from a seed and write it as a region folder.

The same size and seed always give byte-identical files: one `numpy.random.Generator(PCG64)`
drives every draw in a fixed sequence, rows are written in a fixed order, and nothing about
the run (time, host, path) goes into the files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fundwall.domain.errors import InvalidInput
from fundwall.region import write_manifest
from fundwall.sim.accounts import START_US, make_accounts
from fundwall.sim.devices import make_devices
from fundwall.sim.firms import assign_employers, make_firms
from fundwall.sim.fraud import make_fraud
from fundwall.sim.labels import write_labels
from fundwall.sim.ledger import settle
from fundwall.sim.life import World, ordinary_life
from fundwall.sim.logins import make_logins
from fundwall.sim.paofen import network_rng, plant_networks
from fundwall.sim.params import BEHAVIOUR, SCALES, SIZES, START
from fundwall.sim.people import make_people
from fundwall.sim.region import institutions
from fundwall.sim.registry import make_registry
from fundwall.sim.txbuf import CASH_OUT, NORMAL, VICTIM_PAYMENT
from fundwall.sim.writer import names, write_region

STAGES = (
    "people",
    "accounts",
    "ordinary life",
    "fraud",
    "跑分 networks",
    "settling",
    "logins",
    "writing",
)
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Summary:
    """What `fundwall sim` prints when it is done."""

    size: str
    seed: int
    counts: dict[str, int]
    dropped: int
    fraud_transactions: int
    scams: int
    losses_fen: int
    cashed_out_fen: int
    mules: int
    sold: int

    @property
    def still_in_mules_fen(self) -> int:
        """Scam money not cashed out by the end: what stop-payments and freezes can recover."""
        return self.losses_fen - self.cashed_out_fen

    @property
    def fraud_share(self) -> float:
        total = self.counts.get("transactions", 0)
        return self.fraud_transactions / total if total else 0.0


def _cushion(
    balance: npt.NDArray[np.int64], reserved: dict[int, int], rng: np.random.Generator
) -> None:
    """Scam victims and gamblers pay from savings: each gets an opening balance of at least
    1.05-1.6x what they will pay."""
    for account, total in sorted(reserved.items()):
        balance[account] = max(int(balance[account]), int(total * rng.uniform(1.05, 1.6)))


def simulate(size: str, seed: int, out: Path, progress: Progress | None = None) -> Summary:
    """Simulate a region of the given size and write it to `out` (created if missing)."""
    if size not in SIZES:
        raise InvalidInput(f"size must be one of {', '.join(SIZES)}, got {size!r}", "size")
    if seed < 0:
        raise InvalidInput(f"seed must be zero or positive, got {seed}", "seed")
    step = progress or (lambda _stage: None)
    scale = SCALES[size]
    b = BEHAVIOUR
    rng = np.random.Generator(np.random.PCG64(seed))
    taken_ids: set[str] = set()
    taken_phones: set[str] = set()
    people = make_people(rng, scale, b, taken_ids, taken_phones)
    adults = np.flatnonzero(people.age >= 25).astype(np.int64)
    firms = make_firms(rng, scale, people.count, adults, scale.gangs)
    employer = assign_employers(rng, people.occupation, firms)
    devices = make_devices(rng, scale, b, people, START_US)
    step("people")
    accounts = make_accounts(rng, scale, b, people, firms, employer, devices.person, devices.batch)
    registry = make_registry(rng, people, accounts, START_US, taken_ids, taken_phones)
    step("accounts")
    world = World(rng, scale, b, people, firms, accounts, devices, employer)
    buffer = ordinary_life(world)
    step("ordinary life")
    fraud = make_fraud(world, START_US)
    _cushion(accounts.balance, fraud.reserved, rng)
    buffer.add_rows(fraud.rows)
    step("fraud")
    cast = set(accounts.party[accounts.mule_candidates()].tolist())
    cast.update(scam.victim for scam in fraud.scams)
    stream = network_rng(seed)
    networks = plant_networks(world, stream, cast, START_US)
    _cushion(accounts.balance, networks.reserved, stream)
    buffer.extend(networks.buffer)
    step("跑分 networks")
    settled = settle(
        buffer.columns(),
        accounts.cls,
        accounts.opened_at,
        accounts.balance,
        dict(Counter(fraud.reserved) + Counter(networks.reserved)),
        fraud.gangs.state.sold_at,
    )
    step("settling")
    logins = make_logins(world, fraud.gangs.state)
    step("logins")
    insts = institutions(scale)
    n = names(rng, people, firms, accounts, devices, insts)
    status = np.zeros(accounts.count, dtype=np.int64)
    woken = np.array(sorted(fraud.gangs.state.sold_at), dtype=np.int64)
    status[accounts.dormant] = 1
    status[woken] = 0
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=out))
    try:
        counts = write_region(
            staging, n, insts, people, firms, accounts, status, devices, registry, logins, settled
        )
        counts |= write_labels(
            staging, n, accounts, fraud, networks, settled, registry, b, people.count
        )
        end = START + timedelta(days=scale.days)
        write_manifest(
            staging,
            source="sim",
            size=size,
            seed=seed,
            period_start=START.isoformat(),
            period_end=end.isoformat(),
            currency="CNY",
            amounts="fen",
        )
        # Every file is complete before any replaces its namesake: no half-written folder.
        for done in sorted(staging.iterdir()):
            done.replace(out / done.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    step("writing")
    role = settled.columns["role"]
    amount = settled.columns["amount"]
    return Summary(
        size=size,
        seed=seed,
        counts=counts,
        dropped=settled.dropped,
        fraud_transactions=int((role != NORMAL).sum()),
        scams=len(fraud.scams),
        losses_fen=int(amount[role == VICTIM_PAYMENT].sum()),
        cashed_out_fen=int(amount[role == CASH_OUT].sum()),
        mules=len(fraud.gangs.state.since),
        sold=len(fraud.gangs.state.sold_at),
    )
