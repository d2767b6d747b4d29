"""Test data, created through the real actions and the real API."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from service.auth.passwords import hash_password
from service.companies.models import Company
from service.users.models import Role, User

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)


class FakeClock:
    """The app's clock in tests: real time plus an offset that a test may move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def unique_email(prefix: str = "user") -> str:
    return f"{unique(prefix)}@example.com"


@dataclass
class Member:
    user: User
    email: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    """A fresh company with a logged-in admin; `member()` adds more people."""

    company: Company
    admin: Member
    client: httpx.AsyncClient
    members: list[Member] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return self.admin.headers

    async def member(self, role: Role = Role.agent, *, is_super: bool = False) -> Member:
        return await make_member(self.client, self.company, role=role, is_super=is_super)


async def log_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, *, device: str | None = None
) -> httpx.Response:
    headers = {"X-Atende-Device": device} if device else {}
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def make_member(
    client: httpx.AsyncClient, company: Company, *, role: Role = Role.agent, is_super: bool = False
) -> Member:
    email = unique_email(role.value)
    user = await User.create(
        company=company,
        name=unique(role.value),
        email=email,
        password_hash=_PASSWORD_HASH,
        role=role,
        is_super=is_super,
    )
    response = await log_in(client, email)
    assert response.status_code == 200, response.text
    body = response.json()
    return Member(user, email, body["access_token"], body["refresh_token"])


async def make_tenant(client: httpx.AsyncClient) -> Tenant:
    company = await Company.create(name=unique("company"))
    admin = await make_member(client, company, role=Role.admin)
    return Tenant(company=company, admin=admin, client=client)
