"""A reference computed the way an analyst would: pandas groupby + time-based rolling windows.

It covers a representative subset of the window features (counts, sums, maxima and a distinct
count of the paying account, fan-in of the receiving account, device velocity) and serves two
purposes: a test holds the columnar kernels to it, and the benchmark reports how much faster
the kernels are. pandas' `closed="left"` window is `t - W <= ts < t` but drops every row at
the same timestamp, while the catalogue counts earlier rows at the same timestamp (file
order). So ties are spread apart first: the k-th row at one timestamp moves k ns later and
every window grows by 499 ns, which keeps the µs window edges exact for up to 500 ties.
Needs pandas, which is not a runtime dependency.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import WINDOWS

# pandas ships no type information; importing it by name keeps the type checker quiet whether
# or not pandas is installed.
pd: Any = importlib.import_module("pandas")

BASELINE_FEATURES: Final = (
    "payer_out_count_1h",
    "payer_out_sum_1h",
    "payer_out_max_1h",
    "payer_out_count_24h",
    "payer_out_sum_24h",
    "payer_out_max_24h",
    "payer_out_distinct_24h",
    "payee_in_count_1h",
    "payee_in_sum_1h",
    "payee_in_count_24h",
    "payee_in_sum_24h",
    "device_count_24h",
)

_ENTITY_COLUMN: Final = {
    "payer_out": "payer_account",
    "payee_in": "payee_account",
    "device": "device_id",
}
_MAX_TIES: Final = 500
_WINDOW_NS: Final = {w.name: w.micros * 1000 + _MAX_TIES - 1 for w in WINDOWS}


def _distinct(values: npt.NDArray[np.float64]) -> float:
    return float(np.unique(values[values >= 0]).size)


def _rolling(frame: Any, entity: str, window: str, measure: str) -> npt.NDArray[np.int64]:
    rows = frame[frame[entity].notna()]
    column = "payee_code" if measure == "distinct" else "amount_fen"
    groups = rows.groupby(entity, sort=False)
    rolling = groups.rolling(pd.Timedelta(_WINDOW_NS[window], "ns"), on="ts", closed="left")
    series = rolling[column]
    if measure == "count":
        result = series.count()
    elif measure == "sum":
        result = series.sum()
    elif measure == "max":
        result = series.max()
    else:
        result = series.apply(_distinct, raw=True)
    # The result comes group by group, each group in row order; put it back in table order.
    positions = np.flatnonzero(frame[entity].notna().to_numpy())
    in_group_order = np.concatenate([positions[i] for i in groups.indices.values()] or [[]])
    values = np.zeros(len(frame), dtype=np.float64)
    values[in_group_order.astype(np.int64)] = np.nan_to_num(result.to_numpy(dtype=np.float64))
    return values.round().astype(np.int64)


def baseline_features(table: pa.Table, features: tuple[str, ...] = BASELINE_FEATURES) -> pa.Table:
    """The `features` (a subset of BASELINE_FEATURES) of a transactions table sorted by time."""
    frame = table.select(["ts", "payer_account", "payee_account", "amount_fen", "device_id"])
    frame = frame.to_pandas()
    ties = frame.groupby("ts", sort=False).cumcount().to_numpy()
    if ties.size and ties.max() >= _MAX_TIES:
        raise InvalidInput(f"more than {_MAX_TIES} transactions share one timestamp", field="ts")
    frame["ts"] = frame["ts"].astype("datetime64[ns, UTC]") + pd.to_timedelta(ties, unit="ns")
    frame["amount_fen"] = frame["amount_fen"].astype("float64")
    payee = frame["payee_account"]
    codes = payee.astype("category").cat.codes.to_numpy()
    frame["payee_code"] = np.where(payee.notna().to_numpy(), codes, -1).astype("float64")
    columns = {}
    for name in features:
        stem, window = name.rsplit("_", 1)
        prefix, measure = stem.rsplit("_", 1)
        columns[name] = _rolling(frame, _ENTITY_COLUMN[prefix], window, measure)
    return pa.table(columns)
