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


class DecisionServiceProtocol(Protocol):
    """Decides on transactions before they settle.

    Both methods are idempotent by `tx_id`: a transaction id seen before returns the decision
    first made for it. The API calls them from the event loop, one call at a time, so an
    implementation needs no locking of its own as long as it is only used by one app.
    """

    def decide(self, tx: Transaction) -> Decision:
        """The decision on one transaction."""
        ...

    def decide_batch(self, txs: Sequence[Transaction]) -> list[Decision]:
        """One decision per transaction, in the order given."""
        ...
