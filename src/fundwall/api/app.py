"""The FastAPI application of the risk engine: `create_app(service, settings)`."""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry import TelemetryConfig
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException

from fundwall import __version__
from fundwall.api.accounts import (
    AccountChangeIn,
    AccountOpeningIn,
    AccountReports,
    PhoneBindingIn,
    account_router,
)
from fundwall.api.bodies import ApiLimits
from fundwall.api.docs import install_docs
from fundwall.api.logins import LoginIn, login_router
from fundwall.api.models import HealthOut
from fundwall.api.problems import PROBLEM_BASE, InvalidInputProblem, Problem, problem_response
from fundwall.api.routes import SECURITY_SCHEMES, anyone, decision_router, submitting_member
from fundwall.api.service import (
    AccountHolders,
    DecisionServiceProtocol,
    LoginObserver,
    NoHolders,
)
from fundwall.api.timing import TimeWindow
from fundwall.auth.dependencies import AccessConfig, install_access
from fundwall.clock import Clock, SystemClock
from fundwall.config import Settings
from fundwall.domain.errors import FundwallError
from fundwall.ingest import TransactionIn

OPENAPI_PATH: Final = "/openapi.json"
_NO_TELEMETRY: Final[TelemetryConfig] = {"tracing": False, "metrics": False, "logs": False}

_DESCRIPTION: Final = """\
Fundwall decides on each transfer **before it settles**: `pass`, `alert` (an analyst
reviews it), `warn` (warn the payer, 预警劝阻), `delay` (hold the money {delay_hours} h so the
payer may cancel) or `block` (intercept). Each decision carries its score, its reasons (rule
ids and the figures they saw, in Chinese and English) and the rule-pack and model versions.

* **JSON**: one transaction, or a batch of up to 10,000 accepted or refused as a whole.
* **ISO 20022**: a `pacs.008` customer credit transfer message, answered by a `pacs.002`
  status report.

Money is integer **fen** (`amount_fen`), or yuan as text (`amount`, `"1234.56"`); times are ISO
8601 with a UTC offset.{time_window} A `tx_id` sent again gets the decision first made for it.

**Errors** are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`
and `detail`. `type` is a URI under `{problem_base}` (`invalid-input`, `not-found`,
`forbidden`, `conflict`, `content-too-large`, `unsupported-media-type`, `internal-error`):
match on it. Invalid input adds `record` (the 0-based index in a batch), `field`, `reason`
and `errors`, a list of every bad record and field found (up to 20; `more` is true when
there were more).

**Access**: each request carries a member's API key, `Authorization: Bearer fwk_…` or
`X-API-Key: fwk_…`; without a valid one the answer is a 401 problem (only the demo, `fundwall
demo`, takes transactions without a key). An account is (bank, number): a member submits only
transactions paid from accounts it holds in the account directory, and cash deposits into them
(else 403); it reports the accounts it opens, and their changes, at `/v1/accounts`. The
counterparty's bank must be a bank or payment institution of the region, or a bank outside it
as a 12-digit CNAPS code or a BIC, and an account of the region must be at the bank named
(else 422). A `tx_id` another member used first is refused as invalid input (422, "transaction
id already used"); one the member sent before with other content is a 409 naming the fields.
A member sends its accounts' login events (with the face check) at `/v1/logins`, under the
same rules.
"""

_TAGS: Final = [
    {"name": "decisions", "description": "Decide on transactions sent as JSON."},
    {
        "name": "ISO 20022",
        "description": "Decide on pacs.008 credit transfers; answered with pacs.002.",
    },
    {
        "name": "logins",
        "description": "A member sends its accounts' logins and face checks (断卡 signs).",
    },
    {
        "name": "accounts",
        "description": "A member reports its accounts' opening, class, status and closure.",
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
                [
                    (model, "validation")
                    for model in (
                        TransactionIn,
                        LoginIn,
                        Problem,
                        InvalidInputProblem,
                        AccountOpeningIn,
                        AccountChangeIn,
                        PhoneBindingIn,
                    )
                ],
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
    access: AccessConfig | None = None,
    api_keys_required: bool = True,
    clock: Clock | None = None,
    limits: ApiLimits | None = None,
    accounts: AccountReports | None = None,
    holders: AccountHolders | None = None,
) -> FastAPI:
    """The HTTP API over `service`, documented at /docs (OpenAPI at /openapi.json).

    Every transaction and account route asks for a member's API key, checked against the
    store of `access` (`fundwall.bootstrap` builds it; the console signs in through it too).
    Without `access` no key is known, so those routes answer 401 to everyone. Only an
    explicit `api_keys_required=False` (the demo) opens the transaction routes to callers
    without a key.

    `settings` are the deployment's (the policy figures the documentation quotes, the time
    window `settings.api`); `clock` is the time transactions must lie near and stamps the ISO
    20022 status reports (the system clock by default); `limits` bound the request bodies.
    With `accounts`, members report their accounts at `/v1/accounts` to the store the decision
    service reads; a service that takes login events (`LoginObserver`) gets `/v1/logins`.
    `holders` says which member holds each account, so that a decision quotes a
    payee's figures only to the member holding that account: by default the service's own
    `bank_of` (the engine's account directory), and for a service without one, no account is
    known and no payee's figures are shown to anyone through the API.
    """
    clock = clock or SystemClock()
    window = TimeWindow(settings.api, clock)
    app = _FundwallAPI(
        # FastAPI's OpenTelemetry hooks ask the global providers on every request whether
        # anyone configured them (several per cent of an API call's CPU in the app);
        # Fundwall sets up no telemetry, so they stay off.
        telemetry=_NO_TELEMETRY,
        title="Fundwall risk engine",
        version=__version__,
        description=_DESCRIPTION.format(
            delay_hours=settings.policy.atm_transfer_delay_hours,
            problem_base=PROBLEM_BASE,
            time_window=window.describe(),
        ),
        openapi_tags=[
            t
            for t in _TAGS
            if (accounts is not None or t["name"] != "accounts")
            and (isinstance(service, LoginObserver) or t["name"] != "logins")
        ],
        openapi_url=OPENAPI_PATH,
        docs_url=None,  # served from the app's own files by install_docs, not from a CDN
        redoc_url=None,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    for raised in (FundwallError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(raised, problem_response)
    install_docs(app, OPENAPI_PATH)
    if access is not None:
        install_access(app, access)
    if holders is None:
        holders = service if isinstance(service, AccountHolders) else NoHolders()
    # The decision routes as the app's own and first, not through `include_router`, which
    # puts an included router behind a layer of its own that every request is matched through
    # twice (about 15 µs of CPU a call, measured in process). No other route of the app
    # shares their paths, so going first changes only how soon they are found.
    app.router.routes[:0] = decision_router(
        service,
        clock,
        limits or ApiLimits(),
        window,
        holders,
        api_keys_required=api_keys_required,
    ).routes
    if isinstance(service, LoginObserver):
        authorise = submitting_member if api_keys_required else anyone
        limit = (limits or ApiLimits()).login_bytes
        app.include_router(login_router(service, limit, window, authorise))
    if accounts is not None:
        app.include_router(account_router(accounts))

    @app.get("/healthz", tags=["health"], summary="Liveness", response_model=HealthOut)
    async def healthz() -> dict[str, str]:
        """Answers `{"status": "ok"}` while the process serves requests."""
        return {"status": "ok"}

    return app
