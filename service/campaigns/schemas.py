"""Request and response shapes of /api/campaigns."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, model_validator

from service.campaigns.models import CampaignStatus, RecipientStatus
from service.http import DbId, PageQuery, ResponseModel, StrictModel

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
    """A new name; left out keeps the current one."""
    connection_id: DbId | None = None
    """The connection (WhatsApp number) to send from; left out keeps the current one."""
    contact_list_id: DbId | None = None
    """Send to this contact list's members; give it or `segment_id`, not both."""
    segment_id: DbId | None = None
    """Send to the contacts this segment matches when the campaign starts; give it or
    `contact_list_id`, not both."""
    variants: Variants | None = None
    """1-5 texts; each recipient gets one at random. They may use {{name}}, {{first_name}},
    {{number}}, {{greeting}} and {{custom.key}}."""
    confirmation_text: str | None = Field(default=None, max_length=MAX_VARIANT)
    """Set: each recipient is first asked this text and gets the main message only after
    replying; null: the main message goes at once."""
    # With an offset (…Z or …-03:00); null starts the campaign as soon as it is started.
    scheduled_at: AwareDatetime | None = None
    """When a started campaign begins sending, with its UTC offset (…Z or …-03:00); null:
    as soon as it is started."""
    timezone: TimeZoneName | None = None
    """IANA time zone of the send window (e.g. America/Sao_Paulo); UTC by default."""
    window_start: time | None = None
    """Sends happen from this local time (HH:MM) each day; give it with `window_end`; null:
    any hour."""
    window_end: time | None = None
    """Sends stop at this local time (HH:MM); before `window_start`, the window runs over
    midnight."""
    window_weekdays: Weekdays | None = None  # Monday = 0; empty: every day
    """Days of the week sends happen on (Monday = 0 … Sunday = 6); empty: every day."""
    min_delay: Delay | None = None
    """Seconds to wait at least between two sends (a random pause between `min_delay` and
    `max_delay`); 20 by default."""
    max_delay: Delay | None = None
    """Seconds to wait at most between two sends; 60 by default."""
    long_pause_every: int | None = Field(default=None, ge=0, le=1_000_000)
    """After every this many sends, wait `long_pause` instead; 0 (the default): never."""
    long_pause: Delay | None = None
    """Seconds of the long pause; 0 by default."""
    hourly_cap: int | None = Field(default=None, ge=1, le=1_000_000)
    """At most this many sends per hour on the connection, all its campaigns together;
    null: no cap."""

    def given(self) -> dict[str, Any]:
        """The fields the client sent, with their values (null included)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class CampaignCreate(_CampaignFields):
    """A draft campaign (nothing is sent before POST /api/campaigns/{id}/start); the fields
    left out take their defaults."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Black Friday",
                    "connection_id": 1,
                    "segment_id": 3,
                    "variants": [
                        "{{greeting}}, {{first_name}}! Our Black Friday starts today.",
                        "Hi {{first_name}}, Black Friday is on: 30% off everything.",
                    ],
                    "scheduled_at": "2026-11-27T09:00:00-03:00",
                    "timezone": "America/Sao_Paulo",
                    "window_start": "09:00",
                    "window_end": "18:00",
                    "window_weekdays": [0, 1, 2, 3, 4],
                    "min_delay": 20,
                    "max_delay": 60,
                    "hourly_cap": 200,
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=120)
    """The campaign's name (1-120 characters), for the company's own use."""
    connection_id: DbId
    """The connection (WhatsApp number) to send from."""
    variants: Variants
    """1-5 texts; each recipient gets one at random. They may use {{name}}, {{first_name}},
    {{number}}, {{greeting}} and {{custom.key}}."""

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
    """Only the campaigns in this status."""


class RecipientQuery(PageQuery):
    status: RecipientStatus | None = None
    """Only the recipients in this status."""


class MediaUpload(StrictModel):
    """The fields of POST /api/campaigns/{id}/media besides its `file` (none)."""


class MediaOut(ResponseModel):
    name: str | None
    """The attached file's name as uploaded; null if it had none."""
    mime: str | None
    """The attached file's MIME type (e.g. image/jpeg); null when unknown."""


