"""The web reports (SQL, /api/reports) and the notebooks' metrics (pandas, analytics.metrics)
give the same figures for the same seeded history (tests/helpers/seeded_history.py), read from
the same database (Postgres or SQLite): every summary figure, per agent, per queue, the
volume by weekday and hour, the backlog by day and by hour, CSAT; also for one queue. Per queue
also the figures of each ticket's history (tickets entered, time in queue), where a ticket
counts in every queue it passed through."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx
import pandas as pd
import pytest
import pytest_asyncio

from analytics import load, metrics
from analytics.hours import Schedules
from analytics.source import Source
from service.companies.models import Company
from service.users.models import Role
from tests.factories import Member, make_member
from tests.helpers.seeded_history import EXPECTED_PATHS, SeededHistory

SECONDS = 1e-6  # durations agree to the microsecond
_STATS = ("count", "mean", "median", "p90")


@dataclass
class Frames:
    tickets: pd.DataFrame  # every ticket a period metric needs
    every_ticket: pd.DataFrame  # for the backlog: all of them
    history: pd.DataFrame  # every line of the tickets with a line in the period
    messages: pd.DataFrame
    users: pd.DataFrame
    schedules: Schedules


@pytest.fixture(scope="module")
def frames(history_source: Source, seeded_history: SeededHistory) -> Frames:
    period = (seeded_history.first_day, seeded_history.last_day)
    return Frames(
        tickets=load.tickets(history_source, *period, touching=True),
        every_ticket=load.tickets(history_source),
        history=load.ticket_history(history_source, *period, touching=True),
        messages=load.messages(history_source, *period),
        users=load.users(history_source),
        schedules=load.schedules(history_source),
    )


@pytest_asyncio.fixture(scope="module")
async def reader(client: httpx.AsyncClient, seeded_history: SeededHistory) -> Member:
    """An admin of the seeded company, to call the API as."""
    company = await Company.get(id=seeded_history.company_id)
    return await make_member(client, company, role=Role.admin)


class Api:
    def __init__(self, client: httpx.AsyncClient, reader: Member, seeded: SeededHistory) -> None:
        self.client, self.reader, self.seeded = client, reader, seeded

    async def get(self, report: str, **query: Any) -> dict[str, Any]:
        params = {"from": str(self.seeded.first_day), "to": str(self.seeded.last_day), **query}
        response = await self.client.get(
            f"/api/reports/{report}", params=params, headers=self.reader.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(client: httpx.AsyncClient, reader: Member, seeded_history: SeededHistory) -> Api:
    return Api(client, reader, seeded_history)


def same(api_value: Any, pandas_value: Any, what: str) -> None:
    """One figure: None and NaN are "no value"; numbers equal to the microsecond."""
    missing = pandas_value is None or (isinstance(pandas_value, float) and math.isnan(pandas_value))
    if api_value is None or missing:
        assert (api_value, missing) == (None, True), (
            f"{what}: API {api_value!r}, pandas {pandas_value!r}"
        )
        return
    assert api_value == pytest.approx(float(pandas_value), abs=SECONDS), what


def same_stats(api_stats: dict[str, Any], pandas_stats: dict[str, Any], what: str) -> None:
    for name in _STATS:
        same(api_stats[name], pandas_stats[name], f"{what}.{name}")


def same_csat(api_csat: dict[str, Any], pandas_csat: dict[str, Any], what: str) -> None:
    for name in ("count", "average", "satisfied_share"):
        same(api_csat[name], pandas_csat[name], f"{what}.{name}")
    distribution = {row["score"]: row["count"] for row in api_csat["distribution"]}
    assert distribution == pandas_csat["distribution"], what


def same_summary(body: dict[str, Any], figures: dict[str, Any]) -> None:
    assert body["period"]["start"] == figures["period"]["start"].isoformat().replace("+00:00", "Z")
    assert body["period"]["end"] == figures["period"]["end"].isoformat().replace("+00:00", "Z")
    assert body["period"]["timezone"] == figures["period"]["timezone"]
    for name in ("created", "handed_off", "handoff_rate", "bot_contained", "containment_rate"):
        same(body[name], figures[name], name)
    same(body["closed"], figures["closed"], "closed")
    same_stats(body["first_response"], figures["frt"], "frt")
    same_stats(body["first_response_business_hours"], figures["frt_business_hours"], "frt business")
    for name in ("waiting", "resolution_from_creation", "resolution_from_handoff"):
        same_stats(body[name], figures[name], name)
    same_csat(body["csat"], figures["csat"], "csat")
    assert body["waiting_now"]["count"] == figures["waiting_now"]["count"]
    oldest = figures["waiting_now"]["oldest_handed_off_at"]
    api_oldest = body["waiting_now"]["oldest_handed_off_at"]
    assert (None if api_oldest is None else pd.Timestamp(api_oldest)) == oldest


async def test_the_summary_agrees(api: Api, frames: Frames, seeded_history: SeededHistory) -> None:
    period = (seeded_history.first_day, seeded_history.last_day)
    figures = metrics.summary(
        frames.tickets, frames.messages, *period, business_hours=frames.schedules
    )

    body = await api.get("summary")

    same_summary(body, figures)
    # What the history's author worked out by hand, to be sure both are not wrong alike.
    assert body["created"] == seeded_history.expected["created"]
    same_stats(body["first_response"], seeded_history.expected["frt"], "frt by hand")
    same_csat(await api.get("csat"), figures["csat"], "csat report")


async def test_one_queue_agrees(api: Api, frames: Frames, seeded_history: SeededHistory) -> None:
    period = (seeded_history.first_day, seeded_history.last_day)
    for queue_id in seeded_history.queues.values():
        tickets = frames.tickets[frames.tickets["queue_id"].eq(queue_id).fillna(False)]
        messages = frames.messages[frames.messages["ticket_id"].isin(tickets["id"])]
        figures = metrics.summary(tickets, messages, *period, business_hours=frames.schedules)
        body = await api.get("summary", queue_id=queue_id)
        assert body["queue_id"] == queue_id
        same_summary(body, figures)


async def test_per_agent_agrees(api: Api, frames: Frames, seeded_history: SeededHistory) -> None:
    period = (seeded_history.first_day, seeded_history.last_day)
    table = metrics.by_agent(frames.tickets, frames.messages, *period, users=frames.users)

    rows = {row["user_id"]: row for row in (await api.get("agents"))["items"]}

    active = table[
        (table[["closed", "first_responses", "messages_sent", "csat_count"]] > 0).any(axis=1)
    ]
    assert set(rows) == {int(user_id) for user_id in active.index}
    assert set(rows) >= set(seeded_history.agents.values())
    for user_id, expected in active.iterrows():
        row = rows[int(user_id)]
        what = f"agent {expected['agent']}"
        assert row["name"] == expected["agent"]
        same(row["closed"], expected["closed"], f"{what} closed")
        same(row["first_response"]["count"], expected["first_responses"], f"{what} answers")
        same(row["first_response"]["mean"], expected["frt_mean"], f"{what} frt mean")
        same(row["first_response"]["median"], expected["frt_median"], f"{what} frt median")
        same(row["messages_sent"], expected["messages_sent"], f"{what} messages")
        same(row["csat"]["count"], expected["csat_count"], f"{what} csat count")
        same(row["csat"]["average"], expected["csat_average"], f"{what} csat average")


async def test_per_queue_agrees(api: Api, frames: Frames, seeded_history: SeededHistory) -> None:
    period = (seeded_history.first_day, seeded_history.last_day)
    table = metrics.by_queue(frames.tickets, *period, history=frames.history)
    business = metrics.first_response(frames.tickets, *period, business_hours=frames.schedules)
    queue_of = frames.tickets.set_index("id")["queue_id"]

    rows = {row["queue_id"]: row for row in (await api.get("queues"))["items"]}

    for name, expected in table.iterrows():
        queue_id = None if name == metrics.NO_QUEUE else int(expected["queue_id"])
        row = rows.get(queue_id)
        if row is None:  # the API leaves out "no queue" when it has nothing
            assert queue_id is None
            assert expected[["created", "handed_off", "closed"]].sum() == 0
            continue
        what = f"queue {name}"
        assert row["queue_name"] == (None if queue_id is None else name)
        for column in ("created", "handed_off", "closed"):
            same(row[column], expected[column], f"{what} {column}")
        for prefix, key, names in (
            ("waiting", "waiting", ("count", "mean", "median")),
            ("frt", "first_response", _STATS),
            ("resolution", "resolution_from_handoff", ("count", "mean", "median")),
        ):
            for stat in names:
                same(row[key][stat], expected[f"{prefix}_{stat}"], f"{what} {prefix} {stat}")
        same(row["csat"]["count"], expected["csat_count"], f"{what} csat count")
        same(row["csat"]["average"], expected["csat_average"], f"{what} csat average")
        same(row["entered"], expected["entered"], f"{what} entered")
        for stat in _STATS:
            same(row["time_in_queue"][stat], expected[f"time_in_queue_{stat}"], f"{what} {stat}")
        mine = business[
            [
                (
                    pd.isna(queue_of[ticket_id])
                    if queue_id is None
                    else queue_of[ticket_id] == queue_id
                )
                for ticket_id in business.index
            ]
        ]
        same(row["first_response_business_hours"]["count"], len(mine), f"{what} business n")
        same(
            row["first_response_business_hours"]["mean"],
            float(mine.mean()) if len(mine) else None,
            f"{what} business mean",
        )
    assert len(rows) == len(table) or None not in rows
    # What the history's author worked out by hand: transferred counts in both queues.
    for name, queue_id in seeded_history.queues.items():
        assert rows[queue_id]["entered"] == EXPECTED_PATHS["entered"][name]
        same_stats(rows[queue_id]["time_in_queue"], EXPECTED_PATHS["time_in_queue"][name], name)


async def test_one_queues_path_agrees(
    api: Api, frames: Frames, seeded_history: SeededHistory
) -> None:
    """One queue's report counts the stays in that queue, whatever the ticket's queue now:
    the same as its row of the whole table."""
    period = (seeded_history.first_day, seeded_history.last_day)
    table = metrics.by_queue(frames.tickets, *period, history=frames.history)
    for name, queue_id in seeded_history.queues.items():
        [row] = (await api.get("queues", queue_id=queue_id))["items"]
        assert row["queue_id"] == queue_id
        same(row["entered"], table.loc[name, "entered"], f"{name} entered")
        for stat in _STATS:
            expected = table.loc[name, f"time_in_queue_{stat}"]
            same(row["time_in_queue"][stat], expected, f"{name} time in queue {stat}")


async def test_volume_agrees(api: Api, frames: Frames, seeded_history: SeededHistory) -> None:
    period = (seeded_history.first_day, seeded_history.last_day)
    messages = metrics.volume(frames.messages, *period)
    tickets = metrics.volume(frames.tickets, *period)

    body = await api.get("volume")

    cells = {(c["weekday"], c["hour"]): c for c in body["cells"]}
    assert len(cells) == 168
    for (weekday, hour), cell in cells.items():
        assert cell["messages"] == messages.loc[weekday, hour], (weekday, hour)
        assert cell["tickets"] == tickets.loc[weekday, hour], (weekday, hour)
    assert (
        body["messages"] == int(messages.to_numpy().sum()) == seeded_history.expected["messages_in"]
    )
    assert body["tickets"] == int(tickets.to_numpy().sum())


@pytest.mark.parametrize(("freq", "pandas_freq"), [("day", "D"), ("hour", "h")])
async def test_the_backlog_agrees(
    api: Api, frames: Frames, seeded_history: SeededHistory, freq: str, pandas_freq: str
) -> None:
    period = (seeded_history.first_day, seeded_history.last_day)
    series = metrics.backlog(frames.every_ticket, *period, freq=pandas_freq)  # type: ignore[arg-type]

    body = await api.get("backlog", freq=freq)

    # The history is in the past: every instant of the period is there, none added for now.
    points = [(pd.Timestamp(p["at"]), p["backlog"]) for p in body["points"]]
    assert len(points) == len(series) == (7 if freq == "day" else 7 * 24 - 1)  # DST: 23 h
    for (at, backlog), (instant, expected) in zip(points, series.items(), strict=True):
        assert at == instant
        assert backlog == expected, at
