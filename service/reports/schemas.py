"""Shapes of /api/reports."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from service.companies.schemas import Timezone
from service.http import DbId, StrictModel

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
    date: dt.date | None = Field(
        default=None, description="the day (YYYY-MM-DD); today in the time zone by default"
    )
    tz: Timezone | None = Field(
        default=None,
        description="IANA time zone of the day; the company's time zone by default",
        examples=["America/Sao_Paulo"],
    )

    @field_validator("date")
    @classmethod
    def _within_range(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not _FIRST_DAY <= value <= _LAST_DAY:
            raise ValueError(f"must be between {_FIRST_DAY} and {_LAST_DAY}")
        return value


class StatusFigures(BaseModel):
    """Active tickets now, by status, and the tickets closed that day."""

    bot: int
    pending: int
    open: int
    closed: int


class QueueFigures(StatusFigures):
    queue_id: int | None = Field(description="null: tickets without a queue")
    queue_name: str | None


class WaitingFigures(BaseModel):
    count: int
    oldest_handed_off_at: dt.datetime | None
    oldest_wait_seconds: int | None


class FirstResponseFigures(BaseModel):
    count: int = Field(description="tickets whose first agent response happened that day")
    average_seconds: float | None


class CsatFigures(BaseModel):
    count: int = Field(description="rated tickets closed that day")
    average: float | None


class DashboardOut(BaseModel):
    date: dt.date
    timezone: str
    generated_at: dt.datetime
    by_status: StatusFigures
    by_queue: list[QueueFigures]
    waiting: WaitingFigures
    created: int
    closed: int
    first_response: FirstResponseFigures
    csat: CsatFigures


# The reports over a period (docs/metrics.md holds the definitions).


class ReportQuery(StrictModel):
    from_: dt.date | None = Field(
        default=None,
        alias="from",
        description="first day (YYYY-MM-DD), inclusive; 29 days before `to` by default",
    )
    to: dt.date | None = Field(
        default=None, description="last day (YYYY-MM-DD), inclusive; today by default"
    )
    tz: Timezone | None = Field(
        default=None,
        description="IANA time zone of the days; the company's time zone by default",
        examples=["America/Sao_Paulo"],
    )
    queue_id: DbId | None = Field(
        default=None, description="only the tickets (and their messages) of this queue"
    )
    format: Literal["json", "csv"] | None = Field(
        default=None, description="csv: the report as a CSV file (also with Accept: text/csv)"
    )

    @field_validator("from_", "to")
    @classmethod
    def _within_range(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not _FIRST_DAY <= value <= _LAST_DAY:
            raise ValueError(f"must be between {_FIRST_DAY} and {_LAST_DAY}")
        return value


class BacklogQuery(ReportQuery):
    freq: Literal["day", "hour"] = Field(
        default="day",
        description=f"the backlog at the end of each day, or of each hour (periods of at most"
        f" {MAX_HOURLY_DAYS} days)",
    )


class PeriodOut(BaseModel):
    first_day: dt.date
    last_day: dt.date
    timezone: str
    start: dt.datetime = Field(description="first_day 00:00 local time")
    end: dt.datetime = Field(description="the day after last_day 00:00 local time (exclusive)")


class DurationStats(BaseModel):
    """Seconds: the mean, the median and the 90th percentile (linear interpolation) over
    `count` tickets; null without any."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None


class ScoreCount(BaseModel):
    score: int
    count: int


class CsatStats(BaseModel):
    """The ratings of the tickets closed in the period."""

    count: int
    average: float | None
    satisfied_share: float | None = Field(description="the share of 4s and 5s among ratings")
    distribution: list[ScoreCount] = Field(description="the count of each score, 1 to 5")


class WaitingNow(BaseModel):
    count: int = Field(description="tickets waiting in a queue right now (pending)")
    oldest_handed_off_at: dt.datetime | None = Field(
        description="the oldest handoff among them (its creation for a ticket without one)"
    )


class PeriodReport(BaseModel):
    """What every report over a period starts with."""

    period: PeriodOut
    queue_id: int | None
    generated_at: dt.datetime


class SummaryOut(PeriodReport):
    created: int
    handed_off: int = Field(description="of the tickets created, those handed off (ever)")
    handoff_rate: float | None
    bot_contained: int = Field(
        description="of the tickets created, those closed without a handoff and without an agent"
    )
    containment_rate: float | None
    closed: int
    first_response: DurationStats
    first_response_business_hours: DurationStats
    waiting: DurationStats
    waiting_now: WaitingNow
    resolution_from_creation: DurationStats
    resolution_from_handoff: DurationStats
    csat: CsatStats


class AgentFigures(BaseModel):
    user_id: int
    name: str
    role: str
    is_active: bool
    closed: int = Field(description="tickets closed in the period assigned to the agent")
    first_response: DurationStats = Field(description="the agent's first responses")
    messages_sent: int
    csat: CsatStats = Field(description="of the agent's tickets closed in the period")


class AgentsOut(PeriodReport):
    items: list[AgentFigures]


class QueueReportFigures(BaseModel):
    """One queue's figures. `entered` and `time_in_queue` follow each ticket's history (a
    ticket transferred from A to B counts in both); the others go by the ticket's queue now,
    which for a closed ticket is the queue it was closed in."""

    queue_id: int | None = Field(description="null: the tickets without a queue")
    queue_name: str | None
    created: int = Field(description="tickets created in the period, by their queue now")
    handed_off: int = Field(
        description="tickets handed off (first) in the period, by their queue now"
    )
    closed: int
    waiting: DurationStats
    first_response: DurationStats
    first_response_business_hours: DurationStats
    resolution_from_handoff: DurationStats
    csat: CsatStats
    entered: int = Field(
        description="distinct tickets that entered the queue in the period (handed off,"
        " transferred or moved to it, opened or reopened in it), from the ticket's history",
    )
    time_in_queue: DurationStats = Field(
        description="the stays in the queue that ended in the period (the ticket was"
        " transferred to another queue or closed): from entering it to leaving it; `count`"
        " counts stays, so a ticket that came back counts twice",
    )


class QueuesOut(PeriodReport):
    items: list[QueueReportFigures]


class VolumeCell(BaseModel):
    weekday: int = Field(ge=0, le=6, description="Monday is 0")
    hour: int = Field(ge=0, le=23)
    messages: int = Field(description="customers' (inbound) messages")
    tickets: int = Field(description="tickets created")


class VolumeOut(PeriodReport):
    messages: int
    tickets: int
    cells: list[VolumeCell] = Field(description="the 168 cells of weekday and hour, local time")


class BacklogPoint(BaseModel):
    at: dt.datetime
    backlog: int


class BacklogOut(PeriodReport):
    freq: Literal["day", "hour"]
    points: list[BacklogPoint] = Field(
        description="the backlog at the end of each day or hour of the period, up to now"
    )


class CsatOut(PeriodReport, CsatStats):
    pass
