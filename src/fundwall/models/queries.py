"""The store as the account scores read and write it: the region's tables as Arrow tables,
the accounts known as fraudulent, what a refresh read (`DataMark`, `score_runs`), and the
`account_scores` rows.

`store_inputs` gives the account features (`fundwall.models.account_features`) the tables they
read from a region folder, under the region layout's column names (docs/data-layout.md), out
of the store's `transactions`, `accounts`, `parties` and `login_events`. What the store does
not keep stays out, so the features read it as unknown rather than as a made-up value:

- an account's opening balance is its `balance_fen` less the net flow of the history loaded
  with it (the transactions without a decision; engine decisions never change `balance_fen`),
  as the decision log's account directory takes it;
- the opening device and agent are not stored: the batch-opening count is unknown (NaN);
- a party's phone is its keyed hash (`phone_hash`): equal numbers have equal hashes, which is
  all the shared-phone features compare; birth dates are not read (no account feature uses
  them, and reading them means decrypting every ID number).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

import pyarrow as pa
from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.tenancy import visible_account
from fundwall.cases.model import CaseStatus, Outcome
from fundwall.engine.controls.model import ListKind, RiskCategory
from fundwall.models.account_features import AccountInputs
from fundwall.sharing.queries import in_force
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.model_tables import AccountScoreRow, ScoreRunRow
from fundwall.store.police_tables import CaseAccountRow, CaseRow
from fundwall.store.tables import AccountRow, DecisionRow, LoginEventRow, PartyRow, TransactionRow

TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
FETCH_ROWS: Final = 10_000
SEED_CATEGORIES: Final = (RiskCategory.FRAUD_ACCOUNT, RiskCategory.MULE)
"""Risk-list categories whose accounts are known fraud: the features' seeds."""
_TRANSACTION_TYPES: Final[Mapping[str, pa.DataType]] = {
    "tx_id": pa.string(),
    "ts": TIMESTAMP,
    "kind": pa.string(),
    "payer_account": pa.string(),
    "payee_account": pa.string(),
    "payer_bank": pa.string(),
    "payee_bank": pa.string(),
    "amount_fen": pa.int64(),
    "channel": pa.string(),
    "device_id": pa.string(),
    "ip": pa.string(),
    "city": pa.string(),
    "purpose": pa.string(),
}


def _table(rows: Iterable[tuple[Any, ...]], types: Mapping[str, pa.DataType]) -> pa.Table:
    columns: list[list[Any]] = [[] for _ in types]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    typed = zip(types.items(), columns, strict=True)
    return pa.table({name: pa.array(values, kind) for (name, kind), values in typed})


def _transactions(session: Session) -> pa.Table:
    query = select(*(TransactionRow.__table__.c[name] for name in _TRANSACTION_TYPES)).order_by(
        TransactionRow.ts, TransactionRow.tx_id
    )
    rows = session.execute(query.execution_options(yield_per=FETCH_ROWS))
    return _table(rows, _TRANSACTION_TYPES)


def _accounts(session: Session) -> pa.Table:
    tx = TransactionRow
    decided = exists().where(DecisionRow.tx_id == tx.tx_id)
    flows = union_all(
        select(tx.payer_account.label("account"), (-tx.amount_fen).label("delta"))
        .where(tx.payer_account.is_not(None), ~decided),
        select(tx.payee_account.label("account"), tx.amount_fen.label("delta"))
        .where(tx.payee_account.is_not(None), ~decided),
    ).subquery()  # fmt: skip
    net = select(flows.c.account, func.sum(flows.c.delta)).group_by(flows.c.account)
    moved = {account: int(total) for account, total in session.execute(net)}
    rows = session.execute(
        select(
            AccountRow.account_no,
            AccountRow.institution_code,
            AccountRow.party_id,
            AccountRow.account_class,
            AccountRow.status,
            AccountRow.risk_tier,
            AccountRow.opened_at,
            AccountRow.opening_channel,
            AccountRow.bound_account,
            AccountRow.balance_fen,
        ).order_by(AccountRow.account_no)
    )
    opening = ((*row[:-1], row.balance_fen - moved.get(row.account_no, 0)) for row in rows)
    types = {
        "account_no": pa.string(),
        "bank": pa.string(),
        "party_id": pa.string(),
        "account_class": pa.string(),
        "status": pa.string(),
        "risk_tier": pa.string(),
        "opened_at": TIMESTAMP,
        "opening_channel": pa.string(),
        "bound_account": pa.string(),
        "opening_balance_fen": pa.int64(),
    }
    return _table(opening, types)


