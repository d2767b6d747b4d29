"""/api/reports/dashboard: the figures of a hand-built day, time zones, roles, tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from service.queues.models import Queue
from service.tickets.models import Direction, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant
from tests.helpers.report_history import History

URL = "/api/reports/dashboard"
DAY = "2026-03-10"


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A moment in UTC relative to DAY (day_offset -1 is the day before)."""
    return datetime(2026, 3, 10, hour, minute, tzinfo=UTC) + timedelta(days=day_offset)


async def build_day(tenant: Tenant) -> dict[str, Queue]:
    """The day the expected numbers below are worked out from (all times UTC)."""
    history = await History.of(tenant)
    company = tenant.company
    a = await Queue.create(company=company, name="Alpha")
    b = await Queue.create(company=company, name="Beta")
    open_ = TicketStatus.open
    closed = TicketStatus.closed
    pending = TicketStatus.pending

    # T1: answered 600 s after the handoff; the bot's message and a note before do not count.
    t1 = await history.ticket(created=at(0, 9), status=open_, queue=a, handed_off=at(0, 9, 5))
    await history.message(t1, at(0, 9), direction=Direction.inbound)
    await history.message(t1, at(0, 9, 6), from_bot=True)
    await history.message(t1, at(0, 9, 7), is_note=True)
    await history.message(t1, at(0, 9, 15))
    await history.message(t1, at(0, 9, 30))
    # T2: answered after 1200 s, closed the same day with a 5.
    t2 = await history.ticket(
        created=at(0, 10), status=closed, queue=a, handed_off=at(0, 10), closed=at(0, 11), rating=5
    )
    await history.message(t2, at(0, 10, 20))
    # T3: first answered the day before (not the day's), closed in the day with a 2.
    t3 = await history.ticket(
        created=at(-1, 22),
        status=closed,
        queue=b,
        handed_off=at(-1, 22),
        closed=at(0, 8),
        rating=2,
    )
    await history.message(t3, at(-1, 23))
    await history.message(t3, at(0, 7))
    # T4: waiting in Beta since noon, never answered.
    await history.ticket(created=at(0, 12), status=pending, queue=b, handed_off=at(0, 12))
    # T5: still with the bot, no queue.
    await history.ticket(created=at(0, 13), status=TicketStatus.bot)
    # T6: waiting without a queue for two days: the oldest wait.
    await history.ticket(created=at(-2, 10), status=pending, handed_off=at(-2, 10))
    # T7: closed (and rated) the day before: not the day's.
    await history.ticket(
        created=at(-2, 9), status=closed, queue=a, handed_off=at(-2, 9), closed=at(-1, 9), rating=1
    )
    # T8: closed in the day without a rating.
    await history.ticket(
        created=at(-1, 15), status=closed, queue=a, handed_off=at(-1, 15), closed=at(0, 16)
    )
    # T9: someone wrote from the phone before the handoff; the response is the one after it.
    t9 = await history.ticket(created=at(0, 14), status=open_, queue=b, handed_off=at(0, 14, 10))
    await history.message(t9, at(0, 14, 1))
    await history.message(t9, at(0, 14, 40))
    # T10: 23:30 UTC, which is already the next day in UTC+1.
    await history.ticket(created=at(0, 23, 30), status=TicketStatus.bot)
    return {"a": a, "b": b}


