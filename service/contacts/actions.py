"""Every write of contacts: create, update, tags, delete and the CSV import; each one audited.

A change to one contact (update, tags) is told to the whole company as `contact.updated`
after it commits, so that open inboxes show the new name, fields and tags at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.contacts.models import Contact
from service.contacts.phones import INVALID_NUMBER, normalize_number
from service.contacts.schemas import (
    CONTACT_COLUMNS,
    MAX_CUSTOM_FIELDS,
    MAX_FIELD_KEY,
    MAX_FIELD_TEXT,
    ContactCreate,
    ContactUpdate,
    ImportErrorOut,
    ImportResult,
)
from service.contacts.service import contact_out
from service.errors import Conflict, InvalidFields
from service.http import unstorable_text
from service.realtime.broker import Broker
from service.realtime.events import EventBatch
from service.tags.actions import create_tag_named
from service.tags.models import Tag
from service.tags.schemas import check_tag_name
from service.tags.service import tags_by_name
from service.tenancy import get_owned, owned_ids, scoped
from service.users.schemas import Email

__all__ = [
    "CONTACT_UPDATED",
    "CsvContact",
    "contact_updated",
    "create_contact",
    "delete_contact",
    "import_contacts",
    "read_contacts_csv",
    "set_contact_tags",
    "update_contact",
]

OBJECT_TYPE = "contact"
CONTACT_UPDATED = "contact.updated"
_BATCH = 500
_MAX_TAGS_PER_ROW = 100
_email_adapter: TypeAdapter[str] = TypeAdapter(Email)
# The export puts a quote before cells a spreadsheet would run as formulas; take it off again.
_ESCAPED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")
_TRUE = frozenset({"true", "1", "yes", "y", "sim", "s", "si", "x"})
_FALSE = frozenset({"false", "0", "no", "n", "não", "nao"})


def _conflict() -> Conflict:
    return Conflict(
        "A contact with this number already exists", fields={"number": "is already taken"}
    )


def _normalized(raw: str, default_country: str) -> str:
    try:
        return normalize_number(raw, default_country)
    except ValueError as exc:
        raise InvalidFields({"number": INVALID_NUMBER}) from exc


async def _check_number_free(*, company_id: int, number: str, exclude_id: int | None) -> None:
    query = scoped(Contact, company_id).filter(number=number)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    if await query.exists():
        raise _conflict()


def _audit_view(contact: Contact, tag_ids: Iterable[int]) -> dict[str, Any]:
    return snapshot(contact, tag_ids=sorted(tag_ids))


async def _tag_ids(contact: Contact) -> set[int]:
    return {tag.id for tag in await contact.tags.all()}


def _set_opted_out(contact: Contact, opted_out: bool, now: datetime) -> None:
    # The moment of opting out is kept while the contact stays out; opting back in clears it.
    if opted_out and not contact.opted_out:
        contact.opted_out_at = now
    elif not opted_out:
        contact.opted_out_at = None
    contact.opted_out = opted_out


async def _replace_tags(contact: Contact, current: set[int], wanted: list[Tag]) -> None:
    wanted_ids = {tag.id for tag in wanted}
    removed = await Tag.filter(id__in=current - wanted_ids)
    if removed:
        await contact.tags.remove(*removed)
    added = [tag for tag in wanted if tag.id not in current]
    if added:
        await contact.tags.add(*added)


async def contact_updated(contact: Contact, batch: EventBatch) -> None:
    """Add `contact.updated` (the contact as the API shows it) for every user of its company.

    Contacts are not tied to a queue: whoever may open one of its tickets may read it through
    the API, so the whole company is the audience."""
    data = (await contact_out(contact)).model_dump(mode="json")
    batch.add(CONTACT_UPDATED, data, audience={"company_id": contact.company_id})  # type: ignore[attr-defined]


async def create_contact(
    *, actor: Principal, data: ContactCreate, default_country: str, now: datetime
) -> Contact:
    """A new contact; its number is normalized to E.164 (422) and unique in the company (409)."""
    number = _normalized(data.number, default_country)
    try:
        async with in_transaction():
            tags = await owned_ids(Tag, actor.company_id, data.tag_ids, field="tag_ids")
            await _check_number_free(company_id=actor.company_id, number=number, exclude_id=None)
            contact = await Contact.create(
                company_id=actor.company_id,
                number=number,
                name=data.name,
                email=data.email,
                custom_fields=data.custom_fields,
                opted_out=data.opted_out,
                opted_out_at=now if data.opted_out else None,
                language=data.language,
            )
            if tags:
                await contact.tags.add(*tags)
            await record_change(
                actor=actor,
                action="create",
                object_type=OBJECT_TYPE,
                object_id=contact.id,
                after=_audit_view(contact, (t.id for t in tags)),
            )
    except IntegrityError as exc:
        raise _conflict() from exc
    return contact


async def update_contact(
    *,
    actor: Principal,
    contact: Contact,
    data: ContactUpdate,
    default_country: str,
    now: datetime,
    broker: Broker | None = None,
) -> Contact:
    """Change the fields sent; `tag_ids` replaces the contact's tags. With a broker, the
    company hears `contact.updated` once the change is committed."""
    number = _normalized(data.number, default_country) if data.number is not None else None
    sent = data.model_fields_set
    batch = EventBatch()
    try:
        async with in_transaction():
            contact = await get_owned(Contact, actor.company_id, contact.id, lock=True)
            current_tags = await _tag_ids(contact)
            before = _audit_view(contact, current_tags)
            wanted_tags = None
            if data.tag_ids is not None:
                wanted_tags = await owned_ids(Tag, actor.company_id, data.tag_ids, field="tag_ids")
            if number is not None and number != contact.number:
                await _check_number_free(
                    company_id=actor.company_id, number=number, exclude_id=contact.id
                )
                contact.number = number
            if data.name is not None:
                contact.name = data.name
            if "email" in sent:
                contact.email = data.email
            if data.custom_fields is not None:
                contact.custom_fields = data.custom_fields
            if "language" in sent:
                contact.language = data.language
            if data.opted_out is not None:
                _set_opted_out(contact, data.opted_out, now)
            await contact.save()
            tag_ids: Iterable[int] = current_tags
            if wanted_tags is not None:
                await _replace_tags(contact, current_tags, wanted_tags)
                tag_ids = (t.id for t in wanted_tags)
            await record_change(
                actor=actor,
                action="update",
                object_type=OBJECT_TYPE,
                object_id=contact.id,
                before=before,
                after=_audit_view(contact, tag_ids),
            )
            if broker is not None:
                await contact_updated(contact, batch)
    except IntegrityError as exc:
        raise _conflict() from exc
    if broker is not None:
        await batch.publish(broker)
    return contact


async def set_contact_tags(
    *, actor: Principal, contact: Contact, tag_ids: list[int], broker: Broker | None = None
) -> Contact:
    """Replace the contact's tags with these (ids of the company's tags, else 422); with a
    broker, the company hears `contact.updated` after commit."""
    batch = EventBatch()
    async with in_transaction():
        contact = await get_owned(Contact, actor.company_id, contact.id, lock=True)
        wanted = await owned_ids(Tag, actor.company_id, tag_ids, field="tag_ids")
        current = await _tag_ids(contact)
        await _replace_tags(contact, current, wanted)
        await record_change(
            actor=actor,
            action="update",
            object_type=OBJECT_TYPE,
            object_id=contact.id,
            before=_audit_view(contact, current),
            after=_audit_view(contact, (t.id for t in wanted)),
        )
        if broker is not None:
            await contact_updated(contact, batch)
    if broker is not None:
        await batch.publish(broker)
    return contact


async def delete_contact(*, actor: Principal, contact: Contact) -> None:
    """Delete a contact (with its tickets and messages)."""
    async with in_transaction():
        contact = await get_owned(Contact, actor.company_id, contact.id, lock=True)
        before = _audit_view(contact, await _tag_ids(contact))
        await contact.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type=OBJECT_TYPE,
            object_id=before["id"],
            before=before,
        )


# --- CSV import -------------------------------------------------------------------------


@dataclass
class CsvContact:
    """One valid row of an imported file; empty cells are None (the field stays as it is)."""

    line: int
    number: str
    name: str | None = None
    email: str | None = None
    tags: list[str] = field(default_factory=list)
    opted_out: bool | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)


class _RowError(ValueError):
    pass


def _unescape(cell: str) -> str:
    return cell[1:] if _ESCAPED_FORMULA.match(cell) else cell


def _delimiter(text: str) -> str:
    # Spreadsheets set to Portuguese or Spanish save "CSV" with semicolons.
    first_line = text.split("\n", 1)[0]
    if "," not in first_line:
        if ";" in first_line:
            return ";"
        if "\t" in first_line:
            return "\t"
    return ","


def _columns(header: list[str]) -> list[str | None]:
    """Each column's field: a contact column, `custom:<key>`, or None to ignore."""
    columns: list[str | None] = []
    seen: set[str] = set()
    for raw in header:
        name = _unescape(raw.strip()).strip()
        if not name:
            columns.append(None)
            continue
        if name.lower() in CONTACT_COLUMNS:
            column = name.lower()
        elif len(name) > MAX_FIELD_KEY:
            raise InvalidFields(
                {"csv": f"column {name[:20]!r}... is longer than {MAX_FIELD_KEY} characters"}
            )
        else:
            column = f"custom:{name}"
        if column in seen:
            raise InvalidFields({"csv": f"column {name!r} appears twice in the header"})
        seen.add(column)
        columns.append(column)
    if "number" not in seen:
        raise InvalidFields({"csv": "the header row needs a number column"})
    return columns


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _RowError(f"opted_out: {value[:20]!r} is not true or false")


