"""`/v1/accounts`: a member reports its accounts' life, so the engine knows them at once.

Reading an account is the member-data API's (`GET /v1/accounts/{account_no}`, with its
balance and holder, in `fundwall.api.member_data`); these routes only write.

The routes read and check the body (size first, as the decision routes do), find the member's
API key, and call the use cases of `fundwall.accounts`; rights, tenancy and the audit record
live there. Another member's account answers 404, like an account nobody holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from fundwall.accounts import (
    AccountOpening,
    Holder,
    change_account,
    open_account,
)
from fundwall.accounts.closure import Verification, close_online
from fundwall.accounts.model import TierChange, TierSource
from fundwall.accounts.onboarding import (
    Applicant,
    Application,
    OnboardingDecision,
    Outcome,
    decide_onboarding,
)
from fundwall.accounts.tiers import PARTY_ID_MAX, set_person_tier, set_risk_tier
from fundwall.api.bodies import JSON_TYPES, parse_json, read_body
from fundwall.api.problems import problem_responses
from fundwall.api.routes import DirectRoute, json_response, security_doc
from fundwall.auth.dependencies import presented_key_actor
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import AccountNumber, CreditCode, MobilePhone, ResidentId
from fundwall.domain.parties import PartyKind
from fundwall.phones.checks import PhoneCheck, bind_phone
from fundwall.phones.registry import CheckTrigger, PhoneResult, TelecomRegistry
from fundwall.sharing.keys import accepted_sharing_keys
from fundwall.store.uow import UnitOfWork

ACCOUNTS_PATH: Final = "/v1/accounts"
CUSTOMERS_PATH: Final = "/v1/customers"
ACCOUNT_BODY_BYTES: Final = 8 * 1024
"""An account report is a few hundred bytes; anything larger is not one."""

Short = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class HolderIn(BaseModel):
    """The account's holder: a person by resident ID number or a firm by credit code."""

    model_config = ConfigDict(extra="forbid")

    kind: PartyKind = Field(PartyKind.PERSON, description="`person` or `firm`")
    id_number: Short = Field(description="18-character resident ID or credit code")
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Short | None = Field(None, description="mainland mobile number, if known")

    def to_holder(self) -> Holder:
        identity: ResidentId | CreditCode = (
            ResidentId.parse(self.id_number, field="holder.id_number")
            if self.kind is PartyKind.PERSON
            else CreditCode.parse(self.id_number, field="holder.id_number")
        )
        phone = None if self.phone is None else MobilePhone.parse(self.phone, field="holder.phone")
        return Holder(self.kind, identity, self.name, phone)


class AccountOpeningIn(BaseModel):
    """An account the member opened (账户开立)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_no": "6222021234567890128",
                    "account_class": "II",
                    "opened_at": "2026-12-04T09:30:00+08:00",
                    "opening_channel": "mobile",
                    "holder": {
                        "kind": "person",
                        "id_number": "11010519491231002X",
                        "name": "张三",
                        "phone": "13812345678",
                    },
                    "bound_account": "6228480012345678",
                }
            ]
        },
    )

    account_no: Short = Field(description="card (16–19 digits, Luhn) or account number")
    account_class: AccountClass
    opened_at: AwareDatetime
    opening_channel: OpeningChannel = OpeningChannel.COUNTER
    holder: HolderIn
    bound_account: Short | None = Field(
        None, description="the holder's account a class II or III account is bound to"
    )
    balance_fen: int = Field(0, ge=0, le=10**15, description="balance at opening, in fen")
    opening_device: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        None, description="the device it was opened through: the app's phone, a tablet"
    )
    opening_ip: Annotated[str, StringConstraints(min_length=2, max_length=45)] | None = Field(
        None, description="the IP address it was opened from"
    )
    opening_agent: Short | None = Field(
        None, description="the agent (代理见证) who opened it off-site, face to face"
    )

    def to_opening(self) -> AccountOpening:
        bound = self.bound_account
        return AccountOpening(
            account_no=AccountNumber.parse(self.account_no, field="account_no"),
            account_class=self.account_class,
            opened_at=self.opened_at,
            opening_channel=self.opening_channel,
            holder=self.holder.to_holder(),
            bound_account=(
                None if bound is None else AccountNumber.parse(bound, field="bound_account")
            ),
            balance_fen=self.balance_fen,
            opening_device=self.opening_device,
            opening_ip=self.opening_ip,
            opening_agent=self.opening_agent,
        )


class AccountChangeIn(BaseModel):
    """A change of class or standing status (销户: `closed`) of one of the member's accounts."""

    model_config = ConfigDict(extra="forbid")

    account_class: AccountClass | None = None
    status: (
        Literal[
            AccountStatus.NORMAL,
            AccountStatus.NON_COUNTER_SUSPENDED,
            AccountStatus.DORMANT,
            AccountStatus.CLOSED,
        ]
        | None
    ) = None
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TierIn(BaseModel):
    """The risk tier (风险等级) to set, and why (the holder's appeal will read it)."""

    model_config = ConfigDict(extra="forbid")

    tier: RiskTier = Field(
        description="`low`; `medium` caps what the account pays out a day outside a counter; "
        "`high` suspends its non-counter business until identity is checked again"
    )
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TierOut(BaseModel):
    """A change of an account's risk tier."""

    account_no: str
    tier: RiskTier
    previous: RiskTier
    source: TierSource
    reason: str
    changed_at: datetime

    @classmethod
    def of(cls, change: TierChange) -> dict[str, Any]:
        return cls(
            account_no=change.account_no,
            tier=change.tier,
            previous=change.previous,
            source=change.source,
            reason=change.reason,
            changed_at=change.changed_at,
        ).model_dump(mode="json")


