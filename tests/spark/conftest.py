"""One SparkSession for the whole test session: local[2], no web UI, few shuffle partitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fundwall.sim.run import simulate
from fundwall.spark.session import spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def small_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small simulated region (half a million transactions), made once and only read."""
    out = tmp_path_factory.mktemp("spark_region") / "small"
    simulate("small", 1, out)
    return out


@pytest.fixture(scope="session")
def tiny_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark_region") / "tiny"
    simulate("tiny", 1, out)
    return out


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()
