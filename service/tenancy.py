"""The one way to reach a company's data: every query of company-owned rows goes through here."""

from __future__ import annotations

from typing import TypeVar

from tortoise.fields import BigIntField
from tortoise.models import Model
from tortoise.queryset import QuerySet

from service.companies.models import Company
from service.errors import Conflict, InvalidFields, NotFound

__all__ = ["ensure_name_free", "get_owned", "id_in_range", "lock_company", "owned_ids", "scoped"]

M = TypeVar("M", bound=Model)

_INT_MAX, _BIGINT_MAX = 2**31 - 1, 2**63 - 1


def id_in_range(model: type[Model], object_id: int) -> bool:
    """Whether the id fits the model's key column: a larger one (e.g. from a URL) matches
    nothing, and Postgres would refuse to compare it rather than say so."""
    pk = model._meta.fields_map[model._meta.pk_attr]
    limit = _BIGINT_MAX if isinstance(pk, BigIntField) else _INT_MAX
    return 0 < object_id <= limit


def scoped(model: type[M], company_id: int) -> QuerySet[M]:
    """All rows of `model` that belong to the company."""
    return model.filter(company_id=company_id)


async def get_owned(model: type[M], company_id: int, object_id: int, *, lock: bool = False) -> M:
    """The company's row with this id; another company's row is a 404, like a missing one."""
    if not id_in_range(model, object_id):
        raise NotFound(f"{model.__name__} {object_id} not found")
    query = scoped(model, company_id).filter(id=object_id)
    if lock:
        query = query.select_for_update()
    found = await query.first()
    if found is None:
        raise NotFound(f"{model.__name__} {object_id} not found")
    return found


async def owned_ids(model: type[M], company_id: int, ids: list[int], *, field: str) -> list[M]:
    """The company's rows with these ids, in the given order; any unknown id is a 422 on `field`."""
    wanted = list(dict.fromkeys(ids))
    in_range = [i for i in wanted if id_in_range(model, i)]
    rows = {row.pk: row for row in await scoped(model, company_id).filter(id__in=in_range)}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise InvalidFields({field: f"unknown id(s): {', '.join(map(str, missing))}"})
    return [rows[i] for i in wanted]


async def lock_company(company_id: int) -> None:
    """Serialise the company's check-then-write actions (unique names, plan limits, the one
    default connection, the last admin) on Postgres; SQLite has one writer anyway."""
    await Company.filter(id=company_id).select_for_update().first()


async def ensure_name_free(
    model: type[M], company_id: int, name: str, *, excluding: int | None = None, message: str
) -> None:
    """409 when another of the company's rows already has this name (ignoring case)."""
    query = scoped(model, company_id).filter(name__iexact=name)
    if excluding is not None:
        query = query.exclude(id=excluding)
    if await query.exists():
        raise Conflict(message, fields={"name": "already in use"})
