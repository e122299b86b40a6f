"""The decision log: the store's `transactions`, `decisions` and `login_events` tables, as the
engine uses them.

`append` writes each decided transaction and its decisions (live, and shadow when tried) in
one database transaction, so a decision is durable before it is answered; `append_logins`
writes the login events a call brings, in one database transaction too. The log's order is
the order the engine folds it in after a restart (`history`): first the transactions that have
no decision (history loaded with `fundwall load`) by time and id, then the decided ones in the
order of their first live decision, each with that decision's `decided_at`, the service's
clock the engine capped the transaction's time at (see `fundwall.engine.core`), so the fold
gives each the time it was decided as. The logins go in between by time: each before the
first transaction folded at or after its time. (A login is a fact at its own time, so the
state does not depend on where exactly it is folded, as long as it is not folded long after
its time; see `fundwall.engine.features.logins`.)

`directory` builds the account directory the features read from `accounts` and `parties`, with
the opening balance each account had before that history (`balance_fen`, the balance after the
loaded history, minus its net flow); engine decisions never change `balance_fen`. Snapshots of
the engine's state let a restart fold only the tail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any, Final, NamedTuple

import pyarrow as pa
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import Select

from fundwall.clock import Clock
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.devices import Device, DeviceKind, LoginEvent
from fundwall.domain.errors import Conflict
from fundwall.domain.identity import ResidentId
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.transactions import COLUMNS, Transaction
from fundwall.engine.committer import INLINE_ROWS
from fundwall.engine.controls.book import PartyHasher, PartyKeys
from fundwall.engine.features import AccountDirectory, TxEvent
from fundwall.engine.features.catalog import NEVER
from fundwall.engine.features.directory import CLASS_CODES, ReportedAccount
from fundwall.engine.features.inputs import TRANSACTION_COLUMNS, micros
from fundwall.store.database import DatabaseUnavailableError, reachable
from fundwall.store.engine_tables import EngineSnapshotRow
from fundwall.store.mapping import (
    decision_of,
    decision_values,
    device_values,
    login_event_of,
    login_event_values,
    transaction_of,
    transaction_values,
)
from fundwall.store.tables import (
    AccountRow,
    AuditHeadRow,
    Base,
    DecisionRow,
    DeviceRow,
    InstitutionRow,
    LoginEventRow,
    PartyRow,
    TransactionRow,
)
from fundwall.store.types import UtcDateTime

FETCH_ROWS: Final = 10_000
_TX = Base.metadata.tables[TransactionRow.__tablename__]
_DECISIONS = Base.metadata.tables[DecisionRow.__tablename__]
_SNAPSHOTS = Base.metadata.tables[EngineSnapshotRow.__tablename__]
_LOGINS = Base.metadata.tables[LoginEventRow.__tablename__]
_DEVICES = Base.metadata.tables[DeviceRow.__tablename__]
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EVENT_COLUMNS: Final = tuple(_TX.c[name] for name in TRANSACTION_COLUMNS)
"""The columns of a `TxEvent`, in its order: a row's first `_EVENT_WIDTH` values build one."""
_EVENT_WIDTH: Final = len(_EVENT_COLUMNS)
_LOGGED_DECISION: Final = tuple(c.name for c in _DECISIONS.columns if c.name != "id")
"""The columns a decision is logged with (`decision_values`); the id is the database's."""
_DECIDED = exists().where(_DECISIONS.c.tx_id == _TX.c.tx_id)
_HEAD_TABLE: Final = AuditHeadRow.__tablename__
WATCH_IDS: Final = 500
"""Ids `DecisionLog.watch` reads with the head in one statement; a call with more reads them
after it."""


class Watch(NamedTuple):
    """The audit head, and which of the transaction ids asked about the log held, read at one
    moment (`DecisionLog.watch`)."""

    head: int
    logged: frozenset[str]


