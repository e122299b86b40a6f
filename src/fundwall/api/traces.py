"""The funds-chain tracing API (资金链查控), for police units' systems and signed-in officers.

`POST /v1/traces` traces victims' payments forward as of now and stores the trace;
`GET /v1/traces` lists the unit's traces, `GET /v1/traces/{id}` reads one (accounts reached,
transfers, exits, proposed stops, each account's standing now, the batch once confirmed);
`POST /v1/traces/{id}/batch` issues its proposed stops as one batch of stop-payment orders.
Another unit's trace answers 404, as one that does not exist; bad input is a 422 problem
naming the field; a second confirmation, or an order of the batch refused, a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from fundwall.api.orders import ACCOUNT_NO, TEXT
from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.store.paging import MAX_PAGE
from fundwall.tracing.model import (
    DEFAULT_RULE,
    MAX_HOPS,
    MAX_STARTS,
    AttributionRule,
    ExitKind,
    TraceStart,
)
from fundwall.tracing.traces import confirm_batch, get_trace, list_traces, start_trace
from fundwall.tracing.views import BatchRequest, Standing, TraceView

TAG = "funds-chain traces"
TraceId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the trace's id")]
M = TypeVar("M", bound=BaseModel)


class StartIn(BaseModel):
    """A victim's payment: who (a report id or label, no personal data), into which account,
    when and how much."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=64, description="the report or victim label")
    account_no: str = Field(pattern=ACCOUNT_NO, description="the first-level account paid")
    at: AwareDatetime = Field(description="when, with its UTC offset")
    amount_fen: int = Field(gt=0, description="how much, in fen")
    tx_id: str | None = Field(default=None, max_length=64, description="the payment, if known")


class TraceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts: list[StartIn] = Field(min_length=1, max_length=MAX_STARTS)
    rule: AttributionRule = DEFAULT_RULE
    max_hops: int = Field(default=MAX_HOPS, ge=1, le=MAX_HOPS)


class BatchIn(BaseModel):
    """The confirmation of the proposed stops: documents `<document_prefix>-01`, `-02`…"""

    model_config = ConfigDict(extra="forbid")

    document_prefix: str = Field(max_length=60, description="the document number's stem")
    officers: str = Field(max_length=200, description="the officers in charge (承办民警)")
    police_case_no: str = Field(max_length=64, description="the police case number (案件编号)")
    legal_basis: str = Field(max_length=TEXT, description="the legal basis (法律依据)")
    major_case: bool = False
    accounts: list[Annotated[str, Field(pattern=ACCOUNT_NO)]] | None = Field(
        default=None, max_length=MAX_STARTS, description="keep these stops only; none: all"
    )


class ShareOut(BaseModel):
    source: str
    amount_fen: int


class AccountOut(BaseModel):
    account_no: str
    bank: str | None
    hop: int
    reached_at: datetime
    attributed_fen: int
    held_fen: int
    held: list[ShareOut]
    standing: Standing


class TransferOut(BaseModel):
    tx_id: str
    ts: datetime
    payer_account: str
    payee_account: str | None
    payee_bank: str | None
    amount_fen: int
    hop: int
    carried_fen: int
    exit: ExitKind | None


class StopOut(BaseModel):
    account_no: str
    bank: str | None
    hop: int
    amount_fen: int
    sources: list[str]


class BatchOrderOut(BaseModel):
    account_no: str
    bank: str | None
    amount_fen: int
    document_no: str
    order_id: int | None
    status: str | None


class SkippedOut(BaseModel):
    account_no: str
    standing: Standing


class BatchOut(BaseModel):
    confirmed_at: datetime
    confirmed_by: str
    orders: list[BatchOrderOut]
    skipped: list[SkippedOut]


