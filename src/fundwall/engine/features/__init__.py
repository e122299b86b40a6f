"""Features of a transaction, declared once (`catalog`) and computed two ways.

- Online, per event: `OnlineFeatureState.compute/apply/observe` over per-entity state, and per
  batch `observe_many` (its window aggregates by one compiled pass per stream, `tracks_bulk`).
- Bulk, columnar: `compute_bulk` / `iter_bulk` over a whole history in time order.

Both read the same declarations and give identical values (a property test holds them to it).
"""

from typing import TYPE_CHECKING

from fundwall.exports import lazy_exports

if TYPE_CHECKING:
    from fundwall.engine.features.bulk import bulk_schema, compute_bulk, iter_bulk
    from fundwall.engine.features.catalog import (
        Feature,
        Kind,
        catalogue,
        column_names,
        feature_index,
        feature_names,
    )
    from fundwall.engine.features.directory import AccountDirectory
    from fundwall.engine.features.inputs import TransactionLike, TxEvent, events_from_table
    from fundwall.engine.features.online import FeatureVector, OnlineFeatureState, settle_gc

__getattr__ = lazy_exports(
    __name__,
    {
        "bulk": ("bulk_schema", "compute_bulk", "iter_bulk"),
        "catalog": (
            "Feature",
            "Kind",
            "catalogue",
            "column_names",
            "feature_index",
            "feature_names",
        ),
        "directory": ("AccountDirectory",),
        "inputs": ("TransactionLike", "TxEvent", "events_from_table"),
        "online": ("FeatureVector", "OnlineFeatureState", "settle_gc"),
    },
)

__all__ = [
    "AccountDirectory",
    "Feature",
    "FeatureVector",
    "Kind",
    "OnlineFeatureState",
    "TransactionLike",
    "TxEvent",
    "bulk_schema",
    "catalogue",
    "column_names",
    "compute_bulk",
    "events_from_table",
    "feature_index",
    "feature_names",
    "iter_bulk",
    "settle_gc",
]