@dataclass(frozen=True, slots=True)
class Logged:
    """A transaction of the log: as the engine reads it, its first live action (None for
    history without a decision), the id of that decision and when it was made."""

    event: TxEvent
    action: Action | None
    decision_id: int | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A saved engine state: where in the log it stands and over which directory."""

    id: int
    history: int
    last_decision_id: int
    directory_digest: str
    state: bytes


class DecisionLog:
    """The engine's view of the store: append decisions, read them back, fold the history."""

    def __init__(self, database: Engine, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self._watch: Connection | None = None
        self._loop_watch: tuple[asyncio.AbstractEventLoop, Any] | None = None
        """The connection `watch_on_loop` reads on, and the event loop it belongs to."""
        self._head_cursor: Any = None
        self._head_lock = threading.Lock()
        self._writer: Connection | None = None
        self._write_lock = threading.Lock()
        dbapi = database.dialect.loaded_dbapi
        self._driver_error: type[Exception] = dbapi.Error
        self._integrity_error: type[Exception] = dbapi.IntegrityError
        self._unreachable_errors = (dbapi.OperationalError, dbapi.InterfaceError)
        self._mark = "?" if database.dialect.paramstyle == "qmark" else "%s"
        self._watch_statements: dict[int, str] = {}
        self._tx_rows = _Rows(_TX, COLUMNS, database.dialect, self._mark)
        self._decision_rows = _Rows(_DECISIONS, _LOGGED_DECISION, database.dialect, self._mark)
        self._url = database.url.render_as_string(hide_password=False)
        self.embedded = database.dialect.name == "sqlite"
        """Whether the store is a file of this machine (SQLite), where a read costs
        microseconds, not a round trip to a server."""
        self._group_sql = (
            None
            if self.embedded
            else _group_statement(self._tx_rows, self._decision_rows, self._mark)
        )
        self._json_inserts = (
            (_json_insert(self._tx_rows, self._mark), _json_insert(self._decision_rows, self._mark))
            if self.embedded
            else None
        )

    def head(self) -> int:
        """The audit chain's last sequence number: it moves whenever anything audited changes,
        which includes every change to what the engine enforces."""
        return self.watch(()).head

    def watch(self, tx_ids: Collection[str]) -> Watch:
        """The audit head and which of `tx_ids` the log holds, read together: what the
        decision service asks before every call (the changes to take in, and the call's ids
        decided before, which are never decided again).

        Asked before every call, so it runs on a connection of its own in autocommit mode,
        straight on the driver's cursor: no pool checkout, no transaction to begin and end,
        no statement to compile (a tenth of the time through SQLAlchemy), always the latest
        commit; the head and up to `WATCH_IDS` ids in one statement (on PostgreSQL one round
        trip). Any thread may ask; one at a time."""
        ids = list(dict.fromkeys(tx_ids))
        if len(ids) > WATCH_IDS:  # a large batch: its ids in chunks, after the head
            return Watch(self.watch(()).head, frozenset(self.logged_ids(ids)))
        rows = self._on_watch(self._watch_sql(len(ids)), ids)
        return _watch_of(rows)

    async def watch_on_loop(self, tx_ids: Collection[str]) -> Watch:
        """`watch`, for a caller on an event loop: on PostgreSQL through psycopg the loop
        sends the statement itself, on an asynchronous connection of its own, where a worker
        thread reading for it would take the interpreter in turns with the loop (a fifth more
        durable decisions a second at 0.84–0.88× the CPU each: docs/benchmarks.md, "The
        durable path: the head read by the loop"); elsewhere `watch` on a worker thread. One
        read at a time on a loop (`fundwall.engine.head.SharedHead` sees to it)."""
        ids = list(dict.fromkeys(tx_ids))
        if len(ids) > WATCH_IDS or self.database.dialect.driver != "psycopg":
            return await asyncio.to_thread(self.watch, ids)
        try:
            connection = await self._connection_of_loop()
            cursor = await connection.execute(self._watch_sql(len(ids)), ids)
            rows = await cursor.fetchall()
        except self._driver_error as error:
            self._drop_loop_watch()  # opened again on the next read
            raise DatabaseUnavailableError(self._url, _first_line(error)) from None
        return _watch_of(rows)

    async def _connection_of_loop(self) -> Any:
        """The running loop's connection for `watch_on_loop`, opened when it has none (with
        the engine's own connection arguments), in autocommit: each read sees the latest
        commit."""
        import psycopg

        loop = asyncio.get_running_loop()
        kept = self._loop_watch
        if kept is not None and kept[0] is loop and not kept[1].closed:
            return kept[1]
        self._drop_loop_watch()
        args, options = self.database.dialect.create_connect_args(self.database.url)
        connection = await psycopg.AsyncConnection.connect(*args, **options, autocommit=True)
        self._loop_watch = loop, connection
        return connection

    def _drop_loop_watch(self) -> None:
        kept, self._loop_watch = self._loop_watch, None
        if kept is not None:
            # libpq's own close: no round trip, so it needs no loop (its loop may be gone).
            kept[1].pgconn.finish()

    def _watch_sql(self, count: int) -> str:
        sql = self._watch_statements.get(count)
        if sql is None:
            marks = ", ".join([self._mark] * count)
            sql = self._watch_statements[count] = (
                f"SELECT h.seq, t.tx_id FROM (SELECT 1 AS one) AS o "
                f"LEFT JOIN {_HEAD_TABLE} AS h ON h.id = 1 "
                f"LEFT JOIN {_TX.name} AS t ON t.tx_id IN ({marks})"
                if count
                else f"SELECT h.seq, NULL FROM {_HEAD_TABLE} AS h WHERE h.id = 1"
            )
        return sql

    def _on_watch(self, sql: str, params: list[str]) -> list[Any]:
        """The rows of `sql` run on the watch connection (opened when there is none)."""
        with self._head_lock:
            cursor = self._head_cursor
            if cursor is not None:
                try:  # the common case, kept short: one statement on the open cursor
                    cursor.execute(sql, params)
                    return list(cursor.fetchall())
                except self._driver_error as error:
                    self._drop_watch()
                    raise DatabaseUnavailableError(self._url, _first_line(error)) from None
            try:
                with reachable(self._url):
                    self._watch = self.database.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                    cursor = self._watch.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                    cursor.execute(sql, params)
                    rows = list(cursor.fetchall())
            except self._driver_error as error:
                self._drop_watch()
                raise DatabaseUnavailableError(self._url, _first_line(error)) from None
            except (DBAPIError, DatabaseUnavailableError):
                # A broken connection is opened again on the next call.
                self._drop_watch()
                raise
            self._head_cursor = cursor
            return rows

    def _drop_watch(self) -> None:
        self._head_cursor = None
        if self._watch is not None:
            self._watch.invalidate()
            self._watch = None

    def close(self) -> None:
        """Close the connections `head` and `watch_on_loop` keep and the engine's pool."""
        self._drop_loop_watch()
        with self._head_lock:
            self._head_cursor = None
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.database.dispose()

    @property
    def url(self) -> str:
        """The database's URL (with its password), for errors that name it."""
        return self._url

    def append(
        self,
        entries: Sequence[tuple[Transaction, Sequence[Decision]]],
        *,
        decided_at: datetime,
    ) -> None:
        """Write transactions and their decisions, all in one database transaction; the
        decisions were made at `decided_at` (the instant the engine capped their times at)."""
        self.append_group([(entries, decided_at)])

    def append_group(
        self,
        writes: Sequence[tuple[Sequence[tuple[Transaction, Sequence[Decision]]], datetime]],
    ) -> None:
        """Write the transactions and decisions of several calls, each made at its own
        instant, in one database transaction, in order (`fundwall.engine.committer`). A
        transaction id in the log already is a Conflict, and nothing is written."""
        # SQLite: rows as the driver takes them; PostgreSQL: the group as JSON (`_write_in_one`).
        tx_row = self._tx_rows.row if self.embedded else self._tx_rows.record
        decision_row = self._decision_rows.row if self.embedded else self._decision_rows.record
        transactions = list(
            map(tx_row, (transaction_values(tx) for entries, _ in writes for tx, _ in entries))
        )
        decisions = [
            decision_row(decision_values(decision, decided_at=decided_at))
            for entries, decided_at in writes
            for _, made in entries
            for decision in made
        ]
        # On a connection kept for the writes: a pool checkout a commit measured a tenth of
        # a small group's time.
        with self._write_lock:
            try:
                with reachable(self._url):
                    if self._writer is None:
                        self._writer = self._open_writer()
                    if self._json_inserts is not None and len(transactions) >= INLINE_ROWS:
                        self._write_as_json(transactions, decisions)
                    elif self._group_sql is None:
                        with self._writer.begin():
                            self._writer.exec_driver_sql(self._tx_rows.sql, transactions)
                            self._writer.exec_driver_sql(self._decision_rows.sql, decisions)
                    else:
                        self._write_in_one(transactions, decisions)
            except IntegrityError:
                raise Conflict(_IN_LOG_ALREADY) from None
            except BaseException:
                # A connection that failed is opened again on the next write.
                if self._writer is not None:
                    self._writer.invalidate()
                    self._writer = None
                raise

    def _write_as_json(self, transactions: list[Any], decisions: list[Any]) -> None:
        """SQLite, a group the committer writes on its thread (a batch, at least `INLINE_ROWS`
        transactions; a smaller group is written row by row, which costs less on the event
        loop): each table's rows (`_Rows.row`) as one JSON array in one statement, which
        SQLite unpacks itself. The driver lets go of the interpreter while a statement runs
        and takes it back after, waiting for the event loop's turn (the switch interval):
        row by row that was a thousand waits a batch, now two."""
        assert self._writer is not None and self._json_inserts is not None
        tx_sql, decision_sql = self._json_inserts
        with self._writer.begin():
            self._writer.exec_driver_sql(tx_sql, (json.dumps(transactions, ensure_ascii=False),))
            self._writer.exec_driver_sql(decision_sql, (json.dumps(decisions, ensure_ascii=False),))

    def _write_in_one(self, transactions: list[Any], decisions: list[Any]) -> None:
        """PostgreSQL: the group's rows (`_Rows.record`) as one statement of two JSON
        documents, in autocommit (a statement is its own transaction: all of it is written or
        none). The writer thread waits for the event loop's thread to let go of the
        interpreter after each exchange with the server; an INSERT of each table and a COMMIT
        on the driver took 3 to 5 times as long as one statement while the loop decided. Two
        JSON texts, made by the json module's C encoder, cost the writer half the CPU of the
        same rows as typed column arrays, which the driver adapts value by value."""
        assert self._writer is not None and self._group_sql is not None
        cursor = self._writer.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self._group_sql, (json.dumps(transactions), json.dumps(decisions)))
        except self._driver_error as error:
            if isinstance(error, self._integrity_error):
                raise Conflict(_IN_LOG_ALREADY) from None
            if isinstance(error, self._unreachable_errors):
                raise DatabaseUnavailableError(self._url, _first_line(error)) from None
            raise

    def _open_writer(self) -> Connection:
        """The connection the decisions are written on. On SQLite its commits do not
        checkpoint the write-ahead log when the platform opened the database
        (`store.database.checkpoint_apart`): with the indexes a decision touches, that would
        be every few commits, some milliseconds each, on the event loop."""
        writer = self.database.connect()
        if not self.embedded:  # each group is one statement (`_write_in_one`)
            return writer.execution_options(isolation_level="AUTOCOMMIT")
        return writer

    def logged_ids(self, tx_ids: Sequence[str]) -> set[str]:
        """Which of `tx_ids` are in the log."""
        found: set[str] = set()
        with self.database.connect() as connection:
            for start in range(0, len(tx_ids), FETCH_ROWS):
                chunk = list(tx_ids[start : start + FETCH_ROWS])
                found.update(connection.scalars(select(_TX.c.tx_id).where(_TX.c.tx_id.in_(chunk))))
        return found

    def append_logins(self, logins: Sequence[LoginEvent]) -> None:
        """Write login events, all in one database transaction. A device the store has not
        seen joins `devices` (kind `other`: a login does not say what the device is), first
        seen at its earliest login here."""
        first_seen: dict[str, datetime] = {}
        for login in logins:
            if login.device_id is not None:
                seen = first_seen.get(login.device_id)
                first_seen[login.device_id] = login.ts if seen is None else min(seen, login.ts)
        try:
            with reachable(self._url), self.database.begin() as connection:
                known = set(
                    connection.scalars(
                        select(_DEVICES.c.device_id).where(
                            _DEVICES.c.device_id.in_(list(first_seen))
                        )
                    )
                )
                devices = [
                    device_values(Device(device, DeviceKind.OTHER, when))
                    for device, when in first_seen.items()
                    if device not in known
                ]
                if devices:
                    connection.execute(insert(_DEVICES), devices)
                connection.execute(insert(_LOGINS), [login_event_values(each) for each in logins])
        except IntegrityError:
            raise Conflict(
                "a login of this call is in the log already, written by another process; the "
                "engine rebuilds from the log, send the call again"
            ) from None

    def logins_with_ids(self, login_ids: Iterable[str]) -> dict[str, LoginEvent]:
        """The logged login events of these ids, by id."""
        wanted = list(login_ids)
        query = select(LoginEventRow).where(_LOGINS.c.event_id.in_(wanted))
        with self.database.connect() as connection:
            rows = connection.execute(query).all() if wanted else []
        return {row.event_id: login_event_of(LoginEventRow(**row._asdict())) for row in rows}

    def logins_before(self, horizon_us: int | None) -> int:
        """How many logged logins are older than `horizon_us` (none when None)."""
        if horizon_us is None:
            return 0
        query = select(func.count()).select_from(_LOGINS).where(_LOGINS.c.ts < _moment(horizon_us))
        with self.database.connect() as connection:
            return int(connection.scalar(query) or 0)

    def _logins(self, since_us: int | None) -> Iterator[LoginEvent]:
        """The logged logins at or after `since_us` (all when None), by time and id."""
        query = select(LoginEventRow).order_by(_LOGINS.c.ts, _LOGINS.c.event_id)
        if since_us is not None:
            query = query.where(_LOGINS.c.ts >= _moment(since_us))
        with self.database.connect() as connection:
            result = connection.execution_options(yield_per=FETCH_ROWS).execute(query)
            for row in result:
                yield login_event_of(LoginEventRow(**row._asdict()))

    def firsts(self, tx_ids: Sequence[str]) -> dict[str, tuple[Transaction, Decision | None]]:
        """The transaction logged under each of `tx_ids` that the log holds, with its first
        live decision (None for history loaded without one): in a query per table for every
        `FETCH_ROWS` ids, so a call repeating thousands of ids costs a few reads, not
        thousands."""
        found: dict[str, Transaction] = {}
        decided: dict[str, Decision] = {}
        with self.database.connect() as connection:
            for start in range(0, len(tx_ids), FETCH_ROWS):
                chunk = list(tx_ids[start : start + FETCH_ROWS])
                logged = select(TransactionRow).where(_TX.c.tx_id.in_(chunk))
                for tx_row in connection.execute(logged):
                    tx = transaction_of(TransactionRow(**tx_row._asdict()))
                    found[tx.tx_id] = tx
                live = (
                    select(DecisionRow)
                    .where(DecisionRow.tx_id.in_(chunk), DecisionRow.shadow.is_(False))
                    .order_by(DecisionRow.id.desc())
                )
                for decision_row in connection.execute(live):  # newest first: the first stays
                    decision = decision_of(DecisionRow(**decision_row._asdict()))
                    decided[decision.tx_id] = decision
        return {tx_id: (tx, decided.get(tx_id)) for tx_id, tx in found.items()}

    def account_holders(self) -> frozenset[str]:
        """The codes of the banks and payment institutions in the store."""
        kinds = [kind.value for kind in InstitutionKind if kind.holds_accounts]
        query = select(InstitutionRow.code).where(InstitutionRow.kind.in_(kinds))
        with self.database.connect() as connection:
            return frozenset(connection.scalars(query))

    def account_reports(
        self, since: int, keyring: Keyring | None, hasher: PartyHasher | None = None
    ) -> list[tuple[ReportedAccount, str | None, PartyKeys]]:
        """Accounts members reported after revision `since`, in report order: each as the
        directory takes it (an unknown opening as `NEVER`, as the directory reads a null one),
        with its bound account and its holder's keys (with `hasher`, the shared hashes too)."""
        query = (
            select(
                AccountRow.account_no,
                AccountRow.institution_code,
                AccountRow.party_id,
                AccountRow.account_class,
                AccountRow.opened_at,
                AccountRow.balance_fen,
                AccountRow.bound_account,
                PartyRow.kind,
                PartyRow.id_number_enc,
                PartyRow.id_number_hash,
                PartyRow.phone_hash,
                PartyRow.phone_enc,
            )
            .join(PartyRow, PartyRow.party_id == AccountRow.party_id)
            .where(AccountRow.revision > since)
            .order_by(AccountRow.revision)
        )
        sharing = (
            select(func.count())
            .select_from(PartyRow)
            .where(PartyRow.phone_hash == bindparam("phone"))
        )
        reports = []
        with self.database.connect() as connection:
            for row in connection.execute(query).all():
                birth = _birth(row.kind, row.id_number_enc, keyring)
                phones = (
                    int(connection.scalar(sharing, {"phone": row.phone_hash}) or 0)
                    if row.phone_hash is not None
                    else -1
                )
                account = ReportedAccount(
                    row.account_no,
                    row.institution_code,
                    row.party_id,
                    CLASS_CODES[row.account_class.lower()],
                    NEVER if row.opened_at is None else micros(row.opened_at, "opened_at"),
                    row.balance_fen,
                    birth.year * 10000 + birth.month * 100 + birth.day if birth else -1,
                    phones,
                )
                keys = (
                    hasher.of_stored(row.kind, row.id_number_hash, row.id_number_enc, row.phone_enc)
                    if hasher is not None
                    else PartyKeys(row.id_number_hash)
                )
                reports.append((account, row.bound_account, keys))
        return reports

    def last_decision_id(self) -> int:
        """The id of the newest live decision (0 when none)."""
        query = select(func.max(_DECISIONS.c.id)).where(_DECISIONS.c.shadow.is_(False))
        with self.database.connect() as connection:
            return int(connection.scalar(query) or 0)

    def tx_ids(self) -> set[str]:
        """Every transaction id in the log."""
        with self.database.connect() as connection:
            result = connection.execution_options(yield_per=FETCH_ROWS).execute(select(_TX.c.tx_id))
            return {tx_id for (tx_id,) in result}

    def history_size(self) -> int:
        """How many logged transactions have no decision (history loaded, not decided)."""
        with self.database.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(_TX).where(~_DECIDED))
        return int(count or 0)

    def history(
        self, after_decision: int | None = None, *, logins_since: int | None = None
    ) -> Iterator[Logged | LoginEvent]:
        """The log in folding order, the logins at or after `logins_since` (µs; all when None)
        among the transactions by time; with `after_decision`, only the decided transactions
        whose first live decision came after that one (the tail after a snapshot)."""
        logins = self._logins(logins_since)
        pending = next(logins, None)
        # The latest time a transaction so far is folded at (capped as `fundwall.engine.core`
        # caps it; a snapshot's clock aside): a login goes before the first transaction folded
        # at or after its time.
        folded_to: datetime | None = None
        for logged in self._transactions(after_decision):
            ts = logged.event.ts
            if logged.decided_at is not None:
                ts = min(ts, logged.decided_at)
            folded_to = ts if folded_to is None else max(folded_to, ts)
            while pending is not None and pending.ts <= folded_to:
                yield pending
                pending = next(logins, None)
            yield logged
        if pending is not None:
            yield pending
            yield from logins

    def _transactions(self, after_decision: int | None) -> Iterator[Logged]:
        if after_decision is None:
            yield from self._read(
                select(*_EVENT_COLUMNS, literal(None), literal(None), literal(None))
                .where(~_DECIDED)
                .order_by(_TX.c.ts, _TX.c.tx_id)
            )
        yield from self._read(_decided(after_decision))

    def decided(self, tx_ids: Sequence[str]) -> list[Logged]:
        """The decided transactions among `tx_ids`, in log order (replicas fold with it what a
        replica that stopped mid-decision logged)."""
        found: list[Logged] = []
        for start in range(0, len(tx_ids), FETCH_ROWS):
            chunk = list(tx_ids[start : start + FETCH_ROWS])
            found.extend(self._read(_decided(None, chunk)))
        return sorted(found, key=lambda logged: logged.decision_id or 0)

    def _read(self, query: Select[Any]) -> Iterator[Logged]:
        with self.database.connect() as connection:
            result = connection.execution_options(yield_per=FETCH_ROWS).execute(query)
            for row in result:
                event = TxEvent(*row[:_EVENT_WIDTH])
                action, decision_id, decided_at = row[_EVENT_WIDTH:]
                yield Logged(
                    event, Action(action) if action is not None else None, decision_id, decided_at
                )

    def directory(self, keyring: Keyring | None) -> tuple[AccountDirectory, str]:
        """The account directory of the store and its digest (see the module docstring).

        Birth dates come from the encrypted ID numbers when `keyring` is given (the holder's
        age is a feature), else they are unknown."""
        undecided = ~_DECIDED
        flows = union_all(
            select(_TX.c.payer_account.label("account"), (-_TX.c.amount_fen).label("delta"))
            .where(_TX.c.payer_account.is_not(None), undecided),
            select(_TX.c.payee_account.label("account"), _TX.c.amount_fen.label("delta"))
            .where(_TX.c.payee_account.is_not(None), undecided),
        ).subquery()  # fmt: skip
        net = select(flows.c.account, func.sum(flows.c.delta)).group_by(flows.c.account)
        accounts_query = select(
            AccountRow.account_no,
            AccountRow.institution_code,
            AccountRow.party_id,
            AccountRow.account_class,
            AccountRow.opened_at,
            AccountRow.balance_fen,
        ).order_by(AccountRow.account_no)
        parties_query = select(
            PartyRow.party_id, PartyRow.kind, PartyRow.phone_hash, PartyRow.id_number_enc
        ).order_by(PartyRow.party_id)
        with self.database.connect() as connection:
            moved = {account: int(total) for account, total in connection.execute(net)}
            accounts = connection.execute(accounts_query).all()
            parties = connection.execute(parties_query).all()
        account_table = pa.table(
            {
                "account_no": pa.array([a[0] for a in accounts], pa.string()),
                "bank": pa.array([a[1] for a in accounts], pa.string()),
                "party_id": pa.array([a[2] for a in accounts], pa.string()),
                "account_class": pa.array([a[3] for a in accounts], pa.string()),
                "opened_at": pa.array([a[4] for a in accounts], pa.timestamp("us", tz="UTC")),
                "opening_balance_fen": pa.array(
                    [a[5] - moved.get(a[0], 0) for a in accounts], pa.int64()
                ),
            }
        )
        party_table = pa.table(
            {
                "party_id": pa.array([p[0] for p in parties], pa.string()),
                "phone_key": pa.array([p[2] for p in parties], pa.string()),
                "birth_date": pa.array([_birth(p[1], p[3], keyring) for p in parties], pa.date32()),
            }
        )
        directory = AccountDirectory.from_tables(account_table, party_table)
        digest = hashlib.sha256()
        for table in (account_table, party_table):
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            digest.update(sink.getvalue().to_pybytes())
        return directory, digest.hexdigest()

    def save_snapshot(
        self, state: bytes, history: int, last_decision_id: int, directory_digest: str
    ) -> None:
        """Keep `state` as the latest snapshot; older ones are deleted."""
        with self.database.begin() as connection:
            connection.execute(_SNAPSHOTS.delete())
            connection.execute(
                insert(_SNAPSHOTS),
                {
                    "taken_at": self.clock.now(),
                    "history": history,
                    "last_decision_id": last_decision_id,
                    "directory_digest": directory_digest,
                    "state": state,
                },
            )

    def latest_snapshot(self) -> Snapshot | None:
        query = select(_SNAPSHOTS).order_by(_SNAPSHOTS.c.id.desc()).limit(1)
        with self.database.connect() as connection:
            row = connection.execute(query).one_or_none()
        if row is None:
            return None
        return Snapshot(
            row.id, row.history, row.last_decision_id, row.directory_digest, bytes(row.state)
        )


