"""The notice of assistance and the bank's receipt as PDF: the text a reader extracts from
them holds the document number, the parties, the account, the amounts and the dates."""

from __future__ import annotations

import io

from pypdf import PdfReader

from auth import world  # tests/auth/world.py
from fundwall.crypto import Keyring
from fundwall.domain.police import OrderKind
from fundwall.police import DocumentKind, OrderAnswer, answer_order, issue_order, order_document

from .conftest import BANK_A, OFFICER, Uow, request


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_freezes_notice_and_receipt_carry_its_facts_in_chinese(
    stocked: Uow, keyring: Keyring
) -> None:
    with stocked() as uow:
        freeze = issue_order(
            uow,
            OFFICER,
            request(OrderKind.FREEZE, amount_fen=600_000, document_no="厦公冻〔2024〕77号"),
        )
        notice = _text(order_document(uow, OFFICER, freeze.id, DocumentKind.NOTICE))
        answer_order(uow, BANK_A, freeze.id, OrderAnswer(True, held_fen=550_000), keyring)
        receipt = _text(order_document(uow, BANK_A, freeze.id, DocumentKind.RECEIPT))
        again = order_document(uow, OFFICER, freeze.id, DocumentKind.NOTICE)
        assert again == order_document(uow, OFFICER, freeze.id, DocumentKind.NOTICE)
    for expected in (
        "协助冻结财产通知书",
        "厦公冻〔2024〕77号",
        "PSB1",
        f"银行{world.BANK_A}",
        "账号：A1",
        "¥6,000.00",
        "2024年06月01日 16:00:00",  # issued, Beijing time
        "2024年12月01日 16:00:00",  # six months later
        "A3502032024060001",
        "反电信网络诈骗法",
    ):
        assert expected in notice, expected
    for expected in (
        "回执",
        "厦公冻〔2024〕77号",
        "已执行",
        "¥5,500.00",
        "答复时间",
        "user:ann@B001",
    ):
        assert expected in receipt, expected
