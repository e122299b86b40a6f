"""Hostile XML is refused before it can expand, read files or reach the network."""

from __future__ import annotations

import pytest

from fundwall.ingest.iso20022 import MAX_XML_BYTES, InvalidMessage, parse_pacs008

from .pacs_samples import credit_transfer, pacs008

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>&secret;</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/evil.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x"> %remote;]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>"""


@pytest.mark.parametrize(
    "payload",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"],
)
def test_document_type_declarations_are_refused_before_any_entity_is_expanded(
    payload: bytes,
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(payload)
    assert "document type declaration" in caught.value.reason
    assert caught.value.status_reason == "FF01"
    assert "root:" not in str(caught.value)


def test_oversize_message_is_refused_before_parsing() -> None:
    body = pacs008(credit_transfer())
    padded = body + b" " * (MAX_XML_BYTES - len(body) + 1)
    with pytest.raises(InvalidMessage, match="over the limit of 5242880 bytes"):
        parse_pacs008(padded)


def test_size_limit_is_configurable() -> None:
    body = pacs008(credit_transfer())
    assert parse_pacs008(body, max_bytes=len(body)).require_valid()
    with pytest.raises(InvalidMessage, match="over the limit"):
        parse_pacs008(body, max_bytes=len(body) - 1)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b"<Document><FIToFICstmrCdtTrf></Document>", "line 1"),
        (b'{"tx_id": "T1"}', "line 1, column 0"),
        (b"", "no element found"),
        (b"<Document>\n<a>&undefined;</a></Document>", "line 2"),
    ],
)
def test_malformed_xml_gives_a_clear_error_with_its_position(payload: bytes, where: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_pacs008(payload)
    assert caught.value.reason.startswith("malformed XML")
    assert where in caught.value.reason
