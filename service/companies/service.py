"""Reads of companies, plans (super-admins see them all) and a company's settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from tortoise.queryset import QuerySet

from service.companies.models import Company, Plan, Setting
from service.companies.schemas import SETTING_KEYS, CompanyOut, CompanySettings, PlanOut
from service.errors import NotFound
from service.queues.models import Queue
from service.tenancy import id_in_range, scoped

__all__ = [
    "all_companies",
    "all_plans",
    "companies_out",
    "company_out",
    "fold_bot_texts",
    "get_company",
    "get_company_settings",
    "get_plan",
    "plan_out",
    "plans_out",
    "stored_settings",
    "wrap_setting",
]


def all_companies(*, q: str | None = None) -> QuerySet[Company]:
    """Every company of the installation, optionally with `q` in the name (super-admins only)."""
    query = Company.all()
    if q:
        query = query.filter(name__icontains=q)
    return query


async def get_company(*, company_id: int) -> Company:
    """The company with this id (404 otherwise)."""
    company = await Company.get_or_none(id=company_id) if id_in_range(Company, company_id) else None
    if company is None:
        raise NotFound(f"Company {company_id} not found")
    return company


async def companies_out(rows: Sequence[Company]) -> list[CompanyOut]:
    """Companies as the API shows them."""
    return [
        CompanyOut(
            id=c.id,
            name=c.name,
            plan_id=c.plan_id,
            is_active=c.is_active,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in rows
    ]


async def company_out(company: Company) -> CompanyOut:
    """One company as the API shows it."""
    return (await companies_out([company]))[0]


def all_plans() -> QuerySet[Plan]:
    """Every plan of the installation."""
    return Plan.all()


async def get_plan(*, plan_id: int) -> Plan:
    """The plan with this id (404 otherwise)."""
    plan = await Plan.get_or_none(id=plan_id) if id_in_range(Plan, plan_id) else None
    if plan is None:
        raise NotFound(f"Plan {plan_id} not found")
    return plan


async def plans_out(rows: Sequence[Plan]) -> list[PlanOut]:
    """Plans as the API shows them."""
    return [PlanOut.model_validate(p, from_attributes=True) for p in rows]


async def plan_out(plan: Plan) -> PlanOut:
    """One plan as the API shows it."""
    return (await plans_out([plan]))[0]


# Each row's JSON is `{"value": <the setting>}`: Tortoise's JSONField takes a bare string for
# JSON text and a bare None for SQL NULL, so plain strings and nulls could not be stored as is.
def wrap_setting(value: Any) -> dict[str, Any]:
    """The JSON stored in a Setting row for this value."""
    return {"value": value}


async def stored_settings(*, company_id: int) -> dict[str, Any]:
    """The settings the company has set (keys this version knows only), unwrapped."""
    rows = await scoped(Setting, company_id).filter(key__in=SETTING_KEYS)
    return {
        row.key: row.value["value"]
        for row in rows
        if isinstance(row.value, dict) and "value" in row.value
    }


def fold_bot_texts(values: dict[str, Any]) -> dict[str, Any]:
    """Settings values with the texts in one place: `bot_texts_by_language`, a first-version
    `bot_texts` row counted as the company's language's entry; `bot_texts` then shows that
    entry (what it always meant: the texts the company's bot speaks)."""
    language = values.get("language") or CompanySettings.model_fields["language"].default
    by_language = dict(values.get("bot_texts_by_language") or {})
    legacy = values.get("bot_texts")
    if legacy and language not in by_language:
        by_language[language] = legacy
    return {
        **values,
        "bot_texts_by_language": by_language,
        "bot_texts": by_language.get(language, {}),
    }


async def get_company_settings(*, company_id: int) -> CompanySettings:
    """The company's settings, defaults filled in; a stored value no longer valid is ignored."""
    values: dict[str, Any] = {}
    for key, value in (await stored_settings(company_id=company_id)).items():
        # One key at a time, so that one stale value does not hide the others.
        try:
            CompanySettings.model_validate({key: value})
        except ValidationError:
            continue
        values[key] = value
    settings = CompanySettings.model_validate(fold_bot_texts(values))
    if settings.fallback_queue_id is not None:
        exists = await scoped(Queue, company_id).filter(id=settings.fallback_queue_id).exists()
        if not exists:  # the queue was deleted since
            settings.fallback_queue_id = None
    return settings
