"""Hard controls (硬性管控): what each one checks and what it forces, declared once.

A hard control is not a score: when it applies it forces its action (mostly block) whatever
the rule pack says, and it states its reason in Chinese and English (`reasons.py`; Art. 32
of the Anti-Telecom and Online Fraud Law: whoever restricts must say why and where to
object). `CONTROLS` is the one table of them: per control, what it checks, on whose account,
which statuses, restrictions, limit or list it reads, whether it applies only outside a
counter, and what it forces. Both executions read it (`online.py` one transaction at a time,
`bulk.py` and `kernel.py` over a history) through the look-ups at the end of this module.
Its order fixes the bit of each control in the bulk results; a decision lists the reasons of
the controls that applied in this order, before the reasons of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.decisions import Action, Reason
from fundwall.domain.risk_lists import Evidence as Evidence
from fundwall.domain.risk_lists import ListKind as ListKind
from fundwall.domain.risk_lists import RiskCategory as RiskCategory

NEVER_US: Final = 2**62
"""An end time that never comes (open-ended restrictions and listings)."""


class RestrictionKind(StrEnum):
    """A time-bounded order on an account (see `fundwall.accounts.controls.restrict`)."""

    STOP_PAYMENT = "stop_payment"
    """紧急止付: money may come in, nothing (or nothing beyond the free balance) goes out."""
    FREEZE = "freeze"
    """冻结: the whole account, or `amount_fen` of it."""
    NON_COUNTER_SUSPENSION = "non_counter_suspension"
    """非柜面业务暂停: business only at a counter, after identity is checked again."""
    OUTFLOW_CAP = "outflow_cap"
    """限额管控: outside a counter, at most `amount_fen` a calendar day (Beijing time) paid
    to accounts other than the bound one (the lower limit of a risk tier)."""


class ListRole(StrEnum):
    """Where in a transaction a listed identifier was found."""

    PAYER_ACCOUNT = "payer_account"
    PAYEE_ACCOUNT = "payee_account"
    DEVICE = "device"
    IP = "ip"
    PAYER_PARTY = "payer_party"
    PAYEE_PARTY = "payee_party"

    @property
    def payer_side(self) -> bool:
        return self not in (ListRole.PAYEE_ACCOUNT, ListRole.PAYEE_PARTY)


class Side(StrEnum):
    """Whose account a control checks."""

    PAYER = "payer"
    PAYEE = "payee"


class Check(StrEnum):
    """What a hard control looks at; the fields of `Control` it reads are named here."""

    STATUS = "status"
    """The account's status is one of `statuses`, or a restriction of kind `restriction` on
    the whole account is in effect."""
    FREE_BALANCE = "free_balance"
    """The amount is above the settled balance less the amounts held by the restrictions of
    the kinds in `holds` in effect (a status of `statuses` holds it all). Not checked when a
    STATUS control that applies at any channel already stops the payment."""
    PUNISHMENT = "punishment"
    """The holder (by the keyed hash of the ID number) is on the joint punishment list."""
    LIMIT = "limit"
    """A class `account_class` account: the money it moved in `flow` this calendar `period`
    (flows to or from its bound account not counted) plus the amount is above the policy's
    `limit`."""
    BALANCE_CAP = "balance_cap"
    """A class `account_class` account: its settled balance plus the amount is above the
    policy's `limit`."""
    RISK_LIST = "risk_list"
    """An identifier at `list_role` is on the shared risk list, in effect (a victim's entry
    only on the paying side); the entry's category says what it forces."""
    OUTFLOW_CAP = "outflow_cap"
    """A restriction of kind `restriction` in effect caps what the account pays out this
    calendar day (flows to its bound account not counted): the money it paid out today plus
    the amount is above the lowest cap in effect."""


class Flow(StrEnum):
    OUT = "out"
    IN = "in"


