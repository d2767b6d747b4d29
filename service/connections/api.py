"""/api/connections: everyone of the company reads them, admins change them, start and stop
them, and log WhatsApp numbers in (QR code or pairing code) and out.

Whichever worker handles the request, the worker that runs the connection acts (see
service.channels); these routes answer once the change is stored, not once it is done: the
connection's status follows in `connection.updated` events and GET /qr."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.channels import ChannelHub
from service.connections import actions
from service.connections.models import Connection
from service.connections.schemas import (
    ConnectionCreate,
    ConnectionLoginOut,
    ConnectionOut,
    ConnectionQuery,
    ConnectionStart,
    ConnectionUpdate,
)
from service.connections.service import (
    company_connections,
    connection_login,
    connection_out,
    connection_updated,
    connections_out,
    get_connection,
)
from service.contacts.phones import normalize_number
from service.errors import InvalidFields
from service.http import paginate, parse_body, parse_query, respond
from service.openapi import documented
from service.users.models import Role

bp = Blueprint("connections", url_prefix="/api/connections")


def _hub(request: Request) -> ChannelHub:
    hub: ChannelHub = request.app.ctx.channels
    return hub


async def _announce(request: Request, connection: Connection) -> None:
    for event in connection_updated(connection):
        await _hub(request).broker.publish(event)


@bp.get("/")
@documented(query=ConnectionQuery, page_of=ConnectionOut)
@requires()
async def list_connections(request: Request, principal: Principal) -> HTTPResponse:
    """The company's connections, oldest first; `q` filters by name."""
    args = parse_query(request, ConnectionQuery)
    query = company_connections(company_id=principal.company_id, q=args.q)
    return respond(await paginate(query, args, connections_out))


@bp.post("/")
@documented(
    body=ConnectionCreate,
    response=ConnectionOut,
    status=201,
    errors={403: "The caller is not an admin, or the company's plan allows no more connections"},
)
@requires(Role.admin)
async def create_connection(request: Request, principal: Principal) -> HTTPResponse:
    """A new connection, running at once (a WhatsApp number starts its login: GET /qr); the
    company's first one becomes its default."""
    body = parse_body(request, ConnectionCreate)
    connection = await actions.create_connection(actor=principal, data=body)
    if connection.is_active:
        await _hub(request).restart(connection)
        await connection.refresh_from_db()
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
    if body.is_active is not None:
        _hub(request).wake()  # start or stop it now rather than at the next lease round
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
    _hub(request).wake()
    return empty()


@bp.post("/<connection_id:int>/start")
@documented(body=ConnectionStart, response=ConnectionOut, status=202)
@requires(Role.admin)
async def start_connection(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Activate and (re)start a connection. A WhatsApp number without a session logs in: by
    the QR codes of GET /qr, or by the pairing code that `pairing_phone` asks for."""
    await get_connection(company_id=principal.company_id, connection_id=connection_id)
    body = parse_body(request, ConnectionStart)
    pairing_phone = None
    if body.pairing_phone is not None:
        try:
            pairing_phone = normalize_number(
                body.pairing_phone, request.app.ctx.settings.default_country
            )
        except ValueError as exc:
            raise InvalidFields({"pairing_phone": str(exc)}) from exc
    connection = await actions.start_connection(
        actor=principal, connection_id=connection_id, pairing_phone=pairing_phone
    )
    await _announce(request, connection)
    await _hub(request).restart(connection)
    await connection.refresh_from_db()
    return respond(await connection_out(connection), status=202)


@bp.get("/<connection_id:int>/qr")
@documented(response=ConnectionLoginOut)
@requires(Role.admin)
async def connection_qr(request: Request, principal: Principal, connection_id: int) -> HTTPResponse:
    """The QR code to scan (also as a PNG data URL) or the pairing code to type on the phone,
    while the connection waits for a login (status `qrcode`); null otherwise."""
    connection = await get_connection(company_id=principal.company_id, connection_id=connection_id)
    return respond(connection_login(connection))


@bp.post("/<connection_id:int>/stop")
@documented(response=ConnectionOut)
@requires(Role.admin)
async def stop_connection(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Stop a connection (is_active false); a WhatsApp session is kept for the next start."""
    await get_connection(company_id=principal.company_id, connection_id=connection_id)
    connection = await actions.stop_connection(actor=principal, connection_id=connection_id)
    await _hub(request).stop_connection(connection)
    await _announce(request, connection)
    return respond(await connection_out(connection))


@bp.post("/<connection_id:int>/logout")
@documented(response=ConnectionOut)
@requires(Role.admin)
async def logout_connection(
    request: Request, principal: Principal, connection_id: int
) -> HTTPResponse:
    """Unlink the WhatsApp number and stop; the next start needs a new QR or pairing code."""
    await get_connection(company_id=principal.company_id, connection_id=connection_id)
    connection = await actions.log_out_connection(actor=principal, connection_id=connection_id)
    await _hub(request).logout(connection)
    await _announce(request, connection)
    return respond(await connection_out(connection))
