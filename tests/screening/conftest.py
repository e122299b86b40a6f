"""Fixtures of the screening tests: a tiny simulated region (built once per session), the
test's store (SQLite, then PostgreSQL) holding it with its transactions, on a clock at the
end of the region's period, and the actors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.screening.base import period_end
from fundwall.sim.load import load_region
from fundwall.sim.run import simulate
from kept_stores import KeptStores

TINY_SEED = 20240304
OPERATOR = Actor.operator("test")
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 3)
POLICE = Actor(ActorKind.USER, "cop", Role.POLICE_OFFICER, "PSB350200", 4)
AUDITOR = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 5)


def admin(member: str) -> Actor:
    return Actor(ActorKind.USER, f"admin{member}", Role.MEMBER_ADMIN, member, 10)


def analyst(member: str) -> Actor:
    return Actor(ActorKind.USER, f"analyst{member}", Role.MEMBER_ANALYST, member, 11)


def key(member: str) -> Actor:
    return Actor(ActorKind.API_KEY, f"key{member}", Role.MEMBER_SYSTEM, member)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("screening_tiny")
    simulate("tiny", TINY_SEED, out)
    return out


@pytest.fixture
def clock(tiny: Path) -> FixedClock:
    """The end of the tiny region's period: its accounts as a run at that moment sees them."""
    return FixedClock(period_end(tiny))


@pytest.fixture
def loaded(
    kept_stores: KeptStores,
    migrated_database_url: str,
    clock: FixedClock,
    tmp_path: Path,
    tiny: Path,
) -> Iterator[Platform]:
    """A platform (as the `platform` fixture's, instead of it) over a store of the test's
    own holding the tiny region, transactions included: loaded once per session and
    backend, then copied."""

    def load(platform: Platform) -> None:
        load_region(tiny, platform.database, platform.keyring)

    with kept_stores.opened("tiny region", load, migrated_database_url, clock, tmp_path) as opened:
        yield opened


@pytest.fixture(scope="session")
def planted(tiny: Path) -> Callable[[str], set[str]]:
    """The accounts the simulator planted for a check."""
    labels = pl.read_parquet(tiny / "screening_labels.parquet")

    def of(check: str) -> set[str]:
        return set(labels.filter(pl.col("check") == check)["account_no"])

    return of


@pytest.fixture(scope="session")
def bank_of(tiny: Path) -> dict[str, str]:
    """Each account's bank."""
    accounts = pl.read_parquet(tiny / "accounts.parquet", columns=["account_no", "bank"])
    return dict(zip(accounts["account_no"], accounts["bank"], strict=True))
