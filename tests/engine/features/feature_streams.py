"""Builders shared by the feature tests: transaction tables, directories, random streams."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
from hypothesis import strategies as st

from fundwall.engine.features import AccountDirectory, OnlineFeatureState, TxEvent, compute_bulk
from fundwall.engine.features.catalog import WINDOWS
from fundwall.region import TRANSACTIONS

T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)

Run = Callable[[Sequence[TxEvent], AccountDirectory], list[dict[str, object]]]
"""Feature rows of a stream of transactions, computed by one of the two executions."""

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


def run_online(events: Sequence[TxEvent], directory: AccountDirectory) -> list[dict[str, object]]:
    state = OnlineFeatureState(directory)
    return [dict(state.observe(event).as_dict()) for event in events]


def run_bulk(events: Sequence[TxEvent], directory: AccountDirectory) -> list[dict[str, object]]:
    # Batches of 3 rows, so state crossing batch boundaries is exercised by every test.
    rows: list[dict[str, object]] = compute_bulk(
        table_of(events), directory, batch_rows=2
    ).to_pylist()
    return rows
