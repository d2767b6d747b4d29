"""Contacts and tags made through the API, and the contacts API's lists and audit trail."""

from __future__ import annotations

import itertools
from typing import Any

from tests.factories import Tenant, unique

URL = "/api/contacts"
_numbers = itertools.count(10_000)


def fresh_number() -> str:
    """A valid Brazilian mobile number no other test uses (E.164)."""
    return f"+55119{next(_numbers) % 100_000_000:08d}"


async def make_contact(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"number": fresh_number(), "name": unique("Cliente"), **fields}
    response = await tenant.client.post(URL, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_tag(tenant: Tenant, name: str | None = None) -> dict[str, Any]:
    response = await tenant.client.post(
        "/api/tags", json={"name": name or unique("tag")}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def audit_entries(tenant: Tenant, object_id: int) -> list[dict[str, Any]]:
    response = await tenant.client.get(
        "/api/audit-log",
        params={"object_type": "contact", "object_id": str(object_id)},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    return list(response.json()["items"])


async def list_ids(
    tenant: Tenant, headers: dict[str, str] | None = None, **params: Any
) -> list[int]:
    response = await tenant.client.get(URL, params=params, headers=headers or tenant.headers)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]
