"""Every write of companies and plans (super-admins) and of a company's settings (its admins).

Audit entries of companies and plans go to the acting super-admin's own company.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.models import RefreshToken
from service.auth.passwords import hash_password
from service.auth.tokens import Principal
from service.companies.models import Company, Plan, Setting
from service.companies.schemas import (
    CompanyCreate,
    CompanySettings,
    CompanySettingsUpdate,
    CompanyUpdate,
    PlanCreate,
    PlanUpdate,
)
from service.companies.service import (
    fold_bot_texts,
    get_company_settings,
    stored_settings,
    wrap_setting,
)
from service.errors import Conflict, InvalidFields, NotFound
from service.queues.models import Queue
from service.tenancy import owned_ids, scoped
from service.users.models import Role, User
from service.variables import check_bot_variables, templates_in

__all__ = [
    "create_company",
    "create_plan",
    "delete_company",
    "delete_plan",
    "update_company",
    "update_company_settings",
    "update_plan",
]

_PLAN_NAME_TAKEN = "A plan with this name already exists"
_EMAIL_TAKEN = "A user with this email already exists"


async def _locked_plan(plan_id: int) -> Plan:
    plan = await Plan.filter(id=plan_id).select_for_update().first()
    if plan is None:
        raise NotFound(f"Plan {plan_id} not found")
    return plan


async def _locked_company(company_id: int) -> Company:
    company = await Company.filter(id=company_id).select_for_update().first()
    if company is None:
        raise NotFound(f"Company {company_id} not found")
    return company


async def _plan_name_taken(name: str, *, excluding: int | None = None) -> bool:
    query = Plan.filter(name=name)
    if excluding is not None:
        query = query.exclude(id=excluding)
    return await query.exists()


async def _check_plan_id(plan_id: int | None) -> None:
    if plan_id is not None and not await Plan.filter(id=plan_id).exists():
        raise InvalidFields({"plan_id": f"unknown plan {plan_id}"})


async def create_plan(*, actor: Principal, data: PlanCreate) -> Plan:
    """A new plan (409 when the name is used)."""
    async with in_transaction():
        if await _plan_name_taken(data.name):
            raise Conflict(_PLAN_NAME_TAKEN, fields={"name": "already in use"})
        try:
            plan = await Plan.create(**data.model_dump())
        except IntegrityError as exc:
            raise Conflict(_PLAN_NAME_TAKEN, fields={"name": "already in use"}) from exc
        await record_change(
            actor=actor,
            action="create",
            object_type="plan",
            object_id=plan.id,
            after=snapshot(plan),
        )
    return plan


async def update_plan(*, actor: Principal, plan_id: int, data: PlanUpdate) -> Plan:
    """Change a plan's name or limits; an explicit null limit is unlimited."""
    async with in_transaction():
        plan = await _locked_plan(plan_id)
        before = snapshot(plan)
        changes = data.model_dump(include=data.model_fields_set)
        if changes.get("name") is None:
            changes.pop("name", None)
        elif changes["name"] != plan.name and await _plan_name_taken(
            changes["name"], excluding=plan.id
        ):
            raise Conflict(_PLAN_NAME_TAKEN, fields={"name": "already in use"})
        plan.update_from_dict(changes)
        try:
            await plan.save()
        except IntegrityError as exc:
            raise Conflict(_PLAN_NAME_TAKEN, fields={"name": "already in use"}) from exc
        await record_change(
            actor=actor,
            action="update",
            object_type="plan",
            object_id=plan.id,
            before=before,
            after=snapshot(plan),
        )
    return plan


async def delete_plan(*, actor: Principal, plan_id: int) -> None:
    """Remove a plan no company uses (409 otherwise)."""
    async with in_transaction():
        plan = await _locked_plan(plan_id)
        if await Company.filter(plan_id=plan.id).exists():
            raise Conflict("Companies use this plan; move them to another plan first")
        before = snapshot(plan)
        await plan.delete()
        await record_change(
            actor=actor, action="delete", object_type="plan", object_id=plan_id, before=before
        )


async def create_company(*, actor: Principal, data: CompanyCreate) -> tuple[Company, User]:
    """A new company and its first admin, together or not at all."""
    async with in_transaction():
        await _check_plan_id(data.plan_id)
        if await User.filter(email=data.admin.email).exists():
            raise Conflict(_EMAIL_TAKEN, fields={"admin.email": "already in use"})
        company = await Company.create(name=data.name, plan_id=data.plan_id)
        try:
            admin = await User.create(
                company=company,
                name=data.admin.name,
                email=data.admin.email,
                password_hash=hash_password(data.admin.password),
                role=Role.admin,
            )
        except IntegrityError as exc:
            raise Conflict(_EMAIL_TAKEN, fields={"admin.email": "already in use"}) from exc
        await record_change(
            actor=actor,
            action="create",
            object_type="company",
            object_id=company.id,
            after=snapshot(company, admin={"id": admin.id, "email": admin.email}),
        )
    return company, admin


