"""What people do to a ticket: accept, transfer, close, reopen, reply, note, read.

Each checks who may do it, changes the ticket through its lifecycle (service.tickets
.lifecycle), stores the history line, and publishes its events after the outermost commit
(a unit of work: service.realtime.events). None writes the audit log (tickets are work, not
admin configuration). Sending over the channel is not done here: a message is stored as
`pending` and the caller hands it to the sender after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from bot.channel import MediaRef
from flows.builtin.csat import goodbye
from flows.texts import render
from service.auth.tokens import Principal
from service.connections.models import Connection
from service.contacts.models import Contact
from service.errors import Conflict, Forbidden, InvalidFields, NotFound
from service.events import MESSAGE_CREATED
from service.flow_config import bot_config_for, conversation_for
from service.media import media_fields
from service.queues.models import Queue
from service.realtime.broker import Broker
from service.realtime.events import EventBatch, transaction_with_events
from service.tenancy import id_in_range, scoped
from service.tickets import lifecycle
from service.tickets.audience import ticket_audience
from service.tickets.history import announce, record
from service.tickets.lifecycle import Actor, Change
from service.tickets.models import (
    ACTIVE_STATUSES,
    Direction,
    Message,
    MessageStatus,
    Ticket,
    TicketStatus,
)
from service.tickets.service import (
    get_visible_ticket,
    get_writable_ticket,
    message_out,
    sees_unqueued,
)
from service.users.models import User

__all__ = [
    "TicketRead",
    "accept_ticket",
    "add_note",
    "close_ticket",
    "mark_read",
    "reopen_ticket",
    "send_agent_message",
    "transfer_ticket",
]


def _user_id(actor: Principal, doing: str) -> int:
    """The actor's user id; an API token is nobody an open ticket could be assigned to."""
    if actor.user_id is None:
        raise Forbidden(f"Only a user may {doing}: an API token cannot be a ticket's agent")
    return actor.user_id


async def _in_queue(company_id: int, user_id: int, queue_id: int) -> bool:
    return await scoped(Queue, company_id).filter(id=queue_id, users__id=user_id).exists()


async def _reload(company_id: int, ticket_id: int) -> Ticket:
    return await scoped(Ticket, company_id).get(id=ticket_id)


async def _locked(company_id: int, ticket_id: int) -> Ticket | None:
    """The company's ticket, its row locked until the transaction ends (Postgres)."""
    if not id_in_range(Ticket, ticket_id):
        return None
    return await scoped(Ticket, company_id).filter(id=ticket_id).select_for_update().first()


async def _changed(
    ticket: Ticket, change: Change, batch: EventBatch, *, was: dict[str, Any]
) -> None:
    """Store the ticket and its history line; the whole ticket and the line are announced."""
    await ticket.save()
    await record([change], batch)
    await announce(ticket, batch, was=was)


async def accept_ticket(
    *, actor: Principal, ticket_id: int, now: datetime, broker: Broker
) -> Ticket:
    """Take a pending ticket: it becomes open and the actor's. An agent only takes tickets of
    their queues; a ticket that is no longer pending is a 409, so of two agents accepting at
    once exactly one wins (and the other learns why, though the ticket is no longer theirs
    to see)."""
    user_id = _user_id(actor, "accept a ticket")
    async with transaction_with_events(broker) as batch:
        ticket = await _locked(actor.company_id, ticket_id)
        if ticket is None:
            raise NotFound(f"Ticket {ticket_id} not found")
        queue_id: int | None = ticket.queue_id  # type: ignore[attr-defined]
        if not actor.sees_all_tickets:
            # An agent of the ticket's queue learns that a colleague took it first (409); one
            # outside the queue sees nothing of it (404), or is refused their own (403).
            if queue_id is not None:
                of_my_queue = await _in_queue(actor.company_id, user_id, queue_id)
            else:  # the fallback queue's agents take the tickets without a queue
                of_my_queue = await sees_unqueued(actor)
            if not of_my_queue:
                if ticket.user_id != user_id:  # type: ignore[attr-defined]
                    raise NotFound(f"Ticket {ticket_id} not found")
                raise Forbidden("An agent accepts only tickets of their queues")
        if ticket.status is TicketStatus.open:
            raise Conflict("The ticket was accepted by someone else")
        was = ticket_audience(ticket)
        change = lifecycle.accept(ticket, user_id=user_id, now=now)
        await _changed(ticket, change, batch, was=was)
        return ticket


