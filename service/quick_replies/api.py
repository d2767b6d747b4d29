"""/api/quick-replies: canned answers; everyone reads, admins and supervisors write."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.quick_replies import actions
from service.quick_replies.schemas import (
    QuickReplyCreate,
    QuickReplyOut,
    QuickReplyQuery,
    QuickReplyUpdate,
)
from service.quick_replies.service import (
    company_quick_replies,
    get_quick_reply,
    quick_replies_out,
    quick_reply_out,
)
from service.users.models import Role

bp = Blueprint("quick_replies", url_prefix="/api/quick-replies")

_WRITERS = (Role.admin, Role.supervisor)


@bp.get("/")
@documented(query=QuickReplyQuery, page_of=QuickReplyOut)
@requires()
async def list_quick_replies(request: Request, principal: Principal) -> HTTPResponse:
    """The company's quick replies, `?q=` matching the shortcut's start or the text."""
    args = parse_query(request, QuickReplyQuery)
    query = company_quick_replies(company_id=principal.company_id, q=args.q)
    return respond(await paginate(query, args, quick_replies_out))


@bp.post("/")
@documented(body=QuickReplyCreate, response=QuickReplyOut, status=201)
@requires(*_WRITERS)
async def create_quick_reply(request: Request, principal: Principal) -> HTTPResponse:
    """A new quick reply; the shortcut is lower-cased and unique in the company (409)."""
    body = parse_body(request, QuickReplyCreate)
    reply = await actions.create_quick_reply(actor=principal, data=body)
    return respond(await quick_reply_out(reply), status=201)


@bp.get("/<quick_reply_id:int>")
@documented(response=QuickReplyOut)
@requires()
async def get_one_quick_reply(
    request: Request, principal: Principal, quick_reply_id: int
) -> HTTPResponse:
    """One quick reply."""
    reply = await get_quick_reply(company_id=principal.company_id, quick_reply_id=quick_reply_id)
    return respond(await quick_reply_out(reply))


@bp.patch("/<quick_reply_id:int>")
@documented(body=QuickReplyUpdate, response=QuickReplyOut)
@requires(*_WRITERS)
async def update_quick_reply(
    request: Request, principal: Principal, quick_reply_id: int
) -> HTTPResponse:
    """Change a quick reply's shortcut or text."""
    reply = await get_quick_reply(company_id=principal.company_id, quick_reply_id=quick_reply_id)
    body = parse_body(request, QuickReplyUpdate)
    reply = await actions.update_quick_reply(actor=principal, quick_reply=reply, data=body)
    return respond(await quick_reply_out(reply))


@bp.delete("/<quick_reply_id:int>")
@documented(status=204)
@requires(*_WRITERS)
async def delete_quick_reply(
    request: Request, principal: Principal, quick_reply_id: int
) -> HTTPResponse:
    """Delete a quick reply."""
    reply = await get_quick_reply(company_id=principal.company_id, quick_reply_id=quick_reply_id)
    await actions.delete_quick_reply(actor=principal, quick_reply=reply)
    return empty()
