"""`atende demo --history N`: days of realistic history for the demo company, so that the
reports and the notebooks show something real.

Everything is planned in memory from one seeded random generator (the same seed and `now`
give the same history), then written with a handful of bulk INSERTs (executemany), in one
transaction: 90 days take seconds on either backend.

The history follows the app's own rules: a ticket starts with the customer's message and the
bot's greeting and menu; about a third end there (the bot answered, or the customer went
quiet and the idle timer closed it); the rest are handed off to a queue (`handed_off_at`),
accepted by an agent of that queue (`accepted_at`, within the team's hours), answered
(`first_agent_reply_at`), discussed and closed (`closed_at`), with the rating question and,
for most, the customer's 1-5. At most one active ticket per contact and connection; outbound
messages are sent, delivered or read (never pending: the sender would pick them up); closed
tickets have nothing unread. One finished campaign reached part of the contacts, and some of
them answered it (`tickets.campaign_id`, as the pipeline sets it for seven days).

Each ticket's history (`ticket_events`, see service.demo_history_events) follows the same
plan: the bot's handoff, the agent's accept and close, the rating or its lapse; the idle
timer's and the bot's closes; a few tickets moved to the other queue while waiting, some
passed on to the other queue or a colleague mid-conversation, and a few closed, reopened
days later and closed again.
"""

from __future__ import annotations

import json
import math
import random
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from service.audiences.models import ContactList
from service.auth.passwords import hash_password
from service.campaigns.models import Campaign, CampaignStatus
from service.companies.models import Company, Setting
from service.companies.service import get_company_settings, wrap_setting
from service.connections.models import Channel, Connection
from service.contacts.models import Contact
from service.demo_history_events import (
    EVENT_COLUMNS,
    REOPEN_NOTES,
    REOPEN_SAYINGS,
    TRANSFER_NOTES,
    Replayer,
    Step,
    closed_at,
    transfer_saying,
)
from service.demo_texts import (
    AGENT_CLOSINGS,
    AGENT_FOLLOW_UPS,
    CAMPAIGN_OPENERS,
    CAMPAIGN_VARIANTS,
    CITIES,
    CSAT_ANSWERS,
    CUSTOMER_CLOSINGS,
    CUSTOMER_FOLLOW_UPS,
    FIRST_NAMES,
    LAST_NAMES,
    NOTES,
    OPENERS,
    PLANS,
    PROBLEMS,
    RETURNS,
    SELF_SERVICE,
    TAGS,
)
from service.queues.models import Queue
from service.sql import insert_rows, reserve_ids
from service.tags.models import Tag
from service.tickets.lifecycle import BOT, TIMER, Actor
from service.tickets.models import HistoryKind
from service.users.models import Role, User

__all__ = [
    "DEFAULT_SEED",
    "HistoryExists",
    "HistorySummary",
    "generate_history",
]

DEFAULT_SEED = 20_26
# Tickets on an ordinary Monday at scale 1; the other days are a share of it.
_TICKETS_PER_DAY = 60
_CONTACTS = 800
_WEEKDAY_SHARE = (1.2, 1.1, 1.0, 1.0, 0.9, 0.45, 0.3)
# When customers write (local hour 0-23): business hours peak, mornings and afternoons.
_HOUR_WEIGHTS = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 4.0, 7.0, 8.5, 8.0,
    5.5, 6.0, 7.5, 7.5, 6.5, 5.0, 3.5, 2.5, 2.0, 1.5, 1.0, 0.6,
)  # fmt: skip
# The team's hours (local), by weekday: tickets wait for them to be accepted.
_TEAM_HOURS: dict[int, tuple[int, int]] = {0: (8, 18), 1: (8, 18), 2: (8, 18), 3: (8, 18)}
_TEAM_HOURS |= {4: (8, 18), 5: (8, 12)}
_IDLE_CLOSE_MINUTES = 30
_CSAT_TIMEOUT = timedelta(minutes=60)
_CAMPAIGN_ANSWER_WINDOW = timedelta(days=7)  # service.campaigns.actions.ANSWER_WINDOW
# Shares of the handed-off tickets that change hands (with two queues, ~8 % in all): chosen
# in the wrong queue and moved by the supervisor while waiting; passed on by the agent (to
# the other queue, or a colleague) mid-conversation. And of the conversations the customer
# comes back to days later, those the agent had closed and reopens.
_MISROUTED_SHARE = 0.015
_PASSED_ON_SHARE = 0.065
_REOPENED_SHARE = 0.4
_LIST_NAME = "Clientes e leads (demo)"

# name, queue indexes (of the company's queues, modulo their count), speed (a factor of the
# time they take to answer), rating bias, share of the tickets they take.
_AGENTS: tuple[tuple[str, tuple[int, ...], float, float, float], ...] = (
    ("Ana Souza", (0,), 0.7, 0.35, 1.3),
    ("Bruno Lima", (0,), 1.4, -0.35, 1.0),
    ("Carla Mendes", (0, 1), 1.0, 0.1, 1.0),
    ("Diego Rocha", (1,), 1.15, -0.15, 1.0),
    ("Elisa Martins", (1,), 0.8, 0.3, 0.8),
)
_SUPERVISOR = ("Fernanda Alves", (0, 1), 1.0, 0.2, 0.15)


class HistoryExists(Exception):
    """The company already has the generated history (a second run would duplicate it)."""


@dataclass(frozen=True)
class HistorySummary:
    company_id: int
    days: int
    contacts: int
    tickets: int
    messages: int
    events: int
    recipients: int
    agent_emails: tuple[str, ...]
    supervisor_email: str
    password: str
    seconds: float

    def line(self) -> str:
        """The one-line report `atende demo --history` prints."""
        return (
            f"History: {self.days} days, {self.tickets} tickets ({self.events} history lines),"
            f" {self.messages} messages,"
            f" {self.contacts} contacts, {len(self.agent_emails)} agents and a supervisor,"
            f" 1 campaign ({self.recipients} recipients) in {self.seconds:.1f} s."
        )


