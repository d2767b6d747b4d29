"""/api/contacts: the CRM.

Every role reads and writes contacts; admins and supervisors delete them and import or
export the CSV file.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, text
from sanic_ext import openapi

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.contacts import actions, importing
from service.contacts.schemas import (
    ContactCreate,
    ContactFilter,
    ContactMergeBody,
    ContactOut,
    ContactQuery,
    ContactTagsBody,
    ContactUpdate,
    CsvBody,
    ImportForm,
    ImportOptions,
    ImportPreview,
    ImportProgress,
    ImportResult,
    PreviewForm,
)
from service.contacts.service import (
    company_contacts,
    contact_out,
    contacts_csv,
    contacts_out,
    get_contact,
)
from service.errors import PayloadTooLarge
from service.events import CONTACTS_IMPORT_PROGRESS
from service.http import paginate, parse_body, parse_query, respond
from service.media import parse_upload
from service.openapi import documented
from service.users.models import Role

log = logging.getLogger("atende.contacts")
bp = Blueprint("contacts", url_prefix="/api/contacts")

_MANAGERS = (Role.admin, Role.supervisor)
MAX_IMPORT_BYTES = 5 * 1024 * 1024
_FILE_FIELD = {
    "type": "string",
    "format": "binary",
    "description": "The CSV file (at most 5 MB; UTF-8, UTF-16 or Latin-1; any delimiter)",
}
_HAS_HEADER = {
    "type": "boolean",
    "description": "Whether the first line names the columns (left out: guessed from it)",
}
_PREVIEW_BODY = {
    "multipart/form-data": {
        "type": "object",
        "required": ["file"],
        "properties": {"file": _FILE_FIELD, "has_header": _HAS_HEADER},
    }
}
_IMPORT_BODY = {
    "multipart/form-data": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": _FILE_FIELD,
            "mapping": {
                "type": "string",
                "description": "JSON list, one target per column: name, number, email, tags, "
                "opted_out, custom:<key> or ignore (left out: the preview's suggestion)",
            },
            "tags": {
                "type": "string",
                "description": "Tag names to add to every imported contact, comma-separated",
            },
            "update_existing": {
                "type": "boolean",
                "description": "true (default): an existing number takes the file's fields; "
                "false: only its tags are added",
            },
            "has_header": _HAS_HEADER,
            "import_id": {
                "type": "string",
                "description": "The client's id for this import: its progress events "
                "(contacts.import.progress) carry it",
            },
        },
    },
    "text/csv": {"type": "string", "description": "The file itself, its header naming the columns"},
    "application/json": {
        "type": "object",
        "properties": {
            "csv": {
                "type": "string",
                "description": "The file's text, its header naming the columns",
            }
        },
    },
}


def _content_type(request: Request) -> str:
    return str(request.headers.get("content-type", "")).split(";", 1)[0].strip().lower()


def _csv_text(request: Request) -> str:
    """The file of a plain import: a text/csv body, or JSON `{"csv": "..."}`."""
    body = request.body or b""
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The CSV file is larger than 5 MB")
    if _content_type(request) == "application/json":
        return parse_body(request, CsvBody).csv
    return importing.decode_csv(body)[0]


def _progress(request: Request, principal: Principal, import_id: str) -> importing.Progress:
    """Publish `contacts.import.progress` as batches are written. The hub lets admins and
    supervisors see every event of their company, so the audience cannot be the importer
    alone: it is the company's admins and supervisors, told apart by `import_id`."""
    broker = request.app.ctx.broker
    audience: dict[str, Any] = {
        "company_id": principal.company_id,
        "user_id": principal.user_id,
        "roles": [Role.admin.value, Role.supervisor.value],
    }

    async def publish(done: int, total: int) -> None:
        data = ImportProgress(import_id=import_id, done=done, total=total)
        try:
            await broker.publish(CONTACTS_IMPORT_PROGRESS.event(data, audience=audience))
        except Exception:  # a lost progress event must not fail the import
            log.warning("import progress not published", exc_info=True)

    return publish


