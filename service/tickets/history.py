"""Each ticket's history: the lifecycle's changes stored, shown and announced.

A line names queues and agents by id in the table (they may be deleted later) and by name
when shown; `ticket.history` carries the line as GET /api/tickets/{id}/history shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.contacts.models import Contact
from service.events import TICKET_HISTORY, TICKET_UPDATED
from service.queues.models import Queue
from service.realtime.events import EventBatch
from service.sql import insert
from service.tickets.audience import ticket_audience
from service.tickets.lifecycle import Change
from service.tickets.models import Ticket, TicketEvent
from service.tickets.schemas import HistoryActor, HistoryEntryOut, NamedRef
from service.tickets.service import ticket_out
from service.users.models import User

__all__ = ["announce", "history_of", "history_out", "record"]


async def record(
    changes: Sequence[Change],
    batch: EventBatch,
    *,
    queue_names: Mapping[int, str] | None = None,
) -> list[TicketEvent]:
    """Store the changes' lines (in the caller's transaction) and add their `ticket.history`
    events to the batch. `queue_names`: names already known (the bot's), to ask for fewer."""
    if not changes:
        return []
    stored = await insert(TicketEvent, [change.row() for change in changes])
    for change, line in zip(
        changes, await history_out(stored, queue_names=queue_names), strict=True
    ):
        TICKET_HISTORY.add(batch, line, audience=ticket_audience(change.ticket))
    return stored


async def announce(
    ticket: Ticket,
    batch: EventBatch,
    *,
    was: dict[str, Any] | None,
    contact: Contact | None = None,
) -> None:
    """`ticket.updated`, the whole ticket; `was` is its audience before the change, so that
    the agents who saw it then and no longer do are told it left (service.realtime.hub).
    Given its contact, the ticket is shown without a query (see `ticket_out`)."""
    audience = ticket_audience(ticket)
    if was is not None and was != audience:
        audience["was"] = was
    TICKET_UPDATED.add(batch, await ticket_out(ticket, contact=contact), audience=audience)


async def history_of(*, company_id: int, ticket_id: int) -> list[HistoryEntryOut]:
    """A ticket's history, oldest first (the caller checked that the ticket may be seen)."""
    rows = await TicketEvent.filter(company_id=company_id, ticket_id=ticket_id).order_by("id")
    return await history_out(rows)


async def history_out(
    rows: Sequence[TicketEvent], *, queue_names: Mapping[int, str] | None = None
) -> list[HistoryEntryOut]:
    """History lines as the API shows them, the names of their queues and users read in at
    most one query each."""
    known = dict(queue_names or {})
    queue_ids = {q for r in rows for q in (r.from_queue_id, r.to_queue_id) if q is not None}
    missing = sorted(queue_ids - known.keys())
    if missing:
        known.update(await Queue.filter(id__in=missing).values_list("id", "name"))
    user_ids = {
        u
        for r in rows
        for u in (r.actor_user_id, r.from_user_id, r.to_user_id)  # type: ignore[attr-defined]
        if u is not None
    }
    users: dict[int, str] = {}
    if user_ids:
        users.update(await User.filter(id__in=sorted(user_ids)).values_list("id", "name"))

    def queue(queue_id: int | None) -> NamedRef | None:
        return None if queue_id is None else NamedRef(id=queue_id, name=known.get(queue_id))

    def user(user_id: int | None) -> NamedRef | None:
        return None if user_id is None else NamedRef(id=user_id, name=users.get(user_id))

    return [
        HistoryEntryOut(
            id=r.id,
            ticket_id=r.ticket_id,  # type: ignore[attr-defined]
            kind=r.kind,
            actor=HistoryActor(
                kind=r.actor_kind,
                user_id=r.actor_user_id,  # type: ignore[attr-defined]
                name=users.get(r.actor_user_id),  # type: ignore[attr-defined]
            ),
            from_queue=queue(r.from_queue_id),
            to_queue=queue(r.to_queue_id),
            from_user=user(r.from_user_id),
            to_user=user(r.to_user_id),
            note=r.note,
            reason=r.reason,
            at=r.at,
        )
        for r in rows
    ]
