"""/api/auth (login, refresh, logout, me) and /api/api-tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth import actions
from service.auth.devices import DEVICE_HEADER
from service.auth.guard import requires
from service.auth.models import ApiToken
from service.auth.schemas import ApiTokenCreate, ApiTokenOut, LoginBody, RefreshBody, TokenPair
from service.auth.tokens import Principal
from service.http import PageQuery, paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.server import client_ip
from service.tenancy import get_owned, scoped
from service.users.models import Role
from service.users.schemas import UserOut
from service.users.service import get_user, user_out

bp = Blueprint("auth", url_prefix="/api/auth")
tokens_bp = Blueprint("api_tokens", url_prefix="/api/api-tokens")


async def _pair(issued: actions.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        user=await user_out(issued.user),
        device_token=issued.device_token,
    )


@bp.post("/login")
@documented(
    body=LoginBody,
    response=TokenPair,
    secured=False,
    errors={
        401: "Wrong email or password, or the user or the company is deactivated",
        429: "Too many failed logins for this email, this address or this browser: wait the"
        " seconds in Retry-After",
    },
    without=(409,),
)
async def login(request: Request) -> HTTPResponse:
    """Email and password for an access token (15 minutes) and a refresh token."""
    body = parse_body(request, LoginBody)
    ctx = request.app.ctx
    issued = await actions.login(
        email=body.email,
        password=body.password,
        ip=client_ip(request),
        counter=ctx.login_counter,
        max_failures=ctx.settings.login_max_failures,
        max_failures_per_ip=ctx.settings.login_max_failures_per_ip,
        key=ctx.signing_key,
        now=ctx.clock(),
        device_token=request.headers.get(DEVICE_HEADER),
    )
    return respond(await _pair(issued))


@bp.post("/refresh")
@documented(
    body=RefreshBody,
    response=TokenPair,
    secured=False,
    errors={
        401: "The refresh token is invalid, expired or already spent (a spent one revokes"
        " every session of its login), or its user is no longer active"
    },
    without=(409,),
)
async def refresh(request: Request) -> HTTPResponse:
    """A new token pair; the refresh token presented is spent."""
    body = parse_body(request, RefreshBody)
    issued = await actions.refresh(
        raw_token=body.refresh_token, key=request.app.ctx.signing_key, now=request.app.ctx.clock()
    )
    return respond(await _pair(issued))


@bp.post("/logout")
@documented(body=RefreshBody, status=204, secured=False, without=(409,))
async def logout(request: Request) -> HTTPResponse:
    """Ends the login the refresh token belongs to."""
    body = parse_body(request, RefreshBody)
    await actions.logout(raw_token=body.refresh_token, now=request.app.ctx.clock())
    return empty()


@bp.get("/me")
@documented(response=UserOut)
@requires()
async def me(request: Request, principal: Principal) -> HTTPResponse:
    """The logged-in user."""
    if principal.user_id is None:
        return respond({"api_token_id": principal.api_token_id, "company_id": principal.company_id})
    user = await get_user(company_id=principal.company_id, user_id=principal.user_id)
    return respond(await user_out(user))


async def _tokens_out(rows: Sequence[ApiToken]) -> list[Any]:
    return [ApiTokenOut.model_validate(r, from_attributes=True) for r in rows]


@tokens_bp.get("/")
@documented(query=PageQuery, page_of=ApiTokenOut)
@requires(Role.admin)
async def list_api_tokens(request: Request, principal: Principal) -> HTTPResponse:
    """The company's API tokens (never their values)."""
    page = parse_query(request, PageQuery)
    query = scoped(ApiToken, principal.company_id).filter(revoked_at=None)
    return respond(await paginate(query, page, _tokens_out))


@tokens_bp.post("/")
@documented(body=ApiTokenCreate, response=ApiTokenOut, status=201)
@requires(Role.admin)
async def create_api_token(request: Request, principal: Principal) -> HTTPResponse:
    """A new API token; its value is in this response and nowhere else, ever."""
    body = parse_body(request, ApiTokenCreate)
    token, raw = await actions.create_api_token(
        company_id=principal.company_id, name=body.name, created_by_id=principal.user_id
    )
    out = ApiTokenOut.model_validate(token, from_attributes=True)
    out.token = raw
    return respond(out, status=201)


@tokens_bp.delete("/<token_id:int>")
@documented(status=204, without=(409,))
@requires(Role.admin)
async def revoke_api_token(request: Request, principal: Principal, token_id: int) -> HTTPResponse:
    """Revokes an API token at once."""
    token = await get_owned(ApiToken, principal.company_id, token_id)
    token.revoked_at = request.app.ctx.clock()
    await token.save(update_fields=["revoked_at"])
    return empty()
