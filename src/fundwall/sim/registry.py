"""The telecom real-name registry (手机实名登记): which ID number holds which phone number, and
since when, with the problems a real-name check must find planted in it.

- shared: one phone declared by several people (elderly parents giving a child's number; the
  holders of a batch of accounts all giving the organiser's number);
- recycled: a person still declares a number they gave up, which the carrier has since
  assigned to somebody else;
- mismatch: a person declares a number registered to somebody else's ID.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fundwall.sim.accounts import Accounts
from fundwall.sim.params import US_PER_DAY
from fundwall.sim.people import People, birth_dates, phone_numbers, resident_ids
from fundwall.sim.region import ELSEWHERE

I64 = npt.NDArray[np.int64]

PHONE_ISSUES = ("none", "shared", "recycled", "mismatch")
NONE, SHARED, RECYCLED, MISMATCH = range(4)
_YEAR = 365 * US_PER_DAY


@dataclass(slots=True)
class Registry:
    """Rows of the registry, and the planted problem of each person."""

    phone: list[str]
    id_number: list[str]
    registered_at: list[int]
    deregistered_at: list[int | None]
    issue: I64


def make_registry(
    rng: np.random.Generator,
    people: People,
    accounts: Accounts,
    start_us: int,
    taken_ids: set[str],
    taken_phones: set[str],
) -> Registry:
    """Register every person's own phone, then plant the problems; `people.phone` is changed
    in place where a person declares a number that is not (or no longer) theirs."""
    n = people.count
    issue = np.zeros(n, dtype=np.int64)
    adult = np.maximum(start_us - (people.age - 18) * _YEAR, start_us - 15 * _YEAR)
    since = adult + (rng.random(n) * (start_us - 30 * US_PER_DAY - adult)).astype(np.int64)
    reg = Registry(list(people.phone), list(people.id_number), since.tolist(), [None] * n, issue)
    old = np.flatnonzero(people.age >= 75)
    for p in old[rng.random(len(old)) < 0.25].tolist():
        people.phone[p] = people.phone[int(people.relative[p])]
    for device in np.unique(accounts.device[accounts.batch]).tolist():
        holders = np.unique(
            accounts.party[accounts.batch[accounts.device[accounts.batch] == device]]
        )
        for p in holders[1:].tolist():
            people.phone[p] = people.phone[int(holders[0])]
    counts: dict[str, int] = {}
    for phone in people.phone:
        counts[phone] = counts.get(phone, 0) + 1
    issue[[counts[phone] > 1 for phone in people.phone]] = SHARED
    free = np.flatnonzero(issue == NONE)
    picked = rng.choice(free, size=max(2, n // 120), replace=False)
    half = len(picked) * 5 // 8
    recycled, mismatched = picked[:half], picked[half:]
    outsiders = _outsiders(rng, len(picked), taken_ids)
    for k, p in enumerate(recycled.tolist()):
        gave_up = int(since[p]) + int(rng.uniform(0.3, 0.9) * (start_us - since[p]))
        reg.deregistered_at[p] = gave_up
        reg.phone.append(people.phone[p])
        reg.id_number.append(outsiders[k])
        reg.registered_at.append(gave_up + int(rng.integers(90, 200)) * US_PER_DAY)
        reg.deregistered_at.append(None)
        issue[p] = RECYCLED
    wrong = phone_numbers(rng, len(mismatched), taken_phones)
    for k, p in enumerate(mismatched.tolist()):
        people.phone[p] = wrong[k]
        reg.phone.append(wrong[k])
        reg.id_number.append(outsiders[half + k])
        reg.registered_at.append(int(since[p]))
        reg.deregistered_at.append(None)
        issue[p] = MISMATCH
    return reg


def _outsiders(rng: np.random.Generator, count: int, taken_ids: set[str]) -> list[str]:
    """ID numbers of people outside the region who hold numbers our residents declare."""
    age = rng.integers(20, 60, size=count).astype(np.int64)
    codes = [ELSEWHERE[int(i)][0] for i in rng.integers(0, len(ELSEWHERE), size=count)]
    male = rng.random(count) < 0.5
    return resident_ids(rng, codes, birth_dates(rng, age), male, taken_ids)
