"""`POST /v1/accounts/{account_no}/phone` and the phone check at opening, over HTTP with API
keys: the answer, another member's account (404), a bad phone (422), a silent registry
(503, nothing bound)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fundwall.api import create_app
from fundwall.api.accounts import AccountReports
from fundwall.bootstrap import Platform
from fundwall.config import load_settings
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.members import create_api_key
from fundwall.phones.local import LocalRegistry
from fundwall.phones.registry import PhoneResult, RegistryAnswer, TelecomRegistry
from fundwall.store.mapping import institution_row
from fundwall.store.phone_tables import PhoneBindingRow
from fundwall.store.tables import AccountRow
from phones.conftest import register
from phones.test_phones_checks import Silent

MINE, THEIRS = "301", "302"
BASE = "http://testserver"
CARD = "6222021234567890128"
PERSON = ResidentId("11010519491231002X")
PHONE = MobilePhone("13812345678")
OPENING = {
    "account_no": CARD,
    "account_class": "II",
    "opened_at": "2024-06-01T07:00:00+00:00",
    "holder": {"id_number": PERSON.number, "name": "张三", "phone": PHONE.number},
}


def _client(platform: Platform, registry: TelecomRegistry) -> Iterator[TestClient]:
    settings = load_settings(config_file=None, data_dir=platform.settings.data_dir)
    service = platform.decision_service()
    app = create_app(
        service,
        settings,
        access=platform.access,
        clock=platform.clock,
        accounts=AccountReports(
            platform.unit_of_work, platform.keyring, platform.settings.policy, registry
        ),
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        service.close()


@pytest.fixture
def keys(platform: Platform) -> dict[str, dict[str, str]]:
    with platform.unit_of_work() as uow:
        for code in (MINE, THEIRS):
            uow.session.add(
                institution_row(Institution(code, code, code, InstitutionKind.BANK, "350200"))
            )
        uow.commit()
        register(uow, platform.keyring, PHONE, PERSON)
        return {
            code: {"authorization": f"Bearer {create_api_key(uow, platform.operator, code)[1]}"}
            for code in (MINE, THEIRS)
        }


def test_opening_and_binding_answer_the_registrys_check(
    platform: Platform, keys: dict[str, dict[str, str]]
) -> None:
    for client in _client(
        platform, LocalRegistry(platform.database, platform.keyring, platform.clock)
    ):
        assert client.post("/v1/accounts", json=OPENING, headers=keys[MINE]).status_code == 201
        path = f"/v1/accounts/{CARD}/phone"
        bound = client.post(path, json={"phone": "13900000001"}, headers=keys[MINE])
        assert bound.status_code == 201, bound.text
        assert bound.json()["result"] == "not_found" and bound.json()["phone"] == "139****0001"
        again = client.post(path, json={"phone": "13900000001"}, headers=keys[MINE])
        assert again.status_code == 409
        theirs = client.post(path, json={"phone": "13900000002"}, headers=keys[THEIRS])
        assert theirs.status_code == 404
        bad = client.post(path, json={"phone": "12345"}, headers=keys[MINE])
        assert bad.status_code == 422 and bad.json()["field"] == "phone"


def test_a_silent_registry_is_a_503_and_binds_nothing(
    platform: Platform, keys: dict[str, dict[str, str]]
) -> None:
    for client in _client(platform, Silent()):
        opened = client.post("/v1/accounts", json=OPENING, headers=keys[MINE])
        assert opened.status_code == 503
        assert opened.json()["type"].endswith("registry-unavailable")
    with platform.unit_of_work() as uow:
        assert uow.session.get(AccountRow, CARD) is None
        assert uow.session.scalar(select(func.count()).select_from(PhoneBindingRow)) == 0


def test_a_simplified_opening_is_decided_and_opened_over_the_api(
    platform: Platform, keys: dict[str, dict[str, str]]
) -> None:
    application = {"applicant": "flexible_worker", "id_number": PERSON.number, "name": "张三",
                   "phone": PHONE.number, "account_no": CARD}  # fmt: skip
    for client in _client(
        platform, LocalRegistry(platform.database, platform.keyring, platform.clock)
    ):
        bad = client.post("/v1/onboarding", json=application | {"id_number": "123"},
                          headers=keys[MINE])  # fmt: skip
        assert bad.status_code == 422 and bad.json()["field"] == "id_number"
        decided = client.post("/v1/onboarding", json=application, headers=keys[MINE])
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert (body["outcome"], body["account_class"], body["account_no"]) == ("open", "I", CARD)
        assert [f["check"] for f in body["findings"]] == ["identity", "phone"]
        assert "11010519491231002X" not in decided.text
        again = client.post("/v1/onboarding", json=application, headers=keys[THEIRS])
        assert again.status_code == 409  # the number is in the directory already
    for client in _client(platform, Silent()):
        silent = client.post("/v1/onboarding", json=application | {"account_no": None},
                             headers=keys[MINE])  # fmt: skip
        assert silent.status_code == 503


class Slow:
    """A registry that answers `match` once `released` is set (at most 30 s later)."""

    name = "slow"

    def __init__(self) -> None:
        self.released = threading.Event()

    def verify(
        self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
    ) -> RegistryAnswer:
        self.released.wait(timeout=30)
        return RegistryAnswer(PhoneResult.MATCH, datetime.now(UTC))


async def _asked_while_other_calls(
    app: object, registry: Slow, path: str, body: dict[str, object], headers: dict[str, str]
) -> tuple[int, list[str]]:
    """POST `body` to `path`, and meanwhile (the registry still asked) GET /healthz; the
    answer's status, and in which order the two calls were answered."""
    order: list[str] = []
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:

        async def asked() -> int:
            answer = await http.post(path, json=body, headers=headers)
            order.append("registry")
            return answer.status_code

        async def other() -> None:
            await asyncio.sleep(0.2)
            answer = await http.get("/healthz")
            order.append(f"other {answer.status_code}")
            registry.released.set()

        status, _ = await asyncio.gather(asked(), other())
    return status, order


def test_a_slow_registry_holds_up_no_other_call(
    platform: Platform, keys: dict[str, dict[str, str]]
) -> None:
    """While the registry takes its time over a phone given with an opening, a bind or a
    simplified opening, the server answers other calls: the registry is asked off the event
    loop, which decides the engine's transactions."""
    registry = Slow()
    application = {"applicant": "flexible_worker", "id_number": PERSON.number, "name": "张三",
                   "phone": PHONE.number}  # fmt: skip
    calls: list[tuple[str, dict[str, object], int]] = [
        ("/v1/accounts", OPENING, 201),
        (f"/v1/accounts/{CARD}/phone", {"phone": "13900000001"}, 201),
        ("/v1/onboarding", application, 200),
    ]
    for client in _client(platform, registry):
        for path, body, status in calls:
            registry.released.clear()
            answered = asyncio.run(
                _asked_while_other_calls(client.app, registry, path, body, keys[MINE])
            )
            assert answered == (status, ["other 200", "registry"]), path
