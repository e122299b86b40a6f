"""`/v1/appeals`: the appeals (异议申诉) on a member's accounts, for its systems and signed-in
users.

A member reads its queue (open appeals, the nearest deadline first, or the decided ones),
one appeal with its files, a file itself (audited), asks a police unit for an opinion and
decides: `lifted` lifts the measure at once (the engine passes the next payment), or
`maintained`, with the answer the person reads in the portal. Another member's appeal is a
404 as one that does not exist; bad input a 422 naming the field. The routes translate;
rights, tenancy and the audit records are the use cases' (`fundwall.appeals.review`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.appeals.model import AppealStatus, AppealView, Outcome
from fundwall.appeals.review import (
    appeal_detail,
    appeal_evidence_file,
    appeal_queue,
    ask_opinion,
    decide_appeal,
)
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.config import AppealSettings, PolicySettings
from fundwall.crypto import Keyring

TAG: Final = "appeals"
PREFIX: Final = "/v1/appeals"
AppealId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the appeal's id")]
EvidenceId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the file's id")]


class EvidenceOut(BaseModel):
    id: int
    filename: str
    media_type: str
    size_bytes: int
    sm3: str
    added_at: datetime


class AppealOut(BaseModel):
    id: int
    member: str
    account_no: str = Field(description="masked")
    measure: str = Field(description="restriction:<id> or status:<account>")
    measure_kind: str
    measure_zh: str
    measure_en: str
    measure_reason: str = Field(description="the reason the bank stated for the measure")
    reason: str = Field(description="the person's reason")
    contact: str | None = Field(description="the contact phone, masked")
    status: AppealStatus
    filed_at: datetime
    deadline: datetime
    overdue: bool
    police_unit: str | None
    question: str | None
    opinion: str | None
    opinion_at: datetime | None
    outcome: Outcome | None
    answer: str | None
    decided_at: datetime | None
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, view: AppealView) -> AppealOut:
        plain = {
            name: getattr(view, name)
            for name in cls.model_fields
            if name not in ("account_no", "measure_zh", "measure_en", "evidence")
        }
        return cls(
            **plain,
            account_no=view.account,
            measure_zh=view.measure_words.zh,
            measure_en=view.measure_words.en,
            evidence=[EvidenceOut(**vars_of(item)) for item in view.evidence],
        )


def vars_of(item: object) -> dict[str, object]:
    """A slotted dataclass's fields by name."""
    return {name: getattr(item, name) for name in item.__slots__}  # type: ignore[attr-defined]


class OpinionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"police_unit": "PSB350203", "question": "是否涉案？"}]},
    )

    police_unit: Annotated[str, Field(min_length=1, max_length=64)]
    question: Annotated[str, Field(min_length=1, max_length=10_000)]


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"outcome": "lifted", "answer": "经核实，已解除限制。"}]},
    )

    outcome: Outcome
    answer: Annotated[str, Field(min_length=1, max_length=10_000)]


def appeals_router(keyring: Keyring, settings: AppealSettings, policy: PolicySettings) -> APIRouter:
    """The appeals routes, with the deployment's keys (files, contact phones) and limits."""
    router = APIRouter(prefix=PREFIX, tags=[TAG])

    @router.get(
        "", response_model=list[AppealOut], responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )  # fmt: skip
    def get_appeals(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        decided: Annotated[bool, Query(description="the decided ones, latest first")] = False,
    ) -> list[AppealOut]:
        """The member's open appeals, the nearest deadline first (overdue ones flagged), or
        its decided ones."""
        return [AppealOut.of(view) for view in appeal_queue(uow, actor, keyring, decided=decided)]

    @router.get(
        "/{appeal_id}", response_model=AppealOut,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def get_appeal(appeal_id: AppealId, actor: ApiActor, uow: UnitOfWorkDep) -> AppealOut:
        """One of the member's appeals, with its files and the police opinion."""
        return AppealOut.of(appeal_detail(uow, actor, appeal_id, keyring))

    @router.get(
        "/{appeal_id}/evidence/{evidence_id}",
        responses={200: {"content": {"application/octet-stream": {}}},
                   **problem_responses(401, 403, 404, 409, 422)},
        response_class=Response, openapi_extra=KEYED,
    )  # fmt: skip
    def get_evidence(
        appeal_id: AppealId, evidence_id: EvidenceId, actor: ApiActor, uow: UnitOfWorkDep
    ) -> Response:
        """A file of one of the member's appeals (its reading is audited)."""
        item, content = appeal_evidence_file(uow, actor, appeal_id, evidence_id, keyring)
        return Response(
            content,
            media_type=item.media_type,
            headers={"Content-Disposition": f'attachment; filename="appeal-{appeal_id}-'
                     f'{evidence_id}"'},
        )  # fmt: skip

    @router.post(
        "/{appeal_id}/opinion-request", response_model=AppealOut,
        responses=problem_responses(400, 401, 403, 404, 409, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def post_opinion_request(
        appeal_id: AppealId, body: OpinionIn, actor: ApiActor, uow: UnitOfWorkDep
    ) -> AppealOut:
        """Ask a police unit (the anti-fraud centre) for its opinion on an open appeal."""
        ask_opinion(uow, actor, appeal_id, body.police_unit, body.question, settings=settings)
        return AppealOut.of(appeal_detail(uow, actor, appeal_id, keyring))

    @router.post(
        "/{appeal_id}/decision", response_model=AppealOut,
        responses=problem_responses(400, 401, 403, 404, 409, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def post_decision(
        appeal_id: AppealId, body: DecisionIn, actor: ApiActor, uow: UnitOfWorkDep
    ) -> AppealOut:
        """Decide an open appeal: lifted (the measure ends now) or maintained, with the
        answer the person reads."""
        view = decide_appeal(
            uow, actor, appeal_id, body.outcome, body.answer, keyring,
            settings=settings, policy=policy,
        )  # fmt: skip
        return AppealOut.of(view)

    return router
