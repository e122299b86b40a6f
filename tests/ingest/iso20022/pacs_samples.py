"""Sample pacs.008 messages for the ISO 20022 tests: the fixture files and a small builder."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures"


def credit_transfer(
    tx_id: str = "TX-1",
    amount: str = "100.00",
    currency: str = "CNY",
    *,
    payer: str | None = "6222020200112233445",
    payee: str = "6228480010203040506",
    extra: str = "",
) -> str:
    """One CdtTrfTxInf; `extra` is inserted before the remittance information."""
    debtor_account = f"<DbtrAcct><Id><Othr><Id>{payer}</Id></Othr></Id></DbtrAcct>" if payer else ""
    return f"""
    <CdtTrfTxInf>
      <PmtId><EndToEndId>E2E-{tx_id}</EndToEndId><TxId>{tx_id}</TxId></PmtId>
      <IntrBkSttlmAmt Ccy="{currency}">{amount}</IntrBkSttlmAmt>
      <ChrgBr>SLEV</ChrgBr>
      <Dbtr><Nm>Payer</Nm></Dbtr>
      {debtor_account}
      <DbtrAgt><FinInstnId><BICFI>ICBKCNBJ</BICFI></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><BICFI>ABOCCNBJ</BICFI></FinInstnId></CdtrAgt>
      <Cdtr><Nm>Payee</Nm></Cdtr>
      <CdtrAcct><Id><Othr><Id>{payee}</Id></Othr></Id></CdtrAcct>
      {extra}
    </CdtTrfTxInf>"""


def pacs008(
    *transactions: str,
    version: str = "08",
    nb_of_txs: int | None = None,
    ctrl_sum: str | None = None,
    msg_id: str = "MSG-1",
) -> bytes:
    """A pacs.008 Document holding `transactions` (CdtTrfTxInf snippets)."""
    count = len(transactions) if nb_of_txs is None else nb_of_txs
    control = f"<CtrlSum>{ctrl_sum}</CtrlSum>" if ctrl_sum is not None else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.{version}">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>{msg_id}</MsgId>
      <CreDtTm>2024-05-01T10:00:00+08:00</CreDtTm>
      <NbOfTxs>{count}</NbOfTxs>
      {control}
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>
    {"".join(transactions)}
  </FIToFICstmrCdtTrf>
</Document>""".encode()
