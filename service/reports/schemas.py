"""Shapes of /api/reports."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from service.companies.schemas import Timezone
from service.http import DbId, ResponseModel, StrictModel

__all__ = [
    "MAX_DAYS",
    "MAX_HOURLY_DAYS",
    "AgentFigures",
    "AgentsOut",
    "BacklogOut",
    "BacklogPoint",
    "BacklogQuery",
    "CsatFigures",
    "CsatOut",
    "CsatStats",
    "DashboardOut",
    "DashboardQuery",
    "DurationStats",
    "FirstResponseFigures",
    "PeriodOut",
    "PeriodReport",
    "QueueFigures",
    "QueueReportFigures",
    "QueuesOut",
    "ReportQuery",
    "ScoreCount",
    "StatusFigures",
    "SummaryOut",
    "VolumeCell",
    "VolumeOut",
    "WaitingFigures",
    "WaitingNow",
]

# The longest period a report covers, and the longest one an hourly backlog covers.
MAX_DAYS = 366
MAX_HOURLY_DAYS = 31

# Days a report may name: wide enough for any real history, narrow enough that the day's
# bounds never leave the range of a datetime in any time zone.
_FIRST_DAY = dt.date(2000, 1, 1)
_LAST_DAY = dt.date(2999, 12, 31)


class DashboardQuery(StrictModel):
    date: dt.date | None = None
    """The day (YYYY-MM-DD); today in the time zone by default."""
    tz: Timezone | None = Field(default=None, examples=["America/Sao_Paulo"])
    """IANA time zone of the day; the company's time zone by default."""

    @field_validator("date")
    @classmethod
    def _within_range(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not _FIRST_DAY <= value <= _LAST_DAY:
            raise ValueError(f"must be between {_FIRST_DAY} and {_LAST_DAY}")
        return value


class StatusFigures(ResponseModel):
    """Active tickets now, by status, and the tickets closed that day."""

    bot: int
    """Tickets with the bot now."""
    pending: int
    """Tickets waiting in a queue for an agent now."""
    open: int
    """Tickets an agent attends now."""
    closed: int
    """Tickets closed that day."""


class QueueFigures(StatusFigures):
    queue_id: int | None
    """The queue; null: the tickets without a queue."""
    queue_name: str | None
    """The queue's name; null for the tickets without a queue."""


class WaitingFigures(ResponseModel):
    count: int
    """Tickets waiting in a queue right now (pending)."""
    oldest_handed_off_at: dt.datetime | None
    """When the longest-waiting of them was handed off (its creation without a handoff), UTC;
    null when none waits."""
    oldest_wait_seconds: int | None
    """How long it has waited, in seconds; null when none waits."""


class FirstResponseFigures(ResponseModel):
    count: int
    """Tickets whose first agent response happened that day."""
    average_seconds: float | None
    """Their mean first response time (from the handoff), in seconds; null without any."""


class CsatFigures(ResponseModel):
    count: int
    """Rated tickets closed that day."""
    average: float | None
    """Their mean rating (1-5); null without any."""


class DashboardOut(ResponseModel):
    date: dt.date
    """The day reported (YYYY-MM-DD)."""
    timezone: str
    """The IANA time zone the day is in."""
    generated_at: dt.datetime
    """When the figures were computed (UTC)."""
    by_status: StatusFigures
    """Active tickets now by status, and the tickets closed that day."""
    by_queue: list[QueueFigures]
    """The same, per queue (the tickets without a queue last)."""
    waiting: WaitingFigures
    """The tickets waiting for an agent right now."""
    created: int
    """Tickets created that day."""
    closed: int
    """Tickets closed that day."""
    first_response: FirstResponseFigures
    """The first responses of agents that day."""
    csat: CsatFigures
    """The ratings of the tickets closed that day."""


# The reports over a period (docs/metrics.md holds the definitions).


class ReportQuery(StrictModel):
    from_: dt.date | None = Field(default=None, alias="from")
    """First day (YYYY-MM-DD), inclusive; 29 days before `to` by default."""
    to: dt.date | None = None
    """Last day (YYYY-MM-DD), inclusive; today by default."""
    tz: Timezone | None = Field(default=None, examples=["America/Sao_Paulo"])
    """IANA time zone of the days; the company's time zone by default."""
    queue_id: DbId | None = None
    """Only the tickets (and their messages) of this queue."""
    format: Literal["json", "csv"] | None = None
    """csv: the report as a CSV file (also with Accept: text/csv); json by default."""

    @field_validator("from_", "to")
    @classmethod
    def _within_range(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not _FIRST_DAY <= value <= _LAST_DAY:
            raise ValueError(f"must be between {_FIRST_DAY} and {_LAST_DAY}")
        return value


class BacklogQuery(ReportQuery):
    # A docstring cannot name MAX_HOURLY_DAYS: keep its 31 in step.
    freq: Literal["day", "hour"] = "day"
    """The backlog at the end of each day, or of each hour (periods of at most 31 days)."""


class PeriodOut(ResponseModel):
    first_day: dt.date
    """The first day of the period (YYYY-MM-DD), inclusive."""
    last_day: dt.date
    """The last day of the period (YYYY-MM-DD), inclusive."""
    timezone: str
    """The IANA time zone the days are in."""
    start: dt.datetime
    """first_day 00:00 local time (the period's start, inclusive)."""
    end: dt.datetime
    """The day after last_day 00:00 local time (the period's end, exclusive)."""


class DurationStats(ResponseModel):
    """Seconds: the mean, the median and the 90th percentile (linear interpolation) over
    `count` tickets; null without any."""

    count: int
    """How many durations were measured."""
    mean: float | None
    """Their mean, in seconds; null when none."""
    median: float | None
    """Their median, in seconds; null when none."""
    p90: float | None
    """Their 90th percentile, in seconds; null when none."""


class ScoreCount(ResponseModel):
    score: int
    """A rating, 1 to 5."""
    count: int
    """How many ratings gave it."""


class CsatStats(ResponseModel):
    """The ratings of the tickets closed in the period."""

    count: int
    """How many ratings there were."""
    average: float | None
    """Their mean (1-5); null without any."""
    satisfied_share: float | None
    """The share (0-1) of 4s and 5s among the ratings; null without any."""
    distribution: list[ScoreCount]
    """The count of each score, 1 to 5."""


class WaitingNow(ResponseModel):
    count: int
    """Tickets waiting in a queue right now (pending)."""
    oldest_handed_off_at: dt.datetime | None
    """The oldest handoff among them (its creation for a ticket without one), UTC; null when
    none waits."""


class PeriodReport(ResponseModel):
    """What every report over a period starts with."""

    period: PeriodOut
    """The days the report covers, and their bounds."""
    queue_id: int | None
    """The queue the report is restricted to; null: every queue."""
    generated_at: dt.datetime
    """When the figures were computed (UTC)."""


class SummaryOut(PeriodReport):
    created: int
    """Tickets created in the period."""
    handed_off: int
    """Of the tickets created, those handed off (ever)."""
    handoff_rate: float | None
    """handed_off / created (0-1); null when none was created."""
    bot_contained: int
    """Of the tickets created, those closed without a handoff and without an agent."""
    containment_rate: float | None
    """bot_contained / created (0-1); null when none was created."""
    closed: int
    """Tickets closed in the period."""
    first_response: DurationStats
    """From handoff to an agent's first message, for first responses in the period."""
    first_response_business_hours: DurationStats
    """The same counting only the seconds within the queue's business hours."""
    waiting: DurationStats
    """From handoff to an agent taking the ticket, for the tickets accepted in the period."""
    waiting_now: WaitingNow
    """The tickets still waiting for an agent right now."""
    resolution_from_creation: DurationStats
    """From creation to close, for the tickets closed in the period (bot time included)."""
    resolution_from_handoff: DurationStats
    """From handoff to close, for the tickets closed in the period that were handed off."""
    csat: CsatStats
    """The customers' ratings (1-5) of the tickets closed in the period."""


class AgentFigures(ResponseModel):
    user_id: int
    """The agent (a user of any role)."""
    name: str
    """The agent's name."""
    role: str
    """The agent's role: admin, supervisor or agent."""
    is_active: bool
    """False: the user has been deactivated."""
    closed: int
    """Tickets closed in the period assigned to the agent."""
    first_response: DurationStats
    """The agent's first responses in the period."""
    messages_sent: int
    """Messages the agent sent to customers in the period (notes not included)."""
    csat: CsatStats
    """The ratings of the agent's tickets closed in the period."""


class AgentsOut(PeriodReport):
    items: list[AgentFigures]
    """One entry per agent."""


class QueueReportFigures(ResponseModel):
    """One queue's figures. `entered` and `time_in_queue` follow each ticket's history (a
    ticket transferred from A to B counts in both); the others go by the ticket's queue now,
    which for a closed ticket is the queue it was closed in."""

    queue_id: int | None
    """The queue; null: the tickets without a queue."""
    queue_name: str | None
    """The queue's name; null for the tickets without a queue."""
    created: int
    """Tickets created in the period, by their queue now."""
    handed_off: int
    """Tickets handed off (first) in the period, by their queue now."""
    closed: int
    """Tickets closed in the period in this queue."""
    waiting: DurationStats
    """From handoff to an agent taking the ticket, by the ticket's queue now."""
    first_response: DurationStats
    """From handoff to an agent's first message, by the ticket's queue now."""
    first_response_business_hours: DurationStats
    """The same counting only the seconds within the queue's business hours."""
    resolution_from_handoff: DurationStats
    """From handoff to close, for the tickets closed in the queue in the period."""
    csat: CsatStats
    """The ratings of the tickets closed in the queue in the period."""
    entered: int
    """Distinct tickets that entered the queue in the period (handed off, transferred or
    moved to it, opened or reopened in it), from the ticket's history."""
    time_in_queue: DurationStats
    """The stays in the queue that ended in the period (the ticket was transferred to another
    queue or closed): from entering it to leaving it; `count` counts stays, so a ticket that
    came back counts twice."""


class QueuesOut(PeriodReport):
    items: list[QueueReportFigures]
    """One entry per queue, and one for the tickets without a queue."""


class VolumeCell(ResponseModel):
    weekday: int = Field(ge=0, le=6)
    """The local weekday, Monday is 0."""
    hour: int = Field(ge=0, le=23)
    """The local hour, 0-23."""
    messages: int
    """Customers' (inbound) messages in that hour of that weekday, over the period."""
    tickets: int
    """Tickets created in that hour of that weekday, over the period."""


class VolumeOut(PeriodReport):
    messages: int
    """Customers' (inbound) messages in the period."""
    tickets: int
    """Tickets created in the period."""
    cells: list[VolumeCell]
    """The 168 cells of weekday and hour, local time."""


class BacklogPoint(ResponseModel):
    at: dt.datetime
    """The instant (the end of a local day or hour), UTC."""
    backlog: int
    """Tickets handed off by then and not closed at that instant."""


class BacklogOut(PeriodReport):
    freq: Literal["day", "hour"]
    """Whether the points are at the end of each day or of each hour."""
    points: list[BacklogPoint]
    """The backlog at the end of each day or hour of the period, up to now."""


class CsatOut(PeriodReport, CsatStats):
    pass
