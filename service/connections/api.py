"""/api/connections: everyone of the company reads them, admins change them.

Starting and stopping sessions (and the QR login) are not here yet.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.connections import actions
from service.connections.schemas import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionQuery,
    ConnectionUpdate,
)
from service.connections.service import (
    company_connections,
    connection_out,
    connections_out,
    get_connection,
)
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.users.models import Role

bp = Blueprint("connections", url_prefix="/api/connections")


@bp.get("/")
@documented(query=ConnectionQuery, page_of=ConnectionOut)
@requires()
async def list_connections(request: Request, principal: Principal) -> HTTPResponse:
    """The company's connections, oldest first; `q` filters by name."""
    args = parse_query(request, ConnectionQuery)
    query = company_connections(company_id=principal.company_id, q=args.q)
    return respond(await paginate(query, args, connections_out))


@bp.post("/")
@documented(body=ConnectionCreate, response=ConnectionOut, status=201)
@requires(Role.admin)
async def create_connection(request: Request, principal: Principal) -> HTTPResponse:
    """A new connection; the company's first one becomes its default."""
    body = parse_body(request, ConnectionCreate)
    connection = await actions.create_connection(actor=principal, data=body)
    return respond(await connection_out(connection), status=201)


@bp.get("/<connection_id:int>")
@documented(response=ConnectionOut)
@requires()
async def read_connection(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """One connection of the company."""
    connection = await get_connection(company_id=principal.company_id, connection_id=connection_id)
    return respond(await connection_out(connection))


@bp.patch("/<connection_id:int>")
@documented(body=ConnectionUpdate, response=ConnectionOut)
@requires(Role.admin)
async def update_connection(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Change the fields the body sets; the channel is fixed at creation."""
    await get_connection(company_id=principal.company_id, connection_id=connection_id)
    body = parse_body(request, ConnectionUpdate)
    connection = await actions.update_connection(
        actor=principal, connection_id=connection_id, data=body
    )
    return respond(await connection_out(connection))


@bp.delete("/<connection_id:int>")
@documented(status=204)
@requires(Role.admin)
async def delete_connection(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Delete a connection; the oldest remaining one becomes default if this one was."""
    await get_connection(company_id=principal.company_id, connection_id=connection_id)
    await actions.delete_connection(actor=principal, connection_id=connection_id)
    return empty()
