"""The API fuzzed from its own OpenAPI document: every operation, every answer held to it.

schemathesis draws requests for each operation of /openapi.json (the document's examples,
schema-valid requests and schema-violating ones) and sends them in-process to the app that
`fundwall serve` builds (the API with the console, over the store of a small simulated
region) with a member's API key. No answer may be a server error; each one's status, media
type, headers and body must be documented (problems included); invalid input must be refused
and a route that declares a key must refuse a request without one.

Random data rarely gets past the first check: a drawn payer is not the member's customer, a
drawn account or transaction id does not exist. So the member's own business is drawn too:
transactions its customers pay (or, for deposits, receive) dated now, as JSON, in batches and
as pacs.008, and reads of its own records and of the other member's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, CheckFunction, GenerationMode, SerializationContext
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, select

from fundwall import bootstrap
from fundwall.api.routes import BATCH_PATH, PACS008_PATH, TRANSACTION_PATH
from fundwall.config import load_settings
from fundwall.store.tables import AccountRow
from web.region import Region, session_region  # tests/web/region.py: the console tests' region

from .pacs import member_pacs008

EXAMPLES_PER_OPERATION: Final = 40
"""Requests drawn per operation: some 3,200 requests over the 80 operations, about a minute
(each operation's known ids and bodies are among the strategies, so 40 reach every kind)."""
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
"""Every check of an answer against the document but `positive_data_acceptance` (a
schema-valid request may still be refused: a payer that is not the member's customer, an
unknown bank, a time outside the window, which JSON Schema does not say) and `ignored_auth`,
which `_auth_enforced_once_per_operation` runs."""
BODIES_READ_BY_THE_ROUTES: Final = {
    TRANSACTION_PATH: "application/json",
    BATCH_PATH: "application/json",
    PACS008_PATH: "application/xml",
}
KINDS: Final = ("transfer", "withdrawal", "deposit")
CHANNELS: Final = ("counter", "atm", "mobile", "online", "pos")
TX_IDS: Final = st.from_regex(r"[A-Za-z0-9._:-]{1,32}", fullmatch=True)
PLAIN_TEXT: Final = st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=40)


@dataclass(frozen=True)
class Fuzzed:
    """The document to fuzz, the member's key, and its own business to draw from."""

    schema: BaseSchema
    key: str
    bodies: Mapping[str, st.SearchStrategy[Any]]
    """Bodies of the member's own business, by the path of the route that takes them."""
    known: Mapping[str, Sequence[str]]
    """Values of path parameters that exist: the member's own and the other member's."""


def _xml_as_written(context: SerializationContext, value: Any) -> bytes:
    """A pacs.008 is a document, sent as it is written. schemathesis's own XML serializer
    would wrap the string the document declares in an element of its own (`<data>…</data>`);
    a value of another type (drawn to violate the schema) goes as its JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


schemathesis.serializer("application/xml", "text/xml")(_xml_as_written)


def _accounts(database: Engine) -> list[tuple[str, str]]:
    """(account number, bank) of every account in the store."""
    with database.connect() as connection:
        query = select(AccountRow.account_no, AccountRow.institution_code)
        return sorted((number, bank) for number, bank in connection.execute(query))


def _own_bodies(member: str, accounts: list[tuple[str, str]]) -> dict[str, st.SearchStrategy[Any]]:
    own = [number for number, bank in accounts if bank == member]

    def transaction(
        tx_id: str, kind: str, account: str, payee: tuple[str, str], fen: int, rest: dict[str, Any]
    ) -> dict[str, Any]:
        record = {"tx_id": tx_id, "ts": _now(), "kind": kind, "amount_fen": fen, **rest}
        side = "payee" if kind == "deposit" else "payer"
        record |= {f"{side}_account": account, f"{side}_bank": member}
        if kind == "transfer":
            record |= {"payee_account": payee[0], "payee_bank": payee[1]}
        return record

    def message(tx_id: str, account: str) -> str:
        return member_pacs008(tx_id, member, account, _now())

    transactions = st.builds(
        transaction,
        TX_IDS,
        st.sampled_from(KINDS),
        st.sampled_from(own),
        st.sampled_from(accounts),
        st.integers(min_value=1, max_value=10_000_000),
        st.fixed_dictionaries(
            {"channel": st.sampled_from(CHANNELS)},
            optional={
                "device_id": st.sampled_from(["IMEI-358240051111110", "IMEI-490154203237518"]),
                "ip": st.sampled_from(["203.0.113.7", "2001:db8::1"]),
                "city": st.sampled_from(["Xiamen", "厦门", "Quanzhou"]),
                "purpose": PLAIN_TEXT,
            },
        ),
    )
    return {
        TRANSACTION_PATH: transactions,
        BATCH_PATH: st.lists(transactions, min_size=1, max_size=5),
        PACS008_PATH: st.builds(message, TX_IDS, st.sampled_from(own)),
    }


def _now() -> str:
    """The service decides on the system clock, so the member's transactions are dated now."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@pytest.fixture(scope="module")
