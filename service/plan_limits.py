"""Plan limits: how many users, connections and queues a company may have.

`check_plan_limit` is the one way to create a plan-limited row: each create action calls it
inside the transaction that inserts the row. The caller names the model it creates, so this
module counts rows without knowing (or importing) the users, queues or connections domains.

It lives outside service/companies because the companies package never needs it: the users,
queues and connections actions depend on it, and it on the plan (import-linter holds both)."""

from __future__ import annotations

from typing import Literal, cast, get_args

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.models import Model

from service.companies.models import Company
from service.errors import PlanLimitReached
from service.tenancy import lock_company, scoped

__all__ = ["Resource", "check_plan_limit"]

# Each is a `max_<resource>` column of Plan and the table of the model it limits.
Resource = Literal["users", "connections", "queues"]


async def check_plan_limit(*, company_id: int, model: type[Model]) -> None:
    """Refuse (403 plan_limit) one more row of `model` when the company's plan is full.

    Must run inside the transaction that creates the row: it locks the company's row until
    that commits, so that of concurrent creations each counts what the previous one wrote
    (count-then-insert in separate transactions would let several through at once)."""
    if not isinstance(model._meta.db, TransactionalDBClient):
        # Outside a transaction the lock ends with this check, before the insert: a bug.
        raise RuntimeError("check_plan_limit must run inside the creating transaction")
    resource = _resource(model)
    await lock_company(company_id)
    company = await Company.get(id=company_id).prefetch_related("plan")
    plan = company.plan
    if plan is None:
        return
    limit: int | None = getattr(plan, f"max_{resource}")
    if limit is None:
        return
    current = await scoped(model, company_id).count()
    if current >= limit:
        raise PlanLimitReached(
            f"The plan '{plan.name}' allows {limit} {resource}; remove one first"
        )


def _resource(model: type[Model]) -> Resource:
    table = model._meta.db_table
    for resource in get_args(Resource):
        if table == resource:
            return cast(Resource, resource)
    raise ValueError(f"plans do not limit {model.__name__}")