class _Rows:
    """The rows of `table` as the decision log writes them, on the driver's cursor: the
    INSERT written once, each value converted by its column type's bind processor, so a row
    is stored as SQLAlchemy stores it without its compiling and parameter handling per
    statement (a third of a small group's write). On PostgreSQL a row is a JSON record
    instead (`record`), which the group's one statement turns back into rows."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect, mark: str) -> None:
        unknown = [name for name in columns if name not in table.c]
        missing = [
            c.name
            for c in table.columns
            if c.name not in columns and not c.nullable and c.autoincrement is not True
        ]
        if unknown or missing:
            raise ValueError(f"rows of {table.name}: unknown {unknown}, missing {missing}")
        self.table = table.name
        self.names = ", ".join(columns)
        self.sql = (
            f"INSERT INTO {table.name} ({self.names}) VALUES ({', '.join([mark] * len(columns))})"
        )
        self.columns = tuple(columns)
        self._values = itemgetter(*columns)
        processors = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        ]
        self._convert = [(i, p) for i, p in enumerate(processors) if p is not None]
        self._instants = [
            (name, processor)
            for name, processor in zip(columns, processors, strict=True)
            if isinstance(table.c[name].type, UtcDateTime) and processor is not None
        ]
        """The instants' columns and their bind processors (which refuse a naive time)."""

    def record(self, values: dict[str, Any]) -> dict[str, Any]:
        """The row of `values` as a JSON record (PostgreSQL): the instants as ISO text in
        UTC, which `timestamptz` reads exactly, a JSON column's value nested as it is."""
        record = dict(zip(self.columns, self._values(values), strict=True))
        for name, processor in self._instants:
            instant = processor(record[name])
            record[name] = None if instant is None else instant.isoformat()
        return record

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The row of `values` (a value for each of the columns), as the driver takes it."""
        row = list(self._values(values))
        for i, processor in self._convert:
            row[i] = processor(row[i])
        return tuple(row)


def _watch_of(rows: Sequence[Any]) -> Watch:
    """The head and the logged ids of the watch statement's rows (`DecisionLog._watch_sql`)."""
    head = int(rows[0][0] or 0) if rows else 0
    return Watch(head, frozenset(row[1] for row in rows if row[1] is not None))


