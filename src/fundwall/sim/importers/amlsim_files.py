"""The file layouts AMLSim's outputs come in, read into one form (`Source`).

- **Graph sample** — `nodes.csv` (nodeid, isFraud, init_balance, fraudStep) and
  `transactions.csv` (sourceNodeId, targetNodeId, value, time): the samples of the AMLSim
  repository (e.g. `20K_fanin200cycle200`). A transfer is laundering when its payer is
  labelled and it happens at the payer's `fraudStep`; without that column (or at -1) no
  transfer can be told to be laundering and only the account labels are carried.
- **Accounts layout** — `accounts.csv` and `transactions.csv` as AMLSim's converter
  (`scripts/convert_logs.py`, column names from the run's `schema.json`) or its older releases
  write them: accounts `ACCOUNT_ID`/`acct_id`, `IS_SAR`/`IS_FRAUD`/`prior_sar_count` (the SAR
  flag), `INIT_BALANCE`/`init_balance`/`initial_deposit`, optionally `CUSTOMER_ID` and
  `open_dt`; transactions `SENDER_ACCOUNT_ID`/`orig_acct`, `RECEIVER_ACCOUNT_ID`/`bene_acct`,
  `TX_AMOUNT`/`base_amt`, `TIMESTAMP`/`tran_timestamp`, `IS_SAR`/`IS_FRAUD` (per transaction),
  optionally `ALERT_ID` (-1: none) and `TX_TYPE`. Other columns are ignored.

Times are day steps (a whole number) or, in the converter's output, ISO 8601 dates
(`2017-01-01T00:00:00Z`, read to the day): the first transaction decides which, and day 0 is
step 0 or the first transaction's date. `open_dt` on or before the first transaction's day is
AMLSim's default (the account exists from the start of the simulation), not an opening the
simulation chose: it is read as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from fundwall.domain.errors import InvalidInput
from fundwall.sim.importers.common import BadRow, Column, csv_rows, fen, flag, has_columns, whole

MAX_DAY = 36_500
"""A hundred years of day steps (the samples use a few hundred): keeps every time in range."""

NODES = (
    Column("nodeid"),
    Column("isFraud"),
    Column("init_balance"),
    Column("fraudStep", required=False),
)
EDGES = (
    Column("sourceNodeId"),
    Column("targetNodeId"),
    Column("value"),
    Column("time"),
)
ACCOUNTS = (
    Column("ACCOUNT_ID", ("acct_id",)),
    Column("IS_SAR", ("IS_FRAUD", "prior_sar_count")),
    Column("INIT_BALANCE", ("initial_deposit",)),
    Column("CUSTOMER_ID", required=False),
    Column("open_dt", required=False),
)
TRANSACTIONS = (
    Column("SENDER_ACCOUNT_ID", ("orig_acct",)),
    Column("RECEIVER_ACCOUNT_ID", ("bene_acct",)),
    Column("TX_AMOUNT", ("base_amt",)),
    Column("TIMESTAMP", ("tran_timestamp",)),
    Column("IS_SAR", ("IS_FRAUD",)),
    Column("ALERT_ID", required=False),
    Column("TX_TYPE", required=False),
)


@dataclass(slots=True)
class Account:
    """One AMLSim account. Days count from day 0 of the transactions; None is unknown."""

    party: str
    laundering: bool
    balance: int
    opened_day: int | None = None
    fraud_day: int | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    line: int
    payer: str
    payee: str
    amount: int
    day: int
    laundering: bool
    alert: int | None = None
    kind: str | None = None


@dataclass(slots=True)
class Source:
    """What an AMLSim folder holds, whatever its layout."""

    accounts: dict[str, Account] = field(default_factory=dict)
    transfers: list[Transfer] = field(default_factory=list)


def read_amlsim(folder: Path, bad: list[BadRow]) -> Source:
    """Tell the folder's layout by its files and read it; malformed rows go to `bad`."""
    transactions = folder / "transactions.csv"
    if (folder / "nodes.csv").is_file():
        return _read_graph(folder / "nodes.csv", transactions, bad)
    if (folder / "accounts.csv").is_file():
        if not has_columns(folder / "accounts.csv", ACCOUNTS):
            raise InvalidInput(
                "accounts.csv is not one of AMLSim's account lists: it needs ACCOUNT_ID "
                "(or acct_id), IS_SAR (or IS_FRAUD, prior_sar_count) and INIT_BALANCE "
                "(or initial_deposit)",
                "source",
            )
        return _read_accounts_layout(folder / "accounts.csv", transactions, bad)
    raise InvalidInput(
        f"no such file: {folder / 'nodes.csv'} (or accounts.csv): not an AMLSim folder", "source"
    )


def _id(text: str, what: str) -> str:
    """An account or customer id; a number is read as one, so `042` is `42`."""
    key = text.strip()
    if not key or len(key) > 20 or not key.isascii() or not key.isalnum():
        raise InvalidInput(f"{what} must be a short id of letters and digits", what)
    return str(int(key)) if key.isdigit() else key


