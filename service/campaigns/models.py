"""Campaigns, their recipients, and messages scheduled by agents.

A campaign's progress lives in its recipients' rows: one per contact, unique per campaign,
so a restart resumes where it stopped and two workers never send one contact twice."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.audiences.models import ContactList, Segment
    from service.companies.models import Company
    from service.connections.models import Connection
    from service.contacts.models import Contact
    from service.users.models import User


class CampaignStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    running = "running"
    paused = "paused"
    finished = "finished"
    cancelled = "cancelled"


class RecipientStatus(StrEnum):
    queued = "queued"
    confirming = "confirming"  # asked first (confirmation mode), waiting for the reply
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    skipped = "skipped"  # opted out, or an unusable number


class Campaign(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="campaigns", on_delete=fields.CASCADE
    )
    connection: fields.ForeignKeyRelation["Connection"] = fields.ForeignKeyField(
        "models.Connection", related_name="campaigns", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=120)
    status = fields.CharEnumField(CampaignStatus, max_length=10, default=CampaignStatus.draft)
    contact_list: fields.ForeignKeyNullableRelation["ContactList"] = fields.ForeignKeyField(
        "models.ContactList", related_name="campaigns", null=True, on_delete=fields.SET_NULL
    )
    segment: fields.ForeignKeyNullableRelation["Segment"] = fields.ForeignKeyField(
        "models.Segment", related_name="campaigns", null=True, on_delete=fields.SET_NULL
    )
    # Up to five texts, one picked at random per recipient, with {{variables}}.
    variants: Any = fields.JSONField(default=list)
    media_path = fields.CharField(max_length=500, null=True)
    media_mime = fields.CharField(max_length=100, null=True)
    media_name = fields.CharField(max_length=255, null=True)
    confirmation_text = fields.TextField(null=True)  # set: ask first, send after the reply
    scheduled_at = fields.DatetimeField(null=True)
    timezone = fields.CharField(max_length=64, default="UTC")
    # "HH:MM" wall-clock times in `timezone` (a TIME column would carry a zone of its own).
    window_start = fields.CharField(max_length=5, null=True)
    window_end = fields.CharField(max_length=5, null=True)
    window_weekdays: Any = fields.JSONField(default=list)
    min_delay = fields.FloatField(default=20.0)
    max_delay = fields.FloatField(default=60.0)
    long_pause_every = fields.IntField(default=0)
    long_pause = fields.FloatField(default=0.0)
    hourly_cap = fields.IntField(null=True)
    next_send_at = fields.DatetimeField(null=True)
    last_sent_at = fields.DatetimeField(null=True)
    sent_count = fields.IntField(default=0)
    created_by: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="campaigns", null=True, on_delete=fields.SET_NULL
    )
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "campaigns"
        indexes = (("status", "next_send_at"),)


class CampaignRecipient(Model):
    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="recipients", on_delete=fields.CASCADE
    )
    contact: fields.ForeignKeyRelation["Contact"] = fields.ForeignKeyField(
        "models.Contact", related_name="campaign_receipts", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(RecipientStatus, max_length=10, default=RecipientStatus.queued)
    variant = fields.SmallIntField(null=True)
    body = fields.TextField(default="")
    reason = fields.CharField(max_length=300, default="")
    channel_message_id = fields.CharField(max_length=128, null=True)
    confirmed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "campaign_recipients"
        unique_together = (("campaign", "contact"),)
        indexes = (("campaign_id", "status", "id"), ("channel_message_id",))


class ScheduledStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class ScheduledMessage(Model):
    """A message an agent wrote now to go to a contact later."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="scheduled_messages", on_delete=fields.CASCADE
    )
    contact: fields.ForeignKeyRelation["Contact"] = fields.ForeignKeyField(
        "models.Contact", related_name="scheduled_messages", on_delete=fields.CASCADE
    )
    connection: fields.ForeignKeyRelation["Connection"] = fields.ForeignKeyField(
        "models.Connection", related_name="scheduled_messages", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="scheduled_messages", null=True, on_delete=fields.SET_NULL
    )
    body = fields.TextField(default="")
    media_path = fields.CharField(max_length=500, null=True)
    media_mime = fields.CharField(max_length=100, null=True)
    media_name = fields.CharField(max_length=255, null=True)
    send_at = fields.DatetimeField()
    status = fields.CharEnumField(ScheduledStatus, max_length=10, default=ScheduledStatus.pending)
    reason = fields.CharField(max_length=300, default="")
    sent_at = fields.DatetimeField(null=True)
    message_id = fields.IntField(null=True)  # the ticket message it became
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "scheduled_messages"
        indexes = (("status", "send_at"),)
