"""People who log in: admins, supervisors and agents of one company."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company
    from service.queues.models import Queue


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"


class User(Model):
    company_id: int  # set by Tortoise from the `company` key; declared for type checkers
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="users", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20, default=Role.agent)
    is_super = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    language = fields.CharField(max_length=10, default="pt-BR")
    queues: fields.ManyToManyRelation["Queue"] = fields.ManyToManyField(
        "models.Queue", related_name="users", through="user_queues"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
        indexes = (("company_id", "role"),)
