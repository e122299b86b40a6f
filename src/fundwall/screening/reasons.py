"""What a finding says, in Chinese and English, with its figures; and the notice a holder
receives when an action is taken on the account: why, what was done, where to appeal and
what to bring (Art. 32 of the Anti-Telecom and Online Fraud Law, as the engine's reasons).

A finding is stored as its figures (`details`, JSON); the words are made when it is read,
so both languages come from one record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fundwall.domain.accounts import AccountClass
from fundwall.domain.screening import Check, ScreeningAction
from fundwall.engine.rules.templates import format_money
from fundwall.screening.base import CLASSES, LINKS
from fundwall.screening.checks import Finding

Details = dict[str, Any]
_LOCAL: Final = timedelta(hours=8)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_CLASS_WORDS: Final = {
    AccountClass.CLASS_I.value: ("Ⅰ类户", "class I"),
    AccountClass.CLASS_II.value: ("Ⅱ类户", "class II"),
    AccountClass.CLASS_III.value: ("Ⅲ类户", "class III"),
}
_LINK_WORDS: Final = {
    "device": ("开户设备", "opening device"),
    "ip": ("开户IP地址", "opening IP address"),
    "phone": ("手机号", "phone number"),
    "agent": ("代理见证人", "agent"),
}
_MEASURES: Final[Mapping[ScreeningAction, tuple[str, str]]] = {
    ScreeningAction.NOTIFY: (
        "请携带本人有效身份证件到开户网点核实账户情况。",
        "Please bring your identity document to a branch of the bank to confirm the account.",
    ),
    ScreeningAction.RESTRICT: (
        "本行已限制该账户的非柜面业务（手机银行、网上银行、ATM等），柜面业务不受影响。",
        "The bank has restricted the account's non-counter business (mobile and online "
        "banking, ATMs); business at a counter is still open.",
    ),
    ScreeningAction.SUSPEND_NON_COUNTER: (
        "本行已暂停该账户的非柜面业务，重新核实身份后可恢复。",
        "The bank has suspended the account's non-counter business until your identity is "
        "verified again.",
    ),
    ScreeningAction.MARK_DORMANT: (
        "该账户已转为久悬账户，只收不付，可携带本人有效身份证件到网点办理激活。",
        "The account is now dormant: it may receive money but pays nothing out until you "
        "reactivate it at a branch with your identity document.",
    ),
    ScreeningAction.CLOSE: ("该账户已销户。", "The account has been closed."),
    ScreeningAction.TIER_MEDIUM: (
        "本行已将该账户的风险等级调为中，非柜面转出设有每日限额。",
        "The bank has set the account's risk tier to medium: payments outside a counter have a "
        "daily cap.",
    ),
    ScreeningAction.TIER_HIGH: (
        "本行已将该账户的风险等级调为高，非柜面业务暂停，须本人到柜面重新核实身份。",
        "The bank has set the account's risk tier to high: non-counter business is suspended "
        "until you verify your identity again at a counter.",
    ),
}


def finding_details(check: Check, finding: Finding) -> list[Details]:
    """Each found account's figures as JSON-ready values, in the order of `finding.rows`."""
    columns = {name: values.tolist() for name, values in finding.values.items()}
    if check is Check.MANY_ACCOUNTS:
        columns["account_class"] = [CLASSES[code].value for code in columns["account_class"]]
    if check is Check.BATCH_OPENED:
        columns["links"] = [
            [name for bit, name in enumerate(LINKS) if mask >> bit & 1] for mask in columns["links"]
        ]
    if check is Check.PUNISHED:
        columns["until"] = [_local_day(us) for us in columns.pop("until_us")]
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _local_day(us: int) -> str:
    return (_EPOCH + timedelta(microseconds=int(us)) + _LOCAL).strftime("%Y-%m-%d")


