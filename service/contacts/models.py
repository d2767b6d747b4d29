"""Customers, identified by their E.164 number within a company."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company
    from service.tags.models import Tag


class Contact(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="contacts", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=32)
    name = fields.CharField(max_length=200, default="")
    email = fields.CharField(max_length=254, null=True)
    custom_fields: Any = fields.JSONField(default=dict)
    # A WhatsApp group, when the connection enables groups: `number` holds its JID.
    is_group = fields.BooleanField(default=False)
    opted_out = fields.BooleanField(default=False)
    opted_out_at = fields.DatetimeField(null=True)
    # Why: "keyword STOP", "import", "agent Maria: asked by phone"… shown beside the flag.
    opted_out_reason = fields.CharField(max_length=200, default="")
    language = fields.CharField(max_length=10, null=True)
    tags: fields.ManyToManyRelation["Tag"] = fields.ManyToManyField(
        "models.Tag", related_name="contacts", through="contact_tags"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contacts"
        unique_together = (("company", "number"),)
        indexes = (("company_id", "name"),)
