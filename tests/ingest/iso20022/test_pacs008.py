"""pacs.008 → domain transactions: versions, envelopes, field mapping, located errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import MAX_FEN
from fundwall.domain.transactions import Channel, TransactionKind
from fundwall.ingest.errors import InvalidRecords
from fundwall.ingest.iso20022 import InvalidMessage, InvalidTransaction, parse_pacs008

from .pacs_samples import FIXTURES, credit_transfer, pacs008

PATH = "Document/FIToFICstmrCdtTrf"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "message_name", "count", "has_header"),
    [
        ("pacs008_v02.xml", "pacs.008.001.02", 2, False),
        ("pacs008_v08_apphdr.xml", "pacs.008.001.08", 3, True),
        ("pacs008_v13.xml", "pacs.008.001.13", 1, False),
        ("pacs008_v13_apphdr.xml", "pacs.008.001.13", 2, True),
    ],
)
def test_sample_messages_of_each_version_are_read_whole(
    name: str, message_name: str, count: int, has_header: bool
) -> None:
    message = parse_pacs008(read(name))
    assert message.message_name == message_name
    assert (message.app_header is not None) == has_header
    assert message.group_header.nb_of_txs == count
    assert message.errors == []
    transactions = message.require_valid()
    assert len(transactions) == count
    assert all(item.kind is TransactionKind.TRANSFER for item in transactions)


def test_version_02_maps_bic_clearing_member_other_id_purpose_and_remittance() -> None:
    message = parse_pacs008(read("pacs008_v02.xml"))
    header = message.group_header
    assert header.msg_id == "MSG-V02-0001"
    assert header.ctrl_sum == Decimal("1500.50")
    assert header.total_amount == Decimal("1500.50")
    assert header.settlement_method == "CLRG"
    assert header.clearing_system == "CNAPS"
    assert header.instructing_agent == "ICBKCNBJ"
    first, second = message.require_valid()
    assert first.tx_id == "V02-TX-1"
    # CreDtTm without offset is Beijing time: 09:30 local is 01:30 UTC.
    assert first.ts == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert first.amount.fen == 100_000
    assert (first.payer_bank, first.payee_bank) == ("ICBKCNBJ", "103100000026")
    assert (first.payer_account, first.payee_account) == (
        "6222020200112233445",
        "6228480010203040506",
    )
    assert first.purpose == "SALA"
    assert first.channel is Channel.ONLINE
    assert second.ts == datetime(2024, 5, 1, 1, 29, tzinfo=UTC)
    assert second.amount.fen == 50_050
    assert second.payer_bank == "BANK-A"
    assert second.purpose == "rent May 2024"


def test_version_08_reads_app_header_channel_and_supplementary_risk_data() -> None:
    message = parse_pacs008(read("pacs008_v08_apphdr.xml"))
    assert message.app_header is not None
    assert message.app_header.business_message_id == "BAH-V08-0001"
    assert message.app_header.sender == "ICBKCNBJXXX"
    assert message.app_header.receiver == "PBOCCNBJXXX"
    first, second, third = message.require_valid()
    assert first.channel is Channel.MOBILE
    assert (first.device_id, first.ip, first.city) == (
        "IMEI-358240051111110",
        "203.0.113.7",
        "Xiamen",
    )
    # Nanoseconds are cut to the microseconds a timestamp column holds.
    assert first.ts == datetime(2024, 5, 1, 1, 59, 58, 123456, tzinfo=UTC)
    assert first.payee_bank == "103100000026"
    assert first.purpose == "investment"
    # RskData/Chanl wins; the proprietary local instrument A100 is not a channel.
    assert second.channel is Channel.POS
    assert second.payer_account == "CN0000000000000000001"
    assert second.ts == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert third.amount.fen == 3
    assert message.transactions[0].uetr == "8a562c67-ca16-48ba-b074-65581be6f011"
    assert message.transactions[0].instruction_id == "I-1"


def test_transaction_id_falls_back_to_uetr_then_end_to_end_id() -> None:
    (only,) = parse_pacs008(read("pacs008_v13.xml")).transactions
    assert only.tx_id is None
    assert only.id == "eb6305c9-1f7f-49de-aed0-16487c27b42d"
    assert only.transaction is not None
    assert only.transaction.purpose == "gift"
    first, second = parse_pacs008(read("pacs008_v13_apphdr.xml")).transactions
    assert first.transaction is not None
    assert first.transaction.channel is Channel.ATM
    assert second.id == "E2E-V13-2"


def test_no_usable_id_rejects_that_transaction() -> None:
    item = credit_transfer("T1").replace(
        "<EndToEndId>E2E-T1</EndToEndId><TxId>T1</TxId>", "<EndToEndId>NOTPROVIDED</EndToEndId>"
    )
    (only,) = parse_pacs008(pacs008(item)).transactions
    assert only.error is not None
    assert only.error.field == f"{PATH}/CdtTrfTxInf[1]/PmtId"
    assert only.error.record == "1"


def test_wrong_currency_rejects_only_that_transaction_with_am11() -> None:
    message = parse_pacs008(pacs008(credit_transfer("T1"), credit_transfer("T2", "5.00", "USD")))
    first, second = message.transactions
    assert first.transaction is not None
    assert second.error is not None
    assert second.error.status_reason == "AM11"
    assert second.error.field == f"{PATH}/CdtTrfTxInf[2]/IntrBkSttlmAmt/@Ccy"
    assert second.error.record == "2 (T2)"
    assert "USD" in second.error.reason


@pytest.mark.parametrize(
    ("amount", "words"),
    [("12.345", "more than 2 decimals"), ("abc", "not a decimal"), ("-5", "not a decimal")],
)
def test_bad_amount_is_am12_at_the_amount_element(amount: str, words: str) -> None:
    (only,) = parse_pacs008(pacs008(credit_transfer("T1", amount))).transactions
    assert only.error is not None
    assert only.error.status_reason == "AM12"
    assert only.error.field == f"{PATH}/CdtTrfTxInf[1]/IntrBkSttlmAmt"
    assert words in only.error.reason


def test_zero_amount_is_refused_by_the_domain_and_located_in_the_xml() -> None:
    (only,) = parse_pacs008(pacs008(credit_transfer("T1", "0.00"))).transactions
    assert only.error is not None
    assert only.error.status_reason == "AM12"
    assert only.error.field == f"{PATH}/CdtTrfTxInf[1]/IntrBkSttlmAmt"
    assert "more than zero" in only.error.reason


def test_domain_rule_errors_point_at_the_element_and_carry_a_reason_code() -> None:
    no_payer = credit_transfer("T1", payer=None)
    bad_ip = credit_transfer(
        "T2",
        extra="<SplmtryData><Envlp><RskData><IPAddr>999.1.1.1</IPAddr></RskData></Envlp>"
        "</SplmtryData>",
    )
    first, second = parse_pacs008(pacs008(no_payer, bad_ip)).transactions
    assert first.error is not None
    assert first.error.status_reason == "AC02"
    assert first.error.field == f"{PATH}/CdtTrfTxInf[1]/DbtrAcct"
    assert second.error is not None
    assert second.error.status_reason == "CH16"
    assert second.error.field == f"{PATH}/CdtTrfTxInf[2]/SplmtryData[1]/Envlp/RskData/IPAddr"


def test_bad_acceptance_time_is_dt01() -> None:
    late = credit_transfer("T1", extra="").replace(
        "<ChrgBr>", "<AccptncDtTm>2024-13-01T00:00:00Z</AccptncDtTm><ChrgBr>"
    )
    (only,) = parse_pacs008(pacs008(late)).transactions
    assert only.error is not None
    assert only.error.status_reason == "DT01"
    assert only.error.field == f"{PATH}/CdtTrfTxInf[1]/AccptncDtTm"


def test_duplicate_transaction_id_rejects_the_later_one_with_am05() -> None:
    message = parse_pacs008(pacs008(credit_transfer("T1"), credit_transfer("T1", "1.00")))
    first, second = message.transactions
    assert first.transaction is not None
    assert second.error is not None
    assert second.error.status_reason == "AM05"
    assert "transaction 1" in second.error.reason


def test_require_valid_raises_one_error_listing_every_bad_transaction() -> None:
    message = parse_pacs008(
        pacs008(
            credit_transfer("T1", "1", "USD"), credit_transfer("T2"), credit_transfer("T3", "x")
        )
    )
    with pytest.raises(InvalidRecords) as caught:
        message.require_valid()
    assert [error.record for error in caught.value.errors] == ["1 (T1)", "3 (T3)"]
    assert caught.value.record == "1 (T1)"
    assert "2 invalid records" in str(caught.value)


def test_single_bad_transaction_raises_its_own_error() -> None:
    message = parse_pacs008(pacs008(credit_transfer("T1", "1", "USD")))
    with pytest.raises(InvalidTransaction) as caught:
        message.require_valid()
    assert caught.value.record == "1 (T1)"


def test_nb_of_txs_mismatch_rejects_the_message_with_am18() -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(pacs008(credit_transfer("T1"), nb_of_txs=2, msg_id="M-18"))
    assert caught.value.status_reason == "AM18"
    assert caught.value.field == f"{PATH}/GrpHdr/NbOfTxs"
    assert caught.value.original_msg_id == "M-18"
    assert caught.value.original_msg_name == "pacs.008.001.08"


def test_control_sum_mismatch_rejects_the_message_with_am10() -> None:
    body = pacs008(credit_transfer("T1", "1.50"), credit_transfer("T2", "2"), ctrl_sum="3.49")
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(body)
    assert caught.value.status_reason == "AM10"
    assert "3.5" in caught.value.reason


def test_control_sum_compares_values_not_spelling() -> None:
    message = parse_pacs008(pacs008(credit_transfer("T1", "1.5"), ctrl_sum="1.50000"))
    assert message.group_header.ctrl_sum == Decimal("1.5")


def test_empty_message_and_missing_group_header_fields_are_rejected() -> None:
    with pytest.raises(InvalidMessage, match="no credit transfer"):
        parse_pacs008(pacs008())
    no_id = pacs008(credit_transfer()).replace(b"<MsgId>MSG-1</MsgId>", b"")
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(no_id)
    assert caught.value.field == f"{PATH}/GrpHdr/MsgId"
    bad_count = pacs008(credit_transfer()).replace(b"<NbOfTxs>1<", b"<NbOfTxs>one<")
    with pytest.raises(InvalidMessage, match="not a number of transactions"):
        parse_pacs008(bad_count)


@pytest.mark.parametrize("version", ["01", "14"])
def test_versions_outside_02_to_13_are_refused(version: str) -> None:
    with pytest.raises(InvalidMessage, match="unsupported message namespace"):
        parse_pacs008(pacs008(credit_transfer(), version=version))


def test_another_message_type_is_refused() -> None:
    body = pacs008(credit_transfer()).replace(b"pacs.008.001.08", b"pacs.009.001.08")
    with pytest.raises(InvalidMessage, match=r"pacs\.009"):
        parse_pacs008(body)


def test_app_header_naming_another_message_is_refused() -> None:
    body = read("pacs008_v08_apphdr.xml").replace(
        b"<MsgDefIdr>pacs.008.001.08", b"<MsgDefIdr>pacs.008.001.09"
    )
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(body)
    assert caught.value.field == "AppHdr/MsgDefIdr"


def test_envelope_without_a_single_document_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="expected one Document or FIToFICstmrCdtTrf"):
        parse_pacs008(b"<BizMsg><AppHdr/></BizMsg>")


def test_app_header_outside_head_001_is_refused() -> None:
    body = read("pacs008_v08_apphdr.xml").replace(b"head.001.001.02", b"head.002.001.02")
    with pytest.raises(InvalidMessage, match=r"not a head\.001"):
        parse_pacs008(body)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=MAX_FEN), min_size=1, max_size=5))
def test_amounts_and_control_sum_round_trip_to_fen(amounts: list[int]) -> None:
    texts = [f"{fen // 100}.{fen % 100:02d}" for fen in amounts]
    total = sum(Decimal(text) for text in texts)
    body = pacs008(
        *(credit_transfer(f"T{i}", text) for i, text in enumerate(texts)), ctrl_sum=str(total)
    )
    assert [item.amount.fen for item in parse_pacs008(body).require_valid()] == amounts


def test_invalid_input_is_the_base_of_every_pacs008_error() -> None:
    assert issubclass(InvalidMessage, InvalidInput)
    assert issubclass(InvalidTransaction, InvalidInput)