@dataclass
class _Person:
    user_id: int
    name: str
    queue_ids: tuple[int, ...]
    speed: float
    bias: float
    weight: float

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass
class _Contact:
    index: int
    number: str
    name: str
    city: str
    plan: str
    tags: list[str]
    activity: float
    email: str | None
    created_at: datetime | None = None
    opted_out_at: datetime | None = None
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)
    id: int = 0

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def free(self, start: datetime, end: datetime) -> bool:
        return all(end < s or start > e for s, e in self.busy)


@dataclass
class _Line:
    at: datetime
    inbound: bool
    body: str
    from_bot: bool = False
    is_note: bool = False
    sender: int | None = None


@dataclass
class _Ticket:
    created_at: datetime
    queue_index: int | None
    lines: list[_Line]
    # The lifecycle's changes, in order; replayed when written (demo_history_events), they
    # give the row its status, queue and agent.
    steps: list[Step] = field(default_factory=list)
    menu_queue_id: int | None = None  # the queue chosen in the bot's menu (steps may move it)
    handed_off_at: datetime | None = None
    accepted_at: datetime | None = None
    first_agent_reply_at: datetime | None = None
    closed_at: datetime | None = None
    rating: int | None = None
    rating_at: datetime | None = None
    asked_rating: bool = False
    contact: _Contact | None = None
    campaign_id: int | None = None
    id: int = 0

    @property
    def busy_until(self) -> datetime:
        """Until when the contact's conversation is this one (far future while active)."""
        if self.closed_at is None:
            return datetime.max.replace(tzinfo=UTC)
        # Unanswered, the rating question holds the customer's next message for its timeout.
        asking = self.closed_at + _CSAT_TIMEOUT if self.asked_rating and not self.rating else None
        return max([self.closed_at, *(line.at for line in self.lines), *filter(None, [asking])])


@dataclass
class _Recipient:
    contact: _Contact
    status: str
    variant: int | None
    body: str
    reason: str
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    channel_message_id: str | None


def _lognormal(rng: random.Random, median_seconds: float, sigma: float) -> timedelta:
    return timedelta(seconds=median_seconds * math.exp(rng.gauss(0.0, sigma)))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


