"""Simplified account opening (简易开户): an instant, explained onboarding decision for a
flexible worker's personal account or a micro-firm's basic account, and the opening itself.

What is checked, each a finding with its reason in Chinese and English:

- **identity**: the resident ID (or, for a firm, the credit code and the legal
  representative's resident ID) is valid — check character, a real birth date not in the
  future — and a person is of age (`policy.onboarding_min_age`);
- **phone**: the telecom registry says the phone is the person's (手机实名验证; the firm's
  representative's phone); a mismatch, an unknown or a recycled number refers to the counter;
- **shared risk list**: the ID (credit code) and phone, by their shared hashes under every
  accepted key, against the entries in force — a fraud account or mule entry refers to the
  counter, any other category opens restricted;
- **punishment list** (联合惩戒): a listed person is referred to the counter;
- **existing accounts**: the applicant's open accounts across the region, found by the keyed
  hash of the ID number (never the raw number): many of them (`policy.onboarding_restricted_
  accounts`) open restricted; at this member, a person with a class I account gets a class II
  one, and with the most class II accounts a bank may open is referred.

The outcome is the strictest finding's: **open** (class I for a person, the basic account
for a firm), **open restricted** (a person's class II; the account in the medium risk tier,
with its daily outflow cap) or **refer** to the counter. The decision is recorded (the
member's count of "accounts opened by simplified opening" is of those opened); given an
account number and an outcome that opens, the account is opened in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import func, select

from fundwall.accounts.model import AccountOpening, Holder, TierSource
from fundwall.accounts.queries import write_opening, write_tier
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import PolicySettings
from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring, SharingKeys
from fundwall.domain.accounts import AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.identity import AccountNumber, CreditCode, MobilePhone, ResidentId
from fundwall.domain.parties import PartyKind
from fundwall.engine.controls.model import ListKind, RiskCategory
from fundwall.phones.registry import PhoneResult, TelecomRegistry
from fundwall.sharing.queries import in_force
from fundwall.store.engine_tables import PunishmentRow, RiskListEntryRow
from fundwall.store.governance_tables import OnboardingDecisionRow
from fundwall.store.tables import AccountRow, PartyRow
from fundwall.store.uow import UnitOfWork

NAME_MAX: Final = 100


class Applicant(StrEnum):
    FLEXIBLE_WORKER = "flexible_worker"
    """灵活就业人员: a person's personal account."""
    MICRO_FIRM = "micro_firm"
    """小微企业: a firm's basic account (基本存款账户), its legal representative checked."""


class Outcome(StrEnum):
    OPEN = "open"
    OPEN_RESTRICTED = "open_restricted"
    REFER = "refer"
    """To the counter: identity checked in person before anything is opened."""

    @property
    def opens(self) -> bool:
        return self is not Outcome.REFER


_SEVERITY: Final = {Outcome.OPEN: 0, Outcome.OPEN_RESTRICTED: 1, Outcome.REFER: 2}


@dataclass(frozen=True, slots=True)
class Application:
    """Who applies. `id_number` is the person's resident ID, or the firm's credit code with
    the legal representative's resident ID in `representative_id`; `phone` is the person's
    (the representative's). `account_no`: open it at once when the outcome allows."""

    applicant: Applicant
    id_number: str
    name: str
    phone: str
    representative_id: str | None = None
    account_no: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's word: what it found and what it means for the outcome."""

    check: str
    outcome: Outcome
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class OnboardingDecision:
    id: int
    outcome: Outcome
    account_class: AccountClass | None
    """The class to open (None when referred)."""
    tier: RiskTier | None
    findings: tuple[Finding, ...]
    account_no: str | None
    """The account opened with the decision, if one was."""
    decided_at: datetime


def _member(actor: Actor) -> str:
    if actor.member is None:
        raise PermissionDenied(f"a member opens its own accounts ({actor.audit_id})")
    return actor.member


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class _Who:
    """The applicant parsed: the holder to open for and the person whose phone is checked."""

    holder: Holder
    person: ResidentId
    phone: MobilePhone


