"""What the inbound path reads and writes, as one protocol with one implementation per
database (service.inbound.postgres, service.inbound.sqlite).

Each implementation speaks its own database's SQL on the driver's connection (the current
transaction's when there is one), never through the ORM's query machinery: the hot path's
statements are few and fixed, and building them anew per message cost more CPU than their
round trips. Rows come back as the ORM's models, so the rest of the service reads them as
it reads any other.

The Postgres store does more per statement (storing a message while it looks up its chat,
a new customer's contact, ticket and message together) and offers the *unlocked* save: the
ticket's row version read with the message, checked by the statement that writes the result
(see `Stored.version`). The SQLite store does the same work in more, simpler statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.contacts.models import Contact
from service.flow_config import ConnectionInfo
from service.tickets.models import Message, Ticket, TicketEvent

__all__ = ["Customer", "InboundStore", "Saved", "Stored"]

Row = Mapping[str, Any]


@dataclass
class Stored:
    """A stored inbound message and what storing it read, for the processing that follows.

    `ticket` and `message` are as stored, and `version` the ticket's row version then, when
    the store read them with the message (Postgres, a conversation going on). Given them,
    processing may run without the ticket's lock and save only if the version is unchanged
    and no older message waits (`InboundStore.save_unlocked`)."""

    message_id: int
    ticket_id: int
    contact: Contact
    connection: ConnectionInfo
    campaign_recent: bool = True  # see Customer
    ticket: Ticket | None = None
    message: Message | None = None
    version: int | None = None


@dataclass(frozen=True)
class Customer:
    """What one statement read (and perhaps stored) for a customer's message."""

    connection: ConnectionInfo
    contact: Contact | None
    latest: Ticket | None  # the contact's latest ticket on the connection
    tried: bool  # whether the statement tried to store the message on `latest`
    stored: Stored | None  # the message, if it stored it
    # False when no campaign message went to the contact lately (its new conversation
    # answers none: nothing to look up); True when there was or it is not known.
    campaign_recent: bool = True


@dataclass(frozen=True)
class Saved:
    """What a processing unit stored: the bot's replies and the ticket's history lines."""

    replies: list[Message]
    lines: list[TicketEvent]


class InboundStore(Protocol):
    """The inbound path's statements (see the module)."""

    async def connection(self, connection_id: int) -> ConnectionInfo | None:
        """The connection with the stamp of its bot (service.flow_config); None if gone."""

    async def customer(
        self, *, connection_id: int, number: str, since: datetime, message: Row
    ) -> Customer | None:
        """The connection, the contact with this number, its latest ticket on the connection
        and whether a campaign message went to it since `since`; a store may also store
        `message` (a row of `messages` but for its company and ticket) on that ticket if it
        is active. None for an unknown connection."""

    async def first_message(
        self, *, connection: ConnectionInfo, contact: Row, ticket: Row, message: Row
    ) -> Stored | None:
        """A new customer's contact, its ticket and its first message on the connection at
        once, if the store can; None when it cannot, or when the
        contact was made meanwhile: the caller then goes the long way."""

    async def contact(self, company_id: int, number: str) -> Contact | None:
        """The company's contact with this number."""

    async def add_contact(self, row: Row) -> Contact | None:
        """A new contact; None when one with its number exists already."""

    async def add_ticket(self, row: Row) -> Ticket | None:
        """A new active ticket; None when its contact has one on the connection already."""

    async def active_ticket(self, contact_id: int, connection_id: int) -> Ticket | None:
        """The contact's active ticket on the connection."""

    async def add_message(self, row: Row) -> int | None:
        """A stored inbound message's id; None for a redelivery (its channel id is known)."""

    async def is_stored(self, connection_id: int, channel_message_id: str) -> bool:
        """Whether a message with this channel id is stored for the connection."""

    async def lock_and_claim(
        self, ticket_id: int, now: datetime
    ) -> tuple[Ticket | None, list[Message]]:
        """In the caller's transaction: the ticket locked, and its unprocessed inbound
        messages in order, marked processed at `now`; (None, []) when the ticket is gone."""

    async def save(
        self,
        ticket: Ticket,
        changed: Sequence[str],
        replies: Sequence[Row],
        lines: Sequence[Row],
    ) -> Saved:
        """In the caller's transaction: the ticket's changed fields, the replies and the
        history lines."""

    async def save_unlocked(
        self,
        stored: Stored,
        now: datetime,
        changed: Sequence[str],
        replies: Sequence[Row],
        lines: Sequence[Row],
    ) -> Saved | None:
        """`save`, and the message claimed as processed at `now`, in one statement of its
        own, only if the ticket's row is still the version `stored` read and none of its
        older messages waits to be processed; None (nothing written) otherwise: the caller
        starts over locked."""

    async def waiting_tickets(self) -> list[int]:
        """The tickets with inbound messages not processed yet, by id."""
