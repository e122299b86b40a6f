"""The screening checks (存量账户排查) over an account base, columnar: each is a few numpy
passes over the whole base (sorts, searches, counts), never a Python loop over accounts.

Each check gives a `Finding`: the rows of the base it found, ascending, and per row the
figures its reason quotes. The figures of policy come from `fundwall.config.PolicySettings`
(REGULATIONS.md): dormancy per bank, the idle months of a new account, the per-bank class
limits and the region's threshold, the batch window and size, the people a phone may serve.
A closed account is never found. docs/accounts.md explains each rule and its limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

from fundwall.config import DormancyOverride, PolicySettings
from fundwall.domain.screening import Check
from fundwall.police.model import add_months
from fundwall.screening.base import CLASS_I, CORPORATE, LINKS, NO_TIME, AccountBase

I64 = npt.NDArray[np.int64]
DAY_US: Final = 86_400_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class Finding:
    """What a check found: `rows` of the base (ascending) and, aligned with them, the
    figures of each reason (`values`)."""

    rows: I64
    values: Mapping[str, npt.NDArray[np.generic]]

    def __len__(self) -> int:
        return len(self.rows)


def _found(mask: npt.NDArray[np.bool_], **values: npt.NDArray[np.generic]) -> Finding:
    rows = np.flatnonzero(mask)
    return Finding(rows, {name: column[rows] for name, column in values.items()})


def months_before(as_of_us: int, months: int) -> int:
    """The instant `months` calendar months before `as_of_us` (µs since the epoch)."""
    moment = _EPOCH + timedelta(microseconds=as_of_us)
    back = add_months(moment, -months) - _EPOCH
    return (back.days * 86_400 + back.seconds) * 1_000_000 + back.microseconds


def dormancy(policy: PolicySettings, bank: str) -> tuple[int, int, int]:
    """A bank's (personal months, personal balance ceiling in fen, company months): its own
    figures where `policy.dormant_by_bank` gives them, the region's otherwise."""
    own = policy.dormant_by_bank.get(bank, DormancyOverride())
    return (
        own.personal_months or policy.dormant_personal_months,
        (
            own.personal_max_balance_fen
            if own.personal_max_balance_fen is not None
            else policy.dormant_personal_max_balance_fen
        ),
        own.company_months or policy.dormant_company_months,
    )


def dormant(base: AccountBase, policy: PolicySettings) -> Finding:
    """久悬: no customer transaction (a payment, a cash deposit) since the cut-off, counted
    from the last one or else from the opening, and, for a personal account, a balance at
    most the ceiling. Each bank's own figures (`dormant_by_bank`)."""
    figures = np.array([dormancy(policy, bank) for bank in base.members], dtype=np.int64)
    figures = figures.reshape(len(base.members), 3)
    personal_cut = np.array([months_before(base.as_of_us, m) for m in figures[:, 0]], np.int64)
    company_cut = np.array([months_before(base.as_of_us, m) for m in figures[:, 2]], np.int64)
    company = base.cls == CORPORATE
    since = np.maximum(base.active, base.opened)
    cut = np.where(company, company_cut[base.member], personal_cut[base.member])
    ceiling = figures[base.member, 1]
    small = company | (base.balance <= ceiling)
    found = ~base.closed & (since != NO_TIME) & (since <= cut) & small
    return _found(
        found,
        idle_days=(base.as_of_us - since) // DAY_US,
        never_used=base.active == NO_TIME,
        balance_fen=base.balance,
        company=company,
        months=np.where(company, figures[base.member, 2], figures[base.member, 0]),
        ceiling_fen=ceiling,
    )


def new_idle(base: AccountBase, policy: PolicySettings) -> Finding:
    """A new account with no customer transaction in the months since its opening: its
    non-counter business is to be suspended until identity is verified again."""
    months = policy.new_account_idle_suspension_months
    cut = months_before(base.as_of_us, months)
    unused = (base.active == NO_TIME) | (base.active < base.opened)
    found = ~base.closed & (base.opened != NO_TIME) & unused & (base.opened <= cut)
    return _found(
        found,
        opened_days=(base.as_of_us - base.opened) // DAY_US,
        months=np.full(base.count, months, dtype=np.int64),
    )


def many_accounts(base: AccountBase, policy: PolicySettings) -> Finding:
    """一人多户 (persons, by the keyed hash of the ID number, across every member): more
    accounts of a class at one bank than its per-bank limit (one Class I, five Class II,
    five Class III), which finds that class's accounts there; or Class I accounts at more
    banks of the region than its threshold, which finds every account of the person."""
    person = base.person & ~base.closed
    personal = person & (base.cls != CORPORATE)
    limits = np.array(
        [
            policy.max_class_i_accounts_per_bank,
            policy.max_class_ii_accounts_per_bank,
            policy.max_class_iii_accounts_per_bank,
            np.iinfo(np.int64).max,
        ],
        dtype=np.int64,
    )
    at_bank = np.zeros(base.count, dtype=np.int64)
    rows = np.flatnonzero(personal)
    group = (base.holder[rows] * max(len(base.members), 1) + base.member[rows]) * 4
    _, inverse, counts = np.unique(group + base.cls[rows], return_inverse=True, return_counts=True)
    at_bank[rows] = counts[inverse]
    over_bank = personal & (at_bank > limits[base.cls])
    holders = max(base.holders, 1)
    class_i = np.bincount(base.holder[personal & (base.cls == CLASS_I)], minlength=holders)
    accounts = np.bincount(base.holder[person], minlength=holders)
    over_region = person & (class_i[base.holder] > policy.max_class_i_accounts_in_region)
    return _found(
        over_bank | over_region,
        over_region=over_region,
        over_bank=over_bank,
        class_i_in_region=class_i[base.holder],
        accounts_in_region=accounts[base.holder],
        region_limit=np.full(base.count, policy.max_class_i_accounts_in_region, np.int64),
        account_class=base.cls,
        at_bank=at_bank,
        bank_limit=limits[base.cls],
    )


