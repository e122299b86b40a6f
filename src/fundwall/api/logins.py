"""`POST /v1/logins`: a member sends its accounts' login events (mobile and online banking,
with the face check), which the engine's login features read (断卡: an account that changed
hands shows a new device or a failed face check).

The route reads the body as the decision routes do (size first, then JSON), checks every
login as the domain does (`LoginEvent`), refuses a time outside the API's window, and hands
the logins to the service, which admits them (the member's own accounts, ids used once), logs
them and folds them in. All or nothing: one bad login and none is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, TypeAdapter

from fundwall.api.bodies import JSON_TYPES, parse_json, read_body
from fundwall.api.problems import problem_responses
from fundwall.api.routes import DirectRoute, json_response, security_doc
from fundwall.api.service import LoginObserver
from fundwall.api.timing import TimeWindow
from fundwall.domain.devices import LoginEvent
from fundwall.domain.errors import InvalidInput
from fundwall.engine.admission import LOGIN_FIELDS
from fundwall.ingest import MAX_ERRORS, InvalidRecords

LOGINS_PATH: Final = "/v1/logins"
MAX_LOGINS: Final = 10_000
"""Most login events in one request."""

_EXAMPLE: Final[dict[str, Any]] = {
    "login_id": "L20240501-000001",
    "ts": "2024-05-01T09:28:41+08:00",
    "account_no": "6222020200112233445",
    "device_id": "IMEI-358240051111110",
    "ip": "203.0.113.7",
    "city": "Xiamen",
    "face_check": "mismatch",
}


class LoginIn(BaseModel):
    """One login to an account's mobile or online banking, as the member's system saw it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [dict(_EXAMPLE)]})

    login_id: StrictStr = Field(description="the member's id of the login, used once")
    ts: AwareDatetime = Field(description="when it happened, ISO 8601 with a UTC offset")
    account_no: StrictStr = Field(description="the member's account logged into")
    device_id: StrictStr | None = Field(None, description="the device used, if known")
    ip: StrictStr | None = Field(None, description="the IP address used, if known")
    city: StrictStr | None = Field(None, description="the city of the login, if known")
    face_check: StrictStr = Field(
        description="the face check (人脸识别): passed, failed (no usable face), mismatch "
        "(another face than the holder's) or not_done"
    )

    def to_login(self) -> LoginEvent:
        try:
            return LoginEvent(
                self.login_id, self.account_no, self.ts, self.device_id, self.ip, self.city,
                self.face_check,  # type: ignore[arg-type]  # the domain checks the value
            )  # fmt: skip
        except InvalidInput as error:
            field = LOGIN_FIELDS.get(error.field or "", error.field)
            raise InvalidInput(error.reason, field) from None


class LoginsOut(BaseModel):
    """What the engine took in."""

    received: int = Field(description="login events in the request")
    new: int = Field(description="of them not taken before (a login sent again counts once)")


_MANY: Final = TypeAdapter(Annotated[list[LoginIn], Field(min_length=1, max_length=MAX_LOGINS)])


def parse_logins(items: list[LoginIn]) -> list[LoginEvent]:
    """The domain's login events, or one error naming every bad record (its index) and field;
    a login id twice in the request is an error at the later record."""
    logins: list[LoginEvent] = []
    errors: list[InvalidInput] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            login = item.to_login()
        except InvalidInput as error:
            errors.append(error.at(index))
            continue
        earlier = first_index.setdefault(login.event_id, index)
        if earlier != index:
            errors.append(InvalidInput(f"duplicate of record {earlier}", "login_id").at(index))
        logins.append(login)
    if errors:
        raise InvalidRecords.of(errors[:MAX_ERRORS], more=len(errors) > MAX_ERRORS)
    return logins


def login_router(
    service: LoginObserver,
    limit: int,
    window: TimeWindow,
    authorise: Callable[[Request], str | None],
) -> APIRouter:
    """The login route over `service`: bodies up to `limit` bytes, times inside `window`,
    the member `authorise` names (None: the demo's open routes)."""
    router = APIRouter(route_class=DirectRoute, tags=["logins"])
    schema: dict[str, Any] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/LoginIn"},
        "minItems": 1,
        "maxItems": MAX_LOGINS,
        "examples": [[_EXAMPLE]],
    }

    @router.post(
        LOGINS_PATH,
        summary="Send the accounts' login events",
        response_model=LoginsOut,
        responses=problem_responses(401, 403, 409, 413, 415, 422),
        openapi_extra=security_doc(schema, f"1 to {MAX_LOGINS:,} login events."),
    )
    async def observe_logins(request: Request) -> Response:
        """Take in 1 to 10,000 logins of the member's own accounts, in any order: each counts
        at its own time for the transactions at or after it. All or nothing: the 422 names
        each bad `record` (0-based index) and `field`; another member's account is a 403. A
        `login_id` sent again with the same content is taken once; with other content it is a
        409; one another member used is a 422."""
        member = authorise(request)
        body = await read_body(request, limit, JSON_TYPES)
        logins = parse_logins(parse_json(body, _MANY))
        window.admit(logins, batch=True)
        new = service.observe_logins(logins, member=member)
        return json_response(LoginsOut(received=len(logins), new=new).model_dump())

    return router