class PersonTierOut(BaseModel):
    """The changes a person's tier made: one per open account of theirs at the member that
    was in another tier (those in it already keep it, unchanged)."""

    party_id: str
    changes: list[TierOut]


class ClosureIn(BaseModel):
    """An online closure request (线上销户) the holder made and the member verified."""

    model_config = ConfigDict(extra="forbid")

    verification: Verification = Field(
        description="how the holder was verified: `member_channel` (the member's app or site, "
        "ID number and a code sent to the bound phone); `public_portal` is the portal's own "
        "and refused here (422)"
    )
    move_to: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="the account the holder names for the balance; while the account holds "
        "money the closure is refused, quoting it (the balance leaves first by a transfer)",
    )


class OnboardingIn(BaseModel):
    """An application for a simplified opening (简易开户)."""

    model_config = ConfigDict(extra="forbid")

    applicant: Applicant = Field(
        description="`flexible_worker` (a personal account) or `micro_firm` (a basic account)"
    )
    id_number: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="the person's resident ID, or the firm's unified credit code"
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="the person's (the firm's legal representative's) mobile number"
    )
    representative_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = (
        Field(default=None, description="a firm's legal representative's resident ID")
    )
    account_no: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="open this account at once when the outcome allows it"
    )


class FindingOut(BaseModel):
    check: str = Field(description="identity, phone, shared_list, punishment or existing_accounts")
    outcome: Outcome
    text_zh: str
    text_en: str


class OnboardingOut(BaseModel):
    """The decision: open, open restricted (class II, medium risk tier) or refer to a counter,
    with each check's finding in words."""

    id: int
    outcome: Outcome
    account_class: AccountClass | None
    tier: RiskTier | None
    account_no: str | None = Field(description="the account opened, if one was")
    findings: list[FindingOut]
    decided_at: datetime

    @classmethod
    def of(cls, decision: OnboardingDecision) -> dict[str, Any]:
        return cls(
            id=decision.id,
            outcome=decision.outcome,
            account_class=decision.account_class,
            tier=decision.tier,
            account_no=decision.account_no,
            findings=[FindingOut(check=f.check, outcome=f.outcome, text_zh=f.zh, text_en=f.en)
                      for f in decision.findings],
            decided_at=decision.decided_at,
        ).model_dump(mode="json")  # fmt: skip


class PhoneBindingIn(BaseModel):
    """The phone to bind to the account's holder (手机号绑定/变更)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "13812345678"}]}
    )

    phone: Short = Field(description="mainland mobile number")


class PhoneCheckOut(BaseModel):
    """A telecom registry's check of the phone bound to the holder."""

    check_id: int
    phone: str = Field(description="masked")
    bound_at: datetime | None
    current: bool
    result: PhoneResult = Field(
        description="`match`, `mismatch` (someone else's), `not_found`, `recycled` (the "
        "holder gave the number up)"
    )
    released_at: datetime | None = Field(description="when the holder gave it up, if known")
    name_checked: bool
    answered_by: str
    answered_at: datetime = Field(description="the registry's own time of answering")
    checked_at: datetime
    trigger: CheckTrigger


class AccountOut(BaseModel):
    """One of the member's accounts as the account directory holds it."""

    account_no: str
    bank: str
    account_class: AccountClass
    status: AccountStatus
    opened_at: datetime | None = Field(
        description="null when unknown (accounts loaded from imported public data)"
    )
    opening_channel: OpeningChannel
    bound_account: str | None

    @classmethod
    def of(cls, account: Account) -> dict[str, Any]:
        return cls(
            account_no=account.account_no,
            bank=account.institution_code,
            account_class=account.account_class,
            status=account.status,
            opened_at=account.opened_at,
            opening_channel=account.opening_channel,
            bound_account=account.bound_account,
        ).model_dump(mode="json")