class _Planner:
    """The whole history, in memory, from one random generator."""

    def __init__(
        self,
        *,
        rng: random.Random,
        zone: ZoneInfo,
        now: datetime,
        days: int,
        scale: float,
        queues: Sequence[Queue],
        people: Sequence[_Person],
        greeting: str,
    ) -> None:
        self.rng = rng
        self.zone = zone
        self.now = now
        self.days = days
        self.scale = scale
        self.queues = queues
        self.people = people
        self.supervisor = people[-1]  # _people lists them last
        self.greeting = greeting
        today = now.astimezone(zone).date()
        self.first_day = today - timedelta(days=days - 1)
        self.start = self._local(self.first_day, 0)

    def _local(self, day: date, hour: int, minute: int = 0, second: float = 0.0) -> datetime:
        moment = datetime.combine(day, clock_time(hour, minute), tzinfo=self.zone)
        return (moment + timedelta(seconds=second)).astimezone(UTC)

    def _jitter(self, moment: datetime) -> datetime:
        # Distinct sub-second parts, as real clocks give (and one text format in SQLite).
        return moment.replace(microsecond=self.rng.randrange(1, 1_000_000))

    # Contacts -----------------------------------------------------------------------------

    def contacts(self, taken: set[str]) -> list[_Contact]:
        rng = self.rng
        count = max(10, round(_CONTACTS * self.scale))
        out: list[_Contact] = []
        numbers = set(taken)
        while len(out) < count:
            city, area, _ = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
            number = f"+55{area}9{rng.randrange(60_000_000, 100_000_000)}"
            if number in numbers:
                continue
            numbers.add(number)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            plan = rng.choices([p for p, _ in PLANS], weights=[w for _, w in PLANS])[0]
            customer = rng.random() < 0.75
            tags = ["cliente" if customer else "lead"]
            if customer and ((plan == "Premium" and rng.random() < 0.35) or rng.random() < 0.03):
                tags.append("vip")
            if customer and rng.random() < 0.07:
                tags.append("inadimplente")
            if rng.random() < 0.08:
                tags.append("empresa")
            activity = rng.gammavariate(0.7, 1.0) * (1.6 if "vip" in tags else 1.0)
            activity *= 1.0 if customer else 0.4
            email = None
            if rng.random() < 0.45:
                email = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(1, 99)}@example.com"
            out.append(
                _Contact(
                    index=len(out),
                    number=number,
                    name=f"{first} {last}",
                    city=city,
                    plan=plan if customer else "",
                    tags=sorted(tags),
                    activity=activity,
                    email=email,
                )
            )
        return out

    # Tickets ------------------------------------------------------------------------------

    def ticket_times(self) -> list[datetime]:
        rng = self.rng
        moments: list[datetime] = []
        for offset in range(self.days):
            day = self.first_day + timedelta(days=offset)
            trend = 0.9 + 0.2 * offset / max(1, self.days - 1)  # the business grows a little
            expected = _TICKETS_PER_DAY * self.scale * _WEEKDAY_SHARE[day.weekday()] * trend
            count = max(0, round(rng.gauss(expected, expected * 0.12)))
            hours = rng.choices(range(24), weights=_HOUR_WEIGHTS, k=count)
            for hour in hours:
                moment = self._jitter(self._local(day, hour, 0, rng.uniform(0, 3599)))
                if moment <= self.now:
                    moments.append(moment)
        moments.sort()
        return moments

    def _team_open(self, moment: datetime) -> datetime:
        """`moment` when the team is at work then, else the next opening."""
        local = moment.astimezone(self.zone)
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            hours = _TEAM_HOURS.get(day.weekday())
            if hours is None:
                continue
            opens, closes = self._local(day, hours[0]), self._local(day, hours[1])
            if moment < opens:
                return opens
            if moment < closes:
                return moment
        return moment  # unreachable: some day of the week has hours

    def _load(self, moment: datetime) -> float:
        """How busy the team is at that hour (waits grow with it)."""
        hour = moment.astimezone(self.zone).hour
        return 0.6 + _HOUR_WEIGHTS[hour] / 5.0

    def _able(self, queue_index: int, *, besides: _Person | None = None) -> list[_Person]:
        """The people of the queue (but `besides`)."""
        queue_id = self.queues[queue_index].id
        return [p for p in self.people if queue_id in p.queue_ids and p is not besides]

    def _choose(self, people: Sequence[_Person]) -> _Person:
        return self.rng.choices(people, weights=[p.weight for p in people])[0]

    def _pick_person(self, queue_index: int) -> _Person:
        return self._choose(self._able(queue_index))

    def _queue_wait(self, moment: datetime, queue_index: int) -> timedelta:
        """How long a ticket put in the queue at `moment` waits for an agent."""
        rng = self.rng
        opens = self._team_open(moment)
        slower = 1.3 if queue_index % 2 == 1 else 1.0
        if opens == moment:
            wait = _lognormal(rng, 150 * self._load(opens) * slower, 0.9)
            return min(wait, timedelta(minutes=90))
        # Waits for the morning, behind the night's queue.
        return (opens - moment) + _lognormal(rng, 600, 0.7)

    def ticket(self, created: datetime, *, opener: str | None = None) -> _Ticket:
        """One conversation from the customer's first message to its end (maybe after now)."""
        rng = self.rng
        queue_names = [q.name for q in self.queues]
        hour = created.astimezone(self.zone).hour
        if opener is None:
            opener = rng.choice(OPENERS)
            if rng.random() < 0.3:
                opener = "Bom dia" if hour < 12 else "Boa tarde" if hour < 18 else "Boa noite"
        lines = [_Line(created, True, opener)]
        at = created + timedelta(seconds=rng.uniform(0.5, 2))
        if self.greeting:
            lines.append(_Line(at, False, self.greeting, from_bot=True))
        menu = "\n".join(
            ["Escolha uma das opções abaixo, respondendo com o número:"]
            + [f"{i} - {name}" for i, name in enumerate(queue_names, start=1)]
        )
        lines.append(_Line(at, False, menu, from_bot=True))
        ticket = _Ticket(created_at=created, queue_index=None, lines=lines)
        if rng.random() < 0.08:  # the customer went quiet: the idle timer closes it
            ticket.closed_at = at + timedelta(
                minutes=_IDLE_CLOSE_MINUTES, seconds=rng.uniform(0, 30)
            )
            ticket.steps.append(
                Step(ticket.closed_at, HistoryKind.closed, TIMER, reason="inactivity")
            )
            return ticket
        at += _lognormal(rng, 25, 0.7)
        weights = [max(1, 6 - 2 * i) for i in range(len(self.queues))]
        queue_index = rng.choices(range(len(self.queues)), weights=weights)[0]
        queue = self.queues[queue_index]
        ticket.queue_index, ticket.menu_queue_id = queue_index, queue.id
        lines.append(_Line(at, True, str(queue_index + 1)))
        at += timedelta(seconds=rng.uniform(0.5, 2))
        kind = queue_index % 2
        options = SELF_SERVICE[kind]
        if queue.greeting:
            lines.append(_Line(at, False, queue.greeting, from_bot=True))
        submenu = "\n".join(
            ["Escolha uma opção:"]
            + [f"{i} - {title}" for i, (title, _) in enumerate(options, start=1)]
            + [f"{len(options) + 1} - Falar com um atendente", "0 - Voltar", "# - Menu principal"]
        )
        lines.append(_Line(at, False, submenu, from_bot=True))
        at += _lognormal(rng, 20, 0.7)
        if rng.random() < 0.24:  # self-service: the bot answers and the conversation ends
            choice = rng.randrange(len(options))
            lines.append(_Line(at, True, str(choice + 1)))
            at += timedelta(seconds=rng.uniform(0.5, 2))
            lines.append(_Line(at, False, options[choice][1], from_bot=True))
            ticket.closed_at = at
            ticket.steps.append(Step(at, HistoryKind.closed, BOT, reason="menu_end"))
            return ticket
        lines.append(_Line(at, True, str(len(options) + 1)))
        at += timedelta(seconds=rng.uniform(0.5, 2))
        ticket.handed_off_at = at
        ticket.steps.append(Step(at, HistoryKind.handed_off, BOT, queue_id=queue.id))
        lines.append(
            _Line(
                at,
                False,
                "Em instantes um atendente vai falar com você. Protocolo: {protocol}.",
                from_bot=True,
            )
        )
        # Now and then the customer picked the wrong queue: the problem is the other's.
        others = [i for i in range(len(self.queues)) if i != queue_index]
        moved_to = rng.choice(others) if others and rng.random() < _MISROUTED_SHARE else None
        problem = rng.choice(PROBLEMS[kind if moved_to is None else moved_to % 2])
        at += _lognormal(rng, 40, 0.8)
        lines.append(_Line(at, True, problem))
        self._with_people(ticket, queue_index, at, moved_to=moved_to)
        return ticket

    def _with_people(
        self, ticket: _Ticket, queue_index: int, last: datetime, *, moved_to: int | None
    ) -> None:
        """From the queue to the close: accepted (in `moved_to` when the customer chose the
        wrong queue), answered, discussed (maybe passed on, maybe closed and reopened),
        closed, rated."""
        rng = self.rng
        assert ticket.handed_off_at is not None
        wait = self._queue_wait(ticket.handed_off_at, queue_index)
        if rng.random() < 0.025:  # never taken: a supervisor closes it the next day
            ticket.closed_at = self._team_open(ticket.handed_off_at + timedelta(hours=20))
            ticket.closed_at += _lognormal(rng, 1800, 0.5)
            by = Actor.user(self.supervisor.user_id)
            ticket.steps.append(Step(ticket.closed_at, HistoryKind.closed, by))
            return
        ticket.accepted_at = max(ticket.handed_off_at + wait, last + timedelta(seconds=1))
        if moved_to is not None:  # the supervisor moves it while it waits
            waited = (ticket.accepted_at - ticket.handed_off_at) * rng.uniform(0.2, 0.6)
            moved = ticket.handed_off_at + waited
            moved = self._team_open(max(moved, last + timedelta(seconds=rng.uniform(20, 90))))
            queue_index = moved_to
            ticket.steps.append(
                Step(
                    moved,
                    HistoryKind.transferred,
                    Actor.user(self.supervisor.user_id),
                    queue_id=self.queues[queue_index].id,
                    note=rng.choice(TRANSFER_NOTES[f"queue{queue_index % 2}"]),
                )
            )
            ticket.accepted_at = max(ticket.accepted_at, moved + _lognormal(rng, 120, 0.8))
        kind = queue_index % 2
        person = self._pick_person(queue_index)
        ticket.steps.append(Step(ticket.accepted_at, HistoryKind.accepted, user_id=person.user_id))
        at = ticket.accepted_at + _lognormal(rng, 45 * person.speed, 0.8)
        ticket.first_agent_reply_at = at
        lines = ticket.lines
        queue_name = self.queues[queue_index].name
        lines.append(
            _Line(
                at,
                False,
                f"Olá, {{first}}! Aqui é {person.first_name}, do {queue_name}. Como posso ajudar?",
                sender=person.user_id,
            )
        )
        long_one = rng.random() < 0.05
        exchanges = rng.choices(range(1, 7), weights=[15, 30, 25, 15, 10, 5])[0]
        # Passed on after one of the exchanges, not the last (the other one goes on with it).
        passed_after = rng.randrange(max(1, exchanges - 1))
        passed_after = passed_after if rng.random() < _PASSED_ON_SHARE else -1
        for step in range(exchanges):
            at += _lognormal(rng, 90, 1.0)
            lines.append(_Line(at, True, rng.choice(CUSTOMER_FOLLOW_UPS)))
            if rng.random() < 0.08:
                at += _lognormal(rng, 30, 0.5)
                lines.append(
                    _Line(at, False, rng.choice(NOTES), is_note=True, sender=person.user_id)
                )
            at += _lognormal(rng, 60 * person.speed, 0.9)
            lines.append(
                _Line(at, False, rng.choice(AGENT_FOLLOW_UPS[kind]), sender=person.user_id)
            )
            if step == passed_after:
                at, person, queue_index = self._pass_on(ticket, at, person, queue_index)
                kind = queue_index % 2
            if long_one and step == 0 and rng.random() < _REOPENED_SHARE:
                at = self._closed_and_reopened(ticket, at, person, kind)
            elif long_one and step == 0:  # the customer comes back days later
                at = self._team_open(at + timedelta(days=rng.uniform(1, 3)))
                at += _lognormal(rng, 3600, 0.8)
                lines.append(_Line(at, True, rng.choice(RETURNS)))
                at += _lognormal(rng, 600 * person.speed, 0.8)
                lines.append(
                    _Line(
                        at,
                        False,
                        "Cliente voltou a relatar o problema.",
                        is_note=True,
                        sender=person.user_id,
                    )
                )
                at += _lognormal(rng, 60, 0.5)
                lines.append(
                    _Line(at, False, rng.choice(AGENT_FOLLOW_UPS[kind]), sender=person.user_id)
                )
        at += _lognormal(rng, 45 * person.speed, 0.6)
        lines.append(_Line(at, False, rng.choice(AGENT_CLOSINGS), sender=person.user_id))
        if rng.random() < 0.7:
            at += _lognormal(rng, 60, 0.8)
            lines.append(_Line(at, True, rng.choice(CUSTOMER_CLOSINGS)))
        at += _lognormal(rng, 120, 0.8)
        self._close_asking(ticket, at, person)
        ticket.closed_at = at
        ticket.asked_rating = True
        if rng.random() < 0.6:
            answered = at + min(_lognormal(rng, 120, 1.0), _CSAT_TIMEOUT - timedelta(minutes=2))
            waited = ticket.accepted_at - ticket.handed_off_at
            if rng.random() < 0.05:
                score = 1
            else:
                latent = 4.45 + person.bias + rng.gauss(0.0, 0.9)
                latent -= 0.6 if waited > timedelta(minutes=30) else 0.0
                latent -= 0.4 if long_one else 0.0
                score = min(5, max(1, round(latent)))
            ticket.rating, ticket.rating_at = score, answered
            ticket.steps.append(Step(answered, HistoryKind.rated, rating=score))
            lines.append(_Line(answered, True, rng.choice(CSAT_ANSWERS).format(n=score)))
            lines.append(
                _Line(
                    answered + timedelta(seconds=rng.uniform(0.5, 2)),
                    False,
                    "Obrigado pela sua avaliação, {first}!",
                    from_bot=True,
                )
            )
        else:  # the scheduler's timeout; _cut drops it while the question still waits
            ticket.steps.append(Step(at + _CSAT_TIMEOUT, HistoryKind.rating_expired, TIMER))

    def _close_asking(self, ticket: _Ticket, at: datetime, person: _Person) -> None:
        """The agent closes the ticket at `at`, and the bot asks for the rating."""
        by = Actor.user(person.user_id)
        ticket.steps.append(Step(at, HistoryKind.closed, by, asks_rating=True))
        ticket.lines.append(
            _Line(
                at,
                False,
                f"Seu atendimento com {person.name} foi encerrado."
                " De 1 a 5, qual nota você dá para o atendimento?",
                from_bot=True,
            )
        )

    def _pass_on(
        self, ticket: _Ticket, at: datetime, person: _Person, queue_index: int
    ) -> tuple[datetime, _Person, int]:
        """The agent transfers the conversation after their message at `at`: mostly to the
        other queue (waiting there, or straight to one of its agents), else to a colleague.
        Returns when the next one writes, who they are and their queue."""
        rng = self.rng
        others = [i for i in range(len(self.queues)) if i != queue_index]
        colleagues = self._able(queue_index, besides=person)
        named: _Person | None
        if others and (not colleagues or rng.random() < 0.75):
            target = rng.choice(others)
            able = self._able(target, besides=person) or self._able(target)
            named = self._choose(able) if rng.random() < 0.3 else None
            note = rng.choice(TRANSFER_NOTES[f"queue{target % 2}"])
        elif colleagues:
            target, able = queue_index, colleagues
            named = self._choose(colleagues)
            note = rng.choice(TRANSFER_NOTES["agent"])
        else:
            return at, person, queue_index  # nobody else to pass it to
        queue = self.queues[target]
        at += _lognormal(rng, 30, 0.6)
        saying = transfer_saying(
            queue_name=queue.name, person_name=named.name if named is not None else None
        )
        ticket.lines.append(_Line(at, False, saying, sender=person.user_id))
        at += _lognormal(rng, 15, 0.5)
        ticket.steps.append(
            Step(
                at,
                HistoryKind.transferred,
                Actor.user(person.user_id),
                queue_id=queue.id,
                user_id=named.user_id if named is not None else None,
                note=note,
            )
        )
        if named is None:  # it waits in the other queue for one of its agents
            at += self._queue_wait(at, target)
            named = self._choose(able)
            ticket.steps.append(Step(at, HistoryKind.accepted, user_id=named.user_id))
        at += _lognormal(rng, 45 * named.speed, 0.8)
        ticket.lines.append(
            _Line(
                at,
                False,
                f"Olá, {{first}}! Aqui é {named.first_name}, do {queue.name}."
                " Já vi o seu caso, vou continuar com você.",
                sender=named.user_id,
            )
        )
        return at, named, target

    def _closed_and_reopened(
        self, ticket: _Ticket, at: datetime, person: _Person, kind: int
    ) -> datetime:
        """The agent closes after their message at `at`, the rating question lapses, and
        days later the customer's problem is back (by phone): the agent reopens the ticket.
        Returns when the conversation goes on."""
        rng = self.rng
        at += _lognormal(rng, 120, 0.8)
        self._close_asking(ticket, at, person)
        ticket.steps.append(Step(at + _CSAT_TIMEOUT, HistoryKind.rating_expired, TIMER))
        at = self._team_open(at + timedelta(days=rng.uniform(1, 3))) + _lognormal(rng, 3600, 0.8)
        ticket.steps.append(Step(at, HistoryKind.reopened, user_id=person.user_id))
        at += _lognormal(rng, 20, 0.5)
        note = rng.choice(REOPEN_NOTES)
        ticket.lines.append(_Line(at, False, note, is_note=True, sender=person.user_id))
        at += _lognormal(rng, 40, 0.5)
        ticket.lines.append(_Line(at, False, rng.choice(REOPEN_SAYINGS), sender=person.user_id))
        at += _lognormal(rng, 300, 0.8)
        ticket.lines.append(_Line(at, True, rng.choice(RETURNS)))
        at += _lognormal(rng, 60 * person.speed, 0.9)
        ticket.lines.append(
            _Line(at, False, rng.choice(AGENT_FOLLOW_UPS[kind]), sender=person.user_id)
        )
        return at

    def assign(self, tickets: list[_Ticket], contacts: list[_Contact]) -> None:
        """Give each ticket a contact free at that time (one conversation at a time)."""
        weights = [c.activity for c in contacts]
        for ticket in tickets:
            start, end = ticket.created_at, ticket.busy_until
            for _ in range(30):
                contact = self.rng.choices(contacts, weights=weights)[0]
                if contact.free(start, end):
                    break
            else:
                contact = next(c for c in contacts if c.free(start, end))
            contact.busy.append((start, end))
            ticket.contact = contact

    def contact_dates(self, contacts: list[_Contact], tickets: list[_Ticket]) -> None:
        """When each contact came: at their first message, or imported before the history."""
        rng = self.rng
        first: dict[int, datetime] = {}
        for ticket in tickets:
            assert ticket.contact is not None
            first.setdefault(ticket.contact.index, ticket.created_at)
        span = (self.now - self.start).total_seconds()
        for contact in contacts:
            began = first.get(contact.index)
            if began is not None and rng.random() < 0.55:
                contact.created_at = began - timedelta(milliseconds=rng.uniform(50, 400))
            elif began is None and rng.random() < 0.3:
                contact.created_at = self._jitter(
                    self.start + timedelta(seconds=rng.uniform(0, span))
                )
            else:
                before = timedelta(days=rng.uniform(1, 400))
                contact.created_at = self._jitter(self.start - before)
            if rng.random() < 0.04:
                left = (self.now - contact.created_at).total_seconds()
                contact.opted_out_at = self._jitter(
                    contact.created_at + timedelta(seconds=rng.uniform(0.2, 0.9) * left)
                )

    # The campaign -------------------------------------------------------------------------

    def campaign_start(self) -> datetime | None:
        if self.days < 3:
            return None
        ago = max(1, round(self.days * self.rng.uniform(0.35, 0.6)))
        day = self.now.astimezone(self.zone).date() - timedelta(days=ago)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        if day < self.first_day:
            day = self.first_day
        return self._jitter(self._local(day, 10))

    def recipients(self, start: datetime, contacts: list[_Contact]) -> list[_Recipient]:
        """The campaign's sends, one every 20-60 s inside 09:00-18:00 on weekdays."""
        rng = self.rng
        chosen = [
            c
            for c in contacts
            if c.created_at is not None and c.created_at <= start and rng.random() < 0.6
        ]
        rng.shuffle(chosen)
        out: list[_Recipient] = []
        at = start
        for number, contact in enumerate(chosen):
            if contact.opted_out_at is not None and contact.opted_out_at <= start:
                out.append(
                    _Recipient(contact, "skipped", None, "", "opted out", None, None, None, None)
                )
                continue
            at += timedelta(seconds=rng.uniform(20, 60))
            local = at.astimezone(self.zone)
            if local.hour >= 18 or local.weekday() >= 5:
                day = local.date() + timedelta(days=1)
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                at = self._jitter(self._local(day, 9))
            if at > self.now:
                break
            variant = rng.randrange(len(CAMPAIGN_VARIANTS))
            body = CAMPAIGN_VARIANTS[variant].replace("{{first_name}}", contact.first_name)
            if rng.random() < 0.04:
                out.append(
                    _Recipient(
                        contact, "failed", variant, body, "not on WhatsApp", at, None, None, None
                    )
                )
                continue
            delivered = at + timedelta(seconds=rng.uniform(1, 20))
            read = delivered + _lognormal(rng, 1800, 1.5)
            roll = rng.random()
            status = "read" if roll < 0.55 else "delivered" if roll < 0.88 else "sent"
            if status == "read" and read > self.now:
                status = "delivered"
            channel_id = f"3EB0C{number:07X}{rng.getrandbits(32):08X}"
            out.append(
                _Recipient(
                    contact,
                    status,
                    variant,
                    body,
                    "",
                    at,
                    delivered if status in ("delivered", "read") else None,
                    read if status == "read" else None,
                    channel_id,
                )
            )
        return out

    def answers(self, recipients: list[_Recipient]) -> list[_Ticket]:
        """The conversations customers started in answer to the campaign."""
        rng = self.rng
        odds = {"read": 0.16, "delivered": 0.04, "sent": 0.01}
        out: list[_Ticket] = []
        for recipient in recipients:
            if recipient.sent_at is None or rng.random() >= odds.get(recipient.status, 0.0):
                continue
            after = recipient.read_at or recipient.delivered_at or recipient.sent_at
            created = self._jitter(after + _lognormal(rng, 1200, 1.2))
            if created > self.now or created - recipient.sent_at > timedelta(days=3):
                continue
            ticket = self.ticket(created, opener=rng.choice(CAMPAIGN_OPENERS))
            _cut(ticket, self.now)
            contact = recipient.contact
            if not contact.free(ticket.created_at, ticket.busy_until):
                continue
            contact.busy.append((ticket.created_at, ticket.busy_until))
            ticket.contact = contact
            out.append(ticket)
        return out