async def transfer_ticket(
    *,
    actor: Principal,
    ticket_id: int,
    queue_id: int | None = None,
    user_id: int | None = None,
    note: str = "",
    now: datetime,
    broker: Broker,
) -> Ticket:
    """Move an active ticket to a queue (pending there, unassigned) and/or to an agent (open,
    theirs; they must belong to the ticket's queue when it has one), with an optional note
    for whoever takes it. Unknown or foreign queue or user is a 422 on that field; a closed
    ticket is a 409."""
    if queue_id is None and user_id is None:
        raise InvalidFields({"queue_id": "give a queue_id, a user_id or both"})
    async with transaction_with_events(broker) as batch:
        ticket = await get_visible_ticket(principal=actor, ticket_id=ticket_id, lock=True)
        if ticket.status not in ACTIVE_STATUSES:
            raise Conflict(f"The ticket is {ticket.status.value}: reopen it first")
        if (
            queue_id is not None
            and not await scoped(Queue, actor.company_id).filter(id=queue_id).exists()
        ):
            raise InvalidFields({"queue_id": f"unknown queue {queue_id}"})
        target_queue: int | None = queue_id if queue_id is not None else ticket.queue_id  # type: ignore[attr-defined]
        if user_id is not None:
            if not await scoped(User, actor.company_id).filter(id=user_id, is_active=True).exists():
                raise InvalidFields({"user_id": f"unknown user {user_id}"})
            if target_queue is not None and not await _in_queue(
                actor.company_id, user_id, target_queue
            ):
                raise InvalidFields({"user_id": "the user does not belong to the ticket's queue"})
        was = ticket_audience(ticket)
        change = lifecycle.transfer(
            ticket,
            queue_id=target_queue,
            user_id=user_id,
            by=Actor.user(actor.user_id),
            note=note,
            now=now,
        )
        await _changed(ticket, change, batch, was=was)
        return ticket


async def close_ticket(
    *, actor: Principal, ticket_id: int, now: datetime, broker: Broker
) -> Ticket:
    """Close an active ticket (bot, pending or open); closing a closed ticket is a 409. Its
    goodbye (the rating question or the farewell, as the CSAT flow decides) is stored as
    pending, for the caller to hand to the sender."""
    async with transaction_with_events(broker) as batch:
        ticket = await get_visible_ticket(principal=actor, ticket_id=ticket_id, lock=True)
        was = ticket_audience(ticket)
        handled = ticket.user_id is not None  # type: ignore[attr-defined]
        change = lifecycle.close(ticket, by=Actor.user(actor.user_id), now=now)
        goodbye = await _say_goodbye(ticket, agent_handled=handled, now=now)
        if goodbye is not None:  # for those who see the ticket before it closes
            MESSAGE_CREATED.add(batch, message_out(goodbye), audience=was)
        await _changed(ticket, change, batch, was=was)
        return ticket


async def _say_goodbye(ticket: Ticket, *, agent_handled: bool, now: datetime) -> Message | None:
    """What closing says, stored as pending for the sender (None when there is nothing)."""
    contact = await Contact.get(id=ticket.contact_id)  # type: ignore[attr-defined]
    config = await bot_config_for(connection_id=ticket.connection_id)  # type: ignore[attr-defined]
    config = config.speaking(contact.language)
    conversation = await conversation_for(ticket, contact=contact, now=now)
    farewell = (await Connection.get(id=ticket.connection_id)).farewell  # type: ignore[attr-defined]
    said = goodbye(config=config, agent_handled=agent_handled, farewell=farewell)
    ticket.flow_state = {**ticket.flow_state, **said.slots}
    text = render(said.template, config=config, conversation=conversation)
    if not text.strip():
        return None
    return await Message.create(
        company_id=ticket.company_id,  # type: ignore[attr-defined]
        ticket_id=ticket.id,
        connection_id=ticket.connection_id,  # type: ignore[attr-defined]
        direction=Direction.outbound,
        body=text,
        from_bot=True,
        status=MessageStatus.pending,
        processed_at=now,
    )


async def reopen_ticket(
    *, actor: Principal, ticket_id: int, now: datetime, broker: Broker
) -> Ticket:
    """Reopen a closed ticket as the actor's open ticket; 409 when it is not closed or when the
    contact already has another active ticket on that connection."""
    user_id = _user_id(actor, "reopen a ticket")
    async with transaction_with_events(broker) as batch:
        ticket = await get_visible_ticket(principal=actor, ticket_id=ticket_id, lock=True)
        if ticket.status != TicketStatus.closed:
            raise Conflict(f"The ticket is {ticket.status.value}, not closed")
        other = (
            await scoped(Ticket, actor.company_id)
            .filter(
                contact_id=ticket.contact_id,  # type: ignore[attr-defined]
                connection_id=ticket.connection_id,  # type: ignore[attr-defined]
                status__in=ACTIVE_STATUSES,
            )
            .exclude(id=ticket.id)
            .first()
        )
        if other is not None:
            raise Conflict(
                f"The contact already has an active ticket ({other.id}) on this connection",
                fields={"ticket_id": str(other.id)},
            )
        was = ticket_audience(ticket)
        change = lifecycle.reopen(ticket, user_id=user_id, now=now)
        try:
            await _changed(ticket, change, batch, was=was)
        except IntegrityError as exc:  # a new ticket arrived meanwhile (the partial index)
            raise Conflict("The contact already has an active ticket on this connection") from exc
        return ticket


