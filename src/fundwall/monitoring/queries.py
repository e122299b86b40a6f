"""The transactions' reads the monitoring use cases and the account views share; entrypoints
never import them (tests/test_architecture.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import aliased

from fundwall.auth.actor import Actor
from fundwall.auth.tenancy import decisions_visible
from fundwall.cases.queries import live_decision_id
from fundwall.store.tables import DecisionRow, TransactionRow


def decided_join(actor: Actor) -> tuple[Any, Any]:
    """The live decision of each transaction, joined when the actor's member decided it."""
    decision = aliased(DecisionRow)
    condition = (
        (decision.tx_id == TransactionRow.tx_id)
        & (decision.id == live_decision_id(TransactionRow.tx_id))
        & decisions_visible(actor)
    )
    return decision, condition
