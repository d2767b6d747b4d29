"""A small hand-built history of one company, with every moment chosen so that each metric of
docs/metrics.md has a known value (the literals of `EXPECTED`, `EXPECTED_PATHS` and of the
tests).

The company works in America/New_York; the period is Monday 2 to Sunday 8 March 2026 (local
days), [2026-03-02 05:00 UTC, 2026-03-09 04:00 UTC): on Sunday 8 March the clocks jump from
02:00 to 03:00, so that day lasts 23 hours and ends at 04:00 UTC, not 05:00.

Hours: the company is open Monday-Friday 09:00-18:00 New York time (Christmas off); the
queue "Suporte" has its own hours, every day 08:00-20:00 São Paulo time (UTC-3); "Vendas"
follows the company's. Agents: Ana and Bruno. All moments below are UTC.

The tickets (by the names `SeededHistory.tickets` keys them with):

- bot_contained: Mon 2, 15:00 created; the bot answers and closes it at 15:05.
- answered_90s: Mon 2, 14:00 created, 14:02 handed to Vendas (a bot message and a note of
  Ana's after it do not count), Ana accepts at 14:03 and answers at 14:03:30 (FRT 90 s);
  closed 14:20, rated 5.
- reopened: Tue 3, 15:00 created, 15:01 to Suporte, Bruno accepts 15:11 and answers 15:12,
  closes 15:30, reopens Wed 4, 15:51 and closes again at 16:00 (the last close is the one
  kept); rated 4 at 16:03.
- transferred: Wed 4, 12:00 created, 12:01 to Suporte, transferred at 12:31 to Vendas and to
  Ana (accepted then), who answers at 12:40 (07:40 in New York: no business seconds); open.
- night: Tue 3, 22:20 created, 22:30 (17:30 local) to Vendas; Bruno accepts Wed 4 14:10 and
  answers 14:15 (09:15 local): 56 700 s, of which 2 700 in business hours; closed 15:15,
  rated 2.
- waiting: Sat 7, 13:00 created, 13:05 handed off without a queue, moved to Suporte by the
  fallback at 13:35; nobody took it yet (pending).
- dst_day: Sun 8, 07:30 created (03:30 EDT), 07:40 to Suporte, Ana accepts 11:55 and answers
  12:00 (3 600 s inside Suporte's hours); closed Mon 9 05:00 (after the period).
- with_bot: Fri 6, 18:00 created, still with the bot; it answers the campaign.
- after_period: Mon 9, 04:30 created (00:30 EDT: outside the period, though it would be
  23:30 of the 8th in EST), answered at 04:32, closed 04:40, rated 1.
- before_period: Sun 1, 20:00 created, 20:10 to Vendas, Ana answers 20:20; closed Mon 2
  15:00 (in the period), not rated. It is from before the history existed: it has no
  ticket_events rows, and reads as handed off into Vendas at 20:10, closed at 15:00.

Every other ticket has the history lines that service.tickets.lifecycle writes for what
happened to it (with_bot none yet: a ticket the customer opened starts without one). Their
stays in queues (entered-left, seconds): Vendas answered_90s 1080, night 60300,
before_period 67800, transferred from Wed 4 12:31 on; Suporte reopened 1740 and 540,
transferred 1800, waiting from Sat 7 13:35 on, dst_day from Sun 8 07:40 to after the
period, after_period after it.

The campaign "Promo março" reached the first four contacts (read, delivered, failed,
skipped); the first contact has the tags vip and b2b and two custom fields.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import analytics
from analytics.source import Source
from service.auth.passwords import hash_password
from service.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from service.companies.models import Company, Setting
from service.companies.service import wrap_setting
from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.settings import Settings
from service.tags.models import Tag
from service.tickets.models import (
    ActorKind,
    Direction,
    HistoryKind,
    Message,
    MessageStatus,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from service.users.models import Role, User
from tests.factories import Tenant, unique, unique_email

__all__ = ["EXPECTED", "EXPECTED_PATHS", "TIMEZONE", "SeededHistory", "at", "seed_history"]

TIMEZONE = "America/New_York"
FIRST_DAY = dt.date(2026, 3, 2)
LAST_DAY = dt.date(2026, 3, 8)
_numbers = itertools.count(1)
_PASSWORD_HASH = hash_password("analytics history")

START = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)  # 2 March 00:00 EST
END = dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC)  # 9 March 00:00 EDT
COMPANY_HOURS = {
    "timezone": TIMEZONE,
    "days": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["12-25"],
}
SUPORTE_HOURS = {
    "timezone": "America/Sao_Paulo",
    "days": {
        day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of March 2026 in UTC."""
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=dt.UTC)


