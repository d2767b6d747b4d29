"""/api/companies and /api/plans (super-admins), /api/settings (a company's own settings)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from flows.texts import DEFAULT_TEXTS, VARIABLES
from service.auth.guard import requires
from service.auth.tokens import Principal
from service.companies import actions
from service.companies.schemas import (
    CompanyCreate,
    CompanyCreatedOut,
    CompanyOut,
    CompanyQuery,
    CompanySettings,
    CompanySettingsUpdate,
    CompanyUpdate,
    PlanCreate,
    PlanOut,
    PlanUpdate,
)
from service.companies.service import (
    all_companies,
    all_plans,
    companies_out,
    company_out,
    get_company,
    get_company_settings,
    get_plan,
    plan_out,
    plans_out,
)
from service.http import PageQuery, paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.users.models import Role
from service.users.service import user_out

bp = Blueprint("companies", url_prefix="/api/companies")
plans_bp = Blueprint("plans", url_prefix="/api/plans")
settings_bp = Blueprint("company_settings", url_prefix="/api/settings")


@bp.get("/")
@documented(query=CompanyQuery, page_of=CompanyOut)
@requires(super_admin=True)
async def list_companies(request: Request, principal: Principal) -> HTTPResponse:
    """Every company of the installation, `?q=` searching the name."""
    args = parse_query(request, CompanyQuery)
    return respond(await paginate(all_companies(q=args.q), args, companies_out))


@bp.post("/")
@documented(body=CompanyCreate, response=CompanyCreatedOut, status=201)
@requires(super_admin=True)
async def create_company(request: Request, principal: Principal) -> HTTPResponse:
    """A new company together with its first admin."""
    body = parse_body(request, CompanyCreate)
    company, admin = await actions.create_company(actor=principal, data=body)
    out = CompanyCreatedOut(
        **(await company_out(company)).model_dump(), admin=await user_out(admin)
    )
    return respond(out, status=201)


@bp.get("/<company_id:int>")
@documented(response=CompanyOut)
@requires(super_admin=True)
async def get_one_company(request: Request, principal: Principal, company_id: int) -> HTTPResponse:
    """One company."""
    return respond(await company_out(await get_company(company_id=company_id)))


@bp.patch("/<company_id:int>")
@documented(body=CompanyUpdate, response=CompanyOut)
@requires(super_admin=True)
async def update_company(request: Request, principal: Principal, company_id: int) -> HTTPResponse:
    """Rename, change the plan, or (de)activate a company."""
    await get_company(company_id=company_id)
    body = parse_body(request, CompanyUpdate)
    company = await actions.update_company(
        actor=principal, company_id=company_id, data=body, now=request.app.ctx.clock()
    )
    return respond(await company_out(company))


@bp.delete("/<company_id:int>")
@documented(status=204)
@requires(super_admin=True)
async def delete_company(request: Request, principal: Principal, company_id: int) -> HTTPResponse:
    """Remove a company and all its data (never one's own)."""
    await get_company(company_id=company_id)
    await actions.delete_company(actor=principal, company_id=company_id)
    return empty()


@plans_bp.get("/")
@documented(query=PageQuery, page_of=PlanOut)
@requires(super_admin=True)
async def list_plans(request: Request, principal: Principal) -> HTTPResponse:
    """Every plan."""
    page = parse_query(request, PageQuery)
    return respond(await paginate(all_plans(), page, plans_out))


@plans_bp.post("/")
@documented(body=PlanCreate, response=PlanOut, status=201)
@requires(super_admin=True)
async def create_plan(request: Request, principal: Principal) -> HTTPResponse:
    """A new plan; a null limit is unlimited."""
    body = parse_body(request, PlanCreate)
    plan = await actions.create_plan(actor=principal, data=body)
    return respond(await plan_out(plan), status=201)


@plans_bp.get("/<plan_id:int>")
@documented(response=PlanOut)
@requires(super_admin=True)
async def get_one_plan(request: Request, principal: Principal, plan_id: int) -> HTTPResponse:
    """One plan."""
    return respond(await plan_out(await get_plan(plan_id=plan_id)))


@plans_bp.patch("/<plan_id:int>")
@documented(body=PlanUpdate, response=PlanOut)
@requires(super_admin=True)
async def update_plan(request: Request, principal: Principal, plan_id: int) -> HTTPResponse:
    """Change a plan's name or limits."""
    await get_plan(plan_id=plan_id)
    body = parse_body(request, PlanUpdate)
    plan = await actions.update_plan(actor=principal, plan_id=plan_id, data=body)
    return respond(await plan_out(plan))


@plans_bp.delete("/<plan_id:int>")
@documented(status=204)
@requires(super_admin=True)
async def delete_plan(request: Request, principal: Principal, plan_id: int) -> HTTPResponse:
    """Remove a plan that no company uses."""
    await get_plan(plan_id=plan_id)
    await actions.delete_plan(actor=principal, plan_id=plan_id)
    return empty()


@settings_bp.get("/")
@documented(response=CompanySettings)
@requires()
async def get_settings(request: Request, principal: Principal) -> HTTPResponse:
    """The company's settings, defaults filled in."""
    return respond(await get_company_settings(company_id=principal.company_id))


@settings_bp.patch("/")
@documented(body=CompanySettingsUpdate, response=CompanySettings)
@requires(Role.admin)
async def update_settings(request: Request, principal: Principal) -> HTTPResponse:
    """Change some settings; the keys left out keep their values."""
    body = parse_body(request, CompanySettingsUpdate)
    return respond(await actions.update_company_settings(actor=principal, data=body))


@settings_bp.get("/bot-texts")
@documented()
@requires()
async def bot_text_defaults(request: Request, principal: Principal) -> HTTPResponse:
    """The bot's default texts per language (used where `bot_texts_by_language` has no
    override) and the `{{variables}}` they may contain."""
    defaults = {language: dict(texts) for language, texts in DEFAULT_TEXTS.items()}
    return respond({"defaults": defaults, "variables": list(VARIABLES)})
