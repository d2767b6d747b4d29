"""The reports as CSV files: UTF-8 with a BOM (so that Excel reads the accents), RFC 4180,
one header row; text a spreadsheet would run as a formula is neutralised by the contacts
export's `csv_cell`. Durations in seconds, rates as fractions, as in the JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from service.contacts.service import csv_cell
from service.reports.schemas import (
    AgentsOut,
    BacklogOut,
    CsatOut,
    CsatStats,
    DurationStats,
    PeriodReport,
    QueuesOut,
    SummaryOut,
    VolumeOut,
)

__all__ = ["report_csv", "report_filename"]

_STATS = ("count", "mean", "median", "p90")


def _cell(value: Any) -> str:
    # Numbers as they are (a negative one is not a formula); everything else through the
    # contacts export's neutraliser.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, BaseModel):
        raise TypeError("flatten models before writing them")
    return csv_cell(value.isoformat() if hasattr(value, "isoformat") else value)


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def _durations(prefix: str, stats: DurationStats) -> dict[str, Any]:
    return {f"{prefix}_{name}": getattr(stats, name) for name in _STATS}


def _csat(prefix: str, stats: CsatStats) -> dict[str, Any]:
    flat: dict[str, Any] = {
        f"{prefix}_count": stats.count,
        f"{prefix}_average": stats.average,
        f"{prefix}_satisfied_share": stats.satisfied_share,
    }
    for score in stats.distribution:
        flat[f"{prefix}_{score.score}"] = score.count
    return flat


def _period(report: PeriodReport) -> dict[str, Any]:
    return {
        "first_day": report.period.first_day,
        "last_day": report.period.last_day,
        "timezone": report.period.timezone,
        "queue_id": report.queue_id,
    }


def _summary(report: SummaryOut) -> str:
    figures: dict[str, Any] = {
        **_period(report),
        "created": report.created,
        "handed_off": report.handed_off,
        "handoff_rate": report.handoff_rate,
        "bot_contained": report.bot_contained,
        "containment_rate": report.containment_rate,
        "closed": report.closed,
        **_durations("first_response", report.first_response),
        **_durations("first_response_business_hours", report.first_response_business_hours),
        **_durations("waiting", report.waiting),
        "waiting_now": report.waiting_now.count,
        "waiting_now_oldest_handed_off_at": report.waiting_now.oldest_handed_off_at,
        **_durations("resolution_from_creation", report.resolution_from_creation),
        **_durations("resolution_from_handoff", report.resolution_from_handoff),
        **_csat("csat", report.csat),
    }
    return _write(["metric", "value"], figures.items())


def _table(rows: list[dict[str, Any]], header: list[str]) -> str:
    return _write(header, ([row[name] for name in header] for row in rows))


def _agents(report: AgentsOut) -> str:
    rows = [
        {
            "user_id": item.user_id,
            "name": item.name,
            "role": item.role,
            "closed": item.closed,
            **_durations("first_response", item.first_response),
            "messages_sent": item.messages_sent,
            **_csat("csat", item.csat),
        }
        for item in report.items
    ]
    return _table(rows, list(rows[0]) if rows else ["user_id", "name", "role", "closed"])


def _queues(report: QueuesOut) -> str:
    rows = [
        {
            "queue_id": item.queue_id,
            "queue": item.queue_name,
            "created": item.created,
            "handed_off": item.handed_off,
            "closed": item.closed,
            **_durations("waiting", item.waiting),
            **_durations("first_response", item.first_response),
            **_durations("first_response_business_hours", item.first_response_business_hours),
            **_durations("resolution_from_handoff", item.resolution_from_handoff),
            **_csat("csat", item.csat),
            # Last, so that a spreadsheet reading the older columns by position still works.
            "entered": item.entered,
            **_durations("time_in_queue", item.time_in_queue),
        }
        for item in report.items
    ]
    return _table(rows, list(rows[0]) if rows else ["queue_id", "queue", "created"])


def _volume(report: VolumeOut) -> str:
    return _write(
        ["weekday", "hour", "messages", "tickets"],
        ((c.weekday, c.hour, c.messages, c.tickets) for c in report.cells),
    )


def _backlog(report: BacklogOut) -> str:
    local = ZoneInfo(report.period.timezone)
    return _write(
        ["at", "backlog"], ((point.at.astimezone(local), point.backlog) for point in report.points)
    )


def _csat_report(report: CsatOut) -> str:
    figures = {**_period(report), **_csat("csat", report)}
    return _write(["metric", "value"], figures.items())


def report_csv(report: PeriodReport) -> str:
    """The report as a CSV file's text (BOM included)."""
    if isinstance(report, SummaryOut):
        return _summary(report)
    if isinstance(report, AgentsOut):
        return _agents(report)
    if isinstance(report, QueuesOut):
        return _queues(report)
    if isinstance(report, VolumeOut):
        return _volume(report)
    if isinstance(report, BacklogOut):
        return _backlog(report)
    if isinstance(report, CsatOut):
        return _csat_report(report)
    raise TypeError(f"no CSV for {type(report).__name__}")


def report_filename(name: str, report: PeriodReport) -> str:
    """atende-<report>-<first day>-<last day>[-queue-<id>].csv"""
    period = report.period
    queue = f"-queue-{report.queue_id}" if report.queue_id is not None else ""
    return f"atende-{name}-{period.first_day}-{period.last_day}{queue}.csv"