def _cut(ticket: _Ticket, now: datetime) -> None:
    """What of the ticket has happened by `now` (the rest has not happened yet)."""
    ticket.lines = [line for line in ticket.lines if line.at <= now]
    ticket.steps = [step for step in ticket.steps if step.at <= now]
    for name in ("handed_off_at", "accepted_at", "first_agent_reply_at"):
        moment = getattr(ticket, name)
        if moment is not None and moment > now:
            setattr(ticket, name, None)
    # A reopened ticket may be closed now though its last close is still to come.
    ticket.closed_at = closed_at(ticket.steps)
    if ticket.accepted_at is None:
        ticket.first_agent_reply_at = None
    if ticket.rating_at is not None and ticket.rating_at > now:
        ticket.rating, ticket.rating_at = None, None
    if ticket.closed_at is None:
        ticket.rating, ticket.rating_at, ticket.asked_rating = None, None, False


def _flow_state(ticket: _Ticket, status: str, now: datetime) -> dict[str, Any]:
    if status == "bot":
        if ticket.queue_index is None:
            return {"step": "Triage:menu", "menu_queue_id": None, "menu_path": [], "misses": 0}
        return {"step": "Triage:options", "menu_path": [], "misses": 0}
    if status == "closed":
        if not ticket.asked_rating:
            return {}
        assert ticket.closed_at is not None
        waiting = ticket.rating is None and ticket.closed_at + _CSAT_TIMEOUT > now
        return {"awaiting_rating": waiting, "csat_tries": 0}
    return {"step": None, "menu_queue_id": None, "menu_path": [], "misses": 0}


