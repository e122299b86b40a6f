"""pacs.008 as banks really send it: in envelopes, bare, in other encodings; faults located."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from fundwall.ingest.iso20022 import (
    InvalidMessage,
    build_pacs002,
    build_pacs002_rejection,
    parse_pacs008,
)

from .pacs_samples import FIXTURES, credit_transfer, pacs008

PATH = "Document/FIToFICstmrCdtTrf"
Q = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"}


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utf8_to(body: bytes, encoding: str, declared: str, mark: bytes = b"") -> bytes:
    """`body` (a UTF-8 sample) re-encoded in `encoding`, its declaration naming `declared`."""
    text = body.decode().replace('encoding="UTF-8"', f'encoding="{declared}"', 1)
    return mark + text.encode(encoding)


def with_city(city: str, tx_id: str = "T1") -> str:
    return credit_transfer(
        tx_id,
        extra=f"<SplmtryData><Envlp><RskData><City>{city}</City></RskData></Envlp></SplmtryData>",
    )


# Envelopes and the bare message element --------------------------------------------------


def test_a_document_nested_in_a_fednow_style_envelope_is_read() -> None:
    message = parse_pacs008(read("pacs008_v08_fednow_envelope.xml"))
    assert message.message_name == "pacs.008.001.08"
    assert message.app_header is not None
    assert message.app_header.business_message_id == "BAH-FDN-0001"
    assert message.app_header.sender == "ICBKCNBJ"
    first, second = message.require_valid()
    assert first.tx_id == "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    assert first.purpose == "tuition"
    assert second.tx_id == "FDN-TX-2"
    assert message.transactions[1].path == f"{PATH}/CdtTrfTxInf[2]"


def test_an_envelope_must_hold_one_message_and_at_most_one_app_header() -> None:
    single = read("pacs008_v08_fednow_envelope.xml")
    start = single.index(b"<FedNowCustomerCreditTransfer>")
    end = single.index(b"</FedNowCustomerCreditTransfer>") + len(b"</FedNowCustomerCreditTransfer>")
    twice = single[:end] + single[start:end] + single[end:]
    with pytest.raises(InvalidMessage, match="holds 2 of them and 2 AppHdr") as caught:
        parse_pacs008(twice)
    assert caught.value.field == "FedNowIncoming"
    assert caught.value.status_reason == "FF01"


def test_the_bare_message_element_of_the_iso_examples_is_read() -> None:
    message = parse_pacs008(read("pacs008_bare_message.xml"))
    assert message.message_name == "pacs.008"
    assert message.group_header.msg_id == "MSG-BARE-0001"
    (only,) = message.require_valid()
    assert (only.tx_id, only.purpose, only.amount.fen) == ("BARE-TX-1", "GIFT", 88_800)
    assert message.transactions[0].path == "FIToFICstmrCdtTrf/CdtTrfTxInf[1]"


def test_a_bare_message_element_in_a_namespace_has_that_version() -> None:
    body = pacs008(credit_transfer("T1"), version="11")
    bare = body.replace(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.11">', b"")
    bare = bare.replace(b"</Document>", b"").replace(
        b"<FIToFICstmrCdtTrf>",
        b'<FIToFICstmrCdtTrf xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.11">',
    )
    message = parse_pacs008(bare)
    assert message.message_name == "pacs.008.001.11"
    assert [tx.tx_id for tx in message.require_valid()] == ["T1"]
    with pytest.raises(InvalidMessage, match="unsupported message namespace") as caught:
        parse_pacs008(bare.replace(b"pacs.008.001.11", b"pacs.009.001.11"))
    assert caught.value.field == "FIToFICstmrCdtTrf"


def test_a_bare_message_without_namespace_takes_its_version_from_the_app_header() -> None:
    bare = read("pacs008_bare_message.xml").split(b"-->", 1)[1]
    header = b"""<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
      <BizMsgIdr>B-1</BizMsgIdr><MsgDefIdr>%s</MsgDefIdr></AppHdr>"""
    message = parse_pacs008(b"<Msg>" + header % b"pacs.008.001.09" + bare + b"</Msg>")
    assert message.message_name == "pacs.008.001.09"
    with pytest.raises(InvalidMessage, match="AppHdr names the unsupported message") as caught:
        parse_pacs008(b"<Msg>" + header % b"pacs.009.001.09" + bare + b"</Msg>")
    assert caught.value.field == "AppHdr/MsgDefIdr"


def test_errors_in_a_bare_message_name_its_own_elements() -> None:
    bare = read("pacs008_bare_message.xml").replace(
        b'Ccy="CNY">888.00</IntrBk', b'Ccy="USD">888.00</IntrBk'
    )
    (only,) = parse_pacs008(bare).transactions
    assert only.error is not None
    assert only.error.field == "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt/@Ccy"


# Encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "city", "purpose", "message_name"),
    [
        ("pacs008_v09_utf16.xml", "厦门", "房租 五月", "pacs.008.001.09"),
        ("pacs008_v10_latin1.xml", "Zürich", "Miete für Mai", "pacs.008.001.10"),
        ("pacs008_v08_gb18030.xml", "厦门", "房租 五月", "pacs.008.001.08"),
    ],
)
def test_messages_in_other_encodings_are_read_as_declared(
    name: str, city: str, purpose: str, message_name: str
) -> None:
    message = parse_pacs008(read(name))
    assert message.message_name == message_name
    (only,) = message.require_valid()
    assert (only.city, only.purpose) == (city, purpose)


@pytest.mark.parametrize(
    ("encoding", "declared", "mark"),
    [
        ("utf-16-le", "UTF-16", b""),
        ("utf-16-be", "UTF-16", b""),
        ("utf-16-be", "UTF-16", b"\xfe\xff"),
        ("utf-16-le", "UTF-16LE", b""),
        ("utf-8", "UTF-8", b"\xef\xbb\xbf"),
        ("gbk", "GBK", b""),
        ("gb2312", "gb2312", b""),
        ("latin-1", "iso_8859-1", b""),
        ("latin-1", "latin1", b""),
    ],
)
def test_every_accepted_encoding_reads_the_same_characters(
    encoding: str, declared: str, mark: bytes
) -> None:
    city = "Zürich" if encoding == "latin-1" else "厦门"
    message = parse_pacs008(utf8_to(pacs008(with_city(city)), encoding, declared, mark))
    assert message.require_valid()[0].city == city


@pytest.mark.parametrize(
    "declared", ["Shift_JIS", "UTF-7", "utf-32", "windows-1252", "rot13", "base64", "foo"]
)
def test_an_encoding_not_accepted_is_refused_by_name(declared: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(utf8_to(pacs008(credit_transfer()), "ascii", declared))
    assert caught.value.status_reason == "FF01"
    assert f"encoding '{declared}' is not accepted" in caught.value.reason
    assert "UTF-8, UTF-16, ISO-8859-1" in caught.value.reason


def test_utf32_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="UTF-32LE, which is not accepted"):
        parse_pacs008(utf8_to(pacs008(credit_transfer()), "utf-32", "UTF-32"))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (utf8_to(pacs008(credit_transfer()), "ascii", "UTF-16"), "bytes are not UTF-16"),
        (
            utf8_to(pacs008(credit_transfer()), "utf-16-le", "ISO-8859-1", b"\xff\xfe"),
            "names ISO-8859-1 but the message's bytes are UTF-16LE",
        ),
        (
            utf8_to(pacs008(credit_transfer()), "utf-8", "ISO-8859-1", b"\xef\xbb\xbf"),
            "bytes are UTF-8",
        ),
        (
            utf8_to(pacs008(credit_transfer()), "utf-16-be", "UTF-16LE", b"\xfe\xff"),
            "bytes are UTF-16BE",
        ),
    ],
)
def test_a_declaration_that_contradicts_the_bytes_is_refused(data: bytes, words: str) -> None:
    with pytest.raises(InvalidMessage, match=words):
        parse_pacs008(data)


def test_bytes_not_valid_in_the_declared_encoding_name_the_element() -> None:
    body = pacs008(credit_transfer("T1"), credit_transfer("T2"))
    latin = body.replace(b"<Nm>Payee</Nm>", "<Nm>Müller</Nm>".encode("latin-1"))
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(latin)
    assert caught.value.field == f"{PATH}/CdtTrfTxInf/Cdtr/Nm"
    assert caught.value.reason == "malformed XML: byte 0xFC is not valid UTF-8: line 20, column 17"
    ascii_declared = latin.replace(b'encoding="UTF-8"', b'encoding="US-ASCII"')
    with pytest.raises(InvalidMessage, match="byte 0xFC is not valid US-ASCII"):
        parse_pacs008(ascii_declared)


# The hardening holds in every encoding ----------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>&lol8;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"""

