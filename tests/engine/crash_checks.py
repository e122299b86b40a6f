"""What a decision log must show after a crash, for the crash tests of the decision process
(`fundwall decide`) and of the server (`fundwall serve`): every answer is logged as answered,
no transaction has two live decisions, and a restarted service holds exactly the state of the
log folded from scratch, deciding as a service that never stopped would have."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select
from state_values import engine_values

from fundwall.clock import SystemClock
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.domain.transactions import Transaction
from fundwall.engine.core import DecisionCore
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.features import TxEvent
from fundwall.engine.service import DecisionService
from fundwall.store import open_database
from fundwall.store.engine_tables import EngineSnapshotRow
from fundwall.store.mapping import decision_of, transaction_of
from fundwall.store.tables import DecisionRow, TransactionRow

LIVE = DecisionRow.shadow.is_(False)


def live_decisions(url: str, only: Collection[str] | None = None) -> dict[str, Decision]:
    """The live decision of each transaction in the log (of those in `only`, when given);
    fails if one has two, or if a logged transaction has none (the history is loaded
    without transactions)."""
    query = select(DecisionRow).where(LIVE)
    if only is not None:
        query = query.where(DecisionRow.tx_id.in_(sorted(only)))
    database = open_database(url)
    try:
        with database.connect() as connection:
            twice = connection.execute(
                select(DecisionRow.tx_id, func.count())
                .where(LIVE)
                .group_by(DecisionRow.tx_id)
                .having(func.count() > 1)
            ).all()
            rows = connection.execute(query).all()
            live = connection.scalar(select(func.count()).select_from(DecisionRow).where(LIVE))
            logged = connection.scalar(select(func.count()).select_from(TransactionRow))
    finally:
        database.dispose()
    assert twice == [], f"decided twice: {twice}"
    assert live == logged, "a logged transaction has no live decision"
    return {row.tx_id: decision_of(DecisionRow(**row._asdict())) for row in rows}


def logged_transactions(url: str) -> list[Transaction]:
    """The decided transactions of the log in the order the service decided them (the order
    of their live decisions), which is the order a restart folds them in."""
    first = (
        select(DecisionRow.tx_id, func.min(DecisionRow.id).label("first_id"))
        .where(LIVE)
        .group_by(DecisionRow.tx_id)
        .subquery()
    )
    query = (
        select(TransactionRow)
        .join(first, first.c.tx_id == TransactionRow.tx_id)
        .order_by(first.c.first_id)
    )
    database = open_database(url)
    try:
        with database.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        database.dispose()
    return [transaction_of(TransactionRow(**row._asdict())) for row in rows]


def open_service(url: str, keyring: Keyring) -> DecisionService:
    """The service a (re)start builds over the store at `url`: the log folded, from the
    latest snapshot when there is one."""
    return DecisionService.over(DecisionLog(open_database(url), SystemClock()), keyring=keyring)


def decided(
    url: str, keyring: Keyring, txs: Sequence[Transaction]
) -> tuple[list[Decision], DecisionCore]:
    """Decisions of a service started on `url` for `txs`, and its engine afterwards."""
    service = open_service(url, keyring)
    try:
        return [service.decide(tx) for tx in txs], service.core
    finally:
        service.close()


def forget_snapshots(url: str) -> None:
    """Delete the saved engine states, so the next start folds the whole log."""
    database = open_database(url)
    try:
        with database.begin() as connection:
            connection.execute(delete(EngineSnapshotRow))
    finally:
        database.dispose()


def state(core: DecisionCore) -> object:
    """Everything the core holds as plain data (accounts with their logins, devices, the
    controls' ledger, the clock), as far as it can tell a restarted core from one that never
    stopped:

    - not the windows' raw arrays: how far a window has dropped its old events depends on
      when it was last read, not on what it reads; `probe` compares their readings;
    - not the ledger entries that a decision read but did not book (a blocked payment), which
      hold the account's opening balance and nothing else, exactly as a missing entry reads.
    """
    values = engine_values(core, with_windows=False)
    entries = values.pop("ledger")
    assert isinstance(entries, dict)
    directory = core.directory
    booked = {}
    for account, entry in entries.items():
        row = directory.row_of(account)
        opening = int(directory.opening_balance[row]) if row >= 0 else 0
        if entry != [opening] + [0] * (len(entry) - 1):
            booked[account] = entry
    return values, booked


def probe(core: DecisionCore, txs: Sequence[Transaction]) -> list[list[int | float]]:
    """Feature vectors of payments a second after the last of `txs`, from every account,
    device and IP address they name (each account once as payer, once as payee): every
    window, count, balance and habit the state holds for them. Moves the core's clock."""
    when = max(tx.ts for tx in txs) + timedelta(seconds=1)
    accounts = list(
        dict.fromkeys(a for tx in txs for a in (tx.payer_account, tx.payee_account) if a)
    )
    devices = list(dict.fromkeys(tx.device_id for tx in txs)) or [None]
    ips = list(dict.fromkeys(tx.ip for tx in txs)) or [None]
    probes = max(len(accounts), len(devices), len(ips))
    return [
        list(core.features.compute(TxEvent(
            f"probe-{i}", when, "transfer", accounts[i % len(accounts)],
            accounts[(i + 1) % len(accounts)], "301", "302", 100, "mobile",
            devices[i % len(devices)], ips[i % len(ips)], "Xiamen",
        )))
        for i in range(probes)
    ]  # fmt: skip


def essence(decision: Decision) -> tuple[object, ...]:
    """A decision without its latency, which differs from run to run."""
    return decision.tx_id, decision.action, decision.score, decision.reasons, decision.pack_version
