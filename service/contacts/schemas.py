"""Request and response shapes of /api/contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, Json

from service.http import DbId, PageQuery, ResponseModel, StrictModel
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


class TagRef(ResponseModel):
    id: int
    """The tag's id."""
    name: str
    """The tag's name."""
    color: str
    """The tag's colour as #rrggbb."""


class ContactOut(ResponseModel):
    id: int
    """The contact's id."""
    name: str
    """The contact's name (their WhatsApp name until someone sets one); may be empty."""
    number: str
    """The phone number in E.164 (+5511987654321), unique in the company; for a WhatsApp
    group, the group's JID (…@g.us)."""
    email: str | None
    """The contact's email address; null when unknown."""
    custom_fields: dict[str, Any]
    """The company's own data about the contact (text, number, true/false or null by key),
    usable in campaigns as {{custom.key}}."""
    opted_out: bool
    """True: the contact asked to receive no campaigns (or an agent said so); campaigns skip
    them."""
    opted_out_at: datetime | None
    """When the contact opted out (UTC); null while opted in."""
    opted_out_reason: str
    """Why they opted out (the keyword they sent, or "agent <name>" by default); empty while
    opted in."""
    language: str | None
    """The contact's language (pt-BR, en or es): the bot answers in it; set from the number's
    country code when WhatsApp creates the contact, or by an agent/admin; null = the
    company's language."""
    tags: list[TagRef]
    """The contact's tags."""
    tickets_count: int
    """How many tickets (conversations) the contact has had, open or closed."""
    created_at: datetime
    """When the contact was created (UTC)."""
    updated_at: datetime
    """When the contact last changed (UTC)."""


class ContactCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": "+55 11 98765-4321",
                    "name": "Maria Oliveira",
                    "email": "maria@example.com",
                    "custom_fields": {"plan": "gold", "customer_since": 2021},
                    "tag_ids": [1],
                    "language": "pt-BR",
                }
            ]
        }
    )

    number: Number
    """The phone number: international (+55 11 98765-4321), digits with the country code,
    or national in the server's default country; stored in E.164 and unique (409)."""
    name: str = Field(default="", max_length=200)
    """The contact's name; empty until known."""
    email: Email | None = None
    """The contact's email address, or null."""
    custom_fields: CustomFields = Field(default_factory=dict)
    """Up to 50 values (text up to 1000 characters, number, true/false or null) by key
    (1-60 characters, not a contact column such as name or number)."""
    tag_ids: TagIds = Field(default_factory=list)
    """Ids of the company's tags to give the contact."""
    opted_out: bool = False
    """True creates the contact opted out of campaigns."""
    opted_out_reason: OptOutReason | None = None
    """Why the contact is opted out; by default "agent <your name>". Ignored when opted in."""
    language: Language | None = None
    """The contact's language (pt-BR, en or es): the bot answers in it; set from the number's
    country code when WhatsApp creates the contact, or by an agent/admin; null = the
    company's language."""


class ContactUpdate(StrictModel):
    """Only the fields sent change; `email` and `language` may be set to null.

    `opted_out_reason` goes with opting out (by default "agent <name>"); opting back in
    clears it."""

    number: Number | None = None
    """A new phone number (any form ContactCreate accepts); left out keeps the current one."""
    name: str | None = Field(default=None, max_length=200)
    """A new name; left out keeps the current one."""
    email: Email | None = None
    """A new email address; null removes it; left out keeps the current one."""
    custom_fields: CustomFields | None = None
    """The custom fields, replacing all the current ones; left out keeps them."""
    tag_ids: TagIds | None = None
    """The contact's tags, replacing the current ones; left out keeps them."""
    opted_out: bool | None = None
    """True opts the contact out of campaigns, false back in; left out keeps it."""
    opted_out_reason: OptOutReason | None = None
    """Why the contact opts out (by default "agent <your name>"); only with opting out."""
    language: Language | None = None
    """The contact's language (pt-BR, en or es): the bot answers in it; set from the number's
    country code when WhatsApp creates the contact, or by an agent/admin; null = the
    company's language."""


class ContactTagsBody(StrictModel):
    tag_ids: TagIds
    """Ids of the company's tags: they replace the contact's tags (empty removes them all)."""


class ContactFilter(StrictModel):
    """The filters of the list, also those of the CSV export."""

    q: SearchText | None = None
    """Only the contacts whose name or email contains this (ignoring case), or whose number
    contains its digits."""
    tag_id: DbId | None = None
    """Only the contacts with this tag."""
    opted_out: bool | None = None
    """Only the contacts opted out (true) or opted in (false)."""


