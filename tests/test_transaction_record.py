"""Every typed form of the transaction record agrees with its one declaration.

`fundwall.domain.transactions.TRANSACTION_FIELDS` declares the record. The Arrow schema, the
ingest checks and the decision log's columns are derived from it; the forms a type checker has
to see written out (the engine's event, the store's table, the API's models) are held to it
here, so a field added, renamed or retyped in one place and not the others fails this test.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from typing import Any

import pyarrow as pa
from pydantic import BaseModel
from sqlalchemy import BigInteger, CheckConstraint, String

from fundwall.api.member_data import TransactionOut
from fundwall.domain.money import Money
from fundwall.domain.spec import FieldKind, FieldSpec, choices_of
from fundwall.domain.transactions import COLUMNS, TRANSACTION_FIELDS, Transaction
from fundwall.engine.features.inputs import TRANSACTION_COLUMNS, TransactionLike, TxEvent
from fundwall.ingest.json_api import TransactionIn
from fundwall.region import SCHEMAS, TS
from fundwall.store.tables import TransactionRow
from fundwall.store.types import UtcDateTime

SPEC = {field.name: field for field in TRANSACTION_FIELDS}


def _parts(annotation: Any) -> tuple[type, bool]:
    """(the type of a present value, whether None is allowed) of `X` or `X | None`."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        assert len(present) == 1, annotation
        return _parts(present[0])[0], type(None) in args
    if typing.get_origin(annotation) is typing.Annotated:
        return _parts(args[0])
    return annotation, False


def _agrees(name: str, annotation: Any, *, lenient: bool = False) -> None:
    """A typed field agrees with the declaration: same type, and null exactly when declared
    (or, when `lenient`, at least when declared)."""
    field = SPEC[name]
    kind, optional = _parts(annotation)
    assert kind is field.python_type, f"{name}: {kind} is not {field.python_type}"
    if lenient:
        assert optional or not field.nullable, f"{name} may be null"
    else:
        assert optional == field.nullable, f"{name}: nullable is {field.nullable}"


def test_the_domain_transaction_has_the_fields_in_order_with_money_for_fen() -> None:
    hints = typing.get_type_hints(Transaction)
    names = [f.name for f in fields(Transaction)]
    assert names == [("amount" if name == "amount_fen" else name) for name in COLUMNS]
    assert hints["amount"] is Money
    for name, field in SPEC.items():
        if field.kind == FieldKind.CHOICE:
            assert choices_of(hints[name]) == field.choices, name
        elif field.kind != FieldKind.FEN:
            _agrees(name, hints[name])


def test_the_engine_event_carries_the_fields_the_features_read_in_order() -> None:
    """The event is a plain carrier: it leaves out `purpose`, which no feature reads, and may
    hold an unknown channel, which the controls treat as a counter's."""
    names = [f.name for f in fields(TxEvent)]
    assert tuple(names) == TRANSACTION_COLUMNS == tuple(n for n in COLUMNS if n != "purpose")
    hints = typing.get_type_hints(TxEvent)
    for name in names:
        _agrees(name, hints[name], lenient=name == "channel")


def test_the_features_protocol_names_the_same_fields() -> None:
    for name in TRANSACTION_COLUMNS:
        prop = getattr(TransactionLike, name)
        _agrees(name, typing.get_type_hints(prop.fget)["return"], lenient=name == "channel")


def test_the_region_file_schema_is_derived() -> None:
    types_of = {FieldKind.TIME: TS, FieldKind.FEN: pa.int64()}
    assert SCHEMAS["transactions"] == pa.schema(
        [(f.name, types_of.get(f.kind, pa.string())) for f in TRANSACTION_FIELDS]
    )


def _width(field: FieldSpec) -> int:
    assert field.max_len is not None
    return field.max_len


def test_the_store_table_holds_every_declared_value() -> None:
    """Columns in order, null where declared, and wide enough for every value the domain
    accepts (`purpose` is wider than its limit, which costs nothing)."""
    table = TransactionRow.__table__
    assert tuple(table.c.keys()) == COLUMNS
    for field in TRANSACTION_FIELDS:
        column = table.c[field.name]
        assert column.nullable == field.nullable, field.name
        if field.kind == FieldKind.TIME:
            assert isinstance(column.type, UtcDateTime)
        elif field.kind == FieldKind.FEN:
            assert isinstance(column.type, BigInteger)
        else:
            assert isinstance(column.type, String) and column.type.length is not None
            assert column.type.length >= _width(field), field.name
    # A new kind needs a migration of this constraint too; this says so.
    checks = {c.name: str(c.sqltext) for c in table.constraints if isinstance(c, CheckConstraint)}
    kinds = ", ".join(f"'{choice}'" for choice in SPEC["kind"].choices)
    assert checks["ck_transactions_kind_known"] == f"kind IN ({kinds})"


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {name: info.annotation for name, info in model.model_fields.items()}


def test_the_json_input_model_has_every_column_and_the_amount_in_yuan() -> None:
    model = _model_fields(TransactionIn)
    assert list(model) == [*COLUMNS[:8], "amount", *COLUMNS[8:]]
    for name, field in SPEC.items():
        kind, optional = _parts(model[name])
        wire = int if field.kind == FieldKind.FEN else str
        assert kind is wire, name
        # The amount may come as `amount` instead of `amount_fen`.
        assert optional == (field.nullable or field.kind == FieldKind.FEN), name
        assert TransactionIn.model_fields[name].is_required() == (not optional), name


def test_the_member_data_output_model_shows_declared_fields_as_declared() -> None:
    model = _model_fields(TransactionOut)
    shown = [name for name in model if name in SPEC]
    assert shown == [name for name in COLUMNS if name in shown]
    for name in shown:
        _agrees(name, model[name])
