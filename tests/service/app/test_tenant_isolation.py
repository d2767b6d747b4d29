"""Another company's objects are a 404 on every route that takes an id, and stay unchanged.

The routes are read from the running app, so a new route with an id is covered as soon as
it exists (or this test says which object it does not know how to make)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sanic import Sanic

from service.tickets.models import Ticket
from tests.factories import Tenant, unique, unique_email

# Routes that manage the installation itself (super-admins only), not a company's data.
_NOT_COMPANY_DATA = ("api/companies", "api/plans")


async def _make_objects(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, int]:
    """One object of every kind in `tenant`, keyed by the route prefix that reaches it."""
    headers = tenant.headers

    async def post(path: str, body: dict[str, Any]) -> int:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 201, (path, response.text)
        object_id: int = response.json()["id"]
        return object_id

    queue_id = await post("/api/queues", {"name": unique("queue")})
    sandbox_id = await post(
        "/api/connections",
        {"name": unique("sandbox"), "channel": "sandbox", "queue_ids": [queue_id]},
    )
    written = await client.post(
        f"/api/sandbox/{sandbox_id}/inbound",
        json={"from": "+5511977776666", "text": "oi"},
        headers=headers,
    )
    assert written.status_code == 200, written.text
    ticket_id = (await Ticket.get(connection_id=sandbox_id)).id
    picture = {"kind": "image", "mime": "image/png", "content_base64": "iVBORw0KGgo="}
    with_media = await client.post(
        f"/api/sandbox/{sandbox_id}/inbound",
        json={"from": "+5511977776666", "text": "foto", "media": picture},
        headers=headers,
    )
    assert with_media.status_code == 200, with_media.text
    return {
        "api/sandbox": sandbox_id,
        "api/tickets": ticket_id,
        "api/messages": with_media.json()["message_id"],
        "api/queues": queue_id,
        "api/users": await post(
            "/api/users",
            {"name": "Ana", "email": unique_email(), "password": "long enough", "role": "agent"},
        ),
        "api/connections": await post(
            "/api/connections", {"name": unique("conn"), "channel": "sandbox"}
        ),
        "api/contacts": await post(
            "/api/contacts", {"name": "Cliente", "number": "+55 11 98765-4321"}
        ),
        "api/tags": await post("/api/tags", {"name": unique("tag")}),
        "api/quick-replies": await post(
            "/api/quick-replies", {"shortcut": unique("qr").lower(), "text": "Olá!"}
        ),
        "api/api-tokens": await post("/api/api-tokens", {"name": "integration"}),
        "api/campaigns": await post(
            "/api/campaigns",
            {
                "name": unique("campaign"),
                "connection_id": sandbox_id,
                "contact_list_id": await post("/api/contact-lists", {"name": unique("list")}),
                "variants": ["Oi"],
            },
        ),
        "api/contact-lists": await post("/api/contact-lists", {"name": unique("list")}),
        "api/segments": await post("/api/segments", {"name": unique("segment")}),
        "api/scheduled-messages": await post(
            "/api/scheduled-messages",
            {
                "contact_id": (await Ticket.get(id=ticket_id)).contact_id,  # type: ignore[attr-defined]
                "body": "later",
                "send_at": "2099-01-01T09:00:00+00:00",
            },
        ),
    }


def _id_routes(app: Sanic[Any, Any]) -> list[tuple[str, str]]:
    routes = []
    for route in app.router.routes:
        if "<" not in route.path or not route.path.startswith("api/"):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, route.path))
    return routes


async def _snapshot(client: httpx.AsyncClient, tenant: Tenant, objects: dict[str, int]) -> Any:
    views = {}
    for prefix, object_id in objects.items():
        if prefix == "api/api-tokens":  # no GET by id: its list shows it
            response = await client.get("/api/api-tokens", headers=tenant.headers)
        elif prefix == "api/sandbox":  # the connection is what those routes reach
            response = await client.get(f"/api/connections/{object_id}", headers=tenant.headers)
        elif prefix == "api/messages":  # a message is reached through its file
            response = await client.get(f"/{prefix}/{object_id}/media", headers=tenant.headers)
            assert response.status_code == 200, (prefix, response.text)
            views[prefix] = response.content
            continue
        else:
            response = await client.get(f"/{prefix}/{object_id}", headers=tenant.headers)
        assert response.status_code == 200, (prefix, response.text)
        views[prefix] = response.json()
    return views


async def test_every_id_route_is_404_for_another_company(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    objects = await _make_objects(client, tenant)
    before = await _snapshot(client, tenant, objects)
    checked, unknown, leaks = 0, [], []
    for method, path in _id_routes(app):
        if path.startswith(_NOT_COMPANY_DATA):
            continue
        prefix = next((p for p in objects if path.startswith(p + "/")), None)
        if prefix is None:
            unknown.append(f"{method} /{path}")
            continue
        url = "/" + re.sub(r"<[^>]+>", str(objects[prefix]), path, count=1)
        response = await client.request(method, url, json={}, headers=other_tenant.headers)
        checked += 1
        if response.status_code != 404:
            leaks.append(f"{method} {url} -> {response.status_code} {response.text[:200]}")
    assert not unknown, f"teach _make_objects to make objects for: {unknown}"
    assert not leaks, leaks
    assert checked >= 15
    assert await _snapshot(client, tenant, objects) == before
