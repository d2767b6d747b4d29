"""/api/contacts: the CRM.

Every role reads and writes contacts; admins and supervisors delete them and import or
export the CSV file.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, text

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.contacts import actions
from service.contacts.schemas import (
    ContactCreate,
    ContactOut,
    ContactQuery,
    ContactTagsBody,
    ContactUpdate,
    CsvBody,
    ImportResult,
)
from service.contacts.service import (
    company_contacts,
    contact_out,
    contacts_csv,
    contacts_out,
    get_contact,
)
from service.errors import InvalidFields, PayloadTooLarge
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.users.models import Role

bp = Blueprint("contacts", url_prefix="/api/contacts")

_MANAGERS = (Role.admin, Role.supervisor)
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _csv_text(request: Request) -> str:
    """The uploaded file: a text/csv body, or JSON `{"csv": "..."}`."""
    body = request.body or b""
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The CSV file is larger than 5 MB")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json":
        return parse_body(request, CsvBody).csv
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFields({"csv": "is not a CSV file (not UTF-8 text)"}) from exc


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
@documented()
@requires(*_MANAGERS)
async def export_contacts(request: Request, principal: Principal) -> HTTPResponse:
    """Every contact of the company as a CSV file.

    Columns: name, number, email, tags (separated by ';'), opted_out, then one per custom
    field key; cells a spreadsheet would run as formulas start with a quote.
    """
    body = await contacts_csv(company_id=principal.company_id)
    return text(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


@bp.post("/import")
@documented(body=CsvBody, response=ImportResult)
@requires(*_MANAGERS)
async def import_contacts(request: Request, principal: Principal) -> HTTPResponse:
    """Create or update contacts, by number, from a CSV file of at most 5 MB.

    The body is the file (text/csv) or JSON `{"csv": "..."}`. The header row needs a number
    column; name, email, tags, opted_out are the contact's, any other column a custom field.
    Bad rows are reported by line and never fail the others.
    """
    csv_text = _csv_text(request)
    result = await actions.import_contacts(
        actor=principal,
        text=csv_text,
        default_country=request.app.ctx.settings.default_country,
        now=request.app.ctx.clock(),
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
