"""The reports over a period, computed in the database with the definitions of
docs/metrics.md (the analytics notebooks compute the same figures in pandas).

Counts, sums and averages are SQL on both backends, and so are the medians and 90th
percentiles on Postgres (`percentile_cont`). SQLite has no percentile and cannot subtract
its text timestamps to the microsecond, so there the durations' two timestamps are fetched
(one row per ticket) and the statistics taken in Python the same way (service/reports/
stats.py). Local days and hours are Postgres' `AT TIME ZONE`; on SQLite, counts by UTC
quarter-hour placed in local time in Python (every time zone's offset is a whole number of
quarter-hours). The first response time in business hours is Python on both: SQL has no
notion of a weekly schedule with holidays.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from flows.spec import BusinessHours
from service.queues.models import Queue
from service.reports.hours import business_seconds
from service.reports.period import Period
from service.reports.schemas import (
    AgentFigures,
    AgentsOut,
    BacklogOut,
    BacklogPoint,
    CsatOut,
    CsatStats,
    DurationStats,
    QueueReportFigures,
    QueuesOut,
    ScoreCount,
    SummaryOut,
    VolumeCell,
    VolumeOut,
    WaitingNow,
)
from service.reports.stats import duration_stats
from service.reports.stays import entered_sql, stays_ended_sql
from service.sql import Sql, timestamp
from service.tenancy import scoped
from service.users.models import User

__all__ = [
    "Scope",
    "agents_report",
    "backlog_report",
    "csat_report",
    "queues_report",
    "summary_report",
    "volume_report",
]

_NO_DURATIONS = DurationStats(count=0, mean=None, median=None, p90=None)
_SCORES = (1, 2, 3, 4, 5)
_QUARTER = dt.timedelta(minutes=15)


def _agent_message(alias: str) -> str:
    """An outbound message written by a person: not the bot's, not an internal note."""
    return f"{alias}.direction = 'out' AND NOT {alias}.from_bot AND NOT {alias}.is_note"


def _in_period(column: str) -> str:
    return f"{column} >= :start AND {column} < :end"


@dataclass(frozen=True)
class Scope:
    """What a report covers: one company's tickets (of one queue, if given) in a period."""

    company_id: int
    period: Period
    queue_id: int | None
    now: dt.datetime
    # The schedules for the first response time in business hours.
    company_hours: BusinessHours | None = None
    queue_hours: dict[int, BusinessHours] | None = None

    def tickets(self, alias: str = "t") -> str:
        """The WHERE condition of the scope's tickets."""
        condition = f"{alias}.company_id = :company"
        if self.queue_id is not None:
            condition += f" AND {alias}.queue_id = :queue"
        return condition

    def params(self, **more: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "company": self.company_id,
            "start": self.period.start,
            "end": self.period.end,
            **more,
        }
        if self.queue_id is not None:
            params["queue"] = self.queue_id
        return params

    def hours_of(self, queue_id: int | None) -> BusinessHours | None:
        """The queue's hours, else the company's; None: every second counts."""
        if queue_id is not None and self.queue_hours and queue_id in self.queue_hours:
            return self.queue_hours[queue_id]
        return self.company_hours

    def header(self) -> dict[str, Any]:
        return {"period": self.period.out(), "queue_id": self.queue_id, "generated_at": self.now}


# The durations of docs/metrics.md, each a SELECT with the columns `a` (the earlier
# moment), `b` (the later one) and what they are grouped by.


def _first_responses(scope: Scope) -> str:
    """Per ticket answered in the period: its queue, the author and (handoff, first response).

    The tickets looked at are those with a person's message in the period: a first
    response in the period is one of them."""
    return (
        "SELECT f.ticket_id, f.queue_id, f.author, f.a, f.b FROM ("
        " SELECT t.id AS ticket_id, t.queue_id, m.sender_user_id AS author,"
        "  t.handed_off_at AS a, m.created_at AS b,"
        "  ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY m.created_at, m.id) AS n"
        " FROM tickets t JOIN messages m ON m.ticket_id = t.id"
        f" WHERE {scope.tickets('t')} AND t.handed_off_at IS NOT NULL"
        f"  AND m.company_id = :company AND {_agent_message('m')}"
        "  AND m.created_at >= t.handed_off_at"
        "  AND t.id IN (SELECT r.ticket_id FROM messages r WHERE r.company_id = :company"
        f"   AND {_in_period('r.created_at')} AND {_agent_message('r')})"
        f") f WHERE f.n = 1 AND {_in_period('f.b')}"
    )


