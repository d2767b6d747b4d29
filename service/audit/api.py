"""GET /api/audit-log: the company's admin changes, newest first (admins only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from service.audit.models import AuditLog
from service.audit.schemas import AuditEntryOut, AuditQuery
from service.auth.guard import requires
from service.auth.tokens import Principal
from service.http import paginate, parse_query, respond
from service.openapi import documented
from service.tenancy import scoped
from service.users.models import Role

bp = Blueprint("audit", url_prefix="/api/audit-log")


async def _entries_out(rows: Sequence[AuditLog]) -> list[Any]:
    return [AuditEntryOut.model_validate(r, from_attributes=True) for r in rows]


@bp.get("/")
@documented(query=AuditQuery, page_of=AuditEntryOut)
@requires(Role.admin)
async def list_audit_log(request: Request, principal: Principal) -> HTTPResponse:
    """Admin changes of the company, newest first."""
    args = parse_query(request, AuditQuery)
    query = scoped(AuditLog, principal.company_id)
    if args.object_type:
        query = query.filter(object_type=args.object_type)
    if args.object_id:
        query = query.filter(object_id=args.object_id)
    return respond(await paginate(query, args, _entries_out, newest_first=True))
