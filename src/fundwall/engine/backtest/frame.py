"""Decisions, transactions and transaction labels lined up as numpy columns, one row a
transaction in the order of transactions.parquet.

Decisions are matched to transactions by `tx_id`, so their order does not matter. A
transaction without a decision counts as passed and unscored: leaving transactions out can
never raise recall.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput

ROLES: Final = ("normal", "victim_payment", "layering", "cash_out", "collection", "forwarding")
"""tx_labels roles; a row's role code is its index here (0 normal)."""
UNDECIDED: Final = -1
"""Severity code of a transaction without a decision: below pass, never flagged."""
ACTIONS: Final = tuple(sorted(Action, key=lambda action: action.severity))
DECISION_COLUMNS: Final = ("tx_id", "action", "score")

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Frame:
    """One row per transaction."""

    severity: npt.NDArray[np.int8]
    """`Action.severity` of the decision, UNDECIDED without one."""
    score: npt.NDArray[np.float64]
    """The decision's score; -inf without one, so it ranks below every scored transaction."""
    amount: Ints
    role: npt.NDArray[np.int8]
    """Index into ROLES."""
    scam: Ints
    """Scam number, -1 for normal transactions; a fraud transaction without a scam id gets
    a scam of its own."""
    ts: Ints
    """Microseconds since the epoch, UTC."""
    payer: Ints
    """Index into `accounts`, -1 for deposits."""
    payee: Ints
    """Index into `accounts`, -1 for withdrawals."""
    accounts: pa.Array
    """Every account number that pays or is paid."""
    pack_version: str | None
    model_version: str | None

    @property
    def decided(self) -> npt.NDArray[np.bool_]:
        decided: npt.NDArray[np.bool_] = self.severity != UNDECIDED
        return decided

    @property
    def fraud(self) -> npt.NDArray[np.bool_]:
        fraud: npt.NDArray[np.bool_] = self.role != 0
        return fraud

    def flagged(self, actions: tuple[Action, ...]) -> npt.NDArray[np.bool_]:
        """Transactions whose decision is one of `actions`."""
        flagged: npt.NDArray[np.bool_] = np.isin(self.severity, [a.severity for a in actions])
        return flagged


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _require(table: pa.Table, columns: tuple[str, ...], what: str) -> None:
    missing = [name for name in columns if name not in table.column_names]
    if missing:
        raise InvalidInput(f"{what} lack the column(s) {', '.join(missing)}", what)


def _first(values: pa.Array) -> str:
    return str(values[0].as_py())


def _one_value(decisions: pa.Table, name: str) -> str | None:
    if name not in decisions.column_names:
        return None
    distinct = pc.unique(_column(decisions, name).drop_null())
    if len(distinct) > 1:
        shown = ", ".join(sorted(str(v) for v in distinct.to_pylist())[:3])
        raise InvalidInput(f"decisions mix several {name}s ({shown}): backtest one at a time")
    return _first(distinct) if len(distinct) else None


def _decision_rows(decisions: pa.Table, tx_ids: pa.Array) -> npt.NDArray[np.int64]:
    """For each transaction, the row of its decision, or -1."""
    ids = _column(decisions, "tx_id").cast(pa.string())
    if ids.null_count:
        raise InvalidInput("a decision has no tx_id", "tx_id")
    counts = pc.value_counts(ids)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(repeated):
        raise InvalidInput(f"transaction {repeated[0]['values']} has several decisions", "tx_id")
    unknown = ids.filter(pc.invert(pc.is_in(ids, value_set=tx_ids)))
    if len(unknown):
        raise InvalidInput(f"decision for unknown transaction {_first(unknown)}", "tx_id")
    rows = pc.index_in(tx_ids, value_set=ids).fill_null(-1)
    return np.asarray(rows.to_numpy(), np.int64)


