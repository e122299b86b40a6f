"""The time window: a member's transaction (or login event) is stamped near the service's
clock, or refused.

A transaction's `ts` comes from the member and can be wrong or a lie. The engine never lets a
stamp move its clock past the service's own (`fundwall.engine.core`), but a stamp far off
still says nothing true about the transfer, so every route refuses it before anything is
decided or remembered: `ts` must lie within [now − `max_late_seconds`, now +
`max_ahead_seconds`] of the API's clock (`fundwall.config.ApiSettings`), both ends included.
The JSON routes refuse the whole request (422, field `ts`, the record's index in a batch);
pacs.008 rejects the credit transfer alone, RJCT DT01, as it does an unreadable date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from fundwall.clock import Clock
from fundwall.config import ApiSettings
from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal
from fundwall.ingest import MAX_ERRORS, InvalidRecords


class Stamped(Protocol):
    """Anything a member stamps with a time: a transaction, a login event."""

    @property
    def ts(self) -> datetime: ...


INVALID_DATE: Final = "DT01"
"""The ISO 20022 status reason for an invalid date, as for a date that cannot be read."""


def _span(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


class TimeWindow:
    """The window of `settings` around `clock`'s time (no window when `check_time` is off)."""

    def __init__(self, settings: ApiSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._ahead = timedelta(seconds=settings.max_ahead_seconds)
        self._late = timedelta(seconds=settings.max_late_seconds)

    def describe(self) -> str:
        """The window in a sentence, for the API's documentation ("" when off)."""
        if not self._settings.check_time:
            return ""
        ahead = _span(self._settings.max_ahead_seconds)
        late = _span(self._settings.max_late_seconds)
        return (
            f" A `ts` more than {ahead} ahead of the service's clock or more than {late} "
            "before it is refused (`ts` in the problem; DT01 in pacs.002)."
        )

    def reasons(self, txs: Sequence[Stamped]) -> list[str | None]:
        """Why each record's `ts` is outside the window (None: inside), read at one instant of
        the clock."""
        if not self._settings.check_time:
            return [None] * len(txs)
        now = self._clock.now()
        latest, earliest = now + self._ahead, now - self._late
        if all(earliest <= tx.ts <= latest for tx in txs):  # nearly always: no words to write
            return [None] * len(txs)
        clock = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ahead = f"more than {_span(self._settings.max_ahead_seconds)} ahead"
        late = f"more than {_span(self._settings.max_late_seconds)} before"
        return [
            f"{ahead} of the service's clock ({clock})"
            if tx.ts > latest
            else f"{late} the service's clock ({clock})"
            if tx.ts < earliest
            else None
            for tx in txs
        ]

    def admit(self, txs: Sequence[Stamped], *, batch: bool) -> None:
        """Refuse the whole request when a `ts` is outside the window (InvalidInput, 422,
        naming each record up to MAX_ERRORS)."""
        bad = [
            InvalidInput(reason, "ts", str(index) if batch else None)
            for index, reason in enumerate(self.reasons(txs))
            if reason is not None
        ]
        if bad:
            raise InvalidRecords.of(bad[:MAX_ERRORS], more=len(bad) > MAX_ERRORS)

    def refusals(self, txs: Sequence[Transaction]) -> list[Refusal | None]:
        """For each credit transfer, its rejection (DT01) when its time is outside."""
        return [
            None if reason is None else Refusal(422, "ts", reason, INVALID_DATE)
            for reason in self.reasons(txs)
        ]
