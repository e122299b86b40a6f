"""The bulk commands' `--engine spark [--master URL]` (docs/scale.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.domain.errors import InvalidInput
from fundwall.engine.replay import region_features
from fundwall.spark.features import BUCKETS_SETTING, SparkFeatures, configured_buckets
from fundwall.spark.session import check_master, spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

runner = CliRunner()
# One worker runs every Spark test (make test: --dist loadgroup), so one JVM starts.
pytestmark = pytest.mark.xdist_group("spark")


def test_replay_on_spark_writes_what_replay_here_writes(
    spark: SparkSession, tiny_region: Path, tmp_path: Path
) -> None:
    here, there = tmp_path / "here.parquet", tmp_path / "there.parquet"
    local = runner.invoke(app, ["replay", str(tiny_region), "--out", str(here), "--json"])
    assert local.exit_code == 0, local.output
    spread = runner.invoke(
        app,
        ["replay", str(tiny_region), "--out", str(there), "--json", "--engine", "spark"],
    )
    assert spread.exit_code == 0, spread.output
    summary = json.loads(spread.stdout)
    assert summary["engine"] == "spark"
    assert summary["actions"] == json.loads(local.stdout)["actions"]
    assert pq.read_table(there).equals(pq.read_table(here))
    # The test session's Spark was used and is still running.
    assert not spark.sparkContext._jsc.sc().isStopped()


def test_trace_evaluation_on_spark_from_the_command_line(
    spark: SparkSession, tiny_region: Path
) -> None:
    result = runner.invoke(
        app, ["trace", str(tiny_region), "--evaluate", "--engine", "spark", "--master", "local[2]"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reports"] >= 0


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["replay", "REGION", "--master", "local[2]"], "--master goes with --engine spark"),
        (["trace", "REGION", "--report", "R1", "--engine", "spark"], "go with --evaluate"),
        (["screen", "--engine", "spark"], "go with --evaluate"),
        (["train", "REGION", "--out", "M", "--target", "accounts", "--engine", "spark"],
         "computes the transactions' features"),
    ],
)  # fmt: skip
def test_engine_options_out_of_place_are_refused(
    tiny_region: Path, tmp_path: Path, arguments: list[str], reason: str
) -> None:
    places = {"REGION": str(tiny_region), "M": str(tmp_path / "model")}
    result = runner.invoke(app, [places.get(a, a) for a in arguments])
    assert isinstance(result.exception, InvalidInput)
    assert reason in result.exception.reason


def test_a_master_spark_does_not_know_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a Spark master"):
        check_master("http://cluster:7077")
    assert check_master("spark://cluster:7077") == "spark://cluster:7077"


def test_without_java_the_spark_engine_says_what_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("fundwall.spark.session.shutil.which", lambda name: None)
    with pytest.raises(InvalidInput, match="Java 17"):
        spark_session("local[2]")


def test_a_bad_transaction_is_named_before_spark_starts(
    spark: SparkSession, tiny_region: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(tiny_region, folder)
    table = pq.read_table(folder / "transactions.parquet")
    amounts = table["amount_fen"].to_pylist()
    amounts[5] = 0
    column = table.schema.get_field_index("amount_fen")
    pq.write_table(
        table.set_column(column, "amount_fen", pa.array(amounts, pa.int64())),
        folder / "transactions.parquet",
    )
    with pytest.raises(InvalidInput, match="positive") as refused:
        next(region_features(folder, features=SparkFeatures(spark))[1])
    assert refused.value.record == table["tx_id"][5].as_py()


def test_the_bucket_count_comes_from_the_sessions_settings(spark: SparkSession) -> None:
    assert configured_buckets(spark) == 4 * spark.sparkContext.defaultParallelism
    spark.conf.set(BUCKETS_SETTING, "3")
    try:
        assert configured_buckets(spark) == 3
        spark.conf.set(BUCKETS_SETTING, "many")
        with pytest.raises(InvalidInput, match="positive whole number"):
            configured_buckets(spark)
    finally:
        spark.conf.unset(BUCKETS_SETTING)


def test_reused_features_are_computed_once_and_removed_on_close(
    spark: SparkSession, tiny_region: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    features = SparkFeatures(spark, work=tmp_path, reuse=True)
    writes = []
    write = features.write
    monkeypatch.setattr(features, "write", lambda *a: writes.append(a) or write(*a))
    first = pa.Table.from_batches(list(region_features(tiny_region, features=features)[1]))
    second = pa.Table.from_batches(list(region_features(tiny_region, features=features)[1]))
    assert len(writes) == 1
    assert second.equals(first)
    features.close()
    assert list(tmp_path.iterdir()) == []
