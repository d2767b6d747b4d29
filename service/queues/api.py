"""/api/queues: everyone of the company reads them, admins change them."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import parse_body, parse_query, respond
from service.openapi import documented
from service.queues import actions
from service.queues.schemas import QueueCreate, QueueOut, QueueQuery, QueueUpdate
from service.queues.service import get_queue, queue_out, queues_page
from service.users.models import Role

bp = Blueprint("queues", url_prefix="/api/queues")


@bp.get("/")
@documented(query=QueueQuery, page_of=QueueOut)
@requires()
async def list_queues(request: Request, principal: Principal) -> HTTPResponse:
    """The company's queues in menu order (position, then id); `q` filters by name."""
    args = parse_query(request, QueueQuery)
    return respond(await queues_page(company_id=principal.company_id, args=args))


@bp.post("/")
@documented(
    body=QueueCreate,
    response=QueueOut,
    status=201,
    errors={403: "The caller is not an admin, or the company's plan allows no more queues"},
)
@requires(Role.admin)
async def create_queue(request: Request, principal: Principal) -> HTTPResponse:
    """A new queue with its greeting, menu options, business hours and keywords."""
    body = parse_body(request, QueueCreate)
    queue = await actions.create_queue(actor=principal, data=body)
    return respond(await queue_out(queue), status=201)


@bp.get("/<queue_id:int>")
@documented(response=QueueOut)
@requires()
async def read_queue(request: Request, principal: Principal, queue_id: int) -> HTTPResponse:
    """One queue of the company."""
    queue = await get_queue(company_id=principal.company_id, queue_id=queue_id)
    return respond(await queue_out(queue))


@bp.patch("/<queue_id:int>")
@documented(body=QueueUpdate, response=QueueOut)
@requires(Role.admin)
async def update_queue(request: Request, principal: Principal, queue_id: int) -> HTTPResponse:
    """Change the fields the body sets; `business_hours: null` means always open."""
    await get_queue(company_id=principal.company_id, queue_id=queue_id)
    body = parse_body(request, QueueUpdate)
    queue = await actions.update_queue(actor=principal, queue_id=queue_id, data=body)
    return respond(await queue_out(queue))


@bp.delete("/<queue_id:int>")
@documented(status=204)
@requires(Role.admin)
async def delete_queue(request: Request, principal: Principal, queue_id: int) -> HTTPResponse:
    """Delete a queue; 409 while other queues' menus forward to it."""
    await get_queue(company_id=principal.company_id, queue_id=queue_id)
    await actions.delete_queue(actor=principal, queue_id=queue_id)
    return empty()
