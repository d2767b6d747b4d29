"""Request and response shapes of /api/contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, Json

from service.http import DbId, PageQuery, StrictModel
from service.users.schemas import Email

__all__ = [
    "CONTACT_COLUMNS",
    "MAX_CUSTOM_FIELDS",
    "ContactCreate",
    "ContactFilter",
    "ContactMergeBody",
    "ContactOut",
    "ContactQuery",
    "ContactTagsBody",
    "ContactUpdate",
    "CsvBody",
    "CustomFields",
    "ImportForm",
    "ImportOptions",
    "ImportPreview",
    "ImportProgress",
    "ImportReportRow",
    "ImportResult",
    "PreviewForm",
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
OptOutReason = Annotated[str, Field(max_length=200)]
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
    opted_out_reason: str
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
    opted_out_reason: OptOutReason | None = None
    language: Language | None = None


class ContactUpdate(StrictModel):
    """Only the fields sent change; `email` and `language` may be set to null.

    `opted_out_reason` goes with opting out (by default "agent <name>"); opting back in
    clears it."""

    number: Number | None = None
    name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    custom_fields: CustomFields | None = None
    tag_ids: TagIds | None = None
    opted_out: bool | None = None
    opted_out_reason: OptOutReason | None = None
    language: Language | None = None


class ContactTagsBody(StrictModel):
    tag_ids: TagIds


class ContactFilter(StrictModel):
    """The filters of the list, also those of the CSV export."""

    q: SearchText | None = None
    tag_id: DbId | None = None
    opted_out: bool | None = None


class ContactQuery(PageQuery, ContactFilter):
    pass


class ContactMergeBody(StrictModel):
    """POST /api/contacts/{id}/merge: the contact to fold into this one (then deleted)."""

    other_id: DbId


class CsvBody(StrictModel):
    """POST /api/contacts/import as JSON; a text/csv body is the same file without this wrapper."""

    csv: str


ImportTarget = Annotated[str, Field(max_length=80)]
ImportId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class PreviewForm(StrictModel):
    """The text fields of POST /api/contacts/import/preview (multipart, with `file`)."""

    has_header: bool | None = None


class ImportForm(StrictModel):
    """The text fields of POST /api/contacts/import as multipart/form-data (with `file`).

    `mapping` is a JSON list with one target per column: name, number, email, tags,
    opted_out, `custom:<key>` or ignore (by default the preview's suggestion); `tags` are
    names (separated by commas or semicolons) added to every row's contact; `import_id`
    names the `contacts.import.progress` events of this import."""

    mapping: Json[Annotated[list[ImportTarget], Field(max_length=200)]] | None = None
    tags: str = Field(default="", max_length=2000)
    update_existing: bool = True
    has_header: bool | None = None
    import_id: ImportId | None = None


class ImportOptions(BaseModel):
    tags: list[str] = Field(default_factory=list)
    update_existing: bool = True


class ImportPreview(BaseModel):
    encoding: str
    delimiter: str
    has_header: bool
    columns: list[str]
    width: int
    rows: list[list[str]]
    total: int
    mapping: list[str]


class ImportReportRow(BaseModel):
    """A row not written as it stands: `row` as a spreadsheet numbers it (the header is 1),
    `value` the cell at fault as the file has it."""

    row: int
    value: str
    reason: str
    outcome: Literal["failed", "merged"]


class ImportResult(BaseModel):
    """`rows` read; `created`/`updated` contacts (`unchanged`: existing ones left as they
    were but for tags, when not updating); rows `merged` into an earlier one; `failed`."""

    import_id: str
    rows: int
    created: int
    updated: int
    unchanged: int
    merged: int
    failed: int
    report: list[ImportReportRow]


class ImportProgress(BaseModel):
    """The data of `contacts.import.progress`: rows written so far of the file's total."""

    import_id: str
    done: int
    total: int
