"""Field checks shared by the entities: each returns the canonical value or raises InvalidInput.

They run in `__post_init__`, so an entity built in code and one built from a file obey the
same rules and fail with the same words, naming the field.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, TypeVar

from fundwall.domain.errors import InvalidInput

REFERENCE_MAX: Final = 64
_REFERENCE: Final = re.compile(r"[A-Za-z0-9._:-]+", re.ASCII)
DEVICE_MAX: Final = 128
_VISIBLE_ASCII: Final = re.compile(r"[!-~]+", re.ASCII)
_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4: Final = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def set_field(instance: object, name: str, value: object) -> None:
    """Store a normalised value on a frozen dataclass during `__post_init__`."""
    object.__setattr__(instance, name, value)


def assembled(kind: type[T], columns: Mapping[str, Iterable[object]], rows: int) -> list[T]:
    """`rows` instances of the slotted dataclass `kind` from values vouched for already, each
    field (all of them given) set from its column by one map in C through the slot's own
    descriptor (the frozen class's `__setattr__` refuses; the slot does not), without
    `__init__` or `__post_init__`: for many values checked as columns or made by the engine,
    where setting each field of each instance in Python costs more than the rest of the
    work."""
    built = list(map(object.__new__, [kind] * rows))
    for name, column in columns.items():
        deque(map(kind.__dict__[name].__set__, built, column), maxlen=0)
    return built


def _text_type(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"expected text, got {type(value).__name__}", field)
    return value


def reference(value: object, field: str) -> str:
    """An identifier or code: 1 to 64 of the characters A-Z a-z 0-9 . _ : -"""
    text = _text_type(value, field)
    if not text:
        raise InvalidInput("empty identifier", field)
    if len(text) > REFERENCE_MAX:
        raise InvalidInput(f"longer than {REFERENCE_MAX} characters ({len(text)})", field)
    if _REFERENCE.fullmatch(text) is None:
        raise InvalidInput("may hold only letters, digits and . _ : -", field)
    return text


def optional_reference(value: object, field: str) -> str | None:
    return None if value is None else reference(value, field)


def device_id(value: object, field: str) -> str:
    """A device identifier: 1 to 128 visible ASCII characters (IMEI, UUID, fingerprint …)."""
    text = _text_type(value, field)
    if not text:
        raise InvalidInput("empty device id", field)
    if len(text) > DEVICE_MAX:
        raise InvalidInput(f"longer than {DEVICE_MAX} characters ({len(text)})", field)
    if _VISIBLE_ASCII.fullmatch(text) is None:
        raise InvalidInput("may hold only visible ASCII characters, no spaces", field)
    return text


def optional_device_id(value: object, field: str) -> str | None:
    return None if value is None else device_id(value, field)


def text(value: object, field: str, *, max_len: int) -> str:
    """Free text without control characters; surrounding whitespace is dropped."""
    stripped = _text_type(value, field).strip()
    if not stripped:
        raise InvalidInput("empty text", field)
    if len(stripped) > max_len:
        raise InvalidInput(f"longer than {max_len} characters ({len(stripped)})", field)
    if not stripped.isprintable():
        raise InvalidInput("contains control characters", field)
    return stripped


def optional_text(value: object, field: str, *, max_len: int) -> str | None:
    return None if value is None else text(value, field, max_len=max_len)


def ip_address(value: object, field: str) -> str:
    """An IPv4 or IPv6 address in its canonical (compressed) spelling."""
    raw = _text_type(value, field)
    if _CANONICAL_IPV4.fullmatch(raw) is not None:
        return raw  # as ipaddress spells it: a match is ten times faster than a parse
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise InvalidInput("not an IPv4 or IPv6 address", field) from None


def optional_ip_address(value: object, field: str) -> str | None:
    return None if value is None else ip_address(value, field)


def aware_utc(value: object, field: str) -> datetime:
    """A timezone-aware moment, converted to UTC."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"expected a date and time, got {type(value).__name__}", field)
    if value.utcoffset() is None:
        raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", field)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("time is outside the calendar once converted to UTC", field) from None


def optional_aware_utc(value: object, field: str) -> datetime | None:
    return None if value is None else aware_utc(value, field)


def parse_time(value: object, field: str) -> datetime:
    """An ISO-8601 date and time with a UTC offset (or an aware datetime), in UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                "not an ISO-8601 date and time, e.g. 2024-05-01T09:30:00+08:00", field
            ) from None
    return aware_utc(value, field)


def member(enum: type[E], value: object, field: str) -> E:
    """A member of a string enum, given as the member or its value (any case)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)  # spelt as the value, as nearly always: a lookup, not a scan
        except ValueError:
            pass
        wanted = value.strip().lower()
        for item in enum:
            if item.value.lower() == wanted:
                return item
    allowed = ", ".join(item.value for item in enum)
    shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
    raise InvalidInput(f"unknown value {shown}; expected one of {allowed}", field)


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"expected true or false, got {type(value).__name__}", field)
    return value


def whole_number(value: object, field: str, *, minimum: int | None = None) -> int:
    if type(value) is not int:
        raise InvalidInput(f"expected a whole number, got {type(value).__name__}", field)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"must be at least {minimum}, got {value}", field)
    return value


def finite_number(value: object, field: str) -> int | float:
    """An int or a finite float (scores and ratios, never money)."""
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return value
    shown = repr(value) if type(value) is float else type(value).__name__
    raise InvalidInput(f"expected a finite number, got {shown}", field)
