"""The online form of the hard controls: one transaction at a time.

`check(tx, t)` lists the controls that apply to a transaction at time `t` (µs); `settle(tx, t,
settled)` books it in the ledger once the decision is known. The ledger holds what the limits
and free-balance checks need per account: the settled balance and the money counted against
the Class II/III limits this calendar day and year (Asia/Shanghai). Only transactions that
were not blocked are booked: a refused payment moved no money, so it neither uses up a limit
nor lowers a balance. (The features count every decided transaction, as an attempt; see
docs/engine.md.)

Limits count every flow except those between an account and the account it is bound to (the
holder's own money going home or coming from home), as the PBoC notices on account classes
limit "non-bound" inflows and outflows.
"""

from __future__ import annotations

import marshal
from typing import Final

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.engine.controls.book import ControlBook, RiskEntry
from fundwall.engine.controls.model import (
    C2_IN_DAY,
    C2_IN_YEAR,
    C2_OUT_DAY,
    C2_OUT_YEAR,
    C3_OUT_DAY,
    C3_OUT_YEAR,
    NEVER_US,
    NON_COUNTER,
    PAYEE_CLOSED,
    PAYER_CLOSED,
    PAYER_DORMANT,
    PAYER_FROZEN,
    PAYER_STOP_PAID,
    Hit,
    ListKind,
    ListRole,
    RestrictionKind,
    balance_cap_hit,
    free_balance_hit,
    limit_hit,
    list_hit,
    punished_hit,
    restriction_hit,
)
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.flags import is_non_counter
from fundwall.engine.features.inputs import TransactionLike
from fundwall.engine.features.scalar import local_yyyymmdd

LEDGER_VERSION: Final = 1
BALANCE, DAY, DAY_OUT, DAY_IN, YEAR, YEAR_OUT, YEAR_IN = range(7)
_STATUS_CONTROL: Final = {
    AccountStatus.CLOSED: PAYER_CLOSED,
    AccountStatus.STOP_PAID: PAYER_STOP_PAID,
    AccountStatus.FROZEN_FULL: PAYER_FROZEN,
    AccountStatus.DORMANT: PAYER_DORMANT,
}
"""Statuses that allow no payment out at all (`not status.can_pay_out`) and their control."""
_WHOLE_CONTROL: Final = {
    RestrictionKind.STOP_PAYMENT: PAYER_STOP_PAID,
    RestrictionKind.FREEZE: PAYER_FROZEN,
}


class Limits:
    """The class limits of the policy, in fen."""

    __slots__ = ("c2_in", "c2_out", "c3_cap", "c3_out")

    def __init__(self, policy: PolicySettings) -> None:
        self.c2_out = (
            policy.class_ii_outflow_daily_limit_fen,
            policy.class_ii_outflow_yearly_limit_fen,
        )
        self.c2_in = (
            policy.class_ii_inflow_daily_limit_fen,
            policy.class_ii_inflow_yearly_limit_fen,
        )
        self.c3_out = (
            policy.class_iii_outflow_daily_limit_fen,
            policy.class_iii_outflow_yearly_limit_fen,
        )
        self.c3_cap = policy.class_iii_balance_cap_fen

    def as_tuple(self) -> tuple[int, ...]:
        return (*self.c2_out, *self.c2_in, *self.c3_out, self.c3_cap)