def _read_graph(nodes_csv: Path, edges_csv: Path, bad: list[BadRow]) -> Source:
    source = Source()
    for line, row in csv_rows(nodes_csv, NODES, bad):
        try:
            node = str(whole(row["nodeid"], "nodeid", minimum=0))
            if node in source.accounts:
                raise InvalidInput(f"node {node} appears twice", "nodeid")
            step = whole(row.get("fraudStep", "-1"), "fraudStep", minimum=-1, maximum=MAX_DAY)
            source.accounts[node] = Account(
                party=node,
                laundering=flag(row["isFraud"], "isFraud"),
                balance=fen(row["init_balance"], "init_balance", positive=False),
                fraud_day=step if step >= 0 else None,
            )
        except InvalidInput as error:
            bad.append(BadRow(nodes_csv.name, line, error.message()))
    for line, row in csv_rows(edges_csv, EDGES, bad):
        try:
            src = str(whole(row["sourceNodeId"], "sourceNodeId", minimum=0))
            dst = str(whole(row["targetNodeId"], "targetNodeId", minimum=0))
            for node, what in ((src, "sourceNodeId"), (dst, "targetNodeId")):
                if node not in source.accounts:
                    raise InvalidInput(f"node {node} is not in nodes.csv", what)
            day = whole(row["time"], "time", minimum=0, maximum=MAX_DAY)
            payer = source.accounts[src]
            source.transfers.append(
                Transfer(
                    line,
                    src,
                    dst,
                    fen(row["value"], "value", positive=True),
                    day,
                    laundering=payer.laundering and payer.fraud_day == day,
                )
            )
        except InvalidInput as error:
            bad.append(BadRow(edges_csv.name, line, error.message()))
    return source


def _when(text: str, what: str) -> tuple[bool, int]:
    """(is a date, day): a day step, or an ISO 8601 date or date and time (its day)."""
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit():
        return False, whole(stripped, what, minimum=0, maximum=MAX_DAY)
    try:
        return True, datetime.fromisoformat(stripped).date().toordinal()
    except ValueError:
        raise InvalidInput(
            f"{what} is neither a day step nor an ISO 8601 date: {stripped[:30]!r}", what
        ) from None


class _Days:
    """The day numbers of one file's times: its first time decides between day steps and
    dates, and a row that gives the other is a bad row."""

    def __init__(self) -> None:
        self.dates: bool | None = None

    def read(self, text: str, what: str) -> int:
        dates, day = _when(text, what)
        if self.dates is None:
            self.dates = dates
        elif dates != self.dates:
            this, others = ("a date", "day steps") if dates else ("a day step", "dates")
            raise InvalidInput(f"{what} is {this} where the earlier rows give {others}", what)
        return day


def _kind(text: str) -> str | None:
    kind = text.strip()
    if kind and (
        len(kind) > 20 or not kind.isascii() or not kind.replace("-", "").replace("_", "").isalnum()
    ):
        raise InvalidInput("TX_TYPE must be a short word", "TX_TYPE")
    return kind or None


def _read_accounts_layout(accounts_csv: Path, tx_csv: Path, bad: list[BadRow]) -> Source:
    source = Source()
    opened: dict[str, int] = {}
    open_days, tx_days = _Days(), _Days()
    for line, row in csv_rows(accounts_csv, ACCOUNTS, bad):
        try:
            text = row.get("open_dt", "").strip()
            day = open_days.read(text, "open_dt") if text else None
            key = _id(row["ACCOUNT_ID"], "ACCOUNT_ID")
            if key in source.accounts:
                raise InvalidInput(f"account {key} appears twice", "ACCOUNT_ID")
            customer = row.get("CUSTOMER_ID", "").strip()
            account = Account(
                party=_id(customer, "CUSTOMER_ID") if customer else key,
                laundering=flag(row["IS_SAR"], "IS_SAR"),
                balance=fen(row["INIT_BALANCE"], "INIT_BALANCE", positive=False),
            )
            if day is not None:
                opened[key] = day
        except InvalidInput as error:
            bad.append(BadRow(accounts_csv.name, line, error.message()))
            continue
        source.accounts[key] = account
    for line, row in csv_rows(tx_csv, TRANSACTIONS, bad):
        try:
            day = tx_days.read(row["TIMESTAMP"], "TIMESTAMP")  # first, so row 1 decides
            ends = []
            for what in ("SENDER_ACCOUNT_ID", "RECEIVER_ACCOUNT_ID"):
                key = _id(row[what], what)
                if key not in source.accounts:
                    raise InvalidInput(f"account {key} is not in accounts.csv", what)
                ends.append(key)
            alert = whole(row.get("ALERT_ID", "-1"), "ALERT_ID", minimum=-1)
            source.transfers.append(
                Transfer(
                    line,
                    ends[0],
                    ends[1],
                    fen(row["TX_AMOUNT"], "TX_AMOUNT", positive=True),
                    day,
                    laundering=flag(row["IS_SAR"], "IS_SAR"),
                    alert=alert if alert >= 0 else None,
                    kind=_kind(row.get("TX_TYPE", "")),
                )
            )
        except InvalidInput as error:
            bad.append(BadRow(tx_csv.name, line, error.message()))
    if opened and source.transfers and open_days.dates != tx_days.dates:
        raise InvalidInput(
            f"{accounts_csv.name}: open_dt gives {'dates' if open_days.dates else 'day steps'} "
            f"where {tx_csv.name} gives {'dates' if tx_days.dates else 'day steps'}; "
            "they cannot be put on one calendar",
            "open_dt",
        )
    _align_days(source, opened, dates=bool(tx_days.dates))
    return source


def _align_days(source: Source, opened: dict[str, int], *, dates: bool) -> None:
    """Count dates from the first transaction's day, and keep the openings after it."""
    if not source.transfers:
        return
    first = min(t.day for t in source.transfers)
    if dates:
        source.transfers[:] = [replace(t, day=t.day - first) for t in source.transfers]
    for key, day in opened.items():
        if day > first:
            source.accounts[key].opened_day = day - first if dates else day