class CampaignStats(ResponseModel):
    """Recipients per status; the rates are over the messages that went out."""

    total: int
    """How many recipients the campaign has."""
    counts: dict[str, int]
    """Recipients by status (queued, confirming, sent, delivered, read, failed, skipped),
    every status present."""
    sent: int  # sent, delivered or read: the main message went out
    """Recipients whose main message went out (sent, delivered or read)."""
    delivered_rate: float | None
    """Of those, the share delivered or read (0-1); null before anything went out."""
    read_rate: float | None
    """Of those, the share read (0-1); null before anything went out."""


class CampaignOut(ResponseModel):
    id: int
    """The campaign's id."""
    name: str
    """The campaign's name."""
    status: CampaignStatus
    """draft and scheduled may still be edited; running sends; paused waits for a resume;
    finished and cancelled are over."""
    connection_id: int
    """The connection (WhatsApp number) it sends from."""
    contact_list_id: int | None
    """The contact list it sends to; null when it sends to a segment (or the list is gone)."""
    segment_id: int | None
    """The segment it sends to; null when it sends to a list (or the segment is gone)."""
    variants: list[str]
    """The texts, one picked at random per recipient, with {{variables}}."""
    media: MediaOut | None
    """The file sent with the message (the text is its caption); null without one."""
    confirmation_text: str | None
    """The question asked first in confirmation mode; null: no confirmation."""
    scheduled_at: datetime | None
    """When it begins sending once started (UTC); null: as soon as it is started."""
    timezone: str
    """IANA time zone of the send window."""
    window_start: str | None
    """Local time (HH:MM) sends start each day; null: any hour."""
    window_end: str | None
    """Local time (HH:MM) sends stop each day; null: any hour."""
    window_weekdays: list[int]
    """Days of the week it sends on (Monday = 0); empty: every day."""
    min_delay: float
    """Seconds between two sends, at least."""
    max_delay: float
    """Seconds between two sends, at most."""
    long_pause_every: int
    """A long pause after every this many sends; 0: never."""
    long_pause: float
    """Seconds of the long pause."""
    hourly_cap: int | None
    """Most sends per hour on the connection; null: no cap."""
    next_send_at: datetime | None
    """When the next message may go (UTC); null when not running or due now."""
    last_sent_at: datetime | None
    """When a message last went (UTC); null before the first."""
    sent_count: int
    """Messages sent so far (confirmation questions included)."""
    created_by_id: int | None
    """The user who created it; null for an API token (or a deleted user)."""
    started_at: datetime | None
    """When it began sending (UTC); null before."""
    finished_at: datetime | None
    """When it finished or was cancelled (UTC); null until then."""
    created_at: datetime
    """When it was created (UTC)."""
    updated_at: datetime
    """When it last changed (UTC)."""
    stats: CampaignStats
    """Its recipients by status, and the delivery and read rates."""


class RecipientOut(ResponseModel):
    id: int
    """The recipient's id in this campaign."""
    contact_id: int
    """The contact sent to."""
    number: str
    """The contact's number (E.164)."""
    name: str
    """The contact's name."""
    status: RecipientStatus
    """queued: not sent yet; confirming: asked first, waiting for the reply; sent, delivered,
    read: how far the message got; failed: it could not be sent; skipped: opted out, an
    unusable number, or the campaign was cancelled."""
    variant: int | None
    """Which of `variants` it got (from 0); null before the main message went."""
    body: str
    """The text sent, variables filled in; empty before anything went."""
    reason: str
    """Why it failed or was skipped; empty otherwise."""
    channel_message_id: str | None
    """WhatsApp's id of the message sent; null before it went."""
    confirmed_at: datetime | None
    """When the contact answered the confirmation question (UTC); null otherwise."""
    sent_at: datetime | None
    """When the message went (UTC); null before."""
    delivered_at: datetime | None
    """When WhatsApp reported it delivered (UTC); null until then."""
    read_at: datetime | None
    """When WhatsApp reported it read (UTC); null until then (or if the contact hides read
    receipts)."""


class CampaignProgress(ResponseModel):
    """The data of `campaign.progress`: the campaign's status and its recipients per status."""

    id: int
    """The campaign's id."""
    status: CampaignStatus
    """The campaign's status."""
    counts: dict[RecipientStatus, int]
    """Its recipients by status."""
