"""`/v1/clues`: clue transfer (线索移送) for the banks' and the police's systems.

A bank's system (its API key) sends a clue from one of its cases and reads its outbox
(`GET /v1/clues`); a police unit's system (its key, acting as `police_system`) reads the
unit's inbox (`GET /v1/clues/inbox`), a clue's
package with the holders in full (each read audited) and answers. A signed-in console user
reads with the session. Another member's or unit's clue answers 404, as one that does not
exist; an answer that cannot follow the clue's status 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from fundwall.api.bodies import JSON_TYPES, parse_json, read_body
from fundwall.api.cases import EvidenceOut
from fundwall.api.member_data import PageNumber, PageOut, TransactionOut
from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED, security_doc
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep, presented_key_actor
from fundwall.auth.roles import Permission
from fundwall.clues import (
    ClueAnswer,
    ClueFilter,
    ClueItem,
    ClueListing,
    ClueView,
    answer_clue,
    clue_inbox,
    clue_outbox,
    get_clue,
    send_clue,
    sent_clue,
)
from fundwall.clues.model import (
    MAX_ACCOUNTS,
    MAX_EVIDENCE,
    MAX_RECOVERED_FEN,
    MAX_SUSPECTS,
    MAX_TRANSACTIONS,
    SUMMARY_MAX,
)
from fundwall.crypto import Keyring
from fundwall.domain.police import ClueStatus

TAG = "clues"
CLUE_BODY_BYTES: Final = 256 * 1024
"""A clue names at most a thousand transactions and a page of summary: well under this."""

Key = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ClueId = Annotated[int, Path(ge=1, le=2**62, description="the clue's number")]


class ClueIn(BaseModel):
    """A clue to send from one of the member's cases. Leave out `accounts`, `tx_ids` or
    `evidence_ids` to send the case's accounts, its alerts' transactions or all its evidence."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "case_id": 42,
                    "police_unit": "PSB350203",
                    "summary": "The account received card-sale money and paid it on at once.",
                }
            ]
        },
    )

    case_id: int = Field(ge=1, le=2**62)
    police_unit: Key = Field(description="the police unit's institution code")
    summary: Annotated[str, StringConstraints(max_length=SUMMARY_MAX)] = Field(
        description="the analyst's summary; no ID or phone number in the clear"
    )
    accounts: list[Key] | None = Field(None, max_length=MAX_ACCOUNTS)
    tx_ids: list[Key] | None = Field(None, max_length=MAX_TRANSACTIONS)
    evidence_ids: list[int] | None = Field(None, max_length=MAX_EVIDENCE)


