"""Devices: the phones and computers of residents, the batch-opening devices of agents and
the handful of phones each gang runs its mule accounts from (one device, many accounts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fundwall.sim.params import US_PER_DAY, Behaviour, Scale
from fundwall.sim.people import People
from fundwall.sim.region import CITY_INDEX, HOME_CITY

I64 = npt.NDArray[np.int64]

PLATFORMS = ("android", "ios")
_MODELS = (
    ("Huawei Mate 60", "Xiaomi 14", "OPPO Reno 11", "vivo X100", "Honor 90", "Redmi K70"),
    ("iPhone 13", "iPhone 14", "iPhone 15", "iPhone 15 Pro"),
)


@dataclass(slots=True)
class Devices:
    """Every device, one entry per device."""

    platform: I64
    model: list[str]
    first_seen: I64
    city: I64
    person: I64
    new_person: I64
    change_at: I64
    batch: I64
    gang: list[I64]
    gang_city: I64

    @property
    def count(self) -> int:
        return len(self.platform)


def make_devices(
    rng: np.random.Generator, scale: Scale, behaviour: Behaviour, people: People, start_us: int
) -> Devices:
    """Residents' phones (fewer among the very old), a device per opening batch, and 2-4
    phones per gang located in the gang's city."""
    n = people.count
    has = rng.random(n) < np.where(people.age < 60, 0.97, np.where(people.age < 75, 0.75, 0.4))
    owners = np.flatnonzero(has)
    changers = owners[rng.random(len(owners)) < behaviour.device_change_share]
    batch_count = scale.batches
    gang_sizes = rng.integers(2, 5, size=scale.gangs)
    total = len(owners) + len(changers) + batch_count + int(gang_sizes.sum())
    platform = rng.choice(2, size=total, p=(0.72, 0.28)).astype(np.int64)
    model = [
        _MODELS[p][i % len(_MODELS[p])]
        for p, i in zip(platform.tolist(), rng.integers(0, 12, size=total).tolist(), strict=True)
    ]
    first_seen = start_us - rng.integers(30, 900, size=total) * US_PER_DAY
    city = np.full(total, CITY_INDEX[HOME_CITY], dtype=np.int64)
    person = np.full(n, -1, dtype=np.int64)
    person[owners] = np.arange(len(owners))
    new_person = np.full(n, -1, dtype=np.int64)
    change_at = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    k = len(owners)
    new_person[changers] = np.arange(k, k + len(changers))
    change_at[changers] = start_us + rng.integers(1, scale.days, size=len(changers)) * US_PER_DAY
    first_seen[k : k + len(changers)] = change_at[changers]
    k += len(changers)
    batch = np.arange(k, k + batch_count, dtype=np.int64)
    k += batch_count
    gang_city = np.array(
        [
            CITY_INDEX[behaviour.mule_cities[g % len(behaviour.mule_cities)]]
            for g in range(scale.gangs)
        ],
        dtype=np.int64,
    )
    gang = []
    for g, size in enumerate(gang_sizes.tolist()):
        ids = np.arange(k, k + size, dtype=np.int64)
        city[ids] = gang_city[g]
        platform[ids] = 0
        gang.append(ids)
        k += size
    return Devices(
        platform=platform,
        model=model,
        first_seen=first_seen,
        city=city,
        person=person,
        new_person=new_person,
        change_at=change_at,
        batch=batch,
        gang=gang,
        gang_city=gang_city,
    )
