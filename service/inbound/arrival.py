"""Arrival: what a message is before anything is stored. Its chat (the sender's number, or a
group's JID), the row it will be stored as, whether it was delivered before, and the
per-ticket order in which messages are processed.

Channels deliver a chat's messages in order (bot.neonize_channel runs one lane per chat);
the order is kept from here on by processing a ticket's messages under one lock per ticket
in this process (`TicketLocks`) and, across processes, the ticket's row lock or row version
(service.inbound.process). A redelivery is caught by the message's unique key when it is
stored; `Redelivery` asks first only before a write that a redelivery must not cause."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from typing import Any

from bot.channel import InboundMessage
from bot.jids import is_group_jid
from service.contacts.phones import normalize_number
from service.inbound.store import InboundStore
from service.media import media_fields
from service.tickets.models import Direction, Message, MessageStatus

__all__ = [
    "Redelivery",
    "TicketLocks",
    "chat_number",
    "group_body",
    "group_name",
    "inbound_row",
    "preview",
    "sender_number",
]

log = logging.getLogger("atende.pipeline")

# A customer writes many messages: their sender is parsed once (phonenumbers is slow).
# A sender that is not a number raises each time: exceptions are not cached.
_normalized = functools.lru_cache(maxsize=20_000)(normalize_number)


class TicketLocks:
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


class Redelivery:
    """Whether the inbound message is stored already: asked at most once, and only before a
    write that a redelivery must not cause (the message's own insert catches the rest)."""

    def __init__(self, store: InboundStore, inbound: InboundMessage) -> None:
        self._store = store
        self._inbound = inbound
        self._known: bool | None = None

    def forget(self) -> None:
        """Known not to be stored: a contact made just now has no messages."""
        self._known = False

    async def __call__(self) -> bool:
        if self._known is None:
            inbound = self._inbound
            self._known = await self._store.is_stored(
                inbound.connection_id, inbound.channel_message_id
            )
        return self._known


def sender_number(inbound: InboundMessage, default_country: str) -> str | None:
    """The sender's number in E.164; None (and the message dropped) if it is unusable."""
    try:
        return _normalized(inbound.sender, default_country)
    except ValueError:
        extra = {"connection_id": inbound.connection_id}
        log.warning("inbound from an unusable sender dropped", extra=extra)
        return None


def chat_number(
    inbound: InboundMessage, *, groups_enabled: bool, default_country: str
) -> str | None:
    """The contact's number: the customer's in E.164, or the group's JID; None (and the
    message dropped) for a group the connection ignores or an unusable sender."""
    if inbound.group is None:
        return sender_number(inbound, default_country)
    extra = {"connection_id": inbound.connection_id}
    if not groups_enabled:
        log.debug("group message dropped: groups are off", extra=extra)
        return None
    if not is_group_jid(inbound.group):  # channels normalise JIDs: this is a bad sandbox call
        log.warning("group message from an unusable group id dropped", extra=extra)
        return None
    return inbound.group


def inbound_row(inbound: InboundMessage, body: str) -> dict[str, Any]:
    """A customer's (or group's) message as stored, but for its company and ticket."""
    return {
        "connection_id": inbound.connection_id,
        "direction": Direction.inbound,
        "body": body,
        "channel_message_id": inbound.channel_message_id,
        "quoted_channel_id": inbound.quoted_id,
        "status": MessageStatus.delivered,
        "created_at": inbound.timestamp,
        **media_fields(inbound.media),
    }


def group_name(inbound: InboundMessage) -> str:
    """A new group contact's name: the group's subject, else (not known yet) its JID."""
    subject = (inbound.group_subject or "").strip()[:200]
    return subject or inbound.group or ""


def group_body(inbound: InboundMessage, text: str) -> str:
    """A group message as agents read it: who wrote it, then what they wrote."""
    return f"{inbound.push_name or inbound.sender}: {text}"


def preview(message: Message) -> str:
    """What the inbox shows as a ticket's last message: its text, else what kind of file."""
    return message.body[:500] or (f"[{message.media_type}]" if message.media_type else "")