class Period(StrEnum):
    """A calendar period in Beijing time."""

    DAY = "day"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Control:
    """One hard control: its id (a decision's `Reason.rule_id`), its name, what it checks
    (`check` says which of the other fields apply) and what it forces (`action`; None: the
    risk list entry's category decides)."""

    id: str
    zh: str
    en: str
    check: Check
    side: Side | None = None
    statuses: frozenset[AccountStatus] = frozenset()
    restriction: RestrictionKind | None = None
    holds: frozenset[RestrictionKind] = frozenset()
    non_counter: bool = False
    """Applies only to transactions made outside a counter (`flags.is_non_counter`)."""
    account_class: int | None = None
    flow: Flow | None = None
    period: Period | None = None
    limit: str | None = None
    """The `PolicySettings` field that holds the limit, in fen."""
    list_role: ListRole | None = None
    says: tuple[str, str] = ("", "")
    """What the status or restriction means, in Chinese and English (STATUS)."""
    appeal: bool = True
    """Whether the reason says where to object (it does whenever the customer is restricted)."""
    action: Action | None = Action.BLOCK


_BOTH_KINDS: Final = frozenset({RestrictionKind.STOP_PAYMENT, RestrictionKind.FREEZE})

CONTROLS: Final = (
    Control(
        "HC01",
        "付款账户已销户",
        "Paying account closed",
        Check.STATUS,
        Side.PAYER,
        statuses=frozenset({AccountStatus.CLOSED}),
        says=("付款账户已销户，不能办理业务", "the paying account is closed"),
    ),
    Control(
        "HC02",
        "付款账户止付",
        "Paying account stop-paid",
        Check.STATUS,
        Side.PAYER,
        statuses=frozenset({AccountStatus.STOP_PAID}),
        restriction=RestrictionKind.STOP_PAYMENT,
        says=(
            "付款账户已被紧急止付，只收不付",
            "the paying account is under an emergency stop-payment: money may come in, "
            "none may go out",
        ),
    ),
    Control(
        "HC03",
        "付款账户冻结",
        "Paying account frozen",
        Check.STATUS,
        Side.PAYER,
        statuses=frozenset({AccountStatus.FROZEN_FULL}),
        restriction=RestrictionKind.FREEZE,
        says=(
            "付款账户已被冻结，只收不付",
            "the paying account is frozen: money may come in, none may go out",
        ),
    ),
    Control(
        "HC04",
        "超出可用余额（部分冻结/止付）",
        "Beyond the free balance (partly frozen)",
        Check.FREE_BALANCE,
        Side.PAYER,
        # A partial freeze recorded as a status has no amount: nothing is known to be free.
        statuses=frozenset({AccountStatus.FROZEN_PARTIAL}),
        holds=_BOTH_KINDS,
    ),
    Control(
        "HC05",
        "付款账户久悬",
        "Paying account dormant",
        Check.STATUS,
        Side.PAYER,
        statuses=frozenset({AccountStatus.DORMANT}),
        says=(
            "付款账户为久悬账户，须本人到柜面激活后方可转出",
            "the paying account is dormant: the holder must reactivate it at a counter first",
        ),
    ),
    Control(
        "HC06",
        "非柜面业务暂停",
        "Non-counter business suspended",
        Check.STATUS,
        Side.PAYER,
        statuses=frozenset({AccountStatus.NON_COUNTER_SUSPENDED}),
        restriction=RestrictionKind.NON_COUNTER_SUSPENSION,
        non_counter=True,
        says=(
            "付款账户非柜面业务已暂停，须本人到柜面重新核实身份",
            "non-counter business of the paying account is suspended until the holder "
            "verifies identity at a counter",
        ),
    ),
    Control(
        "HC07",
        "收款账户已销户",
        "Receiving account closed",
        Check.STATUS,
        Side.PAYEE,
        statuses=frozenset({AccountStatus.CLOSED}),
        says=("收款账户已销户，不能入账", "the receiving account is closed"),
        appeal=False,
    ),
    Control(
        "HC08",
        "联合惩戒名单",
        "Joint punishment list",
        Check.PUNISHMENT,
        Side.PAYER,
        non_counter=True,
    ),
    Control(
        "HC11",
        "Ⅱ类户日累计转出限额",
        "Class II daily outflow limit",
        Check.LIMIT,
        Side.PAYER,
        account_class=2,
        flow=Flow.OUT,
        period=Period.DAY,
        limit="class_ii_outflow_daily_limit_fen",
    ),
    Control(
        "HC12",
        "Ⅱ类户年累计转出限额",
        "Class II yearly outflow limit",
        Check.LIMIT,
        Side.PAYER,
        account_class=2,
        flow=Flow.OUT,
        period=Period.YEAR,
        limit="class_ii_outflow_yearly_limit_fen",
    ),
    Control(
        "HC13",
        "Ⅲ类户日累计转出限额",
        "Class III daily outflow limit",
        Check.LIMIT,
        Side.PAYER,
        account_class=3,
        flow=Flow.OUT,
        period=Period.DAY,
        limit="class_iii_outflow_daily_limit_fen",
    ),
    Control(
        "HC14",
        "Ⅲ类户年累计转出限额",
        "Class III yearly outflow limit",
        Check.LIMIT,
        Side.PAYER,
        account_class=3,
        flow=Flow.OUT,
        period=Period.YEAR,
        limit="class_iii_outflow_yearly_limit_fen",
    ),
    Control(
        "HC15",
        "Ⅱ类户日累计转入限额",
        "Class II daily inflow limit",
        Check.LIMIT,
        Side.PAYEE,
        account_class=2,
        flow=Flow.IN,
        period=Period.DAY,
        limit="class_ii_inflow_daily_limit_fen",
    ),
    Control(
        "HC16",
        "Ⅱ类户年累计转入限额",
        "Class II yearly inflow limit",
        Check.LIMIT,
        Side.PAYEE,
        account_class=2,
        flow=Flow.IN,
        period=Period.YEAR,
        limit="class_ii_inflow_yearly_limit_fen",
    ),
    Control(
        "HC17",
        "Ⅲ类户余额上限",
        "Class III balance cap",
        Check.BALANCE_CAP,
        Side.PAYEE,
        account_class=3,
        limit="class_iii_balance_cap_fen",
    ),
    Control(
        "HC21",
        "付款账户命中风险名单",
        "Paying account on the risk list",
        Check.RISK_LIST,
        list_role=ListRole.PAYER_ACCOUNT,
        action=None,
    ),
    Control(
        "HC22",
        "收款账户命中风险名单",
        "Receiving account on the risk list",
        Check.RISK_LIST,
        list_role=ListRole.PAYEE_ACCOUNT,
        action=None,
    ),
    Control(
        "HC23",
        "设备命中风险名单",
        "Device on the risk list",
        Check.RISK_LIST,
        list_role=ListRole.DEVICE,
        action=None,
    ),
    Control(
        "HC24",
        "IP地址命中风险名单",
        "IP address on the risk list",
        Check.RISK_LIST,
        list_role=ListRole.IP,
        action=None,
    ),
    Control(
        "HC25",
        "付款人命中风险名单",
        "Payer on the risk list",
        Check.RISK_LIST,
        list_role=ListRole.PAYER_PARTY,
        action=None,
    ),
    Control(
        "HC26",
        "收款人命中风险名单",
        "Payee on the risk list",
        Check.RISK_LIST,
        list_role=ListRole.PAYEE_PARTY,
        action=None,
    ),
    # Last, so the bits of the controls before it keep their places in stored masks.
    Control(
        "HC18",
        "风险账户日累计转出限额",
        "Daily outflow cap of a risky account",
        Check.OUTFLOW_CAP,
        Side.PAYER,
        restriction=RestrictionKind.OUTFLOW_CAP,
        non_counter=True,
        flow=Flow.OUT,
        period=Period.DAY,
    ),
)
"""Every control in decision order; a control's bit in bulk masks is its index here."""