# The figures of the period, worked out by hand from the table above (the tests repeat the
# ones they check as literals).
EXPECTED: dict[str, Any] = {
    "created": 8,
    "handed_off": 6,
    "handoff_rate": 0.75,
    "bot_contained": 1,
    "containment_rate": 0.125,
    "closed": 5,
    # answered_90s 90, reopened 660, transferred 2340, dst_day 15600, night 56700
    "frt": {"count": 5, "mean": 15078.0, "median": 2340.0, "p90": 40260.0},
    # 90, 660, 0, 3600, 2700
    "frt_business_hours": {"count": 5, "mean": 1410.0, "median": 660.0, "p90": 3240.0},
    # answered_90s 60, reopened 600, transferred 1800, dst_day 15300, night 56400
    "waiting": {"count": 5, "mean": 14832.0, "median": 1800.0, "p90": 39960.0},
    "waiting_now": {"count": 1, "oldest_handed_off_at": at(7, 13, 5)},
    # bot_contained 300, answered_90s 1200, night 60900, before_period 68400, reopened 90000
    "resolution_from_creation": {"count": 5, "mean": 44160.0, "median": 60900.0, "p90": 81360.0},
    # answered_90s 1080, night 60300, before_period 67800, reopened 89940
    "resolution_from_handoff": {"count": 4, "mean": 54780.0, "median": 64050.0, "p90": 83298.0},
    "csat": {
        "count": 3,
        "average": 11 / 3,
        "satisfied_share": 2 / 3,
        "distribution": {1: 0, 2: 1, 3: 0, 4: 1, 5: 1},
    },
    "messages_in": 15,
}

# Per queue, from the history (the docstring's stays): the tickets that entered it in the
# period, and the time in queue of the stays that ended in the period.
EXPECTED_PATHS: dict[str, Any] = {
    "entered": {"Vendas": 3, "Suporte": 4},
    # Vendas 1080, 60300, 67800; Suporte 540, 1740, 1800
    "time_in_queue": {
        "Vendas": {"count": 3, "mean": 43060.0, "median": 60300.0, "p90": 66300.0},
        "Suporte": {"count": 3, "mean": 1360.0, "median": 1740.0, "p90": 1788.0},
    },
}


@dataclass
class SeededHistory:
    """What `seed_history` made: the ids to look for and the period to ask about."""

    company_id: int
    timezone: str = TIMEZONE
    first_day: dt.date = FIRST_DAY
    last_day: dt.date = LAST_DAY
    start: dt.datetime = START
    end: dt.datetime = END
    queues: dict[str, int] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, int] = field(default_factory=dict)
    contacts: list[int] = field(default_factory=list)
    campaign_id: int = 0
    connection_id: int = 0
    expected: dict[str, Any] = field(default_factory=lambda: EXPECTED)


class _Writer:
    def __init__(self, company_id: int, connection: Connection, seeded: SeededHistory) -> None:
        self.company_id = company_id
        self.connection = connection
        self.seeded = seeded

    async def ticket(self, key: str, **values: Any) -> Ticket:
        contact = await Contact.create(
            company_id=self.company_id, number=f"+1555{next(_numbers):07d}", name=key
        )
        self.seeded.contacts.append(contact.id)
        ticket = await Ticket.create(
            company_id=self.company_id, contact=contact, connection=self.connection, **values
        )
        self.seeded.tickets[key] = ticket.id
        return ticket

    async def line(
        self,
        ticket: Ticket,
        kind: HistoryKind,
        when: dt.datetime,
        *,
        actor: ActorKind = ActorKind.user,
        **columns: Any,
    ) -> None:
        """One line of the ticket's history, as service.tickets.lifecycle writes it."""
        await TicketEvent.create(
            company_id=self.company_id,
            ticket=ticket,
            kind=kind,
            actor_kind=actor,
            actor_user_id=columns.pop("actor_user_id", None),
            at=when,
            **columns,
        )

    async def message(
        self,
        ticket: Ticket,
        when: dt.datetime,
        direction: Direction,
        *,
        by: int | None = None,
        from_bot: bool = False,
        is_note: bool = False,
        media_type: str | None = None,
    ) -> None:
        await Message.create(
            company_id=self.company_id,
            ticket=ticket,
            connection=self.connection,
            direction=direction,
            body="…",
            status=MessageStatus.read if direction is Direction.outbound else MessageStatus.sent,
            sender_user_id=by,
            from_bot=from_bot,
            is_note=is_note,
            media_type=media_type,
            created_at=when,
        )


