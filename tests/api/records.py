"""JSON transactions for the API tests."""

from __future__ import annotations

from typing import Any


def record(tx_id: str = "T-1", amount_fen: int = 123_456, **changes: Any) -> dict[str, Any]:
    """A valid JSON transfer; `changes` replace or add members (None removes one)."""
    body: dict[str, Any] = {
        "tx_id": tx_id,
        "ts": "2024-05-01T09:30:00+08:00",
        "kind": "transfer",
        "payer_account": "6222020200112233445",
        "payee_account": "6228480010203040506",
        "payer_bank": "ICBC",
        "payee_bank": "ABC",
        "amount_fen": amount_fen,
        "channel": "mobile",
        "device_id": "IMEI-358240051111110",
        "ip": "203.0.113.7",
        "city": "Xiamen",
        "purpose": "rent",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def batch(count: int, amount_fen: int = 123_456) -> list[dict[str, Any]]:
    return [record(f"T-{index}", amount_fen + index) for index in range(count)]