@bp.get("/")
@documented(query=ContactQuery, page_of=ContactOut)
@requires()
async def list_contacts(request: Request, principal: Principal) -> HTTPResponse:
    """The company's contacts, searched (`?q=`) and filtered (`?tag_id=`, `?opted_out=`).

    `q` matches the name or the email ignoring case, or the digits of the number.
    """
    args = parse_query(request, ContactQuery)
    query = company_contacts(
        company_id=principal.company_id, q=args.q, tag_id=args.tag_id, opted_out=args.opted_out
    )
    return respond(await paginate(query, args, contacts_out))


@bp.post("/")
@documented(body=ContactCreate, response=ContactOut, status=201)
@requires()
async def create_contact(request: Request, principal: Principal) -> HTTPResponse:
    """A new contact; the number is stored in E.164 and is unique in the company (409)."""
    body = parse_body(request, ContactCreate)
    contact = await actions.create_contact(
        actor=principal,
        data=body,
        default_country=request.app.ctx.settings.default_country,
        now=request.app.ctx.clock(),
    )
    return respond(await contact_out(contact), status=201)


# Declared before "/<contact_id:int>" so that these paths are never read as an id.
@bp.get("/export.csv")
@documented(query=ContactFilter)
@requires(*_MANAGERS)
async def export_contacts(request: Request, principal: Principal) -> HTTPResponse:
    """The contacts the list's filters (`q`, `tag_id`, `opted_out`) select, as a CSV file.

    UTF-8 with a BOM. Columns: name, number, email, tags (separated by ';'), opted_out,
    then one per custom field key; cells a spreadsheet would run as formulas start with a
    quote.
    """
    args = parse_query(request, ContactFilter)
    body = await contacts_csv(
        company_id=principal.company_id, q=args.q, tag_id=args.tag_id, opted_out=args.opted_out
    )
    return text(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


@bp.post("/import/preview")
@openapi.body(_PREVIEW_BODY, required=True)
@documented(response=ImportPreview)
@requires(*_MANAGERS)
async def preview_import(request: Request, principal: Principal) -> HTTPResponse:
    """Read a CSV file (multipart `file`, at most 5 MB) without importing it: its encoding,
    delimiter, whether it has a header, the columns, the first rows, the row count and a
    suggested mapping (from header names in pt, en or es, else from the values)."""
    upload, form = parse_upload(request, PreviewForm, max_bytes=MAX_IMPORT_BYTES)
    result = importing.preview(
        upload.data,
        default_country=request.app.ctx.settings.default_country,
        has_header=form.has_header,
    )
    return respond(result)


@bp.post("/import")
@openapi.body(_IMPORT_BODY, required=True)
@documented(response=ImportResult)
@requires(*_MANAGERS)
async def import_contacts(request: Request, principal: Principal) -> HTTPResponse:
    """Create or update contacts, by number (E.164), from a CSV file of at most 5 MB.

    multipart/form-data: `file`, `mapping` (JSON list, one target per column: name, number,
    email, tags, opted_out, `custom:<key>`, ignore; by default the preview's suggestion),
    `tags` to add to every contact, `update_existing` (default true: an existing number
    takes the file's fields; false: only its tags are added), `has_header`, `import_id`.
    Rows with the same number become one contact. The importer's socket hears
    `contacts.import.progress` {import_id, done, total} as batches are written.

    A text/csv body, or JSON `{"csv": "..."}`, is a file whose header names the columns
    (number, name, email, tags, opted_out; any other a custom field).
    The answer: totals and a report of every row not written as it stands."""
    country = request.app.ctx.settings.default_country
    if _content_type(request) == "multipart/form-data":
        upload, form = parse_upload(request, ImportForm, max_bytes=MAX_IMPORT_BYTES)
        options = ImportOptions(
            tags=importing.option_tags(form.tags), update_existing=form.update_existing
        )
        text_, encoding = importing.decode_csv(upload.data)
        table = importing.read_table(
            text_, default_country=country, has_header=form.has_header, encoding=encoding
        )
        suggested = importing.suggest_mapping(table, country)
        mapping = importing.check_mapping(
            suggested if form.mapping is None else form.mapping, table.width
        )
        import_id = form.import_id
    else:
        table = importing.read_table(
            _csv_text(request), default_country=country, has_header=True, error_field="csv"
        )
        mapping = importing.header_mapping(table)
        table.width = len(mapping)
        options = ImportOptions()
        import_id = None
    import_id = import_id or uuid.uuid4().hex
    result = await importing.import_table(
        actor=principal,
        table=table,
        mapping=mapping,
        options=options,
        default_country=country,
        now=request.app.ctx.clock(),
        progress=_progress(request, principal, import_id),
        import_id=import_id,
    )
    return respond(result)


@bp.get("/<contact_id:int>")
@documented(response=ContactOut)
@requires()
async def get_one_contact(request: Request, principal: Principal, contact_id: int) -> HTTPResponse:
    """One contact, with its tags and how many tickets it has had."""
    contact = await get_contact(company_id=principal.company_id, contact_id=contact_id)
    return respond(await contact_out(contact))


@bp.patch("/<contact_id:int>")
@documented(body=ContactUpdate, response=ContactOut)
@requires()
async def update_contact(request: Request, principal: Principal, contact_id: int) -> HTTPResponse:
    """Change the fields sent; `tag_ids` replaces the contact's tags. Every user of the
    company hears `contact.updated` (the contact as this returns it) on the websocket."""
    contact = await get_contact(company_id=principal.company_id, contact_id=contact_id)
    body = parse_body(request, ContactUpdate)
    contact = await actions.update_contact(
        actor=principal,
        contact=contact,
        data=body,
        default_country=request.app.ctx.settings.default_country,
        now=request.app.ctx.clock(),
        broker=request.app.ctx.broker,
    )
    return respond(await contact_out(contact))


@bp.post("/<contact_id:int>/tags")
@documented(body=ContactTagsBody, response=ContactOut)
@requires()
async def set_contact_tags(request: Request, principal: Principal, contact_id: int) -> HTTPResponse:
    """Replace the contact's tags; the company hears `contact.updated` as for PATCH."""
    contact = await get_contact(company_id=principal.company_id, contact_id=contact_id)
    body = parse_body(request, ContactTagsBody)
    contact = await actions.set_contact_tags(
        actor=principal, contact=contact, tag_ids=body.tag_ids, broker=request.app.ctx.broker
    )
    return respond(await contact_out(contact))


@bp.delete("/<contact_id:int>")
@documented(status=204)
@requires(*_MANAGERS)
async def delete_contact(request: Request, principal: Principal, contact_id: int) -> HTTPResponse:
    """Delete a contact, with its tickets and their messages."""
    contact = await get_contact(company_id=principal.company_id, contact_id=contact_id)
    await actions.delete_contact(actor=principal, contact=contact)
    return empty()


@bp.post("/<contact_id:int>/merge")
@documented(body=ContactMergeBody, response=ContactOut)
@requires(*_MANAGERS)
async def merge_contacts(request: Request, principal: Principal, contact_id: int) -> HTTPResponse:
    """Fold the contact `other_id` into this one, which is kept: the other's tickets (and so
    messages), tags, list memberships, campaign recipients and the fields this one lacks move
    here (custom fields: this one wins), then the other is deleted. 409 when both have an
    active ticket on the same connection; 404 for another company's contact."""
    contact = await get_contact(company_id=principal.company_id, contact_id=contact_id)
    body = parse_body(request, ContactMergeBody)
    contact = await actions.merge_contacts(
        actor=principal, contact=contact, other_id=body.other_id, broker=request.app.ctx.broker
    )
    return respond(await contact_out(contact))
