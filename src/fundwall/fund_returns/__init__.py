"""Return of frozen money (资金返还): frozen money traceable to victims goes back to them —
directly to one victim, or allocated in proportion to the traced losses of several — after a
published plan's objection period, executed by the bank within its working days, with
receipts. Every public function of the package's modules (outside `queries`) is a use
case, except the pure sharing rule (`allocation`) and calendar (`working_days`)."""

from fundwall.fund_returns.allocation import AllocationMethod, VictimLoss, allocate
from fundwall.fund_returns.execution import execute_return, return_receipt
from fundwall.fund_returns.model import (
    AllocationView,
    ObjectionDecision,
    ObjectionIn,
    ObjectionView,
    Objector,
    PlanDraft,
    PlanItem,
    PlanStatus,
    PlanView,
)
from fundwall.fund_returns.objections import decide_objection, record_objection
from fundwall.fund_returns.plans import (
    amend_plan,
    approve_plan,
    draft_plan,
    get_plan,
    list_plans,
    publish_plan,
)

__all__ = [
    "AllocationMethod",
    "AllocationView",
    "ObjectionDecision",
    "ObjectionIn",
    "ObjectionView",
    "Objector",
    "PlanDraft",
    "PlanItem",
    "PlanStatus",
    "PlanView",
    "VictimLoss",
    "allocate",
    "amend_plan",
    "approve_plan",
    "decide_objection",
    "draft_plan",
    "execute_return",
    "get_plan",
    "list_plans",
    "publish_plan",
    "record_objection",
    "return_receipt",
]
