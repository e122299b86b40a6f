"""Transactions under construction: numpy columns appended in chunks, joined once.

Categorical columns are small integer codes whose names live in the tuples below; the writer
turns codes into strings only when it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

KINDS = ("transfer", "withdrawal", "deposit")
TRANSFER, WITHDRAWAL, DEPOSIT = 0, 1, 2
CHANNELS = ("counter", "atm", "mobile", "online", "pos")
COUNTER, ATM, MOBILE, ONLINE, POS = 0, 1, 2, 3, 4
ROLES = ("normal", "victim_payment", "layering", "cash_out", "collection", "forwarding")
NORMAL, VICTIM_PAYMENT, LAYERING, CASH_OUT, COLLECTION, FORWARDING = range(6)
"""`victim_payment`, `layering` and `cash_out` move a scam's money; `collection` and
`forwarding` a 跑分 network's."""
PURPOSES = (
    "salary",
    "pension",
    "rent",
    "utilities",
    "shopping",
    "family",
    "cash withdrawal",
    "cash deposit",
    "supplier payment",
    "house deposit",
    "business payment",
    "gift to relative",
    "top-up",
    "safe account",
    "investment",
    "deposit",
    "refund fee",
    "task order",
    "loan fee",
    "goods",
)
P = {name: i for i, name in enumerate(PURPOSES)}

DTYPES: dict[str, Any] = {
    "ts": np.int64,
    "kind": np.int8,
    "payer": np.int32,
    "payee": np.int32,
    "amount": np.int64,
    "channel": np.int8,
    "device": np.int32,
    "city": np.int8,
    "purpose": np.int8,
    "role": np.int8,
    "scam": np.int32,
}
"""Narrow types keep ten million rows in a few hundred megabytes."""
COLUMNS = tuple(DTYPES)
Column = npt.NDArray[Any]


@dataclass(slots=True)
class TxBuffer:
    """Chunks of transaction columns (−1 means none)."""

    chunks: dict[str, list[Column]] = field(default_factory=lambda: {c: [] for c in COLUMNS})

    def add(
        self,
        ts: I64,
        *,
        kind: int | I64,
        payer: int | I64,
        payee: int | I64,
        amount: I64,
        channel: int | I64,
        device: int | I64 = -1,
        city: int | I64 = 0,
        purpose: int | I64 = -1,
        role: int | I64 = NORMAL,
        scam: int | I64 = -1,
    ) -> None:
        """Append one chunk; scalars are broadcast to the chunk's length."""
        n = len(ts)
        values = {
            "ts": ts,
            "kind": kind,
            "payer": payer,
            "payee": payee,
            "amount": amount,
            "channel": channel,
            "device": device,
            "city": city,
            "purpose": purpose,
            "role": role,
            "scam": scam,
        }
        for name, value in values.items():
            column = np.broadcast_to(np.asarray(value).astype(DTYPES[name]), (n,))
            self.chunks[name].append(np.ascontiguousarray(column))

    def add_rows(self, rows: list[tuple[int, ...]]) -> None:
        """Append single transactions given as tuples in COLUMNS order (for the few
        thousand scam transfers, which are made one at a time)."""
        if not rows:
            return
        table = np.array(rows, dtype=np.int64)
        for k, name in enumerate(COLUMNS):
            self.chunks[name].append(table[:, k].astype(DTYPES[name]))

    def extend(self, other: TxBuffer) -> None:
        for name in COLUMNS:
            self.chunks[name].extend(other.chunks[name])

    def columns(self) -> dict[str, Column]:
        """The chunks joined, in the order they were added; the buffer is emptied."""
        out = {
            name: np.concatenate(parts) if parts else np.empty(0, dtype=DTYPES[name])
            for name, parts in self.chunks.items()
        }
        self.chunks = {c: [] for c in COLUMNS}
        return out