async def dashboard(tenant: Tenant, **query: str) -> dict:  # type: ignore[type-arg]
    response = await tenant.client.get(URL, params=query, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_the_figures_of_a_hand_built_day(
    tenant: Tenant, other_tenant: Tenant, clock: FakeClock
) -> None:
    queues = await build_day(tenant)
    # Another company's busy day, which must never show up.
    other = await History.of(other_tenant)
    for hour in (8, 9, 10):
        ticket = await other.ticket(
            created=at(0, hour),
            status=TicketStatus.closed,
            handed_off=at(0, hour),
            closed=at(0, hour + 1),
            rating=1,
        )
        await other.message(ticket, at(0, hour, 1))
    await other.ticket(created=at(-5, 1), status=TicketStatus.pending, handed_off=at(-5, 1))

    body = await dashboard(tenant, date=DAY, tz="UTC")

    assert body["date"] == DAY
    assert body["timezone"] == "UTC"
    assert body["by_status"] == {"bot": 2, "pending": 2, "open": 2, "closed": 3}
    assert body["by_queue"] == [
        {"queue_id": queues["a"].id, "queue_name": "Alpha", **counts(open_=1, closed=2)},
        {"queue_id": queues["b"].id, "queue_name": "Beta", **counts(pending=1, open_=1, closed=1)},
        {"queue_id": None, "queue_name": None, **counts(bot=2, pending=1)},
    ]
    assert body["created"] == 6
    assert body["closed"] == 3
    assert body["waiting"]["count"] == 2
    assert parse(body["waiting"]["oldest_handed_off_at"]) == at(-2, 10)
    assert body["waiting"]["oldest_wait_seconds"] == (clock() - at(-2, 10)).total_seconds()
    assert body["first_response"] == {"count": 3, "average_seconds": 1200.0}
    assert body["csat"] == {"count": 2, "average": 3.5}

    # The day before: T3's first response (an hour) and T7's rating; T8's and T3's creation.
    before = await dashboard(tenant, date="2026-03-09", tz="UTC")
    assert before["first_response"] == {"count": 1, "average_seconds": 3600.0}
    assert before["csat"] == {"count": 1, "average": 1.0}
    assert before["created"] == 2
    assert before["closed"] == 1


async def test_a_ticket_at_2330_utc_counts_on_the_next_day_in_utc_plus_one(
    tenant: Tenant,
) -> None:
    history = await History.of(tenant)
    await history.ticket(created=at(0, 23, 30), status=TicketStatus.bot)
    await history.ticket(created=at(0, 22, 59), status=TicketStatus.bot)

    utc = await dashboard(tenant, date=DAY, tz="UTC")
    lagos_same_day = await dashboard(tenant, date=DAY, tz="Africa/Lagos")
    lagos_next_day = await dashboard(tenant, date="2026-03-11", tz="Africa/Lagos")

    assert utc["created"] == 2
    assert lagos_same_day["created"] == 1  # 22:59 UTC is 23:59 in Lagos
    assert lagos_next_day["created"] == 1  # 23:30 UTC is 00:30 the next day


async def test_today_in_the_company_time_zone_by_default(tenant: Tenant, clock: FakeClock) -> None:
    response = await tenant.client.patch(
        "/api/settings", json={"timezone": "Pacific/Kiritimati"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    body = await dashboard(tenant)
    assert body["timezone"] == "Pacific/Kiritimati"
    # 14:00 UTC is already 04:00 the next day in Kiritimati (UTC+14).
    assert body["date"] == clock().astimezone(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    assert body["date"] == (clock().date() + timedelta(days=1)).isoformat()
    # A fresh company has nothing yet.
    assert body["by_status"] == {"bot": 0, "pending": 0, "open": 0, "closed": 0}
    assert body["by_queue"] == []
    assert body["waiting"] == {
        "count": 0,
        "oldest_handed_off_at": None,
        "oldest_wait_seconds": None,
    }
    assert body["first_response"] == {"count": 0, "average_seconds": None}
    assert body["csat"] == {"count": 0, "average": None}


async def test_admins_and_supervisors_only(tenant: Tenant, client: httpx.AsyncClient) -> None:
    agent = await tenant.member(Role.agent)
    supervisor = await tenant.member(Role.supervisor)
    response = await client.get(URL, headers=agent.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await client.get(URL, headers=supervisor.headers)).status_code == 200
    assert (await client.get(URL)).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "localtime"}, "tz"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"date": "9999-12-31", "tz": "Pacific/Kiritimati"}, "date"),
        ({"days": "3"}, "days"),
        ({"tz": "../../etc/passwd"}, "tz"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    tenant: Tenant, query: dict[str, str], field: str
) -> None:
    response = await tenant.client.get(URL, params=query, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


async def test_documented_for_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/docs/openapi.json")).json()
    operation = spec["paths"]["/api/reports/dashboard"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"date", "tz"}
    assert "200" in operation["responses"]


async def test_the_queues_report_documents_the_history_figures(client: httpx.AsyncClient) -> None:
    """Per queue, the figures of the tickets' history came in beside the ones before them
    (tests/service/reports/test_reports_period.py checks their values)."""
    spec = (await client.get("/docs/openapi.json")).json()
    figures = spec["components"]["schemas"]["QueueReportFigures"]
    before = ["queue_id", "queue_name", "created", "handed_off", "closed", "waiting"]
    before += ["first_response", "first_response_business_hours", "resolution_from_handoff"]
    assert figures["required"] == [*before, "csat", "entered", "time_in_queue"]
    assert "history" in figures["properties"]["entered"]["description"]
    assert "#/components/schemas/DurationStats" in str(figures["properties"]["time_in_queue"])


async def test_the_bot_text_defaults_for_the_settings_page(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/settings/bot-texts", headers=tenant.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body["defaults"]) == {"pt-BR", "en", "es"}
    assert body["defaults"]["en"]["welcome"] == "{{greeting}}, {{first_name}}! Welcome."
    assert "first_name" in body["variables"]


def counts(*, bot: int = 0, pending: int = 0, open_: int = 0, closed: int = 0) -> dict[str, int]:
    return {"bot": bot, "pending": pending, "open": open_, "closed": closed}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
