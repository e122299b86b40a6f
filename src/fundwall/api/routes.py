"""The routes: parse the body, call the decision service, hand back its answer.

Routes are `async def` and call the service inline on the event loop: a decision is CPU work
of well under a millisecond, a hop to the thread pool measured slower, and one call at a time
means the engine's online state needs no lock. A service that logs its decisions
(`DurableDecisions`) is awaited: it decides inline, and the route waits for the commit of its
decisions while the loop decides other requests, whose decisions join the same commit. Errors
are raised, never answered here; the one handler in `fundwall.api.problems` turns them into
problems.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import Field, TypeAdapter
from starlette.types import Receive, Scope, Send

from fundwall.api.bodies import (
    JSON_TYPES,
    XML_TYPES,
    ApiLimits,
    media_type,
    parse_json,
    read_body,
)
from fundwall.api.iso20022 import SAMPLE_PACS008, answer_pacs008, sample_rejection, sample_report
from fundwall.api.models import DecisionOut
from fundwall.api.problems import problem_responses
from fundwall.api.service import (
    AccountHolders,
    DecisionServiceProtocol,
    DurableDecisions,
    as_submitted,
)
from fundwall.api.timing import TimeWindow
from fundwall.auth.dependencies import transaction_submitter
from fundwall.clock import Clock
from fundwall.domain.errors import PermissionDenied
from fundwall.ingest import MAX_BATCH, TransactionIn, parse_transaction
from fundwall.ingest.batches import (
    BATCH_MEDIA_TYPES,
    CSV,
    NDJSON,
    PARQUET,
    read_batch,
    read_json_array,
    table_of_records,
    transactions_of,
)

XML_MEDIA_TYPE: Final = "application/xml"
TRANSACTION_PATH: Final = "/v1/transactions"
BATCH_PATH: Final = "/v1/transactions/batch"
PACS008_PATH: Final = "/v1/iso20022/pacs.008"


class DirectRoute(APIRoute):
    """A route whose endpoint takes the `Request` and returns the `Response` itself.

    FastAPI still documents it (summary, response_model, openapi_extra) but calls the endpoint
    directly, without resolving parameters or validating the answer again: that machinery
    measured about 30 µs of CPU a request, a quarter of a whole decision's. Once matched, the
    route calls its endpoint without FastAPI's per-request wrapping (two exit stacks for
    dependencies with `yield`, which these routes have none of, and a second exception
    layer): an error goes up to the app's `ExceptionMiddleware`, whose handlers (the one in
    `fundwall.api.problems`) answer it as before (docs/benchmarks.md has what it saves).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods is None or scope["method"] not in self.methods:  # FastAPI's 405
            await super().handle(scope, receive, send)
            return
        response = await self.endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


_BATCH_EXAMPLE: Final = [
    TransactionIn.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
    {
        "tx_id": "T20240501-000002",
        "ts": "2024-05-01T09:31:12+08:00",
        "kind": "withdrawal",
        "payer_account": "6228480010203040506",
        "payer_bank": "ABC",
        "amount": "2000.00",
        "channel": "atm",
        "city": "Xiamen",
    },
]


def submitting_member(request: Request) -> str:
    """The member whose API key submits, refused without one allowed to (401, 403)."""
    actor = transaction_submitter(request)
    if actor.member is None:
        raise PermissionDenied(f"submit transactions without a member ({actor.audit_id})")
    return actor.member


def anyone(request: Request) -> None:
    """The demo's open transaction routes: no key, no member, so no member's checks."""


SECURITY_SCHEMES: Final = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A member's API key: `Authorization: Bearer fwk_…`.",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same key in the `X-API-Key` header.",
    },
}
API_KEY_SECURITY: Final[list[dict[str, list[str]]]] = [{"apiKey": []}, {"apiKeyHeader": []}]
KEYED: Final = {"security": API_KEY_SECURITY}
"""`openapi_extra` of a route that members' and police units' systems call with their API key
(a signed-in console user reads with the session)."""


