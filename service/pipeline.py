"""Inbound, end to end: persist first, run the flow for bot tickets, apply its events,
store and send the replies, publish after commit, mark processed (DESIGN.md, lifecycle).

Persisting is idempotent on (connection, channel message id). Processing drains a
ticket's unprocessed inbound messages in id order under the ticket's row lock, so one
conversation is handled in order while different conversations run concurrently, and a
crash between the two steps is repaired by `recover()` at start-up."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from bot.channel import InboundMessage
from flows.builtin import default_router
from flows.builtin.csat import parse_rating
from flows.builtin.hours import OUT_OF_HOURS_SLOT
from flows.engine import FlowResult, run_flow
from flows.events import (
    CLOSE_TICKET,
    HANDOFF,
    OPT_IN,
    OPT_OUT,
    RATE_TICKET,
    SET_QUEUE,
    is_event,
)
from flows.filters import Message as FlowMessage
from service.clock import Clock
from service.connections.models import Connection
from service.contacts.models import Contact
from service.contacts.phones import normalize_number
from service.flow_config import bot_config_for, conversation_for
from service.outbound import OutboundSender
from service.realtime.broker import Broker
from service.realtime.events import EventBatch, ticket_audience, transaction_with_events
from service.tickets.models import (
    ACTIVE_STATUSES,
    Direction,
    Message,
    MessageStatus,
    Ticket,
    TicketStatus,
)

__all__ = ["Pipeline"]

log = logging.getLogger("atende.pipeline")


class _TicketLocks:
    """In-process order per ticket (the row lock does it across processes on Postgres)."""

    def __init__(self, size: int = 10_000) -> None:
        self._locks: OrderedDict[int, asyncio.Lock] = OrderedDict()
        self._size = size

    def __call__(self, ticket_id: int) -> asyncio.Lock:
        lock = self._locks.pop(ticket_id, None) or asyncio.Lock()
        self._locks[ticket_id] = lock
        while len(self._locks) > self._size:
            oldest, old_lock = next(iter(self._locks.items()))
            if old_lock.locked():
                break
            del self._locks[oldest]
        return lock


class Pipeline:
    def __init__(
        self, *, broker: Broker, sender: OutboundSender, clock: Clock, default_country: str
    ) -> None:
        self._broker = broker
        self._sender = sender
        self._clock = clock
        self._country = default_country
        self._locks = _TicketLocks()
        self._router = default_router()

    async def receive(self, inbound: InboundMessage) -> int | None:
        """Persist and process one inbound message; None when it was a redelivery."""
        stored = await self.persist(inbound)
        if stored is None:
            return None
        message_id, ticket_id = stored
        await self.process_ticket(ticket_id)
        return message_id

    async def recover(self) -> int:
        """Process what was stored but not processed (a crash or a restart in between)."""
        ticket_ids = await (
            Message.filter(direction=Direction.inbound, processed_at=None, is_note=False)
            .distinct()
            .values_list("ticket_id", flat=True)
        )
        for ticket_id in sorted({int(str(t)) for t in ticket_ids}):
            await self.process_ticket(ticket_id)
        return len(ticket_ids)

    async def persist(self, inbound: InboundMessage) -> tuple[int, int] | None:
        """Step 1 alone: store the message (and its contact and ticket); None for a redelivery."""
        connection = await Connection.get_or_none(id=inbound.connection_id).only("id", "company_id")
        if connection is None:
            log.warning("inbound for unknown connection %s dropped", inbound.connection_id)
            return None
        company_id: int = connection.company_id  # type: ignore[attr-defined]
        try:
            number = normalize_number(inbound.sender, self._country)
        except ValueError:
            log.warning(
                "inbound from an unusable sender dropped",
                extra={"connection_id": connection.id},
            )
            return None
        if await Message.exists(
            connection_id=connection.id, channel_message_id=inbound.channel_message_id
        ):
            return None
        contact = await self._contact(company_id, number, inbound.push_name)
        ticket = await self._active_ticket(company_id, contact.id, connection.id, inbound.text)
        try:
            message = await Message.create(
                company_id=company_id,
                ticket_id=ticket.id,
                connection_id=connection.id,
                direction=Direction.inbound,
                body=inbound.text,
                channel_message_id=inbound.channel_message_id,
                quoted_channel_id=inbound.quoted_id,
                status=MessageStatus.delivered,
                created_at=inbound.timestamp,
            )
        except IntegrityError:
            return None  # the same delivery, stored concurrently by another handler
        return message.id, ticket.id

    async def _contact(self, company_id: int, number: str, push_name: str) -> Contact:
        contact = await Contact.get_or_none(company_id=company_id, number=number)
        if contact is not None:
            return contact
        try:
            return await Contact.create(company_id=company_id, number=number, name=push_name)
        except IntegrityError:
            return await Contact.get(company_id=company_id, number=number)

    async def _active_ticket(
        self, company_id: int, contact_id: int, connection_id: int, text: str
    ) -> Ticket:
        """The contact's active ticket on the connection; else the closed one still awaiting
        its rating, if this is a rating; else a new ticket in the bot."""
        latest = (
            await Ticket.filter(contact_id=contact_id, connection_id=connection_id)
            .order_by("-id")
            .first()
        )
        if latest is not None and latest.status in ACTIVE_STATUSES:
            return latest
        if latest is not None and latest.flow_state.get("awaiting_rating"):
            if parse_rating(FlowMessage(text)) is not None:
                return latest
            # Anything but a rating is a new conversation: the question lapses.
            latest.flow_state = {**latest.flow_state, "awaiting_rating": False}
            await latest.save(update_fields=["flow_state"])
        flow_state: dict[str, Any] = {}
        if latest is not None and latest.user_id is None and OUT_OF_HOURS_SLOT in latest.flow_state:  # type: ignore[attr-defined]
            # Closed by the bot out of hours: the customer was told once for this closed window.
            flow_state[OUT_OF_HOURS_SLOT] = latest.flow_state[OUT_OF_HOURS_SLOT]
        try:
            return await Ticket.create(
                company_id=company_id,
                contact_id=contact_id,
                connection_id=connection_id,
                status=TicketStatus.bot,
                flow_state=flow_state,
            )
        except IntegrityError:  # another message of this contact created it just now
            return await Ticket.get(
                contact_id=contact_id, connection_id=connection_id, status__in=ACTIVE_STATUSES
            )

    async def process_ticket(self, ticket_id: int) -> None:
        """Run every unprocessed inbound message of the ticket, oldest first."""
        async with self._locks(ticket_id):
            async with transaction_with_events(self._broker) as batch:
                ticket = await Ticket.filter(id=ticket_id).select_for_update().first()
                if ticket is None:
                    return
                inbound = await Message.filter(
                    ticket_id=ticket_id, direction=Direction.inbound, processed_at=None
                ).order_by("id")
                if not inbound:
                    return
                contact = await Contact.get(id=ticket.contact_id)  # type: ignore[attr-defined]
                replies: list[int] = []
                for message in inbound:
                    replies += await self._process_one(ticket, contact, message, batch)
                await ticket.save()
            await self._sender.send(replies)

    async def _process_one(
        self, ticket: Ticket, contact: Contact, message: Message, batch: EventBatch
    ) -> list[int]:
        now = self._clock()
        audience = ticket_audience(ticket)
        ticket.unread_count += 1
        ticket.last_message = message.body[:500]
        ticket.last_message_at = message.created_at
        batch.add("message.created", _message_data(message), audience=audience)
        reply_ids: list[int] = []
        # Closed tickets only hear a rating; opt-out/in works in every other status (the
        # routers of the bot's own steps filter on the `bot` status themselves).
        if ticket.status is not TicketStatus.closed or ticket.flow_state.get("awaiting_rating"):
            config = await bot_config_for(connection_id=ticket.connection_id)  # type: ignore[attr-defined]
            conversation = await conversation_for(ticket, contact=contact, now=now)
            result = await run_flow(
                text=message.body,
                state=dict(ticket.flow_state),
                config=config,
                conversation=conversation,
                router=self._router,
            )
            await _apply(ticket, contact, result, now=now)
            for text in result.messages:
                reply = await Message.create(
                    company_id=ticket.company_id,  # type: ignore[attr-defined]
                    ticket_id=ticket.id,
                    connection_id=ticket.connection_id,  # type: ignore[attr-defined]
                    direction=Direction.outbound,
                    body=text,
                    from_bot=True,
                    status=MessageStatus.pending,
                    processed_at=now,
                )
                reply_ids.append(reply.id)
                batch.add("message.created", _message_data(reply), audience=audience)
            if result.events:
                batch.add("ticket.updated", _ticket_data(ticket), audience=ticket_audience(ticket))
        message.processed_at = now
        await message.save(update_fields=["processed_at"])
        return reply_ids


async def _apply(ticket: Ticket, contact: Contact, result: FlowResult, *, now: datetime) -> None:
    """What the flow asked for, done to the ticket (saved by the caller) and the contact."""
    ticket.flow_state = result.state
    for event in result.events:
        if is_event(event, HANDOFF):
            ticket.status = TicketStatus.pending
            ticket.queue_id = event["queue_id"]
            ticket.handed_off_at = now
        elif is_event(event, SET_QUEUE):
            ticket.queue_id = event["queue_id"]
        elif is_event(event, CLOSE_TICKET):
            ticket.status = TicketStatus.closed
            ticket.closed_at = now
        elif is_event(event, RATE_TICKET):
            ticket.rating = event["rating"]
        elif is_event(event, OPT_OUT) or is_event(event, OPT_IN):
            contact.opted_out = is_event(event, OPT_OUT)
            contact.opted_out_at = now if contact.opted_out else None
            await contact.save(update_fields=["opted_out", "opted_out_at", "updated_at"])


def _message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,  # type: ignore[attr-defined]
        "direction": message.direction,
        "body": message.body,
        "status": message.status,
        "from_bot": message.from_bot,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def _ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "status": ticket.status,
        "queue_id": ticket.queue_id,  # type: ignore[attr-defined]
        "user_id": ticket.user_id,  # type: ignore[attr-defined]
        "unread_count": ticket.unread_count,
    }
