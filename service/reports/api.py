"""/api/reports: the admin dashboard's figures (admins and supervisors)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from service.auth.guard import requires
from service.auth.tokens import Principal
from service.companies.service import get_company_settings
from service.http import parse_query, respond
from service.openapi import documented
from service.reports.queries import dashboard
from service.reports.schemas import DashboardOut, DashboardQuery
from service.users.models import Role

__all__ = ["bp"]

bp = Blueprint("reports", url_prefix="/api/reports")


@bp.get("/dashboard")
@documented(query=DashboardQuery, response=DashboardOut)
@requires(Role.admin, Role.supervisor)
async def get_dashboard(request: Request, principal: Principal) -> HTTPResponse:
    """Today's figures (or `?date=`'s) in the company's time zone (or `?tz=`'s): tickets by
    status and queue, waiting now, created, closed, first response time and CSAT."""
    args = parse_query(request, DashboardQuery)
    tz = args.tz or (await get_company_settings(company_id=principal.company_id)).timezone
    zone = ZoneInfo(tz)
    now = request.app.ctx.clock()
    day = args.date or now.astimezone(zone).date()
    return respond(await dashboard(company_id=principal.company_id, day=day, zone=zone, now=now))