def _waits(scope: Scope) -> str:
    """Per ticket accepted in the period: (handoff, acceptance)."""
    return (
        "SELECT t.queue_id, t.handed_off_at AS a, t.accepted_at AS b FROM tickets t"
        f" WHERE {scope.tickets('t')} AND {_in_period('t.accepted_at')}"
        " AND t.handed_off_at IS NOT NULL"
    )


def _resolutions(scope: Scope, since: Literal["creation", "handoff"]) -> str:
    """Per ticket closed in the period: (creation or handoff, close)."""
    if since == "creation":
        return (
            "SELECT t.queue_id, t.created_at AS a, t.closed_at AS b FROM tickets t"
            f" WHERE {scope.tickets('t')} AND {_in_period('t.closed_at')}"
        )
    return (
        "SELECT t.queue_id, t.handed_off_at AS a, t.closed_at AS b FROM tickets t"
        f" WHERE {scope.tickets('t')} AND {_in_period('t.closed_at')}"
        " AND t.handed_off_at IS NOT NULL"
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


Groups = dict[Any, DurationStats]


async def _durations(
    sql: Sql, source: str, params: dict[str, Any], groupings: Sequence[str | None]
) -> list[Groups]:
    """For each grouping (a column of `source`, or None for all rows): the statistics of
    `b - a` in seconds per value of that column."""
    if sql.postgres:
        results: list[Groups] = []
        seconds = "CAST(EXTRACT(EPOCH FROM (s.b - s.a)) AS double precision)"
        for key in groupings:
            rows = await sql.rows(
                f"SELECT {f's.{key}' if key else 'NULL'}, COUNT(*), AVG({seconds}),"
                f" percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}),"
                f" percentile_cont(0.9) WITHIN GROUP (ORDER BY {seconds})"
                f" FROM ({source}) s{f' GROUP BY s.{key}' if key else ''}",
                **params,
            )
            results.append(
                {
                    row[0]: DurationStats(
                        count=int(row[1]),
                        mean=_float(row[2]),
                        median=_float(row[3]),
                        p90=_float(row[4]),
                    )
                    for row in rows
                    if row[1]
                }
            )
        return results
    keys = [key for key in groupings if key]
    columns = "".join(f", s.{key}" for key in keys)
    fetched = await sql.rows(f"SELECT s.a, s.b{columns} FROM ({source}) s", **params)
    values: list[defaultdict[Any, list[float]]] = [defaultdict(list) for _ in groupings]
    for row in fetched:
        duration = _seconds(row[0], row[1])
        by_key = dict(zip(keys, row[2:], strict=True))
        for index, key in enumerate(groupings):
            values[index][by_key[key] if key else None].append(duration)
    return [{key: duration_stats(found) for key, found in group.items()} for group in values]


def _seconds(earlier: Any, later: Any) -> float:
    a, b = timestamp(earlier), timestamp(later)
    if a is None or b is None:
        raise ValueError("a duration needs both moments")
    return (b - a).total_seconds()


async def _business_frt(sql: Sql, scope: Scope) -> tuple[DurationStats, Groups]:
    """The first response times counted in business hours: in all, and per queue."""
    rows = await sql.rows(
        f"SELECT s.queue_id, s.a, s.b FROM ({_first_responses(scope)}) s", **scope.params()
    )
    per_queue: defaultdict[int | None, list[float]] = defaultdict(list)
    every: list[float] = []
    for queue_id, handed_off, answered in rows:
        a, b = timestamp(handed_off), timestamp(answered)
        if a is None or b is None:
            raise ValueError("a first response needs both moments")
        business = business_seconds(scope.hours_of(queue_id), a, b)
        per_queue[queue_id].append(business)
        every.append(business)
    return duration_stats(every), {k: duration_stats(v) for k, v in per_queue.items()}


@dataclass
class _Closed:
    """The tickets closed in the period: count and ratings, per (queue, assignee)."""

    rows: list[tuple[int | None, int | None, int | None, int]]

    def closed(self, *, queue: Any = ..., user: Any = ...) -> int:
        return sum(n for q, u, _, n in self.rows if _match(q, queue) and _match(u, user))

    def csat(self, *, queue: Any = ..., user: Any = ...) -> CsatStats:
        scores: Counter[int] = Counter()
        for q, u, rating, n in self.rows:
            if rating is not None and _match(q, queue) and _match(u, user):
                scores[rating] += n
        return csat_stats(scores)


def _match(value: Any, wanted: Any) -> bool:
    return wanted is ... or value == wanted


def csat_stats(scores: Counter[int]) -> CsatStats:
    """Count, average, satisfied share (4 or 5) and distribution of ratings by score."""
    count = sum(scores.values())
    return CsatStats(
        count=count,
        average=sum(score * n for score, n in scores.items()) / count if count else None,
        satisfied_share=(scores[4] + scores[5]) / count if count else None,
        distribution=[ScoreCount(score=score, count=scores[score]) for score in _SCORES],
    )


async def _closed(sql: Sql, scope: Scope) -> _Closed:
    rows = await sql.rows(
        "SELECT t.queue_id, t.user_id, t.rating, COUNT(*) FROM tickets t"
        f" WHERE {scope.tickets('t')} AND {_in_period('t.closed_at')}"
        " GROUP BY t.queue_id, t.user_id, t.rating",
        **scope.params(),
    )
    return _Closed(
        [
            (
                None if q is None else int(q),
                None if u is None else int(u),
                None if r is None else int(r),
                int(n),
            )
            for q, u, r, n in rows
        ]
    )


async def _created(sql: Sql, scope: Scope) -> dict[int | None, tuple[int, int, int]]:
    """Per queue, of the tickets created in the period: (created, handed off ever, bot
    contained: closed without a handoff and without an agent)."""
    rows = await sql.rows(
        "SELECT t.queue_id, COUNT(*), COUNT(t.handed_off_at),"
        " SUM(CASE WHEN t.closed_at IS NOT NULL AND t.handed_off_at IS NULL"
        "  AND t.user_id IS NULL THEN 1 ELSE 0 END)"
        f" FROM tickets t WHERE {scope.tickets('t')} AND {_in_period('t.created_at')}"
        " GROUP BY t.queue_id",
        **scope.params(),
    )
    return {q: (int(c), int(h), int(b or 0)) for q, c, h, b in rows}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


async def summary_report(scope: Scope) -> SummaryOut:
    """The headline figures of the period."""
    sql = Sql()
    params = scope.params()
    created = await _created(sql, scope)
    made = sum(c for c, _, _ in created.values())
    handed_off = sum(h for _, h, _ in created.values())
    contained = sum(b for _, _, b in created.values())
    closed = await _closed(sql, scope)
    [frt] = await _durations(sql, _first_responses(scope), params, [None])
    frt_business, _ = await _business_frt(sql, scope)
    [waiting] = await _durations(sql, _waits(scope), params, [None])
    [from_creation] = await _durations(sql, _resolutions(scope, "creation"), params, [None])
    [from_handoff] = await _durations(sql, _resolutions(scope, "handoff"), params, [None])
    [(waiting_now, oldest)] = await sql.rows(
        "SELECT COUNT(*), MIN(COALESCE(t.handed_off_at, t.created_at)) FROM tickets t"
        f" WHERE {scope.tickets('t')} AND t.status = 'pending'",
        **params,
    )
    return SummaryOut(
        **scope.header(),
        created=made,
        handed_off=handed_off,
        handoff_rate=_share(handed_off, made),
        bot_contained=contained,
        containment_rate=_share(contained, made),
        closed=closed.closed(),
        first_response=frt.get(None, _NO_DURATIONS),
        first_response_business_hours=frt_business,
        waiting=waiting.get(None, _NO_DURATIONS),
        waiting_now=WaitingNow(count=int(waiting_now), oldest_handed_off_at=timestamp(oldest)),
        resolution_from_creation=from_creation.get(None, _NO_DURATIONS),
        resolution_from_handoff=from_handoff.get(None, _NO_DURATIONS),
        csat=closed.csat(),
    )


async def agents_report(scope: Scope) -> AgentsOut:
    """Per agent with any figure in the period: tickets closed as assignee, first responses
    written, messages sent and the CSAT of their closed tickets; by name."""
    sql = Sql()
    params = scope.params()
    closed = await _closed(sql, scope)
    [frt] = await _durations(sql, _first_responses(scope), params, ["author"])
    join = " JOIN tickets t ON t.id = m.ticket_id" if scope.queue_id is not None else ""
    queue = " AND t.queue_id = :queue" if scope.queue_id is not None else ""
    sent = {
        int(user_id): int(count)
        for user_id, count in await sql.rows(
            f"SELECT m.sender_user_id, COUNT(*) FROM messages m{join}"
            f" WHERE m.company_id = :company{queue} AND {_agent_message('m')}"
            f" AND m.sender_user_id IS NOT NULL AND {_in_period('m.created_at')}"
            " GROUP BY m.sender_user_id",
            **params,
        )
    }
    ids = {u for _, u, _, _ in closed.rows if u is not None} | set(sent)
    ids |= {int(author) for author in frt if author is not None}
    users = await scoped(User, scope.company_id).filter(id__in=sorted(ids))
    items = [
        AgentFigures(
            user_id=user.id,
            name=user.name,
            role=str(user.role),
            is_active=user.is_active,
            closed=closed.closed(user=user.id),
            first_response=frt.get(user.id, _NO_DURATIONS),
            messages_sent=sent.get(user.id, 0),
            csat=closed.csat(user=user.id),
        )
        for user in sorted(users, key=lambda u: (u.name.casefold(), u.id))
    ]
    return AgentsOut(**scope.header(), items=items)


async def queues_report(scope: Scope) -> QueuesOut:
    """Per queue (each of the company's, or the one asked for; then "no queue" when it has
    any figure): created, handed off and closed in the period, waiting time, first response
    (also in business hours), resolution from handoff and CSAT, by the ticket's queue now
    (a closed ticket's is the queue it was closed in); and from the tickets' history, the
    tickets that entered the queue in the period and the time their stays there lasted."""
    sql = Sql()
    params = scope.params()
    one_queue = scope.queue_id is not None
    created = await _created(sql, scope)
    entered = {
        q: int(n) for q, n in await sql.rows(entered_sql(sql, one_queue=one_queue), **params)
    }
    [stays] = await _durations(sql, stays_ended_sql(sql, one_queue=one_queue), params, ["queue_id"])
    handed = {
        q: int(n)
        for q, n in await sql.rows(
            "SELECT t.queue_id, COUNT(*) FROM tickets t"
            f" WHERE {scope.tickets('t')} AND {_in_period('t.handed_off_at')}"
            " GROUP BY t.queue_id",
            **params,
        )
    }
    closed = await _closed(sql, scope)
    [waiting] = await _durations(sql, _waits(scope), params, ["queue_id"])
    [frt] = await _durations(sql, _first_responses(scope), params, ["queue_id"])
    _, frt_business = await _business_frt(sql, scope)
    [from_handoff] = await _durations(sql, _resolutions(scope, "handoff"), params, ["queue_id"])

    queues = scoped(Queue, scope.company_id)
    if scope.queue_id is not None:
        queues = queues.filter(id=scope.queue_id)
    rows: list[tuple[int | None, str | None]] = [
        (q.id, q.name) for q in await queues.order_by("position", "id")
    ]
    with_data = (
        set(created) | set(handed) | {q for q, _, _, _ in closed.rows} | set(waiting) | set(frt)
    )
    if scope.queue_id is None and None in with_data:
        rows.append((None, None))
    items = [
        QueueReportFigures(
            queue_id=queue_id,
            queue_name=name,
            created=created.get(queue_id, (0, 0, 0))[0],
            handed_off=handed.get(queue_id, 0),
            closed=closed.closed(queue=queue_id),
            waiting=waiting.get(queue_id, _NO_DURATIONS),
            first_response=frt.get(queue_id, _NO_DURATIONS),
            first_response_business_hours=frt_business.get(queue_id, _NO_DURATIONS),
            resolution_from_handoff=from_handoff.get(queue_id, _NO_DURATIONS),
            csat=closed.csat(queue=queue_id),
            entered=entered.get(queue_id, 0),
            time_in_queue=stays.get(queue_id, _NO_DURATIONS),
        )
        for queue_id, name in rows
    ]
    return QueuesOut(**scope.header(), items=items)


async def _by_weekday_hour(
    sql: Sql, scope: Scope, table: str, condition: str
) -> Counter[tuple[int, int]]:
    """Rows of `table` (alias x) created in the period, by local weekday and hour."""
    zone = scope.period.zone
    join, queue = "", ""
    if scope.queue_id is not None:
        if table == "tickets":
            queue = " AND x.queue_id = :queue"
        else:
            join, queue = " JOIN tickets t ON t.id = x.ticket_id", " AND t.queue_id = :queue"
    where = (
        f" WHERE x.company_id = :company{queue} AND {condition} AND {_in_period('x.created_at')}"
    )
    counts: Counter[tuple[int, int]] = Counter()
    if sql.postgres:
        local = "(x.created_at AT TIME ZONE :zone)"
        rows = await sql.rows(
            f"SELECT CAST(EXTRACT(ISODOW FROM {local}) AS integer) - 1,"
            f" CAST(EXTRACT(HOUR FROM {local}) AS integer), COUNT(*)"
            f" FROM {table} x{join}{where} GROUP BY 1, 2",
            **scope.params(zone=zone.key),
        )
        for weekday, hour, count in rows:
            counts[int(weekday), int(hour)] += int(count)
        return counts
    rows = await sql.rows(
        "SELECT strftime('%Y-%m-%d %H', x.created_at),"
        " CAST(strftime('%M', x.created_at) AS INTEGER) / 15, COUNT(*)"
        f" FROM {table} x{join}{where} GROUP BY 1, 2",
        **scope.params(),
    )
    for hour_text, quarter, count in rows:
        utc = dt.datetime.strptime(str(hour_text), "%Y-%m-%d %H").replace(tzinfo=dt.UTC)
        local_time = (utc + int(quarter) * _QUARTER).astimezone(zone)
        counts[local_time.weekday(), local_time.hour] += int(count)
    return counts


async def volume_report(scope: Scope) -> VolumeOut:
    """The customers' messages and the tickets created in the period, by local weekday
    (Monday = 0) and hour."""
    sql = Sql()
    messages = await _by_weekday_hour(sql, scope, "messages", "x.direction = 'in'")
    tickets = await _by_weekday_hour(sql, scope, "tickets", "1 = 1")
    cells = [
        VolumeCell(
            weekday=weekday,
            hour=hour,
            messages=messages[weekday, hour],
            tickets=tickets[weekday, hour],
        )
        for weekday in range(7)
        for hour in range(24)
    ]
    return VolumeOut(
        **scope.header(),
        messages=sum(messages.values()),
        tickets=sum(tickets.values()),
        cells=cells,
    )


def backlog_instants(period: Period, freq: Literal["day", "hour"]) -> list[dt.datetime]:
    """The ends of the period's local days (midnights), or of its hours, in UTC."""
    if freq == "day":
        return [
            period.midnight(period.first_day + dt.timedelta(days=n + 1)) for n in range(period.days)
        ]
    instants = []
    at = period.start + dt.timedelta(hours=1)
    while at <= period.end:
        instants.append(at)
        at += dt.timedelta(hours=1)
    return instants


async def _cumulative(
    sql: Sql, scope: Scope, event: str, condition: str, instants: list[dt.datetime]
) -> list[int]:
    """For each instant, the scope's tickets whose `event` moment is at or before it."""
    params = scope.params(first=instants[0], last=instants[-1])
    where = f" WHERE {scope.tickets('t')} AND {condition}"
    [(base,)] = await sql.rows(
        f"SELECT COUNT(*) FROM tickets t{where} AND {event} <= :first", **params
    )
    added = [0] * len(instants)
    later = f"{where} AND {event} > :first AND {event} <= :last"
    if sql.postgres:
        # width_bucket counts the instants at or before a moment; a microsecond earlier
        # (the resolution of timestamptz), it counts those strictly before: the index of
        # the first instant at or after the moment.
        rows = await sql.rows(
            "SELECT width_bucket(x.e - interval '1 microsecond', CAST(:instants AS timestamptz[])),"
            f" COUNT(*) FROM (SELECT {event} AS e FROM tickets t{later}) x GROUP BY 1",
            instants=instants,
            **params,
        )
        for index, count in rows:
            added[int(index)] += int(count)
    else:
        for (moment,) in await sql.rows(f"SELECT {event} FROM tickets t{later}", **params):
            at = timestamp(moment)
            assert at is not None
            added[bisect.bisect_left(instants, at)] += 1
    total, cumulative = int(base), []
    for count in added:
        total += count
        cumulative.append(total)
    return cumulative


async def backlog_report(scope: Scope, freq: Literal["day", "hour"]) -> BacklogOut:
    """At the end of each local day (or hour) of the period up to now, and now when the
    period is still running: the tickets handed off at or before that moment and not closed
    at it (`closed_at` null or after it)."""
    sql = Sql()
    instants = [at for at in backlog_instants(scope.period, freq) if at <= scope.now]
    if scope.period.start < scope.now < scope.period.end and scope.now not in instants:
        instants.append(scope.now)
    points: list[BacklogPoint] = []
    if instants:
        greatest = "MAX" if sql.dialect == "sqlite" else "GREATEST"
        handed = await _cumulative(
            sql, scope, "t.handed_off_at", "t.handed_off_at IS NOT NULL", instants
        )
        # Handed off and closed at or before t: both moments are, so the later one is.
        done = await _cumulative(
            sql,
            scope,
            f"{greatest}(t.handed_off_at, t.closed_at)",
            "t.handed_off_at IS NOT NULL AND t.closed_at IS NOT NULL",
            instants,
        )
        points = [
            BacklogPoint(at=at, backlog=h - d)
            for at, h, d in zip(instants, handed, done, strict=True)
        ]
    return BacklogOut(**scope.header(), freq=freq, points=points)


async def csat_report(scope: Scope) -> CsatOut:
    """The ratings of the tickets closed in the period."""
    closed = await _closed(Sql(), scope)
    return CsatOut(**scope.header(), **closed.csat().model_dump())
