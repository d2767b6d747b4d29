"""Effects: what a processing unit leaves behind. The ticket's changed columns, its history
lines and the bot's replies stored together; the inbox told (the messages, the history
lines, the whole ticket when what the inbox shows of it changed); the replies sent.

Replies are sent as stored, after the commit, by this process when it runs the connection
(service.outbound: stored with the send's intent, so that no other sender takes them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.events import TICKET_HISTORY
from service.inbound.flow import Turn, Unit, message_data
from service.inbound.store import InboundStore, Saved, Stored
from service.outbound import OutboundSender
from service.tickets.audience import ticket_audience
from service.tickets.history import announce as announce_ticket
from service.tickets.history import history_out
from service.tickets.models import Message, Ticket, TicketEvent

__all__ = ["Effects", "changed_fields", "processed_values"]

# What processing may change on a ticket: only those of them that changed are written.
_PROCESSED_FIELDS = (
    "status",
    "campaign_id",
    "queue_id",
    "flow_state",
    "unread_count",
    "rating",
    "last_message",
    "last_message_at",
    "handed_off_at",
    "closed_at",
)
# Of those, the ones whose change the inbox hears of as `ticket.updated` (a new message tells
# of its last message and unread count itself, and flow_state is not shown).
_SHOWN = frozenset(_PROCESSED_FIELDS) - {
    "unread_count",
    "last_message",
    "last_message_at",
    "flow_state",
}


def processed_values(ticket: Ticket) -> dict[str, Any]:
    """The ticket's columns that processing may change, as they are now (flow_state copied:
    the flow replaces it, but an in-place change must show too)."""
    values = {name: getattr(ticket, name) for name in _PROCESSED_FIELDS}
    values["flow_state"] = repr(values["flow_state"])
    return values


def changed_fields(ticket: Ticket, before: dict[str, Any]) -> list[str]:
    return [name for name, value in processed_values(ticket).items() if before[name] != value]


class Effects:
    def __init__(self, *, sender: OutboundSender, turn: Turn) -> None:
        self._sender = sender
        self._turn = turn

    async def save(self, store: InboundStore, unit: Unit, changed: Sequence[str]) -> Saved:
        """In the unit's transaction (it holds the ticket's lock)."""
        rows = [reply.row for reply in unit.pending]
        lines = [change.row() for change in unit.changes]
        return self._held(unit, await store.save(unit.ticket, changed, rows, lines))

    async def save_unlocked(
        self, store: InboundStore, stored: Stored, unit: Unit, changed: Sequence[str]
    ) -> Saved | None:
        """Without the lock, if the ticket did not change meanwhile (None if it did)."""
        rows = [reply.row for reply in unit.pending]
        lines = [change.row() for change in unit.changes]
        saved = await store.save_unlocked(stored, unit.now, changed, rows, lines)
        return None if saved is None else self._held(unit, saved)

    def _held(self, unit: Unit, saved: Saved) -> Saved:
        """The replies' events filled in, and the replies held for this process's send."""
        for reply, message in zip(unit.pending, saved.replies, strict=True):
            reply.event["data"] = message_data(message)
        self._sender.hold(saved.replies)
        return saved

    async def announce(
        self,
        store: InboundStore,
        unit: Unit,
        changed: Sequence[str],
        lines: Sequence[TicketEvent],
        was: dict[str, Any],
    ) -> None:
        """The unit's history lines, and the whole ticket when what the inbox shows of it
        changed beyond its last message and unread count (message.created says those)."""
        ticket = unit.ticket
        if lines:
            connection_id: int = ticket.connection_id  # type: ignore[attr-defined]
            config = await self._turn.bot_config(store, connection_id, unit.connection)
            names = {queue.id: queue.name for queue in config.queues}
            audience = ticket_audience(ticket)
            for line in await history_out(lines, queue_names=names):
                TICKET_HISTORY.add(unit.batch, line, audience=audience)
        if not _SHOWN.isdisjoint(changed):
            await announce_ticket(ticket, unit.batch, was=was, contact=unit.contact)

    async def send(self, replies: Sequence[Message], *, number: str, mark: int) -> None:
        if replies:
            await self._sender.send_stored(replies, number=number, mark=mark)
