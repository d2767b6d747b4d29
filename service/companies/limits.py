"""Plan limits: how many users, connections and queues a company may have."""

from __future__ import annotations

from typing import Literal

from tortoise.models import Model

from service.companies.models import Company
from service.connections.models import Connection
from service.errors import PlanLimitReached
from service.queues.models import Queue
from service.tenancy import lock_company, scoped
from service.users.models import User

__all__ = ["check_plan_limit"]

Resource = Literal["users", "connections", "queues"]
_MODELS: dict[Resource, type[Model]] = {"users": User, "connections": Connection, "queues": Queue}


async def check_plan_limit(*, company_id: int, resource: Resource) -> None:
    """Refuse (403 plan_limit) one more `resource` when the company's plan is full.

    Called inside the transaction that creates the resource: it locks the company's row
    until that commits, so that of concurrent creations each counts what the previous one
    wrote (count-then-insert would otherwise let several through at once)."""
    await lock_company(company_id)
    company = await Company.get(id=company_id).prefetch_related("plan")
    plan = company.plan
    if plan is None:
        return
    limit: int | None = getattr(plan, f"max_{resource}")
    if limit is None:
        return
    current = await scoped(_MODELS[resource], company_id).count()
    if current >= limit:
        raise PlanLimitReached(
            f"The plan '{plan.name}' allows {limit} {resource}; remove one first"
        )