# Writing ----------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _staffed(queue_count: int) -> list[tuple[str, tuple[int, ...], float, float, float]]:
    """_AGENTS and _SUPERVISOR (last) with every one of `queue_count` queues staffed: the
    agents' queues are for two queues; each further queue gets two agents in turn (else its
    tickets would wait for nobody), and the supervisor watches all of them."""
    agents = [list(spec[1]) for spec in _AGENTS]
    for extra, queue_index in enumerate(range(2, queue_count)):
        for agent in (2 * extra, 2 * extra + 1):
            agents[agent % len(agents)].append(queue_index)
    out = [
        (name, tuple(mine), speed, bias, weight)
        for (name, _, speed, bias, weight), mine in zip(_AGENTS, agents, strict=True)
    ]
    name, pair, speed, bias, weight = _SUPERVISOR
    indexes: tuple[int, ...] = pair if queue_count <= 2 else tuple(range(queue_count))
    return [*out, (name, indexes, speed, bias, weight)]


async def _people(
    company: Company, queues: Sequence[Queue], email_domain: str, since: datetime, password: str
) -> tuple[list[_Person], list[str]]:
    password_hash = hash_password(password)
    people: list[_Person] = []
    emails: list[str] = []
    specs = _staffed(len(queues))
    for spec, role in [*((a, Role.agent) for a in specs[:-1]), (specs[-1], Role.supervisor)]:
        name, indexes, speed, bias, weight = spec
        email = f"{_ascii(name).replace(' ', '.')}@{email_domain}"
        user = await User.create(
            company=company,
            name=name,
            email=email,
            password_hash=password_hash,
            role=role,
            created_at=since,
        )
        mine = list({queues[i % len(queues)].id: queues[i % len(queues)] for i in indexes}.values())
        await user.queues.add(*mine)
        people.append(_Person(user.id, name, tuple(q.id for q in mine), speed, bias, weight))
        emails.append(email)
    return people, emails


