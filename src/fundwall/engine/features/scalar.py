"""Formulas of the single-value features, written once on plain integers.

The online state calls these functions as Python; the columnar kernels (`kernels.py`) call
the same functions compiled by numba (`register_jitable`), so a formula cannot drift between
the two executions.
They take and return int/float only and use floor division, which numba and Python agree on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from numba.extending import register_jitable

from fundwall.engine.features.catalog import LOCAL_OFFSET_US, NIGHT_HOURS, US_PER_DAY, US_PER_HOUR

_NIGHT_END = NIGHT_HOURS.stop
F = TypeVar("F", bound=Callable[..., Any])


def _dual(function: F) -> F:
    """Keep `function` plain Python and let numba-compiled code call it as well."""
    jitable: F = register_jitable(function)
    return jitable


@_dual
def local_hour(ts_us: int) -> int:
    """Hour of the day in Asia/Shanghai."""
    return ((ts_us + LOCAL_OFFSET_US) // US_PER_HOUR) % 24


@_dual
def is_night(ts_us: int) -> int:
    return 1 if local_hour(ts_us) < _NIGHT_END else 0


@_dual
def local_yyyymmdd(ts_us: int) -> int:
    """The Asia/Shanghai calendar date as YYYYMMDD (H. Hinnant's days → civil algorithm)."""
    z = (ts_us + LOCAL_OFFSET_US) // US_PER_DAY + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year * 10000 + month * 100 + day


@_dual
def age_years(ts_us: int, birth_yyyymmdd: int) -> int:
    """Whole years of age on the local date of `ts_us`; -1 when unknown (or born later)."""
    if birth_yyyymmdd < 0:
        return -1
    years = (local_yyyymmdd(ts_us) - birth_yyyymmdd) // 10000
    return years if years >= 0 else -1


@_dual
def days_since(ts_us: int, then_us: int) -> int:
    """Whole days from `then_us` to `ts_us`, never below 0."""
    days = (ts_us - then_us) // US_PER_DAY
    return days if days > 0 else 0


@_dual
def balance_share(amount_fen: int, balance_fen: int) -> float:
    """amount / balance; 1 when the balance is 0 or negative (the transfer takes it all)."""
    if balance_fen <= 0:
        return 1.0
    return float(amount_fen) / float(balance_fen)
