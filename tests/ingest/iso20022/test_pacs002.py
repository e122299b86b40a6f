"""pacs.002.001.10 status reports: statuses, reason codes, structure, rejections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, fromstring

import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.ingest.iso20022 import (
    InvalidMessage,
    Outcome,
    Pacs008Message,
    build_pacs002,
    build_pacs002_rejection,
    parse_pacs008,
)

from .pacs_samples import FIXTURES, credit_transfer, pacs008

NS = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"
Q = {"p": NS}
NOW = datetime(2024, 5, 1, 2, 0, 5, tzinfo=UTC)

# The element sequences of the pacs.002.001.10 schema that the report uses, in schema order.
SEQUENCES = {
    "Document": ["FIToFIPmtStsRpt"],
    "FIToFIPmtStsRpt": ["GrpHdr", "OrgnlGrpInfAndSts", "TxInfAndSts", "SplmtryData"],
    "GrpHdr": ["MsgId", "CreDtTm", "InstgAgt", "InstdAgt"],
    "OrgnlGrpInfAndSts": [
        "OrgnlMsgId",
        "OrgnlMsgNmId",
        "OrgnlCreDtTm",
        "OrgnlNbOfTxs",
        "OrgnlCtrlSum",
        "GrpSts",
        "StsRsnInf",
        "NbOfTxsPerSts",
    ],
    "NbOfTxsPerSts": ["DtldNbOfTxs", "DtldSts", "DtldCtrlSum"],
    "TxInfAndSts": [
        "StsId",
        "OrgnlGrpInf",
        "OrgnlInstrId",
        "OrgnlEndToEndId",
        "OrgnlTxId",
        "OrgnlUETR",
        "TxSts",
        "StsRsnInf",
    ],
    "StsRsnInf": ["Orgtr", "Rsn", "AddtlInf"],
    "Rsn": ["Cd", "Prtry"],
}
REQUIRED = {
    "GrpHdr": {"MsgId", "CreDtTm"},
    "OrgnlGrpInfAndSts": {"OrgnlMsgId", "OrgnlMsgNmId"},
    "NbOfTxsPerSts": {"DtldNbOfTxs", "DtldSts"},
}


def local(element: Element) -> str:
    namespace, _, name = element.tag[1:].partition("}")
    assert namespace == NS, f"{element.tag} is outside the pacs.002.001.10 namespace"
    return name


def assert_schema_order(element: Element) -> None:
    """Every child is allowed, in schema order, required ones present, and 1-105 chars of text."""
    name = local(element)
    children = [local(child) for child in element]
    if name in SEQUENCES:
        allowed = SEQUENCES[name]
        assert all(child in allowed for child in children), (name, children)
        positions = [allowed.index(child) for child in children]
        assert positions == sorted(positions), (name, children)
        assert REQUIRED.get(name, set()) <= set(children), (name, children)
    else:
        assert not children and element.text and 1 <= len(element.text) <= 105, name
    for child in element:
        assert_schema_order(child)


def report(message: Pacs008Message, outcomes: Sequence[Outcome | tuple[str, str]]) -> Element:
    document = fromstring(build_pacs002(message, outcomes, msg_id="RPT-1", created_at=NOW))
    assert_schema_order(document)
    return document


def statuses(document: Element) -> list[tuple[str | None, ...]]:
    return [
        (
            info.findtext("p:OrgnlTxId", namespaces=Q),
            info.findtext("p:TxSts", namespaces=Q),
            info.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=Q),
            info.findtext("p:StsRsnInf/p:AddtlInf", namespaces=Q),
        )
        for info in document.iterfind("p:FIToFIPmtStsRpt/p:TxInfAndSts", Q)
    ]


def five() -> Pacs008Message:
    return parse_pacs008(
        pacs008(*(credit_transfer(f"T{i}", f"{i}.00") for i in range(1, 6)), msg_id="M-5")
    )


def test_each_action_maps_to_its_status_and_reason_code() -> None:
    outcomes: list[Outcome | tuple[str, str]] = [
        ("pass", ""),
        ("warn", "payer warned: possible investment scam"),
        ("alert", "analyst review"),
        ("delay", "24 h delay for a new payee"),
        ("block", "payee on the shared fraud list"),
    ]
    document = report(five(), outcomes)
    assert statuses(document) == [
        ("T1", "ACSC", None, None),
        ("T2", "ACCP", "NARR", "payer warned: possible investment scam"),
        ("T3", "PDNG", "NARR", "analyst review"),
        ("T4", "PDNG", "NARR", "24 h delay for a new payee"),
        ("T5", "RJCT", "FRAD", "payee on the shared fraud list"),
    ]
    group = document.find("p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts", Q)
    assert group is not None
    assert group.findtext("p:OrgnlMsgId", namespaces=Q) == "M-5"
    assert group.findtext("p:OrgnlMsgNmId", namespaces=Q) == "pacs.008.001.08"
    assert group.findtext("p:OrgnlNbOfTxs", namespaces=Q) == "5"
    assert group.findtext("p:GrpSts", namespaces=Q) == "PART"
    per_status = {
        entry.findtext("p:DtldSts", namespaces=Q): entry.findtext("p:DtldNbOfTxs", namespaces=Q)
        for entry in group.iterfind("p:NbOfTxsPerSts", Q)
    }
    assert per_status == {"ACSC": "1", "ACCP": "1", "PDNG": "2", "RJCT": "1"}
    header = document.find("p:FIToFIPmtStsRpt/p:GrpHdr", Q)
    assert header is not None
    assert header.findtext("p:MsgId", namespaces=Q) == "RPT-1"
    assert header.findtext("p:CreDtTm", namespaces=Q) == "2024-05-01T02:00:05+00:00"


def test_uniform_outcomes_give_that_group_status() -> None:
    message = five()
    accepted = report(message, [("pass", "")] * 5)
    rejected = report(message, [Outcome("block", "mule account", "AC06")] * 5)
    path = "p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts/p:GrpSts"
    assert accepted.findtext(path, namespaces=Q) == "ACSC"
    assert rejected.findtext(path, namespaces=Q) == "RJCT"
    assert {code for _, _, code, _ in statuses(rejected)} == {"AC06"}


def test_invalid_transaction_is_rejected_with_the_code_its_error_carries() -> None:
    message = parse_pacs008(
        pacs008(credit_transfer("T1"), credit_transfer("T2", "9.00", "USD"), ctrl_sum="109.00")
    )
    bad = message.transactions[1].error
    assert bad is not None
    document = report(message, [("pass", ""), ("invalid", bad.reason)])
    assert statuses(document)[1] == (
        "T2",
        "RJCT",
        "AM11",
        "IntrBkSttlmAmt/@Ccy: currency must be CNY, got USD",
    )


def test_invalid_without_a_parse_error_is_ch16() -> None:
    document = report(five(), [("invalid", "duplicate of an earlier message")] + [("pass", "")] * 4)
    assert statuses(document)[0][1:3] == ("RJCT", "CH16")


def test_long_reason_is_cut_to_105_characters() -> None:
    document = report(five(), [("block", "x" * 300)] + [("pass", "")] * 4)
    text = statuses(document)[0][3]
    assert text is not None
    assert len(text) == 105
    assert text.endswith("…")


def test_original_identifications_are_echoed() -> None:
    message = parse_pacs008((FIXTURES / "pacs008_v08_apphdr.xml").read_bytes())
    document = report(message, [("pass", "")] * 3)
    first = document.find("p:FIToFIPmtStsRpt/p:TxInfAndSts", Q)
    assert first is not None
    assert [local(child) for child in first] == [
        "OrgnlInstrId",
        "OrgnlEndToEndId",
        "OrgnlTxId",
        "OrgnlUETR",
        "TxSts",
    ]
    assert first.findtext("p:OrgnlUETR", namespaces=Q) == "8a562c67-ca16-48ba-b074-65581be6f011"


def test_output_declares_utf8_and_the_pacs002_default_namespace() -> None:
    output = build_pacs002(five(), [("pass", "")] * 5, created_at=NOW)
    assert output.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert f'<Document xmlns="{NS}">'.encode() in output
    generated = fromstring(output).findtext("p:FIToFIPmtStsRpt/p:GrpHdr/p:MsgId", namespaces=Q)
    assert generated is not None
    assert 1 <= len(generated) <= 35


def test_caller_mistakes_are_programming_errors() -> None:
    message = five()
    with pytest.raises(ValueError, match="4 outcomes for 5"):
        build_pacs002(message, [("pass", "")] * 4, created_at=NOW)
    with pytest.raises(ValueError, match="unknown action 'allow'"):
        build_pacs002(message, [("allow", "")] * 5, created_at=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_pacs002(message, [("pass", "")] * 5, created_at=datetime(2024, 5, 1))
    broken = parse_pacs008(pacs008(credit_transfer("T1", "1", "USD")))
    with pytest.raises(ValueError, match="can only be 'invalid'"):
        build_pacs002(broken, [("pass", "")], created_at=NOW)


def test_whole_message_rejection_cites_the_original_and_the_reason() -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(pacs008(credit_transfer(), nb_of_txs=3, msg_id="M-BAD"))
    document = fromstring(build_pacs002_rejection(caught.value, msg_id="RPT-2", created_at=NOW))
    assert_schema_order(document)
    group = document.find("p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts", Q)
    assert group is not None
    assert group.findtext("p:OrgnlMsgId", namespaces=Q) == "M-BAD"
    assert group.findtext("p:OrgnlMsgNmId", namespaces=Q) == "pacs.008.001.08"
    assert group.findtext("p:GrpSts", namespaces=Q) == "RJCT"
    assert group.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=Q) == "AM18"
    assert "NbOfTxs says 3" in (group.findtext("p:StsRsnInf/p:AddtlInf", namespaces=Q) or "")
    assert document.find("p:FIToFIPmtStsRpt/p:TxInfAndSts", Q) is None


def test_rejection_of_unreadable_input_uses_notprovided_and_ff01() -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(b"<not xml")
    document = fromstring(build_pacs002_rejection(caught.value, created_at=NOW))
    assert_schema_order(document)
    group = document.find("p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts", Q)
    assert group is not None
    assert group.findtext("p:OrgnlMsgId", namespaces=Q) == "NOTPROVIDED"
    assert group.findtext("p:OrgnlMsgNmId", namespaces=Q) == "pacs.008"
    assert group.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=Q) == "FF01"


def test_rejection_for_a_plain_invalid_input_is_ff01() -> None:
    document = fromstring(
        build_pacs002_rejection(InvalidInput("bad batch", "amount"), created_at=NOW)
    )
    assert (
        document.findtext(
            "p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd", namespaces=Q
        )
        == "FF01"
    )
