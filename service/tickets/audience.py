"""Who may see an event about a ticket: the audience the realtime hub judges each socket by.

A ticket's audience is ticket knowledge, so it lives here and service/realtime (infrastructure
that imports no domain) only carries the dicts."""

from __future__ import annotations

from typing import Any

from service.tenancy import scoped
from service.tickets.models import Ticket

__all__ = ["current_ticket_audience", "ticket_audience"]


def ticket_audience(ticket: Ticket) -> dict[str, Any]:
    """Who may see an event about this ticket: its company, status, queue and assignee."""
    return {
        "company_id": ticket.company_id,  # type: ignore[attr-defined]
        "queue_id": ticket.queue_id,  # type: ignore[attr-defined]
        "user_id": ticket.user_id,  # type: ignore[attr-defined]
        "status": str(ticket.status),
        "ticket_id": ticket.id,
    }


async def current_ticket_audience(audience: dict[str, Any]) -> dict[str, Any] | None:
    """The audience of a ticket as it is now, for events that name only the ticket (a
    message's new status); None if the ticket is gone."""
    row = (
        await scoped(Ticket, audience["company_id"])
        .filter(id=audience["ticket_id"])
        .first()
        .values("queue_id", "user_id", "status")
    )
    if row is None:
        return None
    return {
        **audience,
        **row,
        "status": str(row["status"]),
    }
