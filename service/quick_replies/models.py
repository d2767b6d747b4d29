"""Canned answers agents insert with /shortcut."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company


class QuickReply(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="quick_replies", on_delete=fields.CASCADE
    )
    shortcut = fields.CharField(max_length=50)
    text = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "quick_replies"
        unique_together = (("company", "shortcut"),)