def _parse(application: Application, today: date) -> _Who:
    name = application.name.strip() if isinstance(application.name, str) else ""
    if not 0 < len(name) <= NAME_MAX:
        raise InvalidInput(f"1 to {NAME_MAX} characters", "name")
    phone = MobilePhone.parse(application.phone, field="phone")
    if application.applicant is Applicant.MICRO_FIRM:
        if application.representative_id is None:
            raise InvalidInput("a firm's legal representative's resident ID", "representative_id")
        firm = CreditCode.parse(application.id_number, field="id_number")
        person = ResidentId.parse(
            application.representative_id, today=today, field="representative_id"
        )
        return _Who(Holder(PartyKind.FIRM, firm, name, phone), person, phone)
    person = ResidentId.parse(application.id_number, today=today, field="id_number")
    return _Who(Holder(PartyKind.PERSON, person, name, phone), person, phone)


def _phone_finding(answer_result: PhoneResult) -> Finding:
    if answer_result is PhoneResult.MATCH:
        return Finding("phone", Outcome.OPEN, "手机号实名核验一致", "the phone is the person's")
    words = {
        PhoneResult.MISMATCH: ("手机号登记在他人名下", "the phone is registered to someone else"),
        PhoneResult.NOT_FOUND: ("手机号未登记", "the phone number is not registered"),
        PhoneResult.RECYCLED: ("手机号已被本人注销（二次号）", "the person gave the number up"),
    }[answer_result]
    return Finding(
        "phone",
        Outcome.REFER,
        f"{words[0]}，须到柜面核实身份",
        f"{words[1]}: identity must be checked at a counter",
    )


def _list_findings(uow: UnitOfWork, who: _Who, sharing: SharingKeys | None) -> list[Finding]:
    if sharing is None or sharing.current is None:
        return []
    id_kind = ListKind.ID_HASH if who.holder.kind is PartyKind.PERSON else ListKind.CREDIT_CODE_HASH
    assert id_kind.hash_kind is not None
    keys = [(id_kind, h) for h in sharing.hashes(id_kind.hash_kind, who.holder.id_number.number)]
    keys += [(ListKind.PHONE_HASH, h) for h in sharing.hashes(PHONE_HASH_KIND, who.phone.number)]
    categories = {
        RiskCategory(category)
        for category in uow.session.scalars(
            select(RiskListEntryRow.category).where(
                RiskListEntryRow.key.in_([key for _, key in keys]),
                RiskListEntryRow.kind.in_({kind.value for kind, _ in keys}),
                in_force(uow.clock.now()),
            )
        )
    }
    findings = []
    for category in sorted(categories):
        blocking = category in (RiskCategory.FRAUD_ACCOUNT, RiskCategory.MULE)
        findings.append(
            Finding(
                "shared_list",
                Outcome.REFER if blocking else Outcome.OPEN_RESTRICTED,
                f"身份证件或手机号在共享风险名单上（{category.value}）",
                f"the ID or phone is on the shared risk list ({category.value})",
            )
        )
    return findings


@dataclass(frozen=True, slots=True)
class _Existing:
    """What the applicant's open accounts say: the findings, the class a person gets here
    when nothing restricts the opening, and whether a restricted one (class II) is still
    possible here."""

    findings: list[Finding]
    wanted: AccountClass
    class_ii_full: bool = False


