"""The InboundStore contract (service.inbound.store), one suite for every store: it runs on
the store of the session's database, so the embedded run checks SqliteStore and the Postgres
run PostgresStore (CI runs both). Where the protocol lets a store do more in one statement
(store while looking up, save unlocked), the suite checks whatever the store chose to do is
all of it or none of it."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from service.contacts.models import Contact
from service.inbound.opening import contact_row
from service.inbound.postgres import PostgresStore
from service.inbound.sqlite import SqliteStore
from service.inbound.store import InboundStore, Stored
from service.sql import is_postgres
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from tests.factories import Tenant, unique
from tests.helpers.campaigns import sandbox_connection
from tests.helpers.contacts import fresh_number

NOW = datetime(2026, 5, 5, 14, 0, tzinfo=UTC)
STORES = (PostgresStore, SqliteStore)


@pytest.fixture
def store() -> InboundStore:
    return PostgresStore() if is_postgres() else SqliteStore()


def _message(connection_id: int, text: str = "oi") -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "direction": Direction.inbound,
        "body": text,
        "channel_message_id": unique("wa"),
        "quoted_channel_id": None,
        "status": MessageStatus.delivered,
        "created_at": NOW,
    }


def _ticket(company_id: int, connection_id: int, contact_id: int) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "connection_id": connection_id,
        "contact_id": contact_id,
        "status": TicketStatus.bot,
        "flow_state": {},
    }


async def _conversation(
    store: InboundStore, tenant: Tenant, connection_id: int
) -> tuple[Contact, Ticket]:
    company_id = tenant.company.id
    contact = await store.add_contact(
        contact_row(company_id, fresh_number(), "Ana", is_group=False)
    )
    assert contact is not None
    ticket = await store.add_ticket(_ticket(company_id, connection_id, contact.id))
    assert ticket is not None
    return contact, ticket


def test_every_store_has_the_whole_protocol() -> None:
    wanted = {
        name: inspect.signature(member)
        for name, member in vars(InboundStore).items()
        if inspect.iscoroutinefunction(member)
    }
    assert len(wanted) == 13
    for store in STORES:
        for name, signature in wanted.items():
            assert inspect.signature(getattr(store, name)) == signature, f"{store.__name__}.{name}"


async def test_connection_and_contacts(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    info = await store.connection(connection_id)
    assert info is not None
    assert (info.id, info.company_id) == (connection_id, tenant.company.id)
    assert await store.connection(10**9) is None
    number = fresh_number()
    row = contact_row(tenant.company.id, number, "Ana", is_group=False)
    made = await store.add_contact(row)
    assert made is not None
    assert made.number == number
    assert made.language == "pt-BR"  # a +55 number
    assert await store.add_contact(row) is None  # one contact per company and number
    found = await store.contact(tenant.company.id, number)
    assert found is not None
    assert found.id == made.id


async def test_one_active_ticket_per_contact_and_connection(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contact, ticket = await _conversation(store, tenant, connection_id)
    assert await store.add_ticket(_ticket(tenant.company.id, connection_id, contact.id)) is None
    active = await store.active_ticket(contact.id, connection_id)
    assert active is not None
    assert active.id == ticket.id
    assert active.status is TicketStatus.bot


async def test_a_message_is_stored_once(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    _, ticket = await _conversation(store, tenant, connection_id)
    row = {"company_id": tenant.company.id, "ticket_id": ticket.id, **_message(connection_id)}
    assert not await store.is_stored(connection_id, row["channel_message_id"])
    message_id = await store.add_message(row)
    assert message_id is not None
    assert await store.is_stored(connection_id, row["channel_message_id"])
    assert await store.add_message(row) is None  # a redelivery
    assert await Message.filter(ticket_id=ticket.id).count() == 1
    assert ticket.id in await store.waiting_tickets()


async def test_customer_reads_the_chat_and_stores_all_or_nothing(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    since = NOW - timedelta(days=7)
    assert (
        await store.customer(
            connection_id=10**9, number="+5511999990000", since=since, message=_message(1)
        )
        is None
    )
    new = await store.customer(
        connection_id=connection_id, number=fresh_number(), since=since, message=_message(0)
    )
    assert new is not None
    assert (new.contact, new.latest, new.stored, new.campaign_recent) == (None, None, None, False)
    contact, ticket = await _conversation(store, tenant, connection_id)
    message = _message(connection_id, "segunda")
    found = await store.customer(
        connection_id=connection_id, number=contact.number, since=since, message=message
    )
    assert found is not None
    stored_now = await store.is_stored(connection_id, message["channel_message_id"])
    if found.stored is None:  # a store that only looks up
        assert found.contact is not None
        assert found.latest is not None
        assert (found.contact.id, found.latest.id, stored_now, found.tried) == (
            contact.id,
            ticket.id,
            False,
            False,
        )
        return
    assert stored_now
    stored = found.stored
    assert (stored.ticket_id, stored.contact.id, stored.connection.id) == (
        ticket.id,
        contact.id,
        connection_id,
    )
    assert stored.message is not None
    assert (stored.message.id, stored.message.body) == (stored.message_id, "segunda")
    again = await store.customer(
        connection_id=connection_id, number=contact.number, since=since, message=message
    )
    assert again is not None
    assert (again.stored, again.tried) == (None, True)  # the redelivery is not stored twice
    assert await Message.filter(ticket_id=ticket.id).count() == 1


async def test_first_message_makes_all_three_or_nothing(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    info = await store.connection(connection_id)
    assert info is not None
    company_id = tenant.company.id
    number = fresh_number()
    message = {"company_id": company_id, **_message(connection_id)}
    first = await store.first_message(
        connection=info,
        contact=contact_row(company_id, number, "Bia", is_group=False),
        ticket={
            k: v for k, v in _ticket(company_id, connection_id, 0).items() if k != "contact_id"
        },
        message=message,
    )
    if first is None:  # a store that leaves it to the long way has written nothing
        assert await store.contact(company_id, number) is None
        return
    assert first.ticket is not None
    assert first.message is not None
    assert (first.contact.number, first.ticket.contact_id, first.message.ticket_id) == (  # type: ignore[attr-defined]
        number,
        first.contact.id,
        first.ticket_id,
    )
    assert first.campaign_recent is False
    assert await store.is_stored(connection_id, message["channel_message_id"])


async def test_lock_and_claim_takes_each_message_once_in_order(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    _, ticket = await _conversation(store, tenant, connection_id)
    ids = []
    for text in ("um", "dois", "três"):
        row = {"company_id": tenant.company.id, "ticket_id": ticket.id}
        message_id = await store.add_message({**row, **_message(connection_id, text)})
        assert message_id is not None
        ids.append(message_id)
    async with in_transaction():
        locked, claimed = await store.lock_and_claim(ticket.id, NOW)
        assert locked is not None
        assert locked.id == ticket.id
        assert [m.id for m in claimed] == ids
        assert [m.body for m in claimed] == ["um", "dois", "três"]
        assert all(m.processed_at == NOW for m in claimed)
    async with in_transaction():
        assert (await store.lock_and_claim(ticket.id, NOW))[1] == []
        assert await store.lock_and_claim(10**9, NOW) == (None, [])
    assert ticket.id not in await store.waiting_tickets()


async def test_save_writes_the_ticket_its_lines_and_replies(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    _, ticket = await _conversation(store, tenant, connection_id)
    ticket.unread_count, ticket.last_message = 3, "três"
    replies = [_reply(ticket, "olá"), _reply(ticket, "menu")]
    lines = [_line(ticket, "handed_off")]
    async with in_transaction():
        saved = await store.save(ticket, ["unread_count", "last_message"], replies, lines)
    assert [m.body for m in saved.replies] == ["olá", "menu"]
    assert saved.replies[0].id < saved.replies[1].id
    assert [line.kind for line in saved.lines] == ["handed_off"]
    assert saved.lines[0].id is not None
    read = await Ticket.get(id=ticket.id)
    assert (read.unread_count, read.last_message) == (3, "três")
    assert await Message.filter(ticket_id=ticket.id, direction="out").count() == 2


async def test_an_unlocked_save_is_all_or_nothing(
    store: InboundStore, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await sandbox_connection(client, tenant)
    contact, ticket = await _conversation(store, tenant, connection_id)

    async def stored_now(text: str) -> Stored | None:
        found = await store.customer(
            connection_id=connection_id,
            number=contact.number,
            since=NOW,
            message=_message(connection_id, text),
        )
        assert found is not None
        return found.stored

    first = await stored_now("um")
    if first is None or first.version is None:
        pytest.skip("this store processes under the lock only")
    assert first.ticket is not None
    # Changed meanwhile (an agent's accept, say): nothing is written.
    await Ticket.filter(id=ticket.id).update(last_message="mudou")
    first.ticket.unread_count = 1
    replies = [_reply(first.ticket, "olá")]
    assert await store.save_unlocked(first, NOW, ["unread_count"], replies, []) is None
    assert await Message.filter(ticket_id=ticket.id, direction="out").count() == 0
    assert (await Message.get(id=first.message_id)).processed_at is None
    # Read again, a newer message waits behind the older one: nothing is written either.
    second = await stored_now("dois")
    assert second is not None
    assert second.ticket is not None
    assert await store.save_unlocked(second, NOW, ["unread_count"], replies, []) is None
    # The older one, on the current version: all of it.
    first.version = second.version
    first.ticket = second.ticket
    first.ticket.unread_count = 1
    saved = await store.save_unlocked(
        first, NOW, ["unread_count"], replies, [_line(first.ticket, "handed_off")]
    )
    assert saved is not None
    assert [m.body for m in saved.replies] == ["olá"]
    assert len(saved.lines) == 1
    assert (await Message.get(id=first.message_id)).processed_at == NOW
    assert (await Ticket.get(id=ticket.id)).unread_count == 1
    # The same version again is a stale one now.
    assert await store.save_unlocked(first, NOW, ["unread_count"], [], []) is None


def _reply(ticket: Ticket, text: str) -> dict[str, Any]:
    return {
        "company_id": ticket.company_id,  # type: ignore[attr-defined]
        "ticket_id": ticket.id,
        "connection_id": ticket.connection_id,  # type: ignore[attr-defined]
        "direction": Direction.outbound,
        "body": text,
        "from_bot": True,
        "status": MessageStatus.pending,
        "processed_at": NOW,
    }


def _line(ticket: Ticket, kind: str) -> dict[str, Any]:
    return {
        "company_id": ticket.company_id,  # type: ignore[attr-defined]
        "ticket_id": ticket.id,
        "kind": kind,
        "actor_kind": "bot",
        "actor_user_id": None,
        "from_queue_id": None,
        "to_queue_id": None,
        "from_user_id": None,
        "to_user_id": None,
        "note": "",
        "reason": "",
        "at": NOW,
    }