CONTROL_IDS: Final = tuple(control.id for control in CONTROLS)
_CONTROL_ID_SET: Final = frozenset(CONTROL_IDS)


def is_control_id(rule_id: str) -> bool:
    """Whether a reason's id names a hard control rather than a rule of a pack."""
    return rule_id in _CONTROL_ID_SET


@dataclass(frozen=True, slots=True)
class Hit:
    """A control that applied to a transaction: which, what it forces, and its reason."""

    control: int
    action: Action
    reason: Reason

    @property
    def control_id(self) -> str:
        return CONTROLS[self.control].id


# Look-ups of the table, as both executions read it.


def controls_of(check: Check) -> tuple[int, ...]:
    """The controls (their indices) that make `check`, in table order."""
    return tuple(c for c, control in enumerate(CONTROLS) if control.check is check)


def _only(check: Check) -> int:
    (control,) = controls_of(check)
    return control


FREE_BALANCE: Final = _only(Check.FREE_BALANCE)
PUNISHMENT: Final = _only(Check.PUNISHMENT)
OUTFLOW_CAP: Final = _only(Check.OUTFLOW_CAP)
CAP_KIND: Final = CONTROLS[OUTFLOW_CAP].restriction
STATUS_CONTROLS: Final = {
    side: {
        status: c
        for c in controls_of(Check.STATUS)
        if CONTROLS[c].side is side
        for status in CONTROLS[c].statuses
    }
    for side in Side
}
"""Per side, the STATUS control a status of the account triggers."""
RESTRICTION_CONTROLS: Final = {
    CONTROLS[c].restriction: c for c in controls_of(Check.STATUS) if CONTROLS[c].restriction
}
"""The STATUS control a restriction of each kind on the whole account triggers."""
NON_COUNTER_ONLY: Final = frozenset(c for c, control in enumerate(CONTROLS) if control.non_counter)
LIST_CONTROLS: Final = {
    CONTROLS[c].list_role: c for c in controls_of(Check.RISK_LIST) if CONTROLS[c].list_role
}
AMOUNT_CONTROLS: Final = {
    (side, klass): tuple(
        c
        for c in controls_of(Check.LIMIT) + controls_of(Check.BALANCE_CAP)
        if CONTROLS[c].side is side and CONTROLS[c].account_class == klass
    )
    for side in Side
    for klass in range(4)
}
"""Per side and account class (0–3), the LIMIT and BALANCE_CAP controls of the account."""

