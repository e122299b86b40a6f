"""Transactions: the fields of a transaction, declared once, and the domain's `Transaction`.

`TRANSACTION_FIELDS` is the transaction record: the columns of `transactions.parquet` (see
docs/design.md) and of the store's `transactions` table, what ingest reads and checks, what
the engine's events carry. Every layer derives its form from it or is held to it by a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.domain._fields import (
    aware_utc,
    member,
    optional_device_id,
    optional_ip_address,
    optional_reference,
    optional_text,
    parse_time,
    reference,
    set_field,
)
from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money
from fundwall.domain.spec import FieldKind, FieldSpec, choices_of

CITY_MAX: Final = 64
PURPOSE_MAX: Final = 200
_AMOUNT_KEYS: Final = ("amount", "amount_fen")
# Enough digits for any int64; longer digit strings are refused before int() reads them.
_FEN_DIGITS_MAX: Final = 19


class TransactionKind(StrEnum):
    TRANSFER = "transfer"
    WITHDRAWAL = "withdrawal"
    """Cash out: a payer and no payee."""
    DEPOSIT = "deposit"
    """Cash in: a payee and no payer."""

    @property
    def has_payer(self) -> bool:
        return self != TransactionKind.DEPOSIT

    @property
    def has_payee(self) -> bool:
        return self != TransactionKind.WITHDRAWAL


class Channel(StrEnum):
    COUNTER = "counter"
    ATM = "atm"
    MOBILE = "mobile"
    ONLINE = "online"
    POS = "pos"


def is_non_counter(channel: str | None) -> bool:
    """非柜面: made through any channel but the counter, which non-counter suspensions and
    the punishment list target; a transaction that names no channel is not a non-counter
    one."""
    return channel is not None and channel != Channel.COUNTER.value


TRANSACTION_FIELDS: Final = (
    FieldSpec("tx_id", FieldKind.REFERENCE),
    FieldSpec("ts", FieldKind.TIME),
    FieldSpec("kind", FieldKind.CHOICE, choices=choices_of(TransactionKind)),
    FieldSpec("payer_account", FieldKind.REFERENCE, nullable=True),
    FieldSpec("payee_account", FieldKind.REFERENCE, nullable=True),
    FieldSpec("payer_bank", FieldKind.REFERENCE, nullable=True),
    FieldSpec("payee_bank", FieldKind.REFERENCE, nullable=True),
    FieldSpec("amount_fen", FieldKind.FEN),
    FieldSpec("channel", FieldKind.CHOICE, choices=choices_of(Channel)),
    FieldSpec("device_id", FieldKind.DEVICE, nullable=True),
    FieldSpec("ip", FieldKind.IP, nullable=True),
    FieldSpec("city", FieldKind.TEXT, nullable=True, max_len=CITY_MAX),
    FieldSpec("purpose", FieldKind.TEXT, nullable=True, max_len=PURPOSE_MAX),
)
"""The transaction record, in column order. Whether the payer's and payee's fields are null
depends on the kind (a deposit has no payer, a withdrawal no payee): `Transaction` checks it."""

COLUMNS: Final = tuple(field.name for field in TRANSACTION_FIELDS)
"""The columns of transactions.parquet, in order."""
REQUIRED: Final = tuple(
    field.name for field in TRANSACTION_FIELDS if not field.nullable and field.kind != FieldKind.FEN
)
"""Fields every record gives; besides, the amount as `amount_fen` (fen) or `amount` (yuan)."""
_KNOWN_KEYS: Final = frozenset(COLUMNS) | {"amount"}


def _check_party(kind: TransactionKind, side: str, account: str | None, bank: str | None) -> None:
    """A side (payer or payee) has an account and a bank exactly when the kind has that side."""
    present = kind.has_payer if side == "payer" else kind.has_payee
    if present:
        if account is None:
            raise InvalidInput(f"a {kind.value} needs a {side} account", f"{side}_account")
        if bank is None:
            raise InvalidInput(f"a {kind.value} needs the {side}'s bank", f"{side}_bank")
    else:
        if account is not None:
            raise InvalidInput(f"a {kind.value} has no {side}", f"{side}_account")
        if bank is not None:
            raise InvalidInput(f"a {kind.value} has no {side} bank", f"{side}_bank")


def positive_amount(amount: object, field: str) -> Money:
    if not isinstance(amount, Money):
        raise InvalidInput(f"expected Money, got {type(amount).__name__}", field)
    if amount.fen <= 0:
        raise InvalidInput(f"the amount must be more than zero, got {amount}", field)
    return Money.of_fen(amount.fen, field=field)


@dataclass(frozen=True, slots=True)
class Transaction:
    """One accepted transaction; `ts` is aware and stored in UTC, `amount` is positive."""

    tx_id: str
    ts: datetime
    kind: TransactionKind
    payer_account: str | None
    payee_account: str | None
    payer_bank: str | None
    payee_bank: str | None
    amount: Money
    channel: Channel
    device_id: str | None = None
    ip: str | None = None
    city: str | None = None
    purpose: str | None = None

    def __post_init__(self) -> None:
        set_field(self, "tx_id", reference(self.tx_id, "tx_id"))
        set_field(self, "ts", aware_utc(self.ts, "ts"))
        set_field(self, "kind", member(TransactionKind, self.kind, "kind"))
        for name in ("payer_account", "payee_account", "payer_bank", "payee_bank"):
            set_field(self, name, optional_reference(getattr(self, name), name))
        _check_party(self.kind, "payer", self.payer_account, self.payer_bank)
        _check_party(self.kind, "payee", self.payee_account, self.payee_bank)
        if (self.payer_account, self.payer_bank) == (self.payee_account, self.payee_bank):
            raise InvalidInput("the payer and the payee are the same account", "payee_account")
        set_field(self, "amount", positive_amount(self.amount, "amount"))
        set_field(self, "channel", member(Channel, self.channel, "channel"))
        set_field(self, "device_id", optional_device_id(self.device_id, "device_id"))
        set_field(self, "ip", optional_ip_address(self.ip, "ip"))
        set_field(self, "city", optional_text(self.city, "city", max_len=CITY_MAX))
        set_field(self, "purpose", optional_text(self.purpose, "purpose", max_len=PURPOSE_MAX))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Transaction:
        """Validate a record from JSON, CSV or Parquet, keyed by the column names.

        The amount comes either as `amount_fen` (a whole number of fen, or its digits as text)
        or as `amount` (yuan as text, read by `Money.parse`, or a `Money` already read). `ts`
        is an ISO-8601 text with a UTC offset, or an aware datetime. Nullable columns may be
        missing, null or blank. Unknown keys are refused, so a misspelt column does not vanish
        silently. Fields are checked in column order and the first problem is raised.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(f"expected a record of named fields, got {type(data).__name__}")
        for key in data:
            if key not in _KNOWN_KEYS:
                raise InvalidInput("unknown field", str(key)[:40])
        values = {key: _blank_to_none(data.get(key)) for key in COLUMNS if key != "amount_fen"}
        for key in REQUIRED:
            if values[key] is None:
                raise InvalidInput("missing", key)
        values["ts"] = parse_time(values["ts"], "ts")
        amount_key, amount = _amount(data)
        try:
            return cls(amount=amount, **values)  # type: ignore[arg-type]
        except InvalidInput as error:
            if error.field == "amount":
                raise InvalidInput(error.reason, amount_key) from None
            raise

    def as_row(self) -> dict[str, object]:
        """The record as transactions.parquet stores it: enum values as text, amount in fen."""
        return {
            "tx_id": self.tx_id,
            "ts": self.ts,
            "kind": self.kind.value,
            "payer_account": self.payer_account,
            "payee_account": self.payee_account,
            "payer_bank": self.payer_bank,
            "payee_bank": self.payee_bank,
            "amount_fen": self.amount.fen,
            "channel": self.channel.value,
            "device_id": self.device_id,
            "ip": self.ip,
            "city": self.city,
            "purpose": self.purpose,
        }


def _blank_to_none(value: object) -> object:
    """CSV writes a null as an empty cell."""
    return None if isinstance(value, str) and not value.strip() else value


def _amount(data: Mapping[str, object]) -> tuple[str, Money]:
    given = [key for key in _AMOUNT_KEYS if _blank_to_none(data.get(key)) is not None]
    if not given:
        raise InvalidInput("missing: give amount_fen (fen) or amount (yuan as text)", "amount_fen")
    if len(given) > 1:
        raise InvalidInput("give either amount_fen or amount, not both", "amount")
    key = given[0]
    value = data[key]
    if key == "amount":
        if isinstance(value, Money):
            return key, value
        if not isinstance(value, str):
            raise InvalidInput(
                f'amount is yuan written as text, e.g. "1234.56", got {type(value).__name__}; '
                "send whole fen as amount_fen",
                key,
            )
        return key, Money.parse(value, field=key)
    if isinstance(value, str):
        digits = value.strip()
        if not (digits.isascii() and digits.isdigit()) or len(digits) > _FEN_DIGITS_MAX:
            raise InvalidInput("amount_fen is a whole number of fen, digits only", key)
        value = int(digits)
    return key, Money.of_fen(value, field=key)  # type: ignore[arg-type]
