"""Bodies as banks really send them, over HTTP: pacs.008 in envelopes, bare and in other
encodings, faults named by element, the group header echoed, JSON with a byte-order mark."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest
from fastapi.testclient import TestClient

from fundwall.api import create_app
from fundwall.bootstrap import Platform
from fundwall.config import Settings
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.members import create_api_key
from fundwall.store.mapping import institution_row

from .pacs import PACS002, group, pacs008, statuses, transfer
from .records import batch, record
from .service import RuleOfThumbService

PATH = "/v1/iso20022/pacs.008"
XML = {"content-type": "application/xml"}
JSON = {"content-type": "application/json"}
FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"
MEMBER = "ICBKCNBJ"
OTHER = "ABOCCNBJ"
DIRECTORY = {
    "6222020200112233445": MEMBER,
    "6222020200112233446": MEMBER,
    "6228480010203040506": OTHER,
}
"""The accounts of the sample messages and their banks."""


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reasons(report: bytes) -> list[str | None]:
    """AddtlInf of each transaction of a pacs.002."""
    return [
        info.findtext(f"{PACS002}StsRsnInf/{PACS002}AddtlInf")
        for info in fromstring(report).iter(f"{PACS002}TxInfAndSts")
    ]


def group_reason(report: bytes) -> str:
    return group(report).findtext(f"{PACS002}StsRsnInf/{PACS002}AddtlInf") or ""


# pacs.008 variants, on the open app ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "decided"),
    [
        ("pacs008_v08_fednow_envelope.xml", ("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "FDN-TX-2")),
        ("pacs008_bare_message.xml", ("BARE-TX-1",)),
    ],
)
def test_an_enveloped_or_bare_message_is_decided(
    client: TestClient, service: RuleOfThumbService, name: str, decided: tuple[str, ...]
) -> None:
    response = client.post(PATH, content=fixture(name), headers=XML)
    assert response.status_code == 200, response.text
    assert service.calls == [("decide_batch", decided)]
    assert [status for _, status, _ in statuses(response.content)] == ["ACSC"] * len(decided)


@pytest.mark.parametrize(
    ("name", "city", "purpose"),
    [
        ("pacs008_v09_utf16.xml", "厦门", "房租 五月"),
        ("pacs008_v10_latin1.xml", "Zürich", "Miete für Mai"),
        ("pacs008_v08_gb18030.xml", "厦门", "房租 五月"),
    ],
)
def test_a_message_in_another_encoding_is_decided_on_its_characters(
    client: TestClient, service: RuleOfThumbService, name: str, city: str, purpose: str
) -> None:
    response = client.post(PATH, content=fixture(name), headers=XML)
    assert response.status_code == 200, response.text
    (seen,) = service.seen
    assert (seen.city, seen.purpose) == (city, purpose)


@pytest.mark.parametrize("declared", ["Shift_JIS", "UTF-7", "rot13", "no-such-encoding"])
def test_an_encoding_not_accepted_is_a_group_rejection_not_a_server_error(
    client: TestClient, service: RuleOfThumbService, declared: str
) -> None:
    message = pacs008(transfer("E-1")).replace(b"UTF-8", declared.encode(), 1)
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 422
    assert group(response.content).findtext(f"{PACS002}GrpSts") == "RJCT"
    assert f"encoding '{declared}' is not accepted" in group_reason(response.content)
    assert service.calls == []


def test_a_character_xml_forbids_is_refused_naming_its_element(
    client: TestClient, service: RuleOfThumbService
) -> None:
    message = pacs008(transfer("B-1"), transfer("B-2"))
    second = message.rindex(b"<Nm>Payee</Nm>")
    message = message[:second] + b"<Nm>Pay\x01ee</Nm>" + message[second + 14 :]
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 422
    assert group_reason(response.content).startswith(
        "CdtTrfTxInf[2]/Cdtr/Nm: malformed XML: not well-formed (invalid token)"
    )
    assert service.calls == []


def test_a_ch16_rejection_names_the_element_of_the_bad_character(
    client: TestClient, service: RuleOfThumbService
) -> None:
    bad_city = transfer("C-2").replace(
        "</CdtTrfTxInf>",
        "<SplmtryData><Envlp><RskData><City>Xia\u0085men</City></RskData></Envlp>"
        "</SplmtryData></CdtTrfTxInf>",
    )
    response = client.post(PATH, content=pacs008(transfer("C-1"), bad_city), headers=XML)
    assert response.status_code == 200
    assert statuses(response.content) == [("C-1", "ACSC", None), ("C-2", "RJCT", "CH16")]
    assert reasons(response.content)[1] == (
        "SplmtryData[1]/Envlp/RskData/City: contains control characters"
    )
    assert service.calls == [("decide_batch", ("C-1",))]


@pytest.mark.parametrize(
    "created",
    ["2024-05-01T02:00:00Z", "2024-05-01T10:00:00", "2024-05-01T10:00:00.123456789+08:00"],
)
def test_the_report_echoes_cre_dt_tm_unchanged(client: TestClient, created: str) -> None:
    message = pacs008(transfer("D-1")).replace(b"2024-05-01T10:00:00+08:00", created.encode(), 1)
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 200
    assert group(response.content).findtext(f"{PACS002}OrgnlCreDtTm") == created


# JSON encodings ----------------------------------------------------------------------------


def test_json_with_a_utf8_byte_order_mark_is_decided(
    client: TestClient, service: RuleOfThumbService
) -> None:
    one = b"\xef\xbb\xbf" + json.dumps(record("J-1", city="厦门"), ensure_ascii=False).encode()
    response = client.post("/v1/transactions", content=one, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["tx_id"] == "J-1"
    many = b"\xef\xbb\xbf" + json.dumps(batch(2)).encode()
    response = client.post("/v1/transactions/batch", content=many, headers=JSON)
    assert response.status_code == 200, response.text
    assert [seen.city for seen in service.seen] == ["厦门", "Xiamen", "Xiamen"]


@pytest.mark.parametrize(
    ("codec", "named"),
    [
        ("utf-16", "UTF-16LE"),
        ("utf-16-le", "UTF-16LE"),
        ("utf-16-be", "UTF-16BE"),
        ("utf-32", "UTF-32LE"),
        ("utf-32-be", "UTF-32BE"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/transactions", "/v1/transactions/batch"])
def test_json_in_another_unicode_encoding_is_a_415_problem(
    client: TestClient, service: RuleOfThumbService, codec: str, named: str, path: str
) -> None:
    body = record("J-2") if path == "/v1/transactions" else batch(1)
    response = client.post(path, content=json.dumps(body).encode(codec), headers=JSON)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://fundwall.example/problems/unsupported-media-type"
    assert response.json()["detail"] == (
        f"JSON must be sent in UTF-8 (RFC 8259), and this body is {named}"
    )
    assert service.calls == []


# The same through an app with members' API keys ---------------------------------------------


@pytest.fixture
def member_key(platform: Platform) -> dict[str, str]:
    """The header carrying an API key of the member bank MEMBER."""
    with platform.unit_of_work() as uow:
        uow.session.add(
            institution_row(Institution(MEMBER, MEMBER, MEMBER, InstitutionKind.BANK, "350200"))
        )
        uow.commit()
        _, text = create_api_key(uow, platform.operator, MEMBER)
    return {"authorization": f"Bearer {text}"}


@pytest.fixture
def directory_service() -> RuleOfThumbService:
    """The rule of thumb over the directory of the sample messages' accounts."""
    return RuleOfThumbService(DIRECTORY, (MEMBER, OTHER))