def _row(line: int, columns: list[str | None], cells: list[str], country: str) -> CsvContact:
    if len(cells) > len(columns):
        raise _RowError("has more cells than the header row")
    values: dict[str, str] = {}
    for column, cell in zip(columns, cells, strict=False):
        if column is not None:
            values[column] = _unescape(cell.strip()).strip()
    raw_number = values.get("number", "")
    if not raw_number:
        raise _RowError("number: is missing")
    try:
        number = normalize_number(raw_number, country)
    except ValueError as exc:
        raise _RowError(f"number: {INVALID_NUMBER}") from exc
    row = CsvContact(line=line, number=number)
    if name := values.get("name"):
        if len(name) > 200:
            raise _RowError("name: must be at most 200 characters")
        row.name = name
    if email := values.get("email"):
        try:
            row.email = _email_adapter.validate_python(email)
        except ValidationError as exc:
            raise _RowError("email: is not an email address") from exc
    if tags := values.get("tags"):
        names = list(dict.fromkeys(t.strip() for t in tags.split(";") if t.strip()))
        if len(names) > _MAX_TAGS_PER_ROW:
            raise _RowError(f"tags: at most {_MAX_TAGS_PER_ROW} tags")
        try:
            row.tags = [check_tag_name(n) for n in names]
        except ValueError as exc:
            raise _RowError(f"tags: a tag name {exc}") from exc
    if opted_out := values.get("opted_out"):
        row.opted_out = _boolean(opted_out)
    for column, value in values.items():
        if column.startswith("custom:") and value:
            if len(value) > MAX_FIELD_TEXT:
                raise _RowError(f"{column[7:]}: must be at most {MAX_FIELD_TEXT} characters")
            row.custom_fields[column[7:]] = value
    return row


