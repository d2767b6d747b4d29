"""/api/reports over a period: the figures of a hand-built history (docs/metrics.md), time
zones, the queue filter, validation, roles, tenancy and the CSV files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest

from flows.spec import BusinessHours
from service.queues.models import Queue
from service.reports.hours import business_seconds
from service.reports.stats import quantile
from service.tickets.models import ActorKind, HistoryKind, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant
from tests.helpers.report_history import History, at, build, line

# The hand-built history and its moments: `build` in tests/helpers/report_history.py.
PERIOD = {"from": "2026-03-10", "to": "2026-03-11", "tz": "UTC"}


@dataclass
class Paths:
    a: Queue
    b: Queue
    tickets: dict[str, Ticket]


async def build_paths(tenant: Tenant, a: Queue, b: Queue) -> Paths:
    """Tickets with a history, moving between queues A and B (all times UTC; the period is
    the 10th and 11th). Their stays (entered-left, seconds):

    - P1: A 10 09:00-10:00 (3600); B 10:00-12:00 (7200), through an agent-only transfer.
    - P2: opened by an agent in A on the 9th at 20:00, closed 10 08:00 (A, 43200); reopened
      09:00, to B 09:30 (A, 1800), back to A 11:00 (B, 5400); still open in A.
    - P3: handed off without a queue 10 13:00, to B by the fallback at 13:30; still there.
    - P4: from before the history (no lines): handed to A 11 08:00, closed 09:00 (A, 3600).
    - P5: handed to B 11 23:00, closed on the 12th: entered in the period, left after it.
    - P6: the bot chose A and closed it at 10 14:00 without a handoff: no stay.
    """
    history = await History.of(tenant)
    ana = (await tenant.member(Role.agent)).user
    bia = (await tenant.member(Role.agent)).user
    closed, open_, pending = TicketStatus.closed, TicketStatus.open, TicketStatus.pending
    bot, timer = ActorKind.bot, ActorKind.timer
    made: dict[str, Ticket] = {}

    p1 = made["P1"] = await history.ticket(
        created=at(10, 8, 55),
        status=closed,
        queue=b,
        user=ana,
        handed_off=at(10, 9),
        accepted=at(10, 9, 5),
        closed=at(10, 12),
    )
    await line(p1, HistoryKind.handed_off, at(10, 9), actor=bot, to_queue_id=a.id)
    await line(p1, HistoryKind.accepted, at(10, 9, 5), to_queue_id=a.id, to_user_id=ana.id)
    await line(
        p1,
        HistoryKind.transferred,
        at(10, 10),
        from_queue_id=a.id,
        to_queue_id=b.id,
        from_user_id=ana.id,
    )
    await line(p1, HistoryKind.accepted, at(10, 10, 10), to_queue_id=b.id, to_user_id=bia.id)
    await line(
        p1,
        HistoryKind.transferred,
        at(10, 10, 30),
        from_queue_id=b.id,
        to_queue_id=b.id,
        from_user_id=bia.id,
        to_user_id=ana.id,
    )
    await line(p1, HistoryKind.closed, at(10, 12), from_queue_id=b.id, from_user_id=ana.id)

    p2 = made["P2"] = await history.ticket(
        created=at(9, 20), status=open_, queue=a, user=ana, handed_off=at(9, 20), accepted=at(9, 20)
    )
    await line(p2, HistoryKind.created, at(9, 20), to_queue_id=a.id, to_user_id=ana.id)
    await line(p2, HistoryKind.closed, at(10, 8), from_queue_id=a.id, from_user_id=ana.id)
    await line(p2, HistoryKind.reopened, at(10, 9), to_queue_id=a.id, to_user_id=ana.id)
    await line(
        p2,
        HistoryKind.transferred,
        at(10, 9, 30),
        from_queue_id=a.id,
        to_queue_id=b.id,
        from_user_id=ana.id,
        to_user_id=ana.id,
    )
    await line(
        p2,
        HistoryKind.transferred,
        at(10, 11),
        from_queue_id=b.id,
        to_queue_id=a.id,
        from_user_id=ana.id,
        to_user_id=ana.id,
    )

    p3 = made["P3"] = await history.ticket(
        created=at(10, 12, 50), status=pending, queue=b, handed_off=at(10, 13)
    )
    await line(p3, HistoryKind.handed_off, at(10, 13), actor=bot)
    await line(p3, HistoryKind.fallback, at(10, 13, 30), actor=timer, to_queue_id=b.id)

    made["P4"] = await history.ticket(
        created=at(11, 7, 50), status=closed, queue=a, handed_off=at(11, 8), closed=at(11, 9)
    )

    p5 = made["P5"] = await history.ticket(
        created=at(11, 22, 50), status=closed, queue=b, handed_off=at(11, 23), closed=at(12, 1)
    )
    await line(p5, HistoryKind.handed_off, at(11, 23), actor=bot, to_queue_id=b.id)
    await line(p5, HistoryKind.closed, at(12, 1), actor=timer, from_queue_id=b.id)

    p6 = made["P6"] = await history.ticket(
        created=at(10, 13, 50), status=closed, queue=a, closed=at(10, 14)
    )
    await line(p6, HistoryKind.closed, at(10, 14), actor=bot, from_queue_id=a.id)
    return Paths(a=a, b=b, tickets=made)


async def get(tenant: Tenant, report: str, **query: Any) -> dict[str, Any]:
    params = {**PERIOD, **query}
    response = await tenant.client.get(
        f"/api/reports/{report}", params=params, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stats(
    count: int, mean: float | None, median: float | None, p90: float | None
) -> dict[str, Any]:
    return {"count": count, "mean": mean, "median": median, "p90": p90}


NONE = stats(0, None, None, None)


def csat(scores: dict[int, int]) -> dict[str, Any]:
    count = sum(scores.values())
    return {
        "count": count,
        "average": sum(s * n for s, n in scores.items()) / count if count else None,
        "satisfied_share": (scores.get(4, 0) + scores.get(5, 0)) / count if count else None,
        "distribution": [{"score": s, "count": scores.get(s, 0)} for s in range(1, 6)],
    }


def close_to(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, abs=1e-6), key
        else:
            assert actual[key] == value, key


async def test_the_summary_of_a_hand_built_history(tenant: Tenant, other_tenant: Tenant) -> None:
    await build(tenant)
    await build(other_tenant)  # another company's identical history never shows up

    body = await get(tenant, "summary")

    assert body["period"] == {
        "first_day": "2026-03-10",
        "last_day": "2026-03-11",
        "timezone": "UTC",
        "start": "2026-03-10T00:00:00Z",
        "end": "2026-03-12T00:00:00Z",
    }
    assert body["queue_id"] is None
    assert (body["created"], body["handed_off"], body["bot_contained"]) == (6, 5, 1)
    assert body["handoff_rate"] == pytest.approx(5 / 6)
    assert body["containment_rate"] == pytest.approx(1 / 6)
    assert body["closed"] == 5
    close_to(body["first_response"], stats(4, 3750.0, 2700.0, 7380.0))
    close_to(body["first_response_business_hours"], stats(4, 3300.0, 2100.0, 7380.0))
    close_to(body["waiting"], stats(3, 920.0, 600.0, 1560.0))
    assert body["waiting_now"] == {"count": 1, "oldest_handed_off_at": "2026-03-11T15:00:00Z"}
    close_to(body["resolution_from_creation"], stats(5, 39660.0, 14400.0, 88560.0))
    close_to(body["resolution_from_handoff"], stats(4, 48900.0, 49500.0, 88920.0))
    assert body["csat"] == csat({1: 1, 4: 1, 5: 1})
    assert await get(tenant, "csat") == {**csat({1: 1, 4: 1, 5: 1}), **header(body)}


def header(body: dict[str, Any]) -> dict[str, Any]:
    return {"period": body["period"], "queue_id": body["queue_id"], "generated_at": ANY}


async def test_per_agent_and_per_queue(tenant: Tenant) -> None:
    built = await build(tenant)

    agents = {row["user_id"]: row for row in (await get(tenant, "agents"))["items"]}
    assert set(agents) == {built.ana.id, built.bia.id}
    ana, bia = agents[built.ana.id], agents[built.bia.id]
    assert (ana["closed"], ana["messages_sent"]) == (2, 3)  # the note is no message sent
    close_to(ana["first_response"], stats(2, 1200.0, 1200.0, 1680.0))
    assert ana["csat"] == csat({5: 1})
    assert (bia["name"], bia["closed"], bia["messages_sent"]) == ("=Bia", 2, 2)
    close_to(bia["first_response"], stats(2, 6300.0, 6300.0, 8460.0))
    assert bia["csat"] == csat({1: 1, 4: 1})

    queues = (await get(tenant, "queues"))["items"]
    assert [(q["queue_id"], q["queue_name"]) for q in queues] == [
        (built.a.id, "Alpha"),
        (built.b.id, "Beta"),
        (None, None),
    ]
    alpha, beta, none = queues
    assert (alpha["created"], alpha["handed_off"], alpha["closed"]) == (3, 3, 2)
    close_to(alpha["waiting"], stats(2, 1200.0, 1200.0, 1680.0))
    close_to(alpha["first_response"], stats(2, 2700.0, 2700.0, 3420.0))
    close_to(alpha["first_response_business_hours"], stats(2, 1800.0, 1800.0, 3240.0))
    close_to(alpha["resolution_from_handoff"], stats(2, 46500.0, 46500.0, 78420.0))
    assert alpha["csat"] == csat({4: 1, 5: 1})
    assert (beta["created"], beta["handed_off"], beta["closed"]) == (2, 2, 2)
    close_to(beta["waiting"], stats(1, 360.0, 360.0, 360.0))
    close_to(beta["first_response"], stats(2, 4800.0, 4800.0, 8160.0))
    close_to(beta["first_response_business_hours"], stats(2, 4800.0, 4800.0, 8160.0))
    close_to(beta["resolution_from_handoff"], stats(2, 51300.0, 51300.0, 82260.0))
    assert beta["csat"] == csat({1: 1})
    assert (none["created"], none["handed_off"], none["closed"]) == (1, 0, 1)
    assert none["waiting"] == none["first_response"] == NONE
    # These tickets have no history: each entered its queue now at its handoff and left it
    # at its close, so entered is handed off and the time in queue is the resolution.
    assert (alpha["entered"], beta["entered"], none["entered"]) == (3, 2, 0)
    assert alpha["time_in_queue"] == alpha["resolution_from_handoff"]
    assert beta["time_in_queue"] == beta["resolution_from_handoff"]
    assert none["time_in_queue"] == NONE

    # One queue only: its tickets and their messages.
    only_a = await get(tenant, "summary", queue_id=built.a.id)
    assert only_a["queue_id"] == built.a.id
    assert (only_a["created"], only_a["closed"]) == (3, 2)
    close_to(only_a["first_response"], stats(2, 2700.0, 2700.0, 3420.0))
    assert [q["queue_id"] for q in (await get(tenant, "queues", queue_id=built.a.id))["items"]] == [
        built.a.id
    ]
    only_b_agents = (await get(tenant, "agents", queue_id=built.b.id))["items"]
    assert {(row["user_id"], row["messages_sent"], row["closed"]) for row in only_b_agents} == {
        (built.ana.id, 1, 1),
        (built.bia.id, 1, 1),
    }


async def test_entered_and_time_in_queue_follow_the_history(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    a = await Queue.create(company=tenant.company, name="Alpha")
    b = await Queue.create(company=tenant.company, name="Beta", position=1)
    await build_paths(tenant, a, b)
    theirs = [await Queue.create(company=other_tenant.company, name=n) for n in ("X", "Y")]
    await build_paths(other_tenant, *theirs)  # never counted here

    rows = {row["queue_id"]: row for row in (await get(tenant, "queues"))["items"]}

    # Every ticket is in a queue now, and waiting without one (P3) is no stay.
    assert set(rows) == {a.id, b.id}
    alpha, beta = rows[a.id], rows[b.id]
    # P1 and P2 passed through both queues and count in each; P4 has no history.
    assert (alpha["entered"], alpha["handed_off"]) == (3, 1)  # P1, P2 (twice), P4
    assert (beta["entered"], beta["handed_off"]) == (4, 3)  # P1, P2, P3, P5
    # A: P4 3600, P1 3600, P2 1800 and 43200 (entered on the 9th); P2's last stay runs on.
    close_to(alpha["time_in_queue"], stats(4, 13050.0, 3600.0, 31320.0))
    # B: P1 7200 (the agent-only transfer kept it going), P2 5400; P3 and P5 left later.
    close_to(beta["time_in_queue"], stats(2, 6300.0, 6300.0, 7020.0))
    # Closed goes by the queue the ticket was closed in: P1 in B; P4 and P6 in A.
    assert (alpha["closed"], beta["closed"]) == (2, 1)

    # One queue: its stays, whichever queue the ticket is in now.
    [only_b] = (await get(tenant, "queues", queue_id=b.id))["items"]
    assert (only_b["queue_id"], only_b["entered"]) == (b.id, 4)
    assert only_b["time_in_queue"] == beta["time_in_queue"]
    # The next day: P5 left B at 01:00 after 7200 s; P2 is still in A.
    next_day = await get(tenant, "queues", **{"from": "2026-03-12", "to": "2026-03-12"})
    after = {row["queue_id"]: row for row in next_day["items"]}
    assert (after[a.id]["entered"], after[a.id]["time_in_queue"]) == (0, NONE)
    assert after[b.id]["entered"] == 0
    close_to(after[b.id]["time_in_queue"], stats(1, 7200.0, 7200.0, 7200.0))


async def test_the_company_hours_count_for_queues_without_their_own(tenant: Tenant) -> None:
    await build(tenant)
    # The company opens on Tuesdays at 12:30, for queue B, which has no hours of its own:
    # T3 (22:30-01:00) and T7 (10:00-10:10) count none; A's T1 and T2 keep A's hours.
    hours = {"timezone": "UTC", "days": {"tue": [["12:30", "18:00"]]}}
    response = await tenant.client.patch(
        "/api/settings", json={"business_hours": hours}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text

    body = await get(tenant, "summary")

    close_to(body["first_response_business_hours"], stats(4, 900.0, 0.0, 2520.0))


async def test_volume_by_local_weekday_and_hour(tenant: Tenant) -> None:
    await build(tenant)

    def cells(body: dict[str, Any]) -> dict[tuple[int, int], tuple[int, int]]:
        assert len(body["cells"]) == 168
        return {
            (c["weekday"], c["hour"]): (c["messages"], c["tickets"])
            for c in body["cells"]
            if c["messages"] or c["tickets"]
        }

    utc = await get(tenant, "volume")
    assert (utc["messages"], utc["tickets"]) == (6, 6)
    assert cells(utc) == {
        (1, 8): (1, 1),
        (1, 9): (1, 1),
        (1, 10): (1, 1),
        (1, 12): (1, 1),
        (2, 15): (1, 1),
        (2, 20): (1, 1),
    }
    # UTC+5:30: the period starts at 18:30 UTC the day before; T3's 22:00 is 03:30 local.
    kolkata = await get(tenant, "volume", tz="Asia/Kolkata")
    assert cells(kolkata) == {
        (1, 3): (1, 1),  # T3, created at 22:00 UTC on the 9th: 03:30 local, in the period
        (1, 13): (1, 1),
        (1, 14): (1, 1),
        (1, 15): (1, 1),
        (1, 17): (1, 1),
        (2, 20): (1, 1),
    }


async def test_the_backlog_at_the_end_of_each_day_and_hour(tenant: Tenant) -> None:
    await build(tenant)

    daily = await get(tenant, "backlog")
    assert daily["freq"] == "day"
    assert [(p["at"], p["backlog"]) for p in daily["points"]] == [
        ("2026-03-11T00:00:00Z", 2),  # T2 and T7
        ("2026-03-12T00:00:00Z", 2),  # T5 and T6
    ]
    hourly = {
        p["at"][11:16]: p["backlog"]
        for p in (await get(tenant, "backlog", freq="hour", to="2026-03-10"))["points"]
    }
    assert len(hourly) == 24
    # T3 until its close at 02:00 (closed at t: not in it); T1 from 08:10 to 10:00, T7
    # from 10:00; T2 from 12:00.
    assert [hourly[h] for h in ("01:00", "02:00", "09:00", "10:00", "11:00", "12:00")] == [
        1,
        0,
        1,
        1,
        1,
        2,
    ]


async def test_validation_roles_and_tenancy(tenant: Tenant, other_tenant: Tenant) -> None:
    foreign = await Queue.create(company=other_tenant.company, name="Theirs")
    url = "/api/reports/summary"

    async def fields(**query: Any) -> dict[str, str]:
        response = await tenant.client.get(url, params=query, headers=tenant.headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid"
        result: dict[str, str] = error["fields"]
        return result

    assert "from" in await fields(**{"from": "2026-03-12", "to": "2026-03-10"})
    assert "to" in await fields(**{"from": "2025-01-01", "to": "2026-01-02"})  # 367 days
    assert "tz" in await fields(tz="Mars/Olympus")
    assert "from" in await fields(**{"from": "10/03/2026"})
    assert "queue_id" in await fields(queue_id=foreign.id)
    assert "queue_id" in await fields(queue_id=0)
    assert "format" in await fields(format="xlsx")
    assert "from_" in await fields(from_="2026-03-10")  # only the documented name
    response = await tenant.client.get(
        "/api/reports/backlog",
        params={"from": "2026-01-01", "to": "2026-03-01", "freq": "hour"},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert "freq" in response.json()["error"]["fields"]
    # 366 days is the longest period.
    ok = await tenant.client.get(
        url, params={"from": "2025-01-01", "to": "2026-01-01"}, headers=tenant.headers
    )
    assert ok.status_code == 200, ok.text

    # The default period: the 30 days up to today in the company's time zone.
    default = (await tenant.client.get(url, headers=tenant.headers)).json()["period"]
    first, last = (datetime.fromisoformat(default[k]).date() for k in ("first_day", "last_day"))
    assert (last - first).days == 29
    assert default["timezone"] == "America/Sao_Paulo"

    supervisor = await tenant.member(Role.supervisor)
    agent = await tenant.member(Role.agent)
    for report in ("summary", "agents", "queues", "volume", "backlog", "csat"):
        path = f"/api/reports/{report}"
        assert (await tenant.client.get(path, headers=supervisor.headers)).status_code == 200
        denied = await tenant.client.get(path, headers=agent.headers)
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "forbidden"
        assert (await tenant.client.get(path)).status_code == 401


async def test_every_report_as_csv(tenant: Tenant) -> None:
    built = await build(tenant)

    async def download(report: str, **query: Any) -> tuple[list[list[str]], Any]:
        response = await tenant.client.get(
            f"/api/reports/{report}", params={**PERIOD, **query}, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.content.startswith(b"\xef\xbb\xbf")
        text = response.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text, newline=""))), response.headers

    summary, headers = await download("summary", format="csv")
    assert headers["content-disposition"] == (
        'attachment; filename="atende-summary-2026-03-10-2026-03-11.csv"'
    )
    figures = dict(summary[1:])
    assert summary[0] == ["metric", "value"]
    assert (figures["created"], figures["closed"], figures["timezone"]) == ("6", "5", "UTC")
    assert float(figures["first_response_mean"]) == pytest.approx(3750.0)
    assert figures["csat_5"] == "1"

    # Accept: text/csv works too; a name a spreadsheet would run is quoted.
    response = await tenant.client.get(
        "/api/reports/agents",
        params={**PERIOD, "queue_id": built.b.id},
        headers={**tenant.headers, "Accept": "text/csv"},
    )
    assert response.headers["content-disposition"].endswith(
        f'filename="atende-agents-2026-03-10-2026-03-11-queue-{built.b.id}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert {row["name"] for row in rows} == {built.ana.name, "'=Bia"}

    queues, _ = await download("queues", format="csv")
    assert queues[0][:5] == ["queue_id", "queue", "created", "handed_off", "closed"]
    # The history's figures come last, after the columns that were there before them.
    assert queues[0][-5:] == [
        "entered",
        "time_in_queue_count",
        "time_in_queue_mean",
        "time_in_queue_median",
        "time_in_queue_p90",
    ]
    assert [row[1] for row in queues[1:]] == ["Alpha", "Beta", ""]
    alpha = dict(zip(queues[0], queues[1], strict=True))
    assert (alpha["entered"], alpha["time_in_queue_count"]) == ("3", "2")
    assert float(alpha["time_in_queue_mean"]) == pytest.approx(46500.0)
    volume, _ = await download("volume", format="csv")
    assert volume[0] == ["weekday", "hour", "messages", "tickets"]
    assert len(volume) == 1 + 168
    backlog, _ = await download("backlog", format="csv", tz="America/Sao_Paulo")
    assert backlog[1:] == [["2026-03-11T00:00:00-03:00", "2"], ["2026-03-12T00:00:00-03:00", "2"]]
    ratings, _ = await download("csat", format="csv")
    assert dict(ratings[1:])["csat_average"] == repr(10 / 3)


def test_business_seconds() -> None:
    hours = BusinessHours.model_validate(
        {
            "timezone": "America/Sao_Paulo",
            "days": {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "tue": [["08:00", "18:00"]]},
            "holidays": ["2026-03-17", "12-25"],
        }
    )
    monday_7h = datetime(2026, 3, 9, 10, tzinfo=UTC)  # 07:00 in São Paulo
    assert business_seconds(hours, monday_7h, monday_7h + timedelta(hours=2)) == 3600
    # Monday 11:00 to Tuesday 09:00 local: 1 h + 11 h (13:00-24:00) + 1 h.
    assert (
        business_seconds(hours, monday_7h + timedelta(hours=4), monday_7h + timedelta(hours=26))
        == 13 * 3600
    )
    # The next Tuesday is a holiday; Christmas is every year.
    tuesday = datetime(2026, 3, 17, 12, tzinfo=UTC)
    assert business_seconds(hours, tuesday, tuesday + timedelta(hours=3)) == 0
    assert (
        business_seconds(
            hours, datetime(2029, 12, 25, 12, tzinfo=UTC), datetime(2029, 12, 25, 15, tzinfo=UTC)
        )
        == 0
    )
    assert business_seconds(None, monday_7h, monday_7h + timedelta(seconds=90.5)) == 90.5
    assert business_seconds(hours, monday_7h, monday_7h - timedelta(hours=1)) == 0


def test_quantile_interpolates_like_pandas() -> None:
    values = [600.0, 1800.0, 3600.0, 9000.0]
    assert quantile(values, 0.5) == 2700.0
    assert quantile(values, 0.9) == pytest.approx(7380.0)
    assert quantile([5.0], 0.9) == 5.0


async def test_a_running_period_ends_its_backlog_now(tenant: Tenant, clock: FakeClock) -> None:
    history = await History.of(tenant)
    now = clock()
    today = now.date()
    await history.ticket(
        created=now - timedelta(hours=2),
        status=TicketStatus.pending,
        handed_off=now - timedelta(hours=1),
    )
    body = await get(
        tenant, "backlog", **{"from": str(today - timedelta(days=1)), "to": str(today)}
    )

    # The end of yesterday, then now (today has not ended yet); the ticket waits since an hour
    # ago, after midnight (the clock starts at 14:00).
    midnight = datetime.combine(today, datetime.min.time(), UTC)
    points = [(datetime.fromisoformat(p["at"]), p["backlog"]) for p in body["points"]]
    assert points == [(midnight, 0), (now, 1)]
