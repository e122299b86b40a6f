"""Ingest: JSON, CSV/Parquet files and ISO 20022 pacs.008 → domain transactions.

Each format is turned into records and handed to the domain (`Transaction.from_mapping`),
which holds every rule about the values; this package finds the values, says where a bad one
is (batch index, file line, XML element path) and assembles the result, all or nothing.
See docs/ingest.md.
"""

from typing import TYPE_CHECKING

from fundwall.exports import lazy_exports

if TYPE_CHECKING:
    from fundwall.ingest.columnar import validate_table
    from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
    from fundwall.ingest.iso20022 import (
        MAX_XML_BYTES,
        CreditTransfer,
        InvalidMessage,
        InvalidTransaction,
        Outcome,
        Pacs008Message,
        build_pacs002,
        build_pacs002_rejection,
        parse_pacs008,
    )
    from fundwall.ingest.json_api import (
        MAX_BATCH,
        TransactionBatchIn,
        TransactionIn,
        parse_batch,
        parse_transaction,
    )
    from fundwall.ingest.tabular import read_transactions

__getattr__ = lazy_exports(
    __name__,
    {
        "columnar": ("validate_table",),
        "errors": (
            "MAX_ERRORS",
            "InvalidRecords",
        ),
        "iso20022": (
            "MAX_XML_BYTES",
            "CreditTransfer",
            "InvalidMessage",
            "InvalidTransaction",
            "Outcome",
            "Pacs008Message",
            "build_pacs002",
            "build_pacs002_rejection",
            "parse_pacs008",
        ),
        "json_api": (
            "MAX_BATCH",
            "TransactionBatchIn",
            "TransactionIn",
            "parse_batch",
            "parse_transaction",
        ),
        "tabular": ("read_transactions",),
    },
)

__all__ = [
    "MAX_BATCH",
    "MAX_ERRORS",
    "MAX_XML_BYTES",
    "CreditTransfer",
    "InvalidMessage",
    "InvalidRecords",
    "InvalidTransaction",
    "Outcome",
    "Pacs008Message",
    "TransactionBatchIn",
    "TransactionIn",
    "build_pacs002",
    "build_pacs002_rejection",
    "parse_batch",
    "parse_pacs008",
    "parse_transaction",
    "read_transactions",
    "validate_table",
]
