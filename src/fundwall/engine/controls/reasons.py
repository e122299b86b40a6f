"""The reasons of the hard controls: what each one says, in Chinese and English, with the
figures and, when it restricts the customer, where to object (Art. 32 of the Anti-Telecom and
Online Fraud Law). The words come from the control's declaration (`model.CONTROLS`): its
account class, period and flow say what a limit reason says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from fundwall.domain.decisions import Reason, Redaction
from fundwall.engine.controls.model import (
    CONTROLS,
    FREE_BALANCE,
    LIST_CONTROLS,
    NEVER_US,
    OUTFLOW_CAP,
    PUNISHMENT,
    Evidence,
    Flow,
    Hit,
    ListRole,
    Period,
    RiskCategory,
    Side,
)
from fundwall.engine.rules.templates import format_money

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LOCAL: Final = timedelta(hours=8)
APPEAL_ZH: Final = "如有异议，可向开户机构申诉"
APPEAL_EN: Final = "to object, appeal to the bank holding the account"

CATEGORY_WORDS: Final = {
    RiskCategory.FRAUD_ACCOUNT: ("涉诈账户", "fraud account"),
    RiskCategory.MULE: ("涉案过渡账户", "mule"),
    RiskCategory.CARD_DEALER: ("卡商", "card dealer"),
    RiskCategory.AT_RISK_VICTIM: ("潜在受害人", "likely scam victim"),
    RiskCategory.PUNISHED_PERSON: ("惩戒对象", "under joint punishment"),
    RiskCategory.RECYCLED_PHONE: ("二次号（已被回收的手机号）", "recycled phone number"),
}
EVIDENCE_WORDS: Final = {
    Evidence.POLICE_CONFIRMED: ("公安机关确认", "confirmed by police"),
    Evidence.MEMBER_VERIFIED: ("会员机构核实", "verified by a member"),
    Evidence.MEMBER_SUSPECTED: ("会员机构怀疑", "suspected by a member"),
}
ROLE_WORDS: Final = {
    ListRole.PAYER_ACCOUNT: ("付款账户", "paying account"),
    ListRole.PAYEE_ACCOUNT: ("收款账户", "receiving account"),
    ListRole.DEVICE: ("交易设备", "device"),
    ListRole.IP: ("交易IP地址", "IP address"),
    ListRole.PAYER_PARTY: ("付款人（身份证件或手机号）", "payer (by ID number or phone)"),
    ListRole.PAYEE_PARTY: ("收款人（身份证件或手机号）", "payee (by ID number or phone)"),
}
_CLASS_WORDS: Final = {2: ("Ⅱ类户", "class II"), 3: ("Ⅲ类户", "class III")}
_PERIOD_WORDS: Final = {
    Period.DAY: ("当日", "today", "日", "daily"),
    Period.YEAR: ("本年", "this year", "年", "yearly"),
}
_FLOW_WORDS: Final = {
    Flow.OUT: ("转出", "paid out"),
    Flow.IN: ("从非绑定账户转入", "received from accounts other than its bound one"),
}


def local_time(us: int) -> str:
    """An instant in µs since the epoch as Beijing time, 2024-06-03 16:00."""
    moment = _EPOCH + timedelta(microseconds=us) + _LOCAL
    return moment.strftime("%Y-%m-%d %H:%M")


def _until(end_us: int, zh: bool) -> str:
    if end_us >= NEVER_US:
        return ""
    when = local_time(end_us)
    return f"（至{when}）" if zh else f" (until {when})"


def _blocks(control: int, reason: Reason) -> Hit:
    action = CONTROLS[control].action
    assert action is not None, CONTROLS[control].id
    return Hit(control, action, reason)


def restriction_hit(control: int, end_us: int, reference: str | None) -> Hit:
    """The reason of a STATUS control: what the status or restriction means, until when."""
    declared = CONTROLS[control]
    zh, en = declared.says
    zh += _until(end_us, True)
    en += _until(end_us, False)
    if declared.appeal:
        zh, en = f"{zh}；{APPEAL_ZH}", f"{en}; {APPEAL_EN}"
    values: dict[str, int | float | str] = {}
    if reference is not None:
        values["reference"] = reference
    return _blocks(control, Reason(declared.id, zh, en, values))


def free_balance_hit(amount: int, balance: int, held: int) -> Hit:
    """The amount exceeds what partial freezes and stops leave free."""
    free = max(balance - held, 0)
    zh = (
        f"付款账户有{format_money(held)}被冻结或止付，可用余额{format_money(free)}，"
        f"本笔{format_money(amount)}超过可用余额；{APPEAL_ZH}"
    )
    en = (
        f"{format_money(held)} of the paying account is frozen or stopped; the free balance "
        f"of {format_money(free)} does not cover this {format_money(amount)}; {APPEAL_EN}"
    )
    values: dict[str, int | float | str] = {
        "amount": amount,
        "payer_balance": balance,
        "held_fen": held,
    }
    return _blocks(FREE_BALANCE, Reason(CONTROLS[FREE_BALANCE].id, zh, en, values))


def punished_hit(end_us: int) -> Hit:
    """The payer is on the joint punishment list and pays outside a counter."""
    zh = (
        f"付款人在电信网络诈骗联合惩戒名单上{_until(end_us, True)}，不能办理非柜面转出；{APPEAL_ZH}"
    )
    en = (
        f"the payer is on the joint punishment list for telecom fraud{_until(end_us, False)}: "
        f"no payments outside a counter; {APPEAL_EN}"
    )
    return _blocks(PUNISHMENT, Reason(CONTROLS[PUNISHMENT].id, zh, en, {}))


def limit_hit(control: int, used: int, amount: int, limit: int) -> Hit:
    """A class II or III account would pass a daily or yearly limit."""
    declared = CONTROLS[control]
    assert declared.account_class is not None and declared.period and declared.flow
    klass_zh, klass_en = _CLASS_WORDS[declared.account_class]
    when_zh, when_en, per_zh, per_en = _PERIOD_WORDS[declared.period]
    flow_zh, flow_en = _FLOW_WORDS[declared.flow]
    zh = (
        f"{klass_zh}{when_zh}已累计{flow_zh}{format_money(used)}，本笔{format_money(amount)}"
        f"将超过{per_zh}累计限额{format_money(limit)}"
    )
    en = (
        f"{klass_en} account: {format_money(used)} {flow_en} {when_en}; this "
        f"{format_money(amount)} would pass the {per_en} limit of {format_money(limit)}"
    )
    values: dict[str, int | float | str] = {"used_fen": used, "amount": amount, "limit_fen": limit}
    redaction = None
    if declared.side is Side.PAYEE:
        # The receiving account's: its holder's figures are not the paying member's to read.
        redaction = Redaction(
            f"收款{klass_zh}{flow_zh}本笔{format_money(amount)}后将超过{per_zh}累计限额"
            f"{format_money(limit)}",
            f"receiving {klass_en} account: this {format_money(amount)} would pass the "
            f"{per_en} limit of {format_money(limit)} on money {flow_en}",
            frozenset({"used_fen"}),
        )
    return _blocks(control, Reason(declared.id, zh, en, values, redaction))


def outflow_cap_hit(used: int, amount: int, cap: int) -> Hit:
    """A capped account (its risk tier's lower limit) would pay out more today than its cap."""
    zh = (
        f"付款账户因风险等级被限额，当日已转出{format_money(used)}，本笔{format_money(amount)}"
        f"将超过每日限额{format_money(cap)}，可到柜面办理；{APPEAL_ZH}"
    )
    en = (
        f"the paying account is capped for its risk: {format_money(used)} paid out today; "
        f"this {format_money(amount)} would pass its daily cap of {format_money(cap)} (a "
        f"counter can still pay); {APPEAL_EN}"
    )
    values: dict[str, int | float | str] = {"used_fen": used, "amount": amount, "limit_fen": cap}
    return _blocks(OUTFLOW_CAP, Reason(CONTROLS[OUTFLOW_CAP].id, zh, en, values))


def balance_cap_hit(control: int, balance: int, amount: int, cap: int) -> Hit:
    """An account would hold more than its class's balance cap."""
    declared = CONTROLS[control]
    assert declared.account_class is not None
    klass_zh, klass_en = _CLASS_WORDS[declared.account_class]
    zh = (
        f"{klass_zh}余额{format_money(balance)}，转入{format_money(amount)}后将超过"
        f"余额上限{format_money(cap)}"
    )
    en = (
        f"{klass_en} account: balance {format_money(balance)}, this {format_money(amount)} "
        f"would take it above the cap of {format_money(cap)}"
    )
    values: dict[str, int | float | str] = {
        "payee_balance": balance,
        "amount": amount,
        "limit_fen": cap,
    }
    redaction = Redaction(
        f"收款{klass_zh}转入{format_money(amount)}后将超过余额上限{format_money(cap)}",
        f"receiving {klass_en} account: this {format_money(amount)} would take it above the "
        f"balance cap of {format_money(cap)}",
        frozenset({"payee_balance"}),
    )
    return _blocks(control, Reason(declared.id, zh, en, values, redaction))


def list_hit(role: ListRole, category: RiskCategory, evidence: Evidence) -> Hit:
    """An identifier of the transaction is on the shared risk list. The reason does not name
    the reporting member: members see an entry's category and evidence, never who reported
    it (docs/sharing.md)."""
    role_zh, role_en = ROLE_WORDS[role]
    category_zh, category_en = CATEGORY_WORDS[category]
    evidence_zh, evidence_en = EVIDENCE_WORDS[evidence]
    zh = f"{role_zh}在共享风险名单上：{category_zh}（{evidence_zh}）"
    en = f"the {role_en} is on the shared risk list: {category_en} ({evidence_en})"
    if category.action.restricts:
        zh, en = f"{zh}；{APPEAL_ZH}", f"{en}; {APPEAL_EN}"
    control = LIST_CONTROLS[role]
    values: dict[str, int | float | str] = {
        "category": category.value,
        "evidence": evidence.value,
    }
    return Hit(control, category.action, Reason(CONTROLS[control].id, zh, en, values))
