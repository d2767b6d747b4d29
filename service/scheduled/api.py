"""/api/scheduled-messages: a text (and a file) for a contact, sent at a chosen time."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.scheduled import actions
from service.scheduled.schemas import (
    ScheduledCreate,
    ScheduledOut,
    ScheduledQuery,
    ScheduledUpdate,
)
from service.scheduled.service import (
    company_scheduled,
    get_scheduled,
    scheduled_out,
    scheduled_outs,
)

bp = Blueprint("scheduled_messages", url_prefix="/api/scheduled-messages")


@bp.get("/")
@documented(query=ScheduledQuery, page_of=ScheduledOut)
@requires()
async def list_scheduled(request: Request, principal: Principal) -> HTTPResponse:
    """The company's scheduled messages, newest first; `?contact_id=` and `?status=`."""
    args = parse_query(request, ScheduledQuery)
    query = company_scheduled(
        company_id=principal.company_id, contact_id=args.contact_id, status=args.status
    )
    return respond(await paginate(query, args, scheduled_outs, newest_first=True))


@bp.post("/")
@documented(body=ScheduledCreate, response=ScheduledOut, status=201)
@requires()
async def create_scheduled(request: Request, principal: Principal) -> HTTPResponse:
    """Schedule a message (`send_at` with its UTC offset, in the future, else 422); an
    optional `media` file is base64 in the body (413 past the media size limit)."""
    body = parse_body(request, ScheduledCreate)
    settings = request.app.ctx.settings
    row = await actions.create_scheduled(
        actor=principal,
        data=body,
        broker=request.app.ctx.broker,
        media_dir=settings.effective_media_dir,
        max_media_bytes=settings.media_max_bytes,
        now=request.app.ctx.clock(),
    )
    return respond(await scheduled_out(row), status=201)


@bp.get("/<scheduled_id:int>")
@documented(response=ScheduledOut)
@requires()
async def get_one(request: Request, principal: Principal, scheduled_id: int) -> HTTPResponse:
    """One scheduled message."""
    row = await get_scheduled(company_id=principal.company_id, scheduled_id=scheduled_id)
    return respond(await scheduled_out(row))


@bp.patch("/<scheduled_id:int>")
@documented(
    body=ScheduledUpdate,
    response=ScheduledOut,
    errors={403: "Only its author, a supervisor or an admin may change a scheduled message"},
)
@requires()
async def update_scheduled(
    request: Request, principal: Principal, scheduled_id: int
) -> HTTPResponse:
    """Change a pending message (its author, a supervisor or an admin; 409 once sent)."""
    await get_scheduled(company_id=principal.company_id, scheduled_id=scheduled_id)
    body = parse_body(request, ScheduledUpdate)
    row = await actions.update_scheduled(
        actor=principal,
        scheduled_id=scheduled_id,
        data=body,
        broker=request.app.ctx.broker,
        now=request.app.ctx.clock(),
    )
    return respond(await scheduled_out(row))


@bp.delete("/<scheduled_id:int>")
@documented(
    response=ScheduledOut,
    errors={403: "Only its author, a supervisor or an admin may change a scheduled message"},
)
@requires()
async def cancel_scheduled(
    request: Request, principal: Principal, scheduled_id: int
) -> HTTPResponse:
    """Cancel a pending message; it stays listed as `cancelled` (409 once sent)."""
    row = await actions.cancel_scheduled(
        actor=principal,
        scheduled_id=scheduled_id,
        broker=request.app.ctx.broker,
        media_dir=request.app.ctx.settings.effective_media_dir,
    )
    return respond(await scheduled_out(row))
