"""analytics.metrics on the hand-built history of tests/helpers/seeded_history.py: every metric
against values worked out by hand (written here as literals), read from the test database
(Postgres or SQLite), plus the business-hours arithmetic on its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analytics import load, metrics
from analytics.hours import Schedules, business_seconds, open_seconds
from analytics.source import Source
from flows.spec import BusinessHours
from tests.helpers.seeded_history import COMPANY_HOURS, EXPECTED, EXPECTED_PATHS, SeededHistory, at

MONDAY, SUNDAY = dt.date(2026, 3, 2), dt.date(2026, 3, 8)
PERIOD = (MONDAY, SUNDAY)
NEW_YORK = ZoneInfo("America/New_York")


@dataclass
class Frames:
    tickets: pd.DataFrame
    history: pd.DataFrame
    messages: pd.DataFrame
    users: pd.DataFrame
    schedules: Schedules
    ids: dict[str, int]
    agents: dict[str, int]


@pytest.fixture(scope="module")
def frames(history_source: Source, seeded_history: SeededHistory) -> Frames:
    return Frames(
        tickets=load.tickets(history_source, *PERIOD, touching=True),
        history=load.ticket_history(history_source, *PERIOD, touching=True),
        messages=load.messages(history_source, *PERIOD),
        users=load.users(history_source),
        schedules=load.schedules(history_source),
        ids=seeded_history.tickets,
        agents=seeded_history.agents,
    )


def by_name(series: pd.Series, ids: dict[str, int]) -> dict[str, float]:
    """Per-ticket values keyed by the history's ticket names."""
    names = {ticket_id: name for name, ticket_id in ids.items()}
    return {names[int(ticket_id)]: float(value) for ticket_id, value in series.items()}


def approx(figures: dict[str, Any]) -> Any:
    return pytest.approx(figures, rel=1e-12)


def test_a_touching_load_holds_every_ticket_a_period_metric_needs(frames: Frames) -> None:
    names = {ticket_id: name for name, ticket_id in frames.ids.items()}
    loaded = sorted(names[int(ticket_id)] for ticket_id in frames.tickets["id"])
    # after_period was created after the period; before_period was closed in it.
    assert loaded == sorted(set(frames.ids) - {"after_period"})
    assert frames.tickets.attrs["timezone"] == "America/New_York"


def test_summary(frames: Frames) -> None:
    figures = metrics.summary(
        frames.tickets,
        frames.messages,
        *PERIOD,
        business_hours=frames.schedules,
        now=at(9, 13, 5),
    )
    assert figures["period"] == {
        "start": pd.Timestamp("2026-03-02 05:00", tz="UTC"),
        "end": pd.Timestamp("2026-03-09 04:00", tz="UTC"),  # the DST day has 23 hours
        "timezone": "America/New_York",
    }
    assert figures["created"] == 8
    assert figures["handed_off"] == 6
    assert figures["handoff_rate"] == 0.75
    assert figures["bot_contained"] == 1
    assert figures["containment_rate"] == 0.125
    assert figures["closed"] == 5
    assert figures["frt"] == approx({"count": 5, "mean": 15078, "median": 2340, "p90": 40260})
    assert figures["frt_business_hours"] == approx(
        {"count": 5, "mean": 1410, "median": 660, "p90": 3240}
    )
    assert figures["waiting"] == approx({"count": 5, "mean": 14832, "median": 1800, "p90": 39960})
    assert figures["waiting_now"] == {
        "count": 1,
        "oldest_handed_off_at": pd.Timestamp("2026-03-07 13:05", tz="UTC"),
        "oldest_wait_seconds": 2 * 86400.0,
    }
    assert figures["resolution_from_creation"] == approx(
        {"count": 5, "mean": 44160, "median": 60900, "p90": 81360}
    )
    assert figures["resolution_from_handoff"] == approx(
        {"count": 4, "mean": 54780, "median": 64050, "p90": 83298}
    )
    assert figures["csat"] == {
        "count": 3,
        "average": pytest.approx(11 / 3),
        "satisfied_share": pytest.approx(2 / 3),
        "distribution": {1: 0, 2: 1, 3: 0, 4: 1, 5: 1},
    }
    assert figures["messages_in"] == 15
    # The facts the history hands to other tests say the same.
    for key, value in EXPECTED.items():
        if key == "waiting_now":
            assert figures[key]["count"] == value["count"]
            assert figures[key]["oldest_handed_off_at"] == value["oldest_handed_off_at"]
        elif key == "csat":
            assert figures[key]["distribution"] == value["distribution"]
            assert figures[key]["average"] == pytest.approx(value["average"])
        elif isinstance(value, dict):
            assert figures[key] == approx(value), key
        else:
            assert figures[key] == value, key


