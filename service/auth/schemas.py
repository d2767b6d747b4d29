"""Request and response shapes of /api/auth and /api/api-tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from service.http import ResponseModel, StrictModel
from service.users.schemas import UserOut

__all__ = ["ApiTokenCreate", "ApiTokenOut", "LoginBody", "RefreshBody", "TokenPair"]


class LoginBody(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ana@example.com", "password": "s3cret-pass"}]}
    )

    email: str = Field(min_length=1, max_length=254)
    """The user's email address (compared case-insensitively)."""
    password: str = Field(min_length=1, max_length=200)
    """The user's password."""


class RefreshBody(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=200)
    """The refresh token of the last pair; it is spent by this call (presenting a spent one
    again revokes every token issued from the same login)."""


class TokenPair(ResponseModel):
    access_token: str
    """Send it as `Authorization: Bearer <access_token>` on every request."""
    refresh_token: str
    """Single use: exchange it at POST /api/auth/refresh for a new pair before or after the
    access token expires."""
    token_type: str = "bearer"
    """Always "bearer"."""
    expires_in: int
    """Seconds until the access token expires."""
    user: UserOut
    """The user who logged in."""
    device_token: str | None = None
    """Given at login: send it back in the X-Atende-Device header on later logins from this
    browser, so that failures elsewhere never lock it out; null on a refresh."""


class ApiTokenCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    """A label to recognise the token by (e.g. the integration that uses it)."""


class ApiTokenOut(ResponseModel):
    id: int
    """The token's id (to revoke it)."""
    name: str
    """The label given at creation."""
    prefix: str
    """The token's first characters, to tell tokens apart; the rest is never shown again."""
    created_at: datetime
    """When the token was created (UTC)."""
    last_used_at: datetime | None
    """When a request last authenticated with it (UTC); null if never used."""
    token: str | None = None
    """The token itself, only in the answer that creates it; null everywhere else."""