def _severities(decisions: pa.Table) -> npt.NDArray[np.int8]:
    actions = _column(decisions, "action").cast(pa.string())
    codes = pc.index_in(actions, value_set=pa.array([a.value for a in ACTIONS]))
    bad = pc.is_null(codes)
    if pc.any(bad).as_py():
        tx = _first(_column(decisions, "tx_id").filter(bad))
        value = actions.filter(bad)[0].as_py()
        raise InvalidInput(
            f"unknown action {value!r}; expected one of {', '.join(a.value for a in ACTIONS)}",
            "action",
            tx,
        )
    return np.asarray(codes.to_numpy(), np.int8)


def _scores(decisions: pa.Table) -> npt.NDArray[np.float64]:
    """The model's probabilities when a model scored every decision, else the packs' scores."""
    if "model_score" in decisions.column_names:
        probabilities = _column(decisions, "model_score")
        if len(probabilities) and probabilities.null_count == 0:
            return np.asarray(probabilities.cast(pa.float64()).to_numpy(), np.float64)
    scores = _column(decisions, "score")
    if not pa.types.is_integer(scores.type):
        raise InvalidInput(f"scores must be whole numbers, not {scores.type}", "score")
    if scores.null_count:
        tx = _first(_column(decisions, "tx_id").filter(pc.is_null(scores)))
        raise InvalidInput("a decision has no score", "score", tx)
    return np.asarray(scores.to_numpy(), np.float64)


def _roles(tx_labels: pa.Table, tx_ids: pa.Array) -> npt.NDArray[np.int8]:
    if not _column(tx_labels, "tx_id").equals(tx_ids):
        raise InvalidInput("tx_labels.parquet does not list the transactions in their order")
    roles = _column(tx_labels, "role")
    codes = pc.index_in(roles, value_set=pa.array(ROLES))
    bad = pc.is_null(codes)
    if pc.any(bad).as_py():
        tx = _first(tx_ids.filter(bad))
        raise InvalidInput(
            f"unknown role {roles.filter(bad)[0].as_py()!r}; expected one of {', '.join(ROLES)}",
            "role",
            tx,
        )
    return np.asarray(codes.to_numpy(), np.int8)


def _scams(tx_labels: pa.Table, role: npt.NDArray[np.int8]) -> Ints:
    encoded = _column(tx_labels, "scam_id").dictionary_encode()
    scam = np.asarray(encoded.indices.fill_null(-1).to_numpy(), np.int64)
    scam[role == 0] = -1
    orphans = np.flatnonzero((role != 0) & (scam < 0))
    scam[orphans] = len(encoded.dictionary) + np.arange(orphans.size)
    return scam


def _accounts(transactions: pa.Table) -> tuple[Ints, Ints, pa.Array]:
    payer = _column(transactions, "payer_account")
    both = pa.concat_arrays([payer, _column(transactions, "payee_account")])
    encoded = both.dictionary_encode()
    indices = np.asarray(encoded.indices.fill_null(-1).to_numpy(), np.int64)
    return indices[: len(payer)], indices[len(payer) :], encoded.dictionary


def frame(decisions: pa.Table, transactions: pa.Table, tx_labels: pa.Table) -> Frame:
    """Line up the decisions and labels with the transactions; InvalidInput when they do not
    fit (a missing column, a repeated or unknown tx_id, an unknown action or role)."""
    _require(decisions, DECISION_COLUMNS, "decisions")
    tx_ids = _column(transactions, "tx_id")
    rows = _decision_rows(decisions, tx_ids)
    decided = rows >= 0
    severity = np.full(len(tx_ids), UNDECIDED, np.int8)
    severity[decided] = _severities(decisions)[rows[decided]]
    score = np.full(len(tx_ids), -np.inf)
    score[decided] = _scores(decisions)[rows[decided]]
    role = _roles(tx_labels, tx_ids)
    payer, payee, accounts = _accounts(transactions)
    return Frame(
        severity=severity,
        score=score,
        amount=np.asarray(_column(transactions, "amount_fen").to_numpy(), np.int64),
        role=role,
        scam=_scams(tx_labels, role),
        ts=np.asarray(_column(transactions, "ts").cast(pa.int64()).to_numpy(), np.int64),
        payer=payer,
        payee=payee,
        accounts=accounts,
        pack_version=_one_value(decisions, "pack_version"),
        model_version=_one_value(decisions, "model_version"),
    )
