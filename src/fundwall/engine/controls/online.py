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

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls.batch import check_batch
from fundwall.engine.controls.book import ControlBook, Restriction, RiskEntry
from fundwall.engine.controls.bulk import amount_table
from fundwall.engine.controls.ledger import Ledger
from fundwall.engine.controls.model import (
    BALANCE,
    CAP_KIND,
    CONTROLS,
    DAY,
    DAY_IN,
    DAY_OUT,
    FREE_BALANCE,
    LEDGER_COLUMNS,
    MOST,
    NEVER_US,
    NON_COUNTER_ONLY,
    OUTFLOW_CAP,
    PUNISHMENT,
    RESTRICTION_CONTROLS,
    STATUS_CONTROLS,
    YEAR,
    YEAR_IN,
    YEAR_OUT,
    Hit,
    ListRole,
    Side,
    amount_checks,
)
from fundwall.engine.controls.reasons import (
    balance_cap_hit,
    free_balance_hit,
    limit_hit,
    list_hit,
    outflow_cap_hit,
    punished_hit,
    restriction_hit,
)
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.flags import is_non_counter
from fundwall.engine.features.inputs import TransactionLike
from fundwall.engine.features.scalar import civil_date, local_day
from fundwall.engine.snapshot_format import SnapshotReader, SnapshotWriter

LEDGER_PART: Final = "ledger"
LEDGER_VERSION: Final = 2
"""2: columns of a snapshot (1 was marshal)."""
_RESTRICTIONS: Final = {
    side: {kind: c for kind, c in RESTRICTION_CONTROLS.items() if CONTROLS[c].side is side}
    for side in Side
}
"""Per side, the STATUS control each kind of whole-account restriction triggers."""
_FREE_SIDE: Final = CONTROLS[FREE_BALANCE].side
_HOLDS: Final = CONTROLS[FREE_BALANCE].holds
_HOLDS_ALL: Final = CONTROLS[FREE_BALANCE].statuses