async def generate_history(
    *,
    company_id: int,
    days: int,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    now: datetime | None = None,
    email_domain: str = "atende.local",
) -> HistorySummary:
    """Write `days` days of history (ending at `now`) for the company, which needs queues and
    a connection (seed_demo's). Refuses (HistoryExists) when it was already written."""
    if days < 1:
        raise ValueError("days must be at least 1")
    began = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    company = await Company.get(id=company_id)
    settings = await get_company_settings(company_id=company_id)
    zone = ZoneInfo(settings.timezone)
    queues = await Queue.filter(company_id=company_id).order_by("position", "id")
    if not queues:
        raise ValueError(f"Company {company.name} has no queues: run `atende demo` first")
    connection = (
        await Connection.filter(company_id=company_id, channel=Channel.sandbox)
        .order_by("-is_default", "id")
        .first()
    ) or await Connection.filter(company_id=company_id).order_by("-is_default", "id").first()
    if connection is None:
        raise ValueError(f"Company {company.name} has no connection: run `atende demo` first")
    # One transaction: the bulk inserts run on its connection too (service.sql takes the
    # current one), and SQLite's reserved ids are safe only within it.
    async with in_transaction():
        marker = f"{_ascii(_AGENTS[0][0]).replace(' ', '.')}@{email_domain}"
        if (
            await User.filter(email=marker).exists()
            or await ContactList.filter(company_id=company_id, name=_LIST_NAME).exists()
        ):
            raise HistoryExists(
                f"Company {company.name} already has the demo history ({marker} exists);"
                " generate it again on an empty database (a new DATA_DIR or DATABASE_URL)."
            )
        planner_start = datetime.combine(
            now.astimezone(zone).date() - timedelta(days=days - 1), clock_time(), tzinfo=zone
        ).astimezone(UTC)
        # Random, shown once (the admin's is too): a known password would be a door.
        password = secrets.token_urlsafe(9)
        people, emails = await _people(
            company, queues, email_domain, planner_start - timedelta(days=120), password
        )
        greeting = (connection.greeting or "").replace("{{name}}", "{first}")
        planner = _Planner(
            rng=rng,
            zone=zone,
            now=now,
            days=days,
            scale=scale,
            queues=queues,
            people=people,
            greeting=greeting.replace("{{first_name}}", "{first}"),
        )
        numbers = await Contact.filter(company_id=company_id).values_list("number", flat=True)
        contacts = planner.contacts({str(n) for n in numbers})
        tickets = [planner.ticket(moment) for moment in planner.ticket_times()]
        for ticket in tickets:
            _cut(ticket, now)
        planner.assign(tickets, contacts)
        planner.contact_dates(contacts, tickets)
        start = planner.campaign_start()
        recipients = planner.recipients(start, contacts) if start is not None else []
        answers = planner.answers(recipients)
        tickets = sorted([*tickets, *answers], key=lambda t: t.created_at)
        await _idle_close_setting(company)
        await _write_contacts(company, contacts, now)
        members = [r.contact for r in recipients] or [c for c in contacts if "cliente" in c.tags]
        campaign = await _write_campaign(
            company, connection, zone, start, recipients, members, people[-1].user_id
        )
        if campaign is not None:
            _link_answers(tickets, recipients, campaign.id)
        message_count, event_count = await _write_tickets(company, connection, tickets, now, rng)
    return HistorySummary(
        company_id=company_id,
        days=days,
        contacts=len(contacts),
        tickets=len(tickets),
        messages=message_count,
        events=event_count,
        recipients=len(recipients),
        agent_emails=tuple(emails[:-1]),
        supervisor_email=emails[-1],
        password=password,
        seconds=time.perf_counter() - began,
    )


