"""Builders shared by the feature tests: transaction tables, directories, random streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import pyarrow as pa
from hypothesis import strategies as st

from fundwall.domain.devices import FaceCheck, LoginEvent
from fundwall.engine.features import AccountDirectory, OnlineFeatureState, TxEvent, compute_bulk
from fundwall.engine.features.catalog import WINDOWS
from fundwall.region import SCHEMAS, TRANSACTIONS

T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)


class Run(Protocol):
    """Feature rows of a stream of transactions (and the accounts' logins), computed by one
    of the two executions."""

    def __call__(
        self,
        events: Sequence[TxEvent],
        directory: AccountDirectory,
        logins: Sequence[LoginEvent] = (),
    ) -> list[dict[str, object]]: ...


TX_SCHEMA = TRANSACTIONS
"""The columns of transactions.parquet, as the region layout declares them."""


def tx(
    seconds: float,
    payer: str | None,
    payee: str | None,
    amount: int,
    *,
    kind: str | None = None,
    channel: str = "mobile",
    device: str | None = None,
    ip: str | None = None,
    city: str | None = None,
    payer_bank: str | None = "301",
    payee_bank: str | None = "301",
    tx_id: str | None = None,
) -> TxEvent:
    """A transaction `seconds` after T0; the kind follows from which side is missing."""
    if kind is None:
        kind = "deposit" if payer is None else "withdrawal" if payee is None else "transfer"
    return TxEvent(
        tx_id=tx_id or f"t{seconds}-{payer}-{payee}-{amount}",
        ts=T0 + timedelta(seconds=seconds),
        kind=kind,
        payer_account=payer,
        payee_account=payee,
        payer_bank=payer_bank if payer is not None else None,
        payee_bank=payee_bank if payee is not None else None,
        amount_fen=amount,
        channel=channel,
        device_id=device,
        ip=ip,
        city=city,
    )


def table_of(events: Sequence[TxEvent]) -> pa.Table:
    columns = {name: [getattr(e, name, None) for e in events] for name in TX_SCHEMA.names}
    return pa.table(columns, schema=TX_SCHEMA)


def login(
    seconds: float,
    account: str,
    device: str | None = None,
    face: str = "not_done",
    *,
    login_id: str | None = None,
) -> LoginEvent:
    """A login to `account` `seconds` after T0."""
    return LoginEvent(
        login_id or f"L{seconds}-{account}-{device}-{face}",
        account,
        T0 + timedelta(seconds=seconds),
        device,
        None,
        None,
        FaceCheck(face),
    )


def logins_table(logins: Sequence[LoginEvent]) -> pa.Table:
    """The logins as logins.parquet holds them."""
    schema = SCHEMAS["logins"]
    values = {
        "login_id": [each.event_id for each in logins],
        "ts": [each.ts for each in logins],
        "account_no": [each.account_no for each in logins],
        "bank": ["301"] * len(logins),
        "device_id": [each.device_id for each in logins],
        "ip": [each.ip for each in logins],
        "city": [each.city for each in logins],
        "channel": ["mobile"] * len(logins),
        "face_check": [each.face_check.value for each in logins],
        "success": [each.face_check.value not in ("failed", "mismatch") for each in logins],
    }
    return pa.table(values, schema=schema)


def directory_of(
    accounts: Sequence[tuple[str, str, str | None, str, datetime, int]],
    parties: Sequence[tuple[str, str | None, date | None]],
    last_active: dict[str, datetime] | None = None,
) -> AccountDirectory:
    """accounts: (account_no, bank, party_id, class, opened_at, opening balance);
    parties: (party_id, phone_key, birth_date); last_active: account → activity before."""
    names = ("account_no", "bank", "party_id", "account_class", "opened_at", "opening_balance_fen")
    account_table = pa.table(
        {name: [row[i] for row in accounts] for i, name in enumerate(names)},
        schema=pa.schema(
            [
                ("account_no", pa.string()),
                ("bank", pa.string()),
                ("party_id", pa.string()),
                ("account_class", pa.string()),
                ("opened_at", pa.timestamp("us", tz="UTC")),
                ("opening_balance_fen", pa.int64()),
            ]
        ),
    )
    if last_active is not None:
        account_table = account_table.append_column(
            "last_active_at",
            pa.array([last_active.get(row[0]) for row in accounts], pa.timestamp("us", tz="UTC")),
        )
    party_table = pa.table(
        {
            "party_id": pa.array([p[0] for p in parties], pa.string()),
            "phone_key": pa.array([p[1] for p in parties], pa.string()),
            "birth_date": pa.array([p[2] for p in parties], pa.date32()),
        }
    )
    return AccountDirectory.from_tables(account_table, party_table)


# Random streams: few entities so they collide, time steps that often land exactly on a
# window edge or repeat a timestamp, every kind, null devices/IPs/cities, extreme amounts.
_EDGES = sorted({0, 1} | {w.micros for w in WINDOWS} | {w.micros - 1 for w in WINDOWS})
ACCOUNTS = [f"A{i}" for i in range(7)]
_steps = st.one_of(st.sampled_from(_EDGES), st.integers(0, 40 * 86_400 * 1_000_000))
_amounts = st.one_of(st.integers(1, 1000), st.integers(1, 2**62 // 4096), st.just(1))


@st.composite
def streams(draw: st.DrawFn) -> list[TxEvent]:
    n = draw(st.integers(0, 60))
    now = T0
    events = []
    for i in range(n):
        now += timedelta(microseconds=draw(_steps))
        kind = draw(st.sampled_from(["transfer", "transfer", "transfer", "withdrawal", "deposit"]))
        payer = None if kind == "deposit" else draw(st.sampled_from(ACCOUNTS))
        payee = None if kind == "withdrawal" else draw(st.sampled_from([*ACCOUNTS, "EXT9"]))
        events.append(
            TxEvent(
                tx_id=f"r{i}",
                ts=now,
                kind=kind,
                payer_account=payer,
                payee_account=payee,
                payer_bank=None if payer is None else draw(st.sampled_from(["301", "302"])),
                payee_bank=None if payee is None else draw(st.sampled_from(["301", "302", "999"])),
                amount_fen=draw(_amounts),
                channel=draw(st.sampled_from(["counter", "atm", "mobile", "online", "pos"])),
                device_id=draw(st.sampled_from([None, "D1", "D2", "D3"])),
                ip=draw(st.sampled_from([None, "10.0.0.1", "10.0.0.2"])),
                city=draw(st.sampled_from([None, "Xiamen", "Fuzhou", "Shenzhen"])),
            )
        )
    return events


_LOGIN_OFFSETS = st.one_of(
    st.sampled_from([0, -1, 1] + [-w.micros for w in WINDOWS] + [-w.micros - 1 for w in WINDOWS]),
    st.integers(-10 * 86_400 * 1_000_000, 10 * 86_400 * 1_000_000),
)


@st.composite
def logins_for(draw: st.DrawFn, events: Sequence[TxEvent]) -> list[LoginEvent]:
    """Logins of the streams' accounts, most of them at or near a transaction's time (on the
    µs, one µs off, a window's length before), on the streams' devices and new ones, with every
    face check; in time order."""
    n = draw(st.integers(0, 40))
    anchors = [e.ts for e in events] or [T0]
    logins = []
    for i in range(n):
        moment = draw(st.sampled_from(anchors)) + timedelta(microseconds=draw(_LOGIN_OFFSETS))
        logins.append(
            LoginEvent(
                f"l{i}",
                draw(st.sampled_from([*ACCOUNTS, "EXT9"])),
                moment,
                draw(st.sampled_from([None, "D1", "D2", "D3", "D4"])),
                None,
                None,
                draw(st.sampled_from(list(FaceCheck))),
            )
        )
    return sorted(logins, key=lambda each: each.ts)


@st.composite
def streams_with_logins(draw: st.DrawFn) -> tuple[list[TxEvent], list[LoginEvent]]:
    events = draw(streams())
    return events, draw(logins_for(events))


def random_directory() -> AccountDirectory:
    """Directory for `streams()`: A0–A5 known (A6 and EXT9 are not), parties with shared
    phones, one firm without birth date, accounts opened inside the streams' time span."""
    day = timedelta(days=1)
    return directory_of(
        [
            ("A0", "301", "P0", "I", T0 - 400 * day, 10_000),
            ("A1", "302", "P0", "II", T0 + 3 * day, 0),
            ("A2", "301", "P1", "III", T0 - 2 * day, 5_000_000),
            ("A3", "303", "P1", "I", T0 + 10 * day, 2**40),
            ("A4", "301", "P2", "corporate", T0 - 30 * day, 0),
            ("A5", "302", "P3", "II", T0 + 40 * day, 123),
        ],
        [
            ("P0", "phone-a", date(1950, 3, 4)),
            ("P1", "phone-a", date(2000, 2, 29)),
            ("P2", None, None),
            ("P3", "phone-b", date(1990, 12, 31)),
        ],
    )


def in_time_order(
    events: Sequence[TxEvent], logins: Sequence[LoginEvent]
) -> list[TxEvent | LoginEvent]:
    """Transactions and logins merged by time, a login before a transaction of the same µs."""
    keyed = [(e.ts, 1, i, e) for i, e in enumerate(events)]
    keyed += [(each.ts, 0, i, each) for i, each in enumerate(logins)]
    return [item for *_, item in sorted(keyed, key=lambda k: k[:3])]


def run_online(
    events: Sequence[TxEvent], directory: AccountDirectory, logins: Sequence[LoginEvent] = ()
) -> list[dict[str, object]]:
    """Transactions and logins fed to the online state in time order."""
    state = OnlineFeatureState(directory)
    rows = []
    for item in in_time_order(events, logins):
        if isinstance(item, LoginEvent):
            state.observe_login(item)
        else:
            rows.append(dict(state.observe(item).as_dict()))
    return rows


def run_online_batches(
    events: Sequence[TxEvent], directory: AccountDirectory, logins: Sequence[LoginEvent] = ()
) -> list[dict[str, object]]:
    """As `run_online`, each run of transactions between two logins taken in one batch
    (`OnlineFeatureState.observe_many`)."""
    state = OnlineFeatureState(directory)
    rows: list[dict[str, object]] = []
    batch: list[TxEvent] = []
    for item in [*in_time_order(events, logins), None]:
        if isinstance(item, TxEvent):
            batch.append(item)
            continue
        rows += [vector.as_dict() for vector in state.observe_many(batch)]
        batch = []
        if item is not None:
            state.observe_login(item)
    return rows


def run_bulk(
    events: Sequence[TxEvent], directory: AccountDirectory, logins: Sequence[LoginEvent] = ()
) -> list[dict[str, object]]:
    # Batches of 2 rows, so state crossing batch boundaries is exercised by every test.
    rows: list[dict[str, object]] = compute_bulk(
        table_of(events), directory, logins=logins_table(logins), batch_rows=2
    ).to_pylist()
    return rows
