"""/api/users: the company's people (admins write, everyone reads) and /me for one's own account."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.users import actions
from service.users.models import Role
from service.users.schemas import UserCreate, UserMeUpdate, UserOut, UserQuery, UserUpdate
from service.users.service import company_users, get_user, user_out, users_out

bp = Blueprint("users", url_prefix="/api/users")


@bp.get("/")
@documented(query=UserQuery, page_of=UserOut)
@requires()
async def list_users(request: Request, principal: Principal) -> HTTPResponse:
    """The company's users, `?q=` searching name and email, `?role=` filtering."""
    args = parse_query(request, UserQuery)
    query = company_users(company_id=principal.company_id, q=args.q, role=args.role)
    return respond(await paginate(query, args, users_out))


@bp.post("/")
@documented(
    body=UserCreate,
    response=UserOut,
    status=201,
    errors={
        403: "The caller is not an admin, or the company's plan allows no more users (code"
        " `plan_limit`), or only a super-admin may set `is_super`"
    },
)
@requires(Role.admin)
async def create_user(request: Request, principal: Principal) -> HTTPResponse:
    """A new user of the company (the plan's user limit applies)."""
    body = parse_body(request, UserCreate)
    user = await actions.create_user(actor=principal, data=body)
    return respond(await user_out(user), status=201)


# Declared before the /<user_id:int> routes so that "me" is never read as an id.
@bp.patch("/me")
@documented(
    body=UserMeUpdate,
    response=UserOut,
    errors={403: "The caller is an API token, which has no account of its own"},
)
@requires()
async def update_me(request: Request, principal: Principal) -> HTTPResponse:
    """Change one's own name, language or password (with `current_password`)."""
    body = parse_body(request, UserMeUpdate)
    user = await actions.update_own_account(actor=principal, data=body, now=request.app.ctx.clock())
    return respond(await user_out(user))


@bp.get("/<user_id:int>")
@documented(response=UserOut)
@requires()
async def get_one_user(request: Request, principal: Principal, user_id: int) -> HTTPResponse:
    """One user of the company."""
    user = await get_user(company_id=principal.company_id, user_id=user_id)
    return respond(await user_out(user))


@bp.patch("/<user_id:int>")
@documented(body=UserUpdate, response=UserOut)
@requires(Role.admin)
async def update_user(request: Request, principal: Principal, user_id: int) -> HTTPResponse:
    """Change a user; a password, role or deactivation change ends their sessions."""
    await get_user(company_id=principal.company_id, user_id=user_id)
    body = parse_body(request, UserUpdate)
    user = await actions.update_user(
        actor=principal, user_id=user_id, data=body, now=request.app.ctx.clock()
    )
    return respond(await user_out(user))


@bp.delete("/<user_id:int>")
@documented(status=204)
@requires(Role.admin)
async def delete_user(request: Request, principal: Principal, user_id: int) -> HTTPResponse:
    """Remove a user; never oneself, never the company's last active admin."""
    await get_user(company_id=principal.company_id, user_id=user_id)
    await actions.delete_user(actor=principal, user_id=user_id, now=request.app.ctx.clock())
    return empty()