class OnlineControls:
    """Hard controls over a control book, an account directory and the policy's limits."""

    def __init__(
        self, book: ControlBook, directory: AccountDirectory, policy: PolicySettings
    ) -> None:
        self.book = book
        self.directory = directory
        self.amount_checks = amount_checks(policy)
        self.amount_table = amount_table(policy)
        """The amount checks as the compiled pass reads them (`check_many`)."""
        self._ledger = Ledger()
        """Per account, its entry (`model.LEDGER_COLUMNS`), a row of one int64 matrix: a
        batch reads and writes the rows it touches at once (`controls.batch`)."""
        self._class: dict[str, int] = {}

    def _account(self, account_no: str) -> memoryview:
        entry = self._ledger.entry(account_no)
        if entry is None:
            entry = self._ledger.add(account_no, self.new_entry(account_no))
        return entry

    def new_entry(self, account_no: str) -> list[int]:
        """The ledger entry an account starts with: its opening balance, nothing counted."""
        facts = self.directory.facts(account_no)
        entry = [0] * LEDGER_COLUMNS
        entry[BALANCE] = facts.opening_balance if facts is not None else 0
        return entry

    def account_class(self, account_no: str) -> int:
        """0 corporate, 1–3 class I–III, -1 unknown (as the features code it)."""
        klass = self._class.get(account_no)
        if klass is None:
            facts = self.directory.facts(account_no)
            klass = self._class[account_no] = facts.klass if facts is not None else -1
        return klass

    def classes(self, accounts: Sequence[str]) -> npt.NDArray[np.int64]:
        """`account_class` of each of `accounts`, most of them known already."""
        known = self._class
        found = list(map(known.get, accounts))
        if None in found:
            found = list(map(self.account_class, accounts))
        return np.array(found, np.int64)

    def refresh_account(self, account_no: str, was_known: bool) -> None:
        """Read an account's class again after its member reported it; an account unknown
        until now gets its reported opening balance added to what it settled."""
        self._class.pop(account_no, None)
        entry = self._ledger.entry(account_no)
        facts = self.directory.facts(account_no)
        if entry is not None and not was_known and facts is not None:
            entry[BALANCE] += facts.opening_balance

    def balance(self, account_no: str) -> int:
        """The settled balance of an account (opening balance plus what was not blocked)."""
        return self._account(account_no)[BALANCE]

    def check(self, tx: TransactionLike, t: int, orders_at: int | None = None) -> list[Hit]:
        """The controls that apply to `tx` at `t`, in control order; the restrictions and the
        shared risk list's entries in force at `orders_at` (by default `t`: the decision
        service passes the time it decides, so a freeze, a stop-payment or a list entry holds
        from the moment it is made, and is gone from the moment it is lifted, whatever the
        payment's stamp). The limits count by `t`, the payment's own day."""
        return self.hits(tx, t, t if orders_at is None else orders_at, self._account)

    def check_many(
        self,
        txs: Sequence[TransactionLike],
        times: Sequence[int],
        orders_at: Sequence[int],
        actions: Sequence[int],
    ) -> list[list[Hit]]:
        """`check` then `settle` of each of `txs` in turn, at its time and `orders_at`, by
        the controls' compiled pass over the batch (`controls.batch`): the same hits, the
        same ledger after. `actions` are the severities the rest of each decision forces
        (the packs' and the model's): a transaction is booked unless it or its hits block."""
        return check_batch(self, txs, times, orders_at, actions)

    def hits(
        self, tx: TransactionLike, t: int, at: int, entry_of: Callable[[str], Sequence[int]]
    ) -> list[Hit]:
        """`check`, the restrictions and lists read at `at` and the ledger through
        `entry_of` (an account's entry; the ledger's own, or the entries as they were
        before `tx` in a batch)."""
        hits: list[Hit] = []
        payer = tx.payer_account
        payee = tx.payee_account
        amount = tx.amount_fen
        # At a counter (or through no channel named) the non-counter controls do not apply.
        everywhere = not is_non_counter(tx)
        if payer is not None:
            self._check_status(hits, Side.PAYER, payer, amount, at, entry_of)
            if not (everywhere and PUNISHMENT in NON_COUNTER_ONLY):
                self._check_punished(hits, payer, at)
            self._check_amounts(hits, Side.PAYER, payer, payee, amount, t, entry_of)
            if not everywhere or OUTFLOW_CAP not in NON_COUNTER_ONLY:
                self._check_cap(hits, payer, payee, amount, t, at, entry_of)
        if payee is not None:
            self._check_status(hits, Side.PAYEE, payee, amount, at, entry_of)
            self._check_amounts(hits, Side.PAYEE, payee, payer, amount, t, entry_of)
        if self.book.listed:
            self._check_lists(hits, tx, at)
        if everywhere and hits:
            hits = [hit for hit in hits if hit.control not in NON_COUNTER_ONLY]
        if len(hits) > 1:
            hits.sort(key=lambda hit: hit.control)
        return hits

    def _check_status(
        self,
        hits: list[Hit],
        side: Side,
        account: str,
        amount: int,
        at: int,
        entry_of: Callable[[str], Sequence[int]],
    ) -> None:
        """STATUS controls of the account (its status, whole-account restrictions in force at
        `at`) and, on the side it checks, FREE_BALANCE (restrictions of an amount)."""
        book = self.book
        status = book.statuses.get(account, AccountStatus.NORMAL)
        control = STATUS_CONTROLS[side].get(status)
        restrictions = book.restrictions.get(account) if _RESTRICTIONS[side] else None
        held = 0
        if control is not None or restrictions:  # most accounts have neither
            stopped, held = self._restricted(hits, side, control, restrictions, at)
            if stopped:
                return  # a control stops every payment already
        if side is not _FREE_SIDE:
            return  # nothing is held on this side
        balance = entry_of(account)[BALANCE]
        if status in _HOLDS_ALL and not held:
            held = max(balance, 1)
        if held and amount > balance - held:
            hits.append(free_balance_hit(amount, balance, held))

    @staticmethod
    def _restricted(
        hits: list[Hit],
        side: Side,
        control: int | None,
        restrictions: dict[int, Restriction] | None,
        t: int,
    ) -> tuple[bool, int]:
        """Hits of the account's status `control` and its whole-account restrictions in
        effect; whether one stops every payment, and the amount the others hold."""
        found: dict[int, tuple[int, str | None]] = {}
        if control is not None:
            found[control] = (NEVER_US, None)
        held = 0
        kinds = _RESTRICTIONS[side]
        if restrictions:
            for r in sorted(restrictions.values(), key=lambda r: r.id):
                if not r.active(t):
                    continue
                if r.amount_fen is not None and r.kind in _HOLDS:
                    held += r.amount_fen
                    continue
                if r.kind is CAP_KIND:
                    continue  # `_check_cap`'s
                control = kinds[r.kind]
                known = found.get(control)
                if known is None or r.end_us > known[0]:
                    found[control] = (r.end_us, r.reference)
        stopped = False
        for control, (end, reference) in found.items():
            hits.append(restriction_hit(control, end, reference))
            stopped = stopped or control not in NON_COUNTER_ONLY
        return stopped, held

    def _check_cap(
        self,
        hits: list[Hit],
        payer: str,
        payee: str | None,
        amount: int,
        t: int,
        at: int,
        entry_of: Callable[[str], Sequence[int]],
    ) -> None:
        """OUTFLOW_CAP: the lowest daily cap in effect at `at` on the paying account, against
        what it paid on the day of `t`."""
        restrictions = self.book.restrictions.get(payer)
        if not restrictions:
            return
        caps = [
            r.amount_fen
            for r in restrictions.values()
            if r.kind is CAP_KIND and r.amount_fen is not None and r.active(at)
        ]
        if not caps or (payee is not None and self.book.bound.get(payer) == payee):
            return
        entry = entry_of(payer)
        used = entry[DAY_OUT] if entry[DAY] == _periods(t)[0] else 0
        if used + amount > min(caps):
            hits.append(outflow_cap_hit(used, amount, min(caps)))

    def _check_punished(self, hits: list[Hit], payer: str, t: int) -> None:
        keys = self.book.party_keys.get(payer)
        if keys is None or keys.id_hash is None:
            return
        listings = self.book.punished.get(keys.id_hash)
        if not listings:
            return
        ends = [listing.end_us for listing in listings.values() if listing.active(t)]
        if ends:
            hits.append(punished_hit(max(ends)))

    def _check_amounts(
        self,
        hits: list[Hit],
        side: Side,
        account: str,
        other: str | None,
        amount: int,
        t: int,
        entry_of: Callable[[str], Sequence[int]],
    ) -> None:
        """LIMIT and BALANCE_CAP controls of the account's class."""
        checks = self.amount_checks.get((side, self.account_class(account)))
        if checks is None:
            return
        entry = entry_of(account)
        bound = other is not None and self.book.bound.get(account) == other
        day, year = _periods(t)
        for control, cap, used_at, period_at, daily, limit in checks:
            if cap:
                balance = entry[BALANCE]
                if balance + amount > limit:
                    hits.append(balance_cap_hit(control, balance, amount, limit))
            elif not bound:
                used = entry[used_at] if entry[period_at] == (day if daily else year) else 0
                if used + amount > limit:
                    hits.append(limit_hit(control, used, amount, limit))

    def _check_lists(self, hits: list[Hit], tx: TransactionLike, t: int) -> None:
        for role, found in zip(ListRole, self.book.listed_at(tx), strict=True):
            best = _strongest(found, role.payer_side, t)
            if best is not None:
                hits.append(list_hit(role, best.category, best.evidence))

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

    def write_to(self, writer: SnapshotWriter) -> None:
        """Add the ledger to `writer` as its ledger part (accounts, then their entries as one
        column of whole numbers)."""
        part = writer.part(LEDGER_PART, LEDGER_VERSION, columns=LEDGER_COLUMNS)
        part.strings("accounts", self._ledger.accounts())
        part.ints("entries", self._ledger.entries().reshape(-1))

    def read_ledger(self, reader: SnapshotReader) -> Ledger:
        """The ledger in the ledger part of `reader` (`set_ledger` puts it in place)."""
        part = reader.part(LEDGER_PART, LEDGER_VERSION)
        if part.meta["columns"] != LEDGER_COLUMNS:
            raise InvalidInput(
                f"ledger of {part.meta['columns']} columns in the snapshot, not {LEDGER_COLUMNS}",
                "snapshot",
            )
        accounts = cast(list[str], part.strings("accounts"))
        return Ledger(accounts, part.ints("entries").reshape(len(accounts), LEDGER_COLUMNS))

    def set_ledger(self, ledger: Ledger) -> None:
        """Replace the ledger (with one `read_ledger` read)."""
        self._ledger = ledger

    def ledger_entry(self, account_no: str) -> list[int] | None:
        """A copy of an account's ledger entry (None: nothing booked or read for it yet)."""
        entry = self._ledger.entry(account_no)
        return None if entry is None else entry.tolist()

    def ledger_accounts(self) -> list[str]:
        """The accounts the ledger holds an entry of."""
        return self._ledger.accounts()

    def set_ledger_entry(self, account_no: str, entry: list[int] | None) -> None:
        """Replace an account's ledger entry (None: start again from its opening balance)."""
        if entry is None:
            self._ledger.pop(account_no)
        else:
            self._ledger.set(account_no, entry)


