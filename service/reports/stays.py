"""A ticket's stays in queues, read in SQL from its history (`ticket_events`).

A stay begins when a line puts the ticket in a queue it was not in (handed off, transferred
to another queue, moved to the fallback queue, opened by someone with a queue, reopened)
and ends at the next line that takes it out (transferred to another queue, or closed). A
transfer that only changes the agent keeps the stay going. Each line's "queue after" is its
`to_queue_id` (none for a close): the stays are the runs of lines with the same queue
after, in the order of `at` (ties by id).

A ticket without any line, from before the history existed, reads as the two lines its
columns imply: handed off into its queue now at `handed_off_at`, closed at `closed_at`.
analytics.load implies the same lines, so both implementations agree on those tickets.
"""

from __future__ import annotations

from service.sql import Sql
from service.tickets.models import HistoryKind

__all__ = ["MOVES", "entered_sql", "stays_ended_sql"]

# The kinds of lines that may move a ticket into or out of a queue; `accepted` names the
# queue the ticket is already in, and ratings move nothing.
MOVES = (
    HistoryKind.created,
    HistoryKind.handed_off,
    HistoryKind.transferred,
    HistoryKind.fallback,
    HistoryKind.reopened,
    HistoryKind.closed,
)
_KINDS = ", ".join(f"'{kind.value}'" for kind in MOVES)
_NO_HISTORY = "NOT EXISTS (SELECT 1 FROM ticket_events h WHERE h.ticket_id = t.id)"


def _moves() -> str:
    """Each moving line, before the period's end, of the tickets with one in the period:
    ticket_id, n (the order among a ticket's lines of one moment), at, queue_id (where the
    ticket is after it; NULL: in no queue, or closed). A stay ending in the period needs
    nothing later; one starting before it needs the ticket's earlier lines, all kept.

    The implied lines of a ticket without history come from its columns: only those of the
    tickets handed off before the end that were handed off or closed in the period (no
    other one starts or ends a stay in it); n 0 and 1 put the handoff first."""
    legacy = (
        f"t.company_id = :company AND {_NO_HISTORY} AND t.handed_off_at < :end"
        " AND (t.handed_off_at >= :start OR (t.closed_at >= :start AND t.closed_at < :end))"
    )
    return (
        "SELECT e.ticket_id, e.id AS n, e.at,"
        " CASE WHEN e.kind = 'closed' THEN NULL ELSE e.to_queue_id END AS queue_id"
        f" FROM ticket_events e WHERE e.company_id = :company AND e.kind IN ({_KINDS})"
        " AND e.at < :end AND e.ticket_id IN (SELECT p.ticket_id FROM ticket_events p"
        f"  WHERE p.company_id = :company AND p.kind IN ({_KINDS})"
        "  AND p.at >= :start AND p.at < :end)"
        " UNION ALL"
        f" SELECT t.id, 0, t.handed_off_at, t.queue_id FROM tickets t WHERE {legacy}"
        " UNION ALL"
        f" SELECT t.id, 1, t.closed_at, NULL FROM tickets t WHERE {legacy}"
        " AND t.closed_at < :end"
    )


def _stays(sql: Sql) -> str:
    """Per stay: ticket_id, queue_id, a (entered), b (left; NULL while the ticket is still
    there, or left only after the period). The lines whose queue after differs from the
    line before's are the changes; a stay runs from a change into a queue to the next
    change."""
    order = "PARTITION BY {0}.ticket_id ORDER BY {0}.at, {0}.n"
    changed = sql.differs("m.queue_id", "m.queue_before")
    return (
        "SELECT c.ticket_id, c.queue_id, c.at AS a,"
        f" LEAD(c.at) OVER ({order.format('c')}) AS b FROM ("
        " SELECT m.ticket_id, m.n, m.at, m.queue_id FROM ("
        "  SELECT v.ticket_id, v.n, v.at, v.queue_id,"
        f"  LAG(v.queue_id) OVER ({order.format('v')}) AS queue_before FROM ({_moves()}) v"
        f" ) m WHERE {changed}) c"
    )


def _queue(one: bool) -> str:
    # One queue's report: the stays in that queue, whatever the ticket's queue now.
    return " AND s.queue_id = :queue" if one else ""


def stays_ended_sql(sql: Sql, *, one_queue: bool) -> str:
    """The stays that ended in the period, with the columns queue_id, a and b of the
    reports' durations (parameters :company, :start, :end and, for one queue, :queue)."""
    return (
        f"SELECT s.queue_id, s.a, s.b FROM ({_stays(sql)}) s WHERE s.queue_id IS NOT NULL"
        f" AND s.b >= :start AND s.b < :end{_queue(one_queue)}"
    )


def entered_sql(sql: Sql, *, one_queue: bool) -> str:
    """Per queue: the distinct tickets with a stay begun in the period (queue_id, count)."""
    return (
        f"SELECT s.queue_id, COUNT(DISTINCT s.ticket_id) FROM ({_stays(sql)}) s"
        " WHERE s.queue_id IS NOT NULL AND s.a >= :start AND s.a < :end"
        f"{_queue(one_queue)} GROUP BY s.queue_id"
    )
