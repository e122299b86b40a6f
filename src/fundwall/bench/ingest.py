"""Reading and validating a bank's file of transactions: `read_transactions` on a Parquet
upload of made-up but valid rows (a few thousand accounts, two banks), timed.

Every row is checked as any upload is (`fundwall.ingest.tabular`); the rate is rows read,
validated and converted per second.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fundwall.ingest.tabular import read_transactions


def upload(rows: int) -> pa.Table:
    """`rows` valid transfers in the upload format (amounts in yuan as text)."""
    return pa.table(
        {
            "tx_id": [f"T{i}" for i in range(rows)],
            "ts": ["2024-05-01T09:30:00+08:00"] * rows,
            "kind": ["transfer"] * rows,
            "payer_account": [f"62220202{i % 5000:08d}" for i in range(rows)],
            "payee_account": [f"62284800{i % 7000:08d}" for i in range(rows)],
            "payer_bank": ["ICBC"] * rows,
            "payee_bank": ["ABC"] * rows,
            "amount": [f"{i % 100000 + 1}.{i % 100:02d}" for i in range(rows)],
            "channel": ["mobile"] * rows,
            "ip": [f"10.0.{i % 256}.{i % 199}" for i in range(rows)],
        }
    )


def measure_ingest(rows: int) -> dict[str, object]:
    """Time `read_transactions` on a Parquet file of `rows` rows."""
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-ingest-") as folder:
        path = Path(folder) / "upload.parquet"
        pq.write_table(upload(rows), path)
        started = time.perf_counter()
        read = read_transactions(path).num_rows
        seconds = time.perf_counter() - started
    if read != rows:
        raise RuntimeError(f"read {read} of {rows} rows")
    return {
        "ingest_rows": rows,
        "ingest_seconds": round(seconds, 3),
        "ingest_rows_per_s": round(rows / seconds),
    }
