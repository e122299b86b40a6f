"""Hard controls (硬性管控): what they are, what they force, and how they say why.

A hard control is not a score: when it applies it forces its action (mostly block) whatever
the rule pack says, and it states its reason in Chinese and English (Art. 32 of the
Anti-Telecom and Online Fraud Law: whoever restricts must say why and where to object).
`CONTROLS` fixes the order and the bit of each control in the bulk results; a decision lists
the reasons of the controls that applied in this order, before the reasons of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from fundwall.domain.decisions import Action, Reason, Redaction
from fundwall.engine.rules.templates import format_money

NEVER_US: Final = 2**62
"""An end time that never comes (open-ended restrictions and listings)."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LOCAL: Final = timedelta(hours=8)
APPEAL_ZH: Final = "如有异议，可向开户机构申诉"
APPEAL_EN: Final = "to object, appeal to the bank holding the account"


class RestrictionKind(StrEnum):
    """A time-bounded order on an account (see `fundwall.accounts.controls.restrict`)."""

    STOP_PAYMENT = "stop_payment"
    """紧急止付: money may come in, nothing (or nothing beyond the free balance) goes out."""
    FREEZE = "freeze"
    """冻结: the whole account, or `amount_fen` of it."""
    NON_COUNTER_SUSPENSION = "non_counter_suspension"
    """非柜面业务暂停: business only at a counter, after identity is checked again."""


class ListKind(StrEnum):
    """What a shared risk list entry names."""

    ACCOUNT = "account"
    ID_HASH = "id_hash"
    """SM3-HMAC keyed hash of an ID number (`Keyring.keyed_hash("id", …)`)."""
    PHONE_HASH = "phone_hash"
    """SM3-HMAC keyed hash of a mobile number (`Keyring.keyed_hash("phone", …)`)."""
    DEVICE = "device"
    IP = "ip"


class RiskCategory(StrEnum):
    """Why an identifier is on the shared risk list, and what a hit on it does."""

    FRAUD_ACCOUNT = "fraud_account"
    """涉诈账户: receives or moves fraud money; transfers touching it are blocked."""
    MULE = "mule"
    """涉案过渡账户/人员: passes fraud money on; blocked."""
    CARD_DEALER = "card_dealer"
    """卡商: trades accounts; an analyst looks (alert)."""
    AT_RISK_VICTIM = "at_risk_victim"
    """潜在受害人: likely being scammed; warn them before they pay (payer side only)."""

    @property
    def action(self) -> Action:
        return _CATEGORY_ACTION[self]

    @property
    def payer_side_only(self) -> bool:
        """A victim's entry matters when they pay, not when they are paid."""
        return self is RiskCategory.AT_RISK_VICTIM


_CATEGORY_ACTION: Final = {
    RiskCategory.FRAUD_ACCOUNT: Action.BLOCK,
    RiskCategory.MULE: Action.BLOCK,
    RiskCategory.CARD_DEALER: Action.ALERT,
    RiskCategory.AT_RISK_VICTIM: Action.WARN,
}
CATEGORY_WORDS: Final = {
    RiskCategory.FRAUD_ACCOUNT: ("涉诈账户", "fraud account"),
    RiskCategory.MULE: ("涉案过渡账户", "mule"),
    RiskCategory.CARD_DEALER: ("卡商", "card dealer"),
    RiskCategory.AT_RISK_VICTIM: ("潜在受害人", "likely scam victim"),
}


class Evidence(StrEnum):
    """How sure the reporting party is."""

    POLICE_CONFIRMED = "police_confirmed"
    MEMBER_VERIFIED = "member_verified"
    MEMBER_SUSPECTED = "member_suspected"


EVIDENCE_WORDS: Final = {
    Evidence.POLICE_CONFIRMED: ("公安机关确认", "confirmed by police"),
    Evidence.MEMBER_VERIFIED: ("会员机构核实", "verified by a member"),
    Evidence.MEMBER_SUSPECTED: ("会员机构怀疑", "suspected by a member"),
}


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


ROLE_WORDS: Final = {
    ListRole.PAYER_ACCOUNT: ("付款账户", "paying account"),
    ListRole.PAYEE_ACCOUNT: ("收款账户", "receiving account"),
    ListRole.DEVICE: ("交易设备", "device"),
    ListRole.IP: ("交易IP地址", "IP address"),
    ListRole.PAYER_PARTY: ("付款人（身份证件或手机号）", "payer (by ID number or phone)"),
    ListRole.PAYEE_PARTY: ("收款人（身份证件或手机号）", "payee (by ID number or phone)"),
}


@dataclass(frozen=True, slots=True)
class Control:
    """One hard control: its id (a decision's `Reason.rule_id`) and its name."""

    id: str
    zh: str
    en: str