async def _idle_close_setting(company: Company) -> None:
    """The idle timer that closed the conversations whose customer went quiet with the bot."""
    key = "inactivity_close_minutes"
    if not await Setting.filter(company_id=company.id, key=key).exists():
        await Setting.create(company=company, key=key, value=wrap_setting(_IDLE_CLOSE_MINUTES))


async def _write_contacts(company: Company, contacts: list[_Contact], now: datetime) -> None:
    tags = {}
    for name, color in TAGS:
        tag, _ = await Tag.get_or_create(company=company, name=name, defaults={"color": color})
        tags[name] = tag.id
    for contact, contact_id in zip(
        contacts, await reserve_ids(table="contacts", count=len(contacts)), strict=True
    ):
        contact.id = contact_id
    rows = []
    for c in contacts:
        assert c.created_at is not None
        fields = {"city": c.city, "plan": c.plan} if c.plan else {"city": c.city}
        rows.append(
            (
                c.id, company.id, c.number, c.name, c.email, _dumps(fields), False,
                c.opted_out_at is not None, c.opted_out_at,
                "keyword SAIR" if c.opted_out_at is not None else "", None, c.created_at,
                max(c.created_at, c.opted_out_at or c.created_at),
            )
        )  # fmt: skip
    columns = (
        "id", "company_id", "number", "name", "email", "custom_fields", "is_group", "opted_out",
        "opted_out_at", "opted_out_reason", "language", "created_at", "updated_at",
    )  # fmt: skip
    await insert_rows(table="contacts", columns=columns, rows=rows, json_columns=("custom_fields",))
    links = [(c.id, tags[name]) for c in contacts for name in c.tags]
    await insert_rows(table="contact_tags", columns=("contacts_id", "tag_id"), rows=links)