def _parties(session: Session) -> pa.Table:
    rows = session.execute(
        select(PartyRow.party_id, PartyRow.kind, PartyRow.phone_hash).order_by(PartyRow.party_id)
    )
    table = _table(rows, {"party_id": pa.string(), "kind": pa.string(), "phone": pa.string()})
    return table.append_column("birth_date", pa.nulls(table.num_rows, pa.date32()))


def _logins(session: Session) -> pa.Table | None:
    rows = session.execute(
        select(
            LoginEventRow.event_id,
            LoginEventRow.ts,
            LoginEventRow.account_no,
            AccountRow.institution_code,
            LoginEventRow.device_id,
            LoginEventRow.ip,
            LoginEventRow.city,
            LoginEventRow.face_check,
        )
        .join(AccountRow, AccountRow.account_no == LoginEventRow.account_no)
        .order_by(LoginEventRow.ts, LoginEventRow.event_id)
        .execution_options(yield_per=FETCH_ROWS)
    )
    types = {
        "login_id": pa.string(),
        "ts": TIMESTAMP,
        "account_no": pa.string(),
        "bank": pa.string(),
        "device_id": pa.string(),
        "ip": pa.string(),
        "city": pa.string(),
        "face_check": pa.string(),
    }
    table = _table(rows, types)
    return table if table.num_rows else None


def store_inputs(session: Session) -> AccountInputs:
    """The store's transactions, accounts, parties and logins as the account features read
    them (the module docstring says what is left out)."""
    return AccountInputs(
        transactions=_transactions(session),
        accounts=_accounts(session),
        parties=_parties(session),
        logins=_logins(session),
    )


def listed_fraud(now: datetime) -> Select[str]:
    """The accounts on the shared risk list as fraud accounts or mules, in force at `now`."""
    return select(RiskListEntryRow.key).where(
        RiskListEntryRow.kind == ListKind.ACCOUNT.value,
        RiskListEntryRow.category.in_([c.value for c in SEED_CATEGORIES]),
        in_force(now),
    )


def confirmed_mules(now: datetime) -> Select[str]:
    """The accounts that cases closed as mules by `now` name, where the case's member holds
    the account: a member answers for its own customers, and a case naming another member's
    account (a counterparty) would let one member mark another's customer; that goes through
    the shared risk list, which the hub keeps. A merged case has no outcome of its own (its
    accounts went with it). A case closed as confirmed fraud is not read: the account it is
    about may be the victim's, whose payment its member answers for."""
    return (
        select(CaseAccountRow.account_no)
        .join(CaseRow, CaseRow.id == CaseAccountRow.case_id)
        .join(
            AccountRow,
            and_(
                AccountRow.account_no == CaseAccountRow.account_no,
                AccountRow.institution_code == CaseRow.member_code,
            ),
        )
        .where(
            CaseRow.status == CaseStatus.CLOSED.value,
            CaseRow.outcome == Outcome.MULE.value,
            CaseRow.merged_into.is_(None),
            CaseRow.closed_at <= now,
        )
    )


def known_fraud_accounts(now: datetime) -> CompoundSelect[str]:
    """The accounts known as fraudulent at `now`, as SQL: listed (`listed_fraud`) or
    confirmed in a case (`confirmed_mules`). The seeds the graph features spread from."""
    return union(listed_fraud(now), confirmed_mules(now))


