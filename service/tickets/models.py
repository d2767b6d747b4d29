"""Conversations (tickets) and their messages."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.campaigns.models import Campaign
    from service.companies.models import Company
    from service.connections.models import Connection
    from service.contacts.models import Contact
    from service.queues.models import Queue
    from service.tags.models import Tag
    from service.users.models import User


class TicketStatus(StrEnum):
    bot = "bot"
    pending = "pending"
    open = "open"
    closed = "closed"


# The statuses of a ticket still in progress: at most one per contact and connection.
ACTIVE_STATUSES = (TicketStatus.bot, TicketStatus.pending, TicketStatus.open)


class Direction(StrEnum):
    inbound = "in"
    outbound = "out"


class MessageStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"


class Ticket(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="tickets", on_delete=fields.CASCADE
    )
    contact: fields.ForeignKeyRelation["Contact"] = fields.ForeignKeyField(
        "models.Contact", related_name="tickets", on_delete=fields.CASCADE
    )
    connection: fields.ForeignKeyRelation["Connection"] = fields.ForeignKeyField(
        "models.Connection", related_name="tickets", on_delete=fields.CASCADE
    )
    queue: fields.ForeignKeyNullableRelation["Queue"] = fields.ForeignKeyField(
        "models.Queue", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(TicketStatus, max_length=10, default=TicketStatus.bot)
    # The campaign whose message this conversation answers (the customer's first message
    # came within days of it).
    campaign: fields.ForeignKeyNullableRelation["Campaign"] = fields.ForeignKeyField(
        "models.Campaign", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    flow_state: Any = fields.JSONField(default=dict)
    unread_count = fields.IntField(default=0)
    rating = fields.SmallIntField(null=True)
    last_message = fields.TextField(default="")
    last_message_at = fields.DatetimeField(null=True)
    tags: fields.ManyToManyRelation["Tag"] = fields.ManyToManyField(
        "models.Tag", related_name="tickets", through="ticket_tags"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    handed_off_at = fields.DatetimeField(null=True)
    # The first time an agent took the ticket (accept, transfer to them, or they opened it);
    # a reopen keeps it: the waiting time is the first wait in the queue.
    accepted_at = fields.DatetimeField(null=True)
    first_agent_reply_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "tickets"
        # The inbox lists: by status and queue, newest (highest id) first, as they page;
        # an agent's own tickets.
        indexes = (
            ("company_id", "status", "queue_id", "id"),
            ("company_id", "user_id", "status"),
            ("contact_id", "connection_id", "status"),
        )


class HistoryKind(StrEnum):
    """What happened to a ticket, one line of its history."""

    created = "created"  # the ticket was opened (by the customer's message, an agent, a campaign)
    handed_off = "handed_off"  # the bot (or the customer's request) put it in a queue
    accepted = "accepted"  # an agent took it
    transferred = "transferred"  # to another queue and/or agent, maybe with a note
    closed = "closed"  # by an agent, the bot, a timer or the customer's opt-out
    reopened = "reopened"
    rating_expired = "rating_expired"  # the rating question went unanswered
    rated = "rated"  # the customer answered the rating question
    fallback = "fallback"  # moved to the fallback queue (no queue chosen, or too many misses)


class ActorKind(StrEnum):
    """Who made a history line happen."""

    user = "user"  # an agent, supervisor or admin (actor_user_id says who)
    bot = "bot"  # the flow engine
    timer = "timer"  # a scheduled timeout
    customer = "customer"  # the customer's own message (an opt-out, a rating)
    system = "system"  # an API token, a campaign, an import


class TicketEvent(Model):
    """One line of a ticket's history, written in the same transaction as the change."""

    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="ticket_events", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="history", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(HistoryKind, max_length=20)
    actor_kind = fields.CharEnumField(ActorKind, max_length=10)
    actor_user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="ticket_events", null=True, on_delete=fields.SET_NULL
    )
    # Plain ids, not foreign keys: the history keeps naming a queue or agent that was deleted
    # (the names are looked up when shown; a missing one shows as deleted).
    from_queue_id = fields.IntField(null=True)
    to_queue_id = fields.IntField(null=True)
    from_user_id = fields.IntField(null=True)
    to_user_id = fields.IntField(null=True)
    note = fields.TextField(default="")
    # Why, in a word a program can read: "inactivity", "opt_out", "menu_end", "no_queue"...
    reason = fields.CharField(max_length=40, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "ticket_events"
        indexes = (("ticket_id", "id"), ("company_id", "at"))


class Message(Model):
    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="messages", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="messages", on_delete=fields.CASCADE
    )
    connection: fields.ForeignKeyRelation["Connection"] = fields.ForeignKeyField(
        "models.Connection", related_name="messages", on_delete=fields.CASCADE
    )
    direction = fields.CharEnumField(Direction, max_length=3)
    body = fields.TextField(default="")
    media_type = fields.CharField(max_length=20, null=True)
    media_path = fields.CharField(max_length=500, null=True)
    media_name = fields.CharField(max_length=255, null=True)
    media_mime = fields.CharField(max_length=100, null=True)
    media_size = fields.BigIntField(null=True)
    # Too large to download: what the channel needs to fetch it later.
    media_reference = fields.TextField(null=True)
    channel_message_id = fields.CharField(max_length=128, null=True)
    quoted_channel_id = fields.CharField(max_length=128, null=True)
    status = fields.CharEnumField(MessageStatus, max_length=10, default=MessageStatus.pending)
    error = fields.TextField(null=True)
    # Set just before the channel is called and cleared if it refused: a pending message with
    # it set was being sent when a crash came, and may or may not have left (never resent).
    send_started_at = fields.DatetimeField(null=True)
    sender_user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="sent_messages", null=True, on_delete=fields.SET_NULL
    )
    from_bot = fields.BooleanField(default=False)
    is_note = fields.BooleanField(default=False)
    processed_at = fields.DatetimeField(null=True)
    edited_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "messages"
        unique_together = (("connection", "channel_message_id"),)
        indexes = (("ticket_id", "id"), ("company_id", "created_at"))
