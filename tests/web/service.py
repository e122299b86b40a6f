"""A decision service over the decisions already stored: what a replayed region answers.

The console's tests need an app with the API mounted, and the API needs a decision service;
this one answers each transaction id with its stored live decision, as the engine would
answer a transaction it has seen before. With a member it admits as the engine's service
does (`fundwall.engine.admission`), reading the accounts, banks and transactions of the store.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from fundwall.domain.decisions import Decision
from fundwall.domain.errors import NotFound
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal, admit, refusals
from fundwall.store.mapping import decision_of, transaction_of
from fundwall.store.tables import AccountRow, DecisionRow, InstitutionRow, TransactionRow


class StoredDecisions:
    def __init__(self, database: Engine) -> None:
        self._engine = database

    def bank_of(self, account_no: str) -> str | None:
        with self._engine.connect() as connection:
            return connection.scalar(
                select(AccountRow.institution_code).where(AccountRow.account_no == account_no)
            )

    def holds_accounts(self, code: str) -> bool:
        with self._engine.connect() as connection:
            kind = connection.scalar(select(InstitutionRow.kind).where(InstitutionRow.code == code))
        return kind is not None and InstitutionKind(kind).holds_accounts

    def first_transaction(self, tx_id: str) -> Transaction | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(TransactionRow).where(TransactionRow.tx_id == tx_id)
            ).first()
        return None if row is None else transaction_of(TransactionRow(**row._mapping))

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        return refusals(member, txs, self)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        if member is not None:
            admit(member, [tx], self, batch=False)
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
        if member is not None:
            admit(member, txs, self, batch=True)
        return [self.decide(tx) for tx in txs]
