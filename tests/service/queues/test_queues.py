"""/api/queues: CRUD, the menu options tree, business hours, roles, tenancy and audit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from service.companies.models import Plan
from service.queues.models import Queue
from service.users.models import Role
from tests.factories import Tenant, unique


async def make_queue(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("queue"), **fields}
    response = await client.post("/api/queues", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def fields_of(response: httpx.Response, status: int = 422) -> dict[str, str]:
    assert response.status_code == status, response.text
    fields: dict[str, str] = response.json()["error"].get("fields", {})
    return fields


async def audit_entries(
    client: httpx.AsyncClient, tenant: Tenant, object_id: int, object_type: str = "queue"
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/audit-log",
        params={"object_type": object_type, "object_id": str(object_id)},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


HOURS = {
    "timezone": "America/Sao_Paulo",
    "days": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "fri": [["08:00", "17:00"]]},
    "holidays": ["12-25", "2025-01-01"],
}


async def test_create_and_read_a_queue(client: httpx.AsyncClient, tenant: Tenant) -> None:
    target = await make_queue(client, tenant)
    body = {
        "name": "  Sales  ",
        "color": "#AABBCC",
        "greeting": "Welcome to sales",
        "position": 3,
        "options": [
            {"key": "1", "title": "Talk to finance", "action": "queue", "queue_id": target["id"]},
            {
                "key": "2",
                "title": "More",
                "message": "Choose one",
                "action": "submenu",
                "children": [
                    {"key": "1", "title": "A person", "action": "human"},
                    {"key": "2", "title": "Bye", "action": "end"},
                ],
            },
        ],
        "business_hours": HOURS,
        "out_of_hours_message": "We are closed",
        "keywords": ["buy", "price", "Buy"],
    }
    response = await client.post("/api/queues", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Sales"
    assert created["color"] == "#aabbcc"
    assert created["position"] == 3
    assert created["keywords"] == ["buy", "price"]
    assert created["options"][0] == {
        "key": "1",
        "title": "Talk to finance",
        "message": "",
        "action": "queue",
        "queue_id": target["id"],
        "children": [],
    }
    assert created["options"][1]["children"][0]["action"] == "human"
    assert created["business_hours"]["days"]["mon"] == HOURS["days"]["mon"]  # type: ignore[index]
    assert created["business_hours"]["days"]["sun"] == []
    assert created["user_ids"] == []
    assert created["connection_ids"] == []
    read = await client.get(f"/api/queues/{created['id']}", headers=tenant.headers)
    assert read.status_code == 200
    assert read.json() == created


async def test_defaults(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(client, tenant)
    assert queue["color"] == "#5b8def"
    assert queue["options"] == []
    assert queue["business_hours"] is None
    assert queue["keywords"] == []
    assert queue["greeting"] == queue["out_of_hours_message"] == ""


async def test_list_is_in_menu_order_and_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    made = [
        await make_queue(client, tenant, position=position) for position in (2, 1, 2, 0, 1, 3, 0)
    ]
    expected = [q["id"] for q in sorted(made, key=lambda q: (q["position"], q["id"]))]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/api/queues", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 3
        seen += [q["id"] for q in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3


async def test_list_searches_by_name(client: httpx.AsyncClient, tenant: Tenant) -> None:
    wanted = await make_queue(client, tenant, name=unique("Billing"))
    await make_queue(client, tenant, name=unique("Support"))
    response = await client.get("/api/queues", params={"q": "billing"}, headers=tenant.headers)
    assert [q["id"] for q in response.json()["items"]] == [wanted["id"]]


async def test_a_bad_cursor_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for cursor in ("garbage", "aWQ6MQ", "cXVldWU6OTk5OTk5OTk5OTk5OTk5OTk5OjE"):
        response = await client.get(
            "/api/queues", params={"cursor": cursor}, headers=tenant.headers
        )
        assert "cursor" in fields_of(response)


async def test_update_changes_only_what_is_sent(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(client, tenant, greeting="hello", business_hours=HOURS)
    response = await client.patch(
        f"/api/queues/{queue['id']}",
        json={"color": "#000000", "keywords": ["x"]},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["color"] == "#000000"
    assert updated["keywords"] == ["x"]
    assert updated["greeting"] == "hello"
    assert updated["business_hours"] == queue["business_hours"]
    # An explicit null removes the business hours (always open).
    response = await client.patch(
        f"/api/queues/{queue['id']}", json={"business_hours": None}, headers=tenant.headers
    )
    assert response.json()["business_hours"] is None


async def test_null_is_refused_where_it_means_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    queue = await make_queue(client, tenant)
    response = await client.patch(
        f"/api/queues/{queue['id']}", json={"name": None, "options": None}, headers=tenant.headers
    )
    assert fields_of(response) == {"name": "may not be null", "options": "may not be null"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"color": "red"}, "color"),
        ({"color": "#12345"}, "color"),
        ({"position": -1}, "position"),
        ({"position": 2**40}, "position"),
        ({"keywords": ["k"] * 51}, "keywords"),
        ({"keywords": [""]}, "keywords.0"),
        ({"keywords": ["k" * 61]}, "keywords.0"),
        ({"greeting": "g" * 4001}, "greeting"),
        ({"status": "open"}, "status"),
        ({"business_hours": {"timezone": "Nowhere/City"}}, "business_hours.timezone"),
        (
            {"business_hours": {"timezone": "UTC", "days": {"mon": [["10:00", "09:00"]]}}},
            "business_hours.days.mon.0",
        ),
        (
            {"business_hours": {"timezone": "UTC", "holidays": ["31-12"]}},
            "business_hours.holidays.0",
        ),
        ({"options": [{"key": "1", "title": "t", "action": "queue"}]}, "options.0.queue_id"),
        (
            {
                "options": [
                    {"key": "1", "title": "t", "action": "end"},
                    {
                        "key": "2",
                        "title": "t",
                        "action": "submenu",
                        "children": [{"key": "#", "title": "t", "action": "end"}],
                    },
                ]
            },
            "options.1.children.0.key",
        ),
        (
            {"options": [{"key": str(i), "title": "t", "action": "end"} for i in range(1, 52)]},
            "options",
        ),
    ],
)
async def test_invalid_fields_are_422_naming_the_path(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    create = await client.post(
        "/api/queues", json={"name": unique("q"), **body}, headers=tenant.headers
    )
    assert field in fields_of(create), create.text
    queue = await make_queue(client, tenant)
    update = await client.patch(f"/api/queues/{queue['id']}", json=body, headers=tenant.headers)
    assert field in fields_of(update), update.text


async def test_duplicate_keys_and_depth_are_checked_over_the_whole_tree(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    end = {"title": "t", "action": "end"}
    duplicate = [
        {"key": "a", **end},
        {"key": "b", "title": "t", "action": "submenu", "children": [{"key": "x", **end}]},
        {"key": "A", **end},
    ]
    response = await client.post(
        "/api/queues", json={"name": unique("q"), "options": duplicate}, headers=tenant.headers
    )
    assert list(fields_of(response)) == ["options.2.key"]
    node: dict[str, Any] = {"key": "1", **end}
    for _ in range(5):
        node = {"key": "1", "title": "t", "action": "submenu", "children": [node]}
    response = await client.post(
        "/api/queues", json={"name": unique("q"), "options": [node]}, headers=tenant.headers
    )
    assert list(fields_of(response)) == ["options.0" + ".children.0" * 4 + ".children"]


async def test_forwards_must_name_another_queue_of_the_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    own = await make_queue(client, tenant)
    foreign = await make_queue(client, other_tenant)

    def menu(queue_id: int) -> list[dict[str, Any]]:
        return [
            {"key": "1", "title": "ok", "action": "queue", "queue_id": own["id"]},
            {
                "key": "2",
                "title": "sub",
                "action": "submenu",
                "children": [{"key": "1", "title": "t", "action": "queue", "queue_id": queue_id}],
            },
        ]

    for bad in (foreign["id"], 2**31 - 1):
        response = await client.post(
            "/api/queues", json={"name": unique("q"), "options": menu(bad)}, headers=tenant.headers
        )
        assert fields_of(response) == {"options.1.children.0.queue_id": f"unknown queue {bad}"}
    # A forward to the queue itself is a cycle.
    response = await client.patch(
        f"/api/queues/{own['id']}", json={"options": menu(own["id"])}, headers=tenant.headers
    )
    assert fields_of(response) == {
        "options.0.queue_id": "a queue cannot forward to itself",
        "options.1.children.0.queue_id": "a queue cannot forward to itself",
    }
    created = await make_queue(client, tenant, options=menu(own["id"]))
    assert created["options"][1]["children"][0]["queue_id"] == own["id"]
    # The other company's queue is untouched by all of this.
    read = await client.get(f"/api/queues/{foreign['id']}", headers=other_tenant.headers)
    assert read.json() == foreign


async def test_names_are_unique_per_company(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    name = unique("Support")
    first = await make_queue(client, tenant, name=name)
    response = await client.post("/api/queues", json={"name": name}, headers=tenant.headers)
    assert fields_of(response, 409) == {"name": "already in use"}
    response = await client.post("/api/queues", json={"name": name.upper()}, headers=tenant.headers)
    assert response.status_code == 409
    # Another company may use the same name.
    await make_queue(client, other_tenant, name=name)
    second = await make_queue(client, tenant)
    response = await client.patch(
        f"/api/queues/{second['id']}", json={"name": name}, headers=tenant.headers
    )
    assert fields_of(response, 409) == {"name": "already in use"}
    # Renaming a queue to its own name is not a conflict.
    response = await client.patch(
        f"/api/queues/{first['id']}", json={"name": name}, headers=tenant.headers
    )
    assert response.status_code == 200


async def test_delete(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(client, tenant)
    response = await client.delete(f"/api/queues/{queue['id']}", headers=tenant.headers)
    assert response.status_code == 204
    assert (
        await client.get(f"/api/queues/{queue['id']}", headers=tenant.headers)
    ).status_code == 404
    response = await client.delete(f"/api/queues/{queue['id']}", headers=tenant.headers)
    assert response.status_code == 404


async def test_a_queue_that_menus_forward_to_cannot_be_deleted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    target = await make_queue(client, tenant)
    forward = {"key": "1", "title": "go", "action": "queue", "queue_id": target["id"]}
    nested = {"key": "9", "title": "sub", "action": "submenu", "children": [forward]}
    first = await make_queue(client, tenant, name=unique("Front"), options=[forward])
    second = await make_queue(client, tenant, name=unique("Desk"), options=[nested])
    response = await client.delete(f"/api/queues/{target['id']}", headers=tenant.headers)
    assert response.status_code == 409, response.text
    message = response.json()["error"]["message"]
    assert first["name"] in message
    assert second["name"] in message
    assert (
        await client.get(f"/api/queues/{target['id']}", headers=tenant.headers)
    ).status_code == 200
    for queue in (first, second):
        response = await client.patch(
            f"/api/queues/{queue['id']}", json={"options": []}, headers=tenant.headers
        )
        assert response.status_code == 200
    response = await client.delete(f"/api/queues/{target['id']}", headers=tenant.headers)
    assert response.status_code == 204


async def test_users_and_connections_of_a_queue(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(client, tenant)
    other = await make_queue(client, tenant)
    agent = await tenant.member(Role.agent)
    await agent.user.queues.add(await Queue.get(id=queue["id"]))
    response = await client.post(
        "/api/connections",
        json={"name": unique("conn"), "queue_ids": [queue["id"], other["id"]]},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    connection_id = response.json()["id"]
    listed = await client.get("/api/queues", headers=tenant.headers)
    by_id = {q["id"]: q for q in listed.json()["items"]}
    assert by_id[queue["id"]]["user_ids"] == [agent.user.id]
    assert by_id[queue["id"]]["connection_ids"] == [connection_id]
    assert by_id[other["id"]]["user_ids"] == []
    assert by_id[other["id"]]["connection_ids"] == [connection_id]
    # Deleting the queue detaches it from its users and connections.
    assert (
        await client.delete(f"/api/queues/{queue['id']}", headers=tenant.headers)
    ).status_code == 204
    connection = await client.get(f"/api/connections/{connection_id}", headers=tenant.headers)
    assert connection.json()["queue_ids"] == [other["id"]]


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
async def test_everyone_reads_only_admins_write(
    client: httpx.AsyncClient, tenant: Tenant, role: Role
) -> None:
    queue = await make_queue(client, tenant)
    member = await tenant.member(role)
    listed = await client.get("/api/queues", headers=member.headers)
    assert [q["id"] for q in listed.json()["items"]] == [queue["id"]]
    read = await client.get(f"/api/queues/{queue['id']}", headers=member.headers)
    assert read.status_code == 200
    create = await client.post("/api/queues", json={"name": unique("q")}, headers=member.headers)
    assert create.status_code == 403
    update = await client.patch(
        f"/api/queues/{queue['id']}", json={"name": "mine"}, headers=member.headers
    )
    assert update.status_code == 403
    delete = await client.delete(f"/api/queues/{queue['id']}", headers=member.headers)
    assert delete.status_code == 403
    assert (await client.get(f"/api/queues/{queue['id']}", headers=tenant.headers)).json() == queue
    assert (await client.get("/api/queues")).status_code == 401


async def test_an_api_token_acts_as_admin(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/api/api-tokens", json={"name": "ci"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    created = await client.post("/api/queues", json={"name": unique("q")}, headers=headers)
    assert created.status_code == 201, created.text
    entries = await audit_entries(client, tenant, created.json()["id"])
    assert [(e["action"], e["user_id"]) for e in entries] == [("create", None)]


async def test_another_company_cannot_reach_a_queue(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    queue = await make_queue(client, tenant, greeting="mine")
    mine = await make_queue(client, other_tenant)
    url = f"/api/queues/{queue['id']}"
    assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
    for body in ({"greeting": "stolen"}, {"name": ""}, {"bogus": 1}):
        response = await client.patch(url, json=body, headers=other_tenant.headers)
        assert response.status_code == 404, response.text
    assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
    assert (await client.get(url, headers=tenant.headers)).json() == queue
    listed = await client.get("/api/queues", params={"limit": 200}, headers=other_tenant.headers)
    assert [q["id"] for q in listed.json()["items"]] == [mine["id"]]
    # Ids beyond the column's range are just as missing.
    huge = await client.get(f"/api/queues/{2**63}", headers=tenant.headers)
    assert huge.status_code == 404


async def test_every_change_is_audited(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(client, tenant, greeting="hello")
    await client.patch(
        f"/api/queues/{queue['id']}", json={"greeting": "hi there"}, headers=tenant.headers
    )
    # A PATCH that changes nothing writes no entry.
    await client.patch(
        f"/api/queues/{queue['id']}", json={"greeting": "hi there"}, headers=tenant.headers
    )
    await client.delete(f"/api/queues/{queue['id']}", headers=tenant.headers)
    entries = await audit_entries(client, tenant, queue["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    delete, update, create = entries
    assert all(e["user_id"] == tenant.admin.user.id for e in entries)
    assert create["before"] is None
    assert create["after"]["name"] == queue["name"]
    assert update["before"]["greeting"] == "hello"
    assert update["after"]["greeting"] == "hi there"
    assert delete["before"]["greeting"] == "hi there"
    assert delete["after"] is None


async def test_the_plan_limits_queues(client: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await Plan.create(name=unique("plan"), max_queues=2)
    tenant.company.plan = plan
    await tenant.company.save()
    await make_queue(client, tenant)
    await make_queue(client, tenant)
    response = await client.post("/api/queues", json={"name": unique("q")}, headers=tenant.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "plan_limit"


async def test_concurrent_creates_of_one_name_give_one_queue(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    name = unique("Rush")
    responses = await asyncio.gather(
        *[client.post("/api/queues", json={"name": name}, headers=tenant.headers) for _ in range(5)]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


async def test_what_the_bot_says_may_use_only_known_variables(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    menu = [
        {"key": "{{k}}", "title": "Boletos", "action": "human", "message": "Oi {{primeiro_nome}}"}
    ]
    refused = await client.post(
        "/api/queues", json={"name": unique("q"), "options": menu}, headers=tenant.headers
    )
    fields = fields_of(refused)
    assert list(fields) == ["options.0.message"]  # a key is matched, not said
    assert fields["options.0.message"].startswith("Variável desconhecida: {{primeiro_nome}}")
    assert not await Queue.filter(company_id=tenant.company.id).exists()
    queue = await make_queue(client, tenant, greeting="Olá, {{first_name}}! {{protocol}}")
    changed = await client.patch(
        f"/api/queues/{queue['id']}",
        json={"out_of_hours_message": "Fechado, {{nome}}."},
        headers=tenant.headers,
    )
    assert list(fields_of(changed)) == ["out_of_hours_message"]