CONTROLS: Final = (
    Control("HC01", "付款账户已销户", "Paying account closed"),
    Control("HC02", "付款账户止付", "Paying account stop-paid"),
    Control("HC03", "付款账户冻结", "Paying account frozen"),
    Control("HC04", "超出可用余额（部分冻结/止付）", "Beyond the free balance (partly frozen)"),
    Control("HC05", "付款账户久悬", "Paying account dormant"),
    Control("HC06", "非柜面业务暂停", "Non-counter business suspended"),
    Control("HC07", "收款账户已销户", "Receiving account closed"),
    Control("HC08", "联合惩戒名单", "Joint punishment list"),
    Control("HC11", "Ⅱ类户日累计转出限额", "Class II daily outflow limit"),
    Control("HC12", "Ⅱ类户年累计转出限额", "Class II yearly outflow limit"),
    Control("HC13", "Ⅲ类户日累计转出限额", "Class III daily outflow limit"),
    Control("HC14", "Ⅲ类户年累计转出限额", "Class III yearly outflow limit"),
    Control("HC15", "Ⅱ类户日累计转入限额", "Class II daily inflow limit"),
    Control("HC16", "Ⅱ类户年累计转入限额", "Class II yearly inflow limit"),
    Control("HC17", "Ⅲ类户余额上限", "Class III balance cap"),
    Control("HC21", "付款账户命中风险名单", "Paying account on the risk list"),
    Control("HC22", "收款账户命中风险名单", "Receiving account on the risk list"),
    Control("HC23", "设备命中风险名单", "Device on the risk list"),
    Control("HC24", "IP地址命中风险名单", "IP address on the risk list"),
    Control("HC25", "付款人命中风险名单", "Payer on the risk list"),
    Control("HC26", "收款人命中风险名单", "Payee on the risk list"),
)
"""Every control in decision order; a control's bit in bulk masks is its index here."""

(
    PAYER_CLOSED,
    PAYER_STOP_PAID,
    PAYER_FROZEN,
    FREE_BALANCE,
    PAYER_DORMANT,
    NON_COUNTER,
    PAYEE_CLOSED,
    PUNISHED,
    C2_OUT_DAY,
    C2_OUT_YEAR,
    C3_OUT_DAY,
    C3_OUT_YEAR,
    C2_IN_DAY,
    C2_IN_YEAR,
    C3_BALANCE,
    LIST_PAYER_ACCOUNT,
    LIST_PAYEE_ACCOUNT,
    LIST_DEVICE,
    LIST_IP,
    LIST_PAYER_PARTY,
    LIST_PAYEE_PARTY,
) = range(len(CONTROLS))
LIST_CONTROLS: Final = {
    ListRole.PAYER_ACCOUNT: LIST_PAYER_ACCOUNT,
    ListRole.PAYEE_ACCOUNT: LIST_PAYEE_ACCOUNT,
    ListRole.DEVICE: LIST_DEVICE,
    ListRole.IP: LIST_IP,
    ListRole.PAYER_PARTY: LIST_PAYER_PARTY,
    ListRole.PAYEE_PARTY: LIST_PAYEE_PARTY,
}
CONTROL_IDS: Final = tuple(control.id for control in CONTROLS)


def is_control_id(rule_id: str) -> bool:
    """Whether a reason's id names a hard control rather than a rule of a pack."""
    return rule_id in _CONTROL_ID_SET


_CONTROL_ID_SET: Final = frozenset(CONTROL_IDS)


@dataclass(frozen=True, slots=True)
class Hit:
    """A control that applied to a transaction: which, what it forces, and its reason."""

    control: int
    action: Action
    reason: Reason

    @property
    def control_id(self) -> str:
        return CONTROLS[self.control].id


def local_time(us: int) -> str:
    """An instant in µs since the epoch as Beijing time, 2024-06-03 16:00."""
    moment = _EPOCH + timedelta(microseconds=us) + _LOCAL
    return moment.strftime("%Y-%m-%d %H:%M")


def _until(end_us: int, zh: bool) -> str:
    if end_us >= NEVER_US:
        return ""
    when = local_time(end_us)
    return f"（至{when}）" if zh else f" (until {when})"


def restriction_hit(control: int, end_us: int, reference: str | None) -> Hit:
    """The reason of a status or restriction control (HC01–HC03, HC05–HC07)."""
    texts = {
        PAYER_CLOSED: ("付款账户已销户，不能办理业务", "the paying account is closed"),
        PAYER_STOP_PAID: (
            "付款账户已被紧急止付，只收不付",
            "the paying account is under an emergency stop-payment: money may come in, "
            "none may go out",
        ),
        PAYER_FROZEN: (
            "付款账户已被冻结，只收不付",
            "the paying account is frozen: money may come in, none may go out",
        ),
        PAYER_DORMANT: (
            "付款账户为久悬账户，须本人到柜面激活后方可转出",
            "the paying account is dormant: the holder must reactivate it at a counter first",
        ),
        NON_COUNTER: (
            "付款账户非柜面业务已暂停，须本人到柜面重新核实身份",
            "non-counter business of the paying account is suspended until the holder "
            "verifies identity at a counter",
        ),
        PAYEE_CLOSED: ("收款账户已销户，不能入账", "the receiving account is closed"),
    }
    zh, en = texts[control]
    zh += _until(end_us, True)
    en += _until(end_us, False)
    if control != PAYEE_CLOSED:
        zh, en = f"{zh}；{APPEAL_ZH}", f"{en}; {APPEAL_EN}"
    values: dict[str, int | float | str] = {}
    if reference is not None:
        values["reference"] = reference
    return Hit(control, Action.BLOCK, Reason(CONTROLS[control].id, zh, en, values))


