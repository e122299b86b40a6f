"""Where services get the time: an injected clock, so tests can move it.

Services never call `datetime.now()`; they ask `uow.clock.now()`. Production uses
`SystemClock`; tests use `FixedClock` and move it ("48 hours later, the stop expires").
The domain stays pure: it takes `now` as an argument and never sees a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from fundwall.domain.errors import InvalidInput


class Clock(Protocol):
    """A source of the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time of the machine, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"time {moment.isoformat()} has no timezone", field="now")
    return moment.astimezone(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests and replays."""

    def __init__(self, now: datetime) -> None:
        self._now = _require_aware(now)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to `now` (timezone-aware; stored as UTC)."""
        self._now = _require_aware(now)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        self._now += delta
        return self._now
