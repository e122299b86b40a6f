"""The Arrow schema of every file of a region folder (docs/data-layout.md explains each column).

The transactions' schema is derived from the domain's declaration of the transaction
(`TRANSACTION_FIELDS`). Every column is nullable as Arrow sees it, so that files from any
writer read alike; which values may be null is the declaration's, checked by ingest, by the
domain and by the store's constraints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pyarrow as pa

from fundwall.domain.spec import FieldKind, FieldSpec
from fundwall.domain.transactions import TRANSACTION_FIELDS

FORMAT: Final = "fundwall-region/1"
TS: Final = pa.timestamp("us", tz="UTC")
_ARROW_TYPES: Final = {FieldKind.TIME: TS, FieldKind.FEN: pa.int64()}


def arrow_type(field: FieldSpec) -> pa.DataType:
    """A declared field as a column: times as `TS`, money as int64 fen, the rest as text."""
    return _ARROW_TYPES.get(field.kind, pa.string())


def arrow_schema(fields: Iterable[FieldSpec]) -> pa.Schema:
    return pa.schema([(field.name, arrow_type(field)) for field in fields])


TRANSACTIONS: Final = arrow_schema(TRANSACTION_FIELDS)
"""transactions.parquet, as the simulator and importers write it and ingest returns it."""

SCHEMAS: Final[dict[str, pa.Schema]] = {
    "institutions": pa.schema(
        [
            ("code", pa.string()),
            ("name_zh", pa.string()),
            ("name_en", pa.string()),
            ("kind", pa.string()),
            ("region_code", pa.string()),
            ("bin", pa.string()),
        ]
    ),
    "parties": pa.schema(
        [
            ("party_id", pa.string()),
            ("kind", pa.string()),
            ("name", pa.string()),
            ("id_number", pa.string()),
            ("phone", pa.string()),
            ("birth_date", pa.date32()),
            ("sex", pa.string()),
            ("region_code", pa.string()),
            ("home_district", pa.string()),
            ("owner_party_id", pa.string()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account_no", pa.string()),
            ("bank", pa.string()),
            ("party_id", pa.string()),
            ("account_class", pa.string()),
            ("status", pa.string()),
            ("risk_tier", pa.string()),
            ("opened_at", TS),
            ("opening_channel", pa.string()),
            ("opening_device_id", pa.string()),
            ("opening_agent", pa.string()),
            ("bound_account", pa.string()),
            ("opening_balance_fen", pa.int64()),
            ("last_active_at", TS),
        ]
    ),
    "devices": pa.schema(
        [
            ("device_id", pa.string()),
            ("kind", pa.string()),
            ("os", pa.string()),
            ("model", pa.string()),
            ("first_seen_at", TS),
            ("ip", pa.string()),
            ("city", pa.string()),
        ]
    ),
    "logins": pa.schema(
        [
            ("login_id", pa.string()),
            ("ts", TS),
            ("account_no", pa.string()),
            ("bank", pa.string()),
            ("device_id", pa.string()),
            ("ip", pa.string()),
            ("city", pa.string()),
            ("channel", pa.string()),
            ("face_check", pa.string()),
            ("success", pa.bool_()),
        ]
    ),
    "transactions": TRANSACTIONS,
    "tx_labels": pa.schema(
        [
            ("tx_id", pa.string()),
            ("role", pa.string()),
            ("scam_id", pa.string()),
        ]
    ),
    "account_labels": pa.schema(
        [
            ("account_no", pa.string()),
            ("is_mule", pa.bool_()),
            ("mule_since", TS),
            ("mule_level", pa.int8()),
            ("sold", pa.bool_()),
            ("sold_at", TS),
            ("mule_source", pa.string()),
            ("gang_id", pa.string()),
            ("network_id", pa.string()),
        ]
    ),
    "party_labels": pa.schema(
        [
            ("party_id", pa.string()),
            ("role", pa.string()),
            ("phone_issue", pa.string()),
        ]
    ),
    "scams": pa.schema(
        [
            ("scam_id", pa.string()),
            ("scam_type", pa.string()),
            ("victim_party_id", pa.string()),
            ("victim_account", pa.string()),
            ("gang_id", pa.string()),
            ("first_paid_at", TS),
            ("last_paid_at", TS),
            ("payments", pa.int32()),
            ("amount_fen", pa.int64()),
            ("levels", pa.int8()),
            ("cashed_out_fen", pa.int64()),
            ("report_id", pa.string()),
        ]
    ),
    "networks": pa.schema(
        [
            ("network_id", pa.string()),
            ("operator", pa.string()),
            ("first_payment_at", TS),
            ("collection_accounts", pa.int32()),
            ("collectors", pa.int32()),
            ("payers", pa.int32()),
            ("payments", pa.int32()),
            ("collected_fen", pa.int64()),
            ("exchanged_fen", pa.int64()),
        ]
    ),
    "victim_reports": pa.schema(
        [
            ("report_id", pa.string()),
            ("line", pa.int32()),
            ("scam_id", pa.string()),
            ("reported_at", TS),
            ("police_unit", pa.string()),
            ("scam_type", pa.string()),
            ("victim_party_id", pa.string()),
            ("victim_account", pa.string()),
            ("victim_bank", pa.string()),
            ("payee_account", pa.string()),
            ("payee_bank", pa.string()),
            ("paid_at", TS),
            ("amount_fen", pa.int64()),
        ]
    ),
    "phone_registry": pa.schema(
        [
            ("phone", pa.string()),
            ("id_number", pa.string()),
            ("registered_at", TS),
            ("deregistered_at", TS),
        ]
    ),
    "screening_labels": pa.schema(
        [
            ("account_no", pa.string()),
            ("check", pa.string()),
            ("planted", pa.string()),
        ]
    ),
}
FILES: Final = tuple(SCHEMAS)
NULL_WHEN_ABSENT: Final[dict[str, frozenset[str]]] = {
    "account_labels": frozenset({"network_id"}),
}
"""Columns that a writer whose source has nothing of the kind may leave out: they are
written null (public data sets have no 跑分 networks)."""