@pytest.fixture
def guarded(
    directory_service: RuleOfThumbService, settings: Settings, platform: Platform
) -> Iterator[TestClient]:
    """A client of the app with access control: API keys required."""
    app = create_app(directory_service, settings, access=platform.access, clock=platform.clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("pacs008_v08_fednow_envelope.xml", [None, "FDN-TX-2"]),
        ("pacs008_bare_message.xml", ["BARE-TX-1"]),
        ("pacs008_v09_utf16.xml", ["MSG-U16-0001-TX"]),
        ("pacs008_v10_latin1.xml", ["MSG-L1-0001-TX"]),
    ],
)
def test_a_members_message_in_any_accepted_form_is_decided(
    guarded: TestClient,
    member_key: dict[str, str],
    directory_service: RuleOfThumbService,
    name: str,
    ids: list[str | None],
) -> None:
    response = guarded.post(PATH, content=fixture(name), headers={**XML, **member_key})
    assert response.status_code == 200, response.text
    assert statuses(response.content) == [(tx_id, "ACSC", None) for tx_id in ids]
    assert len(directory_service.seen) == len(ids)


def test_a_members_json_with_a_byte_order_mark_is_read_and_utf16_refused(
    guarded: TestClient, member_key: dict[str, str]
) -> None:
    body = record("K-1", payer_bank=MEMBER, payee_bank=OTHER)
    headers = {**JSON, **member_key}
    marked = guarded.post(
        "/v1/transactions", content=b"\xef\xbb\xbf" + json.dumps(body).encode(), headers=headers
    )
    assert marked.status_code == 200, marked.text
    wide = guarded.post(
        "/v1/transactions", content=json.dumps(body).encode("utf-16"), headers=headers
    )
    assert wide.status_code == 415
    assert wide.json()["detail"].endswith("this body is UTF-16LE")
    anonymous = guarded.post(
        "/v1/transactions", content=json.dumps(body).encode("utf-16"), headers=JSON
    )
    assert anonymous.status_code == 401