def _group_statement(transactions: _Rows, decisions: _Rows, mark: str) -> str:
    """One statement that inserts a group's transactions and decisions, given as two JSON
    arrays of records (`_Rows.record`): one exchange with the server for the whole write. The
    decisions are numbered in the order given (the log's order, which a restart folds in)."""
    return (
        f"WITH logged AS (INSERT INTO {transactions.table} ({transactions.names}) "
        f"SELECT {transactions.names} "
        f"FROM json_populate_recordset(NULL::{transactions.table}, {mark}::json)) "
        f"INSERT INTO {decisions.table} ({decisions.names}) "
        f"SELECT {decisions.names} "
        f"FROM json_populate_recordset(NULL::{decisions.table}, {mark}::json) "
        f"WITH ORDINALITY AS given ORDER BY given.ordinality"
    )


def _json_insert(rows: _Rows, mark: str) -> str:
    """SQLite: an INSERT of `rows`' table whose rows are the arrays of one JSON array
    (`_Rows.row`'s values, in order: the decisions numbered in the order given)."""
    values = ", ".join(f"value ->> {i}" for i in range(len(rows.columns)))
    return (
        f"INSERT INTO {rows.table} ({rows.names}) "
        f"SELECT {values} FROM json_each({mark}) ORDER BY key"
    )


