"""Errors of the ingest layer: several located errors gathered into one.

A file with ten million rows may have many bad ones; stopping at the first would make the
sender fix them one upload at a time, and listing all of them would flood the answer. So the
validators collect up to `MAX_ERRORS` located errors and raise one `InvalidRecords` that
names them all and still reads, through `record` and `field`, as the first of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fundwall.domain.errors import InvalidInput

MAX_ERRORS = 20
"""How many located errors one rejected input reports before it stops counting them."""


@dataclass(eq=False)
class InvalidRecords(InvalidInput):
    """Several records of one input are invalid; `errors` lists them in input order.

    `record`, `field` and `reason` repeat the first error, so a caller that only knows
    `InvalidInput` still points at a real bad record.
    """

    errors: tuple[InvalidInput, ...] = ()
    more: bool = False
    """True when the input had more errors than `errors` holds (the scan stopped early)."""

    @classmethod
    def of(cls, errors: Sequence[InvalidInput], *, more: bool = False) -> InvalidInput:
        """One error for `errors` (at least one): itself when alone, else an `InvalidRecords`."""
        if not errors:
            raise ValueError("InvalidRecords.of needs at least one error")
        if len(errors) == 1 and not more:
            return errors[0]
        first = errors[0]
        return cls(
            reason=first.reason,
            field=first.field,
            record=first.record,
            errors=tuple(errors),
            more=more,
        )

    def message(self) -> str:
        count = f"{len(self.errors)}{' or more' if self.more else ''}"
        listed = "; ".join(error.message() for error in self.errors)
        return f"{count} invalid records: {listed}"
