"""Plan limits hold under concurrency for every limited resource: users, queues, connections."""

from __future__ import annotations

import ast
import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from service import plan_limits
from service.companies.models import Plan
from service.connections.models import Connection
from service.plan_limits import Resource, check_plan_limit
from service.queues.models import Queue
from service.tenancy import lock_company, scoped
from service.users.models import Role, User
from tests.factories import Tenant, unique, unique_email

LIMIT = 3
_MODELS: dict[Resource, type[User | Queue | Connection]] = {
    "users": User,
    "queues": Queue,
    "connections": Connection,
}


def _body(resource: Resource) -> dict[str, Any]:
    if resource == "users":
        return {
            "name": unique("Maria"),
            "email": unique_email("maria"),
            "password": "a long enough password",
            "role": "agent",
        }
    return {"name": unique(resource)}


async def _fill_to(client: httpx.AsyncClient, tenant: Tenant, resource: Resource, n: int) -> None:
    """Create rows of `resource` through the API until the company has `n` of them."""
    model = _MODELS[resource]
    while await scoped(model, tenant.company.id).count() < n:
        response = await client.post(
            f"/api/{resource}", json=_body(resource), headers=tenant.headers
        )
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("resource", ["users", "queues", "connections"])
async def test_concurrent_creations_stop_exactly_at_the_plan_limit(
    client: httpx.AsyncClient, tenant: Tenant, resource: Resource
) -> None:
    """A plan of 3 with 2 rows: of 15 simultaneous POSTs one is created, 14 get plan_limit."""
    plan = await Plan.create(name=unique("plan"), **{f"max_{resource}": LIMIT})
    tenant.company.plan = plan
    await tenant.company.save()
    await _fill_to(client, tenant, resource, LIMIT - 1)  # users: the admin is one of them

    responses = await asyncio.gather(
        *(
            client.post(f"/api/{resource}", json=_body(resource), headers=tenant.headers)
            for _ in range(15)
        )
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 403: 14}, [r.text for r in responses if r.status_code != 403]
    refusals = {r.json()["error"]["code"] for r in responses if r.status_code == 403}
    assert refusals == {"plan_limit"}
    assert await scoped(_MODELS[resource], tenant.company.id).count() == LIMIT


async def _insert_directly(tenant: Tenant, resource: Resource) -> None:
    """One more row, as another creation's transaction would write it."""
    company_id = tenant.company.id
    if resource == "users":
        await User.create(
            company_id=company_id,
            name="racer",
            email=unique_email("racer"),
            password_hash="x",
            role=Role.agent,
        )
    elif resource == "queues":
        await Queue.create(company_id=company_id, name=unique("racer"))
    else:
        await Connection.create(company_id=company_id, name=unique("racer"))


@pytest.mark.parametrize("resource", ["users", "queues", "connections"])
async def test_the_limit_check_waits_for_a_creation_in_progress(
    client: httpx.AsyncClient, tenant: Tenant, resource: Resource
) -> None:
    """While another transaction holds the company (as a concurrent creation does) the check
    waits, then counts what that one wrote: the race above, made deterministic."""
    plan = await Plan.create(name=unique("plan"), **{f"max_{resource}": LIMIT})
    tenant.company.plan = plan
    await tenant.company.save()
    await _fill_to(client, tenant, resource, LIMIT - 1)
    async with in_transaction():
        await lock_company(tenant.company.id)
        request = asyncio.ensure_future(
            client.post(f"/api/{resource}", json=_body(resource), headers=tenant.headers)
        )
        await asyncio.sleep(0.3)  # the request must still be waiting for the lock
        assert not request.done()
        await _insert_directly(tenant, resource)
    response = await request
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "plan_limit"
    assert await scoped(_MODELS[resource], tenant.company.id).count() == LIMIT


async def test_the_limit_check_refuses_to_run_outside_the_creating_transaction(
    tenant: Tenant,
) -> None:
    """Outside a transaction the company's lock would end before the insert: a bug, not a 403."""
    with pytest.raises(RuntimeError, match="inside the creating transaction"):
        await check_plan_limit(company_id=tenant.company.id, model=Queue)


def test_limits_do_not_import_the_domains_they_limit() -> None:
    """Dependencies point one way: the users, queues and connections domains use the limits."""
    tree = ast.parse(Path(plan_limits.__file__).read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    for domain in ("service.users", "service.queues", "service.connections"):
        assert not any(name == domain or name.startswith(domain + ".") for name in imported)
