"""Labels put on contacts and tickets."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company


class Tag(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="tags", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=60)
    color = fields.CharField(max_length=7, default="#888888")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tags"
        unique_together = (("company", "name"),)