class AnswerIn(BaseModel):
    """The police's answer: `received`; `accepted` with `police_case_no`; `rejected` with a
    `reason`; `result` (of an accepted clue) with `suspects_caught` and `recovered_fen`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "accepted", "police_case_no": "A3502035100002024030001"}]
        },
    )

    status: ClueStatus
    police_case_no: Key | None = None
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    suspects_caught: int | None = Field(None, ge=0, le=MAX_SUSPECTS)
    recovered_fen: int | None = Field(None, ge=0, le=MAX_RECOVERED_FEN)

    def to_answer(self) -> ClueAnswer:
        return ClueAnswer(
            self.status, self.police_case_no, self.reason, self.suspects_caught, self.recovered_fen
        )


class ClueItemOut(BaseModel):
    clue_id: int
    case_id: int
    member: str
    police_unit: str
    status: ClueStatus
    accounts: int = Field(description="how many accounts the clue names")
    sent_at: datetime
    updated_at: datetime
    police_case_no: str | None

    @classmethod
    def of(cls, item: ClueItem) -> ClueItemOut:
        return cls(**{name: getattr(item, name) for name in cls.model_fields})


class HolderOut(BaseModel):
    party_id: str
    kind: str
    name: str
    id_number: str
    phone: str | None


class ClueAccountOut(BaseModel):
    account_no: str
    institution: str | None = Field(description="null for an account outside the region")
    holder: HolderOut | None = Field(
        description="in full, for the police, when the sending member holds the account"
    )


class ClueEventOut(BaseModel):
    status: ClueStatus
    at: datetime
    actor: str
    detail: dict[str, Any]


class PackageOut(BaseModel):
    """What the clue sent: accounts, transactions, evidence files."""

    accounts: list[ClueAccountOut]
    transactions: list[TransactionOut] = Field(description="without decisions")
    evidence: list[EvidenceOut]


class ClueOut(ClueItemOut):
    summary: str
    reason: str | None = Field(description="why the police rejected it")
    suspects_caught: int | None
    recovered_fen: int | None
    package: PackageOut
    history: list[ClueEventOut] = Field(description="sent, then each answer, oldest first")
    answers: list[ClueStatus] = Field(description="the answers the police may give next")

    @classmethod
    def of_view(cls, view: ClueView) -> ClueOut:
        def fields(value: object, model: type[BaseModel]) -> dict[str, Any]:
            return {name: getattr(value, name) for name in model.model_fields}

        return cls(
            **ClueItemOut.of(view.item).model_dump(),
            summary=view.summary,
            reason=view.reason,
            suspects_caught=view.suspects_caught,
            recovered_fen=view.recovered_fen,
            package=PackageOut(
                accounts=[
                    ClueAccountOut(
                        account_no=a.account_no,
                        institution=a.institution,
                        holder=None
                        if a.holder is None
                        else HolderOut(**{**fields(a.holder, HolderOut), "kind": a.holder.kind}),
                    )
                    for a in view.accounts
                ],
                transactions=[TransactionOut.of(t) for t in view.transactions],
                evidence=[EvidenceOut(**fields(e, EvidenceOut)) for e in view.evidence],
            ),
            history=[ClueEventOut(**fields(e, ClueEventOut)) for e in view.history],
            answers=list(view.answers),
        )


class CluePage(PageOut):
    items: list[ClueItemOut]


_CLUE: Final = TypeAdapter(ClueIn)
_ANSWER: Final = TypeAdapter(AnswerIn)


def clue_router(keyring: Keyring) -> APIRouter:
    """The routes, reading holders and evidence with `keyring`."""
    router = APIRouter(prefix="/v1/clues", tags=[TAG])

    @router.post(
        "",
        status_code=201,
        summary="Send a clue from one of the member's cases to a police unit",
        response_model=ClueOut,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
        openapi_extra=security_doc(ClueIn.model_json_schema(), "The case, the unit, the package."),
    )
    async def post_clue(request: Request, uow: UnitOfWorkDep) -> ClueOut:
        """Send a clue (线索移送). 404 for a case that is not the member's; 409 when the case
        already went to the unit and the unit has not rejected it, or was merged away."""
        actor = presented_key_actor(request)
        body = parse_json(await read_body(request, CLUE_BODY_BYTES, JSON_TYPES), _CLUE)
        view = send_clue(
            uow,
            actor,
            body.case_id,
            body.police_unit,
            body.summary,
            accounts=body.accounts,
            tx_ids=body.tx_ids,
            evidence_ids=body.evidence_ids,
        )
        return ClueOut.of_view(view)

    def add_listing(path: str, summary: str, description: str, listing: ClueListing) -> None:
        def list_clues(
            actor: ApiActor,
            uow: UnitOfWorkDep,
            status: ClueStatus | None = None,
            page: PageNumber = 1,
        ) -> CluePage:
            found = listing(uow, actor, ClueFilter(status, page))
            return CluePage(
                page=found.number, more=found.more, items=[ClueItemOut.of(i) for i in found.items]
            )

        router.add_api_route(
            path,
            list_clues,
            methods=["GET"],
            summary=summary,
            description=description,
            response_model=CluePage,
            responses=problem_responses(401, 403, 422),
            openapi_extra=KEYED,
        )

    add_listing(
        "",
        "The clues the member sent (its outbox)",
        "A bank's clues, latest change first.",
        clue_outbox,
    )
    add_listing(
        "/inbox",
        "The clues sent to the police unit (its inbox)",
        "A police unit's incoming clues, latest change first.",
        clue_inbox,
    )

    @router.get(
        "/{clue_id}",
        summary="A clue with its package and history",
        response_model=ClueOut,
        responses=problem_responses(401, 403, 404, 422),
        openapi_extra=KEYED,
    )
    def read_clue(clue_id: ClueId, actor: ApiActor, uow: UnitOfWorkDep) -> ClueOut:
        """For the police unit it was sent to: the holders of the accounts the sending member
        holds, in full (the read is audited). For the sending bank: without holders."""
        if actor.can(Permission.ANSWER_CLUES):
            return ClueOut.of_view(get_clue(uow, actor, clue_id, keyring))
        return ClueOut.of_view(sent_clue(uow, actor, clue_id))

    @router.post(
        "/{clue_id}/answer",
        summary="The police unit answers a clue",
        response_model=ClueOut,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
        openapi_extra=security_doc(AnswerIn.model_json_schema(), "The answer."),
    )
    async def post_answer(clue_id: ClueId, request: Request, uow: UnitOfWorkDep) -> ClueOut:
        """received; accepted (police case number); rejected (reason); result. 409 naming the
        clue's status when the answer cannot follow it."""
        actor = presented_key_actor(request)
        body = parse_json(await read_body(request, CLUE_BODY_BYTES, JSON_TYPES), _ANSWER)
        return ClueOut.of_view(answer_clue(uow, actor, clue_id, body.to_answer()))

    return router
