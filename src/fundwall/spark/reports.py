"""A region's reports traced on Spark's executors (`fundwall trace --evaluate --engine spark`).

Each report's trace reads the region's transfer index and nothing of another report, so the
reports are spread over the executors as they are: the work (the trace and its scoring, with
the index) is broadcast once, each executor traces its share, and the results come back in
the reports' order, the same values as one after another here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass
class SparkReports:
    """`fundwall.tracing.region.ReportMap` on a SparkSession: `slices` (default: two per core
    of the session) is how many tasks the reports are cut into."""

    session: SparkSession
    slices: int | None = None

    def __call__(self, work: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        if not items:
            return []
        context = self.session.sparkContext
        slices = min(len(items), self.slices or 2 * context.defaultParallelism)
        shared = context.broadcast(work)
        try:
            results: list[_R] = (
                context.parallelize(list(items), slices)
                .map(lambda item: shared.value(item))
                .collect()
            )
        finally:
            shared.destroy()
        return results
