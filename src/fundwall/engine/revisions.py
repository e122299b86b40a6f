"""The latest revision of each kind of row the running engine reads from the store.

Workflows stamp each row they change for the engine with the sequence number of its audit
record (`revision`). The decision service sees the audit head move (`DecisionLog.watch`), but
most audited changes (outreach tasks, cases, appeals, messages) concern no row it reads. One
statement of indexed maxima (`latest_revisions`) tells it which kinds changed after the
revision it knew, and it reads only those: under load a head that moved for other work cost a
call 5–9 ms on PostgreSQL, a sequential scan of `accounts` among them, where the maxima cost
one round trip (docs/benchmarks.md, "The durable path: what changed, read in one
statement").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundwall.store.engine_tables import (
    AccountRestrictionRow,
    AccountStatusChangeRow,
    PunishmentRow,
    RiskListEntryRow,
    RulePackRow,
)
from fundwall.store.model_tables import ModelRow
from fundwall.store.sharing_tables import ShareKeyRow
from fundwall.store.tables import AccountRow


@dataclass(frozen=True, slots=True)
class Revisions:
    """The newest revision of each kind (0: no row of it has one)."""

    controls: int
    """Restrictions, risk list entries, punishment listings and status changes
    (`fundwall.engine.controls.changes.apply_changes`)."""
    accounts: int
    """Accounts members reported (`DecisionLog.account_reports`)."""
    packs: int
    """The rule-pack registry."""
    models: int
    """The model registry."""
    share_keys: int
    """The sharing key versions."""


def latest_revisions(session: Session) -> Revisions:
    """Each kind's newest revision, in one statement (each maximum read off its index)."""
    controls = (
        AccountRestrictionRow.revision,
        RiskListEntryRow.revision,
        PunishmentRow.revision,
        AccountStatusChangeRow.revision,
    )
    others = (AccountRow.revision, RulePackRow.revision, ModelRow.revision, ShareKeyRow.revision)
    row = session.execute(
        select(*(select(func.max(column)).scalar_subquery() for column in (*controls, *others)))
    ).one()
    values = [int(value or 0) for value in row]
    return Revisions(max(values[: len(controls)]), *values[len(controls) :])
