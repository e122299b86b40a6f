"""The restriction notice (告知短信): when a bank puts one of its own measures on an account, or
tells the holder what screening found, the holder gets one SMS saying what, why, what to
bring and where to appeal (the public portal's address).

`notify_holder` is the one place that queues it, called by the accounts writers (a member's
restriction, a risk tier's measures, the status 非柜面暂停) and by screening's holder notice,
inside the caller's transaction: the message stands or falls with the measure. Several
writes in one transaction (a screening notice and the restriction it comes with, a tier's
measures) tell the holder once. A holder with no bound phone is told at the counter and in
the portal, not by SMS.
"""

from __future__ import annotations

from typing import Final

from fundwall.auth.actor import Actor
from fundwall.config import PortalSettings, get_settings
from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls.model import RestrictionKind
from fundwall.outreach.model import SmsPurpose
from fundwall.outreach.queries import queue_sms
from fundwall.phones.queries import current_binding
from fundwall.store.tables import AccountRow, InstitutionRow
from fundwall.store.uow import UnitOfWork

MEASURE_WORDS: Final = {
    RestrictionKind.NON_COUNTER_SUSPENSION.value: "暂停非柜面业务",
    RestrictionKind.OUTFLOW_CAP.value: "限制非柜面转出额度",
    AccountStatus.NON_COUNTER_SUSPENDED.value: "暂停非柜面业务",
    AccountStatus.DORMANT.value: "列为久悬账户",
    AccountStatus.CLOSED.value: "销户",
}
"""What the SMS says was done ("您尾号…的账户已被{measure}"), by restriction kind or status."""
REVIEW_WORDS: Final = "列入风险排查"
"""What a notice without a measure (screening's 告知) says was done."""
REASON_IN_SMS: Final = 30
"""The reason's first characters the SMS carries (the portal shows it whole): the template,
a bank's name, the address and 30 characters stay within the outbox's four segments."""
_NOTIFIED: Final = "fundwall_restriction_notices"


def notify_holder(
    uow: UnitOfWork,
    actor: Actor,
    account: AccountRow,
    measure: str | None,
    reason: str,
    *,
    portal: PortalSettings | None = None,
) -> int | None:
    """Queue the `restriction_notice` SMS to the phone the account's bank bound to its holder,
    in the caller's transaction; the message's id, or None when the holder has no bound phone
    or was told in this transaction already. `measure` is a restriction kind or a status
    (MEASURE_WORDS), None for a notice of a review without a measure."""
    session = uow.session
    transaction = session.get_transaction()
    told: tuple[object, set[str]] | None = session.info.get(_NOTIFIED)
    if told is None or told[0] is not transaction:
        told = session.info[_NOTIFIED] = (transaction, set())
    if account.account_no in told[1]:
        return None
    binding = current_binding(session, account.institution_code, account.party_id)
    if binding is None:
        return None
    told[1].add(account.account_no)
    bank = session.get(InstitutionRow, account.institution_code)
    stated = " ".join(reason.split())
    brief = stated if len(stated) <= REASON_IN_SMS else stated[: REASON_IN_SMS - 1] + "…"
    return queue_sms(
        uow,
        actor,
        phone=uow.keyring.decrypt(binding.phone_enc),
        template="restriction_notice",
        variables={
            "bank": bank.name_zh if bank is not None else account.institution_code,
            "account_tail": account.account_no[-4:],
            "measure": MEASURE_WORDS.get(measure or "", REVIEW_WORDS),
            "reason": brief,
            "portal_url": (portal or get_settings().portal).public_url,
        },
        member=account.institution_code,
        purpose=SmsPurpose.NOTICE,
        party_id=account.party_id,
    )