def reason(check: Check, details: Mapping[str, Any]) -> tuple[str, str]:
    """What the finding says (Chinese, English)."""
    d = details
    match check:
        case Check.DORMANT:
            days, months = d["idle_days"], d["months"]
            if d["company"]:
                return (
                    f"单位账户{months}个月以上未发生交易（最近一次在{days}天前）",
                    f"company account without a transaction for over {months} months "
                    f"(the last {days} days ago)",
                )
            since_zh = f"开户{days}天来从未使用" if d["never_used"] else f"最近一次在{days}天前"
            since_en = (
                f"never used in the {days} days since opening"
                if d["never_used"]
                else f"the last {days} days ago"
            )
            balance, ceiling = format_money(d["balance_fen"]), format_money(d["ceiling_fen"])
            return (
                f"{months}个月以上未发生主动交易（{since_zh}），余额{balance}不超过{ceiling}",
                f"no transaction by the holder for over {months} months ({since_en}) and a "
                f"balance of {balance}, not above {ceiling}",
            )
        case Check.NEW_IDLE:
            days, months = d["opened_days"], d["months"]
            return (
                f"开户已{days}天，开户后{months}个月内未发生交易，应暂停非柜面业务，"
                "待重新核实身份后恢复",
                f"opened {days} days ago and not used in the {months} months since: non-counter "
                "business is suspended until the holder's identity is verified again",
            )
        case Check.MANY_ACCOUNTS:
            return _many_accounts(d)
        case Check.BATCH_OPENED:
            zh = "、".join(_LINK_WORDS[name][0] for name in d["links"])
            en = " and ".join(_LINK_WORDS[name][1] for name in d["links"])
            others, hours = d["people"] - 1, d["window_hours"]
            return (
                f"与另外{others}人的账户经同一{zh}在{hours}小时内开立",
                f"opened within {hours} hours of the accounts of {others} other people through "
                f"the same {en}",
            )
        case Check.PUNISHED:
            return (
                f"持有人在电信网络诈骗联合惩戒名单上（至{d['until']}），不能办理非柜面转出",
                f"the holder is on the joint punishment list for telecom fraud (until "
                f"{d['until']}): no payments outside a counter",
            )
        case Check.SHARED_PHONE:
            return (
                f"绑定的手机号同时绑定了{d['people']}人（一个手机号至多对应{d['limit']}人）",
                f"the phone bound to the holder is bound to {d['people']} people (one phone "
                f"should serve at most {d['limit']})",
            )


def _many_accounts(d: Mapping[str, Any]) -> tuple[str, str]:
    zh: list[str] = []
    en: list[str] = []
    if d["over_region"]:
        count, limit, total = d["class_i_in_region"], d["region_limit"], d["accounts_in_region"]
        zh.append(f"持有人在本地区{count}家银行开立Ⅰ类户（超过{limit}家），共{total}个账户")
        en.append(
            f"the holder has class I accounts at {count} banks in the region (more than "
            f"{limit}), {total} accounts in all"
        )
    if d["over_bank"]:
        klass_zh, klass_en = _CLASS_WORDS[d["account_class"]]
        count, limit = d["at_bank"], d["bank_limit"]
        zh.append(f"持有人在本行持有{count}个{klass_zh}（每人每行至多{limit}个）")
        en.append(
            f"the holder has {count} {klass_en} accounts at this bank (at most {limit} per "
            "person per bank)"
        )
    return "；".join(zh), "; ".join(en)


def notice(
    action: ScreeningAction,
    bank: tuple[str, str],
    account_no: str,
    reasons: Sequence[tuple[str, str]],
) -> tuple[str, str]:
    """The notice to the holder of `account_no` at `bank` (Chinese, English names): why the
    account was found, what was done, where to appeal and what to bring."""
    bank_zh, bank_en = bank
    tail = account_no[-4:]
    why_zh = "；".join(zh for zh, _ in reasons)
    why_en = "; ".join(en for _, en in reasons)
    measure_zh, measure_en = _MEASURES[action]
    return (
        f"【{bank_zh}】尊敬的客户：您尾号{tail}的账户经存量账户排查发现：{why_zh}。{measure_zh}"
        f"如有异议，可向{bank_zh}（开户机构）申诉，请携带本人有效身份证件及能说明账户用途的材料。",
        f"{bank_en}: dear customer, a review of existing accounts found that the account "
        f"ending {tail} shows: {why_en}. {measure_en} To object, appeal to {bank_en}, the bank "
        "holding the account, and bring your identity document and papers that show what the "
        "account is used for.",
    )