class OnlineControls:
    """Hard controls over a control book, an account directory and the policy's limits."""

    def __init__(
        self, book: ControlBook, directory: AccountDirectory, policy: PolicySettings
    ) -> None:
        self.book = book
        self.directory = directory
        self.limits = Limits(policy)
        self._ledger: dict[str, list[int]] = {}
        self._class: dict[str, int] = {}

    def _account(self, account_no: str) -> list[int]:
        entry = self._ledger.get(account_no)
        if entry is None:
            facts = self.directory.facts(account_no)
            balance = facts.opening_balance if facts is not None else 0
            entry = self._ledger[account_no] = [balance, 0, 0, 0, 0, 0, 0]
        return entry

    def account_class(self, account_no: str) -> int:
        """0 corporate, 1–3 class I–III, -1 unknown (as the features code it)."""
        klass = self._class.get(account_no)
        if klass is None:
            facts = self.directory.facts(account_no)
            klass = self._class[account_no] = facts.klass if facts is not None else -1
        return klass

    def refresh_account(self, account_no: str, was_known: bool) -> None:
        """Read an account's class again after its member reported it; an account unknown
        until now gets its reported opening balance added to what it settled."""
        self._class.pop(account_no, None)
        entry = self._ledger.get(account_no)
        facts = self.directory.facts(account_no)
        if entry is not None and not was_known and facts is not None:
            entry[BALANCE] += facts.opening_balance

    def balance(self, account_no: str) -> int:
        """The settled balance of an account (opening balance plus what was not blocked)."""
        return self._account(account_no)[BALANCE]

    def check(self, tx: TransactionLike, t: int) -> list[Hit]:
        """The controls that apply to `tx` at `t`, in control order."""
        hits: list[Hit] = []
        payer = tx.payer_account
        payee = tx.payee_account
        amount = tx.amount_fen
        non_counter = is_non_counter(tx.channel)
        if payer is not None:
            self._check_payer(hits, payer, payee, amount, non_counter, t)
        if payee is not None:
            self._check_payee(hits, payer, payee, amount, t)
        if self.book.listed:
            self._check_lists(hits, tx, t)
        if len(hits) > 1:
            hits.sort(key=lambda hit: hit.control)
        return hits

    def _check_payer(
        self,
        hits: list[Hit],
        payer: str,
        payee: str | None,
        amount: int,
        non_counter: bool,
        t: int,
    ) -> None:
        book = self.book
        status = book.statuses.get(payer, AccountStatus.NORMAL)
        whole: dict[int, tuple[int, str | None]] = {}
        if not status.can_pay_out:
            whole[_STATUS_CONTROL[status]] = (NEVER_US, None)
        held = 0
        suspended: tuple[int, str | None] | None = None
        if not status.allows_non_counter and status.can_pay_out:
            suspended = (NEVER_US, None)
        restrictions = book.restrictions.get(payer)
        if restrictions:
            for r in sorted(restrictions.values(), key=lambda r: r.id):
                if not r.active(t):
                    continue
                if r.kind is RestrictionKind.NON_COUNTER_SUSPENSION:
                    if suspended is None or r.end_us > suspended[0]:
                        suspended = (r.end_us, r.reference)
                elif r.amount_fen is None:
                    control = _WHOLE_CONTROL[r.kind]
                    known = whole.get(control)
                    if known is None or r.end_us > known[0]:
                        whole[control] = (r.end_us, r.reference)
                else:
                    held += r.amount_fen
        for control, (end, reference) in whole.items():
            hits.append(restriction_hit(control, end, reference))
        if not whole:
            balance = self._account(payer)[BALANCE]
            if status is AccountStatus.FROZEN_PARTIAL and not held:
                # A partial freeze recorded as a status has no amount: nothing is known to be free.
                held = max(balance, 1)
            if held and amount > balance - held:
                hits.append(free_balance_hit(amount, balance, held))
        if non_counter and suspended is not None:
            hits.append(restriction_hit(NON_COUNTER, *suspended))
        if non_counter:
            self._check_punished(hits, payer, t)
        klass = self.account_class(payer)
        if klass in (2, 3) and (payee is None or book.bound.get(payer) != payee):
            entry = self._account(payer)
            day, year = _periods(t)
            used_day = entry[DAY_OUT] if entry[DAY] == day else 0
            used_year = entry[YEAR_OUT] if entry[YEAR] == year else 0
            limits, controls = (
                (self.limits.c2_out, (C2_OUT_DAY, C2_OUT_YEAR))
                if klass == 2
                else (self.limits.c3_out, (C3_OUT_DAY, C3_OUT_YEAR))
            )
            for used, limit, control in zip((used_day, used_year), limits, controls, strict=True):
                if used + amount > limit:
                    hits.append(limit_hit(control, used, amount, limit))

    def _check_punished(self, hits: list[Hit], payer: str, t: int) -> None:
        keys = self.book.party_keys.get(payer)
        if keys is None or keys[0] is None:
            return
        listings = self.book.punished.get(keys[0])
        if not listings:
            return
        ends = [listing.end_us for listing in listings.values() if listing.active(t)]
        if ends:
            hits.append(punished_hit(max(ends)))

    def _check_payee(
        self, hits: list[Hit], payer: str | None, payee: str, amount: int, t: int
    ) -> None:
        book = self.book
        if not book.statuses.get(payee, AccountStatus.NORMAL).can_receive:
            hits.append(restriction_hit(PAYEE_CLOSED, NEVER_US, None))
        klass = self.account_class(payee)
        if klass == 2 and (payer is None or book.bound.get(payee) != payer):
            entry = self._account(payee)
            day, year = _periods(t)
            used_day = entry[DAY_IN] if entry[DAY] == day else 0
            used_year = entry[YEAR_IN] if entry[YEAR] == year else 0
            for used, limit, control in zip(
                (used_day, used_year), self.limits.c2_in, (C2_IN_DAY, C2_IN_YEAR), strict=True
            ):
                if used + amount > limit:
                    hits.append(limit_hit(control, used, amount, limit))
        elif klass == 3:
            balance = self._account(payee)[BALANCE]
            if balance + amount > self.limits.c3_cap:
                hits.append(balance_cap_hit(balance, amount, self.limits.c3_cap))

    def _check_lists(self, hits: list[Hit], tx: TransactionLike, t: int) -> None:
        entries = self.book.entries
        party_keys = self.book.party_keys
        payer_keys = party_keys.get(tx.payer_account) if tx.payer_account else None
        payee_keys = party_keys.get(tx.payee_account) if tx.payee_account else None
        probes = (
            (ListRole.PAYER_ACCOUNT, ((ListKind.ACCOUNT, tx.payer_account),)),
            (ListRole.PAYEE_ACCOUNT, ((ListKind.ACCOUNT, tx.payee_account),)),
            (ListRole.DEVICE, ((ListKind.DEVICE, tx.device_id),)),
            (ListRole.IP, ((ListKind.IP, tx.ip),)),
            (ListRole.PAYER_PARTY, _party_probes(payer_keys)),
            (ListRole.PAYEE_PARTY, _party_probes(payee_keys)),
        )
        for role, keys in probes:
            found: list[RiskEntry] = []
            for kind, key in keys:
                if key is not None:
                    by_id = entries[kind].get(key)
                    if by_id:
                        found.extend(by_id.values())
            best = _strongest(found, role.payer_side, t)
            if best is not None:
                hits.append(list_hit(role, best.category, best.evidence, best.member))

    def settle(self, tx: TransactionLike, t: int, settled: bool) -> None:
        """Book `tx` in the ledger when its decision let the money move."""
        if not settled:
            return
        payer = tx.payer_account
        payee = tx.payee_account
        amount = tx.amount_fen
        bound = self.book.bound
        day, year = _periods(t)
        if payer is not None:
            _book(
                self._account(payer),
                amount,
                day,
                year,
                DAY_OUT,
                YEAR_OUT,
                -amount,
                payee is None or bound.get(payer) != payee,
            )
        if payee is not None:
            _book(
                self._account(payee),
                amount,
                day,
                year,
                DAY_IN,
                YEAR_IN,
                amount,
                payer is None or bound.get(payee) != payer,
            )

    def snapshot(self) -> bytes:
        """The ledger as bytes (plain data), for an engine snapshot."""
        return marshal.dumps((LEDGER_VERSION, self._ledger))

    def restore(self, data: bytes) -> None:
        """Replace the ledger with one from `snapshot()`."""
        version, ledger = marshal.loads(data)
        if version != LEDGER_VERSION:
            raise ValueError(f"ledger snapshot version {version} is not {LEDGER_VERSION}")
        self._ledger = ledger