async def update_company(
    *, actor: Principal, company_id: int, data: CompanyUpdate, now: datetime
) -> Company:
    """Rename, change the plan, (de)activate; deactivation ends the sessions of its users."""
    async with in_transaction():
        company = await _locked_company(company_id)
        before = snapshot(company)
        fields = data.model_fields_set
        if data.is_active is False and company.id == actor.company_id:
            raise Conflict(
                "You may not deactivate your own company", fields={"is_active": "is your company"}
            )
        if data.name is not None:
            company.name = data.name
        if "plan_id" in fields:
            await _check_plan_id(data.plan_id)
            company.plan_id = data.plan_id
        deactivated = data.is_active is False and company.is_active
        if data.is_active is not None:
            company.is_active = data.is_active
        await company.save()
        if deactivated:
            user_ids = await User.filter(company_id=company.id).values_list("id", flat=True)
            await RefreshToken.filter(user_id__in=list(user_ids), revoked_at=None).update(
                revoked_at=now
            )
        await record_change(
            actor=actor,
            action="update",
            object_type="company",
            object_id=company.id,
            before=before,
            after=snapshot(company),
        )
    return company


async def delete_company(*, actor: Principal, company_id: int) -> None:
    """Remove a company and all its data; never the super-admin's own."""
    async with in_transaction():
        company = await _locked_company(company_id)
        if company.id == actor.company_id:
            raise Conflict("You may not delete your own company")
        before = snapshot(company)
        await company.delete()
        await record_change(
            actor=actor, action="delete", object_type="company", object_id=company_id, before=before
        )


async def update_company_settings(
    *, actor: Principal, data: CompanySettingsUpdate
) -> CompanySettings:
    """Change the settings present in `data`; only keys whose value changes are written."""
    given = data.model_dump(mode="json", include=data.model_fields_set)
    texts = templates_in(given, ("bot_texts", "bot_texts_by_language"))
    await check_bot_variables(actor=actor, templates=texts)
    async with in_transaction():
        if given.get("fallback_queue_id") is not None:
            fallback = [given["fallback_queue_id"]]
            await owned_ids(Queue, actor.company_id, fallback, field="fallback_queue_id")
        current = (await get_company_settings(company_id=actor.company_id)).model_dump(mode="json")
        stored = await stored_settings(company_id=actor.company_id)
        given = _texts_in_one_place(given, current, first_version_row="bot_texts" in stored)
        # Compared with what is stored, not only with what is in effect, so that a stale row
        # (a deleted fallback queue, a value no longer valid) is overwritten when set again.
        baseline = {**CompanySettings().model_dump(mode="json"), **stored}
        changed = {key: value for key, value in given.items() if baseline.get(key) != value}
        if not changed:
            return CompanySettings.model_validate(current)
        if "bot_texts_by_language" in changed:
            await scoped(Setting, actor.company_id).filter(key="bot_texts").delete()
        rows = {
            row.key: row
            for row in await scoped(Setting, actor.company_id)
            .filter(key__in=list(changed))
            .select_for_update()
        }
        try:
            for key, value in changed.items():
                row = rows.get(key)
                if row is None:
                    await Setting.create(
                        company_id=actor.company_id, key=key, value=wrap_setting(value)
                    )
                else:
                    row.value = wrap_setting(value)
                    await row.save(update_fields=["value", "updated_at"])
        except IntegrityError as exc:
            raise Conflict("The settings were changed at the same time; try again") from exc
        before: dict[str, Any] = {key: current.get(key) for key in changed}
        await record_change(
            actor=actor,
            action="update",
            object_type="settings",
            object_id=actor.company_id,
            before=before,
            after=changed,
        )
        current.update(changed)
    # `bot_texts` follows the language now in effect.
    current.pop("bot_texts")
    return CompanySettings.model_validate(fold_bot_texts(current))


def _texts_in_one_place(
    given: dict[str, Any], current: dict[str, Any], *, first_version_row: bool
) -> dict[str, Any]:
    """The settings to store, with the bot's texts only in `bot_texts_by_language`: a
    `bot_texts` given is the entry of the company's language (as it is after this change),
    and a first version's `bot_texts` row moves there on any change, so that it stays with
    the language it was written in."""
    given = dict(given)
    texts = given.pop("bot_texts", None)
    if texts is None and not first_version_row:
        return given
    by_language = dict(given.get("bot_texts_by_language", current["bot_texts_by_language"]))
    if texts is not None:
        by_language[given.get("language", current["language"])] = texts
    return {**given, "bot_texts_by_language": by_language}
