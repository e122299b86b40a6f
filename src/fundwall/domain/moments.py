"""Moments a client names for a computation "as of" a time: checked once, the same way for
every workflow, since a client's time can lie."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from fundwall.domain.errors import InvalidInput

EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""No record of the region is older: a moment before it is a mistake (a number read as
seconds since 1970, a year typed short), not a question."""


def past_moment(as_of: datetime | None, now: datetime, field: str = "as_of") -> datetime:
    """`as_of` in UTC when it is a zoned moment from `EARLIEST` up to `now`; `now` when None.
    InvalidInput naming `field` otherwise: a later moment would judge what has not happened."""
    if as_of is None:
        return now
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise InvalidInput("a time with its UTC offset", field)
    if as_of > now:
        raise InvalidInput("now or an earlier moment: records are read as of it", field)
    if as_of < EARLIEST:
        raise InvalidInput(f"no records before {EARLIEST.date()}", field)
    return as_of.astimezone(UTC)
