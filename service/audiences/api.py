"""/api/contact-lists and /api/segments: who a campaign reaches; admins and supervisors."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.audiences import actions
from service.audiences.schemas import (
    ContactIdsBody,
    ContactListCreate,
    ContactListOut,
    ContactListUpdate,
    FromSegmentBody,
    ListMemberOut,
    MembersChanged,
    MembersQuery,
    SegmentCreate,
    SegmentFilters,
    SegmentOut,
    SegmentPreview,
    SegmentUpdate,
)
from service.audiences.service import (
    company_lists,
    company_segments,
    get_list,
    get_segment,
    list_members,
    list_out,
    lists_out,
    members_out,
    preview_filters,
    segment_filters,
    segment_out,
    segments_out,
)
from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.users.models import Role

lists_bp = Blueprint("contact_lists", url_prefix="/api/contact-lists")
segments_bp = Blueprint("segments", url_prefix="/api/segments")

_MARKETERS = (Role.admin, Role.supervisor)


# Contact lists


@lists_bp.get("/")
@documented(query=MembersQuery, page_of=ContactListOut)
@requires(*_MARKETERS)
async def list_lists(request: Request, principal: Principal) -> HTTPResponse:
    """The company's contact lists with their member counts, `?q=` searching the name."""
    args = parse_query(request, MembersQuery)
    query = company_lists(company_id=principal.company_id, q=args.q)
    return respond(await paginate(query, args, lists_out))


@lists_bp.post("/")
@documented(body=ContactListCreate, response=ContactListOut, status=201)
@requires(*_MARKETERS)
async def create_list(request: Request, principal: Principal) -> HTTPResponse:
    """A new, empty list; its name is unique in the company ignoring case (409)."""
    body = parse_body(request, ContactListCreate)
    row = await actions.create_list(actor=principal, data=body)
    return respond(await list_out(row), status=201)


