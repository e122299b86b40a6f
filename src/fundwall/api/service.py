"""What the HTTP API needs from the decision engine, as a structural type.

The API is a thin shell: it parses, calls a service and maps errors. Any object with these two
methods serves (the engine's decision service in production, a small rule in the tests), so
the API can be built and tested without knowing how the engine decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fundwall.domain.decisions import Decision
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
