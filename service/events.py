"""The catalogue of realtime events: each type declared once, with its payload's type and
who hears it. docs/events.md is this module written out; it is also the contract of the
outgoing webhooks to come.

An event is `{"type", "data", "audience"}`: `data` is the payload as JSON, `audience` says who
may receive it (service.realtime.hub.may_see) and never leaves the server. Publish through a
unit of work (service.realtime.events.transaction_with_events), after the outermost commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from service.campaigns.schemas import CampaignProgress
from service.connections.schemas import ConnectionStatusOut
from service.contacts.schemas import ContactOut, ImportProgress
from service.realtime.events import EventBatch
from service.realtime.presence import PRESENCE_UPDATED as _PRESENCE
from service.realtime.presence import PresenceOut
from service.scheduled.schemas import ScheduledOut
from service.tickets.models import Message
from service.tickets.schemas import HistoryEntryOut, MessageOut, TicketOut, TicketRef
from service.tickets.service import message_out

__all__ = [
    "CAMPAIGN_PROGRESS",
    "CATALOGUE",
    "CONNECTION_UPDATED",
    "CONTACTS_IMPORT_PROGRESS",
    "CONTACT_UPDATED",
    "MESSAGE_CREATED",
    "MESSAGE_UPDATED",
    "PRESENCE_UPDATED",
    "SCHEDULED_UPDATED",
    "TICKET_CREATED",
    "TICKET_HISTORY",
    "TICKET_REMOVED",
    "TICKET_UPDATED",
    "EventType",
    "UndeclaredEvent",
    "message_updated",
    "validate",
]

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class EventType(Generic[P]):
    """One kind of event: its name, its payload's type, when it happens and who hears it."""

    name: str
    payload: type[P]
    when: str
    audience: str

    def event(self, data: P, *, audience: dict[str, Any]) -> dict[str, Any]:
        """The event of this payload, for `broker.publish`."""
        return {"type": self.name, "data": data.model_dump(mode="json"), "audience": audience}

    def add(self, batch: EventBatch, data: P, *, audience: dict[str, Any]) -> dict[str, Any]:
        """Add the event to a unit of work's batch, published after its outermost commit."""
        return batch.add(self.name, data.model_dump(mode="json"), audience=audience)


CATALOGUE: dict[str, EventType[Any]] = {}


def _declare(name: str, payload: type[P], *, when: str, audience: str) -> EventType[P]:
    declared = EventType(name, payload, when, audience)
    CATALOGUE[name] = declared
    return declared


_TICKET_AUDIENCE = (
    "admins and supervisors of the company; agents who see the ticket (its assignee, and the"
    " agents of its queue while it is pending)"
)

TICKET_CREATED = _declare(
    "ticket.created",
    TicketOut,
    when="a ticket is opened: a customer's first message, a group's, a scheduled message's",
    audience=_TICKET_AUDIENCE,
)
TICKET_UPDATED = _declare(
    "ticket.updated",
    TicketOut,
    when="the ticket's status, queue, agent, campaign or rating changed, or it was read (its"
    " unread count is 0 again); always the whole ticket, as GET /api/tickets/{id} gives it",
    audience=_TICKET_AUDIENCE
    + "; an agent who saw the ticket before the change and no longer may gets ticket.removed",
)
TICKET_REMOVED = _declare(
    "ticket.removed",
    TicketRef,
    when="a ticket the agent saw left their view (transferred away, taken by a colleague)",
    audience="the agents who saw the ticket before the change and no longer see it",
)
TICKET_HISTORY = _declare(
    "ticket.history",
    HistoryEntryOut,
    when="a line was added to a ticket's history (GET /api/tickets/{id}/history)",
    audience=_TICKET_AUDIENCE,
)
MESSAGE_CREATED = _declare(
    "message.created",
    MessageOut,
    when="a message or note was stored on a ticket (the customer's, an agent's, the bot's)",
    audience=_TICKET_AUDIENCE,
)
MESSAGE_UPDATED = _declare(
    "message.updated",
    MessageOut,
    when="a message's status (sent, delivered, read, failed), text (edited) or revocation"
    " changed; the whole message",
    audience=_TICKET_AUDIENCE,
)
CONTACT_UPDATED = _declare(
    "contact.updated",
    ContactOut,
    when="a contact was created or changed (name, tags, custom fields, opt-out)",
    audience="every user of the company",
)
CONTACTS_IMPORT_PROGRESS = _declare(
    "contacts.import.progress",
    ImportProgress,
    when="a batch of an import was written",
    audience="the company's admins and supervisors (told apart by import_id)",
)
CONNECTION_UPDATED = _declare(
    "connection.updated",
    ConnectionStatusOut,
    when="a WhatsApp connection's status changed, or it shows a new login code",
    audience="every user of the company; the login codes only to its admins (null to others)",
)
CAMPAIGN_PROGRESS = _declare(
    "campaign.progress",
    CampaignProgress,
    when="a campaign's status or counts changed (at most once a second while it sends)",
    audience="the company's admins and supervisors",
)
SCHEDULED_UPDATED = _declare(
    "scheduled.updated",
    ScheduledOut,
    when="a scheduled message was created, changed, cancelled, sent or failed",
    audience="every user of the company",
)
PRESENCE_UPDATED = _declare(
    _PRESENCE,
    PresenceOut,
    when="a user came online (first socket) or went offline (last socket closed)",
    audience="every user of the company",
)


def message_updated(message: Message) -> dict[str, Any]:
    """`message.updated`: the whole message, after its status, text or revocation changed."""
    audience = {"company_id": message.company_id, "ticket_id": message.ticket_id}  # type: ignore[attr-defined]
    return MESSAGE_UPDATED.event(message_out(message), audience=audience)


class UndeclaredEvent(ValueError):
    """An event whose type the catalogue does not declare."""


def validate(event: dict[str, Any]) -> BaseModel:
    """The event's payload as its declared type; raises when it does not fit."""
    declared = CATALOGUE.get(str(event.get("type")))
    if declared is None:
        raise UndeclaredEvent(f"undeclared event type {event.get('type')!r}")
    payload: BaseModel = declared.payload.model_validate(event.get("data"))
    return payload
