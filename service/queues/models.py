"""Queues (departments) with their greeting, business hours and menu options tree."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company


class Queue(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="queues", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    color = fields.CharField(max_length=7, default="#5b8def")
    position = fields.IntField(default=0)
    greeting = fields.TextField(default="")
    out_of_hours_message = fields.TextField(default="")
    business_hours: Any = fields.JSONField(null=True)
    options: Any = fields.JSONField(default=list)
    keywords: Any = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "queues"
        unique_together = (("company", "name"),)
        ordering = ["position", "id"]
