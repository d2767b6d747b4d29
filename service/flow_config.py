"""What the flow engine is told: a connection's BotConfig and a ticket's Conversation,
read from the database (flows/ itself never touches it).

The inbound pipeline reads a connection's BotConfig for every message, so it keeps them in
a `BotConfigs` cache. An entry is trusted only while the connection's *stamp* is unchanged:
one cheap statement reads the connection row with the count and latest `updated_at` of its
company's queues and settings. Every admin change to what a BotConfig is made of (a queue
created, edited or deleted; a connection's texts, flags or queue links, saved together with
the connection row; a setting) moves the stamp, in whichever worker it was made, so no
invalidation message is needed and no worker can keep a stale bot after the change commits."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from flows.context import BotConfig, Conversation, QueueInfo
from flows.spec import BusinessHours, validate_options_tree
from service.companies.service import get_company_settings
from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tickets.models import Ticket, TicketStatus
from service.users.models import User

__all__ = ["STAMP_COLUMNS", "BotConfigs", "ConnectionInfo", "bot_config_for", "conversation_for"]


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
        timezone=settings.timezone,
        out_of_hours_action=settings.out_of_hours_action,
        csat_enabled=settings.csat_enabled,
        texts=MappingProxyType(dict(settings.bot_texts)),
        texts_by_language=MappingProxyType(
            {
                language: MappingProxyType(dict(texts))
                for language, texts in settings.bot_texts_by_language.items()
            }
        ),
    )


# The stamp, as columns of a query on connections `c`: the connection row and, for its
# company, how many queues and settings there are and when the last of each was saved (a
# deletion changes the count; an edit the time).
STAMP_COLUMNS = """c.company_id AS c_company_id, c.groups_enabled AS c_groups_enabled,
  c.updated_at AS c_updated_at,
  (SELECT COUNT(*) FROM queues q WHERE q.company_id = c.company_id) AS c_queues,
  (SELECT MAX(q.updated_at) FROM queues q WHERE q.company_id = c.company_id) AS c_queues_at,
  (SELECT COUNT(*) FROM settings s WHERE s.company_id = c.company_id) AS c_settings,
  (SELECT MAX(s.updated_at) FROM settings s WHERE s.company_id = c.company_id) AS c_settings_at"""
_STAMP_KEYS = ("c_updated_at", "c_queues", "c_queues_at", "c_settings", "c_settings_at")


@dataclass(frozen=True)
class ConnectionInfo:
    """What the pipeline needs of a connection, and the stamp its cached bot is checked by."""

    id: int
    company_id: int
    groups_enabled: bool
    stamp: tuple[Any, ...]

    @classmethod
    def of_row(cls, connection_id: int, row: Mapping[str, Any]) -> ConnectionInfo:
        """From a row with the STAMP_COLUMNS."""
        return cls(
            id=connection_id,
            company_id=int(row["c_company_id"]),
            groups_enabled=bool(row["c_groups_enabled"]),
            stamp=tuple(str(row[key]) for key in _STAMP_KEYS),
        )


class BotConfigs:
    """BotConfigs by connection, each valid for as long as its connection's stamp (read by
    the inbound store with the connection, service.inbound.store)."""

    def __init__(self, size: int = 1_000) -> None:
        self._entries: OrderedDict[int, tuple[tuple[Any, ...], BotConfig]] = OrderedDict()
        self._size = size

    async def config(self, info: ConnectionInfo) -> BotConfig:
        """The connection's bot: the cached one while the stamp matches, else read anew."""
        cached = self._entries.get(info.id)
        if cached is not None and cached[0] == info.stamp:
            self._entries.move_to_end(info.id)
            return cached[1]
        # Read after the stamp: a change in between makes the next stamp differ, so the
        # worst case is one needless reload, never a stale bot.
        config = await bot_config_for(connection_id=info.id)
        self._entries[info.id] = (info.stamp, config)
        self._entries.move_to_end(info.id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return config


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
