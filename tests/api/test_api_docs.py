"""The documentation a bank developer reads: /docs, /openapi.json, and /healthz."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fundwall.api import create_app
from fundwall.config import Settings, load_settings

from .service import RuleOfThumbService

ROUTES = {
    "/v1/transactions": "post",
    "/v1/transactions/batch": "post",
    "/v1/iso20022/pacs.008": "post",
    "/v1/logins": "post",
    "/healthz": "get",
}


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def test_the_docs_page_loads_the_openapi_document(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_the_docs_page_needs_nothing_from_outside_the_app(client: TestClient) -> None:
    page = client.get("/docs")
    addresses = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert addresses and all(a.startswith("/docs/assets/") for a in addresses), addresses
    for address in addresses:
        asset = client.get(address)
        assert asset.status_code == 200 and asset.content, address
    assert '"validatorUrl": null' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "connect-src 'self'" in policy
    assert "https:" not in policy and "http:" not in policy


def test_the_docs_follow_a_root_path(service: RuleOfThumbService, settings: Settings) -> None:
    app = create_app(service, settings)
    with TestClient(app, root_path="/risk") as behind_a_proxy:
        page = behind_a_proxy.get("/docs").text
    assert "url: '/risk/openapi.json'" in page
    assert 'src="/risk/docs/assets/swagger-ui-bundle.js"' in page


def test_every_route_is_documented(openapi: dict[str, Any]) -> None:
    assert openapi["info"]["title"] == "Fundwall risk engine"
    assert {path: next(iter(item)) for path, item in openapi["paths"].items()} == ROUTES
    assert [tag["name"] for tag in openapi["tags"]] == [
        "decisions",
        "ISO 20022",
        "logins",
        "health",
    ]
    for path, method in ROUTES.items():
        operation = openapi["paths"][path][method]
        assert operation["summary"] and operation["tags"]


@pytest.mark.parametrize("path", ["/v1/transactions", "/v1/transactions/batch"])
def test_json_routes_show_their_bodies_answers_and_problems(
    openapi: dict[str, Any], path: str
) -> None:
    operation = openapi["paths"][path]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    schemas = openapi["components"]["schemas"]
    transaction = schemas["TransactionIn"]
    assert transaction["examples"] and "amount_fen" in transaction["properties"]
    if path.endswith("batch"):
        assert body["schema"]["maxItems"] == 10_000
        assert len(body["schema"]["examples"][0]) == 2
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "DecisionOut" in str(answer)
    assert schemas["DecisionOut"]["examples"][0]["action"] == "delay"
    for status, schema in (("413", "Problem"), ("415", "Problem"), ("422", "InvalidInputProblem")):
        assert operation["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        }
    assert schemas["InvalidInputProblem"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/LocatedError"
    }
    assert "HTTPValidationError" not in schemas


def test_the_pacs008_route_shows_xml_in_and_out(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/v1/iso20022/pacs.008"]["post"]
    sent = operation["requestBody"]["content"]["application/xml"]["example"]
    assert "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08" in sent
    responses = operation["responses"]
    assert "<GrpSts>ACSC</GrpSts>" in responses["200"]["content"]["application/xml"]["example"]
    assert "<GrpSts>RJCT</GrpSts>" in responses["422"]["content"]["application/xml"]["example"]
    assert set(responses) >= {"200", "413", "415", "422"}


def test_the_documented_example_is_accepted(client: TestClient, openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/v1/iso20022/pacs.008"]["post"]
    sent = operation["requestBody"]["content"]["application/xml"]["example"]
    response = client.post(
        "/v1/iso20022/pacs.008", content=sent, headers={"content-type": "application/xml"}
    )
    assert response.status_code == 200
    example = openapi["components"]["schemas"]["TransactionIn"]["examples"][0]
    assert client.post("/v1/transactions", json=example).status_code == 200
    batch = openapi["paths"]["/v1/transactions/batch"]["post"]["requestBody"]["content"]
    examples = batch["application/json"]["schema"]["examples"][0]
    assert client.post("/v1/transactions/batch", json=examples).status_code == 200


def test_the_description_quotes_the_configured_delay(service: RuleOfThumbService) -> None:
    settings: Settings = load_settings(policy={"atm_transfer_delay_hours": 48})
    spec = create_app(service, settings).openapi()
    assert "hold the money 48 h" in spec["info"]["description"]


def test_health(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
