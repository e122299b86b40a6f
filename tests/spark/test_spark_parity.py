"""The bulk work on Apache Spark gives what one machine gives (docs/scale.md).

On the small simulated region (`fundwall sim --size small`, half a million transactions),
Spark in local mode computes every feature of every transaction equal to the single-machine
pass, bit for bit (floats included), and replay over those features makes the same decisions:
the hard controls run in the final pass in time order on the driver, so nothing is
approximated. The other bulk work (trace evaluation, screening's activity, the refusals) is
compared on the tiny region: it is the same code at any size, and the small region's size
is the parity test's own point.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fundwall.config import PolicySettings
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import AccountDirectory
from fundwall.engine.replay import region_features, replay
from fundwall.screening.base import period_end, region_activity
from fundwall.screening.evaluation import evaluate_region
from fundwall.spark.features import SparkFeatures, role_columns
from fundwall.spark.reports import SparkReports
from fundwall.spark.screening import SparkActivity
from fundwall.tracing.model import DEFAULT_RULE
from fundwall.tracing.region import evaluate

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# One worker runs every Spark test (make test: --dist loadgroup), so one JVM starts.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]


def test_every_column_is_owned_by_exactly_one_role() -> None:
    owned = sorted(int(k) for columns in role_columns().values() for k in columns)
    assert owned == list(range(len(owned)))


def test_features_and_decisions_on_spark_equal_one_machines(
    spark: SparkSession, small_region: Path
) -> None:
    # Every feature is compared (a replay asks for those its pack reads), computed once on
    # Spark for both calls.
    on_spark = SparkFeatures(spark, reuse=True)
    try:
        mine = pa.Table.from_batches(list(region_features(small_region)[1]))
        theirs = pa.Table.from_batches(list(region_features(small_region, features=on_spark)[1]))
        decided = replay(small_region, features=on_spark)
    finally:
        on_spark.close()
    assert mine.num_rows == 498_022
    assert theirs.schema == mine.schema
    differing = [name for name in mine.column_names if not mine[name].equals(theirs[name])]
    assert not differing, f"features that differ on Spark: {differing}"
    assert decided.equals(replay(small_region))
    # The region has blocks and controls to agree on, not only passes.
    actions = set(decided["action"].cast(pa.string()).to_pylist())
    assert {"pass", "block"} <= actions


def test_trace_evaluation_on_spark_scores_every_report_alike(
    spark: SparkSession, tiny_region: Path
) -> None:
    from datetime import UTC, datetime

    as_of = datetime(2100, 1, 1, tzinfo=UTC)
    here = evaluate(tiny_region, DEFAULT_RULE, as_of)
    there = evaluate(tiny_region, DEFAULT_RULE, as_of, SparkReports(spark))
    timings = ("p50_ms", "p99_ms")
    assert {k: v for k, v in there.items() if k not in timings} == {
        k: v for k, v in here.items() if k not in timings
    }
    assert here["reports"] > 0


def test_a_file_whose_time_goes_back_is_refused_naming_the_transaction(
    spark: SparkSession, tiny_region: Path, tmp_path: Path
) -> None:
    table = pq.read_table(tiny_region / "transactions.parquet").slice(0, 100)
    ts = table["ts"].to_pylist()
    k = next(i for i in range(len(ts) - 1) if ts[i] < ts[i + 1])
    swapped = pa.concat_tables(
        [table.slice(0, k), table.slice(k + 1, 1), table.slice(k, 1), table.slice(k + 2)]
    )
    path = tmp_path / "late.parquet"
    pq.write_table(swapped, path)
    with pytest.raises(InvalidInput, match="time order") as refused:
        next(region_features(path, features=SparkFeatures(spark))[1])
    assert refused.value.record == table["tx_id"][k].as_py()


def test_a_csv_file_is_refused_with_what_spark_reads(spark: SparkSession, tmp_path: Path) -> None:
    path = tmp_path / "transactions.csv"
    path.write_text("tx_id,ts\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="reads Parquet"):
        next(SparkFeatures(spark)(path, pa.table({}), AccountDirectory.empty(), None,
                                  batch_rows=10, encoded=None, wanted=None))  # fmt: skip


def test_screening_reads_the_same_activity_on_spark(spark: SparkSession, tiny_region: Path) -> None:
    moment = period_end(tiny_region)
    here = region_activity(tiny_region, moment).sort("account_no", nulls_last=True)
    there = SparkActivity(spark)(tiny_region, moment).sort("account_no", nulls_last=True)
    assert there.select(here.columns).equals(here)
    policy = PolicySettings()
    scored = evaluate_region(tiny_region, policy, activity=SparkActivity(spark))
    expected = evaluate_region(tiny_region, policy)
    assert [replace(s, seconds=0) for s in scored.scores] == [
        replace(s, seconds=0) for s in expected.scores
    ]
    assert any(score.found for score in scored.scores)