def _account_findings(
    uow: UnitOfWork, member: str, party_id: str | None, who: _Who, policy: PolicySettings
) -> _Existing:
    """The applicant's open accounts: the findings and the class a person gets here."""
    firm = who.holder.kind is PartyKind.FIRM
    wanted = AccountClass.CORPORATE if firm else AccountClass.CLASS_I
    if party_id is None:
        return _Existing([], wanted)
    rows = uow.session.execute(
        select(AccountRow.institution_code, AccountRow.account_class, func.count())
        .where(AccountRow.party_id == party_id, AccountRow.status != AccountStatus.CLOSED.value)
        .group_by(AccountRow.institution_code, AccountRow.account_class)
    ).all()
    total = sum(int(n) for _, _, n in rows)
    here = Counter({klass: int(n) for bank, klass, n in rows if bank == member})
    findings = []
    if firm and total:
        findings.append(
            Finding(
                "existing_accounts",
                Outcome.REFER,
                "申请企业在本地区已有单位银行结算账户；基本存款账户只能开立一个，须到柜面核实",
                "the firm holds a company account in the region already: a firm has one basic "
                "account only, checked at a counter",
            )
        )
    if total >= policy.onboarding_restricted_accounts:
        findings.append(
            Finding(
                "existing_accounts",
                Outcome.OPEN_RESTRICTED,
                # The threshold, not the count: another bank's customers are not told apart.
                f"申请人在本地区已有不少于{policy.onboarding_restricted_accounts}个账户",
                f"the applicant holds {policy.onboarding_restricted_accounts} or more accounts "
                "in the region already",
            )
        )
    class_ii_full = here[AccountClass.CLASS_II.value] >= policy.max_class_ii_accounts_per_bank
    if not firm and here[AccountClass.CLASS_I.value] >= policy.max_class_i_accounts_per_bank:
        if class_ii_full:
            findings.append(
                Finding(
                    "existing_accounts",
                    Outcome.REFER,
                    "申请人在本行的Ⅰ类户、Ⅱ类户均已达上限",
                    "the applicant has as many class I and II accounts here as a bank may open",
                )
            )
        wanted = AccountClass.CLASS_II
    return _Existing(findings, wanted, class_ii_full and not firm)


_CLASS_II_FULL: Final = Finding(
    "existing_accounts",
    Outcome.REFER,
    "申请人在本行的Ⅱ类户已达上限，不能再开立受限的Ⅱ类户",
    "the applicant has as many class II accounts here as a bank may open: no restricted "
    "class II account",
)