async def send_agent_message(
    *,
    actor: Principal,
    ticket_id: int,
    text: str,
    now: datetime,
    reply_to: int | None = None,
    media: MediaRef | None = None,
    broker: Broker,
) -> Message:
    """Store an agent's outbound message (text, or a file stored under MEDIA_DIR with `text`
    as its caption) as `pending`, for the caller to hand to the sender after commit. An agent
    writes only on their own open ticket; admins and supervisors on any active ticket; a
    closed ticket is a 409 for everyone. `reply_to` quotes one of the ticket's messages
    that reached WhatsApp (else a 422)."""
    async with transaction_with_events(broker) as batch:
        ticket = await get_writable_ticket(principal=actor, ticket_id=ticket_id, lock=True)
        quoted = None if reply_to is None else await _quoted_channel_id(ticket, reply_to)
        message = await Message.create(
            company_id=actor.company_id,
            ticket_id=ticket.id,
            connection_id=ticket.connection_id,  # type: ignore[attr-defined]
            direction=Direction.outbound,
            body=text,
            status=MessageStatus.pending,
            sender_user_id=actor.user_id,
            quoted_channel_id=quoted,
            created_at=now,
            **media_fields(media),
        )
        if ticket.first_agent_reply_at is None:
            ticket.first_agent_reply_at = now
        ticket.last_message = text[:500] or (f"[{media.kind}]" if media else "")
        ticket.last_message_at = now
        await ticket.save()
        MESSAGE_CREATED.add(batch, message_out(message), audience=ticket_audience(ticket))
        return message


async def _quoted_channel_id(ticket: Ticket, reply_to: int) -> str:
    """The channel id of the ticket's message `reply_to`, which a reply may quote."""
    target = None
    if id_in_range(Message, reply_to):
        target = await Message.filter(id=reply_to, ticket_id=ticket.id, is_note=False).first()
    if target is None:
        raise InvalidFields({"reply_to": "is not a message of this ticket"})
    if target.revoked_at is not None:
        raise InvalidFields({"reply_to": "was deleted for everyone"})
    if not target.channel_message_id:
        raise InvalidFields({"reply_to": "has not reached WhatsApp yet"})
    return target.channel_message_id


async def add_note(
    *, actor: Principal, ticket_id: int, text: str, now: datetime, broker: Broker
) -> Message:
    """An internal note on a ticket the actor sees (any status). Notes are never delivered:
    they are stored as `sent` (never `pending`, which the sender picks up) with is_note."""
    async with transaction_with_events(broker) as batch:
        ticket = await get_visible_ticket(principal=actor, ticket_id=ticket_id)
        note = await Message.create(
            company_id=actor.company_id,
            ticket_id=ticket.id,
            connection_id=ticket.connection_id,  # type: ignore[attr-defined]
            direction=Direction.outbound,
            body=text,
            status=MessageStatus.sent,
            is_note=True,
            sender_user_id=actor.user_id,
            created_at=now,
        )
        MESSAGE_CREATED.add(batch, message_out(note), audience=ticket_audience(ticket))
        return note


@dataclass(frozen=True, slots=True)
class TicketRead:
    """A ticket just read, and the channel ids of the customer's messages that were unread."""

    ticket: Ticket
    unread_channel_ids: list[str]


async def mark_read(*, actor: Principal, ticket_id: int, broker: Broker) -> TicketRead:
    """The caller has read the ticket: its unread count goes back to 0. Also says which of
    the customer's messages were unread, for the caller to mark read on WhatsApp."""
    async with transaction_with_events(broker) as batch:
        ticket = await get_visible_ticket(principal=actor, ticket_id=ticket_id, lock=True)
        channel_ids: list[str] = []
        if ticket.unread_count > 0:
            # The unread ones are the latest `unread_count` inbound messages.
            rows = (
                await Message.filter(ticket_id=ticket.id, direction=Direction.inbound)
                .order_by("-id")
                .limit(ticket.unread_count)
                .values_list("channel_message_id", flat=True)
            )
            channel_ids = [str(row) for row in reversed(rows) if row]
            await scoped(Ticket, actor.company_id).filter(id=ticket.id).update(unread_count=0)
            ticket = await _reload(actor.company_id, ticket.id)
            await announce(ticket, batch, was=None)
        return TicketRead(ticket, channel_ids)
