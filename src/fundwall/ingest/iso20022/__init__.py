"""ISO 20022: pacs.008 customer credit transfers in, pacs.002 status reports out."""

from fundwall.ingest.iso20022.credit_transfer import CreditTransfer, InvalidTransaction
from fundwall.ingest.iso20022.pacs002 import Outcome, build_pacs002, build_pacs002_rejection
from fundwall.ingest.iso20022.pacs008 import (
    AppHeader,
    GroupHeader,
    Pacs008Message,
    parse_pacs008,
)
from fundwall.ingest.iso20022.xmlsafe import MAX_XML_BYTES, InvalidMessage

__all__ = [
    "MAX_XML_BYTES",
    "AppHeader",
    "CreditTransfer",
    "GroupHeader",
    "InvalidMessage",
    "InvalidTransaction",
    "Outcome",
    "Pacs008Message",
    "build_pacs002",
    "build_pacs002_rejection",
    "parse_pacs008",
]
