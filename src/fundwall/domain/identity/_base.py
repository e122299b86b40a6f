"""What every identity shares: masked printing, and reading the raw text it is parsed from."""

from __future__ import annotations

from abc import ABC, abstractmethod

from fundwall.domain.errors import InvalidInput


class MaskedIdentity(ABC):
    """An identity whose `str()` and `repr()` are masked, so logs and pages cannot leak it."""

    __slots__ = ()

    @abstractmethod
    def masked(self) -> str:
        """The form safe to show on screen and in logs."""

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked()!r})"


def mask_middle(value: str, *, head: int, tail: int) -> str:
    """Keep `head` leading and `tail` trailing characters and star the rest."""
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def clean(text: object, *, what: str, field: str, separators: str = "") -> str:
    """The text without surrounding whitespace and without the given separator characters."""
    if not isinstance(text, str):
        raise InvalidInput(f"expected {what} as text, got {type(text).__name__}", field)
    cleaned = text.strip()
    for separator in separators:
        cleaned = cleaned.replace(separator, "")
    if not cleaned:
        raise InvalidInput(f"empty {what}", field)
    return cleaned


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0-9 (str.isdigit alone also admits '²' and '٣')."""
    return text.isascii() and text.isdigit()
