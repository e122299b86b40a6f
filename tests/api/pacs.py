"""pacs.008 messages for the API tests: any version, bare or inside an AppHdr envelope."""

from __future__ import annotations

from xml.etree.ElementTree import Element, fromstring

from fundwall.api.iso20022 import SAMPLE_PACS008

PACS002 = "{urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10}"


def transfer(
    tx_id: str,
    amount: str = "100.00",
    *,
    currency: str = "CNY",
    version: str = "08",
    debtor_agent: str = "ICBKCNBJ",
    debtor_account: str = "6222020200112233445",
    creditor_agent: str = "ABOCCNBJ",
    creditor_account: str = "6228480010203040506",
) -> str:
    """One CdtTrfTxInf; version 02 names agents by BIC, later ones by BICFI."""
    bic = "BIC" if version == "02" else "BICFI"
    return f"""
    <CdtTrfTxInf>
      <PmtId><EndToEndId>E2E-{tx_id}</EndToEndId><TxId>{tx_id}</TxId></PmtId>
      <IntrBkSttlmAmt Ccy="{currency}">{amount}</IntrBkSttlmAmt>
      <ChrgBr>SLEV</ChrgBr>
      <Dbtr><Nm>Payer</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>{debtor_account}</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><{bic}>{debtor_agent}</{bic}></FinInstnId></DbtrAgt>
      <CdtrAgt><FinInstnId><{bic}>{creditor_agent}</{bic}></FinInstnId></CdtrAgt>
      <Cdtr><Nm>Payee</Nm></Cdtr>
      <CdtrAcct><Id><Othr><Id>{creditor_account}</Id></Othr></Id></CdtrAcct>
    </CdtTrfTxInf>"""


def pacs008(
    *transfers: str,
    version: str = "08",
    nb_of_txs: int | None = None,
    app_header: bool = False,
    msg_id: str = "MSG-1",
) -> bytes:
    """A pacs.008.001.<version> holding `transfers`, optionally wrapped with a head.001 AppHdr."""
    count = len(transfers) if nb_of_txs is None else nb_of_txs
    document = f"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.{version}">
  <FIToFICstmrCdtTrf>
    <GrpHdr>
      <MsgId>{msg_id}</MsgId>
      <CreDtTm>2024-05-01T10:00:00+08:00</CreDtTm>
      <NbOfTxs>{count}</NbOfTxs>
      <SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>
    </GrpHdr>
    {"".join(transfers)}
  </FIToFICstmrCdtTrf>
</Document>"""
    if app_header:
        document = f"""<BizMsg>
  <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
    <Fr><FIId><FinInstnId><BICFI>ICBKCNBJ</BICFI></FinInstnId></FIId></Fr>
    <To><FIId><FinInstnId><BICFI>PBOCCNBJ</BICFI></FinInstnId></FIId></To>
    <BizMsgIdr>BAH-1</BizMsgIdr>
    <MsgDefIdr>pacs.008.001.{version}</MsgDefIdr>
    <CreDt>2024-05-01T02:00:00Z</CreDt>
  </AppHdr>
  {document}
</BizMsg>"""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{document}'.encode()


def statuses(report: bytes) -> list[tuple[str | None, str, str | None]]:
    """(OrgnlTxId, TxSts, reason code) of each transaction in a pacs.002."""
    root = fromstring(report)
    return [
        (
            info.findtext(f"{PACS002}OrgnlTxId"),
            info.findtext(f"{PACS002}TxSts", ""),
            info.findtext(f"{PACS002}StsRsnInf/{PACS002}Rsn/{PACS002}Cd"),
        )
        for info in root.iter(f"{PACS002}TxInfAndSts")
    ]


def group(report: bytes) -> Element:
    """OrgnlGrpInfAndSts of a pacs.002."""
    found = fromstring(report).find(f"{PACS002}FIToFIPmtStsRpt/{PACS002}OrgnlGrpInfAndSts")
    assert found is not None
    return found


def member_pacs008(tx_id: str, debtor_agent: str, debtor_account: str, created: str) -> str:
    """The documented sample pacs.008 (`SAMPLE_PACS008`) as a member's own: its transaction id,
    debtor agent (the member's code), debtor account and creation time."""
    replacements = {
        "T20240501-000001": tx_id,
        "ICBKCNBJ": debtor_agent,
        "6222020200112233445": debtor_account,
        "2024-05-01T09:30:00+08:00": created,
    }
    text = SAMPLE_PACS008
    for sample, value in replacements.items():
        assert sample in text, sample
        text = text.replace(sample, value)
    return text
