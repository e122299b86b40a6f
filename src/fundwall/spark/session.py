"""Opening a SparkSession for the bulk work (PySpark is imported here, never at start-up).

`local[2]` runs Spark inside this machine's JVM on two cores; `spark://host:7077`, `yarn` or
`k8s://https://host:443` hand the work to a cluster (docs/scale.md). The session's settings
keep a small job small in local mode (few shuffle partitions, no web UI); a cluster's come
from its own configuration (docs/scale.md).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from fundwall.domain.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER: Final = "local[2]"
MASTER_SCHEMES: Final = ("local", "spark://", "yarn", "k8s://", "mesos://")
"""The masters Spark knows (`local`, `local[N]`, `local[*]` … and a cluster's URL)."""


def check_master(master: str) -> str:
    """The master URL when Spark would accept its form; InvalidInput naming the forms if not."""
    if not master.startswith(MASTER_SCHEMES):
        raise InvalidInput(
            f"'{master}' is not a Spark master: use local[N], spark://HOST:PORT, yarn or "
            "k8s://https://HOST:PORT",
            "master",
        )
    return master


def _session_class() -> type[SparkSession]:
    """PySpark's SparkSession; InvalidInput when Java or PySpark is missing."""
    if shutil.which("java") is None:
        raise InvalidInput(
            "the Spark engine needs Java 17 or newer on PATH (Debian: openjdk-17-jre-headless)",
            "engine",
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInput(
            "the Spark engine needs PySpark: pip install 'fundwall[spark]'", "engine"
        ) from None
    return SparkSession


@contextmanager
def opened_session(master: str = DEFAULT_MASTER) -> Iterator[SparkSession]:
    """The process's SparkSession on `master`, stopped on exit when this call started it (a
    session already running, whatever its master, is used and left running)."""
    running = _session_class().getActiveSession()
    session = spark_session(master)
    try:
        yield session
    finally:
        if running is None:
            session.stop()


def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """The process's SparkSession on `master` (made on first call; a later call returns the
    same session, whatever its master). InvalidInput when Java or PySpark is missing."""
    check_master(master)
    builder = (
        _session_class()
        .builder.appName("fundwall")
        .master(master)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "65536")
        .config("spark.python.worker.reuse", "true")
    )
    if master.startswith("local"):
        # Executors of a local master are this machine's processes: they run this Python,
        # with its packages; a cluster's executors use the Python its configuration names.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", "2g")
            .config("spark.ui.enabled", "false")
            # Nothing outside this machine talks to a local master: it listens on loopback
            # (SPARK_LOCAL_IP above, for the JVM's other services).
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    return builder.getOrCreate()
