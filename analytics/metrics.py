"""The service's metrics in pandas, as docs/metrics.md defines them (the web reports compute
the same figures in SQL).

Every function takes frames of `analytics.load` (or any subset of them) and a period:
`start`, `end` as for the loaders (dates are local days of `tz`, both included; moments are
exact, `end` excluded) and `tz`, by default the company's (the frames' `attrs["timezone"]`),
else UTC. None for both bounds means all time.

An event belongs to the period when its own moment falls in it: a ticket is created at
`created_at`, handed off at `handed_off_at`, accepted at `accepted_at`, answered at its
first response (`first_response_at`), closed at `closed_at`. So a period's metrics need the
tickets that had any of those moments in it, whenever they were created:

    tickets = load.tickets(src, start, end, touching=True)
    messages = load.messages(src, start, end)
    metrics.summary(tickets, messages, start, end)

Durations are in seconds; `describe` gives their count, mean, median and 90th percentile
(linear interpolation, as pandas' `quantile` and Postgres' `percentile_cont`), None when
there is none. Rates are fractions (0..1), None when nothing was counted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analytics.hours import Schedules, business_seconds
from analytics.period import Moment, bounds, in_period
from flows.spec import BusinessHours

__all__ = [
    "NO_QUEUE",
    "backlog",
    "by_agent",
    "by_queue",
    "containment",
    "created",
    "csat",
    "describe",
    "first_response",
    "queue_entries",
    "queue_stays",
    "resolution_time",
    "summary",
    "time_in_queue",
    "volume",
    "waiting_now",
    "waiting_time",
]

NO_QUEUE = "no queue"
"""The row of `by_queue` for the tickets without a queue."""

_SECONDS = "seconds"


def _zone(frame: pd.DataFrame, tz: str | None) -> str:
    return tz or str(frame.attrs.get("timezone") or "UTC")


def _period(
    frame: pd.DataFrame, start: Moment, end: Moment, tz: str | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    return bounds(start, end, _zone(frame, tz))


def _seconds(earlier: pd.Series, later: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds()


def _by_ticket(frame: pd.DataFrame, values: pd.Series, name: str) -> pd.Series:
    series = pd.Series(values.to_numpy(dtype="float64"), index=frame["id"].to_numpy(), name=name)
    series.index.name = "id"
    return series


def describe(seconds: pd.Series) -> dict[str, Any]:
    """count, mean, median and p90 (linear interpolation) of durations; None when empty."""
    values = pd.Series(seconds, dtype="float64").dropna()
    if values.empty:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    return {
        "count": int(values.size),
        "mean": float(values.mean()),
        "median": float(values.quantile(0.5)),
        "p90": float(values.quantile(0.9)),
    }


def created(
    tickets: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> pd.DataFrame:
    """Tickets created: those whose `created_at` falls in the period."""
    low, high = _period(tickets, start, end, tz)
    return tickets[in_period(tickets["created_at"], low, high)]


def containment(
    tickets: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> dict[str, Any]:
    """Handoff rate and bot containment, of the tickets created in the period.

    - created: tickets with `created_at` in the period;
    - handed_off / handoff_rate: of those, the ones with a `handed_off_at` (at any time);
    - bot_contained / containment_rate: of those, the ones closed (`closed_at` set) without
      a handoff and without an agent (`handed_off_at` and `user_id` null): the bot solved
      them alone.
    """
    born = created(tickets, start, end, tz)
    total = len(born)
    handed = int(born["handed_off_at"].notna().sum())
    alone = int(
        (born["closed_at"].notna() & born["handed_off_at"].isna() & born["user_id"].isna()).sum()
    )
    return {
        "created": total,
        "handed_off": handed,
        "handoff_rate": handed / total if total else None,
        "bot_contained": alone,
        "containment_rate": alone / total if total else None,
    }


def first_response(
    tickets: pd.DataFrame,
    start: Moment = None,
    end: Moment = None,
    tz: str | None = None,
    *,
    business_hours: Schedules | BusinessHours | None = None,
) -> pd.Series:
    """First response time (FRT) per ticket, in seconds, indexed by ticket id.

    The first response is the first outbound message at or after `handed_off_at` written by
    a person (not the bot's, not a note: `tickets.first_response_at`). FRT = first response
    - `handed_off_at`, for the tickets whose first response falls in the period; tickets
    never handed off have none. It is credited to its author (`first_responder_id`) and to
    the ticket's queue.

    With `business_hours` (`load.schedules(src)`, or one `BusinessHours` for every ticket),
    only the seconds inside the business hours of the ticket's queue count (the company's
    hours when the queue has none; every second when neither has hours), in that schedule's
    time zone, holidays excluded.
    """
    low, high = _period(tickets, start, end, tz)
    answered = tickets[
        tickets["handed_off_at"].notna() & in_period(tickets["first_response_at"], low, high)
    ]
    if business_hours is None:
        values = _seconds(answered["handed_off_at"], answered["first_response_at"])
        return _by_ticket(answered, values, "frt_seconds")
    if isinstance(business_hours, BusinessHours):
        business_hours = Schedules(company=business_hours)
    values = pd.Series(np.nan, index=answered.index, dtype="float64")
    queue_ids = answered["queue_id"].astype("Int64")
    for queue_id in queue_ids.drop_duplicates():
        mask = queue_ids.isna() if pd.isna(queue_id) else queue_ids.eq(queue_id).fillna(False)
        schedule = business_hours.for_queue(None if pd.isna(queue_id) else int(queue_id))
        group = answered[mask.to_numpy(dtype=bool)]
        values[group.index] = business_seconds(
            schedule, group["handed_off_at"], group["first_response_at"]
        )
    return _by_ticket(answered, values, "frt_business_seconds")


def waiting_time(
    tickets: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> pd.Series:
    """Waiting time per ticket, in seconds, indexed by ticket id: `accepted_at` -
    `handed_off_at`, for the tickets accepted (first taken by an agent) in the period: how
    long the customer waited in the queue. A reopened ticket keeps its first wait."""
    low, high = _period(tickets, start, end, tz)
    taken = tickets[tickets["handed_off_at"].notna() & in_period(tickets["accepted_at"], low, high)]
    values = _seconds(taken["handed_off_at"], taken["accepted_at"])
    return _by_ticket(taken, values, "waiting_seconds")


def waiting_now(tickets: pd.DataFrame, now: dt.datetime | None = None) -> dict[str, Any]:
    """The tickets waiting in a queue now (status pending): their count, the oldest
    `handed_off_at` (`created_at` for a ticket without one) and, given `now`, its wait in
    seconds. The frame must hold every pending ticket (a `touching` load does)."""
    pending = tickets[tickets["status"].astype(object).eq("pending").to_numpy()]
    since = pending["handed_off_at"].fillna(pending["created_at"])
    oldest = since.min() if len(since) else None
    oldest = None if oldest is None or pd.isna(oldest) else oldest
    wait = None
    if oldest is not None and now is not None:
        wait = max(0.0, (pd.Timestamp(now) - oldest).total_seconds())
    return {"count": len(pending), "oldest_handed_off_at": oldest, "oldest_wait_seconds": wait}


def resolution_time(
    tickets: pd.DataFrame,
    start: Moment = None,
    end: Moment = None,
    tz: str | None = None,
    *,
    since: Literal["creation", "handoff"] = "creation",
) -> pd.Series:
    """Resolution time per ticket, in seconds, indexed by ticket id, for the tickets closed
    (`closed_at`) in the period: since "creation", `closed_at` - `created_at` (bot time
    included, Chatwoot's definition); since "handoff", `closed_at` - `handed_off_at`, only
    the handed-off tickets (what the team controls). A reopened ticket counts once, at its
    last close."""
    low, high = _period(tickets, start, end, tz)
    closed = tickets[in_period(tickets["closed_at"], low, high)]
    if since == "creation":
        return _by_ticket(closed, _seconds(closed["created_at"], closed["closed_at"]), _SECONDS)
    if since != "handoff":
        raise ValueError(f'since must be "creation" or "handoff", not {since!r}')
    closed = closed[closed["handed_off_at"].notna()]
    return _by_ticket(closed, _seconds(closed["handed_off_at"], closed["closed_at"]), _SECONDS)


def csat(
    tickets: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> dict[str, Any]:
    """CSAT: the ratings (1-5) of the tickets closed in the period (a `load.ratings` frame
    works too, by `rated_at`): count, average, distribution (the count of each score 1..5)
    and satisfied_share (4 or 5 / rated)."""
    moment = "rated_at" if "rated_at" in tickets.columns else "closed_at"
    low, high = _period(tickets, start, end, tz)
    rated = tickets[in_period(tickets[moment], low, high)]["rating"].dropna().astype("int64")
    count = int(rated.size)
    distribution = {score: int((rated == score).sum()) for score in range(1, 6)}
    return {
        "count": count,
        "average": float(rated.mean()) if count else None,
        "satisfied_share": float((rated >= 4).sum() / count) if count else None,
        "distribution": distribution,
    }


def volume(
    frame: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> pd.DataFrame:
    """Volume by weekday and hour: the customers' messages (inbound) of a messages frame, or
    the tickets of a tickets frame, created in the period, counted by local weekday (rows,
    Monday = 0) and hour (columns, 0-23) of `tz`; every cell present."""
    zone = _zone(frame, tz)
    low, high = bounds(start, end, zone)
    if "direction" in frame.columns:
        frame = frame[frame["direction"].astype(object).eq("in").to_numpy()]
    moments = frame["created_at"][in_period(frame["created_at"], low, high)].dt.tz_convert(zone)
    counts = pd.crosstab(moments.dt.day_of_week, moments.dt.hour)
    table = counts.reindex(index=range(7), columns=range(24), fill_value=0).astype("int64")
    table.index.name, table.columns.name = "weekday", "hour"
    return table


def backlog(
    tickets: pd.DataFrame,
    start: Moment,
    end: Moment,
    tz: str | None = None,
    freq: Literal["D", "h"] = "D",
) -> pd.Series:
    """Backlog: at each instant `t` (the end of each local day of the period, or of each
    hour), the tickets handed off at or before `t` and not closed at `t` (`closed_at` null
    or after `t`): the human team's open work. Indexed by `t` in local time. A reopened
    ticket is known by its last close only."""
    zone = _zone(tickets, tz)
    low, high = bounds(start, end, zone)
    if low is None or high is None:
        raise ValueError("backlog needs a start and an end")
    if freq == "D":
        first = low.tz_convert(zone).date()
        instants = [
            pd.Timestamp(
                dt.datetime.combine(first + dt.timedelta(days=n), dt.time(), ZoneInfo(zone))
            )
            for n in range(1, (high.tz_convert(zone).date() - first).days + 2)
        ]
        instants = [t for t in instants if low < t <= high]
    elif freq == "h":
        # The local hour `low` falls in, as a UTC instant (no ambiguity on a DST night).
        local = low.tz_convert(zone)
        hour = (local.tz_localize(None).floor("h") - local.utcoffset()).tz_localize("UTC")
        instants = list(pd.date_range(hour + pd.Timedelta(hours=1), high, freq="h"))
    else:
        raise ValueError(f'freq must be "D" or "h", not {freq!r}')
    at = pd.DatetimeIndex(instants, name="at").tz_convert(zone)
    handed = tickets[tickets["handed_off_at"].notna()]
    opened = np.sort(handed["handed_off_at"].array.asi8)
    # A close before the handoff (it cannot happen) would count twice: take the later.
    closes = handed["closed_at"].dropna()
    ended = np.sort(
        np.maximum(closes.array.asi8, handed.loc[closes.index, "handed_off_at"].array.asi8)
    )
    moments = at.tz_convert("UTC").as_unit("ns").asi8
    counts = np.searchsorted(opened, moments, side="right") - np.searchsorted(
        ended, moments, side="right"
    )
    return pd.Series(counts.astype("int64"), index=at, name="backlog")


# The kinds of history lines that may move a ticket into or out of a queue (`accepted`
# names the queue the ticket is already in): service.reports.stays.MOVES.
_MOVES = ("created", "handed_off", "transferred", "fallback", "reopened", "closed")
# Not a queue id (they are positive): "in no queue", so that two of them compare equal.
_NOWHERE = -1


def queue_stays(history: pd.DataFrame) -> pd.DataFrame:
    """Every stay of a ticket in a queue, from a `load.ticket_history` frame.

    A stay begins when a line puts the ticket in a queue it was not in (handed off,
    transferred to another queue, moved to the fallback queue, opened by someone in a
    queue, reopened) and ends at the ticket's next line that takes it out (a transfer to
    another queue, or a close). A transfer that only changes the agent keeps the stay
    going; waiting without a queue is no stay. Lines count in order of `at`, ties by id
    (an implied handoff before its close).

    Columns: ticket_id, queue_id, queue (its name; NaN for a queue deleted since),
    entered_at, left_at (NaT while the ticket is still there, or when it left after the
    frame's last line), seconds (NaN with no `left_at`).
    """
    kind = history["kind"].astype(object)
    moves = history[kind.isin(_MOVES).to_numpy()]
    closing = moves["kind"].astype(object).eq("closed").to_numpy()
    # Each line's queue after it: where it sends the ticket, none after a close.
    after = moves["to_queue_id"].astype("Int64").mask(closing)
    lines = pd.DataFrame(
        {
            "ticket_id": moves["ticket_id"].astype("int64"),
            "queue_id": after,
            "queue": moves["to_queue"],
            "at": moves["at"],
            # The implied lines have no id: the handoff (0) comes before the close (1).
            "n": moves["id"]
            .astype("Int64")
            .fillna(pd.Series(closing.astype("int64"), index=moves.index)),
        }
    ).sort_values(["ticket_id", "at", "n"], kind="stable")
    where = lines["queue_id"].fillna(_NOWHERE)
    before = where.groupby(lines["ticket_id"]).shift(1).fillna(_NOWHERE)
    changes = lines[where.ne(before).to_numpy(dtype=bool)]
    left = changes.groupby("ticket_id")["at"].shift(-1)
    stays = changes.assign(left_at=left)[changes["queue_id"].notna().to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "ticket_id": stays["ticket_id"].to_numpy(),
            "queue_id": stays["queue_id"].array,
            "queue": stays["queue"].array,
            "entered_at": stays["at"].array,
            "left_at": stays["left_at"].array,
            "seconds": _seconds(stays["at"], stays["left_at"]).to_numpy(dtype="float64"),
        }
    )


def time_in_queue(
    history: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> pd.DataFrame:
    """The stays in queues (`queue_stays`) that ended in the period, with their `seconds`:
    from entering the queue to leaving it. Still-open stays are not measured. `history`
    must hold the earlier lines of those tickets: load it with `touching=True`."""
    low, high = _period(history, start, end, tz)
    stays = queue_stays(history)
    return stays[in_period(stays["left_at"], low, high).to_numpy(dtype=bool)]


def queue_entries(
    history: pd.DataFrame, start: Moment = None, end: Moment = None, tz: str | None = None
) -> pd.DataFrame:
    """The stays in queues (`queue_stays`) that began in the period: a ticket entering a
    queue, so that a ticket transferred from A to B entered both."""
    low, high = _period(history, start, end, tz)
    stays = queue_stays(history)
    return stays[in_period(stays["entered_at"], low, high).to_numpy(dtype=bool)]


def _ratings(frame: pd.DataFrame) -> dict[str, Any]:
    rated = frame["rating"].dropna().astype("int64")
    return {
        "csat_count": int(rated.size),
        "csat_average": float(rated.mean()) if rated.size else np.nan,
    }


def by_agent(
    tickets: pd.DataFrame,
    messages: pd.DataFrame,
    start: Moment = None,
    end: Moment = None,
    tz: str | None = None,
    *,
    users: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per agent (indexed by user id), for the period:

    - closed: tickets closed in the period whose assignee (`user_id`) they are;
    - first_responses, frt_mean, frt_median: the first responses they wrote in the period
      (as `first_response`) and their FRT;
    - messages_sent: their messages in the period (outbound, not the bot's, not notes);
    - csat_count, csat_average: the ratings of their tickets closed in the period.

    `agent` is the name (from `users`, a `load.users` frame, which also adds a row for each
    user with nothing to show; else from the tickets)."""
    zone = _zone(tickets, tz)
    low, high = bounds(start, end, zone)
    closed = tickets[in_period(tickets["closed_at"], low, high) & tickets["user_id"].notna()]
    frt = first_response(tickets, start, end, zone)
    responders = tickets.set_index("id").loc[frt.index, "first_responder_id"]
    answered = pd.DataFrame({"user_id": responders.to_numpy(), "seconds": frt.to_numpy()})
    answered = answered[answered["user_id"].notna()]
    sent = messages[
        in_period(messages["created_at"], low, high)
        & messages["direction"].astype(object).eq("out").to_numpy()
        & ~messages["from_bot"].astype(bool)
        & ~messages["is_note"].astype(bool)
        & messages["sender_user_id"].notna()
    ]
    grouped_closed = closed.groupby(closed["user_id"].astype("int64"))
    table = pd.DataFrame(
        {
            "closed": grouped_closed.size(),
            "first_responses": answered.groupby(answered["user_id"].astype("int64")).size(),
            "frt_mean": answered.groupby(answered["user_id"].astype("int64"))["seconds"].mean(),
            "frt_median": answered.groupby(answered["user_id"].astype("int64"))["seconds"].median(),
            "messages_sent": sent.groupby(sent["sender_user_id"].astype("int64")).size(),
            "csat_count": grouped_closed["rating"].count(),
            "csat_average": grouped_closed["rating"].mean(),
        }
    )
    names: dict[int, str] = {}
    if users is not None:
        names = {int(i): str(n) for i, n in zip(users["id"], users["name"], strict=True)}
        table = table.reindex(table.index.union(pd.Index(list(names), dtype="int64")))
    else:
        known = tickets[tickets["user_id"].notna() & tickets["agent"].notna()]
        names = {int(i): str(n) for i, n in zip(known["user_id"], known["agent"], strict=True)}
    for column in ("closed", "first_responses", "messages_sent", "csat_count"):
        table[column] = table[column].fillna(0).astype("int64")
    table["csat_average"] = table["csat_average"].astype("float64")
    table.index = table.index.astype("int64")
    table.index.name = "user_id"
    table.insert(0, "agent", pd.array([names.get(int(i)) for i in table.index], dtype="string"))
    return table.sort_index()


def by_queue(
    tickets: pd.DataFrame,
    start: Moment = None,
    end: Moment = None,
    tz: str | None = None,
    *,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per queue (indexed by name; the tickets without one under `NO_QUEUE`), by the
    ticket's queue now (a closed ticket's is the queue it was closed in), for the period:
    created, handed_off (`handed_off_at` in the period) and closed tickets; waiting (count,
    mean, median) of the tickets accepted; FRT (count, mean, median, p90) of the first
    responses; resolution from handoff (count, mean, median) and CSAT (count, average) of
    the tickets closed.

    With `history` (`load.ticket_history(src, start, end, touching=True)`), also from each
    ticket's path through the queues: entered, the distinct tickets that entered the queue
    in the period (`queue_entries`: a ticket transferred from A to B counts in both), and
    time_in_queue (count, mean, median, p90) of the stays that ended in it
    (`time_in_queue`). Waiting without a queue is no stay: `NO_QUEUE` has none."""
    zone = _zone(tickets, tz)
    low, high = bounds(start, end, zone)
    queue = tickets["queue"].astype(object).where(tickets["queue"].notna(), NO_QUEUE)
    keyed = tickets.assign(_queue=queue.to_numpy())
    if isinstance(tickets["queue"].dtype, pd.CategoricalDtype):
        names = [str(name) for name in tickets["queue"].cat.categories]
    else:
        names = sorted(str(name) for name in tickets["queue"].dropna().unique())
    order = [*names, NO_QUEUE]

    def count(moment: str) -> pd.Series:
        return keyed[in_period(keyed[moment], low, high)].groupby("_queue").size()

    def stats(series: pd.Series, prefix: str, p90: bool = False) -> dict[str, pd.Series]:
        frame = pd.DataFrame({"seconds": series.to_numpy()}, index=series.index)
        frame["_queue"] = keyed.set_index("id").loc[series.index, "_queue"].to_numpy()
        grouped = frame.groupby("_queue")["seconds"]
        found = {
            f"{prefix}_count": grouped.size(),
            f"{prefix}_mean": grouped.mean(),
            f"{prefix}_median": grouped.median(),
        }
        if p90:
            found[f"{prefix}_p90"] = grouped.quantile(0.9)
        return found

    closed = keyed[in_period(keyed["closed_at"], low, high)]
    rated = closed.groupby("_queue")["rating"]
    table = pd.DataFrame(
        {
            "created": count("created_at"),
            "handed_off": count("handed_off_at"),
            "closed": count("closed_at"),
            **stats(waiting_time(tickets, low, high), "waiting"),
            **stats(first_response(tickets, low, high), "frt", p90=True),
            **stats(resolution_time(tickets, low, high, since="handoff"), "resolution"),
            "csat_count": rated.count(),
            "csat_average": rated.mean(),
            **(_history_columns(history, low, high) if history is not None else {}),
        }
    ).reindex(order)
    counts = {"created", "handed_off", "closed", "entered"}
    for column in table.columns:
        if column in counts or column.endswith("_count"):
            table[column] = table[column].fillna(0).astype("int64")
        else:
            table[column] = table[column].astype("float64")
    ids = keyed.dropna(subset=["queue_id"]).drop_duplicates("_queue").set_index("_queue")
    known = ids["queue_id"].astype("Int64")
    if history is not None:  # a queue no ticket is in now, that some passed through
        stays = queue_stays(history).dropna(subset=["queue"]).drop_duplicates("queue")
        passed = pd.Series(stays["queue_id"].array, index=stays["queue"].astype(object).array)
        known = known.combine_first(passed.astype("Int64"))
    queue_ids = pd.array(known.reindex(order).astype("Int64"), dtype="Int64")
    table.insert(0, "queue_id", queue_ids)
    table.index.name = "queue"
    return table


def _history_columns(
    history: pd.DataFrame, low: pd.Timestamp | None, high: pd.Timestamp | None
) -> dict[str, pd.Series]:
    """by_queue's columns from the history, per queue name (a deleted queue's dropped)."""
    began = queue_entries(history, low, high)
    began = began.dropna(subset=["queue"]).drop_duplicates(["ticket_id", "queue_id"])
    ended = time_in_queue(history, low, high).dropna(subset=["queue"])
    grouped = ended.groupby(ended["queue"].astype(object).to_numpy())["seconds"]
    return {
        "entered": began.groupby(began["queue"].astype(object).to_numpy()).size(),
        "time_in_queue_count": grouped.size(),
        "time_in_queue_mean": grouped.mean(),
        "time_in_queue_median": grouped.median(),
        "time_in_queue_p90": grouped.quantile(0.9),
    }


def summary(
    tickets: pd.DataFrame,
    messages: pd.DataFrame | None = None,
    start: Moment = None,
    end: Moment = None,
    tz: str | None = None,
    *,
    business_hours: Schedules | BusinessHours | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The headline figures of the period (docs/metrics.md), as a dict:

    created, handed_off, handoff_rate, bot_contained, containment_rate (`containment`);
    closed (tickets with `closed_at` in the period); frt, waiting, resolution_from_creation,
    resolution_from_handoff (each `describe`d: count, mean, median, p90); csat (`csat`);
    waiting_now (`waiting_now`); messages_in (the customers' messages, when `messages` is
    given); frt_business_hours (with `business_hours`); period (start, end in UTC, tz).
    """
    zone = _zone(tickets, tz)
    low, high = bounds(start, end, zone)
    figures: dict[str, Any] = {"period": {"start": low, "end": high, "timezone": zone}}
    figures.update(containment(tickets, low, high, zone))
    figures["closed"] = int(in_period(tickets["closed_at"], low, high).sum())
    figures["frt"] = describe(first_response(tickets, low, high, zone))
    if business_hours is not None:
        figures["frt_business_hours"] = describe(
            first_response(tickets, low, high, zone, business_hours=business_hours)
        )
    figures["waiting"] = describe(waiting_time(tickets, low, high, zone))
    figures["waiting_now"] = waiting_now(tickets, now)
    figures["resolution_from_creation"] = describe(resolution_time(tickets, low, high, zone))
    figures["resolution_from_handoff"] = describe(
        resolution_time(tickets, low, high, zone, since="handoff")
    )
    figures["csat"] = csat(tickets, low, high, zone)
    if messages is not None:
        inbound = messages[messages["direction"].astype(object).eq("in").to_numpy()]
        figures["messages_in"] = int(in_period(inbound["created_at"], low, high).sum())
    return figures
