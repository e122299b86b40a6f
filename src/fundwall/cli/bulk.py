"""`--engine` and `--master`: where the bulk commands (replay, backtest, train, trace
--evaluate) compute. One machine by default; `--engine spark` on Apache Spark (docs/scale.md).

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
    from fundwall.engine.replay import BulkFeatures
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


def _master(engine: BulkEngine, master: str | None) -> str | None:
    """The Spark master to use, None for this machine; InvalidInput for --master alone."""
    if engine is BulkEngine.LOCAL:
        if master is not None:
            raise InvalidInput("--master goes with --engine spark", "master")
        return None
    from fundwall.spark.session import DEFAULT_MASTER

    return master if master is not None else DEFAULT_MASTER


@contextmanager
def bulk_features(engine: BulkEngine, master: str | None) -> Iterator[BulkFeatures]:
    """What computes the feature columns for `engine` (on Spark, in a session of its own
    unless one is running)."""
    from fundwall.engine.replay import LOCAL

    spark_master = _master(engine, master)
    if spark_master is None:
        yield LOCAL
        return
    from fundwall.spark.features import SparkFeatures
    from fundwall.spark.session import opened_session

    with opened_session(spark_master) as session:
        yield SparkFeatures(session)


@contextmanager
def report_map(engine: BulkEngine, master: str | None) -> Iterator[ReportMap]:
    """What maps a trace over a region's reports for `engine` (trace --evaluate)."""
    from fundwall.tracing.region import each_report

    spark_master = _master(engine, master)
    if spark_master is None:
        yield each_report
        return
    from fundwall.spark.reports import SparkReports
    from fundwall.spark.session import opened_session

    with opened_session(spark_master) as session:
        yield SparkReports(session)
