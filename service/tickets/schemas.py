"""Request and response shapes of /api/tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from service.http import DbId, PageQuery, ResponseModel, StrictModel
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
    """Only the tickets in this status."""
    queue_id: DbId | None = None
    """Only the tickets of this queue."""
    contact_id: DbId | None = None
    """Only this contact's tickets."""
    assigned: Literal["me"] | None = None
    """me: only the tickets assigned to the caller."""
    q: Annotated[str, Field(max_length=200)] | None = None
    """Only the tickets whose contact's name contains this (ignoring case), or whose number
    contains its digits."""


class ContactRef(ResponseModel):
    id: int
    """The contact's id."""
    name: str
    """The contact's name; may be empty."""
    number: str
    """The contact's number (E.164), or the group's JID (…@g.us) for a group conversation."""


class CampaignRef(ResponseModel):
    id: int
    """The campaign's id."""
    name: str
    """The campaign's name."""


class TicketOut(ResponseModel):
    id: int
    """The ticket's id (also its protocol number, {{protocol}})."""
    status: TicketStatus
    """bot: the bot is talking; pending: waiting in a queue for an agent; open: an agent
    attends it; closed: over (it may be reopened)."""
    queue_id: int | None
    """The ticket's queue; null while the bot has not placed it in one."""
    user_id: int | None
    """The agent it is assigned to; null when nobody has it."""
    contact: ContactRef
    """The customer."""
    campaign: CampaignRef | None = None  # the campaign this conversation answers
    """The campaign whose message this conversation answers (the customer wrote within days
    of it); null otherwise."""
    connection_id: int
    """The connection (WhatsApp number) the conversation is on."""
    unread_count: int
    """The customer's messages nobody has read yet (reset when an agent reads the ticket)."""
    rating: int | None
    """The customer's rating of the service, 1-5; null until rated."""
    last_message: str
    """The latest message's text (at most 500 characters; "[image]" and the like for a
    file without caption)."""
    last_message_at: datetime | None
    """When the latest message was sent or received (UTC); null before any."""
    created_at: datetime
    """When the ticket was opened (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""
    handed_off_at: datetime | None
    """When the bot first handed it to people (UTC); null if it never was."""
    accepted_at: datetime | None
    """When an agent first took it (UTC; a reopen keeps it); null before."""
    first_agent_reply_at: datetime | None
    """When an agent first wrote to the customer (UTC); null before."""
    closed_at: datetime | None
    """When it was closed (UTC); null while active."""


class TransferBody(StrictModel):
    """To a queue (the ticket waits there, pending), to an agent (open, theirs), or both; the
    note is shown in the ticket's history to whoever takes it."""

    queue_id: DbId | None = None
    """The queue to move the ticket to; null: it stays in its queue."""
    user_id: DbId | None = None
    """The agent to give the ticket to; null: nobody (it waits, pending, in the queue)."""
    note: Annotated[str, Field(max_length=1000)] = ""
    """A note for whoever takes the ticket, kept in its history (never sent to the
    customer)."""


class MessageCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "Hi! Your order left today; it arrives by Friday."},
                {"text": "Yes, that is the right address.", "reply_to": 42},
            ]
        }
    )

    text: MessageText
    """The text to send to the customer (1-4096 characters; WhatsApp *bold* and _italic_
    work)."""
    reply_to: DbId | None = None
    """Id of a message of this ticket to quote (reply to); null: a plain message."""


class MediaUpload(StrictModel):
    """The text fields of POST /api/tickets/{id}/media (multipart/form-data, with `file`)."""

    caption: Annotated[str, Field(max_length=MAX_MESSAGE_TEXT)] = ""
    """The text sent with the file; empty: none."""
    reply_to: DbId | None = None
    """Id of a message of this ticket to quote; null: none."""


class TypingBody(StrictModel):
    typing: bool
    """True shows the customer "typing…", false stops showing it."""


class MediaOut(ResponseModel):
    """A message's file: `url` downloads it, null when only a reference to it is kept (too
    large to download) or when there is no file (a location, a contact card)."""

    type: str
    """image, document, audio, video, sticker, location or contact."""
    name: str | None
    """The file's name; null when it has none."""
    mime: str | None
    """The file's MIME type (e.g. image/jpeg); null when unknown."""
    size: int | None
    """The file's size in bytes; null when unknown."""
    url: str | None
    """Where to download the file with the same bearer token (a path under /api); null
    without a stored file."""


class MessageOut(ResponseModel):
    id: int
    """The message's id."""
    ticket_id: int
    """The ticket it belongs to."""
    direction: Direction
    """in: from the customer; out: to the customer (an agent's, the bot's, a campaign's)."""
    body: str
    """The text (or a file's caption); may be empty for a file."""
    status: MessageStatus
    """For outgoing messages: pending (not yet out), sent, delivered, read or failed;
    received messages are delivered."""
    is_note: bool
    """An internal note of the agents: stored in the ticket, never sent to the customer."""
    from_bot: bool
    """True when the bot wrote it."""
    sender_user_id: int | None
    """The agent who wrote it; null for the customer, the bot or the system."""
    media_type: str | None
    """The file's type (as `media.type`); null without a file."""
    media_name: str | None
    """The file's name (as `media.name`); null without one."""
    media: MediaOut | None
    """The file sent or received; null for a text message."""
    channel_message_id: str | None
    """WhatsApp's id of the message; null until it went out, and for notes."""
    quoted_channel_id: str | None
    """WhatsApp's id of the message this one replies to; null when it quotes none."""
    error: str | None
    """Why sending failed; null unless `status` is failed."""
    created_at: datetime
    """When it was sent or received (UTC)."""
    edited_at: datetime | None
    """When its author last edited it (UTC); null if never."""
    revoked_at: datetime | None
    """When its author deleted it for everyone (UTC); null if not deleted."""


class NamedRef(ResponseModel):
    """A queue or user a history line names; `name` is null when it has since been deleted."""

    id: int
    """The queue's or user's id."""
    name: str | None
    """Its name; null when it has since been deleted."""


class HistoryActor(ResponseModel):
    """Who did it: a user (with id and name), the bot, a timer, the customer or the system."""

    kind: ActorKind
    """user: an agent, supervisor or admin; bot: the flow engine; timer: a timeout; customer:
    the customer's own message; system: an API token, a campaign, an import."""
    user_id: int | None
    """The user, when `kind` is user; null otherwise."""
    name: str | None
    """The user's name; null when not a user or the user was deleted."""


class HistoryEntryOut(ResponseModel):
    """One line of GET /api/tickets/{id}/history, and the data of a `ticket.history` event."""

    id: int
    """The entry's id."""
    ticket_id: int
    """The ticket it is about."""
    kind: HistoryKind
    """What happened: created, handed_off, accepted, transferred, closed, reopened, rated,
    rating_expired or fallback (moved to the fallback queue)."""
    actor: HistoryActor
    """Who did it."""
    from_queue: NamedRef | None
    """The queue the ticket was in before; null when none or unchanged."""
    to_queue: NamedRef | None
    """The queue it went to; null when none or unchanged."""
    from_user: NamedRef | None
    """The agent who had it before; null when nobody."""
    to_user: NamedRef | None
    """The agent who got it; null when nobody."""
    note: str
    """A transfer's note; empty otherwise."""
    reason: str
    """Why, for some kinds: a close's reason (inactivity, menu_end…), a rating's score, a
    fallback's cause; empty otherwise."""
    at: datetime
    """When it happened (UTC)."""


class TicketRef(ResponseModel):
    """The data of `ticket.removed`: which ticket left the agent's view."""

    id: int
    """The ticket's id."""