_IN_LOG_ALREADY: Final = (
    "a transaction of this call is in the log already, written by another process; the "
    "engine rebuilds from the log, send the call again"
)


def _decided(after_decision: int | None, tx_ids: list[str] | None = None) -> Select[Any]:
    """The decided transactions (of `tx_ids` only, when given) with their first live
    decision, after `after_decision`, in log order."""
    first = select(_DECISIONS.c.tx_id, func.min(_DECISIONS.c.id).label("first_id")).where(
        _DECISIONS.c.shadow.is_(False)
    )
    if tx_ids is not None:
        first = first.where(_DECISIONS.c.tx_id.in_(tx_ids))
    chosen = first.group_by(_DECISIONS.c.tx_id).subquery()
    return (
        select(*_EVENT_COLUMNS, _DECISIONS.c.action, _DECISIONS.c.id, _DECISIONS.c.decided_at)
        .select_from(chosen)
        .join(_DECISIONS, _DECISIONS.c.id == chosen.c.first_id)
        .join(_TX, _TX.c.tx_id == chosen.c.tx_id)
        .where(chosen.c.first_id > (after_decision or 0))
        .order_by(chosen.c.first_id)
    )


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _birth(kind: str, id_number_enc: bytes, keyring: Keyring | None) -> date | None:
    if keyring is None or kind != "person":
        return None
    return ResidentId(keyring.decrypt(id_number_enc)).birth_date