MOST: Final = 2**63 - 1
"""A ledger figure stops at ±MOST rather than overflow its int64 (`kernel.plus`): a member
sending 9,224 payments of the largest amount into one account would otherwise fail every
later booking of it, or, wrapped, turn its balance or its year's total negative. The compiled
checks compare `used > limit - amount`, which cannot overflow."""
LEDGER_COLUMNS: Final = 7
BALANCE, DAY, DAY_OUT, DAY_IN, YEAR, YEAR_OUT, YEAR_IN = range(LEDGER_COLUMNS)
"""The ledger each execution keeps per account: the settled balance, and the money counted
against the limits this calendar day and this calendar year (Beijing time)."""
LEDGER_PERIOD: Final = {Period.DAY: DAY, Period.YEAR: YEAR}
LEDGER_USED: Final = {
    (Flow.OUT, Period.DAY): DAY_OUT,
    (Flow.IN, Period.DAY): DAY_IN,
    (Flow.OUT, Period.YEAR): YEAR_OUT,
    (Flow.IN, Period.YEAR): YEAR_IN,
}
"""The ledger column of the period a limit counts in, and of the money it counts."""
AmountCheck = tuple[int, bool, int, int, bool, int]
"""A LIMIT or BALANCE_CAP control as the executions run it: the control, whether it is a
cap, the ledger columns of the money it counts and of its period, whether the period is a
day, and the limit."""


def amount_checks(policy: PolicySettings) -> dict[tuple[Side, int], tuple[AmountCheck, ...]]:
    """The LIMIT and BALANCE_CAP controls of each side and account class, with the policy's
    limits (both executions read them so)."""
    checks: dict[tuple[Side, int], tuple[AmountCheck, ...]] = {}
    for key, controls in AMOUNT_CONTROLS.items():
        rows: list[AmountCheck] = []
        for c in controls:
            control = CONTROLS[c]
            assert control.limit is not None
            limit = getattr(policy, control.limit)
            if control.check is Check.BALANCE_CAP:
                rows.append((c, True, BALANCE, -1, False, limit))
            else:
                assert control.flow is not None and control.period is not None
                used = LEDGER_USED[control.flow, control.period]
                period = LEDGER_PERIOD[control.period]
                rows.append((c, False, used, period, control.period is Period.DAY, limit))
        if rows:
            checks[key] = tuple(rows)
    return checks
