"""Audiences: static contact lists and saved segments (filters over contacts)."""

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from service.companies.models import Company
    from service.contacts.models import Contact


class Segment(Model):
    """A saved filter over contacts, turned into a contact list when a campaign starts."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="segments", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    filters: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "segments"
        unique_together = (("company", "name"),)


class ContactList(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation["Company"] = fields.ForeignKeyField(
        "models.Company", related_name="contact_lists", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contact_lists"
        unique_together = (("company", "name"),)


class ContactListMember(Model):
    id = fields.IntField(primary_key=True)
    contact_list: fields.ForeignKeyRelation[ContactList] = fields.ForeignKeyField(
        "models.ContactList", related_name="members", on_delete=fields.CASCADE
    )
    contact: fields.ForeignKeyRelation["Contact"] = fields.ForeignKeyField(
        "models.Contact", related_name="list_memberships", on_delete=fields.CASCADE
    )
    added_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_list_members"
        unique_together = (("contact_list", "contact"),)
