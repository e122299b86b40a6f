"""A decision service over the decisions already stored: what a replayed region answers.

The console's tests need an app with the API mounted, and the API needs a decision service;
this one answers each transaction id with its stored live decision, as the engine would
answer a transaction it has seen before. It admits whatever a member sends: the console's
tests read decisions, admission has tests of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from fundwall.domain.decisions import Decision
from fundwall.domain.errors import NotFound
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal
from fundwall.store.mapping import decision_of
from fundwall.store.tables import DecisionRow


class StoredDecisions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        return [None] * len(txs)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(DecisionRow)
                .where(DecisionRow.tx_id == tx.tx_id, DecisionRow.shadow.is_(False))
                .order_by(DecisionRow.id.desc())
            ).first()
        if row is None:
            raise NotFound("decision", tx.tx_id)
        return decision_of(DecisionRow(**row._mapping))

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        return [self.decide(tx) for tx in txs]
