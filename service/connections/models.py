"""A company's WhatsApp numbers (real or sandbox) and their texts."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company
    from service.queues.models import Queue


class Channel(StrEnum):
    sandbox = "sandbox"
    whatsapp = "whatsapp"


class ConnectionStatus(StrEnum):
    disconnected = "disconnected"
    connecting = "connecting"
    qrcode = "qrcode"
    connected = "connected"
    logged_out = "logged_out"
    banned = "banned"


class Connection(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="connections", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    channel = fields.CharEnumField(Channel, max_length=20, default=Channel.sandbox)
    is_default = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    status = fields.CharEnumField(
        ConnectionStatus, max_length=20, default=ConnectionStatus.disconnected
    )
    status_detail = fields.CharField(max_length=500, default="")
    phone_number = fields.CharField(max_length=32, null=True)
    # The WhatsApp account (JID) paired with this connection: its session in the store.
    wa_jid = fields.CharField(max_length=100, null=True)
    qr_code = fields.TextField(null=True)
    # Log in with a pairing code for this number instead of scanning the QR code.
    pairing_phone = fields.CharField(max_length=32, null=True)
    pairing_code = fields.CharField(max_length=16, null=True)
    greeting = fields.TextField(default="")
    farewell = fields.TextField(default="")
    out_of_hours_message = fields.TextField(default="")
    groups_enabled = fields.BooleanField(default=False)
    queues: fields.ManyToManyRelation["Queue"] = fields.ManyToManyField(
        "models.Queue", related_name="connections", through="connection_queues"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connections"
        unique_together = (("company", "name"),)
