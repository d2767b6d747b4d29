"""Who is calling: the bearer token turned into a Principal, and the role checks on routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from sanic import Request
from sanic.response import HTTPResponse

from service.auth.models import ApiToken
from service.auth.tokens import API_TOKEN_PREFIX, Principal, decode_access_token, hash_token
from service.errors import Forbidden, Unauthorized
from service.sql import fetch
from service.users.models import Role

__all__ = ["GUARD_ATTRIBUTE", "RouteGuard", "authenticate", "principal_of", "requires"]

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
    # Every API call reads it: one hand-written statement (the ORM's query building cost
    # about a tenth of a worker's CPU under load).
    rows = await fetch(_ACTIVE_USER_SQL, user_id=int(claims["sub"]), company_id=int(claims["cid"]))
    if not rows:
        raise Unauthorized("User no longer active")
    user = rows[0]
    return Principal(
        company_id=int(user["company_id"]),
        role=Role(user["role"]),
        user_id=int(user["id"]),
        is_super=bool(user["is_super"]),
    )


_ACTIVE_USER_SQL = (
    "SELECT u.id, u.company_id, u.role, u.is_super FROM users u"
    " JOIN companies c ON c.id = u.company_id"
    " WHERE u.id = :user_id AND u.company_id = :company_id AND u.is_active AND c.is_active"
)


# The attribute of `requires()`'s wrapper that holds its RouteGuard. service.openapi reads it
# under this name (an infrastructure package, it may not import this one).
GUARD_ATTRIBUTE = "__atende_guard__"


@dataclass(frozen=True)
class RouteGuard:
    """What `requires(...)` checks on a route, recorded on the route's handler so that the API
    document derives the route's 403 from the check itself."""

    roles: tuple[str, ...]  # the roles let through, by name; empty: every role
    super_admin: bool


def requires(*roles: Role, super_admin: bool = False) -> Callable[[Handler], Handler]:
    """Route decorator: authenticate, check the role, pass the caller as `principal`."""
    # Listing every role refuses none: recorded as no restriction, so no 403 is documented.
    guard = RouteGuard(
        roles=() if set(roles) == set(Role) else tuple(str(role) for role in roles),
        super_admin=super_admin,
    )

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

        setattr(wrapper, GUARD_ATTRIBUTE, guard)
        return wrapper  # type: ignore[return-value]

    return decorator