@use_case(Permission.ONBOARD_CUSTOMERS)
def decide_onboarding(
    uow: UnitOfWork,
    actor: Actor,
    application: Application,
    keyring: Keyring,
    registry: TelecomRegistry,
    policy: PolicySettings,
    sharing: SharingKeys | None = None,
) -> OnboardingDecision:
    """Decide on `application` for the actor's member, record the decision and, given an
    account number and an outcome that opens, open the account (its class and tier as
    decided); one transaction. Bad input is refused naming the field, nothing recorded; a
    registry that does not answer refuses the decision (RegistryUnavailable)."""
    member = _member(actor)
    try:
        applicant = Applicant(application.applicant)
    except ValueError:
        raise InvalidInput("flexible_worker or micro_firm", "applicant") from None
    now = uow.clock.now()
    today = (now + timedelta(hours=8)).date()
    who = _parse(application, today)
    number = (
        AccountNumber.parse(application.account_no, field="account_no")
        if application.account_no is not None
        else None
    )
    findings = [Finding("identity", Outcome.OPEN, "身份证件有效", "the identity document is valid")]
    if _age(who.person.birth_date, today) < policy.onboarding_min_age:
        findings.append(
            Finding(
                "identity",
                Outcome.REFER,
                f"申请人未满{policy.onboarding_min_age}周岁，须监护人陪同到柜面办理",
                f"the applicant is under {policy.onboarding_min_age}: at a counter, with a "
                "guardian",
            )
        )
    answer = registry.verify(who.phone, who.person, who.holder.name, None)
    findings.append(_phone_finding(answer.result))
    findings += _list_findings(uow, who, sharing)
    person_hash = keyring.keyed_hash(ID_HASH_KIND, who.person.number)
    punished = uow.session.scalar(
        select(func.count(PunishmentRow.id)).where(
            PunishmentRow.id_hash == person_hash,
            PunishmentRow.lifted_at.is_(None),
            PunishmentRow.listed_from <= now,
            PunishmentRow.listed_until > now,
        )
    )
    if punished:
        findings.append(
            Finding(
                "punishment",
                Outcome.REFER,
                "申请人在电信网络诈骗联合惩戒名单上，不能线上开户",
                "the applicant is on the joint punishment list: no account opened online",
            )
        )
    holder_hash = keyring.keyed_hash(ID_HASH_KIND, who.holder.id_number.number)
    party_id = uow.session.scalar(
        select(PartyRow.party_id).where(PartyRow.id_number_hash == holder_hash)
    )
    existing = _account_findings(uow, member, party_id, who, policy)
    findings += existing.findings
    outcome = max((f.outcome for f in findings), key=_SEVERITY.__getitem__)
    if outcome is Outcome.OPEN_RESTRICTED and existing.class_ii_full:
        # A restricted opening is a class II account: one more would pass the bank's limit.
        findings.append(_CLASS_II_FULL)
        outcome = Outcome.REFER
    klass, tier = _class_and_tier(outcome, existing.wanted)
    record = uow.audit.record(
        actor,
        "decide_onboarding",
        f"onboarding:{applicant.value}",
        {
            "outcome": outcome.value,
            "class": klass.value if klass else None,
            "checks": sorted({f.check for f in findings if f.outcome is not Outcome.OPEN}),
            "phone_check": answer.result.value,
        },
    )
    opened = None
    if number is not None and klass is not None and tier is not None:
        opening = AccountOpening(
            number, klass, now, OpeningChannel.ONLINE, who.holder, balance_fen=0
        )
        account = write_opening(uow, actor, member, opening, keyring, registry, answer=answer)
        opened = account.account_no
        if tier is not RiskTier.LOW:
            account_row = uow.session.get(AccountRow, opened)
            assert account_row is not None  # just written
            why = "simplified opening: " + _why(findings)
            write_tier(uow, actor, account_row, tier, why, TierSource.ONBOARDING, policy)
    row = OnboardingDecisionRow(
        member=member,
        applicant=applicant.value,
        id_hash=holder_hash,
        outcome=outcome.value,
        account_class=klass.value if klass else None,
        tier=tier.value if tier else None,
        findings=[[f.check, f.outcome.value, f.zh, f.en] for f in findings],
        account_no=opened,
        decided_at=record.ts,
        decided_by=record.actor,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.commit()
    return OnboardingDecision(row.id, outcome, klass, tier, tuple(findings), opened, record.ts)


def _why(findings: list[Finding]) -> str:
    """The checks that restricted the opening, by name (the findings' words are the
    decision's; a tier's reason stays short and in no one language)."""
    return ", ".join(sorted({f.check for f in findings if f.outcome is not Outcome.OPEN}))


def _class_and_tier(
    outcome: Outcome, wanted: AccountClass
) -> tuple[AccountClass | None, RiskTier | None]:
    if outcome is Outcome.REFER:
        return None, None
    if outcome is Outcome.OPEN_RESTRICTED:
        restricted = (
            AccountClass.CORPORATE if wanted is AccountClass.CORPORATE else AccountClass.CLASS_II
        )
        return restricted, RiskTier.MEDIUM
    return wanted, RiskTier.LOW


@use_case(Permission.VIEW_OVERVIEW)
def onboarding_counts(uow: UnitOfWork, actor: Actor) -> dict[str, dict[str, int]]:
    """Per member (the actor's own only, unless it is the hub's): decisions by outcome, and
    `opened`, the accounts opened by simplified opening."""
    query = select(
        OnboardingDecisionRow.member,
        OnboardingDecisionRow.outcome,
        func.count(),
        func.count(OnboardingDecisionRow.account_no),
    ).group_by(OnboardingDecisionRow.member, OnboardingDecisionRow.outcome)
    if actor.member is not None:
        query = query.where(OnboardingDecisionRow.member == actor.member)
    counts: dict[str, dict[str, int]] = {}
    for member, outcome, decided, opened in uow.session.execute(query):
        mine = counts.setdefault(member, {"opened": 0})
        mine[outcome] = int(decided)
        mine["opened"] += int(opened)
    return counts
