"""`/v1/outreach`: dissuasion tasks (预警劝阻), cancelling warned payments, campaigns and their
segments, SMS templates, events (反诈宣传) and opt-outs, for members' systems and signed-in
users.

A member's system (its API key) reads its dissuasion queue, claims a task and records the
call's outcome (a dissuaded payer's payment is cancelled with it), cancels a warned or
delayed payment on its payer's word, previews a segment and sends a campaign, adds its own
templates, records events and opt-outs. Another member's task or campaign answers 404 as one
that does not exist; bad input is a 422 problem naming the field. The routes translate;
rights, tenancy and the audit records are the use cases' (`fundwall.outreach`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.api.values import Day
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.outreach.campaigns import (
    CampaignView,
    EventKind,
    EventView,
    Segment,
    get_campaign,
    list_campaigns,
    list_events,
    preview_campaign,
    record_event,
    send_campaign,
)
from fundwall.outreach.dissuasion import (
    cancel_payment,
    claim_dissuasion_task,
    dissuasion_queue,
    get_dissuasion_task,
    record_dissuasion_outcome,
)
from fundwall.outreach.model import DissuasionOutcome, DissuasionTask, OptOutChannel, TaskStatus
from fundwall.outreach.preferences import add_template, record_opt_out, sms_templates
from fundwall.outreach.templates import SmsTemplate

TAG: Final = "outreach"
PREFIX: Final = "/v1/outreach"
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the task's id")]
CampaignId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the campaign's id")]
READ: Final = problem_responses(400, 401, 403, 404, 422)
WRITE: Final = problem_responses(400, 401, 403, 404, 409, 422)


class TaskOut(BaseModel):
    id: int
    member: str
    tx_id: str
    payer_account: str
    payee_account: str | None = Field(description="masked")
    amount_fen: int
    warned_at: datetime
    created_at: datetime
    due_at: datetime = Field(description="the call is due by then")
    status: TaskStatus
    overdue: bool
    phone: str | None = Field(description="the payer's bound phone, masked")
    sms_status: str | None = Field(description="the warning SMS's status; null: none sent")
    claimed_by: str | None
    claimed_at: datetime | None
    outcome: DissuasionOutcome | None
    note: str | None
    closed_at: datetime | None
    closed_by: str | None
    cancelled: bool = Field(description="the payment was cancelled")

    @classmethod
    def of(cls, task: DissuasionTask) -> TaskOut:
        return cls.model_validate(task.to_dict())


class OutcomeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"outcome": "dissuaded", "note": "冒充客服，已劝阻"}]},
    )

    outcome: DissuasionOutcome
    note: str | None = Field(default=None, max_length=1000)


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tx_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class CancellationOut(BaseModel):
    tx_id: str
    decision_id: int
    reason: str
    cancelled_at: datetime
    cancelled_by: str


class PreviewOut(BaseModel):
    segment: Segment
    as_of: datetime
    customers: int
    with_phone: int
    opted_out: int


class CampaignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "重阳节防骗提醒", "template": "campaign_elderly", "segment": "elderly"}
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=64)
    segment: Segment
    variables: dict[Annotated[str, Field(max_length=32)], Annotated[str, Field(max_length=200)]] = (
        Field(default_factory=dict, max_length=20)
    )
    as_of: AwareDatetime | None = Field(default=None, description="default: now")


class CampaignOut(BaseModel):
    id: int
    title: str
    template: str
    segment: Segment
    as_of: datetime
    created_at: datetime
    created_by: str
    audience: int = Field(description="customers in the segment")
    queued: int
    sent: int
    delivered: int
    failed: int
    opted_out: int
    limited: int
    waiting: int
    no_phone: int

    @classmethod
    def of(cls, view: CampaignView) -> CampaignOut:
        return cls.model_validate(view.to_dict())


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=700)


class TemplateOut(BaseModel):
    name: str
    purpose: str
    text: str
    variables: list[str]
    built_in: bool

    @classmethod
    def of(cls, template: SmsTemplate) -> TemplateOut:
        return cls.model_validate(template.to_dict())


class EventIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "community",
                    "title": "社区反诈讲座",
                    "held_on": "2024-06-01",
                    "place": "鹭江社区",
                    "attendance": 80,
                    "reach": 300,
                }
            ]
        },
    )

    kind: EventKind
    title: str = Field(min_length=1, max_length=200)
    held_on: Day
    place: str = Field(min_length=1, max_length=200)
    attendance: int = Field(ge=0, le=100_000_000)
    reach: int = Field(ge=0, le=100_000_000)


class EventOut(BaseModel):
    id: int
    kind: EventKind
    title: str
    held_on: date
    place: str
    attendance: int
    reach: int
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, view: EventView) -> EventOut:
        return cls.model_validate(view.to_dict())


class OptOutIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "13812345678"}]}
    )

    phone: str = Field(min_length=1, max_length=32)
    channel: OptOutChannel = OptOutChannel.SMS_REPLY


class OptOutOut(BaseModel):
    phone: str = Field(description="masked")
    channel: OptOutChannel
    opted_out_at: datetime


def outreach_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=[TAG])

    @router.get("/tasks", response_model=list[TaskOut], responses=READ, openapi_extra=KEYED)
    def get_tasks(
        actor: ApiActor, uow: UnitOfWorkDep, status: TaskStatus | None = None
    ) -> list[TaskOut]:
        """The member's dissuasion tasks: open and claimed by their deadline, then closed."""
        return [TaskOut.of(task) for task in dissuasion_queue(uow, actor, status)]

    @router.get("/tasks/{task_id}", response_model=TaskOut, responses=READ, openapi_extra=KEYED)
    def get_task(task_id: TaskId, actor: ApiActor, uow: UnitOfWorkDep) -> TaskOut:
        """One of the member's dissuasion tasks."""
        return TaskOut.of(get_dissuasion_task(uow, actor, task_id))

    @router.post(
        "/tasks/{task_id}/claim", response_model=TaskOut, responses=WRITE, openapi_extra=KEYED
    )
    def post_claim(task_id: TaskId, actor: ApiActor, uow: UnitOfWorkDep) -> TaskOut:
        """Take the task to call the payer (409 when someone else has it or it is closed)."""
        return TaskOut.of(claim_dissuasion_task(uow, actor, task_id))

    @router.post(
        "/tasks/{task_id}/outcome", response_model=TaskOut, responses=WRITE, openapi_extra=KEYED
    )
    def post_outcome(
        task_id: TaskId, body: OutcomeIn, actor: ApiActor, uow: UnitOfWorkDep
    ) -> TaskOut:
        """Close the task with the call's outcome; `dissuaded` cancels the payment."""
        return TaskOut.of(record_dissuasion_outcome(uow, actor, task_id, body.outcome, body.note))

    @router.post(
        "/cancellations", status_code=201, response_model=CancellationOut,
        responses=WRITE, openapi_extra=KEYED,
    )  # fmt: skip
    def post_cancellation(
        body: CancellationIn, actor: ApiActor, uow: UnitOfWorkDep
    ) -> CancellationOut:
        """Cancel a warned or delayed payment of the member's customer on the payer's word."""
        done = cancel_payment(uow, actor, body.tx_id, body.reason)
        return CancellationOut.model_validate(done.to_dict())

    @router.get(
        "/segments/{segment}", response_model=PreviewOut, responses=READ, openapi_extra=KEYED
    )
    def get_segment(
        segment: Segment,
        actor: ApiActor,
        uow: UnitOfWorkDep,
        as_of: Annotated[AwareDatetime | None, Query(description="default: now")] = None,
    ) -> PreviewOut:
        """How many of the member's customers the segment holds, with a bound phone, opted
        out."""
        return PreviewOut.model_validate(preview_campaign(uow, actor, segment, as_of).to_dict())

    @router.get("/campaigns", response_model=list[CampaignOut], responses=READ, openapi_extra=KEYED)
    def get_campaigns(actor: ApiActor, uow: UnitOfWorkDep) -> list[CampaignOut]:
        """The member's campaigns with their delivery figures, newest first."""
        return [CampaignOut.of(view) for view in list_campaigns(uow, actor)]

    @router.post(
        "/campaigns", status_code=201, response_model=CampaignOut,
        responses=WRITE, openapi_extra=KEYED,
    )  # fmt: skip
    def post_campaign(body: CampaignIn, actor: ApiActor, uow: UnitOfWorkDep) -> CampaignOut:
        """Send a campaign template to a segment of the member's customers."""
        view = send_campaign(
            uow, actor, body.title, body.template, body.segment, body.variables, body.as_of
        )
        return CampaignOut.of(view)

    @router.get(
        "/campaigns/{campaign_id}", response_model=CampaignOut, responses=READ,
        openapi_extra=KEYED,
    )  # fmt: skip
    def get_one_campaign(
        campaign_id: CampaignId, actor: ApiActor, uow: UnitOfWorkDep
    ) -> CampaignOut:
        """One of the member's campaigns with its delivery figures."""
        return CampaignOut.of(get_campaign(uow, actor, campaign_id))

    @router.get("/templates", response_model=list[TemplateOut], responses=READ, openapi_extra=KEYED)
    def get_templates(actor: ApiActor, uow: UnitOfWorkDep) -> list[TemplateOut]:
        """The templates the member may send: built-in ones and its own."""
        return [TemplateOut.of(template) for template in sms_templates(uow, actor)]

    @router.post(
        "/templates", status_code=201, response_model=TemplateOut,
        responses=WRITE, openapi_extra=KEYED,
    )  # fmt: skip
    def post_template(body: TemplateIn, actor: ApiActor, uow: UnitOfWorkDep) -> TemplateOut:
        """Add a campaign template of the member's own."""
        return TemplateOut.of(add_template(uow, actor, body.name, body.text))

    @router.get("/events", response_model=list[EventOut], responses=READ, openapi_extra=KEYED)
    def get_events(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        start: Day | None = None,
        end: Day | None = None,
    ) -> list[EventOut]:
        """The member's events held from `start` to `end`, latest first."""
        return [EventOut.of(view) for view in list_events(uow, actor, start, end)]

    @router.post(
        "/events", status_code=201, response_model=EventOut, responses=WRITE,
        openapi_extra=KEYED,
    )  # fmt: skip
    def post_event(body: EventIn, actor: ApiActor, uow: UnitOfWorkDep) -> EventOut:
        """Record an event the member held."""
        view = record_event(
            uow, actor, body.kind, body.title, body.held_on, body.place,
            body.attendance, body.reach,
        )  # fmt: skip
        return EventOut.of(view)

    @router.post(
        "/opt-outs", status_code=201, response_model=OptOutOut, responses=WRITE,
        openapi_extra=KEYED,
    )  # fmt: skip
    def post_opt_out(body: OptOutIn, actor: ApiActor, uow: UnitOfWorkDep) -> OptOutOut:
        """Record that a phone's holder wants no more campaign messages (409: already)."""
        return OptOutOut.model_validate(
            record_opt_out(uow, actor, body.phone, body.channel).to_dict()
        )

    return router
