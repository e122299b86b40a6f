"""Answering a pacs.008 with a pacs.002: read the message, decide the readable transfers.

Each credit transfer that could be read is decided (all of them in one `decide_batch` call, in
message order); each that could not is rejected with its ISO status reason; a message that
cannot be accepted as a whole is rejected as a group. With a member's API key, a credit
transfer the member may not have decided is rejected alone with the ISO reason admission gives
(`fundwall.engine.admission`: AG01 another member's account or agent, RC01 an unknown agent,
AC03 an account the creditor agent does not hold, AM05 an id used before by another member or
with other content); one stamped outside the time window DT01 (`fundwall.api.timing`). See
docs/api.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from fundwall.api.service import AccountHolders, DecisionServiceProtocol, as_submitted
from fundwall.api.timing import TimeWindow
from fundwall.domain.decisions import Decision
from fundwall.ingest import (
    InvalidMessage,
    Outcome,
    Pacs008Message,
    build_pacs002,
    build_pacs002_rejection,
    parse_pacs008,
)

SAMPLE_PACS008: Final = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>MSG-20240501-0001</MsgId>
      <CreDtTm>2024-05-01T09:30:00+08:00</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>
    <CdtTrfTxInf>
      <PmtId><EndToEndId>E2E-0001</EndToEndId><TxId>T20240501-000001</TxId></PmtId>
      <IntrBkSttlmAmt Ccy="CNY">1234.56</IntrBkSttlmAmt>
      <ChrgBr>SLEV</ChrgBr>
      <Dbtr><Nm>Payer</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>6222020200112233445</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BICFI>ICBKCNBJ</BICFI></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><BICFI>ABOCCNBJ</BICFI></FinInstnId></CdtrAgt>
      <Cdtr><Nm>Payee</Nm></Cdtr>
      <CdtrAcct><Id><Othr><Id>6228480010203040506</Id></Othr></Id></CdtrAcct>
      <SplmtryData>
        <Envlp>
          <RskData xmlns="urn:fundwall:xsd:rskdata.001.01">
            <DvcId>IMEI-358240051111110</DvcId>
            <IPAddr>203.0.113.7</IPAddr>
            <City>Xiamen</City>
            <Chanl>mobile</Chanl>
          </RskData>
        </Envlp>
      </SplmtryData>
    </CdtTrfTxInf>
  </FIToFICstmrCdtTrf>
</Document>
"""
"""A pacs.008.001.08 with one credit transfer, for the API documentation."""

_SAMPLE_TIME: Final = datetime(2024, 5, 1, 1, 30, 0, 412_000, tzinfo=UTC)
_SAMPLE_REPORT_ID: Final = "5f0c8e2a9b7d4c1e8a6f3b2d1c0e9f8a"


def sample_report() -> str:
    """The report answering SAMPLE_PACS008 when the engine lets the transfer pass."""
    message = parse_pacs008(SAMPLE_PACS008.encode())
    report = build_pacs002(
        message, [("pass", "")], msg_id=_SAMPLE_REPORT_ID, created_at=_SAMPLE_TIME
    )
    return report.decode()


def sample_rejection() -> str:
    """A report rejecting a whole message: it claimed two transactions and held one."""
    error = InvalidMessage(
        "NbOfTxs says 2 but the message holds 1",
        field="Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
        status_reason="AM18",
        original_msg_id="MSG-20240501-0001",
        original_msg_name="pacs.008.001.08",
    )
    report = build_pacs002_rejection(error, msg_id=_SAMPLE_REPORT_ID, created_at=_SAMPLE_TIME)
    return report.decode()


def answer_pacs008(
    service: DecisionServiceProtocol,
    data: bytes,
    *,
    now: datetime,
    max_bytes: int,
    member: str | None,
    window: TimeWindow,
    holders: AccountHolders,
) -> tuple[bytes, bool]:
    """The pacs.002 answering the pacs.008 `data`, and whether the message was accepted.

    Not accepted (False) means rejected as a whole: the report's group status is RJCT and no
    transaction was decided. With `member` (the submitting member; None when access is open),
    only the credit transfers it may have decided are (see the module docstring). A status's
    reasons are the submitting member's reading (`as_submitted`, with `holders`).
    """
    try:
        message = parse_pacs008(data, max_bytes=max_bytes)
    except InvalidMessage as error:
        return build_pacs002_rejection(error, created_at=now), False
    outcomes = _outcomes(service, message, member, window, holders)
    return build_pacs002(message, outcomes, created_at=now), True


def _outcomes(
    service: DecisionServiceProtocol,
    message: Pacs008Message,
    member: str | None,
    window: TimeWindow,
    holders: AccountHolders,
) -> list[Outcome]:
    readable = [item.transaction for item in message.transactions if item.transaction]
    refused = window.refusals(readable)
    if member is not None and readable:
        admitted = service.screen(member, readable)
        refused = [late or why for late, why in zip(refused, admitted, strict=True)]
    decided = [tx for tx, why in zip(readable, refused, strict=True) if why is None]
    made = service.decide_batch(decided, member=member) if decided else []
    decisions = iter(
        as_submitted(decision, tx, holders) for decision, tx in zip(made, decided, strict=True)
    )
    reasons = iter(refused)
    outcomes = []
    for item in message.transactions:
        if item.error is not None:
            outcomes.append(Outcome("invalid", item.error.reason))
            continue
        why = next(reasons)
        if why is None:
            outcomes.append(_outcome(next(decisions)))
        else:
            where = f"{why.field}: " if why.field else ""
            outcomes.append(Outcome("invalid", where + why.reason, why.code))
    return outcomes


def _outcome(decision: Decision) -> Outcome:
    """The decision's action and its reasons in English (AddtlInf, cut to 105 characters)."""
    texts = [f"{reason.rule_id}: {reason.text_en}" for reason in decision.reasons]
    return Outcome(decision.action.value, "; ".join(texts) or f"score {decision.score}")
