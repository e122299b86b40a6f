"""What SQLite's part of the durable decision log costs a row, by variant of the schema: the
`transactions` and `decisions` tables as the store creates them, written by `sqlite3` alone in
groups as the committer writes them, with a passive checkpoint now and then as the server's
checkpoint thread does.

    .venv/bin/python benchmarks/sqlite_log_bench.py
    .venv/bin/python benchmarks/sqlite_log_bench.py --prefill 300000 --rows 30000

Each variant starts from a new file in a scratch folder, fills it with `--prefill` rows in
large groups, then times `--rows` rows in groups of `--group` (CPU time of this process a
row). The rows are random transfers between `--accounts` accounts, so the account indexes
take each row at a random place, as a region's do. Prints one JSON object: µs a row by
variant.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from fundwall.store.tables import DecisionRow, TransactionRow

CHECKPOINT_GROUPS = 100
"""A passive checkpoint after this many groups (the server's thread runs one a second)."""


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    page_size: int = 4096
    cache_kib: int = 2000
    mmap_bytes: int = 0
    without: tuple[str, ...] = ()
    """Indexes left out, by the column names they start with ("table.column")."""
    group: int = 0
    """Rows a group (0: the run's `--group`)."""


VARIANTS = (
    Variant("as the schema is"),
    Variant("pages of 1 KiB", page_size=1024),
    Variant("a cache of 64 MB", cache_kib=65536),
    Variant("256 MB mapped", mmap_bytes=1 << 28),
    Variant(
        "without the account indexes of transactions",
        without=("transactions.payer_account", "transactions.payee_account"),
    ),
    Variant(
        "without the secondary indexes of transactions",
        without=(
            "transactions.ts",
            "transactions.payer_account",
            "transactions.payee_account",
            "transactions.payer_bank",
            "transactions.payee_bank",
        ),
    ),
    Variant("without the index of decisions on tx_id", without=("decisions.tx_id",)),
    Variant("groups of 64", group=64),
)


def schema(without: tuple[str, ...]) -> list[str]:
    """The two tables' DDL for SQLite, less the indexes `without` names."""
    dialect = sqlite.dialect()
    statements = []
    for table in (TransactionRow.__table__, DecisionRow.__table__):
        statements.append(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            first = next(iter(index.columns))
            if f"{table.name}.{first.name}" not in without:
                statements.append(str(CreateIndex(index).compile(dialect=dialect)))
    return statements


def rows(accounts: int, seed: int) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    """Endless (transaction, decision) rows in time order between random accounts."""
    chance = random.Random(seed)
    numbers = [f"62{chance.randrange(10**14):014d}" for _ in range(accounts)]
    banks = [str(300 + i) for i in range(30)]
    serial = 0
    while True:
        serial += 1
        seconds, micros = divmod(serial * 1000, 1_000_000)
        days, seconds = divmod(seconds, 86_400)
        ts = f"2024-{1 + days // 28:02d}-{1 + days % 28:02d} {seconds // 3600:02d}:"
        ts += f"{seconds // 60 % 60:02d}:{seconds % 60:02d}.{micros:06d}"
        tx_id = f"s-{chance.randrange(10**9)}-{serial}"
        payer, payee = chance.choice(numbers), chance.choice(numbers)
        payer_bank, payee_bank = chance.choice(banks), chance.choice(banks)
        transaction = (tx_id, ts, "transfer", payer, payee, payer_bank, payee_bank, 12_345)
        yield (
            (*transaction, "mobile", "dev-0a1b2c3d", "10.1.2.3", "Shenzhen", None),
            (tx_id, "pass", 0, "[]", "default-1", None, 1_200, 0, ts),
        )


TX_INSERT = "INSERT INTO transactions VALUES (" + ", ".join(["?"] * 13) + ")"
DECISION_INSERT = (
    "INSERT INTO decisions (tx_id, action, score, reasons, pack_version, model_version, "
    "latency_us, shadow, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def write(connection: sqlite3.Connection, source: Iterator[tuple], count: int, group: int) -> None:
    for number in range(0, count, group):
        made = [next(source) for _ in range(group)]
        connection.execute("BEGIN")
        connection.executemany(TX_INSERT, [tx for tx, _ in made])
        connection.executemany(DECISION_INSERT, [decision for _, decision in made])
        connection.execute("COMMIT")
        if (number // group) % CHECKPOINT_GROUPS == CHECKPOINT_GROUPS - 1:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


def measure(variant: Variant, folder: Path, args: argparse.Namespace) -> float:
    """CPU µs a row of `args.rows` rows written into a new file of `variant`."""
    connection = sqlite3.connect(folder / f"{len(list(folder.iterdir()))}.db", isolation_level=None)
    for pragma in (
        f"page_size={variant.page_size}",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "wal_autocheckpoint=0",
        f"cache_size=-{variant.cache_kib}",
        f"mmap_size={variant.mmap_bytes}",
    ):
        connection.execute(f"PRAGMA {pragma}")
    for statement in schema(variant.without):
        connection.execute(statement)
    source = rows(args.accounts, args.seed)
    if args.prefill:
        write(connection, source, args.prefill, 5_000)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    started = time.process_time()
    write(connection, source, args.rows, variant.group or args.group)
    spent = time.process_time() - started
    connection.close()
    return round(spent / args.rows * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--prefill", type=int, default=0)
    parser.add_argument("--group", type=int, default=16)
    parser.add_argument("--accounts", type=int, default=42_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fundwall-sqlite-log-") as scratch:
        figures = {variant.name: measure(variant, Path(scratch), args) for variant in VARIANTS}
    print(json.dumps({"prefill": args.prefill, "group": args.group, "us_a_row": figures}, indent=1))


if __name__ == "__main__":
    main()
