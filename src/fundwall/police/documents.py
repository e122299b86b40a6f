"""The official documents of a police order as PDF, in Chinese: the notice of assistance
(协助查询/止付/冻结 … 通知书) the unit sends the bank, and the bank's receipt (回执).

reportlab draws them with its built-in CID font STSong-Light (宋体), which PDF readers carry
themselves: nothing to download or embed, so a fresh install with pip alone prints Chinese.
The notice goes to the bank that holds the account, so it shows the account number in full.
`invariant` output: the same order gives the same bytes (no creation time inside).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict
from fundwall.domain.money import Money
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.police.model import DocumentKind, OrderView
from fundwall.police.queries import order_view, visible_order
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

FONT: Final = "STSong-Light"
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
NOTICE_TITLE: Final = {
    OrderKind.QUERY: "协助查询财产通知书",
    OrderKind.STOP_PAYMENT: "紧急止付通知书",
    OrderKind.FREEZE: "协助冻结财产通知书",
    OrderKind.RENEWAL: "继续止付/继续冻结通知书",
    OrderKind.RELEASE: "解除止付/解除冻结通知书",
}
MARGIN: Final = 64
LINE: Final = 22
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def shown_time(moment: datetime | None) -> str:
    """A time as the documents print it, in Beijing time."""
    if moment is None:
        return "—"
    return moment.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M:%S")


def _amount(fen: int | None, whole: str) -> str:
    return whole if fen is None else str(Money(fen))


def notice_lines(order: OrderView, unit_name: str, bank_name: str) -> list[tuple[str, str]]:
    item = order.item
    lines = [
        ("文书编号", item.document_no),
        ("发文单位", f"{unit_name}（{item.police_unit}）"),
        ("协助执行单位", f"{bank_name}（{item.bank_code}）"),
        ("案件编号", order.police_case_no),
        ("法律依据", order.legal_basis),
        ("承办民警", order.officers),
        ("账号", item.account_no),
    ]
    if order.target_document_no is not None:
        lines.append(("原文书编号", order.target_document_no))
    if item.kind is OrderKind.QUERY:
        lines.append(
            ("查询期间", f"{shown_time(order.period_from)} 至 {shown_time(order.period_to)}")
        )
        lines.append(("查询内容", "账户持有人、余额及查询期间的交易明细"))
    elif item.kind is OrderKind.RELEASE:
        lines.append(("解除时间", shown_time(order.starts_at)))
    else:
        lines.append(("止付/冻结金额", _amount(item.amount_fen, "账户全部余额（只收不付）")))
        lines.append(("期限", f"自 {shown_time(order.starts_at)} 至 {shown_time(item.ends_at)}"))
        if order.major_case:
            lines.append(("案件类别", "重大案件"))
    lines.append(("签发时间", shown_time(item.issued_at)))
    return lines


def receipt_lines(order: OrderView, unit_name: str, bank_name: str) -> list[tuple[str, str]]:
    item = order.item
    refused = item.status is OrderStatus.REFUSED
    lines = [
        ("文书编号", item.document_no),
        ("来文单位", f"{unit_name}（{item.police_unit}）"),
        ("执行单位", f"{bank_name}（{item.bank_code}）"),
        ("账号", item.account_no),
        ("执行结果", "拒绝执行" if refused else "已执行"),
    ]
    if refused:
        lines.append(("拒绝理由", order.refusal_reason or "—"))
    elif item.kind in (OrderKind.STOP_PAYMENT, OrderKind.FREEZE):
        lines.append(("实际控制金额", _amount(order.held_fen, "—")))
        lines.append(("控制期限至", shown_time(item.ends_at)))
    elif item.kind is OrderKind.QUERY and order.answer is not None:
        lines.append(("账户余额", str(Money(int(order.answer["balance_fen"])))))
        lines.append(("交易笔数", str(len(order.answer["transactions"]))))
    lines.append(("答复时间", shown_time(order.answered_at)))
    lines.append(("答复人", order.answered_by or "—"))
    return lines


def render(order: OrderView, kind: DocumentKind, unit_name: str, bank_name: str) -> bytes:
    """The PDF of `kind` for `order`, naming its parties by `unit_name` and `bank_name`."""
    if kind is DocumentKind.NOTICE:
        title = NOTICE_TITLE[order.item.kind]
        lines = notice_lines(order, unit_name, bank_name)
        closing = f"请贵单位依法协助办理。{unit_name}"
    else:
        title = f"{NOTICE_TITLE[order.item.kind]}回执"
        lines = receipt_lines(order, unit_name, bank_name)
        closing = f"特此回复。{bank_name}"
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{title} {order.item.document_no}")
    canvas.setFont(FONT, 20)
    canvas.drawCentredString(width / 2, height - MARGIN - 10, title)
    y = height - MARGIN - 60
    canvas.setFont(FONT, 12)
    for label, value in [*lines, ("", closing)]:
        text = f"{label}：{value}" if label else value
        for part in simpleSplit(text, FONT, 12, width - 2 * MARGIN):
            if y < MARGIN:
                canvas.showPage()
                canvas.setFont(FONT, 12)
                y = height - MARGIN
            canvas.drawString(MARGIN, y, part)
            y -= LINE
    canvas.save()
    return buffer.getvalue()


@use_case(Permission.VIEW_CUSTOMER_DATA)
def order_document(uow: UnitOfWork, actor: Actor, order_id: int, kind: DocumentKind) -> bytes:
    """The notice or the receipt of one of the actor's orders, as PDF; a receipt once the
    bank has answered (Conflict before)."""
    kind = DocumentKind(kind)
    session = uow.session
    order = order_view(session, visible_order(session, actor, order_id), uow.clock.now())
    if kind is DocumentKind.RECEIPT and order.answered_at is None:
        raise Conflict(f"order {order.item.document_no} has no receipt: the bank has not answered")
    names = {
        code: institution.name_zh if institution is not None else code
        for code in (order.item.police_unit, order.item.bank_code)
        for institution in [session.get(InstitutionRow, code)]
    }
    return render(order, kind, names[order.item.police_unit], names[order.item.bank_code])
