"""/docs/openapi.json: what a client generated from it needs to know.

Every operation documents the error answers it can give (with the one error schema), every
parameter and every component property is described, operation ids are unique and read
well. Each failure lists what to fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import httpx
import pytest

from service.errors import ErrorBody, ErrorOut
from service.health import HealthOut

ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = ("get", "post", "put", "patch", "delete")
# The error answers that are not ErrorOut, on purpose: /health's 503 is its report.
OWN_ERROR_BODIES = {("get", "/health", "503")}
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/docs/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(spec: dict[str, Any]) -> Iterator[Operation]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _is_websocket(operation: dict[str, Any]) -> bool:
    # Over HTTP it only switches protocols; its refusals are close codes, not statuses.
    return "101" in operation.get("responses", {})


def _expected_errors(path: str, operation: dict[str, Any]) -> set[int]:
    expected = {503}
    if operation.get("security"):
        expected.add(401)
    takes_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if ("requestBody" in operation or takes_query) and not _is_websocket(operation):
        expected.add(422)
    if re.search(r"{\w+_id}", path):
        expected.add(404)
    return expected


def _report(title: str, problems: list[str]) -> str:
    return f"{len(problems)} {title}:\n  " + "\n  ".join(problems)


def test_the_document_says_what_the_api_is(spec: dict[str, Any]) -> None:
    info = spec["info"]
    assert info["title"] == "Atende API"
    assert info["version"] == metadata.version("atende")
    description = info["description"]
    for needed in ("POST /api/auth/login", "Bearer", '"error"', "next_cursor", "404"):
        assert needed in description, needed
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_documents_the_errors_it_can_answer(spec: dict[str, Any]) -> None:
    problems: list[str] = []
    for method, path, operation in _operations(spec):
        where = f"{method.upper()} {path}"
        responses = operation.get("responses", {})
        documented = {int(status) for status in responses if status.isdigit()}
        missing = _expected_errors(path, operation) - documented
        if missing:
            problems.append(f"{where}: no {sorted(missing)}")
        for status, answer in responses.items():
            if not status.isdigit() or int(status) < 400:
                continue
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_REF and (method, path, status) not in OWN_ERROR_BODIES:
                problems.append(f"{where} {status}: not the ErrorOut schema")
            if len(answer.get("description", "")) < 10:
                problems.append(f"{where} {status}: no description of when it happens")
            if status in ("429", "503") and "Retry-After" not in answer.get("headers", {}):
                problems.append(f"{where} {status}: the Retry-After header is not documented")
    assert not problems, _report("operations without their documented errors", problems)


def test_the_error_schema_is_a_component(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    error = schemas["ErrorOut"]["properties"]["error"]
    body = schemas[error["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert set(body["required"]) == {"code", "message"}
    assert set(body["properties"]) == {"code", "message", "fields", "request_id"}


async def test_an_error_answer_has_the_documented_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tickets/1")  # no token
    assert response.status_code == 401
    error = ErrorOut.model_validate(response.json())
    assert error.error.code == "unauthorized"
    assert set(response.json()["error"]) <= set(ErrorBody.model_fields)


def test_403_is_documented_where_a_role_is_required(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    forbidden = paths["/api/api-tokens"]["post"]["responses"]["403"]  # admins only
    assert "admin" in forbidden["description"]
    assert "super-admin" in paths["/api/plans"]["post"]["responses"]["403"]["description"]
    assert "403" not in paths["/api/contacts"]["get"]["responses"]  # every role may
    login = paths["/api/auth/login"]["post"]["responses"]
    assert {"401", "422", "429"} <= set(login)
    assert "409" not in login


def test_every_parameter_is_described(spec: dict[str, Any]) -> None:
    problems = [
        f"{method.upper()} {path}: {parameter['in']} parameter {parameter['name']}"
        for method, path, operation in _operations(spec)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert not problems, _report("parameters without a description", problems)


def _undescribed(name: str, schema: dict[str, Any]) -> Iterator[str]:
    """The properties of `schema` (and of the objects nested in it) without a description."""
    for prop_name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            yield f"{name}.{prop_name}"
        for nested in (prop, prop.get("items", {})):
            if "properties" in nested:
                yield from _undescribed(f"{name}.{prop_name}", nested)


def test_every_component_property_is_described(spec: dict[str, Any]) -> None:
    problems = [
        where
        for name, schema in sorted(spec["components"]["schemas"].items())
        for where in _undescribed(name, schema)
    ]
    assert not problems, _report("component properties without a description", problems)


def test_operation_ids_are_unique_and_read_well(spec: dict[str, Any]) -> None:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for method, path, operation in _operations(spec):
        where = f"{method.upper()} {path}"
        operation_id = operation.get("operationId", "")
        if not re.fullmatch(r"([a-z][A-Za-z]*\.)?[a-z][A-Za-z0-9]*", operation_id):
            problems.append(f"{where}: operationId {operation_id!r} is not <resource>.<action>")
        if operation_id in seen:
            problems.append(f"{where}: operationId {operation_id!r} is also {seen[operation_id]}")
        seen[operation_id] = where
        summary = operation.get("summary", "")
        if not summary or "partial(" in summary:
            problems.append(f"{where}: summary {summary!r}")
    assert not problems, _report("operations with a bad id or summary", problems)


async def test_pages_metrics_and_test_routes_are_not_operations(
    spec: dict[str, Any], client: httpx.AsyncClient
) -> None:
    for path in ("/", "/admin", "/simulator", "/metrics"):
        assert (await client.get(path)).status_code == 200, path  # the route is there…
        assert path not in spec["paths"], path  # …and not in the API's document
    assert (await client.get("/__test__/boom")).status_code == 500
    assert (await client.get("/web/app/index.html")).status_code == 200
    extra = [p for p in spec["paths"] if p.startswith(("/__test__", "/web", "/docs"))]
    assert not extra, extra


async def test_health_documents_its_own_report(
    spec: dict[str, Any], client: httpx.AsyncClient
) -> None:
    health = spec["paths"]["/health"]["get"]
    assert "security" not in health
    responses = health["responses"]
    assert set(responses) == {"200", "503"}
    report = "#/components/schemas/HealthOut"
    for status in ("200", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": report}
    assert "Retry-After" in responses["503"]["headers"]
    component = spec["components"]["schemas"]["HealthOut"]
    assert set(component["properties"]) == set(HealthOut.model_fields)
    assert component["properties"]["status"]["enum"] == ["ok", "degraded"]
    # The real answer has the documented shape (HealthOut forbids undocumented fields).
    response = await client.get("/health")
    assert response.status_code == 200
    assert HealthOut.model_validate(response.json()).db == "ok"