def known_fraud(session: Session, now: datetime) -> set[str]:
    """The accounts known as fraudulent at `now` (`known_fraud_accounts`)."""
    return set(session.scalars(known_fraud_accounts(now)))


@dataclass(frozen=True, slots=True)
class DataMark:
    """What a refresh reads, in figures cheap to take (a count, the end of an index): while
    none of them changes, a refresh would read the same data. Transactions and logins are
    only ever added, so a count and the latest time catch a new one, even one dated in the
    past; the known fraud accounts are compared whole (by a digest), since an entry can be
    retracted, expire or start as time passes."""

    model_version: str
    transactions: int
    latest_transaction: datetime | None
    logins: int
    latest_login: datetime | None
    accounts: int
    seeds: int
    seeds_digest: str

    @property
    def data_until(self) -> datetime | None:
        """The latest time of the transactions and logins read (None: none yet)."""
        times = [t for t in (self.latest_transaction, self.latest_login) if t is not None]
        return max(times, default=None)

    def same_as(self, run: ScoreRunRow) -> bool:
        """Whether `run` read exactly this."""
        return all(getattr(run, field.name) == getattr(self, field.name) for field in fields(self))


def data_mark(session: Session, model_version: str, seeds: Collection[str]) -> DataMark:
    """The `DataMark` of the store now, for a refresh by `model_version` from `seeds`."""
    transactions, latest_transaction = session.execute(
        select(func.count(), func.max(TransactionRow.ts))
    ).one()
    logins, latest_login = session.execute(select(func.count(), func.max(LoginEventRow.ts))).one()
    accounts = session.scalar(select(func.count()).select_from(AccountRow)) or 0
    digest = hashlib.sha256("\n".join(sorted(seeds)).encode()).hexdigest()
    return DataMark(
        model_version=model_version,
        transactions=int(transactions),
        latest_transaction=latest_transaction,
        logins=int(logins),
        latest_login=latest_login,
        accounts=int(accounts),
        seeds=len(seeds),
        seeds_digest=digest,
    )


def latest_run(session: Session) -> ScoreRunRow | None:
    """The last refresh recorded, if any."""
    return session.scalars(select(ScoreRunRow).order_by(ScoreRunRow.id.desc()).limit(1)).first()


def record_run(session: Session, mark: DataMark, computed_at: datetime) -> ScoreRunRow:
    """Add the row of a refresh reading `mark` (not committed; `scored` and `seconds` are
    set by the caller once known), with its id."""
    row = ScoreRunRow(
        model_version=mark.model_version,
        computed_at=computed_at,
        data_until=mark.data_until,
        transactions=mark.transactions,
        latest_transaction=mark.latest_transaction,
        logins=mark.logins,
        latest_login=mark.latest_login,
        accounts=mark.accounts,
        seeds=mark.seeds,
        seeds_digest=mark.seeds_digest,
        scored=0,
        seconds=0.0,
    )
    session.add(row)
    session.flush()
    return row


def replace_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    """Put `rows` (the `account_scores` columns) in place of every stored score (not
    committed): an account no longer scored keeps no stale score."""
    session.execute(delete(AccountScoreRow))
    if rows:
        session.execute(insert(AccountScoreRow), rows)


def score_row(
    session: Session, actor: Actor, account_no: str
) -> tuple[AccountScoreRow, ScoreRunRow | None] | None:
    """The score of an account the actor's member holds, with the refresh that computed it
    (NotFound for any other account, as if it did not exist); None when it has no score yet."""
    visible_account(session, actor, account_no)
    row = session.get(AccountScoreRow, account_no)
    if row is None:
        return None
    return row, session.get(ScoreRunRow, row.run_id) if row.run_id is not None else None


def contributions_of(row: AccountScoreRow) -> list[dict[str, Any]] | None:
    """The stored contributions of a score (None: not computed, below the alert threshold)."""
    if row.contributions is None:
        return None
    parsed: list[dict[str, Any]] = json.loads(row.contributions)
    return parsed
