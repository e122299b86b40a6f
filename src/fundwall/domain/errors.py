"""Typed errors of the business core.

Every error names what was wrong in words a bank clerk understands. The API maps these classes
to RFC 9457 problem responses and the CLI prints them as one line and exits 2; neither repeats
the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


class FundwallError(Exception):
    """Base of every error Fundwall raises on purpose."""

    kind = "error"

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        return super().__str__()


@dataclass(eq=False)
class InvalidInput(FundwallError):
    """Bad input: which record, which field, why.

    `record` locates the record in a larger input (a batch index, a file line, an XML
    transaction id); a parser raises without it and the caller adds it with `at()`.
    """

    reason: str
    field: str | None = None
    record: str | None = None

    kind = "invalid-input"

    def at(self, record: str | int) -> InvalidInput:
        return replace(self, record=str(record))

    def message(self) -> str:
        where = []
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


@dataclass(eq=False)
class NotFound(FundwallError):
    """The thing does not exist, or the actor may not know that it exists."""

    what: str
    key: str

    kind = "not-found"

    def message(self) -> str:
        return f"{self.what} not found: {self.key}"


@dataclass(eq=False)
class PermissionDenied(FundwallError):
    """The actor is known but may not do this."""

    action: str

    kind = "forbidden"

    def message(self) -> str:
        return f"not allowed: {self.action}"


@dataclass(eq=False)
class Conflict(FundwallError):
    """The request is well formed but clashes with the current state."""

    reason: str

    kind = "conflict"

    def message(self) -> str:
        return self.reason
