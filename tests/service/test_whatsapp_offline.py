"""A real WhatsApp connection started here, where WhatsApp cannot be reached: neonize's Go
core runs for real, the connection says why it is not connected, and nothing else suffers."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import Tenant


async def test_starting_without_network_reports_the_state_and_harms_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/connections", json={"name": "Loja", "channel": "whatsapp"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    url = f"/api/connections/{created.json()['id']}"
    started = await client.post(f"{url}/start", json={}, headers=tenant.headers)
    assert started.status_code == 202, started.text
    async with asyncio.timeout(30):
        while True:
            connection = (await client.get(url, headers=tenant.headers)).json()
            if connection["status"] == "disconnected" and connection["status_detail"]:
                break
            await asyncio.sleep(0.1)
    assert "websocket" in connection["status_detail"] or "dial" in connection["status_detail"]
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    qr = await client.get(f"{url}/qr", headers=tenant.headers)
    assert qr.status_code == 200
    assert qr.json()["qr_code"] is None
    stopped = await client.post(f"{url}/stop", headers=tenant.headers)
    assert stopped.status_code in (200, 202, 204), stopped.text
    connection = (await client.get(url, headers=tenant.headers)).json()
    assert connection["is_active"] is False