def _periods(t: int) -> tuple[int, int]:
    day = local_yyyymmdd(t)
    return day, day // 10000


def _book(
    entry: list[int],
    amount: int,
    day: int,
    year: int,
    day_at: int,
    year_at: int,
    change: int,
    counts: bool,
) -> None:
    entry[BALANCE] += change
    if entry[DAY] != day:
        entry[DAY] = day
        entry[DAY_OUT] = entry[DAY_IN] = 0
    if entry[YEAR] != year:
        entry[YEAR] = year
        entry[YEAR_OUT] = entry[YEAR_IN] = 0
    if counts:
        entry[day_at] += amount
        entry[year_at] += amount


def _party_probes(
    keys: tuple[str | None, str | None] | None,
) -> tuple[tuple[ListKind, str | None], ...]:
    if keys is None:
        return ()
    return ((ListKind.ID_HASH, keys[0]), (ListKind.PHONE_HASH, keys[1]))


def _strongest(found: list[RiskEntry], payer_side: bool, t: int) -> RiskEntry | None:
    """The entry in effect whose category forces the most severe action (lowest id first)."""
    best: RiskEntry | None = None
    for entry in found:
        if not entry.active(t) or (entry.category.payer_side_only and not payer_side):
            continue
        severity = entry.category.action.severity
        if best is None or (severity, -entry.id) > (best.category.action.severity, -best.id):
            best = entry
    return best


def strongest_action(hits: list[Hit]) -> Action:
    """The most severe action the hits force (pass when none)."""
    action = Action.PASS
    for hit in hits:
        if hit.action.severity > action.severity:
            action = hit.action
    return action
