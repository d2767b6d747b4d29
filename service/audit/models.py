"""Who changed what, when: every admin change, with the object before and after."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company
    from service.users.models import User


class AuditLog(Model):
    id = fields.BigIntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="audit_log", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=20)
    object_type = fields.CharField(max_length=40)
    object_id = fields.CharField(max_length=40)
    before: Any = fields.JSONField(null=True)
    after: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_log"
        indexes = (("company_id", "id"),)
