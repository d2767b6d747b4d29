"""The generated tickets' history (`ticket_events`), for service.demo_history.

The planner notes each ticket's changes as `Step`s while it plans the conversation; once
the ticket has its id, a `Replayer` runs them through service.tickets.lifecycle on an
unsaved `Ticket`. So every line carries exactly the fields the app's own line of that kind
carries, an impossible plan (a transfer of a closed ticket) fails loudly, and the ticket's
row gets the status, queue and agent its last line left it with.
"""

from __future__ import annotations

import copy
import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.builtin.csat import asking_rating, rating_over
from service.tickets import lifecycle
from service.tickets.lifecycle import BOT, Actor, Change
from service.tickets.models import HistoryKind, Ticket, TicketStatus

__all__ = [
    "EVENT_COLUMNS",
    "REOPEN_NOTES",
    "REOPEN_SAYINGS",
    "TRANSFER_NOTES",
    "Outcome",
    "Replayer",
    "Step",
    "closed_at",
    "transfer_saying",
]

# The statement's columns, in the order of `Outcome.rows`' tuples.
EVENT_COLUMNS = (
    "company_id", "ticket_id", "kind", "actor_kind", "actor_user_id", "from_queue_id",
    "to_queue_id", "from_user_id", "to_user_id", "note", "reason", "at",
)  # fmt: skip

# The note for whoever takes a transferred ticket: by the kind of its new queue (as in
# demo_texts: 0 support, 1 billing), or to a colleague of the same queue.
TRANSFER_NOTES: dict[str, tuple[str, ...]] = {
    "queue0": (
        "Problema técnico, não é cobrança: sinal caindo desde ontem.",
        "Cliente relata lentidão; já confirmei que a fatura está paga.",
        "Roteador não liga. Precisa de visita técnica?",
        "Pagamento em dia: o bloqueio parece ser técnico.",
    ),
    "queue1": (
        "Cliente quer renegociar a fatura em atraso.",
        "Cobrança em duplicidade no último boleto.",
        "Pediu segunda via e mudança da data de vencimento.",
        "Quer cancelar o plano: oferecer desconto antes.",
    ),
    "agent": (
        "Fim do meu turno, segue com você.",
        "Você atendeu este cliente semana passada, melhor continuar.",
        "Caso mais complexo, precisa de alguém com mais experiência.",
        "Cliente pediu para falar com outra pessoa.",
    ),
}
REOPEN_NOTES = (
    "Cliente ligou: o problema voltou. Reabrindo o atendimento.",
    "Reaberto: a solução não resolveu de vez.",
)
REOPEN_SAYINGS = (
    "Oi, {first}! Reabri o seu atendimento para resolvermos de vez.",
    "Olá, {first}, tudo bem? Retomando o seu atendimento por aqui.",
)


def transfer_saying(*, queue_name: str | None, person_name: str | None) -> str:
    """What the agent tells the customer before passing the conversation on."""
    if person_name is not None:
        return f"Vou passar o seu atendimento para {person_name}, que vai continuar com você."
    return f"Vou transferir você para o {queue_name}, que cuida disso. Só um instante!"


# The rest of a Change.row(), in EVENT_COLUMNS' order.
_the_rest = operator.itemgetter(*EVENT_COLUMNS[4:])


@dataclass(frozen=True, slots=True)
class Step:
    """One planned change of a generated ticket: `kind` at `at` by `by`; `queue_id` and
    `user_id` are where a handoff, accept, transfer or reopen takes it."""

    at: datetime
    kind: HistoryKind
    by: Actor = BOT
    queue_id: int | None = None
    user_id: int | None = None
    note: str = ""
    reason: str = ""
    rating: int | None = None
    asks_rating: bool = False  # a close after which the rating question waits


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where the replayed steps left the ticket, and its history rows (EVENT_COLUMNS)."""

    status: str
    queue_id: int | None
    user_id: int | None
    rows: list[tuple[Any, ...]]


def closed_at(steps: list[Step]) -> datetime | None:
    """When the ticket closed, if it is closed after these steps (a reopen undoes a close)."""
    for step in reversed(steps):
        if step.kind is HistoryKind.closed:
            return step.at
        if step.kind is HistoryKind.reopened:
            return None
    return None


class Replayer:
    """Replays tickets' steps through the lifecycle, each on a ticket of the company as the
    customer's message opens it (with the bot, no agent)."""

    def __init__(self, *, company_id: int, now: datetime) -> None:
        self.company_id = company_id
        opening = lifecycle.open_new(status=TicketStatus.bot, now=now)
        # Ticket() sets up each of its fields, which was most of a replay's time; a shallow
        # copy of this one costs a few microseconds (its flow_state is replaced, not shared).
        self._opened = Ticket(company_id=company_id, flow_state={}, **opening)

    def replay(self, steps: list[Step], *, ticket_id: int, menu_queue_id: int | None) -> Outcome:
        """Where the steps leave the ticket, and its lines; `menu_queue_id` is the queue its
        customer chose in the bot's menu (which makes no line)."""
        ticket = copy.copy(self._opened)
        ticket.id = ticket_id
        ticket.flow_state = {}
        if menu_queue_id is not None:
            lifecycle.set_queue(ticket, queue_id=menu_queue_id)
        rows = []
        for step in steps:
            line = _apply(ticket, step).row()
            kinds = (line["kind"].value, line["actor_kind"].value)
            rows.append((self.company_id, ticket_id, *kinds, *_the_rest(line)))
        user_id: int | None = ticket.user_id  # type: ignore[attr-defined]
        queue_id: int | None = ticket.queue_id  # type: ignore[attr-defined]
        return Outcome(ticket.status.value, queue_id, user_id, rows)


def _apply(ticket: Ticket, step: Step) -> Change:
    at = step.at
    match step.kind:
        case HistoryKind.handed_off:
            return lifecycle.hand_off(ticket, queue_id=step.queue_id, by=step.by, now=at)
        case HistoryKind.accepted:
            assert step.user_id is not None
            return lifecycle.accept(ticket, user_id=step.user_id, now=at)
        case HistoryKind.transferred:
            return lifecycle.transfer(
                ticket,
                queue_id=step.queue_id,
                user_id=step.user_id,
                by=step.by,
                note=step.note,
                now=at,
            )
        case HistoryKind.closed:
            change = lifecycle.close(ticket, by=step.by, reason=step.reason, now=at)
            # As the CSAT flow's goodbye does: the rating question now waits for its answer.
            ticket.flow_state = asking_rating() if step.asks_rating else {}
            return change
        case HistoryKind.rated:
            assert step.rating is not None
            change = lifecycle.rate(ticket, rating=step.rating, now=at)
            ticket.flow_state = rating_over()
            return change
        case HistoryKind.rating_expired:
            expired = lifecycle.expire_rating(ticket, by=step.by, now=at)
            if expired is None:
                raise ValueError(f"no rating question waits on ticket {ticket.id} at {at}")
            return expired
        case HistoryKind.reopened:
            assert step.user_id is not None
            return lifecycle.reopen(ticket, user_id=step.user_id, now=at)
    raise ValueError(f"the demo history plans no {step.kind} step")