def security_doc(
    schema: dict[str, Any] | None = None,
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI extras of a route that takes an API key: its JSON request body (the route
    reads the body itself) and its parameters, when it has them."""
    extra: dict[str, Any] = {"security": API_KEY_SECURITY}
    if schema is not None:
        extra["requestBody"] = {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    if parameters:
        extra["parameters"] = parameters
    return extra


def batch_doc() -> dict[str, Any]:
    """The OpenAPI extras of the batch route: its four body formats."""
    extra = security_doc(
        {
            "type": "array",
            "items": _TRANSACTION_SCHEMA,
            "minItems": 1,
            "maxItems": MAX_BATCH,
            "examples": [_BATCH_EXAMPLE],
        },
        f"1 to {MAX_BATCH:,} transactions: a JSON array, NDJSON (one JSON object a line), "
        "CSV (a header row naming the fields, then one transaction a line; an empty cell is "
        "null) or Parquet (the fields as columns).",
    )
    content = extra["requestBody"]["content"]
    content[NDJSON] = {"schema": {"type": "string"}}
    content[CSV] = {"schema": {"type": "string"}}
    content[PARQUET] = {"schema": {"type": "string", "format": "binary"}}
    return extra


_ONE: Final = TypeAdapter(TransactionIn)
_MANY: Final = TypeAdapter(
    Annotated[list[TransactionIn], Field(min_length=1, max_length=MAX_BATCH)]
)
_TRANSACTION_SCHEMA: Final = {"$ref": "#/components/schemas/TransactionIn"}


def json_response(content: Any, status_code: int = 200) -> Response:
    """`content` as JSON written by orjson."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def decision_router(
    service: DecisionServiceProtocol,
    clock: Clock,
    limits: ApiLimits,
    window: TimeWindow,
    holders: AccountHolders,
    *,
    api_keys_required: bool = True,
) -> APIRouter:
    """The decision routes over `service`: JSON, one or a batch, and ISO 20022 pacs.008.

    The routes read and parse their bodies themselves (`fundwall.api.bodies`) and answer
    bytes that orjson wrote: with `DirectRoute` this measured less than half the CPU per
    request of FastAPI's body parameters, dependencies and response validation.
    `response_model` still documents the answer. The service admits only what the submitting
    member may have decided (`fundwall.engine.admission`), stamped within the time `window`
    (`fundwall.api.timing`); the member reads each decision without the figures of a payee
    account another member holds (`holders`). Each request carries a member's API key
    (`submitting_member`), unless `api_keys_required` is False (the demo): then the routes
    take transactions from anyone who can reach them.
    """
    authorise: Callable[[Request], str | None] = submitting_member if api_keys_required else anyone
    router = APIRouter(route_class=DirectRoute)
    durable = service if isinstance(service, DurableDecisions) else None

    @router.post(
        TRANSACTION_PATH,
        tags=["decisions"],
        summary="Decide on one transaction",
        response_model=DecisionOut,
        responses=problem_responses(401, 403, 409, 413, 415, 422),
        openapi_extra=security_doc(_TRANSACTION_SCHEMA, "One transaction."),
    )
    async def decide_transaction(request: Request) -> Response:
        """Decide on one transfer before it settles. A `tx_id` sent again gets the decision
        first made for it. A bad value is a 422 problem naming the `field`."""
        member = authorise(request)
        body = await read_body(request, limits.transaction_bytes, JSON_TYPES)
        tx = parse_transaction(parse_json(body, _ONE))
        window.admit([tx], batch=False)
        if durable is not None:
            (decision,) = await durable.decide_durably([tx], member=member, batch=False)
        else:
            decision = service.decide(tx, member=member)
        return json_response(as_submitted(decision, tx, holders).to_dict())

    @router.post(
        BATCH_PATH,
        tags=["decisions"],
        summary="Decide on a batch of transactions",
        response_model=list[DecisionOut],
        responses=problem_responses(401, 403, 409, 413, 415, 422),
        openapi_extra=batch_doc(),
    )
    async def decide_batch(request: Request) -> Response:
        """Decide on 1 to 10,000 transactions, answered in the order sent. The body is a JSON
        array (`application/json`), NDJSON (`application/x-ndjson`), CSV (`text/csv`) or
        Parquet (`application/vnd.apache.parquet`). All or nothing: one bad record and nothing
        is decided; the 422 problem names each bad `record` (its 0-based index: the array's
        item, the NDJSON line, the CSV data row, the Parquet row) and `field`, up to 20 of
        them. A `tx_id` used twice is refused."""
        member = authorise(request)
        body = await read_body(request, limits.batch_bytes, BATCH_MEDIA_TYPES)
        given = media_type(request)
        if given in BATCH_MEDIA_TYPES[1:]:
            table = read_batch(body, given)
        else:
            table = read_json_array(body)
            if table is None:  # the model says what is wrong, or reads what Arrow would not
                table = table_of_records(parse_json(body, _MANY))
        txs = transactions_of(table)
        window.admit(txs, batch=True)
        if durable is not None:
            decisions = await durable.decide_durably(txs, member=member)
        else:
            decisions = service.decide_batch(txs, member=member)
        return json_response(
            [
                as_submitted(decision, tx, holders).to_dict()
                for decision, tx in zip(decisions, txs, strict=True)
            ]
        )

    @router.post(
        PACS008_PATH,
        tags=["ISO 20022"],
        summary="Decide on an ISO 20022 pacs.008, answered by a pacs.002",
        response_class=Response,
        responses={
            200: {
                "description": "The message was accepted: a pacs.002.001.10 status report "
                "with one TxInfAndSts per credit transfer (ACSC, ACCP, PDNG or RJCT).",
                "content": {XML_MEDIA_TYPE: {"example": sample_report()}},
            },
            422: {
                "description": "The message was rejected as a whole: a pacs.002.001.10 with "
                "GrpSts RJCT and the ISO status reason (FF01, AM18, AM10); nothing decided.",
                "content": {XML_MEDIA_TYPE: {"example": sample_rejection()}},
            },
            **problem_responses(401, 403, 413, 415),
        },
        openapi_extra={
            "security": API_KEY_SECURITY,
            "requestBody": {
                "required": True,
                "description": "A pacs.008.001.02 to .13: a Document or a bare "
                "FIToFICstmrCdtTrf, alone or in an envelope with a head.001 AppHdr.",
                "content": {
                    XML_MEDIA_TYPE: {
                        "schema": {"type": "string"},
                        "example": SAMPLE_PACS008,
                    }
                },
            },
        },
    )
    async def decide_pacs008(request: Request) -> Response:
        """Each credit transfer that can be read is decided and reported with its status
        (pass → ACSC, warn → ACCP, alert and delay → PDNG, block → RJCT FRAD); one that
        cannot is rejected alone with its ISO reason code (AM05, AM11, AM12, AC02, AC03,
        RC01, DT01 also for a time outside the window, CH16). See docs/api.md for the mapping."""
        member = authorise(request)
        body = await read_body(request, limits.xml_bytes, XML_TYPES)
        report, accepted = answer_pacs008(
            service,
            body,
            now=clock.now(),
            max_bytes=limits.xml_bytes,
            member=member,
            window=window,
            holders=holders,
        )
        status = HTTPStatus.OK if accepted else HTTPStatus.UNPROCESSABLE_ENTITY
        return Response(report, status_code=status, media_type=XML_MEDIA_TYPE)

    return router
