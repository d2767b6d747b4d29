"""One company's data as tidy frames, read with server-side SQL (no ORM objects).

Every loader filters by the source's company. Types are the same on Postgres and SQLite:
timestamps `datetime64[ns, UTC]` (NaT for null), nullable ids and numbers `Int64`, flags
`bool`, text `string`, enumerations and names `category` with every possible value as a
category (so a count per category shows the zeros). `start`/`end` are dates (local days of
the company's time zone, both included), aware moments or naive ones (local time), as in
`analytics.period.bounds`; they filter on the frame's main timestamp, named in each loader.
Every frame carries `attrs["timezone"]` (the company's) for the metrics.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from analytics.hours import Schedules
from analytics.period import Moment, bounds
from analytics.source import Source, timestamps
from flows.spec import BusinessHours
from service.campaigns.models import CampaignStatus, RecipientStatus
from service.tickets.models import ActorKind, Direction, HistoryKind, MessageStatus, TicketStatus
from service.users.models import Role

__all__ = [
    "MEDIA_TYPES",
    "campaigns",
    "contacts",
    "messages",
    "queues",
    "ratings",
    "recipients",
    "schedules",
    "ticket_history",
    "tickets",
    "users",
]

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker", "location", "contact")

Convert = Callable[[Any], Any]  # an object array of one column -> its typed values


def _ints(values: Any) -> Any:
    return np.asarray(values, dtype="int64")


def _nullable_ints(values: Any) -> Any:
    return pd.array(np.asarray(values, dtype=object), dtype="Int64")


def _flags(values: Any) -> Any:
    return np.asarray(values, dtype=bool)  # SQLite keeps booleans as 0/1


def _text(values: Any) -> Any:
    return pd.array(np.asarray(values, dtype=object), dtype="string")


def _json(values: Any) -> Any:
    # asyncpg returns jsonb as text, like SQLite; one parse per row is unavoidable.
    parsed = [json.loads(value) if isinstance(value, (str, bytes)) else value for value in values]
    return pd.Series(parsed, dtype=object).to_numpy()


def _category(categories: Sequence[str]) -> Convert:
    unique = list(dict.fromkeys(str(name) for name in categories))

    def convert(values: Any) -> Any:
        return pd.Categorical(np.asarray(values, dtype=object), categories=unique)

    return convert


def _columns(found: Sequence[Sequence[Any]], width: int) -> list[Any]:
    """Rows turned into columns (object arrays): one 2-D array, faster than zip(*rows)."""
    if not found:
        return [() for _ in range(width)]
    try:
        table = np.array([tuple(row) for row in found], dtype=object)
    except ValueError:  # a value that is itself a sequence
        return list(zip(*found, strict=True))
    if table.shape != (len(found), width):
        return list(zip(*found, strict=True))
    return [table[:, index] for index in range(width)]


def _frame(
    src: Source, sql: str, spec: Mapping[str, Convert | None], **params: Any
) -> pd.DataFrame:
    """The rows of `sql` with each column converted by `spec` (None: timestamps)."""
    params.setdefault("company", src.company_id)
    columns, found = src.rows(sql, **params)
    data = _columns(found, len(columns))
    converted: dict[str, Any] = {}
    for name, values in zip(columns, data, strict=True):
        convert = spec[name]
        array = np.asarray(values, dtype=object)
        converted[name] = timestamps(array) if convert is None else convert(array)
    frame = pd.DataFrame(converted)
    frame.attrs["timezone"] = src.timezone
    frame.attrs["company_id"] = src.company_id
    return frame


def _period_sql(column: str, src: Source, start: Moment, end: Moment) -> tuple[str, dict[str, Any]]:
    low, high = bounds(start, end, src.timezone)
    sql, params = "", {}
    if low is not None:
        sql += f" AND {column} >= :start"
        params["start"] = low
    if high is not None:
        sql += f" AND {column} < :end"
        params["end"] = high
    return sql, params


def _names(src: Source, table: str, order: str) -> list[str]:
    _, found = src.rows(
        f"SELECT name FROM {table} WHERE company_id = :company ORDER BY {order}",
        company=src.company_id,
    )
    return [str(row[0]) for row in found]


def _queue_names(src: Source) -> list[str]:
    return _names(src, "queues", "position, id")


def _user_names(src: Source) -> list[str]:
    return sorted(set(_names(src, "users", "id")))


# The first response: the first outbound message at or after the handoff written by a person
# (not the bot's, not a note); ties by id. The index on messages (ticket_id, id) finds each
# ticket's few messages.
_FIRST_RESPONSE_ID = (
    "(SELECT m.id FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'out'"
    " AND NOT m.from_bot AND NOT m.is_note AND m.created_at >= t.handed_off_at"
    " ORDER BY m.created_at, m.id LIMIT 1)"
)


def tickets(
    src: Source, start: Moment = None, end: Moment = None, *, touching: bool = False
) -> pd.DataFrame:
    """The company's tickets created in `[start, end)` (by `created_at`), one row each.

    With `touching=True`, instead every ticket that a period metric may need: created before
    `end` and not closed before `start` (closed later, still open, or first answered in the
    period), whenever it was created; the metrics then pick each event by its own moment.

    Columns: id, contact_id, connection_id, queue_id, queue (category of the company's queue
    names; NaN without a queue), user_id, agent (category of user names), status (bot,
    pending, open, closed), campaign_id, rating, created_at, handed_off_at, accepted_at,
    first_agent_reply_at, closed_at, first_response_at and first_responder_id: the first
    outbound message at or after `handed_off_at` that is neither the bot's nor a note, and
    its author (docs/metrics.md).
    """
    low, high = bounds(start, end, src.timezone)
    inner, outer, params = "", "", {}
    if touching:
        if high is not None:
            inner += " AND t.created_at < :end"
            params["end"] = high
        if low is not None:
            outer = (
                " WHERE (t.closed_at IS NULL OR t.closed_at >= :start OR f.created_at >= :start)"
            )
            params["start"] = low
    else:
        inner, params = _period_sql("t.created_at", src, start, end)
    sql = (
        "SELECT t.id, t.contact_id, t.connection_id, t.queue_id, q.name AS queue, t.user_id,"
        " u.name AS agent, t.status, t.campaign_id, t.rating, t.created_at, t.handed_off_at,"
        " t.accepted_at, t.first_agent_reply_at, t.closed_at,"
        " f.created_at AS first_response_at, f.sender_user_id AS first_responder_id"
        " FROM (SELECT t.id, t.contact_id, t.connection_id, t.queue_id, t.user_id, t.status,"
        "  t.campaign_id, t.rating, t.created_at, t.handed_off_at, t.accepted_at,"
        f"  t.first_agent_reply_at, t.closed_at, {_FIRST_RESPONSE_ID} AS first_response_id"
        f"  FROM tickets t WHERE t.company_id = :company{inner}) t"
        " LEFT JOIN messages f ON f.id = t.first_response_id"
        " LEFT JOIN queues q ON q.id = t.queue_id"
        " LEFT JOIN users u ON u.id = t.user_id"
        f"{outer} ORDER BY t.id"
    )
    spec: dict[str, Convert | None] = {
        "id": _ints,
        "contact_id": _ints,
        "connection_id": _ints,
        "queue_id": _nullable_ints,
        "queue": _category(_queue_names(src)),
        "user_id": _nullable_ints,
        "agent": _category(_user_names(src)),
        "status": _category([status.value for status in TicketStatus]),
        "campaign_id": _nullable_ints,
        "rating": _nullable_ints,
        "created_at": None,
        "handed_off_at": None,
        "accepted_at": None,
        "first_agent_reply_at": None,
        "closed_at": None,
        "first_response_at": None,
        "first_responder_id": _nullable_ints,
    }
    return _frame(src, sql, spec, **params)


def messages(src: Source, start: Moment = None, end: Moment = None) -> pd.DataFrame:
    """The company's messages created in `[start, end)` (by `created_at`), notes included.

    Columns: id, ticket_id, contact_id (the ticket's), connection_id, direction (in, out),
    from_bot, is_note, sender_user_id (the agent who wrote it), status, media_type (image,
    document, audio, video, sticker, location, contact; NaN for text), body, created_at.
    """
    period, params = _period_sql("m.created_at", src, start, end)
    sql = (
        "SELECT m.id, m.ticket_id, t.contact_id, m.connection_id, m.direction, m.from_bot,"
        " m.is_note, m.sender_user_id, m.status, m.media_type, m.body, m.created_at"
        " FROM messages m JOIN tickets t ON t.id = m.ticket_id"
        f" WHERE m.company_id = :company{period} ORDER BY m.id"
    )
    spec: dict[str, Convert | None] = {
        "id": _ints,
        "ticket_id": _ints,
        "contact_id": _ints,
        "connection_id": _ints,
        "direction": _category([direction.value for direction in Direction]),
        "from_bot": _flags,
        "is_note": _flags,
        "sender_user_id": _nullable_ints,
        "status": _category([status.value for status in MessageStatus]),
        "media_type": _category(MEDIA_TYPES),
        "body": _text,
        "created_at": None,
    }
    return _frame(src, sql, spec, **params)


# The lines of every ticket's history, and for each ticket without any (from before the
# history existed) the two its columns imply; `n` orders a ticket's lines of one moment.
_NO_HISTORY = "NOT EXISTS (SELECT 1 FROM ticket_events h WHERE h.ticket_id = t.id)"
_HISTORY_LINES = (
    "SELECT e.id, e.ticket_id, e.kind, e.actor_kind, e.actor_user_id, e.from_queue_id,"
    " e.to_queue_id, e.from_user_id, e.to_user_id, e.note, e.reason, e.at, 1 AS recorded,"
    " e.id AS n FROM ticket_events e WHERE e.company_id = :company"
    " UNION ALL"
    " SELECT NULL, t.id, 'handed_off', NULL, NULL, NULL, t.queue_id, NULL, NULL, '', '',"
    " t.handed_off_at, 0, 0 FROM tickets t WHERE t.company_id = :company"
    f" AND t.handed_off_at IS NOT NULL AND {_NO_HISTORY}"
    " UNION ALL"
    " SELECT NULL, t.id, 'closed', NULL, NULL, t.queue_id, NULL, t.user_id, NULL, '', '',"
    " t.closed_at, 0, 1 FROM tickets t WHERE t.company_id = :company"
    f" AND t.closed_at IS NOT NULL AND {_NO_HISTORY}"
)


def ticket_history(
    src: Source, start: Moment = None, end: Moment = None, *, touching: bool = False
) -> pd.DataFrame:
    """The lines of the company's ticket histories with `at` in `[start, end)`, in order
    (`at`, then ticket, then id).

    With `touching=True`, instead every line, whenever, of each ticket with a line in the
    period: a stay in a queue that ends in the period may have begun before it
    (`metrics.queue_stays`).

    A ticket without any line (from before the history existed) gets the lines its columns
    imply, with `recorded` False and neither id nor actor: handed_off at `handed_off_at`
    into its queue now, closed at `closed_at` from it (and from its agent).

    Columns: id, ticket_id, kind (created, handed_off, accepted, transferred, closed,
    reopened, rating_expired, rated, fallback), actor_kind (user, bot, timer, customer,
    system), actor_user_id, from_queue_id, from_queue, to_queue_id, to_queue (categories of
    the company's queue names; NaN for none, or a queue deleted since), from_user_id,
    to_user_id, note, reason, at, recorded.
    """
    period, params = _period_sql("x.at" if touching else "h.at", src, start, end)
    condition = period.removeprefix(" AND")  # nothing without bounds
    where = ""
    if condition and touching:
        where = f" WHERE h.ticket_id IN (SELECT x.ticket_id FROM h x WHERE{condition})"
    elif condition:
        where = f" WHERE{condition}"
    sql = (
        f"WITH h AS ({_HISTORY_LINES})"
        " SELECT h.id, h.ticket_id, h.kind, h.actor_kind, h.actor_user_id, h.from_queue_id,"
        " f.name AS from_queue, h.to_queue_id, q.name AS to_queue, h.from_user_id,"
        " h.to_user_id, h.note, h.reason, h.at, h.recorded FROM h"
        " LEFT JOIN queues f ON f.id = h.from_queue_id AND f.company_id = :company"
        " LEFT JOIN queues q ON q.id = h.to_queue_id AND q.company_id = :company"
        f"{where} ORDER BY h.at, h.ticket_id, h.n"
    )
    queue_names = _category(_queue_names(src))
    spec: dict[str, Convert | None] = {
        "id": _nullable_ints,
        "ticket_id": _ints,
        "kind": _category([kind.value for kind in HistoryKind]),
        "actor_kind": _category([kind.value for kind in ActorKind]),
        "actor_user_id": _nullable_ints,
        "from_queue_id": _nullable_ints,
        "from_queue": queue_names,
        "to_queue_id": _nullable_ints,
        "to_queue": queue_names,
        "from_user_id": _nullable_ints,
        "to_user_id": _nullable_ints,
        "note": _text,
        "reason": _text,
        "at": None,
        "recorded": _flags,
    }
    return _frame(src, sql, spec, **params)


def contacts(src: Source) -> pd.DataFrame:
    """The company's contacts.

    Columns: id, number, name, email, language, is_group, opted_out, opted_out_at,
    opted_out_reason, created_at, updated_at, tags (the sorted list of the contact's tag
    names), custom_fields (a dict).
    """
    sql = (
        "SELECT id, number, name, email, language, is_group, opted_out, opted_out_at,"
        " opted_out_reason, created_at, updated_at, custom_fields"
        " FROM contacts WHERE company_id = :company ORDER BY id"
    )
    spec: dict[str, Convert | None] = {
        "id": _ints,
        "number": _text,
        "name": _text,
        "email": _text,
        "language": _text,
        "is_group": _flags,
        "opted_out": _flags,
        "opted_out_at": None,
        "opted_out_reason": _text,
        "created_at": None,
        "updated_at": None,
        "custom_fields": _json,
    }
    frame = _frame(src, sql, spec)
    _, pairs = src.rows(
        "SELECT ct.contacts_id, tg.name FROM contact_tags ct"
        " JOIN tags tg ON tg.id = ct.tag_id"
        " WHERE tg.company_id = :company ORDER BY ct.contacts_id, tg.name",
        company=src.company_id,
    )
    names = (
        pd.DataFrame.from_records([tuple(pair) for pair in pairs], columns=["id", "tag"])
        .groupby("id", sort=False)["tag"]
        .agg(list)
        if pairs
        else pd.Series(dtype=object)
    )
    tags = frame["id"].map(names)
    frame["tags"] = pd.Series(
        [value if isinstance(value, list) else [] for value in tags],
        index=frame.index,
        dtype=object,
    )
    columns = [*(name for name in frame.columns if name != "custom_fields"), "custom_fields"]
    return frame[columns]


def ratings(src: Source, start: Moment = None, end: Moment = None) -> pd.DataFrame:
    """The ratings (1-5) of the company's tickets closed in `[start, end)` (by `closed_at`:
    a rating counts on the day its ticket was closed).

    Columns: ticket_id, contact_id, queue_id, queue, user_id, agent, rating, rated_at (the
    ticket's `closed_at`).
    """
    period, params = _period_sql("t.closed_at", src, start, end)
    sql = (
        "SELECT t.id AS ticket_id, t.contact_id, t.queue_id, q.name AS queue, t.user_id,"
        " u.name AS agent, t.rating, t.closed_at AS rated_at"
        " FROM tickets t LEFT JOIN queues q ON q.id = t.queue_id"
        " LEFT JOIN users u ON u.id = t.user_id"
        " WHERE t.company_id = :company AND t.rating IS NOT NULL"
        f" AND t.closed_at IS NOT NULL{period} ORDER BY t.closed_at, t.id"
    )
    spec: dict[str, Convert | None] = {
        "ticket_id": _ints,
        "contact_id": _ints,
        "queue_id": _nullable_ints,
        "queue": _category(_queue_names(src)),
        "user_id": _nullable_ints,
        "agent": _category(_user_names(src)),
        "rating": _nullable_ints,
        "rated_at": None,
    }
    return _frame(src, sql, spec, **params)


def campaigns(src: Source) -> pd.DataFrame:
    """The company's campaigns with their recipients counted by what happened to them.

    Columns: id, name, status, connection_id, contact_list_id, segment_id, scheduled_at,
    started_at, finished_at, created_at, and counts as the campaign page shows them:
    recipients (all), sent (sent, delivered or read), delivered (delivered or read), read,
    failed, skipped.
    """
    sql = (
        "SELECT c.id, c.name, c.status, c.connection_id, c.contact_list_id, c.segment_id,"
        " c.scheduled_at, c.started_at, c.finished_at, c.created_at,"
        " COALESCE(r.recipients, 0) AS recipients, COALESCE(r.sent, 0) AS sent,"
        " COALESCE(r.delivered, 0) AS delivered, COALESCE(r.read, 0) AS read,"
        " COALESCE(r.failed, 0) AS failed, COALESCE(r.skipped, 0) AS skipped"
        " FROM campaigns c LEFT JOIN ("
        "  SELECT campaign_id, COUNT(*) AS recipients,"
        "  SUM(CASE WHEN status IN ('sent', 'delivered', 'read') THEN 1 ELSE 0 END) AS sent,"
        "  SUM(CASE WHEN status IN ('delivered', 'read') THEN 1 ELSE 0 END) AS delivered,"
        "  SUM(CASE WHEN status = 'read' THEN 1 ELSE 0 END) AS read,"
        "  SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,"
        "  SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END) AS skipped"
        "  FROM campaign_recipients WHERE campaign_id IN"
        "   (SELECT id FROM campaigns WHERE company_id = :company)"
        "  GROUP BY campaign_id) r ON r.campaign_id = c.id"
        " WHERE c.company_id = :company ORDER BY c.id"
    )
    spec: dict[str, Convert | None] = {
        "id": _ints,
        "name": _text,
        "status": _category([status.value for status in CampaignStatus]),
        "connection_id": _ints,
        "contact_list_id": _nullable_ints,
        "segment_id": _nullable_ints,
        "scheduled_at": None,
        "started_at": None,
        "finished_at": None,
        "created_at": None,
        **dict.fromkeys(("recipients", "sent", "delivered", "read", "failed", "skipped"), _ints),
    }
    return _frame(src, sql, spec)


def recipients(src: Source, campaign_id: int | None = None) -> pd.DataFrame:
    """The recipients of the company's campaigns (of one, with `campaign_id`).

    Columns: campaign_id, campaign (category of campaign names), contact_id, status (queued,
    confirming, sent, delivered, read, failed, skipped), variant (which text), reason,
    sent_at, delivered_at, read_at, confirmed_at, created_at.
    """
    only, params = "", {}
    if campaign_id is not None:
        only, params = " AND r.campaign_id = :campaign", {"campaign": campaign_id}
    sql = (
        "SELECT r.campaign_id, c.name AS campaign, r.contact_id, r.status, r.variant, r.reason,"
        " r.sent_at, r.delivered_at, r.read_at, r.confirmed_at, r.created_at"
        " FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id"
        f" WHERE c.company_id = :company{only} ORDER BY r.campaign_id, r.id"
    )
    spec: dict[str, Convert | None] = {
        "campaign_id": _ints,
        "campaign": _category(sorted(set(_names(src, "campaigns", "id")))),
        "contact_id": _ints,
        "status": _category([status.value for status in RecipientStatus]),
        "variant": _nullable_ints,
        "reason": _text,
        "sent_at": None,
        "delivered_at": None,
        "read_at": None,
        "confirmed_at": None,
        "created_at": None,
    }
    return _frame(src, sql, spec, **params)


def queues(src: Source) -> pd.DataFrame:
    """The company's queues in their menu order: id, name, color, position, business_hours
    (the stored dict, None when the queue follows the company's hours)."""
    sql = (
        "SELECT id, name, color, position, business_hours FROM queues"
        " WHERE company_id = :company ORDER BY position, id"
    )
    spec: dict[str, Convert | None] = {
        "id": _ints,
        "name": _text,
        "color": _text,
        "position": _ints,
        "business_hours": _json,
    }
    return _frame(src, sql, spec)


def users(src: Source) -> pd.DataFrame:
    """The company's users: id, name, email, role (admin, supervisor, agent), is_active."""
    sql = (
        "SELECT id, name, email, role, is_active FROM users WHERE company_id = :company ORDER BY id"
    )
    spec: dict[str, Convert | None] = {
        "id": _ints,
        "name": _text,
        "email": _text,
        "role": _category([role.value for role in Role]),
        "is_active": _flags,
    }
    return _frame(src, sql, spec)


def _hours(value: Any) -> BusinessHours | None:
    if value is None:
        return None
    try:
        return BusinessHours.model_validate(value)
    except ValidationError:
        return None


def schedules(src: Source) -> Schedules:
    """The business hours of each queue and of the company, for the business-hours FRT."""
    frame = queues(src)
    own = {
        int(queue_id): hours
        for queue_id, raw in zip(frame["id"], frame["business_hours"], strict=True)
        if (hours := _hours(raw)) is not None
    }
    return Schedules(company=src.company_settings.business_hours, queues=own)
