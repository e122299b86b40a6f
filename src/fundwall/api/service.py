"""What the HTTP API needs from the decision engine, as a structural type.

The API is a thin shell: it parses, calls a service and maps errors. Any object with these two
methods serves (the engine's decision service in production, a small rule in the tests), so
the API can be built and tested without knowing how the engine decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from fundwall.domain.decisions import Decision
from fundwall.domain.devices import LoginEvent
from fundwall.domain.ownership import owner_of
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal


class DecisionServiceProtocol(Protocol):
    """Decides on transactions before they settle.

    Deciding is idempotent by `tx_id`: a transaction id seen before returns the decision first
    made for it. With `member` (the submitting member's code), a request is refused whole
    unless the member may have each transaction decided (`fundwall.engine.admission`, with the
    service as its register). The API calls these from the event loop, one call at a time, so
    an implementation needs no locking of its own as long as it is only used by one app.
    """

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        """The decision on one transaction."""
        ...

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        """One decision per transaction, in the order given."""
        ...

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        """Why `member` may not have each transaction decided (None: it may)."""
        ...


@runtime_checkable
class DurableDecisions(Protocol):
    """A service that logs its decisions in a shared commit (the engine's decision service
    over the store, `fundwall.engine.committer`): the routes await its answers, so the event
    loop decides other requests while a commit is under way."""

    async def decide_durably(
        self, txs: Sequence[Transaction], *, member: str | None = None, batch: bool = True
    ) -> list[Decision]:
        """`decide_batch` (with `batch` False, `decide` of one transaction), answered once
        the decisions are logged."""
        ...


@runtime_checkable
class LoginObserver(Protocol):
    """Takes in the accounts' login events (the engine's decision service does); an app over
    a service that has this method serves `/v1/logins`."""

    def observe_logins(self, logins: Sequence[LoginEvent], *, member: str | None = None) -> int:
        """Take in login events, all or nothing (with `member`, only of its own accounts);
        how many were new."""
        ...


@runtime_checkable
class AccountHolders(Protocol):
    """Who holds an account, from the account directory (`DecisionService.bank_of`)."""

    def bank_of(self, account_no: str) -> str | None:
        """The member holding `account_no`; None when the directory does not know it."""
        ...


class NoHolders:
    """Knows no account, so every payee counts as another member's customer."""

    def bank_of(self, account_no: str) -> str | None:
        return None


def as_submitted(decision: Decision, tx: Transaction, holders: AccountHolders) -> Decision:
    """The decision as the member submitting `tx` may read it (`Decision.seen_by`): the
    member whose transaction it is (the payer's bank; the payee's for a deposit), without
    the figures of a payee account another member holds."""
    if not decision.reasons:  # most: nothing to withhold, so no holder to look up
        return decision
    payee_holder = holders.bank_of(tx.payee_account) if tx.payee_account is not None else None
    return decision.seen_by(owner_of(tx.kind, tx.payer_bank, tx.payee_bank), payee_holder)