def _periods(t: int) -> tuple[int, int]:
    """The Asia/Shanghai date of `t` (YYYYMMDD) and its year."""
    return _periods_of_day(local_day(t))


@lru_cache(maxsize=64)
def _periods_of_day(day: int) -> tuple[int, int]:
    # Transactions come in time order: a few days serve a whole batch.
    date = civil_date(day)
    return date, date // 10000


def _book(
    entry: memoryview,
    amount: int,
    day: int,
    year: int,
    day_at: int,
    year_at: int,
    change: int,
    counts: bool,
) -> None:
    entry[BALANCE] = _held(entry[BALANCE] + change)
    if entry[DAY] != day:
        entry[DAY] = day
        entry[DAY_OUT] = entry[DAY_IN] = 0
    if entry[YEAR] != year:
        entry[YEAR] = year
        entry[YEAR_OUT] = entry[YEAR_IN] = 0
    if counts:
        entry[day_at] = _held(entry[day_at] + amount)
        entry[year_at] = _held(entry[year_at] + amount)


def _held(figure: int) -> int:
    """A ledger figure held within ±`MOST`, as the compiled pass holds it (`kernel.plus`):
    the entry is int64 and stops there rather than fail the booking."""
    return MOST if figure > MOST else -MOST if figure < -MOST else figure


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