@dataclass(frozen=True)
class AccountReports:
    """What the account routes need: units of work over the store the decision service reads
    (`fundwall.bootstrap.Platform.unit_of_work`), the keyring that encrypts and hashes a
    new holder's identity, and the telecom registry that checks the phones members bind
    (None: opening checks no phone and the phone route is absent)."""

    unit_of_work: Callable[[], UnitOfWork]
    keyring: Keyring
    policy: PolicySettings
    """The policy's figures (a risk tier's daily cap)."""
    registry: TelecomRegistry | None = None
    keys_dir: Path | None = None
    """Where the sharing keys are (a simplified opening checks the shared list by them)."""


_OPENING: Final = TypeAdapter(AccountOpeningIn)
_CHANGE: Final = TypeAdapter(AccountChangeIn)
_PHONE: Final = TypeAdapter(PhoneBindingIn)
_TIER: Final = TypeAdapter(TierIn)
_ONBOARDING: Final = TypeAdapter(OnboardingIn)
_CLOSURE: Final = TypeAdapter(ClosureIn)


def _account_no(request: Request) -> str:
    number = str(request.path_params["account_no"])
    if not 0 < len(number) <= 64:
        raise InvalidInput("1 to 64 characters", "account_no")
    return number


def account_router(reports: AccountReports) -> APIRouter:
    """The account routes over the store of `reports`."""
    router = APIRouter(route_class=DirectRoute, tags=["accounts"])
    opening_doc = {"$ref": "#/components/schemas/AccountOpeningIn"}
    change_doc = {"$ref": "#/components/schemas/AccountChangeIn"}
    number_doc = [
        {
            "name": "account_no",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
        }
    ]

    @router.post(
        ACCOUNTS_PATH,
        status_code=201,
        summary="Report an account the member opened",
        response_model=AccountOut,
        responses=problem_responses(401, 403, 409, 413, 415, 422),
        openapi_extra=security_doc(opening_doc, "The account and its holder."),
    )
    async def report_opening(request: Request) -> Response:
        """Put an account the member opened into the account directory: from the next
        decision on, the engine admits the member's transactions from it and reads its class,
        age and holder. 409 when the number is already in the directory."""
        actor = presented_key_actor(request)
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        opening = parse_json(body, _OPENING).to_opening()

        def report() -> Account:
            with reports.unit_of_work() as work:
                return open_account(work, actor, opening, reports.keyring, reports.registry)

        # On a worker thread: the holder's phone is asked of the telecom registry, which may
        # take seconds to answer, and the event loop decides meanwhile.
        account = await run_in_threadpool(report)
        return json_response(AccountOut.of(account), status_code=201)

    @router.patch(
        ACCOUNTS_PATH + "/{account_no}",
        summary="Report a change of an account's class or status",
        response_model=AccountOut,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
        openapi_extra=security_doc(change_doc, "What changes, and why.", number_doc),
    )
    async def report_change(request: Request) -> Response:
        """Change the class of one of the member's accounts, or its standing status
        (`non_counter_suspended` 非柜面暂停, `dormant` 久悬, `closed` 销户, back to `normal`).
        Stop-payments and freezes are police orders: a member neither sets nor lifts them."""
        actor = presented_key_actor(request)
        number = _account_no(request)
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        change = parse_json(body, _CHANGE)
        with reports.unit_of_work() as work:
            account = change_account(
                work,
                actor,
                number,
                reason=change.reason,
                account_class=change.account_class,
                status=change.status,
                policy=reports.policy,
            )
        return json_response(AccountOut.of(account))

    closure_doc = {"$ref": "#/components/schemas/ClosureIn"}

    @router.post(
        ACCOUNTS_PATH + "/{account_no}/closure",
        summary="Close an account online on the holder's verified request",
        response_model=AccountOut,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
        openapi_extra=security_doc(closure_doc, "How the holder was verified.", number_doc),
    )
    async def close(request: Request) -> Response:
        """Close one of the member's accounts without a branch visit (线上销户): refused (409),
        naming every reason at once, while it has a balance (moved out first, by a transfer
        the engine decides), a police order or restriction in force, a status other than
        normal or an open case."""
        actor = presented_key_actor(request)
        number = _account_no(request)
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        wanted = parse_json(body, _CLOSURE)
        with reports.unit_of_work() as work:
            closure = close_online(work, actor, number, wanted.verification, move_to=wanted.move_to)
        return json_response(AccountOut.of(closure.account))

    tier_doc = {"$ref": "#/components/schemas/TierIn"}

    @router.put(
        ACCOUNTS_PATH + "/{account_no}/tier",
        summary="Set an account's risk tier, with the measures that go with it",
        response_model=TierOut,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
        openapi_extra=security_doc(tier_doc, "The tier, and why.", number_doc),
    )
    async def set_tier(request: Request) -> Response:
        """Set the risk tier (风险等级) of one of the member's accounts: `medium` caps what it
        pays out a day outside a counter, `high` suspends its non-counter business until the
        holder's identity is checked again, `low` lifts both; the engine applies it from the
        next decision. 409 when the account is closed or in that tier already."""
        actor = presented_key_actor(request)
        number = _account_no(request)
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        wanted = parse_json(body, _TIER)
        with reports.unit_of_work() as work:
            change = set_risk_tier(
                work, actor, number, wanted.tier, reports.policy, reason=wanted.reason
            )
        return json_response(TierOut.of(change))

    party_doc = [
        {
            "name": "party_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": PARTY_ID_MAX},
        }
    ]

    @router.put(
        CUSTOMERS_PATH + "/{party_id}/tier",
        summary="Set the risk tier of every open account a customer holds at the member",
        response_model=PersonTierOut,
        responses=problem_responses(401, 403, 404, 413, 415, 422),
        openapi_extra=security_doc(tier_doc, "The tier, and why.", party_doc),
    )
    async def set_customer_tier(request: Request) -> Response:
        """Set the risk tier (风险等级) of a person (or firm) at the member: every open account
        it holds here gets the tier and its measures (those in it already keep it). The
        customer is the `party_id` of an account's holder (`GET /v1/accounts/{account_no}`);
        a customer holding no open account here is 404, as another member's."""
        actor = presented_key_actor(request)
        party = str(request.path_params["party_id"])
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        wanted = parse_json(body, _TIER)
        with reports.unit_of_work() as work:
            changes = set_person_tier(
                work, actor, party, wanted.tier, reports.policy, reason=wanted.reason
            )
        return json_response({"party_id": party, "changes": [TierOut.of(c) for c in changes]})

    registry = reports.registry
    if registry is None:
        return router
    phone_doc = {"$ref": "#/components/schemas/PhoneBindingIn"}

    @router.post(
        ACCOUNTS_PATH + "/{account_no}/phone",
        status_code=201,
        summary="Bind or change the phone of an account's holder, checked by the registry",
        response_model=PhoneCheckOut,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 503),
        openapi_extra=security_doc(phone_doc, "The phone.", number_doc),
    )
    async def report_phone(request: Request) -> Response:
        """Bind a phone to the holder of one of the member's accounts (the phone bound
        before is kept in the history), checked at once against the telecom registry
        (手机实名验证): the answer says whether the number is the holder's. 409 when it is
        bound already; 503 when the registry does not answer (nothing is bound)."""
        actor = presented_key_actor(request)
        number = _account_no(request)
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        phone = MobilePhone.parse(parse_json(body, _PHONE).phone, field="phone")

        def bind() -> PhoneCheck:
            with reports.unit_of_work() as work:
                return bind_phone(work, actor, number, phone, registry, reports.keyring)

        check = await run_in_threadpool(bind)  # the registry may take seconds: off the loop
        return json_response(check.to_dict(), status_code=201)

    onboarding_doc = {"$ref": "#/components/schemas/OnboardingIn"}

    @router.post(
        "/v1/onboarding",
        summary="Decide on a simplified opening, and open the account it allows",
        response_model=OnboardingOut,
        responses=problem_responses(401, 403, 409, 413, 415, 422, 503),
        openapi_extra=security_doc(onboarding_doc, "The applicant."),
    )
    async def onboard(request: Request) -> Response:
        """An instant, explained decision on a flexible worker's or a micro-firm's simplified
        opening (简易开户): the ID's validity, the phone's real-name check, the shared risk
        list, the punishment list and the applicant's accounts across the region → `open`,
        `open_restricted` or `refer` (to a counter). With `account_no`, an outcome that opens
        opens the account at once. 503 when the telecom registry does not answer."""
        actor = presented_key_actor(request)
        body = await read_body(request, ACCOUNT_BODY_BYTES, JSON_TYPES)
        wanted = parse_json(body, _ONBOARDING)
        application = Application(
            wanted.applicant, wanted.id_number, wanted.name, wanted.phone,
            wanted.representative_id, wanted.account_no,
        )  # fmt: skip

        def decide() -> OnboardingDecision:
            with reports.unit_of_work() as work:
                keys = (
                    accepted_sharing_keys(work, actor, reports.keys_dir)
                    if reports.keys_dir is not None
                    else None
                )
                return decide_onboarding(
                    work, actor, application, reports.keyring, registry, reports.policy, keys
                )

        decision = await run_in_threadpool(decide)  # the registry may take seconds: off the loop
        return json_response(OnboardingOut.of(decision))

    return router
