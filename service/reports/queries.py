"""The dashboard's figures for one company and one day, computed in SQL.

The definitions (the analytics notebooks reuse them):

- The day is [00:00, 24:00) of a date in a time zone (the company's by default), so a
  ticket created at 23:30 UTC counts on the next day in UTC+1.
- Created / closed that day: tickets whose `created_at` / `closed_at` falls in the day
  (reopening clears `closed_at`, so a reopened ticket is no longer "closed").
- By status: the active tickets right now (bot, pending, open), whatever the day, plus the
  tickets closed that day; by queue: the same per queue (a null queue is "no queue").
- Waiting now: the tickets in status pending right now, their count and the oldest
  `handed_off_at` (their `created_at` when a ticket has none).
- First response time: from the ticket's `handed_off_at` (its handoff to a queue) until the
  first outbound message at or after it that is neither the bot's nor a note; averaged over
  the tickets whose first response happened that day.
- CSAT: the average and count of the ratings of the tickets closed that day.

Only SQL both backends speak is used; the one difference, how to subtract two timestamps,
is chosen per dialect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from service.queues.models import Queue
from service.reports.schemas import (
    CsatFigures,
    DashboardOut,
    FirstResponseFigures,
    QueueFigures,
    StatusFigures,
    WaitingFigures,
)
from service.sql import Sql, timestamp
from service.tenancy import scoped

__all__ = ["dashboard", "day_bounds"]

_ACTIVE = ("bot", "pending", "open")


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The day's start and end (exclusive) in UTC; a DST day may be 23 or 25 hours long."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass
class _Counts:
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_ACTIVE, 0))
    closed: int = 0

    def figures(self) -> dict[str, int]:
        return {**self.by_status, "closed": self.closed}


async def dashboard(
    *, company_id: int, day: dt.date, zone: ZoneInfo, now: dt.datetime
) -> DashboardOut:
    """The company's figures for `day` in `zone`; "now" figures as of `now`."""
    sql = Sql()
    start, end = day_bounds(day, zone)
    per_queue: dict[int | None, _Counts] = {}

    active = await sql.rows(
        "SELECT queue_id, status, COUNT(*) FROM tickets"
        " WHERE company_id = :company AND status IN ('bot', 'pending', 'open')"
        " GROUP BY queue_id, status",
        company=company_id,
    )
    for queue_id, status, count in active:
        per_queue.setdefault(queue_id, _Counts()).by_status[str(status)] = int(count)

    closed_rows = await sql.rows(
        "SELECT queue_id, COUNT(*), COUNT(rating), SUM(rating) FROM tickets"
        " WHERE company_id = :company AND status = 'closed'"
        " AND closed_at >= :start AND closed_at < :end GROUP BY queue_id",
        company=company_id,
        start=start,
        end=end,
    )
    rated = rating_sum = 0
    for queue_id, count, rated_count, rated_sum in closed_rows:
        per_queue.setdefault(queue_id, _Counts()).closed = int(count)
        rated += int(rated_count)
        rating_sum += int(rated_sum or 0)

    [(created,)] = await sql.rows(
        "SELECT COUNT(*) FROM tickets"
        " WHERE company_id = :company AND created_at >= :start AND created_at < :end",
        company=company_id,
        start=start,
        end=end,
    )

    [(waiting, oldest_raw)] = await sql.rows(
        "SELECT COUNT(*), MIN(COALESCE(handed_off_at, created_at)) FROM tickets"
        " WHERE company_id = :company AND status = 'pending'",
        company=company_id,
    )
    oldest = timestamp(oldest_raw)

    # The tickets with an agent's message that day, and for each its first agent message
    # since the handoff: only those whose first one falls in the day count.
    agent_message = "m.direction = 'out' AND NOT m.from_bot AND NOT m.is_note"
    first = (
        "SELECT MIN(m.created_at) FROM messages m"
        f" WHERE m.ticket_id = t.id AND {agent_message} AND m.created_at >= t.handed_off_at"
    )
    [(responded, average_raw)] = await sql.rows(
        f"SELECT COUNT(*), AVG({sql.seconds_between('x.handed_off_at', 'x.first_at')})"
        f" FROM (SELECT t.handed_off_at, ({first}) AS first_at FROM tickets t"
        "  WHERE t.company_id = :company AND t.handed_off_at IS NOT NULL AND t.id IN ("
        "   SELECT m.ticket_id FROM messages m WHERE m.company_id = :company"
        f"   AND m.created_at >= :start AND m.created_at < :end AND {agent_message})) x"
        " WHERE x.first_at >= :start AND x.first_at < :end",
        company=company_id,
        start=start,
        end=end,
    )

    names = dict(
        await scoped(Queue, company_id)
        .filter(id__in=[q for q in per_queue if q is not None])
        .values_list("id", "name")
    )
    queues = sorted(per_queue.items(), key=lambda item: (item[0] is None, item[0] or 0))
    totals = _Counts()
    for _, counts in queues:
        for status in _ACTIVE:
            totals.by_status[status] += counts.by_status[status]
        totals.closed += counts.closed
    return DashboardOut(
        date=day,
        timezone=zone.key,
        generated_at=now,
        by_status=StatusFigures(**totals.figures()),
        by_queue=[
            QueueFigures(
                queue_id=queue_id,
                queue_name=None if queue_id is None else str(names.get(queue_id, "")),
                **counts.figures(),
            )
            for queue_id, counts in queues
        ],
        waiting=WaitingFigures(
            count=int(waiting),
            oldest_handed_off_at=oldest,
            oldest_wait_seconds=None
            if oldest is None
            else max(0, int((now - oldest).total_seconds())),
        ),
        created=int(created),
        closed=totals.closed,
        first_response=FirstResponseFigures(
            count=int(responded),
            average_seconds=None if not responded else round(float(average_raw), 1),
        ),
        csat=CsatFigures(count=rated, average=round(rating_sum / rated, 2) if rated else None),
    )
