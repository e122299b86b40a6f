"""The answer to a pacs.008: a pacs.002.001.10 FIToFIPaymentStatusReport.

Each engine decision becomes an ISO 20022 transaction status with, when it is not a plain
acceptance, an external status reason code and a short text. The mapping (docs/ingest.md):

| action  | TxSts | reason | meaning                                                      |
|---------|-------|--------|--------------------------------------------------------------|
| pass    | ACSC  |        | accepted, nothing holds the transfer back                    |
| warn    | ACCP  | NARR   | accepted after the customer-profile check; the payer is warned |
| alert   | PDNG  | NARR   | pending an analyst's review                                  |
| delay   | PDNG  | NARR   | pending: settles after the 24 h delay unless the payer cancels |
| block   | RJCT  | FRAD   | intercepted as suspected fraud (or the code the caller gives) |
| invalid | RJCT  | per field | the credit transfer itself is invalid (AM05, AM11, AM12, AC02 …) |
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, NamedTuple
from xml.etree.ElementTree import Element, SubElement, tostring

from fundwall.domain.errors import InvalidInput
from fundwall.ingest.iso20022.credit_transfer import CreditTransfer
from fundwall.ingest.iso20022.pacs008 import MESSAGE_PATHS, Pacs008Message
from fundwall.ingest.iso20022.xmlsafe import InvalidMessage, located

PACS002_NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"
MAX_TEXT: Final = 105
"""AddtlInf is Max105Text."""

_STATUS: Final = {
    "pass": ("ACSC", None),
    "warn": ("ACCP", "NARR"),
    "alert": ("PDNG", "NARR"),
    "delay": ("PDNG", "NARR"),
    "block": ("RJCT", "FRAD"),
    "invalid": ("RJCT", "CH16"),
}
ACTIONS: Final = frozenset(_STATUS)
UNKNOWN_ID: Final = "NOTPROVIDED"
"""What the report cites when the rejected message's own id could not be read."""


class Outcome(NamedTuple):
    """What happened to one credit transfer: the engine's action, a short reason, and
    optionally the ISO status reason code to use instead of the default for the action
    (e.g. AC06 for a frozen account, AG01 for a transfer the payer is forbidden to make)."""

    action: str
    reason: str
    code: str | None = None


def build_pacs002(
    message: Pacs008Message,
    outcomes: Sequence[Outcome | tuple[str, str]],
    *,
    msg_id: str | None = None,
    created_at: datetime | None = None,
) -> bytes:
    """A pacs.002.001.10 answering `message`, one outcome per credit transfer, in order.

    A credit transfer that could not be read (`CreditTransfer.error`) must have the action
    `invalid`; it is rejected with the status reason its error carries, and its text is that
    error's, naming the element (`Cdtr/Nm: …`) whatever reason the outcome gives.
    """
    if len(outcomes) != len(message.transactions):
        raise ValueError(
            f"{len(outcomes)} outcomes for {len(message.transactions)} credit transfers"
        )
    statuses = [
        _status(item, Outcome(*outcome))
        for item, outcome in zip(message.transactions, outcomes, strict=True)
    ]
    counts = Counter(status for status, _, _ in statuses)
    group = next(iter(counts)) if len(counts) == 1 else "PART"
    header = message.group_header
    document, report = _report(msg_id, created_at)
    original = SubElement(report, _tag("OrgnlGrpInfAndSts"))
    _text(original, "OrgnlMsgId", header.msg_id)
    _text(original, "OrgnlMsgNmId", message.message_name)
    _text(original, "OrgnlCreDtTm", header.created_at_text)
    _text(original, "OrgnlNbOfTxs", str(header.nb_of_txs))
    if header.ctrl_sum_text is not None:
        _text(original, "OrgnlCtrlSum", header.ctrl_sum_text)
    _text(original, "GrpSts", group)
    for status, count in counts.items():
        per_status = SubElement(original, _tag("NbOfTxsPerSts"))
        _text(per_status, "DtldNbOfTxs", str(count))
        _text(per_status, "DtldSts", status)
    for item, (status, code, reason) in zip(message.transactions, statuses, strict=True):
        info = SubElement(report, _tag("TxInfAndSts"))
        for name, value in (
            ("OrgnlInstrId", item.instruction_id),
            ("OrgnlEndToEndId", item.end_to_end_id),
            ("OrgnlTxId", item.tx_id),
            ("OrgnlUETR", item.uetr),
        ):
            if value is not None:
                _text(info, name, value)
        _text(info, "TxSts", status)
        if code is not None:
            _reason(info, code, reason)
    return _serialise(document)


def build_pacs002_rejection(
    error: InvalidInput, *, msg_id: str | None = None, created_at: datetime | None = None
) -> bytes:
    """A pacs.002.001.10 rejecting a whole message (group status RJCT) for `error`.

    An `InvalidMessage` from `parse_pacs008` gives the status reason code and, when they
    could be read, the original message id and name; any other error is answered FF01.
    """
    original_id = original_name = None
    code = "FF01"
    if isinstance(error, InvalidMessage):
        original_id, original_name = error.original_msg_id, error.original_msg_name
        code = error.status_reason
    document, report = _report(msg_id, created_at)
    original = SubElement(report, _tag("OrgnlGrpInfAndSts"))
    _text(original, "OrgnlMsgId", original_id or UNKNOWN_ID)
    _text(original, "OrgnlMsgNmId", original_name or "pacs.008")
    _text(original, "GrpSts", "RJCT")
    _reason(original, code, located(error, *MESSAGE_PATHS))
    return _serialise(document)


def _status(item: CreditTransfer, outcome: Outcome) -> tuple[str, str | None, str]:
    """(TxSts, reason code or None, reason text) for one credit transfer."""
    if outcome.action not in _STATUS:
        raise ValueError(f"unknown action '{outcome.action}'; expected one of {sorted(ACTIONS)}")
    if item.error is not None and outcome.action != "invalid":
        raise ValueError(
            f"credit transfer {item.record} could not be read and can only be 'invalid'"
        )
    status, code = _STATUS[outcome.action]
    if item.error is not None:
        text = located(item.error, item.path, *MESSAGE_PATHS)
        return status, outcome.code or item.error.status_reason, text
    return status, outcome.code or code, outcome.reason


def _report(msg_id: str | None, created_at: datetime | None) -> tuple[Element, Element]:
    document = Element(_tag("Document"))
    report = SubElement(document, _tag("FIToFIPmtStsRpt"))
    header = SubElement(report, _tag("GrpHdr"))
    _text(header, "MsgId", msg_id or uuid.uuid4().hex)
    _text(header, "CreDtTm", _iso(created_at or datetime.now(UTC)))
    return document, report


def _reason(parent: Element, code: str, text: str) -> None:
    information = SubElement(parent, _tag("StsRsnInf"))
    reason = SubElement(information, _tag("Rsn"))
    _text(reason, "Cd", code)
    if text:
        short = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
        _text(information, "AddtlInf", short)


def _tag(name: str) -> str:
    return f"{{{PACS002_NAMESPACE}}}{name}"


def _text(parent: Element, name: str, value: str) -> None:
    SubElement(parent, _tag(name)).text = value


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a report time must be timezone-aware")
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


def _serialise(document: Element) -> bytes:
    serialised: bytes = tostring(
        document, encoding="utf-8", xml_declaration=True, default_namespace=PACS002_NAMESPACE
    )
    return serialised
