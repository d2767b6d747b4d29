"""/api/users: CRUD, search, roles, tenant isolation, plan limits, the last admin, sessions, /me."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from tortoise.transactions import in_transaction

from service.companies.models import Plan
from service.queues.models import Queue
from service.tenancy import lock_company
from service.users.models import Role, User
from tests.factories import PASSWORD, Member, Tenant, log_in, unique, unique_email

NEW_PASSWORD = "another long password"


def user_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": unique("Maria"),
        "email": unique_email("maria"),
        "password": NEW_PASSWORD,
        "role": "agent",
    }
    body.update(overrides)
    return body


async def make_queue(tenant: Tenant) -> Queue:
    return await Queue.create(company=tenant.company, name=unique("queue"))


async def create_user(client: httpx.AsyncClient, tenant: Tenant, **overrides: Any) -> Any:
    response = await client.post("/api/users", json=user_body(**overrides), headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def audit_entries(
    client: httpx.AsyncClient, tenant: Tenant, object_id: int
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/audit-log",
        params={"object_type": "user", "object_id": str(object_id)},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def refresh_status(client: httpx.AsyncClient, member: Member) -> int:
    response = await client.post("/api/auth/refresh", json={"refresh_token": member.refresh_token})
    return response.status_code


# --- happy paths ---------------------------------------------------------------------------


async def test_create_get_update_delete_user(client: httpx.AsyncClient, tenant: Tenant) -> None:
    queue = await make_queue(tenant)
    body = user_body(role="supervisor", queue_ids=[queue.id], language="en")
    body["email"] = body["email"].upper()
    created = await client.post("/api/users", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == body["email"].lower()
    assert user["role"] == "supervisor"
    assert user["queue_ids"] == [queue.id]
    assert user["language"] == "en"
    assert user["is_super"] is False
    assert user["is_active"] is True
    assert "password" not in user
    assert "password_hash" not in user

    login = await log_in(client, user["email"], NEW_PASSWORD)
    assert login.status_code == 200

    got = await client.get(f"/api/users/{user['id']}", headers=tenant.headers)
    assert got.status_code == 200
    assert got.json() == user

    patched = await client.patch(
        f"/api/users/{user['id']}",
        json={"name": "Maria Souza", "queue_ids": [], "language": "es"},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Maria Souza"
    assert patched.json()["queue_ids"] == []
    assert patched.json()["language"] == "es"

    deleted = await client.delete(f"/api/users/{user['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/users/{user['id']}", headers=tenant.headers)).status_code == 404
    assert not await User.exists(id=user["id"])


async def test_list_searches_filters_and_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    marker = unique("zebra")
    first = await create_user(client, tenant, name=f"{marker} one", role="agent")
    second = await create_user(client, tenant, email=f"{marker}@example.com", role="supervisor")
    await create_user(client, tenant, name=f"{marker}x", role="agent")

    found = await client.get("/api/users", params={"q": marker}, headers=tenant.headers)
    assert found.status_code == 200
    assert len(found.json()["items"]) == 3

    agents = await client.get(
        "/api/users", params={"q": marker, "role": "agent"}, headers=tenant.headers
    )
    ids = [u["id"] for u in agents.json()["items"]]
    assert first["id"] in ids
    assert second["id"] not in ids
    assert all(u["role"] == "agent" for u in agents.json()["items"])

    by_email = await client.get("/api/users", params={"q": marker.upper()}, headers=tenant.headers)
    assert second["id"] in [u["id"] for u in by_email.json()["items"]]

    page = await client.get("/api/users", params={"q": marker, "limit": 2}, headers=tenant.headers)
    assert len(page.json()["items"]) == 2
    cursor = page.json()["next_cursor"]
    assert cursor
    rest = await client.get(
        "/api/users", params={"q": marker, "limit": 2, "cursor": cursor}, headers=tenant.headers
    )
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    seen = {u["id"] for u in page.json()["items"]} | {u["id"] for u in rest.json()["items"]}
    assert len(seen) == 3

    bad_role = await client.get("/api/users", params={"role": "owner"}, headers=tenant.headers)
    assert bad_role.status_code == 422
    assert "role" in bad_role.json()["error"]["fields"]


# --- validation and conflicts --------------------------------------------------------------


async def test_invalid_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    cases = [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"role": "owner"}, "role"),
        ({"language": "fr"}, "language"),
        ({"name": ""}, "name"),
        ({"queue_ids": [0]}, "queue_ids.0"),
        ({"queue_ids": [2**40]}, "queue_ids.0"),
        ({"is_admin": True}, "is_admin"),
    ]
    for overrides, field in cases:
        response = await client.post(
            "/api/users", json=user_body(**overrides), headers=tenant.headers
        )
        assert response.status_code == 422, (overrides, response.text)
        assert field in response.json()["error"]["fields"], (overrides, response.text)
    missing = await client.post("/api/users", json={"name": "x"}, headers=tenant.headers)
    assert missing.status_code == 422
    assert {"email", "password"} <= set(missing.json()["error"]["fields"])
    not_json = await client.post("/api/users", content=b"{", headers=tenant.headers)
    assert not_json.status_code == 400


async def test_queue_ids_must_be_the_companys_queues(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = await make_queue(other_tenant)
    response = await client.post(
        "/api/users", json=user_body(queue_ids=[foreign.id]), headers=tenant.headers
    )
    assert response.status_code == 422
    assert "queue_ids" in response.json()["error"]["fields"]

    user = await create_user(client, tenant)
    patched = await client.patch(
        f"/api/users/{user['id']}", json={"queue_ids": [foreign.id]}, headers=tenant.headers
    )
    assert patched.status_code == 422
    assert "queue_ids" in patched.json()["error"]["fields"]


async def test_email_is_unique_across_the_installation(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    taken = other_tenant.admin.email
    response = await client.post(
        "/api/users", json=user_body(email=taken.upper()), headers=tenant.headers
    )
    assert response.status_code == 409
    assert "email" in response.json()["error"]["fields"]

    user = await create_user(client, tenant)
    patched = await client.patch(
        f"/api/users/{user['id']}", json={"email": taken}, headers=tenant.headers
    )
    assert patched.status_code == 409
    same = await client.patch(
        f"/api/users/{user['id']}", json={"email": user["email"]}, headers=tenant.headers
    )
    assert same.status_code == 200


# --- roles and tenants ---------------------------------------------------------------------


async def test_agents_and_supervisors_read_but_do_not_write(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    target = await create_user(client, tenant)
    for role in (Role.agent, Role.supervisor):
        member = await tenant.member(role, is_super=False)
        listed = await client.get("/api/users", headers=member.headers)
        assert listed.status_code == 200
        assert target["id"] in [u["id"] for u in listed.json()["items"]]
        got = await client.get(f"/api/users/{target['id']}", headers=member.headers)
        assert got.status_code == 200

        created = await client.post("/api/users", json=user_body(), headers=member.headers)
        assert created.status_code == 403
        patched = await client.patch(
            f"/api/users/{target['id']}", json={"role": "admin"}, headers=member.headers
        )
        assert patched.status_code == 403
        self_promote = await client.patch(
            f"/api/users/{member.user.id}", json={"role": "admin"}, headers=member.headers
        )
        assert self_promote.status_code == 403
        deleted = await client.delete(f"/api/users/{target['id']}", headers=member.headers)
        assert deleted.status_code == 403
    assert (await User.get(id=target["id"])).role == Role.agent
    assert (await client.get("/api/users")).status_code == 401


async def test_another_company_cannot_reach_a_user(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    target = await create_user(client, tenant)
    path = f"/api/users/{target['id']}"
    assert (await client.get(path, headers=other_tenant.headers)).status_code == 404
    patched = await client.patch(
        path, json={"name": "stolen", "role": "admin"}, headers=other_tenant.headers
    )
    assert patched.status_code == 404
    # A foreign id is a 404 whatever the body, even an invalid one.
    invalid = await client.patch(path, json={"role": "owner"}, headers=other_tenant.headers)
    assert invalid.status_code == 404
    assert (await client.delete(path, headers=other_tenant.headers)).status_code == 404

    after = await client.get(path, headers=tenant.headers)
    assert after.status_code == 200
    assert after.json() == target

    listed = await client.get("/api/users", params={"limit": 200}, headers=other_tenant.headers)
    ids = {u["id"] for u in listed.json()["items"]}
    assert target["id"] not in ids
    assert tenant.admin.user.id not in ids
    searched = await client.get(
        "/api/users", params={"q": target["email"]}, headers=other_tenant.headers
    )
    assert searched.json()["items"] == []


async def test_plan_limit_on_users(client: httpx.AsyncClient, tenant: Tenant) -> None:
    plan = await Plan.create(name=unique("plan"), max_users=2)
    tenant.company.plan = plan
    await tenant.company.save()
    await create_user(client, tenant)  # the admin plus this one: 2
    response = await client.post("/api/users", json=user_body(), headers=tenant.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "plan_limit"


async def test_the_user_limit_holds_under_concurrent_creation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A plan of 3 with 2 users: of 15 simultaneous creations exactly one succeeds."""
    plan = await Plan.create(name=unique("plan"), max_users=3)
    tenant.company.plan = plan
    await tenant.company.save()
    await create_user(client, tenant)  # the admin plus this one: 2
    responses = await asyncio.gather(
        *(client.post("/api/users", json=user_body(), headers=tenant.headers) for _ in range(15))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [403] * 14, [r.text for r in responses if r.status_code >= 500]
    assert await User.filter(company_id=tenant.company.id).count() == 3


async def test_the_plan_limit_waits_for_a_creation_in_progress(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The limit check waits while another transaction holds the company (as a concurrent
    creation does), so it counts what that one writes: the race above, made deterministic."""
    plan = await Plan.create(name=unique("plan"), max_users=2)
    tenant.company.plan = plan
    await tenant.company.save()
    async with in_transaction():
        await lock_company(tenant.company.id)
        request = asyncio.ensure_future(
            client.post("/api/users", json=user_body(), headers=tenant.headers)
        )
        await asyncio.sleep(0.3)  # the request must still be waiting for the lock
        assert not request.done()
        await User.create(
            company_id=tenant.company.id,
            name="racer",
            email=unique_email("racer"),
            password_hash="x",
            role=Role.agent,
        )
    response = await request
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "plan_limit"


# --- super-admins --------------------------------------------------------------------------


async def test_only_a_super_admin_sets_is_super(client: httpx.AsyncClient, tenant: Tenant) -> None:
    refused = await client.post("/api/users", json=user_body(is_super=True), headers=tenant.headers)
    assert refused.status_code == 403
    plain = await create_user(client, tenant, is_super=False)
    promote = await client.patch(
        f"/api/users/{plain['id']}", json={"is_super": True}, headers=tenant.headers
    )
    assert promote.status_code == 403
    assert (await User.get(id=plain["id"])).is_super is False
    self_promote = await client.patch(
        f"/api/users/{tenant.admin.user.id}", json={"is_super": True}, headers=tenant.headers
    )
    assert self_promote.status_code == 403

    boss = await tenant.member(Role.admin, is_super=True)
    made = await client.post("/api/users", json=user_body(is_super=True), headers=boss.headers)
    assert made.status_code == 201
    assert made.json()["is_super"] is True
    promoted = await client.patch(
        f"/api/users/{plain['id']}", json={"is_super": True}, headers=boss.headers
    )
    assert promoted.status_code == 200
    assert promoted.json()["is_super"] is True


async def test_a_plain_admin_cannot_touch_a_super_admin(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    path = f"/api/users/{boss.user.id}"
    for body in ({"password": NEW_PASSWORD}, {"email": unique_email()}, {"role": "agent"}):
        response = await client.patch(path, json=body, headers=tenant.headers)
        assert response.status_code == 403, body
    assert (await client.delete(path, headers=tenant.headers)).status_code == 403
    assert (await log_in(client, boss.email, PASSWORD)).status_code == 200


# --- the last admin and oneself ------------------------------------------------------------


async def test_the_company_keeps_an_active_admin(client: httpx.AsyncClient, tenant: Tenant) -> None:
    me = f"/api/users/{tenant.admin.user.id}"
    demote = await client.patch(me, json={"role": "agent"}, headers=tenant.headers)
    assert demote.status_code == 409
    assert "role" in demote.json()["error"]["fields"]
    assert (await client.delete(me, headers=tenant.headers)).status_code == 409
    deactivate = await client.patch(me, json={"is_active": False}, headers=tenant.headers)
    assert deactivate.status_code == 409

    # An API token acts as an admin of the company but is not one of its admins.
    token = await client.post("/api/api-tokens", json={"name": "ci"}, headers=tenant.headers)
    api = {"Authorization": f"Bearer {token.json()['token']}"}
    assert (await client.patch(me, json={"role": "agent"}, headers=api)).status_code == 409
    assert (await client.patch(me, json={"is_active": False}, headers=api)).status_code == 409
    assert (await client.delete(me, headers=api)).status_code == 409

    second = await create_user(client, tenant, role="admin")
    # An inactive admin does not count.
    off = await client.patch(
        f"/api/users/{second['id']}", json={"is_active": False}, headers=tenant.headers
    )
    assert off.status_code == 200
    assert (await client.patch(me, json={"role": "agent"}, headers=api)).status_code == 409
    on = await client.patch(
        f"/api/users/{second['id']}", json={"is_active": True}, headers=tenant.headers
    )
    assert on.status_code == 200
    demoted = await client.patch(me, json={"role": "supervisor"}, headers=tenant.headers)
    assert demoted.status_code == 200
    assert (await User.get(id=tenant.admin.user.id)).role == Role.supervisor
    last = await client.delete(f"/api/users/{second['id']}", headers=api)
    assert last.status_code == 409
    assert await User.exists(id=second["id"])


async def test_an_admin_may_not_delete_themselves(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await create_user(client, tenant, role="admin")
    response = await client.delete(f"/api/users/{tenant.admin.user.id}", headers=tenant.headers)
    assert response.status_code == 409
    assert await User.exists(id=tenant.admin.user.id)


# --- sessions ------------------------------------------------------------------------------


async def test_password_role_and_deactivation_end_sessions(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    renamed = await tenant.member(Role.agent, is_super=False)
    response = await client.patch(
        f"/api/users/{renamed.user.id}", json={"name": "Only a name"}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert await refresh_status(client, renamed) == 200

    for change in ({"password": NEW_PASSWORD}, {"role": "supervisor"}, {"is_active": False}):
        member = await tenant.member(Role.agent, is_super=False)
        response = await client.patch(
            f"/api/users/{member.user.id}", json=change, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        assert await refresh_status(client, member) == 401, change

    gone = await tenant.member(Role.agent, is_super=False)
    deactivated = await client.patch(
        f"/api/users/{gone.user.id}", json={"is_active": False}, headers=tenant.headers
    )
    assert deactivated.json()["is_active"] is False
    assert (await client.get("/api/users", headers=gone.headers)).status_code == 401
    assert (await log_in(client, gone.email)).status_code == 401

    changed = await tenant.member(Role.agent, is_super=False)
    await client.patch(
        f"/api/users/{changed.user.id}", json={"password": NEW_PASSWORD}, headers=tenant.headers
    )
    assert (await log_in(client, changed.email, PASSWORD)).status_code == 401
    assert (await log_in(client, changed.email, NEW_PASSWORD)).status_code == 200

    deleted = await tenant.member(Role.agent, is_super=False)
    response = await client.delete(f"/api/users/{deleted.user.id}", headers=tenant.headers)
    assert response.status_code == 204
    assert await refresh_status(client, deleted) == 401
    assert (await client.get("/api/users", headers=deleted.headers)).status_code == 401


# --- audit ---------------------------------------------------------------------------------


async def test_changes_are_audited_without_passwords(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    user = await create_user(client, tenant, name="Before")
    await client.patch(
        f"/api/users/{user['id']}",
        json={"name": "After", "password": NEW_PASSWORD},
        headers=tenant.headers,
    )
    await client.patch(
        f"/api/users/{user['id']}",
        json={"password": "yet another password"},
        headers=tenant.headers,
    )
    await client.delete(f"/api/users/{user['id']}", headers=tenant.headers)

    entries = await audit_entries(client, tenant, user["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "update", "create"]
    create, rename = entries[3], entries[2]
    assert create["after"]["name"] == "Before"
    assert create["after"]["queue_ids"] == []
    assert create["user_id"] == tenant.admin.user.id
    assert rename["before"]["name"] == "Before"
    assert rename["after"]["name"] == "After"
    assert rename["after"]["password_changed"] is True
    # A password-only change is still an entry, without the password.
    assert entries[1]["after"]["password_changed"] is True
    assert entries[0]["before"]["name"] == "After"
    for entry in entries:
        text = str(entry)
        assert "password_hash" not in text
        assert NEW_PASSWORD not in text
        assert "argon2" not in text


async def test_a_no_op_update_writes_no_audit_entry(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    user = await create_user(client, tenant)
    response = await client.patch(
        f"/api/users/{user['id']}", json={"name": user["name"]}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert [e["action"] for e in await audit_entries(client, tenant, user["id"])] == ["create"]


# --- /me -----------------------------------------------------------------------------------


async def test_anyone_changes_their_own_name_and_language(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.member(Role.agent, is_super=False)
    response = await client.patch(
        "/api/users/me", json={"name": "Agent Smith", "language": "en"}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == agent.user.id
    assert response.json()["name"] == "Agent Smith"
    assert response.json()["language"] == "en"
    assert await refresh_status(client, agent) == 200

    for forbidden in ({"role": "admin"}, {"email": unique_email()}, {"is_super": True}):
        refused = await client.patch("/api/users/me", json=forbidden, headers=agent.headers)
        assert refused.status_code == 422, forbidden
    stored = await User.get(id=agent.user.id)
    assert stored.role == Role.agent
    assert stored.is_super is False


async def test_changing_ones_own_password_needs_the_current_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.member(Role.agent, is_super=False)
    missing = await client.patch(
        "/api/users/me", json={"password": NEW_PASSWORD}, headers=agent.headers
    )
    assert missing.status_code == 422
    assert "current_password" in missing.json()["error"]["fields"]
    wrong = await client.patch(
        "/api/users/me",
        json={"password": NEW_PASSWORD, "current_password": "not my password"},
        headers=agent.headers,
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.json()["error"]["fields"]
    assert (await log_in(client, agent.email, PASSWORD)).status_code == 200

    right = await client.patch(
        "/api/users/me",
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=agent.headers,
    )
    assert right.status_code == 200
    assert (await log_in(client, agent.email, PASSWORD)).status_code == 401
    assert (await log_in(client, agent.email, NEW_PASSWORD)).status_code == 200
    assert await refresh_status(client, agent) == 401
    entries = await audit_entries(client, tenant, agent.user.id)
    assert entries[0]["after"]["password_changed"] is True
    assert NEW_PASSWORD not in str(entries)


async def test_me_needs_a_user(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.patch("/api/users/me", json={"name": "x"})).status_code == 401
    token = await client.post("/api/api-tokens", json={"name": "ci"}, headers=tenant.headers)
    api = {"Authorization": f"Bearer {token.json()['token']}"}
    response = await client.patch("/api/users/me", json={"name": "x"}, headers=api)
    assert response.status_code == 403
