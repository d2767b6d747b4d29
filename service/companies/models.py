"""Tenants, their plans and their key/value settings."""

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Plan(Model):
    """Limits a company's size (a null limit means unlimited)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    max_users = fields.IntField(null=True)
    max_connections = fields.IntField(null=True)
    max_queues = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "plans"


class Company(Model):
    plan_id: int | None  # set by Tortoise from the `plan` key; declared for type checkers
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="companies", null=True, on_delete=fields.SET_NULL
    )
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "companies"


class Setting(Model):
    """One company setting, as JSON so that each key keeps its type."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="settings", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=100)
    value: Any = fields.JSONField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "settings"
        unique_together = (("company", "key"),)
