"""The bot's turn: one claimed message through the conversation flow (flows/), and what the
flow asked for done to the ticket through its lifecycle and to the contact.

Nothing here writes the ticket or the replies: they go to the `Unit`, which
service.inbound.effects stores in one statement. An *unlocked* unit (see
service.inbound.process) cannot make the few writes of its own a turn may need (a
campaign's confirmation, an opt-out): the turn then says so, and the message is processed
again under the ticket's lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.builtin import default_router
from flows.builtin.hours import OUT_OF_HOURS_SLOT
from flows.context import BotConfig
from flows.engine import FlowResult, run_flow
from flows.events import CLOSE_TICKET, HANDOFF, OPT_IN, OPT_OUT, RATE_TICKET, SET_QUEUE, is_event
from service.campaigns.actions import campaign_answered
from service.contacts.actions import contact_updated, set_opted_out
from service.contacts.models import Contact
from service.events import MESSAGE_CREATED
from service.flow_config import BotConfigs, ConnectionInfo, bot_config_for, conversation_for
from service.inbound.arrival import preview
from service.inbound.store import InboundStore
from service.outbound import OutboundSender
from service.realtime.events import EventBatch
from service.tickets import lifecycle
from service.tickets.audience import ticket_audience
from service.tickets.lifecycle import BOT, Change
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.tickets.service import message_out

__all__ = ["Reply", "Turn", "Unit", "message_data"]


@dataclass(frozen=True)
class Reply:
    """A bot's reply to store: its row, and its `message.created` event to fill in."""

    row: dict[str, Any]
    event: dict[str, Any]


@dataclass
class Unit:
    """One ticket's processing: what it read, and what it will store and publish."""

    ticket: Ticket
    contact: Contact
    batch: EventBatch
    now: datetime
    connection: ConnectionInfo | None
    campaign_recent: bool
    unlocked: bool = False
    pending: list[Reply] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


def message_data(message: Message) -> dict[str, Any]:
    return message_out(message).model_dump(mode="json")


class Turn:
    def __init__(self, *, sender: OutboundSender) -> None:
        self._sender = sender
        self._router = default_router()
        self._configs = BotConfigs()

    async def bot_config(
        self, store: InboundStore, connection_id: int, known: ConnectionInfo | None
    ) -> BotConfig:
        connection = known if known is not None and known.id == connection_id else None
        connection = connection or await store.connection(connection_id)
        if connection is None:  # deleted meanwhile: read as before, which says so
            return await bot_config_for(connection_id=connection_id)
        return await self._configs.config(connection)

    async def __call__(self, store: InboundStore, unit: Unit, message: Message) -> bool:
        """One claimed message (marked processed already) through the bot; its replies and
        history lines go to the unit. False when an unlocked unit cannot take it."""
        ticket, contact, now, batch = unit.ticket, unit.contact, unit.now, unit.batch
        audience = ticket_audience(ticket)
        ticket.unread_count += 1
        ticket.last_message = preview(message)
        ticket.last_message_at = message.created_at
        batch.add(MESSAGE_CREATED.name, message_data(message), audience=audience)
        # Closed tickets only hear a rating; opt-out/in works in every other status (the
        # routers of the bot's own steps filter on the `bot` status themselves). The bot
        # never talks in a group.
        if contact.is_group or (
            ticket.status is TicketStatus.closed and not lifecycle.awaiting_rating(ticket)
        ):
            return True
        if is_fresh(ticket) and unit.campaign_recent:
            if unit.unlocked:
                return False  # the answer to a campaign may confirm it: a write of its own
            answer = await campaign_answered(
                connection_id=ticket.connection_id,  # type: ignore[attr-defined]
                contact_id=contact.id,
                now=now,
            )
            if answer.campaign_id is not None:
                ticket.campaign_id = answer.campaign_id
            if answer.confirmed:
                # The answer to a campaign's "may we send?": the campaign sends its message
                # next, and the bot does not greet over it (the answer is kept, and the
                # customer's next message starts the bot as usual).
                return True
        config = await self.bot_config(store, ticket.connection_id, unit.connection)  # type: ignore[attr-defined]
        conversation = await conversation_for(ticket, contact=contact, now=now)
        result = await run_flow(
            text=message.body,
            state=dict(ticket.flow_state),
            config=config.speaking(contact.language),
            conversation=conversation,
            router=self._router,
        )
        if unit.unlocked and any(_opts(event) for event in result.events):
            return False  # the contact is written on its own
        if await _apply(ticket, contact, result, text=message.body, now=now, changes=unit.changes):
            await contact_updated(contact, batch)
        # Sent right after the commit by this process: stored with the send's intent.
        intent = now if self._sender.sends_here(ticket.connection_id) else None  # type: ignore[attr-defined]
        for text in result.messages:
            row = {
                "company_id": ticket.company_id,  # type: ignore[attr-defined]
                "ticket_id": ticket.id,
                "connection_id": ticket.connection_id,  # type: ignore[attr-defined]
                "direction": Direction.outbound,
                "body": text,
                "from_bot": True,
                "status": MessageStatus.pending,
                "processed_at": now,
                "send_started_at": intent,
            }
            # In its place among the events; its data once it is stored.
            event = batch.add(MESSAGE_CREATED.name, {}, audience=audience)
            unit.pending.append(Reply(row, event))
        return True


def _opts(event: dict[str, Any]) -> bool:
    return is_event(event, OPT_OUT) or is_event(event, OPT_IN)


def is_fresh(ticket: Ticket) -> bool:
    """A bot ticket the bot has not spoken in yet (the conversation's first message)."""
    return ticket.status is TicketStatus.bot and set(ticket.flow_state) <= {OUT_OF_HOURS_SLOT}


async def _apply(
    ticket: Ticket,
    contact: Contact,
    result: FlowResult,
    *,
    text: str,
    now: datetime,
    changes: list[Change],
) -> bool:
    """What the flow asked for, done to the ticket through its lifecycle (saved by the
    caller, with the history lines added to `changes`) and to the contact; whether the
    contact changed."""
    ticket.flow_state = result.state
    contact_changed = False
    for event in result.events:
        if is_event(event, HANDOFF):
            changes.append(lifecycle.hand_off(ticket, queue_id=event["queue_id"], by=BOT, now=now))
        elif is_event(event, SET_QUEUE):
            lifecycle.set_queue(ticket, queue_id=event["queue_id"])
        elif is_event(event, CLOSE_TICKET):
            changes.append(lifecycle.close(ticket, by=BOT, reason=event["reason"], now=now))
        elif is_event(event, RATE_TICKET):
            changes.append(lifecycle.rate(ticket, rating=event["rating"], now=now))
        elif is_event(event, OPT_OUT) or is_event(event, OPT_IN):
            keyword = f'keyword "{text.strip()[:60]}"'
            if set_opted_out(contact, is_event(event, OPT_OUT), now, None, keyword):
                await contact.save(
                    update_fields=["opted_out", "opted_out_at", "opted_out_reason", "updated_at"]
                )
                contact_changed = True
    return contact_changed
