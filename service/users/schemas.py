"""Request and response shapes of /api/users."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from service.http import StrictModel
from service.users.models import Role

__all__ = ["Email", "Password", "UserCreate", "UserOut", "UserUpdate"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=8, max_length=200)]
Language = Annotated[str, Field(pattern=r"^(pt-BR|en|es)$")]


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


class UserCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email
    password: Password
    role: Role = Role.agent
    queue_ids: list[int] = Field(default_factory=list, max_length=500)
    language: Language = "pt-BR"


class UserUpdate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    password: Password | None = None
    role: Role | None = None
    queue_ids: list[int] | None = Field(default=None, max_length=500)
    language: Language | None = None
    is_active: bool | None = None
