"""/api/reports: the dashboard's figures of a day, and the reports over a period (admins
and supervisors), each also as a CSV file (`?format=csv` or `Accept: text/csv`)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text

from flows.spec import BusinessHours
from service.auth.guard import requires
from service.auth.tokens import Principal
from service.companies.service import get_company_settings
from service.errors import InvalidFields
from service.http import parse_query, respond
from service.openapi import documented
from service.queues.models import Queue
from service.reports.export import report_csv, report_filename
from service.reports.figures import (
    Scope,
    agents_report,
    backlog_report,
    csat_report,
    queues_report,
    summary_report,
    volume_report,
)
from service.reports.period import resolve_period
from service.reports.queries import dashboard
from service.reports.schemas import (
    MAX_HOURLY_DAYS,
    AgentsOut,
    BacklogOut,
    BacklogQuery,
    CsatOut,
    DashboardOut,
    DashboardQuery,
    PeriodReport,
    QueuesOut,
    ReportQuery,
    SummaryOut,
    VolumeOut,
)
from service.tenancy import owned_ids, scoped
from service.users.models import Role

__all__ = ["bp"]

bp = Blueprint("reports", url_prefix="/api/reports")
_READERS = (Role.admin, Role.supervisor)


@bp.get("/dashboard")
@documented(query=DashboardQuery, response=DashboardOut)
@requires(*_READERS)
async def get_dashboard(request: Request, principal: Principal) -> HTTPResponse:
    """Today's figures (or `?date=`'s) in the company's time zone (or `?tz=`'s): tickets by
    status and queue, waiting now, created, closed, first response time and CSAT."""
    args = parse_query(request, DashboardQuery)
    tz = args.tz or (await get_company_settings(company_id=principal.company_id)).timezone
    zone = ZoneInfo(tz)
    now = request.app.ctx.clock()
    day = args.date or now.astimezone(zone).date()
    return respond(await dashboard(company_id=principal.company_id, day=day, zone=zone, now=now))


def _hours(value: Any) -> BusinessHours | None:
    """Stored hours as a schedule; a value no longer valid counts as none."""
    if not value:
        return None
    try:
        return BusinessHours.model_validate(value)
    except ValidationError:
        return None


async def _scope(request: Request, principal: Principal, args: ReportQuery) -> Scope:
    """The company, period (422 when impossible) and queue (422 when not the company's)."""
    company_id = principal.company_id
    settings = await get_company_settings(company_id=company_id)
    zone = ZoneInfo(args.tz or settings.timezone)
    now = request.app.ctx.clock()
    period = resolve_period(first=args.from_, last=args.to, zone=zone, now=now)
    if args.queue_id is not None:
        await owned_ids(Queue, company_id, [args.queue_id], field="queue_id")
    queue_hours = {
        queue_id: hours
        for queue_id, stored in await scoped(Queue, company_id).values_list("id", "business_hours")
        if (hours := _hours(stored)) is not None
    }
    return Scope(
        company_id=company_id,
        period=period,
        queue_id=args.queue_id,
        now=now,
        company_hours=settings.business_hours,
        queue_hours=queue_hours,
    )


def _answer(request: Request, args: ReportQuery, name: str, report: PeriodReport) -> HTTPResponse:
    """JSON, or the CSV file when asked for by `format` or the Accept header."""
    accept = request.headers.get("accept", "")
    if args.format == "csv" or (args.format is None and "text/csv" in accept):
        return text(
            report_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{report_filename(name, report)}"'
            },
        )
    return respond(report)


# Every report below covers the days `from`..`to` (inclusive; by default the 30 days up to
# today; at most 366) of the company's time zone or `tz`; `queue_id` keeps that queue's
# tickets. The definitions: docs/metrics.md.


@bp.get("/summary")
@documented(query=ReportQuery, response=SummaryOut)
@requires(*_READERS)
async def get_summary(request: Request, principal: Principal) -> HTTPResponse:
    """The period's headline figures: tickets created, handoff rate, bot containment,
    closed, first response time (also in business hours), waiting time and waiting now,
    resolution time from creation and from handoff, CSAT (from, to, tz, queue_id; CSV with
    `?format=csv` or `Accept: text/csv`)."""
    args = parse_query(request, ReportQuery)
    return _answer(
        request, args, "summary", await summary_report(await _scope(request, principal, args))
    )


@bp.get("/agents")
@documented(query=ReportQuery, response=AgentsOut)
@requires(*_READERS)
async def get_agents(request: Request, principal: Principal) -> HTTPResponse:
    """Per agent: tickets closed as assignee, first responses (count and times), messages
    sent and the CSAT of their closed tickets, in the period (CSV with `?format=csv`)."""
    args = parse_query(request, ReportQuery)
    return _answer(
        request, args, "agents", await agents_report(await _scope(request, principal, args))
    )


@bp.get("/queues")
@documented(query=ReportQuery, response=QueuesOut)
@requires(*_READERS)
async def get_queues(request: Request, principal: Principal) -> HTTPResponse:
    """Per queue (and "no queue"): tickets created, handed off and closed in the period,
    waiting time, first response time, resolution from handoff and CSAT, by the ticket's
    queue now; from each ticket's history, the tickets that entered the queue and the time
    their stays in it lasted, so a transferred ticket counts in every queue it passed
    through (CSV with `?format=csv`)."""
    args = parse_query(request, ReportQuery)
    return _answer(
        request, args, "queues", await queues_report(await _scope(request, principal, args))
    )


@bp.get("/volume")
@documented(query=ReportQuery, response=VolumeOut)
@requires(*_READERS)
async def get_volume(request: Request, principal: Principal) -> HTTPResponse:
    """The customers' messages and the tickets created in the period, by local weekday
    (Monday = 0) and hour: 168 cells (CSV with `?format=csv`)."""
    args = parse_query(request, ReportQuery)
    return _answer(
        request, args, "volume", await volume_report(await _scope(request, principal, args))
    )


@bp.get("/backlog")
@documented(query=BacklogQuery, response=BacklogOut)
@requires(*_READERS)
async def get_backlog(request: Request, principal: Principal) -> HTTPResponse:
    """The tickets handed off and not yet closed at the end of each day (`freq=day`) or hour
    (`freq=hour`, periods of at most 31 days) of the period, up to now, and now while the
    period runs (CSV with `?format=csv`)."""
    args = parse_query(request, BacklogQuery)
    scope = await _scope(request, principal, args)
    if args.freq == "hour" and scope.period.days > MAX_HOURLY_DAYS:
        raise InvalidFields({"freq": f"hourly only for periods of at most {MAX_HOURLY_DAYS} days"})
    return _answer(request, args, "backlog", await backlog_report(scope, args.freq))


@bp.get("/csat")
@documented(query=ReportQuery, response=CsatOut)
@requires(*_READERS)
async def get_csat(request: Request, principal: Principal) -> HTTPResponse:
    """The ratings of the tickets closed in the period: count, average, satisfied share (4
    or 5) and the count of each score (CSV with `?format=csv`)."""
    args = parse_query(request, ReportQuery)
    return _answer(request, args, "csat", await csat_report(await _scope(request, principal, args)))
