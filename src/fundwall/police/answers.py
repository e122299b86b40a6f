"""A bank's answer to an account query (账户查询), built from the store when it executes one.

The answer is stored with the order (`police_orders.answer`), so it names no personal data in
clear: the holder masked (the police unmask it on the account's page, audited, as the
account is in their scope), the counterparties' accounts masked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from fundwall.accounts.queries import settled_balance
from fundwall.crypto import Keyring
from fundwall.domain.identity import mask_account
from fundwall.store.mapping import party_of
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.tables import AccountRow, PartyRow, TransactionRow
from fundwall.store.uow import UnitOfWork


def query_answer(
    uow: UnitOfWork, row: PoliceOrderRow, keyring: Keyring, most: int
) -> dict[str, Any]:
    """Holder, the balance held now, and the transactions of the order's period (at most
    `most`, oldest first; `more` says when the period held more)."""
    session = uow.session
    account = session.get(AccountRow, row.account_no)
    assert account is not None  # checked when the order was issued
    party = session.get(PartyRow, account.party_id)
    assert party is not None  # foreign key
    holder = party_of(party, keyring)
    number = row.account_no
    found = session.scalars(
        select(TransactionRow)
        .where(
            or_(TransactionRow.payer_account == number, TransactionRow.payee_account == number),
            TransactionRow.ts >= row.period_from,
            TransactionRow.ts <= row.period_to,
        )
        .order_by(TransactionRow.ts, TransactionRow.tx_id)
        .limit(most + 1)
    ).all()
    transactions = []
    for tx in found[:most]:
        outgoing = tx.payer_account == number
        other = tx.payee_account if outgoing else tx.payer_account
        transactions.append(
            {
                "tx_id": tx.tx_id,
                "ts": tx.ts.isoformat(),
                "direction": "out" if outgoing else "in",
                "counterparty": mask_account(other) if other else None,
                "counterparty_bank": tx.payee_bank if outgoing else tx.payer_bank,
                "amount_fen": tx.amount_fen,
                "channel": tx.channel,
            }
        )
    return {
        "holder": {
            "party_id": holder.party_id,
            "kind": holder.kind.value,
            "name": holder.shown_name,
            "id_number": str(holder.id_number),
            "phone": str(holder.phone) if holder.phone else None,
        },
        "balance_fen": settled_balance(uow, account),
        "status": account.status,
        "transactions": transactions,
        "more": len(found) > most,
    }
