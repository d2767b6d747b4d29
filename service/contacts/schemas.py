"""Request and response shapes of /api/contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from service.http import DbId, PageQuery, StrictModel
from service.users.schemas import Email

__all__ = [
    "CONTACT_COLUMNS",
    "MAX_CUSTOM_FIELDS",
    "ContactCreate",
    "ContactOut",
    "ContactQuery",
    "ContactTagsBody",
    "ContactUpdate",
    "CsvBody",
    "CustomFields",
    "ImportErrorOut",
    "ImportResult",
    "SearchText",
    "TagRef",
    "check_custom_fields",
]

# The CSV columns that are the contact's own fields; any other column is a custom field.
CONTACT_COLUMNS = ("name", "number", "email", "tags", "opted_out")
MAX_CUSTOM_FIELDS = 50
MAX_FIELD_KEY = 60
MAX_FIELD_TEXT = 1000


# A `?q=` search (StrictModel refuses text the database cannot store).
SearchText = Annotated[str, Field(max_length=200)]


def check_custom_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Custom fields as stored: at most 50, keys 1-60 characters, none named like a column."""
    if len(fields) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"may have at most {MAX_CUSTOM_FIELDS} keys")
    for key, value in fields.items():
        if not 1 <= len(key) <= MAX_FIELD_KEY:
            raise ValueError(f"keys must be 1-{MAX_FIELD_KEY} characters")
        if key.strip() != key:
            raise ValueError("keys must not start or end with spaces")
        if key.lower() in CONTACT_COLUMNS:
            raise ValueError(f"{key!r} is a contact field, not a custom field")
        if isinstance(value, str) and len(value) > MAX_FIELD_TEXT:
            raise ValueError(f"text values must be at most {MAX_FIELD_TEXT} characters")
    return fields


FieldValue = str | bool | int | Annotated[float, Field(allow_inf_nan=False)] | None
CustomFields = Annotated[
    dict[str, FieldValue],
    Field(json_schema_extra={"maxProperties": MAX_CUSTOM_FIELDS}),
    AfterValidator(check_custom_fields),
]
Language = Annotated[str, Field(pattern=r"^(pt-BR|en|es)$")]
Number = Annotated[str, Field(min_length=1, max_length=64)]
TagIds = Annotated[list[DbId], Field(max_length=100)]


class TagRef(BaseModel):
    id: int
    name: str
    color: str


class ContactOut(BaseModel):
    id: int
    name: str
    number: str
    email: str | None
    custom_fields: dict[str, Any]
    opted_out: bool
    opted_out_at: datetime | None
    language: str | None
    tags: list[TagRef]
    tickets_count: int
    created_at: datetime
    updated_at: datetime


class ContactCreate(StrictModel):
    number: Number
    name: str = Field(default="", max_length=200)
    email: Email | None = None
    custom_fields: CustomFields = Field(default_factory=dict)
    tag_ids: TagIds = Field(default_factory=list)
    opted_out: bool = False
    language: Language | None = None


class ContactUpdate(StrictModel):
    """Only the fields sent change; `email` and `language` may be set to null."""

    number: Number | None = None
    name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    custom_fields: CustomFields | None = None
    tag_ids: TagIds | None = None
    opted_out: bool | None = None
    language: Language | None = None


class ContactTagsBody(StrictModel):
    tag_ids: TagIds


class ContactQuery(PageQuery):
    q: SearchText | None = None
    tag_id: DbId | None = None
    opted_out: bool | None = None


class CsvBody(StrictModel):
    """POST /api/contacts/import as JSON; a text/csv body is the same file without this wrapper."""

    csv: str


class ImportErrorOut(BaseModel):
    line: int
    message: str


class ImportResult(BaseModel):
    created: int
    updated: int
    errors: list[ImportErrorOut]
