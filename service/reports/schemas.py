"""Shapes of /api/reports."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from service.companies.schemas import Timezone
from service.http import StrictModel

__all__ = [
    "CsatFigures",
    "DashboardOut",
    "DashboardQuery",
    "FirstResponseFigures",
    "QueueFigures",
    "StatusFigures",
    "WaitingFigures",
]

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
