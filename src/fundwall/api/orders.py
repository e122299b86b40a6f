"""The police orders API (公安指令), for police units' and banks' systems.

A police unit's key issues orders (`POST /v1/orders`) and reads its own; a bank's key reads
the orders routed to it and answers them (`POST /v1/orders/{id}/answer`). A signed-in console
user reads with the session. Another unit's or bank's order answers 404, as one that does not
exist; bad input is a 422 problem naming the field, a clash with the order's state a 409.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.crypto import Keyring
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.police import (
    DocumentKind,
    OrderAnswer,
    OrderFilter,
    OrderItem,
    OrderRequest,
    OrderView,
    answer_order,
    expiring_orders,
    get_order,
    issue_order,
    list_orders,
    order_document,
)
from fundwall.store.paging import MAX_PAGE

TAG = "police orders"
ACCOUNT_NO: Final = r"^[A-Za-z0-9._:-]{1,64}$"
"""An account number as the account directory writes it."""
OrderId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the order's id")]
TEXT: Final = 500
"""The longest text field a body may carry (the store's bound on reasons and bases)."""


class OrderIn(BaseModel):
    """An order a police unit issues. A query, stop-payment or freeze names `account_no`; a
    renewal or release names the order it acts on by `target_document_no`."""

    model_config = ConfigDict(extra="forbid")

    kind: OrderKind
    document_no: str = Field(max_length=64, description="the legal document number (文书编号)")
    officers: str = Field(max_length=200, description="the officers in charge (承办民警)")
    police_case_no: str = Field(max_length=64, description="the police case number (案件编号)")
    legal_basis: str = Field(max_length=TEXT, description="the legal basis (法律依据)")
    account_no: str | None = Field(default=None, pattern=ACCOUNT_NO)
    amount_fen: int | None = Field(
        default=None, gt=0, description="a stop-payment's or freeze's amount; none: the whole"
    )
    period_from: datetime | None = Field(default=None, description="a query's period, from")
    period_to: datetime | None = Field(default=None, description="a query's period, to")
    target_document_no: str | None = Field(default=None, max_length=64)
    major_case: bool = Field(default=False, description="重大案件: a freeze's longer period")

    def to_request(self) -> OrderRequest:
        return OrderRequest(**self.model_dump())


class AnswerIn(BaseModel):
    """The bank's answer: executed (with the balance held, default what the ledger holds) or
    refused with a reason."""

    model_config = ConfigDict(extra="forbid")

    executed: bool
    held_fen: int | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, max_length=TEXT)


class OrderItemOut(BaseModel):
    id: int
    document_no: str
    kind: OrderKind
    status: OrderStatus
    police_unit: str
    bank_code: str
    account_no: str
    amount_fen: int | None
    issued_at: datetime
    ends_at: datetime | None
    renewals: int
    remaining_seconds: int | None = Field(description="time left by the server's clock")

    @classmethod
    def of(cls, item: OrderItem) -> OrderItemOut:
        return cls(**{name: getattr(item, name) for name in cls.model_fields})


class EventOut(BaseModel):
    event: str
    at: datetime
    actor: str
    detail: dict[str, Any]


class OrderOut(OrderItemOut):
    officers: str
    police_case_no: str
    legal_basis: str
    major_case: bool
    period_from: datetime | None
    period_to: datetime | None
    target_document_no: str | None
    starts_at: datetime | None
    answered_at: datetime | None
    held_fen: int | None
    refusal_reason: str | None
    answer: dict[str, Any] | None = Field(
        description="a query's answer: holder (masked), balance_fen, transactions, more"
    )
    ended_at: datetime | None
    events: list[EventOut]

    @classmethod
    def of_view(cls, view: OrderView) -> OrderOut:
        fields = OrderItemOut.of(view.item).model_dump()
        for name in cls.model_fields:
            if name not in fields and name != "events":
                fields[name] = getattr(view, name)
        events = [EventOut(event=e.event, at=e.at, actor=e.actor, detail=e.detail)
                  for e in view.events]  # fmt: skip
        return cls(**fields, events=events)


class OrderPage(BaseModel):
    page: int
    more: bool
    items: list[OrderItemOut]


PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
_PDF: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"application/pdf": {}}, "description": "the document as PDF"}
}


def order_router(keyring: Keyring) -> APIRouter:
    """The routes; a query's answer reads the holder with `keyring`."""
    router = APIRouter(prefix="/v1/orders", tags=[TAG])

    @router.post(
        "",
        status_code=201,
        response_model=OrderOut,
        responses=problem_responses(400, 401, 403, 409, 422),
        openapi_extra=KEYED,
    )
    def create_order(body: OrderIn, actor: ApiActor, uow: UnitOfWorkDep) -> OrderOut:
        """Issue an order of the key's police unit; a stop-payment or freeze holds at once."""
        return OrderOut.of_view(issue_order(uow, actor, body.to_request()))

    @router.get(
        "", response_model=OrderPage, responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )  # fmt: skip
    def get_orders(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        kind: OrderKind | None = None,
        status: OrderStatus | None = None,
        account_no: Annotated[str | None, Query(pattern=ACCOUNT_NO)] = None,
        page: PageNumber = 1,
    ) -> OrderPage:
        """The unit's orders, or those routed to the bank, newest first."""
        found = list_orders(uow, actor, OrderFilter(kind, status, account_no, page))
        return OrderPage(
            page=found.number, more=found.more, items=[OrderItemOut.of(i) for i in found.items]
        )

    @router.get(
        "/expiring", response_model=list[OrderItemOut],
        responses=problem_responses(401, 403, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def get_expiring(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        hours: Annotated[int | None, Query(ge=1, le=720, description="default 24")] = None,
    ) -> list[OrderItemOut]:
        """Stop-payments and freezes in force that end within `hours`, soonest first."""
        within = timedelta(hours=hours) if hours is not None else None
        return [OrderItemOut.of(i) for i in expiring_orders(uow, actor, within)]

    @router.get(
        "/{order_id}", response_model=OrderOut,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def read_order(order_id: OrderId, actor: ApiActor, uow: UnitOfWorkDep) -> OrderOut:
        """One order with its answer and its history."""
        return OrderOut.of_view(get_order(uow, actor, order_id))

    @router.post(
        "/{order_id}/answer", response_model=OrderOut,
        responses=problem_responses(400, 401, 403, 404, 409, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def post_answer(
        order_id: OrderId, body: AnswerIn, actor: ApiActor, uow: UnitOfWorkDep
    ) -> OrderOut:
        """The bank's answer to an order routed to it."""
        answer = OrderAnswer(body.executed, body.held_fen, body.reason)
        return OrderOut.of_view(answer_order(uow, actor, order_id, answer, keyring))

    for kind in DocumentKind:
        _document_route(router, kind)
    return router


def _document_route(router: APIRouter, kind: DocumentKind) -> None:
    @router.get(
        f"/{{order_id}}/{kind.value}.pdf",
        response_class=Response,
        responses={**_PDF, **problem_responses(401, 403, 404, 409, 422)},
        openapi_extra=KEYED,
        name=f"order_{kind.value}",
        summary=f"The order's {kind.value} as PDF",
    )
    def document(order_id: OrderId, actor: ApiActor, uow: UnitOfWorkDep) -> Response:
        """The notice of assistance (notice) or the bank's receipt, as PDF, in Chinese."""
        pdf = order_document(uow, actor, order_id, kind)
        filename = f"order-{order_id}-{kind.value}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{filename}"'},
        )
