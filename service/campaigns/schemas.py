"""Request and response shapes of /api/campaigns."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, model_validator

from service.campaigns.models import CampaignStatus, RecipientStatus
from service.http import DbId, PageQuery, StrictModel

__all__ = [
    "AUDIENCE_FIELDS",
    "PACING_FIELDS",
    "CampaignCreate",
    "CampaignOut",
    "CampaignProgress",
    "CampaignQuery",
    "CampaignStats",
    "CampaignUpdate",
    "MediaOut",
    "MediaUpload",
    "RecipientOut",
    "RecipientQuery",
]

MAX_VARIANT = 4096
MAX_VARIANTS = 5

# What a running (or paused) campaign may still change: its name, its pace and its window.
PACING_FIELDS = frozenset(
    {
        "timezone",
        "window_start",
        "window_end",
        "window_weekdays",
        "min_delay",
        "max_delay",
        "long_pause_every",
        "long_pause",
        "hourly_cap",
    }
)
AUDIENCE_FIELDS = frozenset({"contact_list_id", "segment_id"})


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a directory
        raise ValueError("is not a known time zone (e.g. America/Sao_Paulo)") from None
    return value


def _variants(values: list[str]) -> list[str]:
    if any(not value.strip() for value in values):
        raise ValueError("a variant may not be empty")
    return values


def _weekdays(values: list[int]) -> list[int]:
    return sorted(set(values))


Variant = Annotated[str, Field(min_length=1, max_length=MAX_VARIANT)]
Variants = Annotated[
    list[Variant], Field(min_length=1, max_length=MAX_VARIANTS), AfterValidator(_variants)
]
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
Weekdays = Annotated[
    list[Annotated[int, Field(ge=0, le=6)]], Field(max_length=7), AfterValidator(_weekdays)
]
Delay = Annotated[float, Field(ge=0, le=86_400)]


class _CampaignFields(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    connection_id: DbId | None = None
    contact_list_id: DbId | None = None
    segment_id: DbId | None = None
    variants: Variants | None = None
    confirmation_text: str | None = Field(default=None, max_length=MAX_VARIANT)
    # With an offset (…Z or …-03:00); null starts the campaign as soon as it is started.
    scheduled_at: AwareDatetime | None = None
    timezone: TimeZoneName | None = None
    window_start: time | None = None
    window_end: time | None = None
    window_weekdays: Weekdays | None = None  # Monday = 0; empty: every day
    min_delay: Delay | None = None
    max_delay: Delay | None = None
    long_pause_every: int | None = Field(default=None, ge=0, le=1_000_000)
    long_pause: Delay | None = None
    hourly_cap: int | None = Field(default=None, ge=1, le=1_000_000)

    def given(self) -> dict[str, Any]:
        """The fields the client sent, with their values (null included)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class CampaignCreate(_CampaignFields):
    name: str = Field(min_length=1, max_length=120)
    connection_id: DbId
    variants: Variants

    @model_validator(mode="after")
    def _one_audience(self) -> Self:
        if (self.contact_list_id is None) == (self.segment_id is None):
            raise ValueError("give exactly one of contact_list_id and segment_id")
        return self


class CampaignUpdate(_CampaignFields):
    """Only the fields given change; a running campaign takes its name and pacing only."""

    @model_validator(mode="after")
    def _audience(self) -> Self:
        given = self.model_fields_set & AUDIENCE_FIELDS
        if given and (self.contact_list_id is None) == (self.segment_id is None):
            raise ValueError("give exactly one of contact_list_id and segment_id")
        for required in ("name", "connection_id", "variants", "timezone"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} may not be null")
        return self


class CampaignQuery(PageQuery):
    status: CampaignStatus | None = None


class RecipientQuery(PageQuery):
    status: RecipientStatus | None = None


class MediaUpload(StrictModel):
    """The fields of POST /api/campaigns/{id}/media besides its `file` (none)."""


class MediaOut(BaseModel):
    name: str | None
    mime: str | None


class CampaignStats(BaseModel):
    """Recipients per status; the rates are over the messages that went out."""

    total: int
    counts: dict[str, int]
    sent: int  # sent, delivered or read: the main message went out
    delivered_rate: float | None
    read_rate: float | None


class CampaignOut(BaseModel):
    id: int
    name: str
    status: CampaignStatus
    connection_id: int
    contact_list_id: int | None
    segment_id: int | None
    variants: list[str]
    media: MediaOut | None
    confirmation_text: str | None
    scheduled_at: datetime | None
    timezone: str
    window_start: str | None
    window_end: str | None
    window_weekdays: list[int]
    min_delay: float
    max_delay: float
    long_pause_every: int
    long_pause: float
    hourly_cap: int | None
    next_send_at: datetime | None
    last_sent_at: datetime | None
    sent_count: int
    created_by_id: int | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    stats: CampaignStats


class RecipientOut(BaseModel):
    id: int
    contact_id: int
    number: str
    name: str
    status: RecipientStatus
    variant: int | None
    body: str
    reason: str
    channel_message_id: str | None
    confirmed_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


class CampaignProgress(BaseModel):
    """The data of `campaign.progress`: the campaign's status and its recipients per status."""

    id: int
    status: CampaignStatus
    counts: dict[RecipientStatus, int]
