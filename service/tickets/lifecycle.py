"""The ticket lifecycle: the only code that changes a ticket's status, queue or agent.

bot ──hand_off──▶ pending ──accept──▶ open ──close──▶ closed ──reopen──▶ open
 │                  ▲  │                │ ▲             │
 └──close (bot,     │  └──transfer──────┘ └─transfer────┘ rate, expire_rating
    timer, opt-out) └──fallback (timer)

Each transition checks that it is allowed, changes the ticket in memory and returns the
`Change`, one line of the ticket's history, for the caller to store with the ticket in the
same transaction: the pipeline writes both in its own statements (the hot path), the
actions (service.tickets.actions) through service.tickets.history. Who may do it (an agent's
queues, a supervisor's role) is the actions' business; what a status allows is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.builtin.csat import AWAITING_RATING, rating_over
from service.errors import Conflict
from service.tickets.models import (
    ACTIVE_STATUSES,
    ActorKind,
    HistoryKind,
    Ticket,
    TicketStatus,
)

__all__ = [
    "BOT",
    "CUSTOMER",
    "SYSTEM",
    "TIMER",
    "Actor",
    "Change",
    "accept",
    "awaiting_rating",
    "close",
    "expire_rating",
    "fallback",
    "hand_off",
    "open_new",
    "opened",
    "rate",
    "reopen",
    "set_queue",
    "transfer",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a user (by id) or the bot, a timer, the customer, the system."""

    kind: ActorKind
    user_id: int | None = None

    @classmethod
    def user(cls, user_id: int | None) -> Actor:
        """A user; an API token (no user) is the system."""
        return cls(ActorKind.user, user_id) if user_id is not None else SYSTEM


BOT = Actor(ActorKind.bot)
TIMER = Actor(ActorKind.timer)
CUSTOMER = Actor(ActorKind.customer)
SYSTEM = Actor(ActorKind.system)


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a ticket's history, not stored yet."""

    ticket: Ticket
    kind: HistoryKind
    actor: Actor
    at: datetime
    from_queue_id: int | None = None
    to_queue_id: int | None = None
    from_user_id: int | None = None
    to_user_id: int | None = None
    note: str = ""
    reason: str = ""

    def row(self) -> dict[str, Any]:
        """Its row of `ticket_events`."""
        return {
            "company_id": self.ticket.company_id,  # type: ignore[attr-defined]
            "ticket_id": self.ticket.id,
            "kind": self.kind,
            "actor_kind": self.actor.kind,
            "actor_user_id": self.actor.user_id,
            "from_queue_id": self.from_queue_id,
            "to_queue_id": self.to_queue_id,
            "from_user_id": self.from_user_id,
            "to_user_id": self.to_user_id,
            "note": self.note,
            "reason": self.reason,
            "at": self.at,
        }


def _queue(ticket: Ticket) -> int | None:
    return ticket.queue_id  # type: ignore[attr-defined,no-any-return]


def _user(ticket: Ticket) -> int | None:
    return ticket.user_id  # type: ignore[attr-defined,no-any-return]


def _active(ticket: Ticket) -> None:
    if ticket.status not in ACTIVE_STATUSES:
        raise Conflict(f"The ticket is {ticket.status.value}: reopen it first")


def awaiting_rating(ticket: Ticket) -> bool:
    """Whether the ticket is closed with its rating question unanswered."""
    return ticket.status is TicketStatus.closed and bool(ticket.flow_state.get(AWAITING_RATING))


def open_new(*, status: TicketStatus, user_id: int | None = None, now: datetime) -> dict[str, Any]:
    """The lifecycle columns of a ticket being opened (in the bot, waiting, or an agent's)."""
    if status is TicketStatus.closed:
        raise ValueError("a ticket is never opened closed")
    values: dict[str, Any] = {"status": status, "user_id": user_id}
    if status is not TicketStatus.bot:
        values["handed_off_at"] = now
    if user_id is not None:
        values["accepted_at"] = now
    return values


def opened(ticket: Ticket, *, by: Actor, now: datetime) -> Change:
    """The line of a ticket opened by someone (a scheduled message's author) rather than by
    the customer's message, whose ticket starts with the bot and needs no line."""
    return Change(
        ticket, HistoryKind.created, by, now, to_queue_id=_queue(ticket), to_user_id=_user(ticket)
    )


def hand_off(ticket: Ticket, *, queue_id: int | None, by: Actor, now: datetime) -> Change:
    """The bot is done: the ticket waits in `queue_id` (None: for an admin) for an agent."""
    if ticket.status is not TicketStatus.bot:
        raise Conflict(f"The ticket is {ticket.status.value}, not with the bot")
    before = _queue(ticket)
    ticket.status = TicketStatus.pending
    ticket.queue_id = queue_id
    ticket.handed_off_at = now
    return Change(
        ticket, HistoryKind.handed_off, by, now, from_queue_id=before, to_queue_id=queue_id
    )