def batch_opened(base: AccountBase, policy: PolicySettings) -> Finding:
    """批量开户: among the accounts opened through one device, one IP address, for holders
    bound to one phone, or by one agent, a window of `batch_opening_window_hours` holding
    the openings of at least `batch_opening_min_holders` people finds every account opened
    in it. `links` says which ties found an account (a bit per `LINKS` entry), `people` the
    most people whose openings lie within the window of its own through one tie."""
    window = policy.batch_opening_window_hours * 3_600
    links = np.zeros(base.count, dtype=np.int64)
    people = np.zeros(base.count, dtype=np.int64)
    for bit, name in enumerate(LINKS):
        covered, near = _bursts(
            base.links[name], base.holder, base.opened, window, policy.batch_opening_min_holders
        )
        links |= covered.astype(np.int64) << bit
        people = np.maximum(people, near)
    return _found(
        ~base.closed & (links > 0),
        links=links,
        people=people,
        window_hours=np.full(base.count, policy.batch_opening_window_hours, np.int64),
    )


def _bursts(
    key: I64, holder: I64, opened: I64, window: int, least: int
) -> tuple[npt.NDArray[np.bool_], I64]:
    """Which accounts lie in a window of `window` seconds, among accounts of one `key`,
    that holds the openings of at least `least` holders; and for those, how many holders
    opened through the key within `window` of the account's own opening.

    A holder's second opening through the same key within the window of the one before
    counts once. The openings are numbered on one line (key in the high bits, seconds in
    the low ones, the seconds shifted up by one window so no window crosses a key), sorted
    once, and every window is a pair of binary searches."""
    covered = np.zeros(len(key), dtype=np.bool_)
    near = np.zeros(len(key), dtype=np.int64)
    valid = np.flatnonzero((key >= 0) & (opened != NO_TIME))
    if len(valid) < least:
        return covered, near
    seconds = opened[valid] // 1_000_000
    seconds = seconds - seconds.min() + window
    shift = int(seconds.max() + window).bit_length()
    line = (key[valid] << shift) | seconds
    order = np.argsort(line, kind="stable")
    line = line[order]
    owner = holder[valid][order]
    pair = np.lexsort((line, owner, line >> shift))
    repeat = np.zeros(len(line), dtype=np.bool_)
    same = (owner[pair[1:]] == owner[pair[:-1]]) & (
        (line[pair[1:]] >> shift) == (line[pair[:-1]] >> shift)
    )
    repeat[pair[1:]] = same & (line[pair[1:]] - line[pair[:-1]] <= window)
    kept = line[~repeat]
    count = np.searchsorted(kept, kept + window, side="right") - np.arange(len(kept))
    starts = kept[count >= least]
    if len(starts) == 0:
        return covered, near
    size = len(line)
    first = np.searchsorted(line, starts, side="left")
    last = np.searchsorted(line, starts + window, side="right")
    inside = np.cumsum(
        np.bincount(first, minlength=size + 1) - np.bincount(last, minlength=size + 1)
    )
    hit = inside[:size] > 0
    around = np.searchsorted(kept, line + window, side="right") - np.searchsorted(
        kept, line - window, side="left"
    )
    rows = valid[order]
    covered[rows] = hit
    near[rows] = np.where(hit, around, 0)
    return covered, near


def punished(base: AccountBase, policy: PolicySettings) -> Finding:
    """The holder (a person, by the keyed hash of the ID number) is on the joint punishment
    list as of the run."""
    found = ~base.closed & base.person & (base.punished_until > base.as_of_us)
    return _found(found, until_us=base.punished_until)


def shared_phone(base: AccountBase, policy: PolicySettings) -> Finding:
    """一号多人: the phone bound to the holder at the account's member is bound to more
    people (anywhere in the region) than `max_ids_per_phone`."""
    phone = base.links["phone"]
    bound = (phone >= 0) & base.person
    holders = max(base.holders, 1)
    pairs = np.sort(phone[bound] * holders + base.holder[bound])
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    # at least one slot: with no phone bound at all, every account still indexes slot 0
    people = np.bincount(pairs // holders, minlength=int(phone.max(initial=0)) + 1)
    count = np.where(bound, people[np.maximum(phone, 0)], 0)
    return _found(
        bound & ~base.closed & (count > policy.max_ids_per_phone),
        people=count,
        limit=np.full(base.count, policy.max_ids_per_phone, np.int64),
    )


CHECKS: Final[Mapping[Check, Callable[[AccountBase, PolicySettings], Finding]]] = MappingProxyType(
    {
        Check.DORMANT: dormant,
        Check.NEW_IDLE: new_idle,
        Check.MANY_ACCOUNTS: many_accounts,
        Check.BATCH_OPENED: batch_opened,
        Check.PUNISHED: punished,
        Check.SHARED_PHONE: shared_phone,
    }
)


def screen(
    base: AccountBase, policy: PolicySettings, checks: Iterable[Check]
) -> dict[Check, Finding]:
    """Every check of `checks` over the whole base."""
    return {check: CHECKS[check](base, policy) for check in checks}
