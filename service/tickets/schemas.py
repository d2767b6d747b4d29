"""Request and response shapes of /api/tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.http import DbId, PageQuery, StrictModel
from service.tickets.models import ActorKind, Direction, HistoryKind, MessageStatus, TicketStatus

__all__ = [
    "MAX_MESSAGE_TEXT",
    "ContactRef",
    "HistoryActor",
    "HistoryEntryOut",
    "MediaOut",
    "MediaUpload",
    "MessageCreate",
    "MessageOut",
    "NamedRef",
    "TicketOut",
    "TicketQuery",
    "TicketRef",
    "TransferBody",
    "TypingBody",
]

MAX_MESSAGE_TEXT = 4096
MessageText = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_TEXT)]


class TicketQuery(PageQuery):
    """GET /api/tickets: `assigned=me` keeps the caller's own tickets, `q` searches the contact's
    name and number, `contact_id` keeps one contact's tickets."""

    status: TicketStatus | None = None
    queue_id: DbId | None = None
    contact_id: DbId | None = None
    assigned: Literal["me"] | None = None
    q: Annotated[str, Field(max_length=200)] | None = None


class ContactRef(BaseModel):
    id: int
    name: str
    number: str


class CampaignRef(BaseModel):
    id: int
    name: str


class TicketOut(BaseModel):
    id: int
    status: TicketStatus
    queue_id: int | None
    user_id: int | None
    contact: ContactRef
    campaign: CampaignRef | None = None  # the campaign this conversation answers
    connection_id: int
    unread_count: int
    rating: int | None
    last_message: str
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime
    handed_off_at: datetime | None
    accepted_at: datetime | None
    first_agent_reply_at: datetime | None
    closed_at: datetime | None


class TransferBody(StrictModel):
    """To a queue (the ticket waits there, pending), to an agent (open, theirs), or both; the
    note is shown in the ticket's history to whoever takes it."""

    queue_id: DbId | None = None
    user_id: DbId | None = None
    note: Annotated[str, Field(max_length=1000)] = ""


class MessageCreate(StrictModel):
    text: MessageText
    reply_to: DbId | None = Field(
        default=None, description="id of a message of this ticket to quote (reply to)"
    )


class MediaUpload(StrictModel):
    """The text fields of POST /api/tickets/{id}/media (multipart/form-data, with `file`)."""

    caption: Annotated[str, Field(max_length=MAX_MESSAGE_TEXT)] = ""
    reply_to: DbId | None = None


class TypingBody(StrictModel):
    typing: bool


class MediaOut(BaseModel):
    """A message's file: `url` downloads it, null when only a reference to it is kept (too
    large to download) or when there is no file (a location, a contact card)."""

    type: str
    name: str | None
    mime: str | None
    size: int | None
    url: str | None


class MessageOut(BaseModel):
    id: int
    ticket_id: int
    direction: Direction
    body: str
    status: MessageStatus
    is_note: bool
    from_bot: bool
    sender_user_id: int | None
    media_type: str | None
    media_name: str | None
    media: MediaOut | None
    channel_message_id: str | None
    quoted_channel_id: str | None
    error: str | None
    created_at: datetime
    edited_at: datetime | None
    revoked_at: datetime | None


class NamedRef(BaseModel):
    """A queue or user a history line names; `name` is null when it has since been deleted."""

    id: int
    name: str | None


class HistoryActor(BaseModel):
    """Who did it: a user (with id and name), the bot, a timer, the customer or the system."""

    kind: ActorKind
    user_id: int | None
    name: str | None


class HistoryEntryOut(BaseModel):
    """One line of GET /api/tickets/{id}/history, and the data of a `ticket.history` event."""

    id: int
    ticket_id: int
    kind: HistoryKind
    actor: HistoryActor
    from_queue: NamedRef | None
    to_queue: NamedRef | None
    from_user: NamedRef | None
    to_user: NamedRef | None
    note: str
    reason: str
    at: datetime


class TicketRef(BaseModel):
    """The data of `ticket.removed`: which ticket left the agent's view."""

    id: int
