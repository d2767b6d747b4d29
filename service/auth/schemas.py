"""Request and response shapes of /api/auth and /api/api-tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.http import StrictModel
from service.users.schemas import UserOut

__all__ = ["ApiTokenCreate", "ApiTokenOut", "LoginBody", "RefreshBody", "TokenPair"]


class LoginBody(StrictModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class RefreshBody(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut
    device_token: str | None = Field(
        default=None,
        description="given at login: send it back in the X-Atende-Device header on later "
        "logins from this browser, so that failures elsewhere never lock it out",
    )


class ApiTokenCreate(StrictModel):
    name: str = Field(min_length=1, max_length=100)


class ApiTokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    token: str | None = Field(default=None, description="the token itself, shown only once")
