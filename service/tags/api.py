"""/api/tags: labels on contacts and tickets; everyone reads, admins and supervisors write."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.tags import actions
from service.tags.schemas import TagCreate, TagOut, TagQuery, TagUpdate
from service.tags.service import company_tags, get_tag, tag_out, tags_out
from service.users.models import Role

bp = Blueprint("tags", url_prefix="/api/tags")

_WRITERS = (Role.admin, Role.supervisor)


@bp.get("/")
@documented(query=TagQuery, page_of=TagOut)
@requires()
async def list_tags(request: Request, principal: Principal) -> HTTPResponse:
    """The company's tags with how many contacts carry each, `?q=` searching the name."""
    args = parse_query(request, TagQuery)
    query = company_tags(company_id=principal.company_id, q=args.q)
    return respond(await paginate(query, args, tags_out))


@bp.post("/")
@documented(body=TagCreate, response=TagOut, status=201)
@requires(*_WRITERS)
async def create_tag(request: Request, principal: Principal) -> HTTPResponse:
    """A new tag; its name is unique in the company ignoring case (409)."""
    body = parse_body(request, TagCreate)
    tag = await actions.create_tag(actor=principal, data=body)
    return respond(await tag_out(tag), status=201)


@bp.get("/<tag_id:int>")
@documented(response=TagOut)
@requires()
async def get_one_tag(request: Request, principal: Principal, tag_id: int) -> HTTPResponse:
    """One tag."""
    return respond(await tag_out(await get_tag(company_id=principal.company_id, tag_id=tag_id)))


@bp.patch("/<tag_id:int>")
@documented(body=TagUpdate, response=TagOut)
@requires(*_WRITERS)
async def update_tag(request: Request, principal: Principal, tag_id: int) -> HTTPResponse:
    """Rename or recolour a tag."""
    tag = await get_tag(company_id=principal.company_id, tag_id=tag_id)
    body = parse_body(request, TagUpdate)
    tag = await actions.update_tag(actor=principal, tag=tag, data=body)
    return respond(await tag_out(tag))


@bp.delete("/<tag_id:int>")
@documented(status=204)
@requires(*_WRITERS)
async def delete_tag(request: Request, principal: Principal, tag_id: int) -> HTTPResponse:
    """Delete a tag; contacts and tickets lose it."""
    tag = await get_tag(company_id=principal.company_id, tag_id=tag_id)
    await actions.delete_tag(actor=principal, tag=tag)
    return empty()
