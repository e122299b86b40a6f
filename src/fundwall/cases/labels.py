"""Labels from closed cases (案件标签): what backtests and model training learn from.

`export_labels` writes one Parquet table, `LABEL_SCHEMA`, with a row per closed case (not a
merged one, which has no outcome of its own), account and transaction:

- the case: `case_id`, `member` (its bank), `case_kind`, `outcome`, `closed_at`;
- `account_no`: an account of the case (those it names, and the accounts its alerts were
  raised on);
- a transaction in which that account pays or receives: `tx_id`, `ts`, `amount_fen`,
  `role` (`payer` or `payee`: the account's side), and `alerted` (the transaction is one of
  the case's alerts). An account without any transaction has one row with these empty.

So a transfer between two accounts of a case appears twice, once for each side; join on
`tx_id` to label transactions, on `account_no` to label accounts. Rows are ordered by case,
account, time and transaction id.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.model import CaseStatus, answering_account
from fundwall.domain.errors import InvalidInput
from fundwall.domain.ownership import Side
from fundwall.store.police_tables import CaseAccountRow, CaseAlertRow, CaseRow
from fundwall.store.tables import TransactionRow
from fundwall.store.uow import UnitOfWork

UTC_MICROS: Final = pa.timestamp("us", tz="UTC")
LABEL_SCHEMA: Final = pa.schema(
    [
        pa.field("case_id", pa.int64(), nullable=False),
        pa.field("member", pa.string(), nullable=False),
        pa.field("case_kind", pa.string(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("closed_at", UTC_MICROS, nullable=False),
        pa.field("account_no", pa.string(), nullable=False),
        pa.field("tx_id", pa.string()),
        pa.field("ts", UTC_MICROS),
        pa.field("amount_fen", pa.int64()),
        pa.field("role", pa.string()),
        pa.field("alerted", pa.bool_()),
    ]
)
"""The columns of the labels file (see the module's docstring)."""


@use_case(Permission.EXPORT_LABELS)
def export_labels(uow: UnitOfWork, actor: Actor, out: Path) -> int:
    """Write the labels of every member's closed cases to the Parquet file `out` (replaced
    whole or not at all: written beside it, then renamed); returns the number of rows."""
    out = out.expanduser().absolute()
    if out.is_dir():
        raise InvalidInput(f"{out} is a directory; name a file", "out")
    if not out.parent.is_dir():
        raise InvalidInput(f"no such directory: {out.parent}", "out")
    rows = 0
    cases = 0
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as error:
        raise InvalidInput(f"cannot write in {out.parent}: {error.strerror}", "out") from None
    os.close(handle)
    try:
        with pq.ParquetWriter(temporary, LABEL_SCHEMA) as writer:
            for batch in _case_batches(uow.session):
                writer.write_table(pa.Table.from_pylist(batch, schema=LABEL_SCHEMA))
                rows += len(batch)
                cases += 1
        os.replace(temporary, out)
    except OSError as error:
        raise InvalidInput(f"cannot write {out}: {error.strerror}", "out") from None
    finally:
        Path(temporary).unlink(missing_ok=True)
    uow.audit.record(actor, "labels_export", "labels", {"cases": cases, "rows": rows})
    uow.commit()
    return rows


def _case_batches(session: Session) -> Iterator[list[dict[str, Any]]]:
    """The label rows of each closed, unmerged case, one list a case."""
    closed = session.scalars(
        select(CaseRow)
        .where(
            CaseRow.status == CaseStatus.CLOSED.value,
            CaseRow.merged_into.is_(None),
            CaseRow.outcome.is_not(None),
        )
        .order_by(CaseRow.id)
    )
    for case in closed:
        common = {
            "case_id": case.id,
            "member": case.member_code,
            "case_kind": case.kind,
            "outcome": case.outcome,
            "closed_at": case.closed_at,
        }
        alerted = _alerted_accounts(session, case.id)
        accounts = set(alerted.values()) | set(
            session.scalars(
                select(CaseAccountRow.account_no).where(CaseAccountRow.case_id == case.id)
            )
        )
        batch = []
        for account_no in sorted(accounts):
            flows = session.execute(
                select(
                    TransactionRow.tx_id,
                    TransactionRow.ts,
                    TransactionRow.amount_fen,
                    TransactionRow.payer_account,
                )
                .where(
                    or_(
                        TransactionRow.payer_account == account_no,
                        TransactionRow.payee_account == account_no,
                    )
                )
                .order_by(TransactionRow.ts, TransactionRow.tx_id)
            ).all()
            batch += [
                {
                    **common,
                    "account_no": account_no,
                    "tx_id": tx_id,
                    "ts": ts,
                    "amount_fen": amount_fen,
                    "role": (Side.PAYER if payer == account_no else Side.PAYEE).value,
                    "alerted": tx_id in alerted,
                }
                for tx_id, ts, amount_fen, payer in flows
            ] or [{**common, "account_no": account_no}]
        yield batch


def _alerted_accounts(session: Session, case_id: int) -> dict[str, str]:
    """The case's alerts, each with the account it was raised on (its owning side's)."""
    rows = session.execute(
        select(
            TransactionRow.tx_id,
            TransactionRow.kind,
            TransactionRow.payer_account,
            TransactionRow.payee_account,
        )
        .join(CaseAlertRow, CaseAlertRow.tx_id == TransactionRow.tx_id)
        .where(CaseAlertRow.case_id == case_id)
    )
    alerted = {}
    for tx_id, kind, payer, payee in rows:
        account_no, _ = answering_account(kind, payer, payee)
        if account_no is not None:
            alerted[tx_id] = account_no
    return alerted