class ContactQuery(PageQuery, ContactFilter):
    pass


class ContactMergeBody(StrictModel):
    """POST /api/contacts/{id}/merge: the contact to fold into this one (then deleted)."""

    other_id: DbId
    """The contact folded into this one (then deleted): its tickets and tags move here, and
    it fills in this one's missing name, email, language and custom fields."""


class CsvBody(StrictModel):
    """POST /api/contacts/import as JSON; a text/csv body is the same file without this wrapper."""

    csv: str
    """The CSV file's text (a header line is optional; "," ";" or tab separated)."""


ImportTarget = Annotated[str, Field(max_length=80)]
ImportId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class PreviewForm(StrictModel):
    """The text fields of POST /api/contacts/import/preview (multipart, with `file`)."""

    has_header: bool | None = None
    """Whether the first line names the columns; null: guessed from the file."""


class ImportForm(StrictModel):
    """The text fields of POST /api/contacts/import as multipart/form-data (with `file`).

    `mapping` is a JSON list with one target per column: name, number, email, tags,
    opted_out, `custom:<key>` or ignore (by default the preview's suggestion); `tags` are
    names (separated by commas or semicolons) added to every row's contact; `import_id`
    names the `contacts.import.progress` events of this import."""

    mapping: Json[Annotated[list[ImportTarget], Field(max_length=200)]] | None = None
    """A JSON list with one target per column (name, number, email, tags, opted_out,
    custom:<key> or ignore); null: the preview's suggestion."""
    tags: str = Field(default="", max_length=2000)
    """Tag names (separated by commas or semicolons) added to every row's contact."""
    update_existing: bool = True
    """True: a row whose number is already a contact updates it; false: leaves it as it is
    (but for tags)."""
    has_header: bool | None = None
    """Whether the first line names the columns; null: guessed from the file."""
    import_id: ImportId | None = None
    """A name for this import (1-64 letters, digits, "_" or "-") that its
    contacts.import.progress events carry; null: one is made up."""


class ImportOptions(ResponseModel):
    tags: list[str] = Field(default_factory=list)
    """Tag names added to every row's contact."""
    update_existing: bool = True
    """Whether a row whose number is already a contact updates it."""


class ImportPreview(ResponseModel):
    encoding: str
    """The file's text encoding as detected (e.g. utf-8, cp1252)."""
    delimiter: str
    """The column separator as detected ("," or ";" or a tab)."""
    has_header: bool
    """Whether the first line is taken as the columns' names (detected unless given)."""
    columns: list[str]
    """The header's cells; empty without a header."""
    width: int
    """How many columns the file has: `mapping` needs one target for each."""
    rows: list[list[str]]
    """The first 10 data rows, cell by cell."""
    total: int
    """How many data rows the file has."""
    mapping: list[str]
    """The suggested target of each column: name, number, email, tags, opted_out,
    custom:<key> or ignore."""


class ImportReportRow(ResponseModel):
    """A row not written as it stands: `row` as a spreadsheet numbers it (the header is 1),
    `value` the cell at fault as the file has it."""

    row: int
    """The row's number as a spreadsheet shows it (the header is row 1)."""
    value: str
    """The cell at fault, as the file has it."""
    reason: str
    """What is wrong with it (e.g. not a valid phone number, a number repeated)."""
    outcome: Literal["failed", "merged"]
    """failed: the row was not imported; merged: it repeats an earlier row's number and was
    merged into that contact."""


class ImportResult(ResponseModel):
    """`rows` read; `created`/`updated` contacts (`unchanged`: existing ones left as they
    were but for tags, when not updating); rows `merged` into an earlier one; `failed`."""

    import_id: str
    """The import's id, as its contacts.import.progress events name it."""
    rows: int
    """The data rows read."""
    created: int
    """Contacts created."""
    updated: int
    """Existing contacts updated."""
    unchanged: int
    """Existing contacts left as they were (but for tags), when not updating existing ones."""
    merged: int
    """Rows merged into an earlier row with the same number."""
    failed: int
    """Rows not imported."""
    report: list[ImportReportRow]
    """Each row not written as it stands (failed or merged) and why."""


class ImportProgress(ResponseModel):
    """The data of `contacts.import.progress`: rows written so far of the file's total."""

    import_id: str
    """The import's id (the `import_id` given, or the one made up)."""
    done: int
    """Rows written so far."""
    total: int
    """The file's data rows."""
