"""Tags: CRUD, unique names ignoring case, contact counts, roles, tenant isolation, audit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.users.models import Role
from tests.factories import Tenant, unique


async def _tag(tenant: Tenant, name: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": name or unique("tag"), **fields}
    response = await tenant.client.post("/api/tags", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _contact(tenant: Tenant, number: str, tag_ids: list[int]) -> dict[str, Any]:
    body = {"number": number, "tag_ids": tag_ids}
    response = await tenant.client.post("/api/contacts", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _audit(client: httpx.AsyncClient, tenant: Tenant, object_id: int) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/audit-log",
        params={"object_type": "tag", "object_id": str(object_id)},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    return list(response.json()["items"])


async def test_create_get_update_delete_tag(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await _tag(tenant, "VIP", color="#AABBCC")
    assert created["name"] == "VIP"
    assert created["color"] == "#aabbcc"
    assert created["contacts_count"] == 0

    got = await client.get(f"/api/tags/{created['id']}", headers=tenant.headers)
    assert got.status_code == 200
    assert got.json() == created

    patched = await client.patch(
        f"/api/tags/{created['id']}",
        json={"name": "Gold", "color": "#00ff00"},
        headers=tenant.headers,
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Gold"
    assert patched.json()["color"] == "#00ff00"

    deleted = await client.delete(f"/api/tags/{created['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    missing = await client.get(f"/api/tags/{created['id']}", headers=tenant.headers)
    assert missing.status_code == 404


async def test_default_color(tenant: Tenant) -> None:
    assert (await _tag(tenant))["color"] == "#888888"


async def test_names_are_unique_ignoring_case_within_a_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await _tag(tenant, "Cliente Novo")
    duplicate = await client.post(
        "/api/tags", json={"name": "cliente novo"}, headers=tenant.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["fields"] == {"name": "is already taken"}
    accented = await _tag(tenant, "Ção")
    assert (
        await client.post("/api/tags", json={"name": "ção"}, headers=tenant.headers)
    ).status_code == 409
    assert accented["name"] == "Ção"
    # Another company may use the same name.
    await _tag(other_tenant, "Cliente Novo")
    # Renaming onto another tag's name conflicts too; renaming a tag to its own name in another
    # case does not.
    second = await _tag(tenant, "Outro")
    clash = await client.patch(
        f"/api/tags/{second['id']}", json={"name": "CLIENTE NOVO"}, headers=tenant.headers
    )
    assert clash.status_code == 409
    recased = await client.patch(
        f"/api/tags/{first['id']}", json={"name": "CLIENTE NOVO"}, headers=tenant.headers
    )
    assert recased.status_code == 200
    assert recased.json()["name"] == "CLIENTE NOVO"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "a;b"}, "name"),
        ({"name": "ok", "color": "red"}, "color"),
        ({"name": "ok", "color": "#12345"}, "color"),
        ({"name": "ok", "color": "#1234567"}, "color"),
        ({"name": "ok", "extra": 1}, "extra"),
        ({"name": "bad\u0000name"}, "name"),
        ({}, "name"),
    ],
)
async def test_invalid_tags_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/tags", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


async def test_list_counts_contacts_searches_and_pages(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    hot = await _tag(tenant, "Lead quente")
    cold = await _tag(tenant, "Lead frio")
    foreign = await _tag(other_tenant, "Lead estrangeiro")
    await _contact(tenant, "+5511911110001", [hot["id"], cold["id"]])
    await _contact(tenant, "+5511911110002", [hot["id"]])

    listed = await client.get("/api/tags", headers=tenant.headers)
    assert listed.status_code == 200
    counts = {t["id"]: t["contacts_count"] for t in listed.json()["items"]}
    assert counts == {hot["id"]: 2, cold["id"]: 1}
    assert foreign["id"] not in counts

    searched = await client.get("/api/tags", params={"q": "QUENTE"}, headers=tenant.headers)
    assert [t["id"] for t in searched.json()["items"]] == [hot["id"]]

    page = await client.get("/api/tags", params={"limit": 1}, headers=tenant.headers)
    assert [t["id"] for t in page.json()["items"]] == [hot["id"]]
    cursor = page.json()["next_cursor"]
    assert cursor
    rest = await client.get(
        "/api/tags", params={"limit": 1, "cursor": cursor}, headers=tenant.headers
    )
    assert [t["id"] for t in rest.json()["items"]] == [cold["id"]]
    assert rest.json()["next_cursor"] is None


async def test_deleting_a_tag_takes_it_off_contacts(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    tag = await _tag(tenant)
    contact = await _contact(tenant, "+5511911110003", [tag["id"]])
    assert (
        await client.delete(f"/api/tags/{tag['id']}", headers=tenant.headers)
    ).status_code == 204
    got = await client.get(f"/api/contacts/{contact['id']}", headers=tenant.headers)
    assert got.json()["tags"] == []


@pytest.mark.parametrize("role", [Role.supervisor, Role.agent])
async def test_everyone_reads(client: httpx.AsyncClient, tenant: Tenant, role: Role) -> None:
    tag = await _tag(tenant)
    member = await tenant.member(role)
    assert (await client.get("/api/tags", headers=member.headers)).status_code == 200
    got = await client.get(f"/api/tags/{tag['id']}", headers=member.headers)
    assert got.status_code == 200


async def test_supervisor_writes_and_agent_does_not(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    supervisor = await tenant.member(Role.supervisor)
    created = await client.post("/api/tags", json={"name": "sup"}, headers=supervisor.headers)
    assert created.status_code == 201
    tag_id = created.json()["id"]
    patched = await client.patch(
        f"/api/tags/{tag_id}", json={"color": "#010203"}, headers=supervisor.headers
    )
    assert patched.status_code == 200

    agent = await tenant.member(Role.agent)
    assert (
        await client.post("/api/tags", json={"name": "agent"}, headers=agent.headers)
    ).status_code == 403
    assert (
        await client.patch(f"/api/tags/{tag_id}", json={"name": "x"}, headers=agent.headers)
    ).status_code == 403
    assert (await client.delete(f"/api/tags/{tag_id}", headers=agent.headers)).status_code == 403
    unchanged = await client.get(f"/api/tags/{tag_id}", headers=tenant.headers)
    assert unchanged.json()["name"] == "sup"

    assert (
        await client.delete(f"/api/tags/{tag_id}", headers=supervisor.headers)
    ).status_code == 204


async def test_another_company_cannot_reach_a_tag(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    tag = await _tag(tenant, "Secret", color="#123456")
    url = f"/api/tags/{tag['id']}"
    assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
    patched = await client.patch(url, json={"name": "pwned"}, headers=other_tenant.headers)
    assert patched.status_code == 404
    # A foreign id is a 404 whatever the body.
    garbage = await client.patch(url, content=b"not json", headers=other_tenant.headers)
    assert garbage.status_code == 404
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
    listed = await client.get("/api/tags", headers=other_tenant.headers)
    assert tag["id"] not in [t["id"] for t in listed.json()["items"]]
    still = await client.get(url, headers=tenant.headers)
    assert still.status_code == 200
    assert still.json() == tag


async def test_changes_are_audited(client: httpx.AsyncClient, tenant: Tenant) -> None:
    tag = await _tag(tenant, "Audited")
    await client.patch(f"/api/tags/{tag['id']}", json={"name": "Renamed"}, headers=tenant.headers)
    await client.delete(f"/api/tags/{tag['id']}", headers=tenant.headers)
    entries = await _audit(client, tenant, tag["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert all(e["user_id"] == tenant.admin.user.id for e in entries)
    delete, update, create = entries
    assert create["after"]["name"] == "Audited"
    assert update["before"]["name"] == "Audited"
    assert update["after"]["name"] == "Renamed"
    assert delete["before"]["name"] == "Renamed"
    assert delete["after"] is None
