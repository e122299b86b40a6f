"""One pacs.008 credit transfer (CdtTrfTxInf) → a transaction mapping → a domain Transaction.

This module only finds each value in the XML and says where it came from; every rule about
the values themselves is the domain's (`Transaction.from_mapping`). An error is kept on the
credit transfer with the element path of the offending value and the ISO 20022 status reason
code a pacs.002 rejection of this one transaction carries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Final

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction
from fundwall.ingest.iso20022.xmlsafe import Node, parse_decimal, split_tag

ACCEPTED_CURRENCY: Final = "CNY"
CURRENCY_DECIMALS: Final = {"CNY": 2}
"""Minor units per ISO 4217 currency: how many decimals an amount in it may have."""

CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")
"""Where an ISO date-time without offset (ISO's 'local time') is read: CNY clears in Beijing
time, and China keeps no daylight saving, so a fixed offset is exact."""

NOT_PROVIDED: Final = "NOTPROVIDED"
"""The EndToEndId a sender writes when the debtor gave none; never a usable id."""

SUPPLEMENTARY_ELEMENT: Final = "RskData"
"""The element inside SplmtryData/Envlp that carries device, IP, city and channel."""

_DATETIME = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?"
)
_CHANNELS: Final = {channel.value.upper(): channel.value for channel in Channel}
_DEFAULT_CHANNEL: Final = Channel.ONLINE.value
_STATUS_BY_FIELD: Final = {
    "tx_id": "CH16",
    "ts": "DT01",
    "amount": "AM12",
    "amount_fen": "AM12",
    "payer_account": "AC02",
    "payee_account": "AC03",
    "payer_bank": "RC01",
    "payee_bank": "RC01",
}
_DEFAULT_STATUS: Final = "CH16"
"""ElementContentFormallyIncorrect: the ISO code for a value that breaks a field's rules."""


@dataclass(eq=False)
class InvalidTransaction(InvalidInput):
    """One credit transfer is rejected; `status_reason` is the ISO external status reason."""

    status_reason: str = _DEFAULT_STATUS


@dataclass(frozen=True)
class CreditTransfer:
    """One CdtTrfTxInf: its identifications, its mapping, and the outcome of reading it.

    Exactly one of `transaction` and `error` is set. `index` is the 1-based position in the
    message, as in its element `path` (`Document/FIToFICstmrCdtTrf/CdtTrfTxInf[index]`).
    `amount` is IntrBkSttlmAmt as written (whatever its currency), None when it is not a number.
    """

    index: int
    path: str
    instruction_id: str | None
    end_to_end_id: str | None
    tx_id: str | None
    uetr: str | None
    amount: Decimal | None
    mapping: Mapping[str, object]
    transaction: Transaction | None
    error: InvalidTransaction | None

    @property
    def id(self) -> str | None:
        """The transaction id used: TxId, else UETR, else a provided EndToEndId."""
        return self.tx_id or self.uetr or _provided(self.end_to_end_id)

    @property
    def id_field(self) -> str:
        """The element the id is read from (PmtId itself when there is none)."""
        for name, value in (
            ("TxId", self.tx_id),
            ("UETR", self.uetr),
            ("EndToEndId", _provided(self.end_to_end_id)),
        ):
            if value is not None:
                return f"{self.path}/PmtId/{name}"
        return f"{self.path}/PmtId"

    @property
    def record(self) -> str:
        """How errors name this transaction: its position and, when it has one, its id."""
        return f"{self.index} ({self.id})" if self.id else str(self.index)

    def rejected(self, error: InvalidTransaction) -> CreditTransfer:
        """This credit transfer, rejected for `error` (located here)."""
        return replace(self, transaction=None, error=replace(error, record=self.record))


@dataclass
class _Sources:
    """Which element each mapping key was read from, so domain errors point into the XML."""

    default: str
    paths: dict[str, str] = field(default_factory=dict)

    def of(self, key: str | None) -> str:
        return self.paths.get(key or "", self.default)


def parse_datetime(text: str, where: str) -> datetime:
    """An ISO 20022 date-time; without an offset it is China Standard Time (see docs)."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise InvalidInput(f"'{text}' is not an ISO 8601 date-time", field=where)
    fraction = (match["fraction"] or "")[:6]
    zone = match["zone"]
    iso = match["base"] + (f".{fraction.ljust(6, '0')}" if fraction else "")
    try:
        moment = datetime.fromisoformat(iso + ("+00:00" if zone == "Z" else zone or ""))
    except ValueError as error:
        raise InvalidInput(f"'{text}' is not a valid date-time: {error}", field=where) from None
    return moment if zone else moment.replace(tzinfo=CHINA_STANDARD_TIME)


def agent_id(institution: Node | None) -> tuple[str | None, str | None]:
    """An institution's code from FinInstnId and its path: BICFI (BIC before .03), then
    ClrSysMmbId/MmbId (e.g. a CNAPS bank code), then Othr/Id."""
    if institution is None:
        return None, None
    for names in (("BICFI",), ("BIC",), ("ClrSysMmbId", "MmbId"), ("Othr", "Id")):
        value = institution.text(*names)
        if value is not None:
            return value, "/".join([institution.path, *names])
    return None, institution.path


def read_credit_transfer(node: Node, index: int, created_at: datetime) -> CreditTransfer:
    """Read one CdtTrfTxInf; `created_at` (GrpHdr/CreDtTm) stands in for a missing AccptncDtTm."""
    amount_text = node.text("IntrBkSttlmAmt")
    amount = None
    if amount_text is not None:
        try:
            amount = parse_decimal(amount_text, f"{node.path}/IntrBkSttlmAmt")
        except InvalidInput:
            amount = None  # reported with its status reason when the mapping is built
    item = CreditTransfer(
        index=index,
        path=node.path,
        instruction_id=node.text("PmtId", "InstrId"),
        end_to_end_id=node.text("PmtId", "EndToEndId"),
        tx_id=node.text("PmtId", "TxId"),
        uetr=node.text("PmtId", "UETR"),
        amount=amount,
        mapping={},
        transaction=None,
        error=None,
    )
    sources = _Sources(default=node.path)
    try:
        item = replace(item, mapping=_mapping(node, item, created_at, sources))
        return replace(item, transaction=Transaction.from_mapping(item.mapping))
    except InvalidTransaction as error:
        return item.rejected(error)
    except InvalidInput as error:
        return item.rejected(
            InvalidTransaction(
                error.reason,
                field=sources.of(error.field),
                status_reason=_STATUS_BY_FIELD.get(error.field or "", _DEFAULT_STATUS),
            )
        )


def _provided(end_to_end_id: str | None) -> str | None:
    return None if end_to_end_id == NOT_PROVIDED else end_to_end_id


def _mapping(
    node: Node, item: CreditTransfer, created_at: datetime, sources: _Sources
) -> dict[str, object]:
    """The transaction mapping of `node`, noting in `sources` where each value came from."""
    if item.id is None:
        raise InvalidTransaction(
            f"no transaction id: PmtId has no TxId, no UETR and no EndToEndId but {NOT_PROVIDED}",
            field=f"{node.path}/PmtId",
        )
    sources.paths["tx_id"] = item.id_field
    payer_account, sources.paths["payer_account"] = _account(node, "DbtrAcct")
    payee_account, sources.paths["payee_account"] = _account(node, "CdtrAcct")
    payer_bank, payer_bank_path = agent_id(node.find("DbtrAgt", "FinInstnId"))
    payee_bank, payee_bank_path = agent_id(node.find("CdtrAgt", "FinInstnId"))
    sources.paths["payer_bank"] = payer_bank_path or f"{node.path}/DbtrAgt"
    sources.paths["payee_bank"] = payee_bank_path or f"{node.path}/CdtrAgt"
    risk = _risk_data(node)
    sources.paths.update({key: path for key, (_, path) in risk.items()})
    channel, sources.paths["channel"] = _channel(node, risk)
    purpose, sources.paths["purpose"] = _purpose(node)
    return {
        "tx_id": item.id,
        "ts": _timestamp(node, created_at, sources),
        "kind": "transfer",
        "payer_account": payer_account,
        "payee_account": payee_account,
        "payer_bank": payer_bank,
        "payee_bank": payee_bank,
        "amount": _amount(node, sources),
        "channel": channel,
        "device_id": risk["device_id"][0] if "device_id" in risk else None,
        "ip": risk["ip"][0] if "ip" in risk else None,
        "city": risk["city"][0] if "city" in risk else None,
        "purpose": purpose,
    }


def _timestamp(node: Node, created_at: datetime, sources: _Sources) -> datetime:
    text = node.text("AccptncDtTm")
    if text is None:
        sources.paths["ts"] = f"{node.path.rpartition('/')[0]}/GrpHdr/CreDtTm"
        return created_at
    where = sources.paths["ts"] = f"{node.path}/AccptncDtTm"
    try:
        return parse_datetime(text, where)
    except InvalidInput as error:
        raise InvalidTransaction(error.reason, field=where, status_reason="DT01") from None


def _amount(node: Node, sources: _Sources) -> Money:
    where = sources.paths["amount"] = f"{node.path}/IntrBkSttlmAmt"
    amount = node.find("IntrBkSttlmAmt")
    text = None if amount is None else amount.text()
    if amount is None or text is None:
        raise InvalidTransaction("required element is missing or empty", field=where)
    currency = amount.attribute("Ccy")
    if currency != ACCEPTED_CURRENCY:
        raise InvalidTransaction(
            f"currency must be {ACCEPTED_CURRENCY}, got {currency or 'none'}",
            field=f"{where}/@Ccy",
            status_reason="AM11",
        )
    try:
        value = parse_decimal(text, where)
    except InvalidInput as error:
        raise InvalidTransaction(error.reason, field=where, status_reason="AM12") from None
    decimals = CURRENCY_DECIMALS[currency]
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise InvalidTransaction(
            f"'{text}' has more than {decimals} decimals, the minor unit of {currency}",
            field=where,
            status_reason="AM12",
        )
    return Money.of_fen(int(value.scaleb(decimals)), field="amount")


def _account(node: Node, name: str) -> tuple[str | None, str]:
    """An account number and its path: Id/IBAN, else Id/Othr/Id."""
    for names in ((name, "Id", "IBAN"), (name, "Id", "Othr", "Id")):
        value = node.text(*names)
        if value is not None:
            return value, "/".join([node.path, *names])
    return None, f"{node.path}/{name}"


def _purpose(node: Node) -> tuple[str | None, str]:
    """Purp/Cd, else Purp/Prtry, else the unstructured remittance lines joined by spaces."""
    for names in (("Purp", "Cd"), ("Purp", "Prtry")):
        value = node.text(*names)
        if value is not None:
            return value, "/".join([node.path, *names])
    remittance = node.child("RmtInf")
    lines = [] if remittance is None else [line.text() for line in remittance.children("Ustrd")]
    text = " ".join(line for line in lines if line)
    return (text or None), f"{node.path}/RmtInf/Ustrd"


def _channel(node: Node, risk: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """The channel: RskData/Chanl as given (the domain checks it), else a LclInstrm/Prtry that
    names a channel, else online. Other LclInstrm/Prtry values mean something else to the
    sender and are left alone."""
    if "channel" in risk:
        return risk["channel"]
    names = ("PmtTpInf", "LclInstrm", "Prtry")
    local = node.text(*names)
    if local is not None and local.upper() in _CHANNELS:
        return _CHANNELS[local.upper()], "/".join([node.path, *names])
    return _DEFAULT_CHANNEL, f"{node.path}/PmtTpInf"


_RISK_FIELDS: Final = {"DvcId": "device_id", "IPAddr": "ip", "City": "city", "Chanl": "channel"}


def _risk_data(node: Node) -> dict[str, tuple[str, str]]:
    """Device, IP, city and channel from SplmtryData/Envlp/RskData (first one found).

    RskData is matched by local name whatever its namespace: written without a namespace of
    its own it inherits the pacs.008 one.
    """
    for supplementary in node.children("SplmtryData"):
        envelope = supplementary.child("Envlp")
        if envelope is None:
            continue
        for element in envelope.element:
            namespace, local = split_tag(element.tag)
            if local != SUPPLEMENTARY_ELEMENT:
                continue
            data = Node(element, f"{envelope.path}/{SUPPLEMENTARY_ELEMENT}", namespace)
            found: dict[str, tuple[str, str]] = {}
            for name, key in _RISK_FIELDS.items():
                value = data.text(name)
                if value is not None:
                    found[key] = (value, f"{data.path}/{name}")
            return found
    return {}
