"""Small hand-made region tables for the account-feature tests, in the layout's schemas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa

from fundwall.models.account_features import AccountInputs, account_features
from fundwall.region import SCHEMAS, TS

T0: Final = 1_710_000_000_000_000
"""An arbitrary start, µs (March 2024)."""
MINUTE: Final = 60_000_000
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR


def _times(offsets: list[int]) -> pa.Array:
    return pa.array([T0 + offset for offset in offsets], pa.int64()).cast(TS)


@dataclass(frozen=True)
class Tx:
    at: int
    payer: str | None
    payee: str | None
    amount: int = 100_000
    device: str | None = None
    city: str | None = None


def transactions(rows: list[Tx]) -> pa.Table:
    kinds = [
        "deposit" if r.payer is None else "withdrawal" if r.payee is None else "transfer"
        for r in rows
    ]
    return pa.table(
        {
            "tx_id": [f"T{i:011d}" for i in range(1, len(rows) + 1)],
            "ts": _times([r.at for r in rows]),
            "kind": kinds,
            "payer_account": [r.payer for r in rows],
            "payer_bank": ["301" if r.payer else None for r in rows],
            "payee_account": [r.payee for r in rows],
            "payee_bank": ["302" if r.payee else None for r in rows],
            "amount_fen": pa.array([r.amount for r in rows], pa.int64()),
            "channel": ["mobile"] * len(rows),
            "device_id": [r.device for r in rows],
            "ip": [None] * len(rows),
            "city": [r.city for r in rows],
            "purpose": [None] * len(rows),
        },
        schema=SCHEMAS["transactions"],
    )


@dataclass(frozen=True)
class Account:
    number: str
    party: str
    opened: int = -400 * DAY
    klass: str = "I"
    bank: str = "301"
    balance: int = 0
    channel: str | None = "counter"
    device: str | None = None
    agent: str | None = None


def accounts(rows: list[Account]) -> pa.Table:
    n = len(rows)
    return pa.table(
        {
            "account_no": [r.number for r in rows],
            "bank": [r.bank for r in rows],
            "party_id": [r.party for r in rows],
            "account_class": [r.klass for r in rows],
            "status": ["normal"] * n,
            "risk_tier": ["low"] * n,
            "opened_at": _times([r.opened for r in rows]),
            "opening_channel": [r.channel for r in rows],
            "opening_device_id": [r.device for r in rows],
            "opening_agent": [r.agent for r in rows],
            "bound_account": [None] * n,
            "opening_balance_fen": pa.array([r.balance for r in rows], pa.int64()),
            "last_active_at": pa.nulls(n, TS),
        },
        schema=SCHEMAS["accounts"],
    )


def parties(phones: dict[str, str]) -> pa.Table:
    """One person per party id, with the phone given."""
    n = len(phones)
    return pa.table(
        {
            "party_id": list(phones),
            "kind": ["person"] * n,
            "name": ["某某"] * n,
            "id_number": ["350203199001011234"] * n,
            "phone": list(phones.values()),
            "birth_date": pa.nulls(n, pa.date32()),
            "sex": [None] * n,
            "region_code": ["350203"] * n,
            "home_district": ["350203"] * n,
            "owner_party_id": [None] * n,
        },
        schema=SCHEMAS["parties"],
    )


@dataclass(frozen=True)
class Login:
    at: int
    account: str
    device: str
    city: str = "Xiamen"
    face_check: str = "not_done"


def logins(rows: list[Login]) -> pa.Table:
    n = len(rows)
    return pa.table(
        {
            "login_id": [f"L{i:010d}" for i in range(1, n + 1)],
            "ts": _times([r.at for r in rows]),
            "account_no": [r.account for r in rows],
            "bank": ["301"] * n,
            "device_id": [r.device for r in rows],
            "ip": ["117.28.0.1"] * n,
            "city": [r.city for r in rows],
            "channel": ["mobile"] * n,
            "face_check": [r.face_check for r in rows],
            "success": [r.face_check not in ("failed", "mismatch") for r in rows],
        },
        schema=SCHEMAS["logins"],
    )


def features_of(
    inputs: AccountInputs, *, until: int | None = None, seeds: tuple[str, ...] = ()
) -> dict[str, dict[str, float]]:
    """account → feature → value, at T0 + `until` (None: after everything)."""
    table = account_features(inputs, until_us=None if until is None else T0 + until, seeds=seeds)
    names = table.column_names[1:]
    values = np.column_stack([table[name].to_numpy() for name in names])
    return {
        account: dict(zip(names, row.tolist(), strict=True))
        for account, row in zip(table["account_no"].to_pylist(), values, strict=True)
    }