@lists_bp.get("/<list_id:int>")
@documented(response=ContactListOut)
@requires(*_MARKETERS)
async def get_one_list(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """One list."""
    return respond(await list_out(await get_list(company_id=principal.company_id, list_id=list_id)))


@lists_bp.patch("/<list_id:int>")
@documented(body=ContactListUpdate, response=ContactListOut)
@requires(*_MARKETERS)
async def rename_list(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """Rename a list."""
    await get_list(company_id=principal.company_id, list_id=list_id)
    body = parse_body(request, ContactListUpdate)
    row = await actions.rename_list(actor=principal, list_id=list_id, data=body)
    return respond(await list_out(row))


@lists_bp.delete("/<list_id:int>")
@documented(status=204)
@requires(*_MARKETERS)
async def delete_list(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """Delete a list (its contacts stay)."""
    await actions.delete_list(actor=principal, list_id=list_id)
    return empty()


@lists_bp.get("/<list_id:int>/members")
@documented(query=MembersQuery, page_of=ListMemberOut)
@requires(*_MARKETERS)
async def get_members(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """The list's members with their contact, in the order they were added."""
    row = await get_list(company_id=principal.company_id, list_id=list_id)
    args = parse_query(request, MembersQuery)
    return respond(await paginate(list_members(list_id=row.id, q=args.q), args, members_out))


@lists_bp.post("/<list_id:int>/members")
@documented(body=ContactIdsBody, response=MembersChanged)
@requires(*_MARKETERS)
async def add_members(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """Add contacts; `changed` counts the new members (those already in stay)."""
    await get_list(company_id=principal.company_id, list_id=list_id)
    body = parse_body(request, ContactIdsBody)
    result = await actions.add_members(
        company_id=principal.company_id,
        list_id=list_id,
        contact_ids=body.contact_ids,
        now=request.app.ctx.clock(),
    )
    return respond(result)


@lists_bp.delete("/<list_id:int>/members")
@documented(body=ContactIdsBody, response=MembersChanged)
@requires(*_MARKETERS)
async def remove_members(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """Take contacts out of the list; `changed` counts those removed."""
    await get_list(company_id=principal.company_id, list_id=list_id)
    body = parse_body(request, ContactIdsBody)
    result = await actions.remove_members(
        company_id=principal.company_id, list_id=list_id, contact_ids=body.contact_ids
    )
    return respond(result)


@lists_bp.post("/<list_id:int>/members/from-segment")
@documented(body=FromSegmentBody, response=MembersChanged)
@requires(*_MARKETERS)
async def add_from_segment(request: Request, principal: Principal, list_id: int) -> HTTPResponse:
    """Add everyone a saved segment (`segment_id`) or unsaved `filters` match now;
    opted-out contacts never."""
    await get_list(company_id=principal.company_id, list_id=list_id)
    body = parse_body(request, FromSegmentBody)
    if body.segment_id is not None:
        segment = await get_segment(company_id=principal.company_id, segment_id=body.segment_id)
        filters = segment_filters(segment)
    else:
        assert body.filters is not None  # the schema demands one of the two
        filters = body.filters
        await actions.check_filters(filters, company_id=principal.company_id)
    result = await actions.add_from_filters(
        company_id=principal.company_id,
        list_id=list_id,
        filters=filters,
        now=request.app.ctx.clock(),
    )
    return respond(result)


# Segments


@segments_bp.get("/")
@documented(query=MembersQuery, page_of=SegmentOut)
@requires(*_MARKETERS)
async def list_segments(request: Request, principal: Principal) -> HTTPResponse:
    """The company's segments, `?q=` searching the name."""
    args = parse_query(request, MembersQuery)
    query = company_segments(company_id=principal.company_id, q=args.q)
    return respond(await paginate(query, args, segments_out))


@segments_bp.post("/")
@documented(body=SegmentCreate, response=SegmentOut, status=201)
@requires(*_MARKETERS)
async def create_segment(request: Request, principal: Principal) -> HTTPResponse:
    """A saved filter; its tags and queues must be the company's (422)."""
    body = parse_body(request, SegmentCreate)
    row = await actions.create_segment(actor=principal, data=body)
    return respond(await segment_out(row), status=201)


@segments_bp.post("/preview")
@documented(body=SegmentFilters, response=SegmentPreview, without=(409,))
@requires(*_MARKETERS)
async def preview_unsaved(request: Request, principal: Principal) -> HTTPResponse:
    """How many contacts unsaved filters match now, and the first ten (for the editor)."""
    filters = parse_body(request, SegmentFilters)
    await actions.check_filters(filters, company_id=principal.company_id)
    preview = await preview_filters(
        filters, company_id=principal.company_id, now=request.app.ctx.clock()
    )
    return respond(preview)


@segments_bp.get("/<segment_id:int>")
@documented(response=SegmentOut)
@requires(*_MARKETERS)
async def get_one_segment(request: Request, principal: Principal, segment_id: int) -> HTTPResponse:
    """One segment."""
    row = await get_segment(company_id=principal.company_id, segment_id=segment_id)
    return respond(await segment_out(row))


@segments_bp.patch("/<segment_id:int>")
@documented(body=SegmentUpdate, response=SegmentOut)
@requires(*_MARKETERS)
async def update_segment(request: Request, principal: Principal, segment_id: int) -> HTTPResponse:
    """Rename a segment or replace its filters."""
    await get_segment(company_id=principal.company_id, segment_id=segment_id)
    body = parse_body(request, SegmentUpdate)
    row = await actions.update_segment(actor=principal, segment_id=segment_id, data=body)
    return respond(await segment_out(row))


@segments_bp.delete("/<segment_id:int>")
@documented(status=204)
@requires(*_MARKETERS)
async def delete_segment(request: Request, principal: Principal, segment_id: int) -> HTTPResponse:
    """Delete a segment (lists made from it stay)."""
    await actions.delete_segment(actor=principal, segment_id=segment_id)
    return empty()


@segments_bp.get("/<segment_id:int>/preview")
@documented(response=SegmentPreview)
@requires(*_MARKETERS)
async def preview_saved(request: Request, principal: Principal, segment_id: int) -> HTTPResponse:
    """How many contacts the segment matches now, and the first ten."""
    row = await get_segment(company_id=principal.company_id, segment_id=segment_id)
    preview = await preview_filters(
        segment_filters(row), company_id=principal.company_id, now=request.app.ctx.clock()
    )
    return respond(preview)