def set_queue(ticket: Ticket, *, queue_id: int | None) -> None:
    """The bot chose a queue and keeps talking (a sub-menu): no history line until handoff."""
    if ticket.status is not TicketStatus.bot:
        raise Conflict(f"The ticket is {ticket.status.value}, not with the bot")
    ticket.queue_id = queue_id


def accept(ticket: Ticket, *, user_id: int, now: datetime) -> Change:
    """A pending ticket becomes open and the agent's."""
    if ticket.status is not TicketStatus.pending:
        raise Conflict(f"The ticket is {ticket.status.value}, not pending")
    ticket.status = TicketStatus.open
    ticket.user_id = user_id
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    actor = Actor.user(user_id)
    return Change(
        ticket, HistoryKind.accepted, actor, now, to_user_id=user_id, to_queue_id=_queue(ticket)
    )


def transfer(
    ticket: Ticket,
    *,
    queue_id: int | None,
    user_id: int | None,
    by: Actor,
    note: str = "",
    now: datetime,
) -> Change:
    """To a queue (pending there, nobody's) and/or to an agent (open, theirs)."""
    _active(ticket)
    if queue_id is None and user_id is None:
        raise ValueError("a transfer names a queue, an agent or both")
    from_queue, from_user = _queue(ticket), _user(ticket)
    to_queue = queue_id if queue_id is not None else from_queue
    ticket.queue_id = to_queue
    ticket.user_id = user_id
    ticket.status = TicketStatus.open if user_id is not None else TicketStatus.pending
    if user_id is not None and ticket.accepted_at is None:
        ticket.accepted_at = now
    if ticket.handed_off_at is None:
        ticket.handed_off_at = now
    return Change(
        ticket,
        HistoryKind.transferred,
        by,
        now,
        from_queue_id=from_queue,
        to_queue_id=to_queue,
        from_user_id=from_user,
        to_user_id=user_id,
        note=note,
    )


def close(ticket: Ticket, *, by: Actor, reason: str = "", now: datetime) -> Change:
    """Close an active ticket: an agent, the bot (`reason` says why), a timer, an opt-out."""
    if ticket.status not in ACTIVE_STATUSES:
        raise Conflict("The ticket is already closed")
    ticket.status = TicketStatus.closed
    ticket.closed_at = now
    return Change(
        ticket,
        HistoryKind.closed,
        by,
        now,
        from_queue_id=_queue(ticket),
        from_user_id=_user(ticket),
        reason=reason,
    )


def reopen(ticket: Ticket, *, user_id: int, now: datetime) -> Change:
    """A closed ticket becomes the agent's open ticket again; its rating is cleared (the
    conversation goes on) and no rating question hangs over it."""
    if ticket.status is not TicketStatus.closed:
        raise Conflict(f"The ticket is {ticket.status.value}, not closed")
    before = _user(ticket)
    ticket.status = TicketStatus.open
    ticket.user_id = user_id
    ticket.closed_at = None
    ticket.rating = None
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    ticket.flow_state = {**ticket.flow_state, **rating_over()}
    return Change(
        ticket,
        HistoryKind.reopened,
        Actor.user(user_id),
        now,
        from_user_id=before,
        to_user_id=user_id,
        to_queue_id=_queue(ticket),
    )


def rate(ticket: Ticket, *, rating: int, now: datetime) -> Change:
    """The customer answered the rating question."""
    ticket.rating = rating
    return Change(ticket, HistoryKind.rated, CUSTOMER, now, reason=str(rating))


def expire_rating(ticket: Ticket, *, by: Actor, now: datetime) -> Change | None:
    """The rating question lapses (its timeout, or the customer wrote something else); None
    when none was waiting."""
    if not awaiting_rating(ticket):
        return None
    ticket.flow_state = {**ticket.flow_state, **rating_over()}
    return Change(ticket, HistoryKind.rating_expired, by, now)


def fallback(ticket: Ticket, *, queue_id: int, now: datetime) -> Change:
    """A ticket waiting without a queue too long moves to the company's fallback queue."""
    if ticket.status is not TicketStatus.pending or _queue(ticket) is not None:
        raise Conflict("Only a pending ticket without a queue moves to the fallback queue")
    ticket.queue_id = queue_id
    return Change(ticket, HistoryKind.fallback, TIMER, now, to_queue_id=queue_id, reason="no_queue")
