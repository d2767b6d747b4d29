"""What the flow engine is told: a connection's BotConfig and a ticket's Conversation,
read from the database (flows/ itself never touches it)."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from flows.context import BotConfig, Conversation, QueueInfo
from flows.spec import BusinessHours, validate_options_tree
from service.companies.service import get_company_settings
from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Ticket, TicketStatus
from service.users.models import User

__all__ = ["bot_config_for", "conversation_for"]


def _queue_info(queue: Queue, connection: Connection) -> QueueInfo:
    return QueueInfo(
        id=queue.id,
        name=queue.name,
        greeting=queue.greeting,
        keywords=tuple(queue.keywords or ()),
        options=tuple(validate_options_tree(queue.options or [])),
        business_hours=(
            BusinessHours.model_validate(queue.business_hours) if queue.business_hours else None
        ),
        out_of_hours_message=queue.out_of_hours_message or connection.out_of_hours_message,
    )


async def bot_config_for(*, connection_id: int) -> BotConfig:
    """The bot of this connection: its queues in menu order and its company's settings."""
    connection = await Connection.get(id=connection_id)
    queues = await connection.queues.all().order_by("position", "id")
    settings = await get_company_settings(company_id=connection.company_id)  # type: ignore[attr-defined]
    return BotConfig(
        queues=tuple(_queue_info(queue, connection) for queue in queues),
        connection_greeting=connection.greeting,
        language=settings.language,
        human_keywords=tuple(settings.human_keywords),
        optout_keywords=tuple(settings.optout_keywords),
        optin_keywords=tuple(settings.optin_keywords),
        triage_max_misses=settings.triage_max_misses,
        fallback_queue_id=settings.fallback_queue_id,
        business_hours=settings.business_hours,
        out_of_hours_action=settings.out_of_hours_action,
        csat_enabled=settings.csat_enabled,
        texts=MappingProxyType(dict(settings.bot_texts)),
    )


async def conversation_for(ticket: Ticket, *, contact: Contact, now: datetime) -> Conversation:
    """The ticket as the engine sees it."""
    agent_name = None
    if ticket.user_id is not None:  # type: ignore[attr-defined]
        agent_name = await User.filter(id=ticket.user_id).first().values_list("name", flat=True)  # type: ignore[attr-defined]
    return Conversation(
        contact_name=contact.name,
        protocol=str(ticket.id),
        now=now,
        ticket_status=ticket.status.value,
        queue_id=ticket.queue_id,  # type: ignore[attr-defined]
        agent_name=str(agent_name) if agent_name else None,
        # Only a closed ticket asks for a rating (a reopened one keeps the flag in its state).
        awaiting_rating=(
            ticket.status is TicketStatus.closed and bool(ticket.flow_state.get("awaiting_rating"))
        ),
        opted_out=contact.opted_out,
    )