def test_containment_and_handoff_rate(frames: Frames) -> None:
    assert metrics.containment(frames.tickets, *PERIOD) == {
        "created": 8,
        "handed_off": 6,
        "handoff_rate": 0.75,
        "bot_contained": 1,
        "containment_rate": 0.125,
    }
    # Monday alone: bot_contained and answered_90s were created; one of the two was handed off.
    assert metrics.containment(frames.tickets, MONDAY, MONDAY) == {
        "created": 2,
        "handed_off": 1,
        "handoff_rate": 0.5,
        "bot_contained": 1,
        "containment_rate": 0.5,
    }
    empty = metrics.containment(frames.tickets, dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert empty == {
        "created": 0,
        "handed_off": 0,
        "handoff_rate": None,
        "bot_contained": 0,
        "containment_rate": None,
    }


def test_first_response_time(frames: Frames) -> None:
    frt = metrics.first_response(frames.tickets, *PERIOD)
    # The bot's message and Ana's note after the handoff do not count for answered_90s.
    assert by_name(frt, frames.ids) == {
        "answered_90s": 90,
        "reopened": 660,
        "transferred": 2340,
        "night": 56700,
        "dst_day": 15600,
    }
    assert frt.index.name == "id"
    # before_period was answered on 1 March: not in the period, though closed in it.
    assert by_name(
        metrics.first_response(frames.tickets, "2026-03-01", "2026-03-01"), frames.ids
    ) == {"before_period": 600}


def test_first_response_time_in_business_hours(frames: Frames) -> None:
    frt = metrics.first_response(frames.tickets, *PERIOD, business_hours=frames.schedules)
    assert by_name(frt, frames.ids) == {
        "answered_90s": 90,  # Vendas follows the company's hours: Monday 09:02-09:03:30
        "reopened": 660,  # Suporte's own hours (São Paulo): Tuesday 12:01-12:12
        "transferred": 0,  # 07:01-07:40 in New York, before the company opens
        "night": 2700,  # 17:30-18:00 on Tuesday, 09:00-09:15 on Wednesday
        "dst_day": 3600,  # Sunday 04:40-09:00 in São Paulo, open from 08:00
    }
    # One schedule for every ticket; no schedule at all is every second.
    company = BusinessHours.model_validate(COMPANY_HOURS)
    assert by_name(
        metrics.first_response(frames.tickets, *PERIOD, business_hours=company), frames.ids
    ) == {"answered_90s": 90, "reopened": 660, "transferred": 0, "night": 2700, "dst_day": 0}
    assert by_name(
        metrics.first_response(frames.tickets, *PERIOD, business_hours=Schedules()), frames.ids
    ) == by_name(metrics.first_response(frames.tickets, *PERIOD), frames.ids)


def test_waiting_time(frames: Frames) -> None:
    waiting = metrics.waiting_time(frames.tickets, *PERIOD)
    assert by_name(waiting, frames.ids) == {
        "answered_90s": 60,
        "reopened": 600,  # its first wait: the reopen keeps accepted_at
        "transferred": 1800,  # taken when transferred to Ana
        "night": 56400,
        "dst_day": 15300,
    }
    assert metrics.waiting_now(frames.tickets) == {
        "count": 1,
        "oldest_handed_off_at": pd.Timestamp("2026-03-07 13:05", tz="UTC"),
        "oldest_wait_seconds": None,
    }


def test_resolution_time(frames: Frames) -> None:
    assert by_name(metrics.resolution_time(frames.tickets, *PERIOD), frames.ids) == {
        "bot_contained": 300,
        "answered_90s": 1200,
        "reopened": 90000,  # to its last close
        "night": 60900,
        "before_period": 68400,  # created before the period, closed in it
    }
    from_handoff = metrics.resolution_time(frames.tickets, *PERIOD, since="handoff")
    assert by_name(from_handoff, frames.ids) == {
        "answered_90s": 1080,
        "reopened": 89940,
        "night": 60300,
        "before_period": 67800,
    }
    with pytest.raises(ValueError, match="since"):
        metrics.resolution_time(frames.tickets, *PERIOD, since="close")  # type: ignore[arg-type]


def test_csat(frames: Frames, history_source: Source) -> None:
    expected = {
        "count": 3,
        "average": pytest.approx(11 / 3),
        "satisfied_share": pytest.approx(2 / 3),
        "distribution": {1: 0, 2: 1, 3: 0, 4: 1, 5: 1},
    }
    assert metrics.csat(frames.tickets, *PERIOD) == expected
    # The ratings frame gives the same, by rated_at; after_period's 1 counts on 9 March.
    ratings = load.ratings(history_source)
    assert metrics.csat(ratings, *PERIOD) == expected
    assert metrics.csat(ratings, "2026-03-09", "2026-03-09") == {
        "count": 1,
        "average": 1.0,
        "satisfied_share": 0.0,
        "distribution": {1: 1, 2: 0, 3: 0, 4: 0, 5: 0},
    }


def cells(table: pd.DataFrame) -> dict[tuple[int, int], int]:
    stacked = table.stack()
    return {(int(day), int(hour)): int(n) for (day, hour), n in stacked[stacked > 0].items()}


def test_volume_by_weekday_and_hour(frames: Frames) -> None:
    inbound = metrics.volume(frames.messages, *PERIOD)
    assert inbound.shape == (7, 24)
    assert (inbound.index.name, inbound.columns.name) == ("weekday", "hour")
    assert cells(inbound) == {
        (0, 9): 4,  # three of answered_90s and before_period's last one
        (0, 10): 2,
        (1, 10): 2,
        (1, 17): 1,
        (2, 7): 1,
        (2, 8): 1,
        (2, 10): 1,
        (4, 13): 1,
        (5, 8): 1,
        (6, 3): 1,  # 07:30 UTC on the DST Sunday is 03:30 EDT (02:30 in EST)
    }
    tickets = metrics.volume(frames.tickets, *PERIOD)
    assert cells(tickets) == {
        (0, 9): 1,
        (0, 10): 1,
        (1, 10): 1,
        (1, 17): 1,
        (2, 7): 1,
        (4, 13): 1,
        (5, 8): 1,
        (6, 3): 1,
    }
    # In UTC the same messages fall elsewhere.
    assert cells(metrics.volume(frames.messages, at(8, 0), at(9, 0), tz="UTC")) == {(6, 7): 1}


def test_backlog(frames: Frames) -> None:
    daily = metrics.backlog(frames.tickets, *PERIOD)
    assert [str(t) for t in daily.index] == [
        "2026-03-03 00:00:00-05:00",
        "2026-03-04 00:00:00-05:00",
        "2026-03-05 00:00:00-05:00",
        "2026-03-06 00:00:00-05:00",
        "2026-03-07 00:00:00-05:00",
        "2026-03-08 00:00:00-05:00",
        "2026-03-09 00:00:00-04:00",
    ]
    # End of Sunday: transferred, waiting and dst_day (closed at 05:00 UTC, after 04:00).
    assert daily.tolist() == [0, 2, 1, 1, 1, 2, 3]
    hourly = metrics.backlog(frames.tickets, SUNDAY, SUNDAY, freq="h")
    assert len(hourly) == 23  # the DST day
    assert str(hourly.index[0]) == "2026-03-08 01:00:00-05:00"
    assert str(hourly.index[1]) == "2026-03-08 03:00:00-04:00"
    assert hourly.iloc[:2].tolist() == [2, 2]
    assert hourly.iloc[2:].tolist() == [3] * 21  # dst_day handed off at 03:40 EDT
    with pytest.raises(ValueError, match="start and an end"):
        metrics.backlog(frames.tickets, None, SUNDAY)


def test_by_agent(frames: Frames) -> None:
    table = metrics.by_agent(frames.tickets, frames.messages, *PERIOD, users=frames.users)
    ana, bruno = frames.agents["Ana"], frames.agents["Bruno"]
    rows = table.loc[[ana, bruno]].drop(columns="agent").to_dict("index")
    assert rows[ana] == {
        "closed": 2,  # answered_90s and before_period
        "first_responses": 3,  # answered_90s, transferred, dst_day
        "frt_mean": 6010.0,
        "frt_median": 2340.0,
        "messages_sent": 4,  # her note does not count
        "csat_count": 1,
        "csat_average": 5.0,
    }
    assert rows[bruno] == {
        "closed": 2,
        "first_responses": 2,
        "frt_mean": 28680.0,
        "frt_median": 28680.0,
        "messages_sent": 4,
        "csat_count": 2,
        "csat_average": 3.0,
    }
    assert table.loc[[ana, bruno], "agent"].tolist() == ["Ana", "Bruno"]
    # The admin, who did nothing, has a row of zeros when the users are given.
    assert len(table) == 3
    others = table.drop(index=[ana, bruno])
    assert others[["closed", "first_responses", "messages_sent", "csat_count"]].sum().sum() == 0
    without_users = metrics.by_agent(frames.tickets, frames.messages, *PERIOD)
    assert without_users.index.tolist() == [ana, bruno]


def test_by_queue(frames: Frames, seeded_history: SeededHistory) -> None:
    table = metrics.by_queue(frames.tickets, *PERIOD)
    assert table.index.tolist() == ["Vendas", "Suporte", metrics.NO_QUEUE]
    assert str(table["queue_id"].dtype) == "Int64"
    assert table["queue_id"].iloc[:2].tolist() == [
        seeded_history.queues["Vendas"],
        seeded_history.queues["Suporte"],
    ]
    assert pd.isna(table["queue_id"].iloc[2])
    figures = table.drop(columns="queue_id").to_dict("index")
    # transferred counts in Vendas, its queue now.
    assert figures["Vendas"] == approx(
        {
            "created": 3,
            "handed_off": 3,
            "closed": 3,
            "waiting_count": 3,
            "waiting_mean": 19420,
            "waiting_median": 1800,
            "frt_count": 3,
            "frt_mean": 19710,
            "frt_median": 2340,
            "frt_p90": 45828,
            "resolution_count": 3,
            "resolution_mean": 43060,
            "resolution_median": 60300,
            "csat_count": 2,
            "csat_average": 3.5,
        }
    )
    assert figures["Suporte"] == approx(
        {
            "created": 3,
            "handed_off": 3,
            "closed": 1,
            "waiting_count": 2,
            "waiting_mean": 7950,
            "waiting_median": 7950,
            "frt_count": 2,
            "frt_mean": 8130,
            "frt_median": 8130,
            "frt_p90": 14106,
            "resolution_count": 1,
            "resolution_mean": 89940,
            "resolution_median": 89940,
            "csat_count": 1,
            "csat_average": 4.0,
        }
    )
    no_queue = figures[metrics.NO_QUEUE]
    assert {key: no_queue[key] for key in ("created", "handed_off", "closed")} == {
        "created": 2,
        "handed_off": 0,
        "closed": 1,
    }
    assert pd.isna(no_queue["frt_mean"])
    assert no_queue["frt_count"] == 0
    assert "entered" not in table.columns  # the history's columns need the history


def test_by_queue_with_the_history(frames: Frames) -> None:
    table = metrics.by_queue(frames.tickets, *PERIOD, history=frames.history)
    # The same columns as without it, then the history's.
    assert table.columns.tolist()[-5:] == [
        "entered",
        "time_in_queue_count",
        "time_in_queue_mean",
        "time_in_queue_median",
        "time_in_queue_p90",
    ]
    assert str(table["entered"].dtype) == "int64"
    entered = table["entered"].to_dict()
    # transferred entered Suporte, then Vendas: it counts in both (handed_off: Vendas only);
    # waiting entered Suporte through the fallback, reopened twice (counted once).
    assert entered == {**EXPECTED_PATHS["entered"], metrics.NO_QUEUE: 0}
    assert table["handed_off"].to_dict() == {"Vendas": 3, "Suporte": 3, metrics.NO_QUEUE: 0}
    for queue, expected in EXPECTED_PATHS["time_in_queue"].items():
        stats = {name: table.loc[queue, f"time_in_queue_{name}"] for name in expected}
        assert stats == approx(expected), queue
    assert table.loc[metrics.NO_QUEUE, "time_in_queue_count"] == 0
    assert pd.isna(table.loc[metrics.NO_QUEUE, "time_in_queue_mean"])


def test_queue_stays(frames: Frames) -> None:
    names = {ticket_id: name for name, ticket_id in frames.ids.items()}
    stays = metrics.queue_stays(frames.history)
    assert stays.columns.tolist() == [
        "ticket_id",
        "queue_id",
        "queue",
        "entered_at",
        "left_at",
        "seconds",
    ]
    found = sorted(
        (names[int(row.ticket_id)], str(row.queue), row.entered_at, row.seconds)
        for row in stays.itertuples()
    )
    assert [(n, q, e) for n, q, e, _ in found] == [
        ("answered_90s", "Vendas", pd.Timestamp(at(2, 14, 2))),
        ("before_period", "Vendas", pd.Timestamp(at(1, 20, 10))),  # implied: no history
        ("dst_day", "Suporte", pd.Timestamp(at(8, 7, 40))),
        ("night", "Vendas", pd.Timestamp(at(3, 22, 30))),
        ("reopened", "Suporte", pd.Timestamp(at(3, 15, 1))),
        ("reopened", "Suporte", pd.Timestamp(at(4, 15, 51))),
        ("transferred", "Suporte", pd.Timestamp(at(4, 12, 1))),
        ("transferred", "Vendas", pd.Timestamp(at(4, 12, 31))),
        ("waiting", "Suporte", pd.Timestamp(at(7, 13, 35))),  # the fallback
    ]
    seconds = {(n, e): s for n, _, e, s in found}
    assert seconds[("transferred", pd.Timestamp(at(4, 12, 1)))] == 1800
    assert seconds[("reopened", pd.Timestamp(at(4, 15, 51)))] == 540
    assert seconds[("dst_day", pd.Timestamp(at(8, 7, 40)))] == 76800  # left on Monday 9
    assert pd.isna(seconds[("waiting", pd.Timestamp(at(7, 13, 35)))])  # still there
    assert pd.isna(seconds[("transferred", pd.Timestamp(at(4, 12, 31)))])
    # The stays that ended in the period, and those begun in it.
    ended = metrics.time_in_queue(frames.history, *PERIOD)
    assert sorted(ended["seconds"]) == [540, 1080, 1740, 1800, 60300, 67800]
    begun = metrics.queue_entries(frames.history, *PERIOD)
    assert len(begun) == 8  # before_period's began on Sunday 1
    # No history at all: no stays, and zeros per queue.
    nothing = frames.history.iloc[:0]
    assert metrics.queue_stays(nothing).columns.tolist() == stays.columns.tolist()
    assert metrics.queue_stays(nothing).empty
    empty = metrics.by_queue(frames.tickets, *PERIOD, history=nothing)
    assert empty["entered"].tolist() == [0, 0, 0]
    assert empty["time_in_queue_count"].tolist() == [0, 0, 0]


def test_each_event_counts_on_its_own_day(history_source: Source, frames: Frames) -> None:
    """Monday 9 March (local): after_period is created, answered and closed; dst_day, created
    on Sunday, is closed at 01:00 EDT; nothing else happens that day."""
    day = "2026-03-09"
    tickets = load.tickets(history_source, day, day, touching=True)
    assert metrics.containment(tickets, day, day)["created"] == 1
    assert by_name(metrics.first_response(tickets, day, day), frames.ids) == {"after_period": 60}
    assert by_name(metrics.resolution_time(tickets, day, day), frames.ids) == {
        "dst_day": 77400,
        "after_period": 600,
    }
    assert metrics.csat(tickets, day, day)["count"] == 1
    # The period's own frame never counts after_period.
    assert metrics.resolution_time(frames.tickets, *PERIOD).size == 5


def test_metrics_work_on_a_subset(frames: Frames) -> None:
    vendas = frames.tickets[frames.tickets["queue"] == "Vendas"]
    assert metrics.describe(metrics.first_response(vendas, *PERIOD)) == approx(
        {"count": 3, "mean": 19710, "median": 2340, "p90": 45828}
    )


def test_describe_interpolates_linearly() -> None:
    assert metrics.describe(pd.Series([4.0, 1.0, 3.0, 2.0])) == {
        "count": 4,
        "mean": 2.5,
        "median": 2.5,
        "p90": pytest.approx(3.7),
    }
    assert metrics.describe(pd.Series([], dtype="float64")) == {
        "count": 0,
        "mean": None,
        "median": None,
        "p90": None,
    }


# -- business hours on their own ---------------------------------------------------------


def hours(**days: list[list[str]]) -> BusinessHours:
    return BusinessHours.model_validate(
        {"timezone": "America/New_York", "days": days, "holidays": ["2026-03-10", "12-25"]}
    )


def ny(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def test_business_seconds() -> None:
    office = hours(
        mon=[["09:00", "12:00"], ["13:00", "18:00"]],
        tue=[["09:00", "18:00"]],
        wed=[["09:00", "18:00"]],
        fri=[["09:00", "18:00"]],
        sun=[["00:00", "24:00"]],
    )
    # Lunch is closed.
    assert open_seconds(office, ny(2, 11), ny(2, 14)) == 7200
    # Monday 17:00 to Wednesday 10:00: Tuesday 10 March is a holiday.
    assert open_seconds(office, ny(9, 17), ny(11, 10)) == 3600 + 3600
    # Christmas (every year, "12-25") is a Friday in 2026.
    assert open_seconds(office, ny(25, 8, month=12), ny(25, 20, month=12)) == 0
    # The whole DST Sunday is 23 hours.
    assert open_seconds(office, ny(7, 0), ny(9, 0)) == 23 * 3600
    # Outside any interval, or backwards: nothing.
    assert open_seconds(office, ny(3, 19), ny(3, 23)) == 0
    assert open_seconds(office, ny(3, 12), ny(3, 10)) == 0
    # Without a schedule, every second.
    assert open_seconds(None, ny(7, 0), ny(9, 0)) == 47 * 3600
    # Closed every day: nothing, and missing moments stay missing.
    starts = pd.Series([pd.Timestamp(ny(2, 9)), pd.NaT], index=[7, 8])
    ends = pd.Series([pd.Timestamp(ny(2, 10)), pd.Timestamp(ny(2, 11))], index=[7, 8])
    closed = business_seconds(hours(), starts, ends)
    assert closed.index.tolist() == [7, 8]
    assert closed.iloc[0] == 0
    assert pd.isna(closed.iloc[1])
    assert business_seconds(office, starts, ends).iloc[0] == 3600


def test_schedules_pick_the_queue_then_the_company() -> None:
    company, own = hours(mon=[["09:00", "18:00"]]), hours(sun=[["00:00", "24:00"]])
    schedules = Schedules(company=company, queues={7: own})
    assert schedules.for_queue(7) is own
    assert schedules.for_queue(8) is company
    assert schedules.for_queue(None) is company
    assert Schedules().for_queue(7) is None
