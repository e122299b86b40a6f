"""The accounts' activity for account-base screening on Spark (`fundwall screen --evaluate
DIR --engine spark`).

The one pass over every transaction that screening makes (what each account paid and
received, its last payment and cash deposit up to the moment) is two group-bys, which Spark
runs over the transactions' Parquet on its executors; one row per account comes back to the
checks, which read the account base as columns here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import TransactionKind
from fundwall.region import TS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class SparkActivity:
    """`fundwall.screening.base.Activity` on a SparkSession."""

    session: SparkSession

    def __call__(self, folder: Path, moment: datetime) -> pl.DataFrame:
        from pyspark.sql import functions as fn

        file = folder / "transactions.parquet"
        if not file.is_file():
            raise InvalidInput(f"{folder} has no transactions.parquet", "folder")
        history = self.session.read.parquet(str(file)).where(fn.col("ts") <= fn.lit(moment))
        paid = history.groupBy(fn.col("payer_account").alias("account_no")).agg(
            fn.sum("amount_fen").alias("out"), fn.max("ts").alias("paid")
        )
        deposit = fn.col("kind") == TransactionKind.DEPOSIT.value
        received = history.groupBy(fn.col("payee_account").alias("account_no")).agg(
            fn.sum("amount_fen").alias("in"), fn.max(fn.when(deposit, fn.col("ts"))).alias("cash")
        )
        # Accounts named on both sides meet in one row; the sides' missing key (a deposit's
        # payer, a withdrawal's payee) matches nothing, as in the region's own tables.
        joined = paid.join(received, on="account_no", how="full")
        frame = pl.from_arrow(joined.toArrow())
        assert isinstance(frame, pl.DataFrame)
        when = pl.Datetime(TS.unit, TS.tz)
        return frame.with_columns(
            pl.col("out").cast(pl.Int64),
            pl.col("in").cast(pl.Int64),
            pl.col("paid").cast(when),
            pl.col("cash").cast(when),
        )
