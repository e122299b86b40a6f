"""POST /v1/iso20022/pacs.008: a pacs.002 status report for each message."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest
from fastapi.testclient import TestClient

from fundwall.clock import FixedClock

from .pacs import PACS002, group, pacs008, statuses, transfer
from .service import RuleOfThumbService

PATH = "/v1/iso20022/pacs.008"
XML = {"content-type": "application/xml"}


@pytest.mark.parametrize("version", [f"{number:02d}" for number in range(2, 14)])
@pytest.mark.parametrize("app_header", [False, True])
def test_every_version_is_decided(
    client: TestClient, service: RuleOfThumbService, version: str, app_header: bool
) -> None:
    message = pacs008(
        transfer("A-1", "10.00", version=version),
        transfer("A-2", "60000.00", version=version),
        version=version,
        app_header=app_header,
    )
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml"
    assert statuses(response.content) == [("A-1", "ACSC", None), ("A-2", "RJCT", "FRAD")]
    assert group(response.content).findtext(f"{PACS002}GrpSts") == "PART"
    assert group(response.content).findtext(f"{PACS002}OrgnlMsgNmId") == f"pacs.008.001.{version}"
    assert service.calls == [("decide_batch", ("A-1", "A-2"))]


def test_each_action_has_its_status(client: TestClient) -> None:
    amounts = ["1.00", "5000.00", "10000.00", "20000.00", "50000.00"]
    message = pacs008(*(transfer(f"S-{i}", amount) for i, amount in enumerate(amounts)))
    report = client.post(PATH, content=message, headers=XML).content
    assert statuses(report) == [
        ("S-0", "ACSC", None),
        ("S-1", "PDNG", "NARR"),
        ("S-2", "ACCP", "NARR"),
        ("S-3", "PDNG", "NARR"),
        ("S-4", "RJCT", "FRAD"),
    ]
    reasons = [element.text for element in fromstring(report).iter(f"{PACS002}AddtlInf")]
    assert reasons[0] == "T001: a single transfer of ¥5,000.00"


def test_a_bad_transaction_is_rejected_alone_and_the_rest_decided(
    client: TestClient, service: RuleOfThumbService
) -> None:
    message = pacs008(
        transfer("M-1", "10.00"),
        transfer("M-2", "10.00", currency="USD"),
        transfer("M-3", "12.345"),
        transfer("M-4", "60000.00"),
        transfer("M-1", "10.00"),
    )
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 200
    assert statuses(response.content) == [
        ("M-1", "ACSC", None),
        ("M-2", "RJCT", "AM11"),
        ("M-3", "RJCT", "AM12"),
        ("M-4", "RJCT", "FRAD"),
        ("M-1", "RJCT", "AM05"),
    ]
    assert service.calls == [("decide_batch", ("M-1", "M-4"))]


def test_a_message_of_bad_transactions_decides_nothing(
    client: TestClient, service: RuleOfThumbService
) -> None:
    message = pacs008(transfer("N-1", "1.00", currency="EUR"))
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 200
    assert statuses(response.content) == [("N-1", "RJCT", "AM11")]
    assert service.calls == []


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (pacs008(transfer("G-1"), nb_of_txs=2), "AM18"),
        (b"<Document><unclosed></Document>", "FF01"),
        (b"<?xml version='1.0'?><Document xmlns='urn:example'/>", "FF01"),
        (pacs008(transfer("G-1"), version="14"), "FF01"),
        (b"", "FF01"),
    ],
)
def test_a_message_refused_as_a_whole_is_a_group_rejection(
    client: TestClient, service: RuleOfThumbService, message: bytes, code: str
) -> None:
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/xml"
    original = group(response.content)
    assert original.findtext(f"{PACS002}GrpSts") == "RJCT"
    assert original.findtext(f"{PACS002}StsRsnInf/{PACS002}Rsn/{PACS002}Cd") == code
    assert statuses(response.content) == []
    assert service.calls == []


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">&lol9;</Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">&secret;</Document>"""


@pytest.mark.parametrize("message", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_an_xml_bomb_is_refused_not_expanded(
    client: TestClient, service: RuleOfThumbService, message: bytes
) -> None:
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 422
    assert len(response.content) < 2000
    assert b"lollol" not in response.content
    assert b"root:" not in response.content
    reason = group(response.content).findtext(f"{PACS002}StsRsnInf/{PACS002}AddtlInf") or ""
    assert "document type declaration" in reason
    assert service.calls == []


def test_an_oversize_message_is_a_413_problem(
    client: TestClient, service: RuleOfThumbService
) -> None:
    message = pacs008(*(transfer(f"L-{index}") for index in range(60)))
    assert len(message) > 32 * 1024
    response = client.post(PATH, content=message, headers=XML)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "the body is larger than the limit of 32,768 bytes for /v1/iso20022/pacs.008"
    )
    assert service.calls == []


@pytest.mark.parametrize("content_type", ["text/xml; charset=utf-8", "application/iso20022+xml"])
def test_other_xml_media_types_are_accepted(client: TestClient, content_type: str) -> None:
    response = client.post(
        PATH, content=pacs008(transfer("X-1")), headers={"content-type": content_type}
    )
    assert response.status_code == 200


def test_json_is_not_a_pacs008(client: TestClient) -> None:
    response = client.post(PATH, json={"MsgId": "1"})
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "send the body as application/xml or text/xml, not 'application/json'"
    )


def test_the_report_is_stamped_by_the_clock(client: TestClient, clock: FixedClock) -> None:
    for message in (pacs008(transfer("C-1")), b"<broken"):
        report = fromstring(client.post(PATH, content=message, headers=XML).content)
        stamp = report.findtext(f"{PACS002}FIToFIPmtStsRpt/{PACS002}GrpHdr/{PACS002}CreDtTm")
        assert stamp == clock.now().isoformat(timespec="seconds")
