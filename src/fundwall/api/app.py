"""The FastAPI application of the risk engine: `create_app(service, settings)`."""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException

from fundwall import __version__
from fundwall.api.bodies import ApiLimits
from fundwall.api.docs import install_docs
from fundwall.api.members import RememberedOwners, TransactionOwners
from fundwall.api.models import HealthOut
from fundwall.api.problems import PROBLEM_BASE, InvalidInputProblem, Problem, problem_response
from fundwall.api.routes import SECURITY_SCHEMES, decision_router
from fundwall.api.service import DecisionServiceProtocol
from fundwall.clock import Clock, SystemClock
from fundwall.config import Settings
from fundwall.domain.errors import FundwallError
from fundwall.ingest import TransactionIn

OPENAPI_PATH: Final = "/openapi.json"

_DESCRIPTION: Final = """\
Fundwall decides on each transfer **before it settles**: `pass`, `alert` (an analyst
reviews it), `warn` (warn the payer, 预警劝阻), `delay` (hold the money {delay_hours} h so the
payer may cancel) or `block` (intercept). Each decision carries its score, its reasons (rule
ids and the figures they saw, in Chinese and English) and the rule-pack and model versions.

* **JSON**: one transaction, or a batch of up to 10,000 accepted or refused as a whole.
* **ISO 20022**: a `pacs.008` customer credit transfer message, answered by a `pacs.002`
  status report.

Money is integer **fen** (`amount_fen`), or yuan as text (`amount`, `"1234.56"`); times are ISO
8601 with a UTC offset. A `tx_id` sent again gets the decision first made for it.

**Errors** are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`
and `detail`. `type` is a URI under `{problem_base}` (`invalid-input`, `not-found`,
`forbidden`, `conflict`, `content-too-large`, `unsupported-media-type`, `internal-error`):
match on it. Invalid input adds `record` (the 0-based index in a batch), `field`, `reason`
and `errors`, a list of every bad record and field found (up to 20; `more` is true when
there were more).

**Access**: with access control installed (as `fundwall serve` does, except in the demo),
each request carries a member's API key, `Authorization: Bearer fwk_…` or `X-API-Key: fwk_…`;
without one the answer is a 401 problem. A member submits only its own transactions (those its
customers pay, and deposits they receive; else 403), and a `tx_id` another member used first
is refused as invalid input (422, "transaction id already used").
"""

_TAGS: Final = [
    {"name": "decisions", "description": "Decide on transactions sent as JSON."},
    {
        "name": "ISO 20022",
        "description": "Decide on pacs.008 credit transfers; answered with pacs.002.",
    },
    {"name": "health", "description": "Is the service up."},
]


class _FundwallAPI(FastAPI):
    """FastAPI with the schemas the routes refer to by hand (request bodies the routes read
    themselves, problems) in its OpenAPI components."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            spec = super().openapi()
            _, found = models_json_schema(
                [(model, "validation") for model in (TransactionIn, Problem, InvalidInputProblem)],
                ref_template="#/components/schemas/{model}",
            )
            components = spec.setdefault("components", {})
            components.setdefault("schemas", {}).update(found["$defs"])
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
        return super().openapi()


def create_app(
    service: DecisionServiceProtocol,
    settings: Settings,
    *,
    clock: Clock | None = None,
    limits: ApiLimits | None = None,
    owners: TransactionOwners | None = None,
) -> FastAPI:
    """The HTTP API over `service`, documented at /docs (OpenAPI at /openapi.json).

    `settings` are the deployment's (the policy figures the documentation quotes); `clock`
    stamps the ISO 20022 status reports (the system clock by default); `limits` bound the
    request bodies. `owners` says which member used each transaction id first: in memory by
    default (right for a service that forgets its decisions when the process ends); give
    `StoredOwners(engine)` for a service that logs its decisions in that store.
    """
    app = _FundwallAPI(
        title="Fundwall risk engine",
        version=__version__,
        description=_DESCRIPTION.format(
            delay_hours=settings.policy.atm_transfer_delay_hours, problem_base=PROBLEM_BASE
        ),
        openapi_tags=_TAGS,
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # served from the app's own files by install_docs, not from a CDN
        redoc_url=None,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    for raised in (FundwallError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(raised, problem_response)
    install_docs(app, OPENAPI_PATH)
    app.include_router(
        decision_router(
            service, clock or SystemClock(), limits or ApiLimits(), owners or RememberedOwners()
        )
    )

    @app.get("/healthz", tags=["health"], summary="Liveness", response_model=HealthOut)
    async def healthz() -> dict[str, str]:
        """Answers `{"status": "ok"}` while the process serves requests."""
        return {"status": "ok"}

    return app
