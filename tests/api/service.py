"""A small, real decision service for the API tests: a rule of thumb on the amount.

It decides deterministically (so a test can predict each action), keeps the first decision
for each transaction id (as the engine does), and records every call, so a test can tell what
reached the service and what did not. With a member it admits as the engine's service does
(`fundwall.engine.admission`), over the accounts and banks a test gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.devices import LoginEvent
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal, admit, admit_logins, refusals

PACK_VERSION = "rule-of-thumb-1"

THRESHOLDS: tuple[tuple[int, Action], ...] = (
    (5_000_000, Action.BLOCK),  # ¥50,000
    (2_000_000, Action.DELAY),
    (1_000_000, Action.WARN),
    (500_000, Action.ALERT),
)
"""The smallest amount in fen for each action, most severe first."""


class RuleOfThumbService:
    """Decides by the amount alone; idempotent by tx_id; records what it was asked."""

    def __init__(self, holders: Mapping[str, str] | None = None, banks: Iterable[str] = ()) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.seen: list[Transaction] = []
        self.holders = dict(holders or {})
        """The bank of each account of the region (the account directory)."""
        self.banks = set(banks)
        """The region's banks and payment institutions."""
        self._decided: dict[str, Decision] = {}
        self._first: dict[str, Transaction] = {}
        self._logins: dict[str, LoginEvent] = {}

    def bank_of(self, account_no: str) -> str | None:
        return self.holders.get(account_no)

    def holds_accounts(self, code: str) -> bool:
        return code in self.banks

    def first_transaction(self, tx_id: str) -> Transaction | None:
        return self._first.get(tx_id)

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        return refusals(member, txs, self)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        if member is not None:
            admit(member, [tx], self, batch=False)
        self.calls.append(("decide", (tx.tx_id,)))
        return self._decide(tx)

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        if member is not None:
            admit(member, txs, self, batch=True)
        self.calls.append(("decide_batch", tuple(tx.tx_id for tx in txs)))
        return [self._decide(tx) for tx in txs]

    def observe_logins(self, logins: Sequence[LoginEvent], *, member: str | None = None) -> int:
        """Keeps each login id's first event, admitting as the engine does."""
        if member is not None:
            admit_logins(member, logins, self, self._logins)
        self.calls.append(("observe_logins", tuple(login.event_id for login in logins)))
        new = [login for login in logins if login.event_id not in self._logins]
        self._logins.update((login.event_id, login) for login in new)
        return len(new)

    def _decide(self, tx: Transaction) -> Decision:
        first = self._decided.get(tx.tx_id)
        if first is not None:
            return first
        self._first[tx.tx_id] = tx
        self.seen.append(tx)
        action = next(
            (action for floor, action in THRESHOLDS if tx.amount.fen >= floor), Action.PASS
        )
        reasons: tuple[Reason, ...] = ()
        if action is not Action.PASS:
            reasons = (
                Reason(
                    "T001",
                    f"单笔金额{tx.amount}",
                    f"a single transfer of {tx.amount}",
                    {"amount": tx.amount.fen},
                ),
            )
        decision = Decision(
            tx.tx_id,
            action,
            score=tx.amount.fen // 100_000,
            reasons=reasons,
            pack_version=PACK_VERSION,
            latency_us=7,
        )
        self._decided[tx.tx_id] = decision
        return decision


def expected_action(fen: int) -> Action:
    """The action the rule gives an amount, for tests that predict it."""
    return next((action for floor, action in THRESHOLDS if fen >= floor), Action.PASS)