EXTERNAL_ENTITY = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>&secret;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
@pytest.mark.parametrize(
    ("encoding", "codec"),
    [("UTF-16", "utf-16"), ("ISO-8859-1", "latin-1"), ("GB18030", "gb18030")],
)
def test_a_dtd_is_refused_in_every_encoding(payload: str, encoding: str, codec: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(payload.format(encoding=encoding).encode(codec))
    assert "document type declaration" in caught.value.reason
    assert "root:" not in str(caught.value)


def test_xinclude_is_never_processed() -> None:
    envelope = f"""<?xml version="1.0" encoding="UTF-16"?>
<Msg xmlns:xi="http://www.w3.org/2001/XInclude">
  <xi:include href="file:///etc/passwd" parse="text"/>
  {pacs008(credit_transfer("T1")).decode().split("?>", 1)[1]}
</Msg>""".replace(
        "<Dbtr><Nm>Payer</Nm></Dbtr>",
        '<Dbtr><Nm><xi:include href="file:///etc/passwd" parse="text"/></Nm></Dbtr>',
    )
    message = parse_pacs008(envelope.encode("utf-16"))
    assert [tx.tx_id for tx in message.require_valid()] == ["T1"]
    assert "root:" not in repr(message)


def test_deep_nesting_is_refused_and_its_fault_shown_by_the_innermost_elements() -> None:
    depth = 100_000
    nested = "<a>" * depth + "</a>" * depth
    with pytest.raises(InvalidMessage, match="holds 0 of them and 0 AppHdr"):
        parse_pacs008(nested.encode("utf-16"))
    broken = ("<a>" * depth + "\x01").encode("utf-16")
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(broken)
    assert caught.value.field == "…/" + "/".join(["a"] * 12)


# A bad character names its element --------------------------------------------------------


@pytest.mark.parametrize("bad", ["\x01", "&#1;", "&#xFFFE;", "\ud800"])
def test_a_character_xml_forbids_names_its_element(bad: str) -> None:
    body = pacs008(credit_transfer("T1"), credit_transfer("T2")).decode()
    second = body.rindex("<Nm>Payee</Nm>")
    text = body[:second] + f"<Nm>Pay{bad}ee</Nm>" + body[second + len("<Nm>Payee</Nm>") :]
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(text.encode("utf-8", errors="surrogatepass"))
    assert caught.value.field == f"{PATH}/CdtTrfTxInf[2]/Cdtr/Nm"
    assert caught.value.status_reason == "FF01"
    report = fromstring(build_pacs002_rejection(caught.value))
    reason = report.findtext(
        "p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts/p:StsRsnInf/p:AddtlInf", namespaces=Q
    )
    assert reason is not None
    assert reason.startswith("CdtTrfTxInf[2]/Cdtr/Nm: malformed XML: ")


@pytest.mark.parametrize(
    ("transfer", "element", "words"),
    [
        (credit_transfer("T\u202e1"), "PmtId/TxId", "only letters, digits"),
        (with_city("Xia\u0085men"), "SplmtryData[1]/Envlp/RskData/City", "control characters"),
        (
            credit_transfer("T1", extra="<Purp><Prtry>re\u200bnt\x7f</Prtry></Purp>"),
            "Purp/Prtry",
            "control characters",
        ),
    ],
)
def test_a_ch16_refusal_names_the_element_holding_the_bad_character(
    transfer: str, element: str, words: str
) -> None:
    message = parse_pacs008(pacs008(credit_transfer("OK-1"), transfer))
    bad = message.transactions[1]
    assert bad.error is not None
    assert bad.error.status_reason == "CH16"
    assert bad.error.field == f"{PATH}/CdtTrfTxInf[2]/{element}"
    report = fromstring(build_pacs002(message, [("pass", ""), ("invalid", bad.error.reason)]))
    texts = [
        info.findtext("p:StsRsnInf/p:AddtlInf", namespaces=Q)
        for info in report.iterfind("p:FIToFIPmtStsRpt/p:TxInfAndSts", Q)
    ]
    assert texts[0] is None
    assert texts[1] is not None
    assert texts[1].startswith(f"{element}: ")
    assert words in texts[1]


# The report echoes the group header as received -------------------------------------------


@pytest.mark.parametrize(
    "created",
    [
        "2024-05-01T02:00:00Z",
        "2024-05-01T10:00:00",
        "2024-05-01T10:00:00.123456789+08:00",
        "2024-05-01T02:00:00.5-00:00",
        "2024-05-01T10:00:00+08:00",
    ],
)
def test_orgnl_cre_dt_tm_echoes_cre_dt_tm_unchanged(created: str) -> None:
    body = pacs008(credit_transfer("T1")).replace(b"2024-05-01T10:00:00+08:00", created.encode(), 1)
    report = fromstring(build_pacs002(parse_pacs008(body), [("pass", "")]))
    group = "p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts"
    assert report.findtext(f"{group}/p:OrgnlCreDtTm", namespaces=Q) == created


def test_orgnl_ctrl_sum_echoes_ctrl_sum_unchanged() -> None:
    message = parse_pacs008(read("pacs008_v08_fednow_envelope.xml"))
    report = fromstring(build_pacs002(message, [("pass", "")] * 2))
    group = "p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts"
    assert report.findtext(f"{group}/p:OrgnlCtrlSum", namespaces=Q) == "0320.50"
    assert report.findtext(f"{group}/p:OrgnlCreDtTm", namespaces=Q) == (
        "2024-05-03T09:15:00.250+08:00"
    )
