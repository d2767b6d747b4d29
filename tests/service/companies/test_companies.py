"""/api/companies and /api/plans: super-admins only, a company with its first admin, plan rules."""

from __future__ import annotations

from typing import Any

import httpx

from service.companies.models import Company, Plan
from service.users.models import Role, User
from tests.factories import Member, Tenant, log_in, unique, unique_email

ADMIN_PASSWORD = "first admin password"


def company_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": unique("Acme"),
        "admin": {"name": "Ana", "email": unique_email("ana"), "password": ADMIN_PASSWORD},
    }
    body.update(overrides)
    return body


async def make_plan(client: httpx.AsyncClient, boss: Member, **fields: Any) -> Any:
    body = {"name": unique("plan"), **fields}
    response = await client.post("/api/plans", json=body, headers=boss.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def audit_entries(
    client: httpx.AsyncClient, headers: dict[str, str], object_type: str, object_id: int
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/audit-log",
        params={"object_type": object_type, "object_id": str(object_id)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- who may -------------------------------------------------------------------------------


async def test_only_super_admins_reach_companies_and_plans(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    plan = await Plan.create(name=unique("plan"))
    agent = await tenant.member(Role.agent, is_super=False)
    token = await client.post("/api/api-tokens", json={"name": "ci"}, headers=tenant.headers)
    api = {"Authorization": f"Bearer {token.json()['token']}"}
    company = other_tenant.company.id
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/companies", None),
        ("POST", "/api/companies", company_body()),
        ("GET", f"/api/companies/{company}", None),
        ("PATCH", f"/api/companies/{company}", {"name": "mine"}),
        ("DELETE", f"/api/companies/{company}", None),
        ("GET", "/api/plans", None),
        ("POST", "/api/plans", {"name": unique("plan")}),
        ("GET", f"/api/plans/{plan.id}", None),
        ("PATCH", f"/api/plans/{plan.id}", {"max_users": 1}),
        ("DELETE", f"/api/plans/{plan.id}", None),
    ]
    for headers in (tenant.headers, agent.headers, api):
        for method, path, body in requests:
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
    for method, path, body in requests:
        assert (await client.request(method, path, json=body)).status_code == 401
    assert (await Company.get(id=company)).name == other_tenant.company.name
    assert await Plan.exists(id=plan.id)


# --- plans ---------------------------------------------------------------------------------


async def test_plan_crud(client: httpx.AsyncClient, tenant: Tenant) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    plan = await make_plan(client, boss, max_users=5, max_connections=0)
    assert plan["max_users"] == 5
    assert plan["max_connections"] == 0
    assert plan["max_queues"] is None

    got = await client.get(f"/api/plans/{plan['id']}", headers=boss.headers)
    assert got.json() == plan
    listed = await client.get("/api/plans", params={"limit": 200}, headers=boss.headers)
    assert plan["id"] in [p["id"] for p in listed.json()["items"]]

    patched = await client.patch(
        f"/api/plans/{plan['id']}",
        json={"max_users": None, "max_queues": 3},
        headers=boss.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["max_users"] is None
    assert patched.json()["max_queues"] == 3
    assert patched.json()["max_connections"] == 0
    assert patched.json()["name"] == plan["name"]

    deleted = await client.delete(f"/api/plans/{plan['id']}", headers=boss.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/plans/{plan['id']}", headers=boss.headers)).status_code == 404
    assert (
        await client.delete(f"/api/plans/{plan['id']}", headers=boss.headers)
    ).status_code == 404

    entries = await audit_entries(client, boss.headers, "plan", plan["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert entries[1]["before"]["max_users"] == 5
    assert entries[1]["after"]["max_users"] is None


async def test_plan_validation_and_unique_name(client: httpx.AsyncClient, tenant: Tenant) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    for body, field in (
        ({"name": unique("p"), "max_users": -1}, "max_users"),
        ({"name": unique("p"), "max_queues": 2**40}, "max_queues"),
        ({"name": unique("p"), "max_connections": "many"}, "max_connections"),
        ({"name": ""}, "name"),
        ({"name": unique("p"), "price": 10}, "price"),
    ):
        response = await client.post("/api/plans", json=body, headers=boss.headers)
        assert response.status_code == 422, body
        assert field in response.json()["error"]["fields"], body

    first = await make_plan(client, boss)
    second = await make_plan(client, boss)
    dup = await client.post("/api/plans", json={"name": first["name"]}, headers=boss.headers)
    assert dup.status_code == 409
    renamed = await client.patch(
        f"/api/plans/{second['id']}", json={"name": first["name"]}, headers=boss.headers
    )
    assert renamed.status_code == 409
    assert (await Plan.get(id=second["id"])).name == second["name"]


async def test_a_plan_in_use_is_not_deleted(client: httpx.AsyncClient, tenant: Tenant) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    plan = await make_plan(client, boss)
    created = await client.post(
        "/api/companies", json=company_body(plan_id=plan["id"]), headers=boss.headers
    )
    assert created.status_code == 201
    response = await client.delete(f"/api/plans/{plan['id']}", headers=boss.headers)
    assert response.status_code == 409
    assert await Plan.exists(id=plan["id"])


# --- companies -----------------------------------------------------------------------------


async def test_create_company_with_its_first_admin(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    plan = await make_plan(client, boss, max_users=1)
    body = company_body(plan_id=plan["id"])
    response = await client.post("/api/companies", json=body, headers=boss.headers)
    assert response.status_code == 201, response.text
    company = response.json()
    assert company["name"] == body["name"]
    assert company["plan_id"] == plan["id"]
    assert company["is_active"] is True
    assert company["admin"]["email"] == body["admin"]["email"]
    assert company["admin"]["role"] == "admin"
    assert company["admin"]["is_super"] is False
    assert "password" not in str(company)

    login = await log_in(client, body["admin"]["email"], ADMIN_PASSWORD)
    assert login.status_code == 200
    new_admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    users = await client.get("/api/users", headers=new_admin)
    assert [u["id"] for u in users.json()["items"]] == [company["admin"]["id"]]
    # The plan allows one user, the admin.
    more = await client.post(
        "/api/users",
        json={"name": "B", "email": unique_email(), "password": ADMIN_PASSWORD},
        headers=new_admin,
    )
    assert more.status_code == 403
    assert more.json()["error"]["code"] == "plan_limit"
    # The new company's admin is not a super-admin.
    assert (await client.get("/api/companies", headers=new_admin)).status_code == 403

    got = await client.get(f"/api/companies/{company['id']}", headers=boss.headers)
    assert got.status_code == 200
    assert got.json()["name"] == body["name"]
    listed = await client.get("/api/companies", params={"q": body["name"]}, headers=boss.headers)
    assert [c["id"] for c in listed.json()["items"]] == [company["id"]]

    # Audited in the super-admin's own company, not in the new one.
    entries = await audit_entries(client, boss.headers, "company", company["id"])
    assert [e["action"] for e in entries] == ["create"]
    assert entries[0]["after"]["admin"]["email"] == body["admin"]["email"]
    assert ADMIN_PASSWORD not in str(entries)
    assert await audit_entries(client, new_admin, "company", company["id"]) == []


async def test_create_company_is_all_or_nothing(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    taken = company_body()
    taken["admin"]["email"] = other_tenant.admin.email
    response = await client.post("/api/companies", json=taken, headers=boss.headers)
    assert response.status_code == 409
    assert "admin.email" in response.json()["error"]["fields"]
    assert not await Company.exists(name=taken["name"])

    unknown_plan = company_body(plan_id=2**31 - 1)
    response = await client.post("/api/companies", json=unknown_plan, headers=boss.headers)
    assert response.status_code == 422
    assert "plan_id" in response.json()["error"]["fields"]
    assert not await Company.exists(name=unknown_plan["name"])
    assert not await User.exists(email=unknown_plan["admin"]["email"])

    for broken, field in (
        ({"admin": {"name": "A", "email": "nope", "password": ADMIN_PASSWORD}}, "admin.email"),
        ({"admin": {"name": "A", "email": unique_email(), "password": "short"}}, "admin.password"),
        ({"name": ""}, "name"),
        ({"admin": None}, "admin"),
    ):
        response = await client.post(
            "/api/companies", json=company_body(**broken), headers=boss.headers
        )
        assert response.status_code == 422, broken
        assert field in response.json()["error"]["fields"], broken


async def test_update_company(client: httpx.AsyncClient, tenant: Tenant) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    plan = await make_plan(client, boss)
    created = (
        await client.post("/api/companies", json=company_body(), headers=boss.headers)
    ).json()
    path = f"/api/companies/{created['id']}"
    patched = await client.patch(
        path, json={"name": "Renamed", "plan_id": plan["id"]}, headers=boss.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Renamed"
    assert patched.json()["plan_id"] == plan["id"]
    cleared = await client.patch(path, json={"plan_id": None}, headers=boss.headers)
    assert cleared.json()["plan_id"] is None
    assert cleared.json()["name"] == "Renamed"
    unknown = await client.patch(path, json={"plan_id": 2**31 - 1}, headers=boss.headers)
    assert unknown.status_code == 422
    assert (await client.patch(path, json={"color": "x"}, headers=boss.headers)).status_code == 422
    missing = await client.patch("/api/companies/2147483647", json={}, headers=boss.headers)
    assert missing.status_code == 404

    entries = await audit_entries(client, boss.headers, "company", created["id"])
    assert entries[1]["before"]["name"] == created["name"]
    assert entries[1]["after"]["name"] == "Renamed"


async def test_deactivating_a_company_ends_its_sessions(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    path = f"/api/companies/{other_tenant.company.id}"
    response = await client.patch(path, json={"is_active": False}, headers=boss.headers)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    refresh = await client.post(
        "/api/auth/refresh", json={"refresh_token": other_tenant.admin.refresh_token}
    )
    assert refresh.status_code == 401
    assert (await client.get("/api/users", headers=other_tenant.headers)).status_code == 401
    assert (await log_in(client, other_tenant.admin.email)).status_code == 401
    again = await client.patch(path, json={"is_active": True}, headers=boss.headers)
    assert again.json()["is_active"] is True
    assert (await log_in(client, other_tenant.admin.email)).status_code == 200


async def test_a_super_admin_keeps_their_own_company(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    own = f"/api/companies/{tenant.company.id}"
    assert (await client.delete(own, headers=boss.headers)).status_code == 409
    off = await client.patch(own, json={"is_active": False}, headers=boss.headers)
    assert off.status_code == 409
    company = await Company.get(id=tenant.company.id)
    assert company.is_active is True


async def test_delete_company_removes_its_data(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    path = f"/api/companies/{other_tenant.company.id}"
    assert (await client.delete(path, headers=boss.headers)).status_code == 204
    assert not await Company.exists(id=other_tenant.company.id)
    assert not await User.exists(id=other_tenant.admin.user.id)
    assert (await log_in(client, other_tenant.admin.email)).status_code == 401
    assert (await client.get(path, headers=boss.headers)).status_code == 404
    assert (await client.delete(path, headers=boss.headers)).status_code == 404
    entries = await audit_entries(client, boss.headers, "company", other_tenant.company.id)
    assert entries[0]["action"] == "delete"
    assert entries[0]["before"]["name"] == other_tenant.company.name


async def test_companies_list_pages(client: httpx.AsyncClient, tenant: Tenant) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    marker = unique("paged")
    for n in range(3):
        body = company_body(name=f"{marker} {n}")
        assert (await client.post("/api/companies", json=body, headers=boss.headers)).is_success
    first = await client.get(
        "/api/companies", params={"q": marker, "limit": 2}, headers=boss.headers
    )
    assert len(first.json()["items"]) == 2
    rest = await client.get(
        "/api/companies",
        params={"q": marker, "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=boss.headers,
    )
    assert [c["name"] for c in rest.json()["items"]] == [f"{marker} 2"]
    assert rest.json()["next_cursor"] is None


async def test_huge_ids_in_paths_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    boss = await tenant.member(Role.admin, is_super=True)
    for path in ("/api/companies/", "/api/plans/", "/api/users/"):
        response = await client.get(f"{path}{2**40}", headers=boss.headers)
        assert response.status_code == 404, (path, response.text)
