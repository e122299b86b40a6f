"""ISO 20022 pacs.008 (FIToFICustomerCreditTransfer) → domain transactions.

Accepts versions pacs.008.001.02 to .13 as a `Document`, or as the bare message element
`FIToFICstmrCdtTrf` (as the ISO message definitions print their examples; without a namespace
the version is unknown unless an AppHdr names it), either alone or inside an envelope: any
elements around it, at any depth (e.g. FedNow's `FedNowIncoming/FedNowIncomingMessage/
FedNowCustomerCreditTransfer`), with at most one head.001 business application header
(`AppHdr`). Problems with the message as a whole (unsafe or malformed XML, wrong message,
group header missing or inconsistent with the transactions) raise `InvalidMessage`; a problem
inside one transaction is kept on that transaction, so the status report can reject it alone.
The field mapping is in docs/ingest.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final
from xml.etree.ElementTree import Element

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import Transaction
from fundwall.ingest.errors import InvalidRecords
from fundwall.ingest.iso20022.credit_transfer import (
    ACCEPTED_CURRENCY,
    CreditTransfer,
    InvalidTransaction,
    agent_id,
    parse_datetime,
    read_credit_transfer,
)
from fundwall.ingest.iso20022.xmlsafe import (
    APP_HEADER,
    DOCUMENT,
    MAX_XML_BYTES,
    MESSAGE_ELEMENT,
    InvalidMessage,
    Node,
    parse_decimal,
    parse_xml,
    split_tag,
)

_PACS008 = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(pacs\.008\.001\.([0-9]{2}))")
_HEAD001 = re.compile(r"urn:iso:std:iso:20022:tech:xsd:head\.001\.001\.[0-9]{2}")
_COUNT = re.compile(r"[0-9]{1,15}")
SUPPORTED_VERSIONS = range(2, 14)
"""pacs.008.001.02 … pacs.008.001.13."""
UNKNOWN_VERSION: Final = "pacs.008"
"""The message name of a FIToFICstmrCdtTrf in no namespace, when no AppHdr names its version."""
MESSAGE_PATHS: Final = (f"{DOCUMENT}/{MESSAGE_ELEMENT}", MESSAGE_ELEMENT)
"""The element paths of the message element, in a Document or bare."""


@dataclass(frozen=True)
class AppHeader:
    """The head.001 business application header that travelled with the message."""

    business_message_id: str | None
    message_definition_id: str | None
    sender: str | None
    receiver: str | None


@dataclass(frozen=True)
class GroupHeader:
    """GrpHdr: what the sender says about the whole message."""

    msg_id: str
    created_at: datetime
    created_at_text: str
    """CreDtTm as written, which the status report echoes unchanged."""
    nb_of_txs: int
    ctrl_sum: Decimal | None
    ctrl_sum_text: str | None
    """CtrlSum as written, which the status report echoes unchanged."""
    total_amount: Decimal | None
    settlement_date: date | None
    settlement_method: str | None
    clearing_system: str | None
    instructing_agent: str | None
    instructed_agent: str | None


@dataclass(frozen=True)
class Pacs008Message:
    """A pacs.008 read safely: its headers and each credit transfer with its own outcome."""

    message_name: str
    """e.g. pacs.008.001.08; `UNKNOWN_VERSION` for a message in no namespace."""
    app_header: AppHeader | None
    group_header: GroupHeader
    transactions: tuple[CreditTransfer, ...]

    @property
    def errors(self) -> list[InvalidTransaction]:
        """The errors of the transactions that could not be read, in message order."""
        return [item.error for item in self.transactions if item.error is not None]

    def require_valid(self) -> list[Transaction]:
        """Every transaction, or one error listing the bad ones (all or nothing)."""
        if self.errors:
            raise InvalidRecords.of(self.errors)
        return [item.transaction for item in self.transactions if item.transaction is not None]


def parse_pacs008(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> Pacs008Message:
    """Read a pacs.008 message (the bytes as received, in any XML encoding) safely.

    Raises `InvalidMessage` when the message cannot be accepted as a whole; its
    `status_reason` is the ISO code a pacs.002 rejection carries. Errors inside one credit
    transfer do not raise: they are on `CreditTransfer.error`.
    """
    root = parse_xml(data, max_bytes=max_bytes)
    element, app_header = _locate_message(root)
    namespace, local = split_tag(element.tag)
    name = _message_name(namespace, local, app_header)
    top = Node(element, local, namespace)
    transfer = top.find(MESSAGE_ELEMENT) if local == DOCUMENT else top
    msg_id = None if transfer is None else transfer.text("GrpHdr", "MsgId")
    try:
        transfer = top.need(MESSAGE_ELEMENT) if transfer is None else transfer
        header = _read_group_header(transfer.need("GrpHdr"))
    except InvalidInput as error:
        raise InvalidMessage(
            error.reason, field=error.field, original_msg_id=msg_id, original_msg_name=name
        ) from None
    transactions = _unique(
        [
            read_credit_transfer(node, index, header.created_at)
            for index, node in enumerate(transfer.children("CdtTrfTxInf"), start=1)
        ]
    )
    _check_totals(header, transactions, name, f"{transfer.path}/GrpHdr")
    return Pacs008Message(name, app_header, header, tuple(transactions))


def _locate_message(root: Element) -> tuple[Element, AppHeader | None]:
    """The Document (or bare FIToFICstmrCdtTrf): the root itself, or the one element of that
    name inside the envelope the root is, beside at most one AppHdr anywhere in it."""
    messages: list[Element] = []
    headers: list[Element] = []
    pending = [root]
    while pending:  # a loop, not recursion: an envelope may nest deeper than the stack
        element = pending.pop()
        local = split_tag(element.tag)[1]
        if local in (DOCUMENT, MESSAGE_ELEMENT):
            messages.append(element)
        elif local == APP_HEADER:
            headers.append(element)
        else:
            pending.extend(element)
    if len(messages) != 1 or len(headers) > 1:
        _, local = split_tag(root.tag)
        raise InvalidMessage(
            f"expected one {DOCUMENT} or {MESSAGE_ELEMENT}, as the root or in an envelope "
            f"with at most one {APP_HEADER}; <{local}> holds {len(messages)} of them and "
            f"{len(headers)} {APP_HEADER}",
            field=local,
        )
    return messages[0], (_read_app_header(headers[0]) if headers else None)


def _message_name(namespace: str, element: str, app_header: AppHeader | None) -> str:
    """pacs.008.001.xx from the namespace of the message `element`; in no namespace, from the
    AppHdr if it names one."""
    declared = None if app_header is None else app_header.message_definition_id
    if namespace:
        name = _supported(namespace, f"unsupported message namespace '{namespace}'", element)
    elif declared is not None:
        name = _supported(
            f"urn:iso:std:iso:20022:tech:xsd:{declared}",
            f"AppHdr names the unsupported message '{declared}'",
            f"{APP_HEADER}/MsgDefIdr",
        )
    else:
        return UNKNOWN_VERSION
    if declared not in (None, name):
        raise InvalidMessage(
            f"AppHdr names {declared} but the message is {name}",
            field=f"{APP_HEADER}/MsgDefIdr",
            original_msg_name=name,
        )
    return name


def _supported(namespace: str, problem: str, field: str) -> str:
    """The message name in a supported pacs.008 `namespace`; else `problem` at `field`."""
    match = _PACS008.fullmatch(namespace)
    if match is None or int(match[2]) not in SUPPORTED_VERSIONS:
        raise InvalidMessage(f"{problem}: expected pacs.008.001.02 to pacs.008.001.13", field=field)
    return match[1]


def _read_app_header(element: Element) -> AppHeader:
    namespace, _ = split_tag(element.tag)
    if _HEAD001.fullmatch(namespace) is None:
        raise InvalidMessage(
            f"AppHdr namespace '{namespace}' is not a head.001 business application header",
            field=APP_HEADER,
        )
    node = Node(element, APP_HEADER, namespace)
    return AppHeader(
        business_message_id=node.text("BizMsgIdr"),
        message_definition_id=node.text("MsgDefIdr"),
        sender=agent_id(node.find("Fr", "FIId", "FinInstnId"))[0],
        receiver=agent_id(node.find("To", "FIId", "FinInstnId"))[0],
    )


def _read_group_header(node: Node) -> GroupHeader:
    count = node.need_text("NbOfTxs")
    if _COUNT.fullmatch(count) is None:
        raise InvalidInput(f"'{count}' is not a number of transactions", f"{node.path}/NbOfTxs")
    ctrl_sum = node.text("CtrlSum")
    total = node.find("TtlIntrBkSttlmAmt")
    total_text = None if total is None else total.need_text()
    if total is not None and total.attribute("Ccy") != ACCEPTED_CURRENCY:
        raise InvalidInput(
            f"currency must be {ACCEPTED_CURRENCY}, got {total.attribute('Ccy') or 'none'}",
            f"{total.path}/@Ccy",
        )
    settlement_date = node.text("IntrBkSttlmDt")
    created_at = node.need_text("CreDtTm")
    return GroupHeader(
        msg_id=node.need_text("MsgId"),
        created_at=parse_datetime(created_at, f"{node.path}/CreDtTm"),
        created_at_text=created_at,
        nb_of_txs=int(count),
        ctrl_sum=None if ctrl_sum is None else parse_decimal(ctrl_sum, f"{node.path}/CtrlSum"),
        ctrl_sum_text=ctrl_sum,
        total_amount=(
            None
            if total_text is None
            else parse_decimal(total_text, f"{node.path}/TtlIntrBkSttlmAmt")
        ),
        settlement_date=(
            None
            if settlement_date is None
            else _parse_date(settlement_date, f"{node.path}/IntrBkSttlmDt")
        ),
        settlement_method=node.text("SttlmInf", "SttlmMtd"),
        clearing_system=node.text("SttlmInf", "ClrSys", "Cd")
        or node.text("SttlmInf", "ClrSys", "Prtry"),
        instructing_agent=agent_id(node.find("InstgAgt", "FinInstnId"))[0],
        instructed_agent=agent_id(node.find("InstdAgt", "FinInstnId"))[0],
    )


def _parse_date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not an ISO date (YYYY-MM-DD)", where) from None


def _unique(transactions: list[CreditTransfer]) -> list[CreditTransfer]:
    """Reject the later of two credit transfers with the same transaction id (AM05)."""
    first: dict[str, int] = {}
    result = []
    for item in transactions:
        if item.id is not None and item.id in first and item.error is None:
            item = item.rejected(
                InvalidTransaction(
                    f"duplicate transaction id, first used by transaction {first[item.id]}",
                    field=item.id_field,
                    status_reason="AM05",
                )
            )
        elif item.id is not None:
            first.setdefault(item.id, item.index)
        result.append(item)
    return result


def _check_totals(
    header: GroupHeader, transactions: list[CreditTransfer], name: str, where: str
) -> None:
    """NbOfTxs, CtrlSum and TtlIntrBkSttlmAmt must agree with the transactions themselves."""

    def reject(reason: str, field: str, status: str) -> InvalidMessage:
        return InvalidMessage(
            reason,
            field=f"{where}/{field}",
            status_reason=status,
            original_msg_id=header.msg_id,
            original_msg_name=name,
        )

    if not transactions:
        raise reject("the message holds no credit transfer (CdtTrfTxInf)", "NbOfTxs", "FF01")
    if header.nb_of_txs != len(transactions):
        raise reject(
            f"NbOfTxs says {header.nb_of_txs} but the message holds {len(transactions)}",
            "NbOfTxs",
            "AM18",
        )
    total = sum((item.amount for item in transactions if item.amount is not None), Decimal(0))
    if header.ctrl_sum is not None and header.ctrl_sum != total:
        raise reject(
            f"CtrlSum says {header.ctrl_sum} but the amounts add up to {total}", "CtrlSum", "AM10"
        )
    if header.total_amount is not None and header.total_amount != total:
        raise reject(
            f"TtlIntrBkSttlmAmt says {header.total_amount} but the amounts add up to {total}",
            "TtlIntrBkSttlmAmt",
            "AM10",
        )