def free_balance_hit(amount: int, balance: int, held: int) -> Hit:
    """HC04: the amount exceeds what a partial freeze or stop leaves free."""
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
    return Hit(FREE_BALANCE, Action.BLOCK, Reason(CONTROLS[FREE_BALANCE].id, zh, en, values))


def punished_hit(end_us: int) -> Hit:
    """HC08: the payer is on the joint punishment list and pays outside a counter."""
    zh = (
        f"付款人在电信网络诈骗联合惩戒名单上{_until(end_us, True)}，不能办理非柜面转出；{APPEAL_ZH}"
    )
    en = (
        f"the payer is on the joint punishment list for telecom fraud{_until(end_us, False)}: "
        f"no payments outside a counter; {APPEAL_EN}"
    )
    return Hit(PUNISHED, Action.BLOCK, Reason(CONTROLS[PUNISHED].id, zh, en, {}))


_LIMIT_WORDS: Final = {
    C2_OUT_DAY: ("Ⅱ类户", "class II", "当日", "today", "转出", "paid out", "日", "daily"),
    C2_OUT_YEAR: ("Ⅱ类户", "class II", "本年", "this year", "转出", "paid out", "年", "yearly"),
    C3_OUT_DAY: ("Ⅲ类户", "class III", "当日", "today", "转出", "paid out", "日", "daily"),
    C3_OUT_YEAR: ("Ⅲ类户", "class III", "本年", "this year", "转出", "paid out", "年", "yearly"),
    C2_IN_DAY: (
        "Ⅱ类户",
        "class II",
        "当日",
        "today",
        "从非绑定账户转入",
        "received from accounts other than its bound one",
        "日",
        "daily",
    ),
    C2_IN_YEAR: (
        "Ⅱ类户",
        "class II",
        "本年",
        "this year",
        "从非绑定账户转入",
        "received from accounts other than its bound one",
        "年",
        "yearly",
    ),
}


def limit_hit(control: int, used: int, amount: int, limit: int) -> Hit:
    """HC11–HC16: a class II or III account would pass its daily or yearly limit."""
    klass_zh, klass_en, when_zh, when_en, flow_zh, flow_en, per_zh, per_en = _LIMIT_WORDS[control]
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
    if control in (C2_IN_DAY, C2_IN_YEAR):
        # The receiving account's: its holder's figures are not the paying member's to read.
        redaction = Redaction(
            f"收款{klass_zh}{flow_zh}本笔{format_money(amount)}后将超过{per_zh}累计限额"
            f"{format_money(limit)}",
            f"receiving {klass_en} account: this {format_money(amount)} would pass the "
            f"{per_en} limit of {format_money(limit)} on money {flow_en}",
            frozenset({"used_fen"}),
        )
    reason = Reason(CONTROLS[control].id, zh, en, values, redaction)
    return Hit(control, Action.BLOCK, reason)


def balance_cap_hit(balance: int, amount: int, cap: int) -> Hit:
    """HC17: a class III account would hold more than its balance cap."""
    zh = (
        f"Ⅲ类户余额{format_money(balance)}，转入{format_money(amount)}后将超过"
        f"余额上限{format_money(cap)}"
    )
    en = (
        f"class III account: balance {format_money(balance)}, this {format_money(amount)} "
        f"would take it above the cap of {format_money(cap)}"
    )
    values: dict[str, int | float | str] = {
        "payee_balance": balance,
        "amount": amount,
        "limit_fen": cap,
    }
    redaction = Redaction(
        f"收款Ⅲ类户转入{format_money(amount)}后将超过余额上限{format_money(cap)}",
        f"receiving class III account: this {format_money(amount)} would take it above the "
        f"balance cap of {format_money(cap)}",
        frozenset({"payee_balance"}),
    )
    reason = Reason(CONTROLS[C3_BALANCE].id, zh, en, values, redaction)
    return Hit(C3_BALANCE, Action.BLOCK, reason)


def list_hit(role: ListRole, category: RiskCategory, evidence: Evidence, member: str) -> Hit:
    """HC21–HC26: an identifier of the transaction is on the shared risk list."""
    role_zh, role_en = ROLE_WORDS[role]
    category_zh, category_en = CATEGORY_WORDS[category]
    evidence_zh, evidence_en = EVIDENCE_WORDS[evidence]
    zh = f"{role_zh}在共享风险名单上：{category_zh}（{evidence_zh}，报送机构{member}）"
    en = (
        f"the {role_en} is on the shared risk list: {category_en} ({evidence_en}, "
        f"reported by {member})"
    )
    if category.action.restricts:
        zh, en = f"{zh}；{APPEAL_ZH}", f"{en}; {APPEAL_EN}"
    control = LIST_CONTROLS[role]
    values: dict[str, int | float | str] = {
        "category": category.value,
        "evidence": evidence.value,
        "reporting_member": member,
    }
    return Hit(control, category.action, Reason(CONTROLS[control].id, zh, en, values))
