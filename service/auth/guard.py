"""Who is calling: the bearer token turned into a Principal, and the role checks on routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from sanic import Request
from sanic.response import HTTPResponse

from service.auth.models import ApiToken
from service.auth.tokens import API_TOKEN_PREFIX, Principal, decode_access_token, hash_token
from service.errors import Forbidden, Unauthorized
from service.users.models import Role, User

__all__ = ["authenticate", "principal_of", "requires"]

Handler = TypeVar("Handler", bound=Callable[..., Coroutine[Any, Any, HTTPResponse]])


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


async def authenticate(request: Request) -> Principal:
    """The caller of this request; any doubt about the token is a 401."""
    return await principal_of(request, _bearer(request))


async def principal_of(request: Request, token: str) -> Principal:
    """Who holds this access or API token (also for a websocket's `?token=`); else a 401."""
    now = request.app.ctx.clock()
    if token.startswith(API_TOKEN_PREFIX):
        api_token = await ApiToken.get_or_none(
            token_hash=hash_token(token), revoked_at=None, company__is_active=True
        )
        if api_token is None:
            raise Unauthorized("Invalid API token")
        await ApiToken.filter(id=api_token.id).update(last_used_at=now)
        return Principal(
            company_id=api_token.company_id,
            role=Role.admin,
            api_token_id=api_token.id,
        )
    claims = decode_access_token(token, key=request.app.ctx.signing_key, now=now)
    # The user is read again so that a deactivated or demoted user (or a deactivated company)
    # loses access at once.
    user = await User.get_or_none(
        id=int(claims["sub"]), company_id=claims["cid"], is_active=True, company__is_active=True
    )
    if user is None:
        raise Unauthorized("User no longer active")
    return Principal(
        company_id=user.company_id,
        role=Role(user.role),
        user_id=user.id,
        is_super=user.is_super,
    )


def requires(*roles: Role, super_admin: bool = False) -> Callable[[Handler], Handler]:
    """Route decorator: authenticate, check the role, pass the caller as `principal`."""

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            principal = await authenticate(request)
            if super_admin and not principal.is_super:
                raise Forbidden("Only a super-admin may do this")
            if roles and principal.role not in roles:
                raise Forbidden("Your role may not do this")
            request.ctx.principal = principal
            return await handler(request, *args, principal=principal, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
