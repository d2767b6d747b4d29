"""Test data, created through the real actions and the real API."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service.auth.passwords import hash_password
from service.companies.models import Company
from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Ticket, TicketStatus
from service.users.models import Role, User

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)

# In an event's audience: the test built this event by hand, to see where an event of its type
# goes; the catalogue check (tests/conftest.py) lets it pass.
SYNTHETIC = "synthetic"


class PublishedEvents(list[dict[str, Any]]):
    """What was published to the sockets while a test ran, in order (the `published_events`
    fixture: recorded as it goes out, so that other processes sharing a broker add nothing)."""

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self if event["type"] == event_type]

    def last(self, event_type: str, **data: Any) -> dict[str, Any]:
        """The last event of this type whose data has these values; the test fails if none
        was published."""
        found = [
            event
            for event in self.of_type(event_type)
            if all(event["data"].get(key) == value for key, value in data.items())
        ]
        assert found, f"no {event_type} with {data} was published"
        return found[-1]


# Where the fake clock starts, and goes back to after each test: a Tuesday, 14:00 UTC (11:00 in
# São Paulo, 10:00 in New York), inside the weekday business hours the tests set, so that a test
# that does not move the clock sees the same hours every run; and after the hand-built
# histories of the report tests (March 2026), which are in the past as a user would read them.
CLOCK_START = datetime(2026, 5, 5, 14, 0, tzinfo=UTC)


class FakeClock:
    """The app's clock in tests: a fixed instant that moves only when a test moves it
    (`advance`, `set`), so that nothing a test checks depends on how fast it ran."""

    def __init__(self, start: datetime = CLOCK_START) -> None:
        if start.utcoffset() is None:
            raise ValueError("the clock's start needs a time zone")
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move by `delta`: forward, or back to undo a move within a test."""
        self.now += delta

    def set(self, moment: datetime) -> None:
        """Jump to `moment`, earlier or later (a test that needs a certain hour)."""
        if moment.utcoffset() is None:
            raise ValueError("the clock's time needs a time zone")
        self.now = moment.astimezone(UTC)

    def reset(self) -> None:
        self.now = self.start


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


# Tickets, as the inbound pipeline would leave them ----------------------------------------

_numbers = itertools.count(1)


async def make_queue(tenant: Tenant, *members: User) -> Queue:
    queue = await Queue.create(company=tenant.company, name=unique("queue"))
    for user in members:
        await user.queues.add(queue)
    return queue


async def make_ticket(
    tenant: Tenant,
    *,
    status: TicketStatus = TicketStatus.pending,
    queue: Queue | None = None,
    user: User | None = None,
    contact: Contact | None = None,
    connection: Connection | None = None,
    name: str | None = None,
    number: str | None = None,
) -> Ticket:
    """A ticket as the inbound pipeline would leave it, with a fresh contact and connection
    unless given."""
    if contact is None:
        contact = await Contact.create(
            company=tenant.company,
            number=number or f"+55219{next(_numbers):08d}",
            name=name or unique("Cliente"),
        )
    if connection is None:
        connection = await Connection.create(company=tenant.company, name=unique("conn"))
    return await Ticket.create(
        company=tenant.company,
        contact=contact,
        connection=connection,
        queue=queue,
        user=user,
        status=status,
        unread_count=3,
    )


async def agent_in(tenant: Tenant, queue: Queue, role: Role = Role.agent) -> Member:
    member = await tenant.member(role)
    await member.user.queues.add(queue)
    return member
