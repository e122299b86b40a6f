"""Field declarations: the fields of a record declared once, for every layer to derive from.

A `FieldSpec` says what one field holds (its kind of value, whether it may be null, its
limits) in plain Python, so the domain stays free of storage and wire formats. Each layer
translates a kind once: the region layout to an Arrow type (`fundwall.region.schema`),
columnar ingest to a vectorised check (`fundwall.ingest.columnar`); the store's tables, the
engine's event and the API's models are held to the declaration by tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.domain._fields import DEVICE_MAX, REFERENCE_MAX

IP_MAX: Final = 45
"""The longest spelling of an IP address: IPv6 with an embedded IPv4 address (RFC 4291)."""


class FieldKind(StrEnum):
    """What a field holds, and so which check of the domain reads it."""

    REFERENCE = "reference"
    """An identifier or code: 1 to 64 of the characters A-Z a-z 0-9 . _ : -"""
    TIME = "time"
    """A timezone-aware moment, kept in UTC to the microsecond."""
    CHOICE = "choice"
    """One of the values of a string enum (`choices`)."""
    FEN = "fen"
    """An amount of money in whole fen, more than zero and at most `MAX_FEN`."""
    DEVICE = "device"
    """A device id: 1 to 128 visible ASCII characters."""
    IP = "ip"
    """An IPv4 or IPv6 address, in its canonical spelling."""
    TEXT = "text"
    """Free text without control characters, trimmed, of at most `max_len` characters."""


_FIXED_MAX: Final = {
    FieldKind.REFERENCE: REFERENCE_MAX,
    FieldKind.DEVICE: DEVICE_MAX,
    FieldKind.IP: IP_MAX,
}
_PYTHON_TYPES: Final[dict[FieldKind, type]] = {FieldKind.TIME: datetime, FieldKind.FEN: int}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a record: its name, kind, whether it may be null, and its limits.

    `max_len` is the most characters a text value has: fixed for references, device ids and
    IP addresses, the longest choice for a choice, given for free text; None for times and
    amounts. `choices` are the values of a choice field.
    """

    name: str
    kind: FieldKind
    nullable: bool = False
    max_len: int | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind == FieldKind.CHOICE) != bool(self.choices):
            raise ValueError(f"{self.name}: choices go with the kind choice, and only with it")
        fixed = _FIXED_MAX.get(self.kind)
        if self.kind == FieldKind.CHOICE:
            fixed = max(len(choice) for choice in self.choices)
        if fixed is not None:
            if self.max_len not in (None, fixed):
                raise ValueError(f"{self.name}: a {self.kind.value} has at most {fixed} characters")
            object.__setattr__(self, "max_len", fixed)
        elif self.kind == FieldKind.TEXT:
            if self.max_len is None or self.max_len < 1:
                raise ValueError(f"{self.name}: free text needs its max_len")
        elif self.max_len is not None:
            raise ValueError(f"{self.name}: a {self.kind.value} has no length")

    @property
    def python_type(self) -> type:
        """The type of a present value: `str`, `int` (fen) or `datetime` (aware, UTC)."""
        return _PYTHON_TYPES.get(self.kind, str)


def choices_of(enum: type[StrEnum]) -> tuple[str, ...]:
    """The values of a string enum, as a choice field lists them."""
    return tuple(item.value for item in enum)