def read_contacts_csv(
    text: str, *, default_country: str
) -> tuple[list[CsvContact], list[ImportErrorOut]]:
    """The valid rows of a contacts CSV and the errors of the others (by line number).

    A file that cannot be a contacts CSV at all (empty, binary, no number column) is a 422.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidFields({"csv": "is empty"})
    if unstorable_text(text):
        raise InvalidFields({"csv": "is not a CSV file (it holds NUL or invalid characters)"})
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InvalidFields({"csv": f"is not a CSV file ({exc})"}) from exc
    columns = _columns(header)
    rows: list[CsvContact] = []
    errors: list[ImportErrorOut] = []
    for line, cells in _records(reader, errors):
        if not any(cell.strip() for cell in cells):
            continue
        try:
            rows.append(_row(line, columns, cells, default_country))
        except _RowError as exc:
            errors.append(ImportErrorOut(line=line, message=str(exc)))
    return rows, errors


def _records(reader: Any, errors: list[ImportErrorOut]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each record; records the parser rejects become errors."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(ImportErrorOut(line=line, message=f"is not valid CSV ({exc})"))
            if reader.line_num < line:  # the parser did not move on: nothing more to read
                return
            continue
        yield line, cells


async def _existing_contacts(company_id: int, numbers: list[str]) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for start in range(0, len(numbers), _BATCH):
        batch = await scoped(Contact, company_id).filter(number__in=numbers[start : start + _BATCH])
        await Contact.fetch_for_list(batch, "tags")
        found.update({c.number: c for c in batch})
    return found


async def import_contacts(
    *, actor: Principal, text: str, default_country: str, now: datetime
) -> ImportResult:
    """Create or update (by normalized number) the contacts of a CSV file.

    Bad rows are reported by line and skipped; the others are written in one transaction.
    Empty cells leave a field as it is; listed tags are added (and created when missing).
    """
    rows, errors = read_contacts_csv(text, default_country=default_country)
    created = updated = 0
    try:
        async with in_transaction():
            existing = await _existing_contacts(
                actor.company_id, list(dict.fromkeys(r.number for r in rows))
            )
            tag_ids = {c.id: {t.id for t in c.tags} for c in existing.values()}
            tags = await tags_by_name(company_id=actor.company_id)
            for row in rows:
                contact = existing.get(row.number)
                fields = {**(contact.custom_fields if contact else {}), **row.custom_fields}
                if len(fields) > MAX_CUSTOM_FIELDS:
                    message = f"custom fields: at most {MAX_CUSTOM_FIELDS} per contact"
                    errors.append(ImportErrorOut(line=row.line, message=message))
                    continue
                named = [await _tag_named(actor, tags, name) for name in row.tags]
                row_tags = list({tag.id: tag for tag in named}.values())  # "VIP;vip" is one
                if contact is None:
                    contact = await _create_from_row(actor, row, row_tags, now)
                    existing[row.number] = contact
                    tag_ids[contact.id] = {t.id for t in row_tags}
                    created += 1
                else:
                    await _update_from_row(actor, contact, row, fields, row_tags, tag_ids, now)
                    updated += 1
    except IntegrityError as exc:
        raise Conflict("Another change to these contacts happened at the same time; retry") from exc
    return ImportResult(
        created=created, updated=updated, errors=sorted(errors, key=lambda e: e.line)
    )


async def _tag_named(actor: Principal, tags: dict[str, Tag], name: str) -> Tag:
    tag = tags.get(name.casefold())
    if tag is None:
        tag = await create_tag_named(actor=actor, name=name)
        tags[name.casefold()] = tag
    return tag


async def _create_from_row(
    actor: Principal, row: CsvContact, row_tags: list[Tag], now: datetime
) -> Contact:
    contact = await Contact.create(
        company_id=actor.company_id,
        number=row.number,
        name=row.name or "",
        email=row.email,
        custom_fields=row.custom_fields,
        opted_out=bool(row.opted_out),
        opted_out_at=now if row.opted_out else None,
    )
    if row_tags:
        await contact.tags.add(*row_tags)
    await record_change(
        actor=actor,
        action="create",
        object_type=OBJECT_TYPE,
        object_id=contact.id,
        after=_audit_view(contact, (t.id for t in row_tags)),
    )
    return contact


async def _update_from_row(
    actor: Principal,
    contact: Contact,
    row: CsvContact,
    fields: dict[str, Any],
    row_tags: list[Tag],
    tag_ids: dict[int, set[int]],
    now: datetime,
) -> None:
    current = tag_ids[contact.id]
    before = _audit_view(contact, current)
    if row.name is not None:
        contact.name = row.name
    if row.email is not None:
        contact.email = row.email
    if row.opted_out is not None:
        _set_opted_out(contact, row.opted_out, now)
    contact.custom_fields = fields
    added = [t for t in row_tags if t.id not in current]
    if not added and _audit_view(contact, current) == before:
        return  # the row says what the contact already is
    await contact.save()
    if added:
        await contact.tags.add(*added)
        current.update(t.id for t in added)
    await record_change(
        actor=actor,
        action="update",
        object_type=OBJECT_TYPE,
        object_id=contact.id,
        before=before,
        after=_audit_view(contact, current),
    )
