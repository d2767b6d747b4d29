"""Request and response shapes of /api/users."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from service.http import DbId, PageQuery, StrictModel
from service.users.models import Role

__all__ = [
    "Email",
    "Language",
    "Password",
    "UserCreate",
    "UserMeUpdate",
    "UserOut",
    "UserQuery",
    "UserUpdate",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=8, max_length=200)]
Language = Annotated[str, Field(pattern=r"^(pt-BR|en|es)$")]
# Ids in bodies stay within a 32-bit column, so that a huge number is a 422, not a database error.


class UserOut(BaseModel):
    id: int
    name: str
    email: str
    role: Role
    is_super: bool
    is_active: bool
    language: str
    queue_ids: list[int]
    created_at: datetime


class UserQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200, description="part of the name or email")
    role: Role | None = None


class UserCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email
    password: Password
    role: Role = Role.agent
    queue_ids: list[DbId] = Field(default_factory=list, max_length=500)
    language: Language = "pt-BR"
    is_super: bool | None = Field(default=None, description="super-admins only")


class UserUpdate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    password: Password | None = None
    role: Role | None = None
    queue_ids: list[DbId] | None = Field(default=None, max_length=500)
    language: Language | None = None
    is_active: bool | None = None
    is_super: bool | None = Field(default=None, description="super-admins only")


class UserMeUpdate(StrictModel):
    """What anyone may change of their own account."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Language | None = None
    password: Password | None = None
    current_password: str | None = Field(
        default=None, min_length=1, max_length=200, description="required to change the password"
    )