class TraceOut(BaseModel):
    id: int
    police_unit: str
    rule: AttributionRule
    max_hops: int
    as_of: datetime
    created_at: datetime
    created_by: str
    starts: list[StartIn]
    accounts: list[AccountOut]
    transfers: list[TransferOut]
    stops: list[StopOut]
    batch: BatchOut | None

    @classmethod
    def of(cls, view: TraceView) -> TraceOut:
        result, batch = view.result, view.batch
        return cls(
            id=view.id,
            police_unit=view.police_unit,
            max_hops=view.max_hops,
            created_at=view.created_at,
            created_by=view.created_by,
            rule=result.rule,
            as_of=result.as_of,
            starts=[_copied(StartIn, start) for start in result.starts],
            accounts=[
                _copied(
                    AccountOut,
                    account,
                    "held",
                    "standing",
                    held=[_copied(ShareOut, share) for share in account.held],
                    standing=view.standing.get(account.account_no, Standing.OPEN),
                )
                for account in result.accounts
            ],
            transfers=[_copied(TransferOut, transfer) for transfer in result.transfers],
            stops=[
                _copied(StopOut, stop, "sources", sources=list(stop.sources)) for stop in view.stops
            ],
            batch=None
            if batch is None
            else _copied(
                BatchOut,
                batch,
                "orders",
                "skipped",
                orders=[_copied(BatchOrderOut, order) for order in batch.orders],
                skipped=[_copied(SkippedOut, skipped) for skipped in batch.skipped],
            ),
        )


def _copied(model: type[M], source: object, *besides: str, **given: Any) -> M:
    """`model` with the fields of the same name read off `source`, but `besides`, and those
    `given`."""
    fields = {name: getattr(source, name) for name in model.model_fields if name not in besides}
    return model(**fields, **given)


class TraceItemOut(BaseModel):
    id: int
    rule: str
    created_at: datetime
    starts: int
    accounts: int
    held_fen: int
    confirmed: bool


class TracePage(BaseModel):
    page: int
    more: bool
    items: list[TraceItemOut]


def trace_router() -> APIRouter:
    router = APIRouter(prefix="/v1/traces", tags=[TAG])

    @router.post(
        "", status_code=201, response_model=TraceOut,
        responses=problem_responses(400, 401, 403, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def create_trace(body: TraceIn, actor: ApiActor, uow: UnitOfWorkDep) -> TraceOut:
        """Trace victims' payments forward as of now; stored as a trace of the key's unit."""
        starts = [TraceStart(**start.model_dump()) for start in body.starts]
        return TraceOut.of(start_trace(uow, actor, starts, body.rule, max_hops=body.max_hops))

    @router.get(
        "", response_model=TracePage, responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )  # fmt: skip
    def get_traces(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")] = 1,
    ) -> TracePage:
        """The unit's traces, newest first."""
        found = list_traces(uow, actor, page)
        items = [_copied(TraceItemOut, item) for item in found.items]
        return TracePage(page=found.number, more=found.more, items=items)

    @router.get(
        "/{trace_id}", response_model=TraceOut,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def read_trace(trace_id: TraceId, actor: ApiActor, uow: UnitOfWorkDep) -> TraceOut:
        """One trace: accounts reached, transfers, exits, proposed stops, standing now."""
        return TraceOut.of(get_trace(uow, actor, trace_id))

    @router.post(
        "/{trace_id}/batch", response_model=TraceOut,
        responses=problem_responses(400, 401, 403, 404, 409, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def post_batch(
        trace_id: TraceId, body: BatchIn, actor: ApiActor, uow: UnitOfWorkDep
    ) -> TraceOut:
        """Issue the proposed stops as one batch of stop-payment orders, all or none."""
        accounts = tuple(body.accounts) if body.accounts is not None else None
        request = BatchRequest(body.document_prefix, body.officers, body.police_case_no,
                               body.legal_basis, body.major_case, accounts)  # fmt: skip
        return TraceOut.of(confirm_batch(uow, actor, trace_id, request))

    return router
