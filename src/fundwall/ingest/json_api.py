"""JSON transactions, one or a batch, as the HTTP API receives them.

The request models only say which fields exist and what JSON type each has (so the API
documents them and a misspelt field is refused); every rule about the values is the domain's
`Transaction.from_mapping`, so a transaction means the same from JSON, a file or ISO 20022.
A batch is all or nothing: one bad record and no transaction of the batch is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import Transaction
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords

MAX_BATCH: Final = 10_000
"""Most transactions in one JSON batch; larger loads go through CSV or Parquet files."""


class TransactionIn(BaseModel):
    """One transaction as JSON. Give the amount as `amount_fen` (integer fen) or `amount`
    (yuan as text, e.g. "1234.56"), not both. `ts` is ISO 8601 with a UTC offset."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "tx_id": "T20240501-000001",
                    "ts": "2024-05-01T09:30:00+08:00",
                    "kind": "transfer",
                    "payer_account": "6222020200112233445",
                    "payee_account": "6228480010203040506",
                    "payer_bank": "ICBC",
                    "payee_bank": "ABC",
                    "amount_fen": 123456,
                    "channel": "mobile",
                    "device_id": "IMEI-358240051111110",
                    "ip": "203.0.113.7",
                    "city": "Xiamen",
                    "purpose": "rent",
                }
            ]
        },
    )

    tx_id: StrictStr
    ts: StrictStr = Field(json_schema_extra={"format": "date-time"})
    kind: StrictStr = Field(description="transfer, withdrawal or deposit")
    payer_account: StrictStr | None = None
    payee_account: StrictStr | None = None
    payer_bank: StrictStr | None = None
    payee_bank: StrictStr | None = None
    amount_fen: StrictInt | None = Field(default=None, description="amount in fen")
    amount: StrictStr | None = Field(default=None, description='amount in yuan, e.g. "1234.56"')
    channel: StrictStr = Field(description="counter, atm, mobile, online or pos")
    device_id: StrictStr | None = None
    ip: StrictStr | None = None
    city: StrictStr | None = None
    purpose: StrictStr | None = None


class TransactionBatchIn(BaseModel):
    """A batch of 1 to `MAX_BATCH` transactions, accepted or refused as a whole."""

    model_config = ConfigDict(extra="forbid")

    transactions: list[TransactionIn] = Field(min_length=1, max_length=MAX_BATCH)


def parse_transaction(obj: object) -> Transaction:
    """One transaction from a decoded JSON object (or a `TransactionIn`)."""
    if not isinstance(obj, TransactionIn):
        if not isinstance(obj, Mapping):
            raise InvalidInput(f"expected a JSON object, got {_json_type(obj)}")
        try:
            obj = TransactionIn.model_validate(obj)
        except ValidationError as error:
            raise _first_problem(error) from None
    # The model's fields as they are: `from_mapping` reads a null as a missing field, so this
    # is what `model_dump(exclude_none=True)` gives it, without building another dict.
    return Transaction.from_mapping(vars(obj))


def parse_batch(objs: object) -> list[Transaction]:
    """Every transaction of a batch, or one error naming the bad records by index (0-based).

    Up to `MAX_ERRORS` bad records are reported together; a tx_id used twice in the batch
    is an error at the later record.
    """
    if isinstance(objs, TransactionBatchIn):
        objs = objs.transactions
    if isinstance(objs, (str, bytes)) or not isinstance(objs, Sequence):
        raise InvalidInput(f"expected a JSON array of transactions, got {_json_type(objs)}")
    if not objs:
        raise InvalidInput("empty batch: send 1 to 10,000 transactions")
    if len(objs) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} transactions, got {len(objs):,}")
    transactions: list[Transaction] = []
    errors: list[InvalidInput] = []
    first_index: dict[str, int] = {}
    for index, obj in enumerate(objs):
        try:
            transaction = parse_transaction(obj)
        except InvalidInput as error:
            errors.append(error.at(index))
        else:
            earlier = first_index.setdefault(transaction.tx_id, index)
            if earlier != index:
                errors.append(InvalidInput(f"duplicate of record {earlier}", "tx_id").at(index))
            transactions.append(transaction)
        if len(errors) > MAX_ERRORS:
            raise InvalidRecords.of(errors[:MAX_ERRORS], more=True)
    if errors:
        raise InvalidRecords.of(errors)
    return transactions


def _first_problem(error: ValidationError) -> InvalidInput:
    """The first problem pydantic found, as the domain's error (field and reason)."""
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or None
    expected = _EXPECTED.get(problem["type"])
    if expected is not None:
        return InvalidInput(f"expected {expected}, got {_json_type(problem['input'])}", field)
    return InvalidInput(_REASONS.get(problem["type"], problem["msg"]), field)


_EXPECTED: Final = {"string_type": "text", "int_type": "a whole number"}
_REASONS: Final = {"missing": "missing", "extra_forbidden": "unknown field"}


def _json_type(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return "an array"
    return names.get(type(value), type(value).__name__)
