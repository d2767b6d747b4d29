"""/api/connections: CRUD, the one default connection, queues, roles, tenancy and audit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from service.companies.models import Plan
from service.connections.models import Connection, ConnectionStatus
from service.users.models import Role
from tests.factories import Tenant, unique


async def make_connection(
    client: httpx.AsyncClient, tenant: Tenant, **fields: Any
) -> dict[str, Any]:
    body = {"name": unique("conn"), **fields}
    response = await client.post("/api/connections", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def make_queue(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.post("/api/queues", json={"name": unique("q")}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    queue_id: int = response.json()["id"]
    return queue_id


async def read(client: httpx.AsyncClient, tenant: Tenant, connection_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/connections/{connection_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def defaults_of(client: httpx.AsyncClient, tenant: Tenant) -> list[int]:
    response = await client.get("/api/connections", params={"limit": 200}, headers=tenant.headers)
    return [c["id"] for c in response.json()["items"] if c["is_default"]]


def fields_of(response: httpx.Response, status: int = 422) -> dict[str, str]:
    assert response.status_code == status, response.text
    fields: dict[str, str] = response.json()["error"].get("fields", {})
    return fields


async def audit_entries(
    client: httpx.AsyncClient, tenant: Tenant, object_id: int
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/audit-log",
        params={"object_type": "connection", "object_id": str(object_id)},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_create_and_read(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue_id = await make_queue(client, tenant)
    body = {
        "name": " Main number ",
        "channel": "whatsapp",
        "greeting": "Hi {{first_name}}",
        "farewell": "Bye",
        "out_of_hours_message": "Closed",
        "groups_enabled": True,
        "queue_ids": [queue_id, queue_id],
        "is_active": False,
    }
    response = await client.post("/api/connections", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Main number"
    assert created["channel"] == "whatsapp"
    assert created["status"] == "disconnected"
    assert created["phone_number"] is None
    assert created["queue_ids"] == [queue_id]
    assert created["groups_enabled"] is True
    assert created["is_active"] is False
    assert created["is_default"] is True  # the company's first connection
    assert await read(client, tenant, created["id"]) == created
    queue = await client.get(f"/api/queues/{queue_id}", headers=tenant.headers)
    assert queue.json()["connection_ids"] == [created["id"]]


async def test_defaults(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection = await make_connection(client, tenant)
    assert connection["channel"] == "sandbox"
    assert connection["is_active"] is True
    assert connection["groups_enabled"] is False
    assert connection["queue_ids"] == []


async def test_exactly_one_default(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await make_connection(client, tenant)
    second = await make_connection(client, tenant)
    assert first["is_default"] is True
    assert second["is_default"] is False
    third = await make_connection(client, tenant, is_default=True)
    assert third["is_default"] is True
    assert await defaults_of(client, tenant) == [third["id"]]
    response = await client.patch(
        f"/api/connections/{second['id']}", json={"is_default": True}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    assert await defaults_of(client, tenant) == [second["id"]]
    # Un-defaulting the default would leave the company without one.
    response = await client.patch(
        f"/api/connections/{second['id']}", json={"is_default": False}, headers=tenant.headers
    )
    assert "is_default" in fields_of(response)
    # Saying false of a connection that is not the default is fine.
    response = await client.patch(
        f"/api/connections/{first['id']}", json={"is_default": False}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert await defaults_of(client, tenant) == [second["id"]]


async def test_deleting_the_default_makes_the_oldest_default(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await make_connection(client, tenant)
    second = await make_connection(client, tenant)
    third = await make_connection(client, tenant, is_default=True)
    # Deleting one that is not the default changes nothing.
    response = await client.delete(f"/api/connections/{second['id']}", headers=tenant.headers)
    assert response.status_code == 204
    assert await defaults_of(client, tenant) == [third["id"]]
    fourth = await make_connection(client, tenant)
    response = await client.delete(f"/api/connections/{third['id']}", headers=tenant.headers)
    assert response.status_code == 204
    assert await defaults_of(client, tenant) == [first["id"]]
    response = await client.delete(f"/api/connections/{first['id']}", headers=tenant.headers)
    assert response.status_code == 204
    assert await defaults_of(client, tenant) == [fourth["id"]]
    response = await client.delete(f"/api/connections/{fourth['id']}", headers=tenant.headers)
    assert response.status_code == 204
    assert await defaults_of(client, tenant) == []
    # With none left, the next one is the first again.
    assert (await make_connection(client, tenant))["is_default"] is True


async def test_the_channel_is_fixed_at_creation(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection = await make_connection(client, tenant, channel="sandbox")
    url = f"/api/connections/{connection['id']}"
    response = await client.patch(url, json={"channel": "whatsapp"}, headers=tenant.headers)
    assert "channel" in fields_of(response)
    assert (await read(client, tenant, connection["id"]))["channel"] == "sandbox"
    response = await client.patch(
        url, json={"channel": "sandbox", "greeting": "hey"}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert response.json()["greeting"] == "hey"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "connected"}, "status"),
        ({"phone_number": "+5511999999999"}, "phone_number"),
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"channel": "telegram"}, "channel"),
        ({"greeting": "g" * 4001}, "greeting"),
        ({"farewell": "a\x00b"}, "farewell"),
        ({"queue_ids": [0]}, "queue_ids.0"),
        ({"queue_ids": [2**40]}, "queue_ids.0"),
        ({"queue_ids": "1"}, "queue_ids"),
        ({"is_active": "maybe"}, "is_active"),
    ],
)
async def test_invalid_fields_are_422(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    create = await client.post(
        "/api/connections", json={"name": unique("c"), **body}, headers=tenant.headers
    )
    assert field in fields_of(create), create.text
    connection = await make_connection(client, tenant)
    update = await client.patch(
        f"/api/connections/{connection['id']}", json=body, headers=tenant.headers
    )
    assert field in fields_of(update), update.text
    assert await read(client, tenant, connection["id"]) == connection


async def test_read_only_fields_are_shown(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection = await make_connection(client, tenant, channel="whatsapp")
    # Stopped first: a running channel reports its own state meanwhile, whenever it gets to.
    stopped = await client.post(f"/api/connections/{connection['id']}/stop", headers=tenant.headers)
    assert stopped.status_code in (200, 202), stopped.text
    await Connection.filter(id=connection["id"]).update(
        status=ConnectionStatus.connected, phone_number="+5511988887777"
    )
    shown = await read(client, tenant, connection["id"])
    assert shown["status"] == "connected"
    assert shown["phone_number"] == "+5511988887777"


async def test_null_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    connection = await make_connection(client, tenant)
    response = await client.patch(
        f"/api/connections/{connection['id']}",
        json={"name": None, "queue_ids": None},
        headers=tenant.headers,
    )
    assert fields_of(response) == {"name": "may not be null", "queue_ids": "may not be null"}


async def test_queues_must_be_the_companys(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    own = await make_queue(client, tenant)
    foreign = await make_queue(client, other_tenant)
    response = await client.post(
        "/api/connections",
        json={"name": unique("c"), "queue_ids": [own, foreign]},
        headers=tenant.headers,
    )
    assert fields_of(response) == {"queue_ids": f"unknown id(s): {foreign}"}
    connection = await make_connection(client, tenant, queue_ids=[own])
    url = f"/api/connections/{connection['id']}"
    response = await client.patch(url, json={"queue_ids": [foreign]}, headers=tenant.headers)
    assert fields_of(response) == {"queue_ids": f"unknown id(s): {foreign}"}
    assert (await read(client, tenant, connection["id"]))["queue_ids"] == [own]
    foreign_queue = await client.get(f"/api/queues/{foreign}", headers=other_tenant.headers)
    assert foreign_queue.json()["connection_ids"] == []


async def test_queue_ids_are_replaced(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first, second, third = [await make_queue(client, tenant) for _ in range(3)]
    connection = await make_connection(client, tenant, queue_ids=[first, second])
    url = f"/api/connections/{connection['id']}"
    response = await client.patch(url, json={"queue_ids": [third, second]}, headers=tenant.headers)
    assert response.json()["queue_ids"] == sorted([second, third])
    response = await client.patch(url, json={"queue_ids": []}, headers=tenant.headers)
    assert response.json()["queue_ids"] == []
    response = await client.patch(url, json={"greeting": "x"}, headers=tenant.headers)
    assert response.json()["queue_ids"] == []


async def test_names_are_unique_per_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    name = unique("Sales")
    first = await make_connection(client, tenant, name=name)
    for candidate in (name, name.lower()):
        response = await client.post(
            "/api/connections", json={"name": candidate}, headers=tenant.headers
        )
        assert fields_of(response, 409) == {"name": "already in use"}
    await make_connection(client, other_tenant, name=name)
    second = await make_connection(client, tenant)
    response = await client.patch(
        f"/api/connections/{second['id']}", json={"name": name}, headers=tenant.headers
    )
    assert fields_of(response, 409) == {"name": "already in use"}
    response = await client.patch(
        f"/api/connections/{first['id']}", json={"name": name}, headers=tenant.headers
    )
    assert response.status_code == 200


async def test_list_pages_and_searches(client: httpx.AsyncClient, tenant: Tenant) -> None:
    made = [await make_connection(client, tenant, name=unique("line")) for _ in range(5)]
    response = await client.get("/api/connections", params={"limit": 2}, headers=tenant.headers)
    page = response.json()
    assert [c["id"] for c in page["items"]] == [made[0]["id"], made[1]["id"]]
    seen = [c["id"] for c in page["items"]]
    while page["next_cursor"]:
        response = await client.get(
            "/api/connections",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=tenant.headers,
        )
        page = response.json()
        seen += [c["id"] for c in page["items"]]
    assert seen == [c["id"] for c in made]
    response = await client.get(
        "/api/connections", params={"q": made[3]["name"].upper()}, headers=tenant.headers
    )
    assert [c["id"] for c in response.json()["items"]] == [made[3]["id"]]


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_everyone_reads_only_admins_write(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    connection = await make_connection(client, tenant)
    member = await tenant.member(role)
    listed = await client.get("/api/connections", headers=member.headers)
    assert [c["id"] for c in listed.json()["items"]] == [connection["id"]]
    assert (
        await client.get(f"/api/connections/{connection['id']}", headers=member.headers)
    ).json() == connection
    create = await client.post(
        "/api/connections", json={"name": unique("c")}, headers=member.headers
    )
    assert create.status_code == 403
    url = f"/api/connections/{connection['id']}"
    assert (await client.patch(url, json={"name": "x"}, headers=member.headers)).status_code == 403
    assert (await client.delete(url, headers=member.headers)).status_code == 403
    assert await read(client, tenant, connection["id"]) == connection
    assert (await client.get("/api/connections")).status_code == 401


async def test_another_company_cannot_reach_a_connection(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    connection = await make_connection(client, tenant, greeting="mine")
    theirs = await make_connection(client, other_tenant)
    url = f"/api/connections/{connection['id']}"
    assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
    for body in ({"greeting": "stolen"}, {"is_default": True}, {"channel": "whatsapp"}, {"x": 1}):
        response = await client.patch(url, json=body, headers=other_tenant.headers)
        assert response.status_code == 404, response.text
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
    assert await read(client, tenant, connection["id"]) == connection
    listed = await client.get(
        "/api/connections", params={"limit": 200}, headers=other_tenant.headers
    )
    assert [c["id"] for c in listed.json()["items"]] == [theirs["id"]]
    # Making a connection default never touches another company's default.
    await make_connection(client, other_tenant, is_default=True)
    assert await defaults_of(client, tenant) == [connection["id"]]
    huge = await client.get(f"/api/connections/{2**63}", headers=tenant.headers)
    assert huge.status_code == 404


async def test_every_change_is_audited(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue_id = await make_queue(client, tenant)
    first = await make_connection(client, tenant, greeting="hello")
    url = f"/api/connections/{first['id']}"
    await client.patch(
        url, json={"greeting": "hi", "queue_ids": [queue_id]}, headers=tenant.headers
    )
    second = await make_connection(client, tenant, is_default=True)
    await client.delete(f"/api/connections/{second['id']}", headers=tenant.headers)
    entries = await audit_entries(client, tenant, first["id"])
    assert [e["action"] for e in entries] == ["update", "update", "update", "create"]
    assert all(e["user_id"] == tenant.admin.user.id for e in entries)
    promoted, unset, edit, create = entries
    assert create["before"] is None
    assert create["after"]["is_default"] is True
    assert edit["before"]["greeting"] == "hello"
    assert edit["after"]["greeting"] == "hi"
    assert edit["before"]["queue_ids"] == []
    assert edit["after"]["queue_ids"] == [queue_id]
    assert (unset["before"]["is_default"], unset["after"]["is_default"]) == (True, False)
    assert (promoted["before"]["is_default"], promoted["after"]["is_default"]) == (False, True)
    second_entries = await audit_entries(client, tenant, second["id"])
    assert [e["action"] for e in second_entries] == ["delete", "create"]
    assert second_entries[0]["before"]["name"] == second["name"]
    assert second_entries[0]["after"] is None


async def test_the_plan_limits_connections(client: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await Plan.create(name=unique("plan"), max_connections=1)
    tenant.company.plan = plan
    await tenant.company.save()
    await make_connection(client, tenant)
    response = await client.post(
        "/api/connections", json={"name": unique("c")}, headers=tenant.headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "plan_limit"


async def test_concurrent_creates_leave_exactly_one_default(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    responses = await asyncio.gather(
        *[
            client.post("/api/connections", json={"name": unique("c")}, headers=tenant.headers)
            for _ in range(6)
        ]
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert len(await defaults_of(client, tenant)) == 1


async def test_a_connection_with_conversations_is_not_deleted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    from service.contacts.models import Contact
    from service.tickets.models import Ticket

    created = await client.post(
        "/api/connections",
        json={"name": unique("kept"), "channel": "sandbox"},
        headers=tenant.headers,
    )
    connection_id = created.json()["id"]
    contact = await Contact.create(company=tenant.company, number="+5511912345678", name="C")
    await Ticket.create(company=tenant.company, contact=contact, connection_id=connection_id)
    response = await client.delete(f"/api/connections/{connection_id}", headers=tenant.headers)
    assert response.status_code == 409
    assert "deactivate" in response.json()["error"]["message"]
    assert await Ticket.filter(connection_id=connection_id).count() == 1
    kept = await client.get(f"/api/connections/{connection_id}", headers=tenant.headers)
    assert kept.status_code == 200


async def test_greeting_and_farewell_may_use_only_known_variables(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    refused = await client.post(
        "/api/connections",
        json={"name": unique("conn"), "greeting": "Olá {{cliente}}"},
        headers=tenant.headers,
    )
    assert refused.status_code == 422, refused.text
    assert list(refused.json()["error"]["fields"]) == ["greeting"]
    connection = await make_connection(client, tenant, greeting="Olá {{first_name}}")
    changed = await client.patch(
        f"/api/connections/{connection['id']}",
        json={"farewell": "Até logo, {{agente}}"},
        headers=tenant.headers,
    )
    assert changed.status_code == 422, changed.text
    assert list(changed.json()["error"]["fields"]) == ["farewell"]
    assert (await read(client, tenant, connection["id"]))["farewell"] == ""