def fuzz_region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    return session_region(tmp_path_factory)


@pytest.fixture(scope="module")
def fuzzed(fuzz_region: Region, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """The app `fundwall serve` runs over a copy of the region's store (decisions logged, API
    keys required), with its OpenAPI document loaded by schemathesis."""
    root = tmp_path_factory.mktemp("fuzz_serve")
    url = fuzz_region.copy_to(root)
    conf = load_settings(
        config_file=None, data_dir=root, database_url=url, keys={"dir": str(fuzz_region.keys)}
    )
    with bootstrap.opened(conf) as platform:
        service = platform.decision_service()
        try:
            app = platform.app(service)
            app.state.share_event_seconds = 0  # the event stream answers what it has, and ends
            schema = schemathesis.openapi.from_asgi("/openapi.json", app)
            # Every request carries the member's key: a drawn one would be thrown away.
            schema.config.generation.update(with_security_parameters=False)
            accounts = _accounts(platform.database)
            own = [number for number, bank in accounts if bank == fuzz_region.first_bank]
            yield Fuzzed(
                schema,
                fuzz_region.first_key,
                _own_bodies(fuzz_region.first_bank, accounts),
                {
                    "account_no": [*own[:5], fuzz_region.second_account],
                    "tx_id": [fuzz_region.blocked_tx, fuzz_region.second_tx],
                },
            )
        finally:
            service.close()


def _auth_enforced_once_per_operation(enforced: set[str]) -> CheckFunction:
    """`ignored_auth` as schemathesis's own runner runs it: an operation's first answer to a
    request with the key is probed without a key and with a wrong one, and once both are
    refused the operation is known to enforce its key (a property of the route, not of the
    request). `Case.validate_response` alone would probe every answer again."""

    def check(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        ctx.auth_enforced_operations = enforced
        return ignored_auth(ctx, response, case)

    return check


def _requests(fuzzed: Fuzzed, operation: APIOperation) -> st.SearchStrategy[Case]:
    """The document's examples, schema-valid requests, schema-violating ones, and requests
    about the member's own business and the other member's records."""
    choices = [
        *fuzzed.schema.get_strategies_from_examples(operation),
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    own_body = fuzzed.bodies.get(operation.path)
    if own_body is not None:
        media_type = BODIES_READ_BY_THE_ROUTES[operation.path]
        choices.append(
            own_body.flatmap(lambda body: operation.as_strategy(body=body, media_type=media_type))
        )
    for parameter in operation.iter_parameters():
        if parameter.location == "path" and parameter.name in fuzzed.known:
            values = st.sampled_from(fuzzed.known[parameter.name])
            choices.append(
                values.map(lambda value, name=parameter.name: {name: value}).flatmap(
                    lambda given: operation.as_strategy(path_parameters=given)
                )
            )
    return st.one_of(choices)


def test_every_operation_answers_as_documented_and_never_fails(
    fuzzed: Fuzzed, subtests: pytest.Subtests
) -> None:
    headers = {"Authorization": f"Bearer {fuzzed.key}"}
    checks = [*CHECKS, _auth_enforced_once_per_operation(set())]
    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    by_path = {operation.path: operation for operation in operations}
    for path, media_type in BODIES_READ_BY_THE_ROUTES.items():
        # Declared by hand (openapi_extra): without them nothing but empty bodies is drawn.
        assert by_path[path].get_body_for_media_type(media_type) is not None, path
    for operation in operations:
        with subtests.test(operation.label):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,
                database=None,
                deadline=None,
                # Path parameters are any text, so schema-violating ones are mostly filtered
                # out; and a request through the whole app is slow by Hypothesis's measure.
                suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
            )
            @given(case=_requests(fuzzed, operation))
            def answers_as_documented(case: Case) -> None:
                case.call_and_validate(headers=headers, checks=checks)

            answers_as_documented()
