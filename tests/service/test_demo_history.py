"""`atende demo --history`: a week of generated history, small scale, checked for plausible
figures, the app's invariants, the campaign, determinism, and the app still serving it."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio

from service.campaigns.models import Campaign, CampaignRecipient, CampaignStatus
from service.connections.models import Channel, Connection
from service.contacts.models import Contact
from service.demo_history import HistoryExists, HistorySummary, generate_history
from service.queues.models import Queue
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.users.models import Role, User
from tests.factories import Tenant, log_in, make_tenant, unique

NOW = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)  # a Wednesday, 15:00 in São Paulo
ZONE = ZoneInfo("America/Sao_Paulo")
DAYS = 7
SCALE = 0.4
SEED = 7


@dataclass
class Demo:
    tenant: Tenant
    connection: Connection
    summary: HistorySummary
    tickets: list[Ticket]
    messages: list[Message]


async def _demo_company(client: httpx.AsyncClient) -> tuple[Tenant, Connection]:
    """A company set up as seed_demo sets up the first one."""
    tenant = await make_tenant(client)
    company = tenant.company
    suporte = await Queue.create(
        company=company, name="Suporte", position=1, greeting="Você está no Suporte."
    )
    financeiro = await Queue.create(
        company=company, name="Financeiro", position=2, greeting="Você está no Financeiro."
    )
    connection = await Connection.create(
        company=company,
        name="Sandbox",
        channel=Channel.sandbox,
        is_default=True,
        greeting="Olá, {{first_name}}! Bem-vindo ao atendimento.",
    )
    await connection.queues.add(suporte, financeiro)
    return tenant, connection


async def _generate(tenant: Tenant) -> HistorySummary:
    return await generate_history(
        company_id=tenant.company.id,
        days=DAYS,
        seed=SEED,
        scale=SCALE,
        now=NOW,
        email_domain=f"{unique('demo')}.example.com",
    )


@pytest_asyncio.fixture(scope="module")
async def demo(client: httpx.AsyncClient) -> Demo:
    tenant, connection = await _demo_company(client)
    summary = await _generate(tenant)
    company_id = tenant.company.id
    tickets = await Ticket.filter(company_id=company_id).order_by("id")
    messages = await Message.filter(company_id=company_id).order_by("id")
    return Demo(tenant, connection, summary, tickets, messages)


def _local_day(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


async def test_counts_are_plausible(demo: Demo) -> None:
    summary, tickets, messages = demo.summary, demo.tickets, demo.messages
    company_id = demo.tenant.company.id
    assert (summary.tickets, summary.messages) == (len(tickets), len(messages))
    assert 80 <= len(tickets) <= 250
    assert 6 <= len(messages) / len(tickets) <= 25
    assert summary.contacts == await Contact.filter(company_id=company_id).count() == 320
    assert (
        summary.recipients
        == await CampaignRecipient.filter(campaign__company_id=company_id).count()
    )
    assert summary.recipients > 20
    assert "tickets" in summary.line()
    assert "s." in summary.line()
    # Several agents in queues, and a supervisor.
    users = await User.filter(company_id=company_id).prefetch_related("queues")
    agents = [u for u in users if u.role is Role.agent]
    assert len(agents) == 5
    assert all(len(u.queues) >= 1 for u in agents)
    assert sum(u.role is Role.supervisor for u in users) == 1
    assert len({t.user_id for t in tickets if t.user_id}) >= 4  # type: ignore[attr-defined]
    # Contacts with tags and custom fields.
    contacts = await Contact.filter(company_id=company_id).prefetch_related("tags")
    assert all({"city"} <= set(c.custom_fields) for c in contacts)
    assert sum("plan" in c.custom_fields for c in contacts) > len(contacts) / 2
    tag_names = Counter(tag.name for c in contacts for tag in c.tags)
    assert {"cliente", "lead", "vip"} <= set(tag_names)
    # Seasonality: business hours busier than the night, weekdays than the weekend.
    local = [t.created_at.astimezone(ZONE) for t in tickets]
    in_hours = sum(8 <= m.hour < 18 for m in local)
    assert in_hours > 0.6 * len(local)
    per_day = Counter(m.date() for m in local)
    weekdays = [n for d, n in per_day.items() if d.weekday() < 5 and d != NOW.date()]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert weekend
    assert min(weekdays) > max(weekend)
    assert min(local).date() == (NOW.astimezone(ZONE) - timedelta(days=DAYS - 1)).date()


async def test_lifecycles_are_consistent(demo: Demo) -> None:
    tickets, messages = demo.tickets, demo.messages
    by_ticket: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_ticket[message.ticket_id].append(message)  # type: ignore[attr-defined]
    for t in tickets:
        moments = [t.created_at, t.handed_off_at, t.accepted_at, t.first_agent_reply_at]
        present = [m for m in moments if m is not None]
        assert present == sorted(present), t.id
        if t.closed_at is not None:
            assert t.closed_at >= max(present)
        assert max([*present, t.closed_at or t.created_at]) <= NOW
        if t.status is TicketStatus.closed:
            assert t.closed_at is not None
            assert t.unread_count == 0
        else:
            assert t.closed_at is None
        if t.status is TicketStatus.open:
            assert t.accepted_at is not None
            assert t.user_id is not None
        if t.status is TicketStatus.pending:
            assert t.handed_off_at is not None
            assert t.accepted_at is None
        if t.status is TicketStatus.bot:
            assert t.handed_off_at is None
            assert t.user_id is None
        if t.rating is not None:
            assert t.status is TicketStatus.closed
            assert 1 <= t.rating <= 5
            assert t.user_id is not None  # type: ignore[attr-defined]
        if t.accepted_at is not None:
            assert t.handed_off_at is not None
            assert t.queue_id is not None
        mine = by_ticket[t.id]
        assert mine
        assert mine[0].direction is Direction.inbound
        assert mine[0].created_at == t.created_at
        assert [m.created_at for m in mine] == sorted(m.created_at for m in mine)
        said = [m for m in mine if not m.is_note]
        assert t.last_message_at == said[-1].created_at
        assert t.last_message == said[-1].body[:500]
        replies = [m.created_at for m in said if m.sender_user_id is not None]  # type: ignore[attr-defined]
        assert t.first_agent_reply_at == (replies[0] if replies else None)
    for m in messages:
        assert m.status is not MessageStatus.pending  # the sender would pick it up
        if m.direction is Direction.inbound:
            assert m.sender_user_id is None
            assert not m.from_bot
            assert not m.is_note
            assert m.processed_at is not None  # else the pipeline would run it again
        if m.is_note:
            assert m.status is MessageStatus.sent
            assert m.sender_user_id is not None
        if m.from_bot:
            assert m.sender_user_id is None  # type: ignore[attr-defined]
    # At most one active ticket per contact and connection (the partial unique index too).
    active = Counter(
        (t.contact_id, t.connection_id)  # type: ignore[attr-defined]
        for t in tickets
        if t.status is not TicketStatus.closed
    )
    assert active
    assert max(active.values()) == 1
    statuses = Counter(t.status for t in tickets)
    assert statuses[TicketStatus.pending] + statuses[TicketStatus.open] >= 1
    # A third contained by the bot; most of the agents' closed tickets rated, mostly well.
    contained = [
        t
        for t in tickets
        if t.closed_at is not None and t.handed_off_at is None and t.user_id is None  # type: ignore[attr-defined]
    ]
    assert 0.2 <= len(contained) / len(tickets) <= 0.4
    served = [t for t in tickets if t.status is TicketStatus.closed and t.user_id is not None]  # type: ignore[attr-defined]
    rated = [t.rating for t in served if t.rating is not None]
    assert 0.4 <= len(rated) / len(served) <= 0.8
    assert sum(r >= 4 for r in rated) > len(rated) / 2
    assert any(m.is_note for m in messages)


async def test_campaign_and_its_answers(demo: Demo) -> None:
    company_id = demo.tenant.company.id
    campaign = await Campaign.get(company_id=company_id)
    assert campaign.status is CampaignStatus.finished
    assert campaign.started_at is not None
    assert campaign.finished_at is not None
    assert NOW - timedelta(days=DAYS) <= campaign.started_at <= campaign.finished_at <= NOW
    recipients = await CampaignRecipient.filter(campaign_id=campaign.id).prefetch_related("contact")
    statuses = Counter(r.status.value for r in recipients)
    assert statuses["read"]
    assert statuses["delivered"]
    assert set(statuses) <= {"sent", "delivered", "read", "failed", "skipped"}
    assert campaign.sent_count == sum(r.sent_at is not None for r in recipients)
    sent_at = {}
    for r in recipients:
        if r.status.value == "skipped":
            assert r.sent_at is None
            assert r.contact.opted_out
            assert r.contact.opted_out_at is not None
            assert r.contact.opted_out_at <= campaign.started_at
            continue
        assert r.sent_at is not None
        assert campaign.started_at <= r.sent_at <= NOW
        assert (r.delivered_at is not None) == (r.status.value in ("delivered", "read"))
        assert (r.read_at is not None) == (r.status.value == "read")
        assert r.sent_at <= (r.delivered_at or r.sent_at) <= (r.read_at or NOW) <= NOW
        assert r.contact.created_at <= campaign.started_at
        if r.status.value != "failed":
            sent_at[r.contact.id] = r.sent_at
    answering = [t for t in demo.tickets if t.campaign_id is not None]  # type: ignore[attr-defined]
    assert answering
    for t in answering:
        assert t.campaign_id == campaign.id  # type: ignore[attr-defined]
        at = sent_at[t.contact_id]  # type: ignore[attr-defined]
        assert at <= t.created_at <= at + timedelta(days=7)


async def test_same_seed_same_history_and_no_second_run(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    with pytest.raises(HistoryExists):
        await _generate(demo.tenant)
    assert await Ticket.filter(company_id=demo.tenant.company.id).count() == len(demo.tickets)
    other, _ = await _demo_company(client)
    again = await _generate(other)
    assert (again.tickets, again.messages, again.contacts, again.recipients) == (
        demo.summary.tickets,
        demo.summary.messages,
        demo.summary.contacts,
        demo.summary.recipients,
    )
    theirs = await Ticket.filter(company_id=other.company.id).order_by("id")
    assert [(t.created_at, t.status, t.rating) for t in theirs] == [
        (t.created_at, t.status, t.rating) for t in demo.tickets
    ]


async def test_the_app_serves_it(client: httpx.AsyncClient, demo: Demo) -> None:
    headers = demo.tenant.headers
    for status in ("closed", "pending", "open"):
        page = await client.get(f"/api/tickets?status={status}", headers=headers)
        assert page.status_code == 200, page.text
    closed = (await client.get("/api/tickets?status=closed", headers=headers)).json()
    assert closed["items"]
    assert closed["next_cursor"]
    one = closed["items"][0]["id"]
    history = await client.get(f"/api/tickets/{one}/messages", headers=headers)
    assert history.status_code == 200
    assert history.json()["items"]
    day = (NOW.astimezone(ZONE) - timedelta(days=1)).date().isoformat()
    dashboard = await client.get(f"/api/reports/dashboard?date={day}", headers=headers)
    assert dashboard.status_code == 200, dashboard.text
    figures = dashboard.json()
    assert figures["created"] > 0
    assert figures["closed"] > 0
    assert figures["csat"]["count"] > 0
    # A generated agent logs in with the password the command printed and sees their work.
    login = await log_in(client, demo.summary.agent_emails[0], demo.summary.password)
    assert login.status_code == 200, login.text
    agent = {"Authorization": f"Bearer {login.json()['access_token']}"}
    mine = await client.get("/api/tickets?assigned=me&status=closed", headers=agent)
    assert mine.status_code == 200
    assert mine.json()["items"]
