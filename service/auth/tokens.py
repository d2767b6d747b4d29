"""Access tokens (JWT, 15 minutes), opaque refresh tokens and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from service.errors import Unauthorized
from service.users.models import Role

__all__ = [
    "ACCESS_TTL",
    "API_TOKEN_PREFIX",
    "REFRESH_TTL",
    "Principal",
    "decode_access_token",
    "hash_token",
    "issue_access_token",
    "new_opaque_token",
]

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
API_TOKEN_PREFIX = "atk_"
REFRESH_TOKEN_PREFIX = "rt_"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of a company, or a company's API token (which acts as an admin)."""

    company_id: int
    role: Role
    user_id: int | None = None
    is_super: bool = False
    api_token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def sees_all_tickets(self) -> bool:
        return self.role in (Role.admin, Role.supervisor)


def hash_token(raw: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is enough to keep them unreadable at rest."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def issue_access_token(
    *, user_id: int, company_id: int, role: Role, is_super: bool, key: str, now: datetime
) -> str:
    claims = {
        "sub": str(user_id),
        "cid": company_id,
        "role": role.value,
        "sup": is_super,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_TTL).timestamp()),
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def decode_access_token(token: str, *, key: str, now: datetime) -> dict[str, Any]:
    """The token's claims; an expired, forged or malformed token is a 401."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            options={
                "require": ["exp", "sub", "cid", "typ"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid access token") from exc
    # Expiry (and issue time) is checked against the injected clock, not the wall clock.
    if claims.get("typ") != "access":
        raise Unauthorized("Invalid access token")
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthorized("Access token expired")
    return claims
