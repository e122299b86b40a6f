"""The holding bank executes an approved return plan (资金返还执行): one transfer back per
victim's share, each with its receipt (回执, PDF), within the working days the approval set.

Executing a share lowers the freeze by that amount in the same commit: the freeze's
restriction ends and one of what is still held takes over until the same end (or none when
nothing is left), through `fundwall.accounts.queries`, the engine's one door for
restrictions, so the engine stops holding what went back while the residual stays frozen.
"""

from __future__ import annotations

import io
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict, NotFound
from fundwall.domain.identity import mask_account
from fundwall.domain.money import Money
from fundwall.engine.controls.changes import reference
from fundwall.fund_returns.allocation import AllocationMethod
from fundwall.fund_returns.model import PlanStatus, PlanView
from fundwall.fund_returns.queries import (
    allocations_of,
    plan_order,
    plan_view,
    shrink_freeze,
    still_frozen,
    visible_plan,
)
from fundwall.police.documents import FONT, LINE, MARGIN, shown_time
from fundwall.police.queries import MAX_ID
from fundwall.store.return_tables import ReturnAllocationRow, ReturnPlanRow
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

EXECUTABLE: Final = (PlanStatus.APPROVED.value, PlanStatus.EXECUTING.value)
METHOD_ZH: Final = {
    AllocationMethod.DIRECT: "直接返还",
    AllocationMethod.PROPORTIONAL: "按比例分配",
}
LABEL_WIDTH: Final = 110


@use_case(Permission.EXECUTE_ORDERS)
def execute_return(
    uow: UnitOfWork, actor: Actor, plan_id: int, allocation_id: int, transfer_ref: str
) -> PlanView:
    """The bank's transfer back of one share of an approved plan on its account, named by the
    bank's own reference (流水号); the freeze shrinks by the amount. Audited and committed.

    Refusals: a plan not yet approved (in particular during its objection period), a share
    sent back already or of nothing, a freeze no longer in force."""
    session, now = uow.session, uow.clock.now()
    row = visible_plan(session, actor, plan_id)
    _require_executable(row)
    share = _share_of(session, row, allocation_id)
    if share.executed_at is not None:
        raise Conflict(f"share {share.id} went back at {share.executed_at.isoformat()}")
    if share.amount_fen == 0:
        raise Conflict(f"share {share.id} is of nothing: no transfer to make")
    order = plan_order(session, row)
    still_held = still_frozen(session, order, now) - share.amount_fen
    if still_held < 0:
        raise Conflict(f"freeze {order.document_no} holds less than this share")
    share.transfer_ref = reference(transfer_ref, "transfer_ref")
    shrink_freeze(uow, actor, order, still_held, f"资金返还 {order.document_no} 方案{row.id}")
    share.executed_at, share.executed_by = now, actor.audit_id
    session.flush()
    left = [a for a in allocations_of(session, row.id) if a.amount_fen and a.executed_at is None]
    row.status = (PlanStatus.EXECUTING if left else PlanStatus.EXECUTED).value
    row.executed_at = None if left else now
    row.updated_at = now
    uow.audit.record(
        actor,
        "execute_return",
        f"return_plan:{row.id}",
        {
            "share": share.id,
            "victim_account": mask_account(share.victim_account),
            "amount_fen": share.amount_fen,
            "transfer_ref": share.transfer_ref,
            "still_frozen_fen": still_held,
            "late": row.execute_by is not None and now > row.execute_by,
        },
    )
    uow.commit()
    return plan_view(session, row, now)


@use_case(Permission.VIEW_CUSTOMER_DATA)
def return_receipt(uow: UnitOfWork, actor: Actor, plan_id: int, allocation_id: int) -> bytes:
    """The receipt (资金返还回执) of one transfer back, as PDF, in Chinese; Conflict before
    the bank made it."""
    session = uow.session
    row = visible_plan(session, actor, plan_id)
    share = _share_of(session, row, allocation_id)
    if share.executed_at is None:
        raise Conflict(f"share {share.id} has no receipt: the bank has not sent it back yet")
    order = plan_order(session, row)
    names = {
        code: institution.name_zh if institution is not None else code
        for code in (row.police_unit, row.bank_code)
        for institution in [session.get(InstitutionRow, code)]
    }
    lines = [
        ("返还方案", f"第 {row.id} 号（{METHOD_ZH[AllocationMethod(row.method)]}）"),
        ("冻结文书编号", order.document_no),
        ("办案单位", f"{names[row.police_unit]}（{row.police_unit}）"),
        ("执行单位", f"{names[row.bank_code]}（{row.bank_code}）"),
        ("冻结账号", row.account_no),
        ("返还账号", share.victim_account),
        ("被骗金额", str(Money(share.loss_fen))),
        ("返还金额", str(Money(share.amount_fen))),
        ("银行流水号", share.transfer_ref or "—"),
        ("执行时间", shown_time(share.executed_at)),
        ("执行期限", shown_time(row.execute_by)),
        ("经办", share.executed_by or "—"),
    ]
    return _receipt_pdf(f"资金返还回执 {order.document_no}-{share.id}", lines, names[row.bank_code])


def _receipt_pdf(title: str, lines: list[tuple[str, str]], signed_by: str) -> bytes:
    """A one-page receipt: the title, then each label in a column of its own with its value
    beside it (wrapped), then the bank's closing line. Invariant: same input, same bytes."""
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    canvas.setFont(FONT, 20)
    canvas.drawCentredString(width / 2, height - MARGIN - 10, "资金返还回执")
    canvas.setFont(FONT, 12)
    y = height - MARGIN - 60
    value_width = width - 2 * MARGIN - LABEL_WIDTH
    for label, value in lines:
        canvas.drawString(MARGIN, y, label)
        for part in simpleSplit(value, FONT, 12, value_width):
            canvas.drawString(MARGIN + LABEL_WIDTH, y, part)
            y -= LINE
    canvas.drawString(
        MARGIN, y - LINE, f"款项已按返还方案划转至上述返还账号，特此回执。{signed_by}"
    )
    canvas.save()
    return buffer.getvalue()


def _require_executable(row: ReturnPlanRow) -> None:
    if row.status in EXECUTABLE:
        return
    if row.status == PlanStatus.PUBLISHED.value and row.objection_ends_at is not None:
        raise Conflict(
            f"return plan {row.id} is in its objection period until "
            f"{row.objection_ends_at.isoformat()}; it is executed once approved after that"
        )
    raise Conflict(f"return plan {row.id} is {row.status}; only an approved plan is executed")


def _share_of(session: Session, row: ReturnPlanRow, allocation_id: int) -> ReturnAllocationRow:
    """The plan's share; NotFound for another plan's, as for one that does not exist."""
    found = (
        session.get(ReturnAllocationRow, allocation_id) if 1 <= allocation_id <= MAX_ID else None
    )
    if found is None or found.plan_id != row.id:
        raise NotFound("share", str(allocation_id))
    return found
