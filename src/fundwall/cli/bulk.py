"""`--engine` and `--master`: where the bulk commands (replay, backtest, train, trace
--evaluate, screen --evaluate) compute. One machine by default; `--engine spark` on Apache
Spark (docs/scale.md).

Light at import (typer reads the options when a command's help is shown); the engine and
PySpark are imported when a command builds what it computes with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from fundwall.domain.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from fundwall.engine.replay import BulkFeatures
    from fundwall.screening.base import Activity
    from fundwall.tracing.region import ReportMap


class BulkEngine(StrEnum):
    LOCAL = "local"
    """This machine's compiled passes."""
    SPARK = "spark"
    """Apache Spark (PySpark), local[2] unless --master names a cluster."""


EngineOption = Annotated[
    BulkEngine,
    typer.Option(help="Where the bulk work runs: this machine, or Apache Spark (docs/scale.md)."),
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        help="The Spark master with --engine spark: local[N] (default local[2]), "
        "spark://HOST:7077, yarn, k8s://https://HOST:443."
    ),
]


@contextmanager
def _spark(engine: BulkEngine, master: str | None) -> Iterator[SparkSession | None]:
    """A SparkSession on the master asked for (local[2] by default) with `--engine spark`,
    None for this machine; InvalidInput for --master without it."""
    if engine is BulkEngine.LOCAL:
        if master is not None:
            raise InvalidInput("--master goes with --engine spark", "master")
        yield None
        return
    from fundwall.spark.session import DEFAULT_MASTER, opened_session

    with opened_session(master if master is not None else DEFAULT_MASTER) as session:
        yield session


@contextmanager
def bulk_features(engine: BulkEngine, master: str | None) -> Iterator[BulkFeatures]:
    """What computes the feature columns of replay, backtest and training for `engine`."""
    from fundwall.engine.replay import LOCAL

    with _spark(engine, master) as session:
        if session is None:
            yield LOCAL
            return
        from fundwall.spark.features import SparkFeatures

        # A backtest of two packs replays one region twice: its features are computed once.
        features = SparkFeatures(session, reuse=True)
        try:
            yield features
        finally:
            features.close()


@contextmanager
def report_map(engine: BulkEngine, master: str | None) -> Iterator[ReportMap]:
    """What traces a region's reports one by one for `engine` (trace --evaluate)."""
    from fundwall.tracing.region import each_report

    with _spark(engine, master) as session:
        if session is None:
            yield each_report
            return
        from fundwall.spark.reports import SparkReports

        yield SparkReports(session)


@contextmanager
def account_activity(engine: BulkEngine, master: str | None) -> Iterator[Activity]:
    """What computes the accounts' activity of screen --evaluate for `engine`."""
    from fundwall.screening.base import region_activity

    with _spark(engine, master) as session:
        if session is None:
            yield region_activity
            return
        from fundwall.spark.screening import SparkActivity

        yield SparkActivity(session)
