"""The routes: parse the body, call the decision service, hand back its answer.

Routes are `async def` and call the service inline on the event loop: a decision is CPU work
of well under a millisecond, a hop to the thread pool measured slower, and one call at a time
means the engine's online state needs no lock. Errors are raised, never answered here; the
one handler in `fundwall.api.problems` turns them into problems.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from fundwall.api.iso20022 import SAMPLE_PACS008, answer_pacs008, sample_rejection, sample_report
from fundwall.api.limits import ApiLimits
from fundwall.api.models import DecisionOut, decision_json
from fundwall.api.problems import PROBLEM_MEDIA_TYPE
from fundwall.api.service import DecisionServiceProtocol
from fundwall.clock import Clock
from fundwall.ingest import (
    MAX_BATCH,
    TransactionIn,
    parse_batch,
    parse_transaction,
)

XML_MEDIA_TYPE: Final = "application/xml"
TRANSACTION_PATH: Final = "/v1/transactions"
BATCH_PATH: Final = "/v1/transactions/batch"
PACS008_PATH: Final = "/v1/iso20022/pacs.008"


def body_limits(limits: ApiLimits) -> dict[str, int]:
    """The largest body of each route, by path."""
    return {
        TRANSACTION_PATH: limits.transaction_bytes,
        BATCH_PATH: limits.batch_bytes,
        PACS008_PATH: limits.xml_bytes,
    }


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may answer (schemas in `problem_schemas`)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {
                        "$ref": "#/components/schemas/"
                        + ("InvalidInputProblem" if status == 422 else "Problem")
                    }
                }
            },
        }
        for status in statuses
    }


def require_media_type(*accepted: str, suffix: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing (415) a body that is not one of `accepted` nor `*/*+suffix`."""
    names = " or ".join(accepted)

    async def check(request: Request) -> None:
        given = request.headers.get("content-type", "")
        media_type = given.partition(";")[0].strip().lower()
        if media_type not in accepted and not media_type.endswith(f"+{suffix}"):
            shown = f"'{given}'" if given else "no Content-Type"
            raise HTTPException(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send the body as {names}, not {shown}"
            )

    return check


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


def decision_router(service: DecisionServiceProtocol, clock: Clock, limits: ApiLimits) -> APIRouter:
    """The decision routes over `service`: JSON, one or a batch, and ISO 20022 pacs.008."""
    router = APIRouter()
    json_only = [Depends(require_media_type("application/json", suffix="json"))]
    xml_only = [Depends(require_media_type(XML_MEDIA_TYPE, "text/xml", suffix="xml"))]

    @router.post(
        TRANSACTION_PATH,
        tags=["decisions"],
        summary="Decide on one transaction",
        response_model=DecisionOut,
        responses=_problems(413, 415, 422),
        dependencies=json_only,
    )
    async def decide_transaction(tx: TransactionIn) -> dict[str, Any]:
        """Decide on one transfer before it settles. A `tx_id` sent again gets the decision
        first made for it. A bad value is a 422 problem naming the `field`."""
        return decision_json(service.decide(parse_transaction(tx)))

    @router.post(
        BATCH_PATH,
        tags=["decisions"],
        summary="Decide on a batch of transactions",
        response_model=list[DecisionOut],
        responses=_problems(413, 415, 422),
        dependencies=json_only,
    )
    async def decide_batch(
        txs: Annotated[
            list[TransactionIn],
            Body(
                min_length=1,
                max_length=MAX_BATCH,
                description=f"1 to {MAX_BATCH:,} transactions",
                examples=[_BATCH_EXAMPLE],
            ),
        ],
    ) -> list[dict[str, Any]]:
        """Decide on 1 to 10,000 transactions, answered in the order sent. All or nothing:
        one bad record and nothing is decided; the 422 problem names each bad `record` (its
        0-based index) and `field`, up to 20 of them. A `tx_id` used twice is refused."""
        return [decision_json(each) for each in service.decide_batch(parse_batch(txs))]

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
            **_problems(413, 415),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A pacs.008.001.02 to .13 (FIToFICstmrCdtTrf), a bare Document "
                "or in an envelope with a head.001 AppHdr.",
                "content": {
                    XML_MEDIA_TYPE: {
                        "schema": {"type": "string"},
                        "example": SAMPLE_PACS008,
                    }
                },
            }
        },
        dependencies=xml_only,
    )
    async def decide_pacs008(request: Request) -> Response:
        """Each credit transfer that can be read is decided and reported with its status
        (pass → ACSC, warn → ACCP, alert and delay → PDNG, block → RJCT FRAD); one that
        cannot is rejected alone with its ISO reason code (AM05, AM11, AM12, AC02, AC03,
        RC01, DT01, CH16). See docs/api.md for the mapping."""
        report, accepted = answer_pacs008(
            service, await request.body(), now=clock.now(), max_bytes=limits.xml_bytes
        )
        status = HTTPStatus.OK if accepted else HTTPStatus.UNPROCESSABLE_ENTITY
        return Response(report, status_code=status, media_type=XML_MEDIA_TYPE)

    return router