async def _setting(company_id: int, key: str, value: Any) -> None:
    await Setting.update_or_create(
        company_id=company_id, key=key, defaults={"value": wrap_setting(value)}
    )


async def seed_history(company: Tenant | Company | int) -> SeededHistory:
    """Writes the history of this module's docstring into the company (its time zone becomes
    America/New_York, with business hours) and returns what to expect of it."""
    if isinstance(company, Tenant):
        company_id = company.company.id
    elif isinstance(company, Company):
        company_id = company.id
    else:
        company_id = company
    seeded = SeededHistory(company_id=company_id)
    await _setting(company_id, "timezone", TIMEZONE)
    await _setting(company_id, "business_hours", COMPANY_HOURS)
    connection = await Connection.create(company_id=company_id, name=unique("conn"))
    seeded.connection_id = connection.id
    vendas = await Queue.create(company_id=company_id, name="Vendas", position=1)
    suporte = await Queue.create(
        company_id=company_id, name="Suporte", position=2, business_hours=SUPORTE_HOURS
    )
    seeded.queues = {"Vendas": vendas.id, "Suporte": suporte.id}
    for name in ("Ana", "Bruno"):
        user = await User.create(
            company_id=company_id,
            name=name,
            email=unique_email(name.lower()),
            password_hash=_PASSWORD_HASH,
            role=Role.agent,
        )
        seeded.agents[name] = user.id
    ana, bruno = seeded.agents["Ana"], seeded.agents["Bruno"]
    write = _Writer(company_id, connection, seeded)
    inbound, outbound = Direction.inbound, Direction.outbound
    closed, open_, pending = TicketStatus.closed, TicketStatus.open, TicketStatus.pending
    bot, customer = ActorKind.bot, ActorKind.customer

    async def handed(t: Ticket, when: dt.datetime, queue: Queue | None) -> None:
        await write.line(
            t,
            HistoryKind.handed_off,
            when,
            actor=bot,
            to_queue_id=None if queue is None else queue.id,
        )

    async def accepted(t: Ticket, when: dt.datetime, queue: Queue, user: int) -> None:
        await write.line(
            t,
            HistoryKind.accepted,
            when,
            actor_user_id=user,
            to_queue_id=queue.id,
            to_user_id=user,
        )

    async def closed_by(t: Ticket, when: dt.datetime, queue: Queue, user: int) -> None:
        await write.line(
            t,
            HistoryKind.closed,
            when,
            actor_user_id=user,
            from_queue_id=queue.id,
            from_user_id=user,
        )

    async def rated(t: Ticket, when: dt.datetime, rating: int) -> None:
        await write.line(t, HistoryKind.rated, when, actor=customer, reason=str(rating))

    t = await write.ticket(
        "bot_contained", status=closed, created_at=at(2, 15), closed_at=at(2, 15, 5)
    )
    await write.message(t, at(2, 15), inbound)
    await write.message(t, at(2, 15, 0, 30), outbound, from_bot=True)
    await write.message(t, at(2, 15, 2), inbound, media_type="image")
    await write.message(t, at(2, 15, 4), outbound, from_bot=True)
    await write.line(t, HistoryKind.closed, at(2, 15, 5), actor=bot, reason="menu_end")

    t = await write.ticket(
        "answered_90s",
        status=closed,
        queue=vendas,
        user_id=ana,
        created_at=at(2, 14),
        handed_off_at=at(2, 14, 2),
        accepted_at=at(2, 14, 3),
        first_agent_reply_at=at(2, 14, 3, 30),
        closed_at=at(2, 14, 20),
        rating=5,
    )
    await write.message(t, at(2, 14), inbound)
    await write.message(t, at(2, 14, 0, 5), outbound, from_bot=True)
    await write.message(t, at(2, 14, 1, 50), inbound)
    await write.message(t, at(2, 14, 2, 10), outbound, from_bot=True)
    await write.message(t, at(2, 14, 3, 10), outbound, by=ana, is_note=True)
    await write.message(t, at(2, 14, 3, 30), outbound, by=ana)
    await write.message(t, at(2, 14, 5), inbound)
    await write.message(t, at(2, 14, 10), outbound, by=ana)
    await handed(t, at(2, 14, 2), vendas)
    await accepted(t, at(2, 14, 3), vendas, ana)
    await closed_by(t, at(2, 14, 20), vendas, ana)
    await rated(t, at(2, 14, 21), 5)

    t = await write.ticket(
        "reopened",
        status=closed,
        queue=suporte,
        user_id=bruno,
        created_at=at(3, 15),
        handed_off_at=at(3, 15, 1),
        accepted_at=at(3, 15, 11),
        first_agent_reply_at=at(3, 15, 12),
        closed_at=at(4, 16),
        rating=4,
    )
    await write.message(t, at(3, 15), inbound)
    await write.message(t, at(3, 15, 0, 10), outbound, from_bot=True)
    await write.message(t, at(3, 15, 12), outbound, by=bruno)
    await write.message(t, at(3, 15, 20), inbound)
    await write.message(t, at(3, 15, 25), outbound, by=bruno)
    await write.message(t, at(4, 15, 50), inbound)
    await write.message(t, at(4, 15, 55), outbound, by=bruno)
    await handed(t, at(3, 15, 1), suporte)
    await accepted(t, at(3, 15, 11), suporte, bruno)
    await closed_by(t, at(3, 15, 30), suporte, bruno)
    await write.line(
        t,
        HistoryKind.reopened,
        at(4, 15, 51),
        actor_user_id=bruno,
        from_user_id=bruno,
        to_user_id=bruno,
        to_queue_id=suporte.id,
    )
    await closed_by(t, at(4, 16), suporte, bruno)
    await rated(t, at(4, 16, 3), 4)

    t = await write.ticket(
        "transferred",
        status=open_,
        queue=vendas,
        user_id=ana,
        created_at=at(4, 12),
        handed_off_at=at(4, 12, 1),
        accepted_at=at(4, 12, 31),
        first_agent_reply_at=at(4, 12, 40),
    )
    await write.message(t, at(4, 12), inbound)
    await write.message(t, at(4, 12, 0, 10), outbound, from_bot=True)
    await write.message(t, at(4, 12, 40), outbound, by=ana)
    await handed(t, at(4, 12, 1), suporte)
    await write.line(
        t,
        HistoryKind.transferred,
        at(4, 12, 31),
        actor_user_id=ana,
        from_queue_id=suporte.id,
        to_queue_id=vendas.id,
        to_user_id=ana,
    )

    t = await write.ticket(
        "night",
        status=closed,
        queue=vendas,
        user_id=bruno,
        created_at=at(3, 22, 20),
        handed_off_at=at(3, 22, 30),
        accepted_at=at(4, 14, 10),
        first_agent_reply_at=at(4, 14, 15),
        closed_at=at(4, 15, 15),
        rating=2,
    )
    await write.message(t, at(3, 22, 20), inbound)
    await write.message(t, at(3, 22, 29), outbound, from_bot=True)
    await write.message(t, at(4, 13), inbound)
    await write.message(t, at(4, 14, 15), outbound, by=bruno)
    await handed(t, at(3, 22, 30), vendas)
    await accepted(t, at(4, 14, 10), vendas, bruno)
    await closed_by(t, at(4, 15, 15), vendas, bruno)
    await rated(t, at(4, 15, 16), 2)

    t = await write.ticket(
        "waiting", status=pending, queue=suporte, created_at=at(7, 13), handed_off_at=at(7, 13, 5)
    )
    await write.message(t, at(7, 13), inbound)
    await write.message(t, at(7, 13, 1), outbound, from_bot=True)
    await handed(t, at(7, 13, 5), None)
    await write.line(
        t,
        HistoryKind.fallback,
        at(7, 13, 35),
        actor=ActorKind.timer,
        to_queue_id=suporte.id,
        reason="no_queue",
    )

    t = await write.ticket(
        "dst_day",
        status=closed,
        queue=suporte,
        user_id=ana,
        created_at=at(8, 7, 30),
        handed_off_at=at(8, 7, 40),
        accepted_at=at(8, 11, 55),
        first_agent_reply_at=at(8, 12),
        closed_at=at(9, 5),
    )
    await write.message(t, at(8, 7, 30), inbound)
    await write.message(t, at(8, 7, 31), outbound, from_bot=True)
    await write.message(t, at(8, 12), outbound, by=ana)
    await handed(t, at(8, 7, 40), suporte)
    await accepted(t, at(8, 11, 55), suporte, ana)
    await closed_by(t, at(9, 5), suporte, ana)

    campaign = await Campaign.create(
        company_id=company_id,
        connection=connection,
        name="Promo março",
        status=CampaignStatus.finished,
        created_at=at(5, 12),
        started_at=at(5, 13),
        finished_at=at(5, 14),
    )
    seeded.campaign_id = campaign.id
    t = await write.ticket(
        "with_bot", status=TicketStatus.bot, created_at=at(6, 18), campaign_id=campaign.id
    )
    await write.message(t, at(6, 18), inbound)

    t = await write.ticket(
        "after_period",
        status=closed,
        queue=suporte,
        user_id=bruno,
        created_at=at(9, 4, 30),
        handed_off_at=at(9, 4, 31),
        accepted_at=at(9, 4, 31),
        first_agent_reply_at=at(9, 4, 32),
        closed_at=at(9, 4, 40),
        rating=1,
    )
    await write.message(t, at(9, 4, 30), inbound)
    await write.message(t, at(9, 4, 32), outbound, by=bruno)
    await handed(t, at(9, 4, 31), suporte)
    await accepted(t, at(9, 4, 31), suporte, bruno)
    await closed_by(t, at(9, 4, 40), suporte, bruno)
    await rated(t, at(9, 4, 41), 1)

    t = await write.ticket(
        "before_period",
        status=closed,
        queue=vendas,
        user_id=ana,
        created_at=at(1, 20),
        handed_off_at=at(1, 20, 10),
        accepted_at=at(1, 20, 15),
        first_agent_reply_at=at(1, 20, 20),
        closed_at=at(2, 15),
    )
    await write.message(t, at(1, 20), inbound)
    await write.message(t, at(1, 20, 20), outbound, by=ana)
    await write.message(t, at(2, 14, 50), inbound)
    # No history lines: this ticket is from before the history existed.

    # The campaign reached four of these contacts: read, delivered, failed, skipped.
    statuses = (
        RecipientStatus.read,
        RecipientStatus.delivered,
        RecipientStatus.failed,
        RecipientStatus.skipped,
    )
    for contact_id, status in zip(seeded.contacts, statuses, strict=False):
        went_out = status in (RecipientStatus.read, RecipientStatus.delivered)
        await CampaignRecipient.create(
            campaign=campaign,
            contact_id=contact_id,
            status=status,
            variant=0,
            reason="opted out" if status is RecipientStatus.skipped else "",
            sent_at=at(5, 13, 30) if went_out else None,
            delivered_at=at(5, 13, 31) if went_out else None,
            read_at=at(5, 13, 40) if status is RecipientStatus.read else None,
            created_at=at(5, 13),
        )

    # The first contact is a tagged customer with custom fields.
    first = await Contact.get(id=seeded.contacts[0])
    first.custom_fields = {"plan": "gold", "city": "Recife"}
    await first.save()
    for tag_name in ("vip", "b2b"):
        tag = await Tag.create(company_id=company_id, name=tag_name)
        await first.tags.add(tag)
    return seeded


def open_source(settings: Settings, company: int | str | None) -> Source:
    """A `Source` on the test database. Never `run()` it in the test process: Tortoise is
    already initialised here, in the tests' own loop."""
    return analytics.connect(settings.effective_database_url, company, env_file=None)
