"""Request and response shapes of /api/users."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from service.http import DbId, PageQuery, ResponseModel, StrictModel
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


class UserOut(ResponseModel):
    id: int
    """The user's id."""
    name: str
    """The name customers and colleagues see (e.g. in {{agent}})."""
    email: str
    """The login email, lowercase and unique."""
    role: Role
    """admin: manages the company; supervisor: sees and reassigns every ticket; agent:
    attends the tickets of their queues."""
    is_super: bool
    """A super-admin: also manages every company and the plans."""
    is_active: bool
    """False: the user may not log in (their sessions were ended)."""
    language: str
    """The language of the user's interface: pt-BR, en or es."""
    queue_ids: list[int]
    """The queues the user attends, by id."""
    created_at: datetime
    """When the user was created (UTC)."""


class UserQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200)
    """Only the users whose name or email contains this (ignoring case)."""
    role: Role | None = None
    """Only the users with this role."""


class UserCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ana Souza",
                    "email": "ana@example.com",
                    "password": "a-long-secret",
                    "role": "agent",
                    "queue_ids": [1, 2],
                    "language": "pt-BR",
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    """The name customers and colleagues see."""
    email: Email
    """The login email; stored lowercase, unique across all companies."""
    password: Password
    """The initial password, 8-200 characters."""
    role: Role = Role.agent
    """admin, supervisor or agent (see UserOut.role)."""
    queue_ids: list[DbId] = Field(default_factory=list, max_length=500)
    """The queues (of this company) the user attends."""
    language: Language = "pt-BR"
    """The language of the user's interface: pt-BR, en or es."""
    is_super: bool | None = None
    """Make the user a super-admin; only a super-admin may set it (403 otherwise)."""


class UserUpdate(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    """A new name; left out keeps the current one."""
    email: Email | None = None
    """A new login email; left out keeps the current one."""
    password: Password | None = None
    """A new password (8-200 characters); the user's sessions are ended."""
    role: Role | None = None
    """A new role; left out keeps the current one."""
    queue_ids: list[DbId] | None = Field(default=None, max_length=500)
    """The queues the user attends, replacing the current ones; left out keeps them."""
    language: Language | None = None
    """A new interface language (pt-BR, en or es); left out keeps the current one."""
    is_active: bool | None = None
    """False deactivates the user (they are logged out and may not log in); not yourself."""
    is_super: bool | None = None
    """Grant or remove super-admin; only a super-admin may change it (403 otherwise)."""


class UserMeUpdate(StrictModel):
    """What anyone may change of their own account."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    """A new name; left out keeps the current one."""
    language: Language | None = None
    """A new interface language (pt-BR, en or es); left out keeps the current one."""
    password: Password | None = None
    """A new password (8-200 characters); needs `current_password`."""
    current_password: str | None = Field(default=None, min_length=1, max_length=200)
    """The current password: required to change the password."""
