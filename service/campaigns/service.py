"""Reads of campaigns: the campaigns, their statistics and their recipients."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from service.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from service.campaigns.schemas import (
    CampaignOut,
    CampaignStats,
    MediaOut,
    RecipientOut,
)
from service.contacts.models import Contact
from service.tenancy import get_owned, scoped

__all__ = [
    "campaign_out",
    "campaigns_out",
    "company_campaigns",
    "get_campaign",
    "recipient_counts",
    "recipients_csv",
    "recipients_of",
    "recipients_out",
    "stats_from_counts",
]

_WENT_OUT = (RecipientStatus.sent, RecipientStatus.delivered, RecipientStatus.read)


def company_campaigns(
    *, company_id: int, status: CampaignStatus | None = None
) -> QuerySet[Campaign]:
    query = scoped(Campaign, company_id)
    if status is not None:
        query = query.filter(status=status)
    return query


async def get_campaign(*, company_id: int, campaign_id: int) -> Campaign:
    """The company's campaign with this id (404 otherwise)."""
    return await get_owned(Campaign, company_id, campaign_id)


async def recipient_counts(campaign_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Recipients per status of each campaign, in one grouped query."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if not campaign_ids:
        return counts
    rows = (
        await CampaignRecipient.filter(campaign_id__in=list(campaign_ids))
        .annotate(n=Count("id"))
        .group_by("campaign_id", "status")
        .values("campaign_id", "status", "n")
    )
    for row in rows:
        counts[int(row["campaign_id"])][str(RecipientStatus(row["status"]))] = int(row["n"])
    return counts


def stats_from_counts(counts: dict[str, int]) -> CampaignStats:
    full = {status.value: counts.get(status.value, 0) for status in RecipientStatus}
    sent = sum(full[status.value] for status in _WENT_OUT)
    delivered = full["delivered"] + full["read"]
    return CampaignStats(
        total=sum(full.values()),
        counts=full,
        sent=sent,
        delivered_rate=round(delivered / sent, 4) if sent else None,
        read_rate=round(full["read"] / sent, 4) if sent else None,
    )


def _out(campaign: Campaign, counts: dict[str, int]) -> CampaignOut:
    media = None
    if campaign.media_path:
        media = MediaOut(name=campaign.media_name, mime=campaign.media_mime)
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        connection_id=campaign.connection_id,  # type: ignore[attr-defined]
        contact_list_id=campaign.contact_list_id,  # type: ignore[attr-defined]
        segment_id=campaign.segment_id,  # type: ignore[attr-defined]
        variants=list(campaign.variants),
        media=media,
        confirmation_text=campaign.confirmation_text,
        scheduled_at=campaign.scheduled_at,
        timezone=campaign.timezone,
        window_start=campaign.window_start,
        window_end=campaign.window_end,
        window_weekdays=list(campaign.window_weekdays or []),
        min_delay=campaign.min_delay,
        max_delay=campaign.max_delay,
        long_pause_every=campaign.long_pause_every,
        long_pause=campaign.long_pause,
        hourly_cap=campaign.hourly_cap,
        next_send_at=campaign.next_send_at,
        last_sent_at=campaign.last_sent_at,
        sent_count=campaign.sent_count,
        created_by_id=campaign.created_by_id,  # type: ignore[attr-defined]
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
        stats=stats_from_counts(counts),
    )


async def campaigns_out(rows: Sequence[Campaign]) -> list[CampaignOut]:
    counts = await recipient_counts([row.id for row in rows])
    return [_out(row, counts.get(row.id, {})) for row in rows]


async def campaign_out(campaign: Campaign) -> CampaignOut:
    return (await campaigns_out([campaign]))[0]


def recipients_of(
    campaign: Campaign, status: RecipientStatus | None
) -> QuerySet[CampaignRecipient]:
    query = CampaignRecipient.filter(campaign_id=campaign.id)
    if status is not None:
        query = query.filter(status=status)
    return query


async def recipients_out(rows: Sequence[CampaignRecipient]) -> list[RecipientOut]:
    contact_ids = {row.contact_id for row in rows}  # type: ignore[attr-defined]
    contacts: dict[int, dict[str, Any]] = {
        int(row["id"]): row
        for row in await Contact.filter(id__in=list(contact_ids)).values("id", "number", "name")
    }
    out = []
    for row in rows:
        contact = contacts.get(row.contact_id, {})  # type: ignore[attr-defined]
        out.append(
            RecipientOut(
                id=row.id,
                contact_id=row.contact_id,  # type: ignore[attr-defined]
                number=contact.get("number", ""),
                name=contact.get("name", ""),
                status=row.status,
                variant=row.variant,
                body=row.body,
                reason=row.reason,
                channel_message_id=row.channel_message_id,
                confirmed_at=row.confirmed_at,
                sent_at=row.sent_at,
                delivered_at=row.delivered_at,
                read_at=row.read_at,
            )
        )
    return out


_CSV_COLUMNS = (
    "contact_id",
    "number",
    "name",
    "status",
    "reason",
    "variant",
    "sent_at",
    "delivered_at",
    "read_at",
)
_CSV_BATCH = 1000


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A cell starting like a formula would run in a spreadsheet: quote it as text.
    if text[:1] in ("=", "+", "-", "@") and not text[1:2].isdigit():
        return "'" + text
    return text


async def recipients_csv(campaign: Campaign, status: RecipientStatus | None) -> str:
    """Every recipient (of a status) as CSV, read in batches by id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    last_id = 0
    while True:
        rows = (
            await recipients_of(campaign, status)
            .filter(id__gt=last_id)
            .order_by("id")
            .limit(_CSV_BATCH)
        )
        if not rows:
            break
        for item in await recipients_out(rows):
            record = item.model_dump()
            writer.writerow([_csv_cell(record[column]) for column in _CSV_COLUMNS])
        last_id = rows[-1].id
    return buffer.getvalue()
