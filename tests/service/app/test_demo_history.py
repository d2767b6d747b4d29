"""`atende demo --history`: a week of generated history, small scale, checked for plausible
figures, the app's invariants, each ticket's history against its row, the campaign,
determinism, and the app still serving it."""

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
from tests.factories import Tenant, log_in, make_tenant, unique

NOW = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)  # a Wednesday, 15:00 in São Paulo
ZONE = ZoneInfo("America/Sao_Paulo")
DAYS = 7
SCALE = 0.4
# A week whose figures are near the generator's averages (the bounds below are for a typical
# sample: some seeds' weeks have a bot-contained share past 40 %).
SEED = 10


@dataclass
class Demo:
    tenant: Tenant
    connection: Connection
    summary: HistorySummary
    tickets: list[Ticket]
    messages: list[Message]
    events: list[TicketEvent]


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
    ticket_ids = [t.id for t in tickets]
    # By ticket, not company: a line of another company's would show here.
    events = await TicketEvent.filter(ticket_id__in=ticket_ids).order_by("id")
    return Demo(tenant, connection, summary, tickets, messages, events)


def _local_day(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


async def test_counts_are_plausible(demo: Demo) -> None:
    summary, tickets, messages = demo.summary, demo.tickets, demo.messages
    company_id = demo.tenant.company.id
    assert (summary.tickets, summary.messages) == (len(tickets), len(messages))
    assert summary.events == len(demo.events)
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
            assert t.user_id is None  # type: ignore[attr-defined]
            # accepted_at is set only when an agent passed it on to a queue (the history's
            # test checks that).
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


_QUEUE_CHANGES = (HistoryKind.handed_off, HistoryKind.transferred, HistoryKind.fallback)
_AGENT_CHANGES = (HistoryKind.accepted, HistoryKind.transferred, HistoryKind.reopened)


def _lines_by_ticket(demo: Demo) -> dict[int, list[TicketEvent]]:
    by_ticket: dict[int, list[TicketEvent]] = defaultdict(list)
    for line in demo.events:  # in id order, as GET /api/tickets/{id}/history shows them
        by_ticket[line.ticket_id].append(line)  # type: ignore[attr-defined]
    return by_ticket


async def test_each_tickets_history_matches_its_row(demo: Demo) -> None:
    by_ticket = _lines_by_ticket(demo)
    assert set(by_ticket) <= {t.id for t in demo.tickets}
    supervisor = await User.get(email=demo.summary.supervisor_email)
    for t in demo.tickets:
        lines = by_ticket.get(t.id, [])
        kinds = [line.kind for line in lines]
        assert all(line.company_id == t.company_id for line in lines), t.id  # type: ignore[attr-defined]
        moments = [line.at for line in lines]
        assert moments == sorted(moments), t.id
        assert all(t.created_at <= m <= NOW for m in moments), t.id
        # The customer's message opens the ticket: the app writes no `created` line for it.
        assert HistoryKind.created not in kinds
        handoffs = [line for line in lines if line.kind is HistoryKind.handed_off]
        if t.handed_off_at is None:
            assert not handoffs, t.id
        else:
            assert [h.at for h in handoffs] == [t.handed_off_at], t.id
            assert handoffs[0].actor_kind is ActorKind.bot
            assert lines[0] is handoffs[0]
        queue_lines = [line for line in lines if line.kind in _QUEUE_CHANGES]
        if queue_lines:
            assert queue_lines[-1].to_queue_id == t.queue_id, t.id  # type: ignore[attr-defined]
        agent_lines = [line for line in lines if line.kind in _AGENT_CHANGES]
        holder = agent_lines[-1].to_user_id if agent_lines else None
        assert holder == t.user_id, t.id  # type: ignore[attr-defined]
        taken = [line.at for line in agent_lines if line.to_user_id is not None]
        assert (taken[0] if taken else None) == t.accepted_at, t.id
        ends = [line for line in lines if line.kind in (HistoryKind.closed, HistoryKind.reopened)]
        if t.status is TicketStatus.closed:
            assert ends[-1].kind is HistoryKind.closed, t.id
            assert ends[-1].at == t.closed_at, t.id
            close = ends[-1]
            if t.handed_off_at is None:  # the bot answered, or the idle timer closed it
                assert (close.actor_kind, close.reason) in {
                    (ActorKind.bot, "menu_end"),
                    (ActorKind.timer, "inactivity"),
                }, t.id
            elif t.user_id is None:  # type: ignore[attr-defined]  # never taken
                assert close.actor_user_id == supervisor.id  # type: ignore[attr-defined]
            else:  # the agent who has it, so that the rating is theirs
                assert close.actor_kind is ActorKind.user
                assert close.actor_user_id == t.user_id  # type: ignore[attr-defined]
                assert close.from_user_id == t.user_id  # type: ignore[attr-defined]
        else:
            assert not ends or ends[-1].kind is HistoryKind.reopened, t.id
        rated = [line for line in lines if line.kind is HistoryKind.rated]
        if t.rating is None:
            assert not rated or kinds[-1] is not HistoryKind.rated, t.id
        else:
            assert rated[-1] is lines[-1], t.id
            assert rated[-1].reason == str(t.rating)
            assert rated[-1].actor_kind is ActorKind.customer
        if t.status is TicketStatus.pending and t.accepted_at is not None:
            # Passed on to a queue by its agent: it waits there, taken once already.
            assert agent_lines[-1].kind is HistoryKind.transferred, t.id
            assert agent_lines[-1].to_user_id is None, t.id
    # The rating question lapses an hour after the agent's close, unless answered.
    expired = [line for line in demo.events if line.kind is HistoryKind.rating_expired]
    assert expired
    for line in expired:
        assert line.actor_kind is ActorKind.timer
        closes = {
            e.at
            for e in by_ticket[line.ticket_id]  # type: ignore[attr-defined]
            if e.kind is HistoryKind.closed and e.actor_kind is ActorKind.user
        }
        assert line.at - timedelta(hours=1) in closes


async def test_some_tickets_change_hands(demo: Demo) -> None:
    by_ticket = _lines_by_ticket(demo)
    handed_off = [t for t in demo.tickets if t.handed_off_at is not None]
    transfers = [line for line in demo.events if line.kind is HistoryKind.transferred]
    moved = {line.ticket_id for line in transfers}  # type: ignore[attr-defined]
    assert 0.03 <= len(moved) / len(handed_off) <= 0.15
    assert any(line.from_queue_id != line.to_queue_id for line in transfers)
    assert any(line.to_user_id is not None for line in transfers)
    assert any(line.to_user_id is None for line in transfers)
    queue_ids = {q.id for q in await Queue.filter(company_id=demo.tenant.company.id)}
    senders: dict[int, set[int]] = defaultdict(set)
    for m in demo.messages:
        if m.sender_user_id is not None:  # type: ignore[attr-defined]
            senders[m.ticket_id].add(m.sender_user_id)  # type: ignore[attr-defined]
    for line in transfers:
        assert line.actor_kind is ActorKind.user
        assert line.actor_user_id is not None  # type: ignore[attr-defined]
        assert line.note  # a word for whoever takes it
        assert {line.from_queue_id, line.to_queue_id} <= queue_ids
        assert line.to_user_id != line.from_user_id or line.to_user_id is None
    for t in demo.tickets:
        if t.id not in moved or t.status is not TicketStatus.closed:
            continue
        # Each agent the conversation passed through wrote in it.
        holders = {
            line.to_user_id
            for line in by_ticket[t.id]
            if line.kind in _AGENT_CHANGES and line.to_user_id is not None
        }
        assert holders <= senders[t.id], t.id
    # A few closed, then reopened by their agent.
    reopened = [line for line in demo.events if line.kind is HistoryKind.reopened]
    assert reopened
    for line in reopened:
        before = [e for e in by_ticket[line.ticket_id] if e.id < line.id]  # type: ignore[attr-defined]
        assert before[-1].kind is HistoryKind.rating_expired
        assert any(e.kind is HistoryKind.closed for e in before)
        assert line.to_user_id == line.actor_user_id  # type: ignore[attr-defined]


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
    their_lines = await TicketEvent.filter(company_id=other.company.id).order_by("id")
    assert [(e.kind, e.at, e.note, e.reason) for e in their_lines] == [
        (e.kind, e.at, e.note, e.reason) for e in demo.events
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
    # A transferred ticket's history, with its queues' and agents' names.
    moved = next(e for e in demo.events if e.kind is HistoryKind.transferred and e.to_user_id)
    lines = await client.get(f"/api/tickets/{moved.ticket_id}/history", headers=headers)  # type: ignore[attr-defined]
    assert lines.status_code == 200, lines.text
    shown = next(line for line in lines.json()["items"] if line["id"] == moved.id)
    assert shown["kind"] == "transferred"
    assert shown["note"] == moved.note
    assert shown["to_queue"]["name"] in {"Suporte", "Financeiro"}
    assert shown["to_user"]["name"]
    assert shown["actor"]["name"]
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


async def test_a_third_queue_gets_its_people_and_tickets(client: httpx.AsyncClient) -> None:
    """A company with more queues than the two of seed_demo (one added in the admin): every
    queue has agents to accept its tickets (the planner picked from nobody and crashed)."""
    tenant, connection = await _demo_company(client)
    vendas = await Queue.create(company=tenant.company, name="Vendas", position=3)
    await connection.queues.add(vendas)
    summary = await generate_history(
        company_id=tenant.company.id,
        days=14,
        seed=SEED,
        scale=SCALE,
        now=NOW,
        email_domain=f"{unique('demo3')}.example.com",
    )
    queues = await Queue.filter(company_id=tenant.company.id)
    users = await User.filter(company_id=tenant.company.id).prefetch_related("queues")
    for queue in queues:
        members = [u for u in users if queue.id in {q.id for q in u.queues}]
        assert any(u.role is Role.agent for u in members), queue.name
    supervisor = next(u for u in users if u.email == summary.supervisor_email)
    assert {q.id for q in supervisor.queues} == {q.id for q in queues}
    tickets = await Ticket.filter(company_id=tenant.company.id)
    assert len(tickets) == summary.tickets
    taken = [t for t in tickets if t.queue_id == vendas.id and t.user_id is not None]  # type: ignore[attr-defined]
    assert taken
    vendas_people = {u.id for u in users if vendas.id in {q.id for q in u.queues}}
    accepts = await TicketEvent.filter(
        ticket_id__in=[t.id for t in taken], kind=HistoryKind.accepted
    )
    assert accepts
    assert all(t.user_id in vendas_people for t in taken)  # type: ignore[attr-defined]
    # Each ticket's history still leaves it with the row's queue.
    lines = await TicketEvent.filter(company_id=tenant.company.id).order_by("id")
    last_queue: dict[int, int | None] = {}
    for line in lines:
        if line.kind in _QUEUE_CHANGES:
            last_queue[line.ticket_id] = line.to_queue_id  # type: ignore[attr-defined]
    for t in tickets:
        if t.id in last_queue:
            assert last_queue[t.id] == t.queue_id, t.id  # type: ignore[attr-defined]
