"""What the feature layer reads from a transaction (the columns of transactions.parquet) and
from a login event (of logins.parquet).

The online state accepts any object with these attributes (`TransactionLike`, `LoginLike`), so
a domain transaction or login event works as it is; `TxEvent` is the plain carrier of a
transaction, `events_from_table` turns a transactions table into events and `logins_from_table`
a logins table into the domain's login events, for feeding them to the online state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from fundwall.domain.devices import LoginEvent
from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

TRANSACTION_COLUMNS: Final = tuple(column for column in COLUMNS if column != "purpose")
"""Columns the features read (`purpose` is part of the file but no feature uses it)."""

KINDS: Final = ("transfer", "withdrawal", "deposit")
LOGIN_COLUMNS: Final = ("login_id", "ts", "account_no", "device_id", "face_check")
"""Columns of logins.parquet the features read."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)


class TransactionLike(Protocol):
    """A transaction as the features see it (the contract of docs/design.md)."""

    @property
    def tx_id(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def payer_account(self) -> str | None: ...
    @property
    def payee_account(self) -> str | None: ...
    @property
    def payer_bank(self) -> str | None: ...
    @property
    def payee_bank(self) -> str | None: ...
    @property
    def amount_fen(self) -> int: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def device_id(self) -> str | None: ...
    @property
    def ip(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class TxEvent:
    """One transaction with the columns of transactions.parquet."""

    tx_id: str
    ts: datetime
    kind: str
    payer_account: str | None
    payee_account: str | None
    payer_bank: str | None
    payee_bank: str | None
    amount_fen: int
    channel: str | None
    device_id: str | None = None
    ip: str | None = None
    city: str | None = None


def micros(ts: datetime, tx_id: str) -> int:
    """A timezone-aware timestamp as µs since the epoch (UTC)."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InvalidInput("timestamp has no time zone", field="ts", record=tx_id)
    return (ts - _EPOCH) // _ONE_US


def events_from_table(table: pa.Table) -> list[TxEvent]:
    """The rows of a transactions table as events, in table order."""
    missing = [name for name in TRANSACTION_COLUMNS if name not in table.column_names]
    if missing:
        raise InvalidInput(f"transactions table has no column '{missing[0]}'", field=missing[0])
    columns = [table[name].to_pylist() for name in TRANSACTION_COLUMNS]
    return [TxEvent(*row) for row in zip(*columns, strict=True)]


class LoginLike(Protocol):
    """A login event as the features see it (`fundwall.domain.devices.LoginEvent`)."""

    @property
    def event_id(self) -> str: ...
    @property
    def account_no(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def device_id(self) -> str | None: ...
    @property
    def face_check(self) -> str: ...


def logins_from_table(table: pa.Table) -> list[LoginEvent]:
    """The rows of a logins table (logins.parquet: `login_id`, `ts`, `account_no`,
    `device_id`, `ip`, `city`, `face_check`) as login events, in table order; a bad row is
    named by its login id."""
    names = ("login_id", "account_no", "ts", "device_id", "ip", "city", "face_check")
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise InvalidInput(f"logins table has no column '{missing[0]}'", field=missing[0])
    columns = [table[name].to_pylist() for name in names]
    events = []
    for row in zip(*columns, strict=True):
        try:
            events.append(LoginEvent(*row))
        except InvalidInput as error:
            raise error.at(str(row[0])) from None
    return events