async def _write_campaign(
    company: Company,
    connection: Connection,
    zone: ZoneInfo,
    start: datetime | None,
    recipients: list[_Recipient],
    members: list[_Contact],
    supervisor_id: int,
) -> Campaign | None:
    """The audience list, and the finished campaign sent to it with its recipients' rows."""
    first = min((c.created_at for c in members if c.created_at), default=datetime.now(UTC))
    listed = (start or first) - timedelta(days=1)
    contact_list = await ContactList.create(company=company, name=_LIST_NAME, created_at=listed)
    members_rows = [(contact_list.id, c.id, listed) for c in members]
    await insert_rows(
        table="contact_list_members",
        columns=("contact_list_id", "contact_id", "added_at"),
        rows=members_rows,
    )
    if start is None:
        return None
    sends = [r.sent_at for r in recipients if r.sent_at is not None]
    campaign = await Campaign.create(
        company=company,
        connection=connection,
        name="Promoção 500 Mega",
        status=CampaignStatus.finished,
        contact_list=contact_list,
        variants=list(CAMPAIGN_VARIANTS),
        scheduled_at=start,
        timezone=zone.key,
        window_start="09:00",
        window_end="18:00",
        window_weekdays=[0, 1, 2, 3, 4],
        min_delay=20.0,
        max_delay=60.0,
        sent_count=len(sends),
        last_sent_at=max(sends, default=None),
        created_by_id=supervisor_id,
        started_at=start,
        finished_at=max(sends, default=start),
        created_at=listed,
    )
    rows = [
        (
            campaign.id, r.contact.id, r.status, r.variant, r.body, r.reason,
            r.channel_message_id, None, r.sent_at, r.delivered_at, r.read_at, start,
        )
        for r in recipients
    ]  # fmt: skip
    columns = (
        "campaign_id", "contact_id", "status", "variant", "body", "reason", "channel_message_id",
        "confirmed_at", "sent_at", "delivered_at", "read_at", "created_at",
    )  # fmt: skip
    await insert_rows(table="campaign_recipients", columns=columns, rows=rows)
    return campaign


def _link_answers(tickets: list[_Ticket], recipients: list[_Recipient], campaign_id: int) -> None:
    """As the pipeline does: a conversation started within seven days of the campaign's
    message to that contact answers the campaign."""
    sent = {r.contact.index: r.sent_at for r in recipients if r.sent_at and r.status != "failed"}
    for ticket in tickets:
        assert ticket.contact is not None
        at = sent.get(ticket.contact.index)
        if at is not None and at <= ticket.created_at <= at + _CAMPAIGN_ANSWER_WINDOW:
            ticket.campaign_id = campaign_id


def _delivery(rng: random.Random, at: datetime, now: datetime) -> str:
    """How far an outbound message got by now."""
    age = now - at
    if age < timedelta(seconds=5):
        return "sent"
    if age < timedelta(minutes=2):
        return "delivered"
    return "read" if rng.random() < 0.78 else "delivered"


async def _write_tickets(
    company: Company,
    connection: Connection,
    tickets: list[_Ticket],
    now: datetime,
    rng: random.Random,
) -> tuple[int, int]:
    """The tickets, their messages and their history; how many messages and lines."""
    for ticket, ticket_id in zip(
        tickets, await reserve_ids(table="tickets", count=len(tickets)), strict=True
    ):
        ticket.id = ticket_id
    rows = []
    messages: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    replayer = Replayer(company_id=company.id, now=now)
    for t in tickets:
        assert t.contact is not None
        outcome = replayer.replay(t.steps, ticket_id=t.id, menu_queue_id=t.menu_queue_id)
        history.extend(outcome.rows)
        status = outcome.status
        first = t.contact.first_name
        said = [line for line in t.lines if not line.is_note]
        last = said[-1]
        unread = 0
        if status != "closed":
            for line in reversed(said):
                if not line.inbound:
                    break
                unread += 1
        for seq, line in enumerate(t.lines):
            body = line.body.replace("{first}", first).replace("{protocol}", str(t.id))
            if line.inbound:
                channel_id: str | None = f"3A{t.id:08X}{seq:04X}{rng.getrandbits(24):06X}"
                state, processed = "delivered", line.at + timedelta(milliseconds=300)
            elif line.is_note:
                channel_id, state, processed = None, "sent", None
            else:
                channel_id = f"3EB0{t.id:08X}{seq:04X}{rng.getrandbits(16):04X}"
                state = _delivery(rng, line.at, now)
                processed = line.at if line.from_bot else None
            messages.append(
                (
                    line.at, t.id, seq, company.id, connection.id, "in" if line.inbound else "out",
                    body, channel_id, state, line.sender, line.from_bot, line.is_note, processed,
                )
            )  # fmt: skip
        preview = last.body.replace("{first}", first).replace("{protocol}", str(t.id))
        moments = [line.at for line in t.lines] + [t.closed_at or t.created_at]
        moments += [t.steps[-1].at] if t.steps else []  # a timer's change saves the ticket
        rows.append(
            (
                t.id, company.id, t.contact.id, connection.id,
                outcome.queue_id, outcome.user_id, status,
                t.campaign_id, _dumps(_flow_state(t, status, now)), unread, t.rating,
                preview[:500], last.at, t.created_at, max(moments), t.handed_off_at,
                t.accepted_at, t.first_agent_reply_at, t.closed_at,
            )
        )  # fmt: skip
    columns = (
        "id", "company_id", "contact_id", "connection_id", "queue_id", "user_id", "status",
        "campaign_id", "flow_state", "unread_count", "rating", "last_message", "last_message_at",
        "created_at", "updated_at", "handed_off_at", "accepted_at", "first_agent_reply_at",
        "closed_at",
    )  # fmt: skip
    await insert_rows(table="tickets", columns=columns, rows=rows, json_columns=("flow_state",))
    messages.sort(key=lambda m: (m[0], m[1], m[2]))
    message_columns = (
        "company_id", "ticket_id", "connection_id", "direction", "body", "channel_message_id",
        "status", "sender_user_id", "from_bot", "is_note", "processed_at", "created_at",
    )  # fmt: skip
    message_rows = [(m[3], m[1], *m[4:], m[0]) for m in messages]
    await insert_rows(table="messages", columns=message_columns, rows=message_rows)
    # In time order, as the app writes them (one ticket's lines at one moment keep theirs).
    history.sort(key=lambda line: (line[-1], line[1]))
    await insert_rows(table="ticket_events", columns=EVENT_COLUMNS, rows=history)
    return len(messages), len(history)
