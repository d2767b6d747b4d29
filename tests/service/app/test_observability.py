"""/health, /metrics and /docs."""

from __future__ import annotations

import httpx

from service.settings import Settings


async def test_health_reports_database_and_broker(
    client: httpx.AsyncClient, test_settings: Settings
) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    broker = "redis" if test_settings.redis_url else "in-process"
    assert response.json() == {"status": "ok", "db": "ok", "broker": broker}


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/api/auth/me")
    await client.get("/api/auth/me")
    text = (await client.get("/metrics")).text
    counted = [
        line
        for line in text.splitlines()
        if line.startswith("atende_http_requests_total{")
        and 'route="api/auth/me"' in line
        and 'status="401"' in line
    ]
    assert counted, text[:2000]
    assert float(counted[0].rsplit(" ", 1)[1]) >= 2
    assert "atende_http_request_seconds_bucket" in text
    assert "atende_messages_total" in text or "# TYPE atende_messages_total counter" in text


async def test_openapi_document_describes_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/docs/openapi.json")).json()
    assert spec["openapi"].startswith("3.0")
    assert "/api/auth/login" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


async def test_docs_page_loads_nothing_from_the_internet(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs", follow_redirects=True)
    assert page.status_code == 200
    assert "https://" not in page.text
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 200
    assert (await client.get("/web/docs.js")).status_code == 200
