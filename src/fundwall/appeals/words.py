"""What each measure on an account says to its holder, in plain Chinese and English: what it
stops, where to appeal and what to bring (Art. 32 of the Anti-Telecom and Online Fraud Law:
whoever restricts states the reason, the remedy and the documents needed)."""

from __future__ import annotations

from fundwall.appeals.model import Words
from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls.model import RestrictionKind
from fundwall.engine.rules import format_money

STATUS_SUSPENDED = AccountStatus.NON_COUNTER_SUSPENDED.value

_BRING_TO_BANK = Words(
    "本人有效身份证件，以及能说明账户用途和资金来源的材料（如工资流水、劳动合同、经营凭证、交易记录）。",
    "Your identity document, and papers that show what the account is used for and where its "
    "money comes from (pay slips, an employment contract, business records, receipts).",
)
_BRING_TO_POLICE = Words(
    "本人有效身份证件，以及与被止付或冻结资金有关的证明材料。",
    "Your identity document, and papers about the money that was stopped or frozen.",
)


def what(kind: str, amount_fen: int | None) -> Words:
    """What the measure of `kind` (a restriction kind, or the status non_counter_suspended)
    stops, in words."""
    if kind in (RestrictionKind.NON_COUNTER_SUSPENSION.value, STATUS_SUSPENDED):
        return Words(
            "非柜面业务暂停：手机银行、网上银行、ATM等非柜面渠道暂停使用，柜面业务不受影响。",
            "Non-counter business suspended: mobile and online banking and ATMs are closed to "
            "the account; business at a counter is still open.",
        )
    if kind == RestrictionKind.OUTFLOW_CAP.value:
        cap = format_money(amount_fen or 0)
        return Words(
            f"限额管控：非柜面渠道每日转出不超过{cap}（转入本人绑定账户不计）。",
            f"Daily cap: at most {cap} a day paid out outside a counter (payments to your own "
            "bound account not counted).",
        )
    if kind == RestrictionKind.STOP_PAYMENT.value:
        return Words(
            "紧急止付：公安机关依法止付，账户只收不付。",
            "Emergency stop-payment by the police: money may come in, nothing may go out.",
        )
    if kind == RestrictionKind.FREEZE.value:
        frozen = f"冻结{format_money(amount_fen)}" if amount_fen else "全额冻结"
        frozen_en = f"{format_money(amount_fen)} frozen" if amount_fen else "the whole account"
        return Words(
            f"冻结：公安机关依法{frozen}。",
            f"Freeze by the police: {frozen_en}.",
        )
    raise ValueError(f"no words for a measure of kind {kind!r}")


def where_bank(bank: Words) -> Words:
    """Where a bank's own measure is appealed."""
    return Words(
        f"向{bank.zh}（开户机构）申诉：可在本网站在线提交，也可到其营业网点办理。",
        f"Appeal to {bank.en}, the bank holding the account: online here, or at one of its "
        "branches.",
    )


def where_police(unit: Words) -> Words:
    """Where a police order is appealed: to the authority that issued it, not the bank."""
    return Words(
        f"该措施由{unit.zh}依法作出，请向该公安机关提出异议，银行无权解除。",
        f"The measure was ordered by {unit.en}: raise your objection with that police "
        "authority; the bank cannot lift it.",
    )


def bring(appealable: bool) -> Words:
    """What to bring: to the bank, or to the police."""
    return _BRING_TO_BANK if appealable else _BRING_TO_POLICE
