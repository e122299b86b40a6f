"""Formulas of the single-value features (`catalog.Formula`), written once on plain integers.

The online state calls these functions as Python; the columnar kernels (`kernels.py`) call
the same functions compiled by numba (`register_jitable`), so a formula cannot drift between
the two executions: `FORMULAS` gives each formula's function, `integer_value` and
`ratio_value` dispatch to them in compiled code.
They take and return int/float only and use floor division, which numba and Python agree on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from numba.extending import register_jitable

from fundwall.engine.features.catalog import (
    LOCAL_OFFSET_US,
    NEVER,
    NIGHT_HOURS,
    NO_HISTORY,
    US_PER_DAY,
    US_PER_HOUR,
    Formula,
)

_NIGHT_END = NIGHT_HOURS.stop
# Plain ints, which numba compiles in as constants.
_VALUE: Final = int(Formula.VALUE)
_NIGHT: Final = int(Formula.NIGHT)
_HOUR: Final = int(Formula.HOUR)
_DAYS_SINCE: Final = int(Formula.DAYS_SINCE)
_AGE: Final = int(Formula.AGE)
_SHARE: Final = int(Formula.SHARE)
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
def local_day(ts_us: int) -> int:
    """Days from 1970-01-01 to the Asia/Shanghai calendar date of `ts_us`."""
    return (ts_us + LOCAL_OFFSET_US) // US_PER_DAY


@_dual
def civil_date(day: int) -> int:
    """Day `day` since 1970-01-01 as YYYYMMDD (H. Hinnant's days → civil algorithm)."""
    z = day + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dom = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year * 10000 + month * 100 + dom


@_dual
def local_yyyymmdd(ts_us: int) -> int:
    """The Asia/Shanghai calendar date as YYYYMMDD."""
    return civil_date(local_day(ts_us))


# Each formula of `Formula` on (fact, time of the transaction, its local date, its amount).


@_dual
def as_is(fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> int:
    return fact


@_dual
def night_of(fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> int:
    return 1 if local_hour(fact) < _NIGHT_END else 0


@_dual
def hour_of(fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> int:
    return local_hour(fact)


@_dual
def days_from(fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> int:
    """Whole days from the fact (a time; NEVER gives -1), never below 0."""
    if fact == NEVER:
        return -1
    days = (ts_us - fact) // US_PER_DAY
    return days if days > 0 else 0


@_dual
def age_of(fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> int:
    """Whole years from the fact (a birth date, YYYYMMDD) to the date; -1 unknown or later."""
    if fact < 0:
        return -1
    years = (date_yyyymmdd - fact) // 10000
    return years if years >= 0 else -1


@_dual
def share_of(fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> float:
    """amount / the fact (a balance); 1 when the balance is 0 or less (it takes it all)."""
    if fact <= 0:
        return 1.0
    return float(amount_fen) / float(fact)


@_dual
def hours_since(ts_us: int, then_us: int) -> int:
    """Whole hours from `then_us` (an earlier time; NEVER gives -1) to `ts_us`."""
    if then_us == NEVER:
        return -1
    return (ts_us - then_us) // US_PER_HOUR


@_dual
def ratio_of(numerator: float, denominator: float) -> float:
    """numerator / denominator as floats (as numpy divides); NO_HISTORY when the denominator is
    0 (`catalog.RATIOS`)."""
    if denominator == 0:
        return NO_HISTORY
    return float(numerator) / float(denominator)


FORMULAS: Final[dict[Formula, Callable[[int, int, int, int], int | float]]] = {
    Formula.VALUE: as_is,
    Formula.NIGHT: night_of,
    Formula.HOUR: hour_of,
    Formula.DAYS_SINCE: days_from,
    Formula.AGE: age_of,
    Formula.SHARE: share_of,
}
"""The function of each formula; the online form calls them through this table, the compiled
one through `integer_value` and `ratio_value` (a test holds the two to each other)."""


@_dual
def integer_value(formula: int, fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> int:
    """The value of an integer formula (all but `FLOAT_FORMULAS`) of a fact, for a
    transaction at `ts_us` (on the local date `date_yyyymmdd`) of `amount_fen`."""
    if formula == _VALUE:
        return as_is(fact, ts_us, date_yyyymmdd, amount_fen)
    if formula == _NIGHT:
        return night_of(fact, ts_us, date_yyyymmdd, amount_fen)
    if formula == _HOUR:
        return hour_of(fact, ts_us, date_yyyymmdd, amount_fen)
    if formula == _DAYS_SINCE:
        return days_from(fact, ts_us, date_yyyymmdd, amount_fen)
    if formula == _AGE:
        return age_of(fact, ts_us, date_yyyymmdd, amount_fen)
    raise ValueError("not an integer formula")


@_dual
def ratio_value(formula: int, fact: int, ts_us: int, date_yyyymmdd: int, amount_fen: int) -> float:
    """The value of a float formula (`FLOAT_FORMULAS`: SHARE, the only one), as
    `integer_value`."""
    if formula == _SHARE:
        return share_of(fact, ts_us, date_yyyymmdd, amount_fen)
    raise ValueError("not a float formula")
