"""Segments of contacts in pandas: filters, RFM-style scores, and pushing a segment into a
contact list that a campaign can send to.

Everything works on the frames of `analytics.load` (or any subset of them):

- `contacts`: `load.contacts(src)` (id, tags as a list of names, custom_fields as a dict,
  opted_out, is_group…);
- `messages`: `load.messages(src, …)` (contact_id, direction, is_note, created_at);
- `tickets`: `load.tickets(src, …)` (contact_id, campaign_id, created_at);
- `recipients`: `load.recipients(src)` (campaign_id, contact_id, status, read_at).

Definitions (the same words as the web's segment filters, service/audiences/filters.py):

- A contact *wrote* when they sent an inbound message (`direction == "in"`, not a note);
  their *last inbound* is the latest such message's `created_at`.
- A campaign message was *received* when its recipient row reached `sent`, `delivered` or
  `read`; it was *read* when the row is `read` (or has a `read_at`); it was *answered* when
  the contact has a ticket naming that campaign (`tickets.campaign_id`: the conversation
  that the customer's reply to the campaign opened).
- Opted-out contacts and groups are left out of every selection unless asked for: a
  campaign never sends to them.

Nothing here changes the database except `push_segment` / `push_segment_async`, which go
through the service's own actions (service/audiences/actions.py), audited like a change
made in the web."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from tortoise.transactions import in_transaction

from analytics.source import Source
from service.audiences import actions
from service.audiences.models import ContactList, ContactListMember
from service.audiences.schemas import ContactListCreate
from service.auth.tokens import Principal
from service.contacts.models import Contact
from service.tenancy import id_in_range
from service.users.models import Role, User

__all__ = [
    "LABELS",
    "PushedSegment",
    "UnknownContacts",
    "campaign_funnel",
    "campaign_responses",
    "contact_ids",
    "field_mask",
    "frequency_counts",
    "last_inbound",
    "push_segment",
    "push_segment_async",
    "quintile_scores",
    "reachable_mask",
    "rfm",
    "rfm_label",
    "select",
    "tag_mask",
    "ticket_counts",
]

FieldOp = Literal["equals", "contains", "is_set", "not_set"]

_RECEIVED = ("sent", "delivered", "read")

#: RFM labels, from the best customers to the lost ones (the order of the category).
LABELS = ("champions", "loyal", "new", "needs attention", "at risk", "dormant")

# Chunks for the service's actions: its API takes 1000 ids a call, and both backends bind
# each id as one parameter.
_CHUNK = 1000


# Filters over the contacts frame ----------------------------------------------------------


def reachable_mask(contacts: pd.DataFrame) -> pd.Series:
    """True for the contacts a campaign may reach: not opted out and not a group."""
    opted_out = contacts["opted_out"].fillna(False).astype(bool)
    group = contacts["is_group"].fillna(False).astype(bool)
    return ~opted_out & ~group


def _has_any(tags: pd.Series, names: Collection[str]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per row of `tags` (lists of names): whether any of `names` is among them."""
    flat = pd.Series(tags.to_numpy(), dtype=object).explode()
    hits = flat.isin(list(names)).groupby(level=0).any()
    return np.asarray(hits.reindex(range(len(tags)), fill_value=False), dtype=bool)


def tag_mask(
    contacts: pd.DataFrame,
    *,
    any_of: Collection[str] = (),
    all_of: Collection[str] = (),
    none_of: Collection[str] = (),
) -> pd.Series:
    """True for the contacts with any of the tags `any_of` (when given), all of `all_of`
    and none of `none_of`; tags are matched by name, exactly."""
    tags = contacts["tags"]
    mask = np.ones(len(contacts), dtype=bool)
    if any_of:
        mask &= _has_any(tags, any_of)
    for name in dict.fromkeys(all_of):
        mask &= _has_any(tags, (name,))
    if none_of:
        mask &= ~_has_any(tags, none_of)
    return pd.Series(mask, index=contacts.index, dtype=bool)


def _as_text(value: Any) -> Any:
    """A custom field's value as text, as the service compares it: booleans as true/false,
    numbers as written, null as missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_mask(
    contacts: pd.DataFrame, key: str, op: FieldOp, value: str | None = None
) -> pd.Series:
    """True for the contacts whose custom field `key`:

    - `equals`: equals `value`, ignoring case;
    - `contains`: contains `value`, ignoring case;
    - `is_set`: is present, neither null nor empty;
    - `not_set`: is absent, null or empty."""
    values = [
        _as_text(fields.get(key)) if isinstance(fields, dict) else None
        for fields in contacts["custom_fields"]
    ]
    text = pd.Series(values, index=contacts.index, dtype="string")
    present = text.fillna("") != ""
    if op == "is_set":
        return present.astype(bool)
    if op == "not_set":
        return (~present).astype(bool)
    if value is None:
        raise ValueError(f"{op!r} needs a value")
    folded = text.str.casefold()
    if op == "equals":
        matched = folded == value.casefold()
    elif op == "contains":
        matched = folded.str.contains(value.casefold(), regex=False)
    else:
        raise ValueError(f"unknown operator {op!r}")
    return matched.fillna(False).astype(bool)


# Behaviour, one value per contact ---------------------------------------------------------


def _inbound(messages: pd.DataFrame) -> pd.DataFrame:
    return messages[(messages["direction"] == "in") & ~messages["is_note"].astype(bool)]


def last_inbound(messages: pd.DataFrame) -> pd.Series:
    """Each contact's last inbound message (`created_at`), indexed by contact id; contacts
    who never wrote (in these messages) are absent."""
    inbound = _inbound(messages)
    last = inbound.groupby("contact_id")["created_at"].max()
    last.name = "last_inbound_at"
    return last


def ticket_counts(tickets: pd.DataFrame) -> pd.Series:
    """How many tickets each contact has in `tickets`, indexed by contact id."""
    counts = tickets.groupby("contact_id").size()
    counts.name = "tickets"
    return counts


def frequency_counts(
    frame: pd.DataFrame,
    *,
    start: dt.datetime | pd.Timestamp | None = None,
    end: dt.datetime | pd.Timestamp | None = None,
    inbound_only: bool = False,
) -> pd.Series:
    """Rows per contact with `created_at` in `[start, end)`, indexed by contact id: tickets
    (a tickets frame), or inbound messages (a messages frame with `inbound_only`)."""
    rows = _inbound(frame) if inbound_only else frame
    created = rows["created_at"]
    keep = pd.Series(True, index=rows.index)
    if start is not None:
        keep &= created >= pd.Timestamp(start)
    if end is not None:
        keep &= created < pd.Timestamp(end)
    counts = rows[keep].groupby("contact_id").size()
    counts.name = "frequency"
    return counts


def _outcomes(recipients: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per recipient row: campaign_id, contact_id and whether the message was
    received, delivered, read and answered (definitions in the module's docstring)."""
    status = recipients["status"].astype(object)
    outcomes = pd.DataFrame(
        {
            "campaign_id": recipients["campaign_id"].astype("int64").to_numpy(),
            "contact_id": recipients["contact_id"].astype("int64").to_numpy(),
            "received": status.isin(_RECEIVED).to_numpy(),
            "delivered": status.isin(("delivered", "read")).to_numpy(),
            "read": (status.eq("read") | recipients["read_at"].notna()).to_numpy(),
        }
    )
    outcomes["read"] &= outcomes["received"]
    answers = tickets.loc[tickets["campaign_id"].notna(), ["campaign_id", "contact_id"]]
    answers = answers.astype("int64").drop_duplicates().assign(answered=True)
    outcomes = outcomes.merge(answers, on=["campaign_id", "contact_id"], how="left")
    outcomes["answered"] = outcomes["answered"].fillna(False).astype(bool) & outcomes["received"]
    return outcomes


def campaign_responses(recipients: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """Per contact who received a campaign message: `received`, `read`, `answered` (counts
    of campaign messages, definitions in the module's docstring) and `engagement` =
    (read + answered) / (2 * received), between 0 (ignored everything) and 1 (read and
    answered everything). Read receipts can be turned off by the customer, so an answer
    counts on its own. Indexed by contact id."""
    outcomes = _outcomes(recipients, tickets)
    received = outcomes[outcomes["received"]]
    per_contact = received.groupby("contact_id")[["received", "read", "answered"]].sum()
    per_contact = per_contact.astype("int64")
    per_contact["engagement"] = (per_contact["read"] + per_contact["answered"]) / (
        2 * per_contact["received"]
    )
    return per_contact


def campaign_funnel(recipients: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """Each campaign's funnel, indexed by campaign id: `campaign` (its name, when the frame
    has it), `recipients` (every row: queued, skipped and failed ones too), `sent` (received:
    sent, delivered or read), `delivered` (delivered or read), `read`, `answered` (received,
    and the contact's reply opened a ticket naming the campaign), and each stage's share of
    the sent ones (`delivered_rate`, `read_rate`, `answered_rate`; NaN when none was sent).
    An answer counts without a read receipt (customers can turn those off), so `answered`
    may exceed `read`."""
    outcomes = _outcomes(recipients, tickets).rename(columns={"received": "sent"})
    stages = ["sent", "delivered", "read", "answered"]
    grouped = outcomes.groupby("campaign_id")
    funnel = grouped[stages].sum().astype("int64")
    funnel.insert(0, "recipients", grouped.size().astype("int64"))
    if "campaign" in recipients.columns:
        names = recipients.groupby(recipients["campaign_id"].astype("int64"))["campaign"]
        funnel.insert(0, "campaign", names.first().astype("string"))
    sent = funnel["sent"].where(funnel["sent"] > 0).astype("float64")
    for stage in ("delivered", "read", "answered"):
        funnel[f"{stage}_rate"] = funnel[stage] / sent
    return funnel


def _per_contact(contacts: pd.DataFrame, values: pd.Series, fill: Any = None) -> pd.Series:
    """`values` (indexed by contact id) aligned to the rows of `contacts`."""
    aligned = values.reindex(contacts["id"].to_numpy())
    if fill is not None:
        aligned = aligned.fillna(fill)
    return pd.Series(aligned.to_numpy(), index=contacts.index, name=values.name)


def _timestamp(when: dt.datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        raise ValueError("give a time zone aware datetime")
    return stamp


def select(
    contacts: pd.DataFrame,
    *,
    tags_any: Collection[str] = (),
    tags_all: Collection[str] = (),
    tags_none: Collection[str] = (),
    field_equals: Mapping[str, str] | None = None,
    field_contains: Mapping[str, str] | None = None,
    field_set: Iterable[str] = (),
    field_missing: Iterable[str] = (),
    messages: pd.DataFrame | None = None,
    wrote_after: dt.datetime | pd.Timestamp | None = None,
    wrote_before: dt.datetime | pd.Timestamp | None = None,
    never_wrote: bool = False,
    tickets: pd.DataFrame | None = None,
    tickets_min: int | None = None,
    tickets_max: int | None = None,
    recipients: pd.DataFrame | None = None,
    answered_campaign: bool | int | None = None,
    include_opted_out: bool = False,
    include_groups: bool = False,
) -> pd.DataFrame:
    """The rows of `contacts` that meet every condition given (AND):

    - tags (by name): any of `tags_any`, all of `tags_all`, none of `tags_none`;
    - custom fields: `field_equals` / `field_contains` ({key: text}, ignoring case),
      `field_set` (present and not empty), `field_missing` (absent, null or empty);
    - behaviour in `messages`: last inbound at or after `wrote_after`; wrote, but last
      inbound before `wrote_before`; `never_wrote`;
    - `tickets_min` / `tickets_max`: tickets in `tickets` (filter the frame by period first);
    - `answered_campaign`: True, answered at least one campaign; an id, answered that
      campaign; False, received a campaign message (`recipients`) and answered none.

    Opted-out contacts and groups are left out unless `include_opted_out` /
    `include_groups`."""
    mask = pd.Series(True, index=contacts.index)
    if not include_opted_out:
        mask &= ~contacts["opted_out"].fillna(False).astype(bool)
    if not include_groups:
        mask &= ~contacts["is_group"].fillna(False).astype(bool)
    if tags_any or tags_all or tags_none:
        mask &= tag_mask(contacts, any_of=tags_any, all_of=tags_all, none_of=tags_none)
    for key, text in (field_equals or {}).items():
        mask &= field_mask(contacts, key, "equals", text)
    for key, text in (field_contains or {}).items():
        mask &= field_mask(contacts, key, "contains", text)
    for key in field_set:
        mask &= field_mask(contacts, key, "is_set")
    for key in field_missing:
        mask &= field_mask(contacts, key, "not_set")
    if wrote_after is not None or wrote_before is not None or never_wrote:
        if messages is None:
            raise ValueError("filters on inbound messages need the `messages` frame")
        last = _per_contact(contacts, last_inbound(messages))
        if wrote_after is not None:
            mask &= (last >= _timestamp(wrote_after)).fillna(False).astype(bool)
        if wrote_before is not None:
            mask &= (last < _timestamp(wrote_before)).fillna(False).astype(bool)
        if never_wrote:
            mask &= last.isna()
    if tickets_min is not None or tickets_max is not None:
        if tickets is None:
            raise ValueError("filters on tickets need the `tickets` frame")
        count = _per_contact(contacts, ticket_counts(tickets), fill=0)
        if tickets_min is not None:
            mask &= count >= tickets_min
        if tickets_max is not None:
            mask &= count <= tickets_max
    if answered_campaign is not None:
        if tickets is None:
            raise ValueError("filters on campaign answers need the `tickets` frame")
        answers = tickets[tickets["campaign_id"].notna()]
        if answered_campaign is True or answered_campaign is False:
            answered = set(answers["contact_id"].astype("int64"))
        else:
            chosen = answers[answers["campaign_id"] == int(answered_campaign)]
            answered = set(chosen["contact_id"].astype("int64"))
        hit = contacts["id"].isin(answered)
        if answered_campaign is False:
            if recipients is None:
                raise ValueError("`answered_campaign=False` needs the `recipients` frame")
            got = recipients[recipients["status"].astype(object).isin(_RECEIVED)]
            mask &= contacts["id"].isin(set(got["contact_id"].astype("int64"))) & ~hit
        else:
            mask &= hit
    return contacts[mask.to_numpy()]


# RFM --------------------------------------------------------------------------------------


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by quantile: 1 + floor(5 * the share of the scored values that are strictly
    worse). Equal values get equal scores, the worst value always scores 1, and 5 goes to
    the top fifth. Missing values are not scored (<NA>) and do not count in the shares."""
    numbers = pd.array(values, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(numbers)
    ordered = np.sort(numbers[known])
    if higher_is_better:
        worse = np.searchsorted(ordered, numbers[known], side="left")
    else:
        worse = len(ordered) - np.searchsorted(ordered, numbers[known], side="right")
    scores = np.full(len(numbers), -1, dtype="int64")
    if len(ordered):
        scores[known] = np.clip(1 + np.floor(5 * worse / len(ordered)).astype("int64"), 1, 5)
    result = pd.Series(scores, index=values.index, dtype="Int64")
    return result.mask(~known)


def rfm_label(r_score: pd.Series, f_score: pd.Series) -> pd.Series:
    """A name for each (recency, frequency) pair of scores, first rule that holds:

    | label | recency | frequency |
    |---|---|---|
    | champions | 4-5 | 4-5 |
    | loyal | 3-5 | 3-5 (not champions) |
    | new | 4-5 | 1-2 |
    | needs attention | 3 | 1-2 |
    | at risk | 1-2 | 3-5 |
    | dormant | 1-2 | 1-2 |"""
    r = r_score.astype("int64").to_numpy()
    f = f_score.astype("int64").to_numpy()
    choices = np.select(
        [
            (r >= 4) & (f >= 4),
            (r >= 3) & (f >= 3),
            (r >= 4) & (f <= 2),
            (r == 3) & (f <= 2),
            (r <= 2) & (f >= 3),
        ],
        list(LABELS[:5]),
        default=LABELS[5],
    )
    return pd.Series(
        pd.Categorical(choices, categories=list(LABELS)), index=r_score.index, name="label"
    )


def rfm(
    contacts: pd.DataFrame,
    messages: pd.DataFrame,
    tickets: pd.DataFrame,
    recipients: pd.DataFrame | None = None,
    *,
    now: dt.datetime | pd.Timestamp | None = None,
    window_days: int = 90,
    frequency_of: Literal["tickets", "messages"] = "tickets",
) -> pd.DataFrame:
    """Recency, frequency and engagement scores of each row of `contacts`, as of `now`
    (default: the current time), counting only what happened before `now`. Scores compare
    the contacts passed in, so pass the population to compare (e.g. `select(contacts)`,
    which leaves out opted-out contacts and groups). Definitions:

    - `recency_days`: days (fractional) from the contact's last inbound message to `now`;
      NaN when they never wrote;
    - `frequency`: their tickets (`frequency_of="tickets"`) or inbound messages
      (`"messages"`) created in the `window_days` days before `now`;
    - `received`, `read`, `answered`, `engagement`: their campaign messages, see
      `campaign_responses` (0 and NaN without `recipients` or when nothing was received);
    - `r_score` (fewer days is better), `f_score`, `e_score`: 1..5 by `quintile_scores`,
      each among the contacts that have the measure: those who wrote, those with a
      frequency above 0, those who received a campaign message. Who never wrote scores
      recency 1, who has nothing in the window scores frequency 1 (most contacts of a
      customer base are quiet: scoring them with the others would squeeze everyone who
      wrote into the top scores); `e_score` is <NA> for who received nothing;
    - `label`: from `r_score` and `f_score`, see `rfm_label`.

    One row per contact, in the order of `contacts`, keyed by `contact_id`."""
    moment = _timestamp(now if now is not None else dt.datetime.now(dt.UTC))
    window_start = moment - pd.Timedelta(days=window_days)
    out = pd.DataFrame(
        {"contact_id": contacts["id"].astype("int64").to_numpy()}, index=contacts.index
    )
    for column in ("name", "number"):
        if column in contacts.columns:
            out[column] = contacts[column].to_numpy()
    # Only what happened up to `now` counts, so that a past `now` reads as that day did.
    past = messages[messages["created_at"] < moment]
    last = _per_contact(contacts, last_inbound(past))
    out["last_inbound_at"] = pd.to_datetime(last, utc=True)
    out["recency_days"] = (moment - out["last_inbound_at"]).dt.total_seconds() / 86400
    if frequency_of == "tickets":
        counts = frequency_counts(tickets, start=window_start, end=moment)
    else:
        counts = frequency_counts(messages, start=window_start, end=moment, inbound_only=True)
    out["frequency"] = _per_contact(contacts, counts, fill=0).astype("int64")
    if recipients is not None:
        responses = campaign_responses(recipients, tickets)
    else:
        responses = pd.DataFrame(
            {"received": [], "read": [], "answered": [], "engagement": []},
            index=pd.Index([], dtype="int64", name="contact_id"),
        )
    for column in ("received", "read", "answered"):
        out[column] = _per_contact(contacts, responses[column], fill=0).astype("int64")
    out["engagement"] = _per_contact(contacts, responses["engagement"]).astype("float64")
    out["r_score"] = quintile_scores(out["recency_days"], higher_is_better=False).fillna(1)
    active = out["frequency"].where(out["frequency"] > 0)
    out["f_score"] = quintile_scores(active).fillna(1)
    out["e_score"] = quintile_scores(out["engagement"])
    out["label"] = rfm_label(out["r_score"], out["f_score"])
    return out


# Pushing a segment into a contact list ----------------------------------------------------


class UnknownContacts(ValueError):
    """Some ids are not contacts of the company (unknown, or another company's)."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        shown = ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
        super().__init__(f"not contacts of this company: {shown} ({len(ids)} in all)")


@dataclass(frozen=True)
class PushedSegment:
    """What `push_segment` did to the list named `name`."""

    list_id: int
    name: str
    created: bool  # the list did not exist before
    added: int
    removed: int
    kept: int

    @property
    def members(self) -> int:
        return self.added + self.kept


def contact_ids(frame: pd.DataFrame) -> list[int]:
    """The distinct contact ids of a frame, in order of appearance: its `contact_id`
    column (tickets, messages, rfm…) or else its `id` column (contacts)."""
    if "contact_id" in frame.columns:
        column = frame["contact_id"]
    elif "id" in frame.columns:
        column = frame["id"]
    else:
        raise ValueError("the frame needs a `contact_id` or an `id` column")
    return [int(i) for i in pd.unique(column.dropna().astype("int64"))]


def _ids(frame: pd.DataFrame | Iterable[int]) -> list[int]:
    if isinstance(frame, pd.DataFrame):
        return contact_ids(frame)
    return list(dict.fromkeys(int(i) for i in frame))


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


async def push_segment_async(
    frame: pd.DataFrame | Iterable[int],
    name: str,
    *,
    company_id: int,
    now: dt.datetime | None = None,
) -> PushedSegment:
    """Make the company's contact list `name` (found ignoring case, created when missing)
    hold exactly the contacts of `frame` (see `contact_ids`; or an iterable of ids): the
    missing ones are added, the others removed. One transaction through the service's
    actions, acting as the company's first active admin. Any id that is not a contact of
    the company raises `UnknownContacts`, and nothing changes. Call it where Tortoise is
    initialised (the service's loop); elsewhere use `push_segment`."""
    wanted = _ids(frame)
    when = now or dt.datetime.now(dt.UTC)
    data = ContactListCreate(name=name)
    async with in_transaction():
        known: set[int] = set()
        for chunk in _chunks(wanted):
            in_range = [i for i in chunk if id_in_range(Contact, i)]
            rows = await Contact.filter(company_id=company_id, id__in=in_range).values_list("id")
            known.update(int(row[0]) for row in rows)
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise UnknownContacts(unknown)
        # Locked, so that a push running at the same time waits for this one's members.
        existing = (
            await ContactList.filter(company_id=company_id, name__iexact=data.name)
            .select_for_update()
            .first()
        )
        created = existing is None
        if existing is None:
            admin = (
                await User.filter(company_id=company_id, role=Role.admin, is_active=True)
                .order_by("id")
                .first()
            )
            actor = Principal(
                company_id=company_id,
                role=Role.admin,
                user_id=admin.id if admin is not None else None,
            )
            existing = await actions.create_list(actor=actor, data=data)
        list_id = existing.id
        members = await ContactListMember.filter(contact_list_id=list_id).values_list("contact_id")
        current = {int(row[0]) for row in members}
        target = set(wanted)
        to_add = [i for i in wanted if i not in current]
        to_remove = sorted(current - target)
        for chunk in _chunks(to_add):
            await actions.add_members(
                company_id=company_id, list_id=list_id, contact_ids=chunk, now=when
            )
        for chunk in _chunks(to_remove):
            await actions.remove_members(company_id=company_id, list_id=list_id, contact_ids=chunk)
    return PushedSegment(
        list_id=list_id,
        name=existing.name,
        created=created,
        added=len(to_add),
        removed=len(to_remove),
        kept=len(current & target),
    )


def push_segment(
    frame: pd.DataFrame | Iterable[int], name: str, *, source: Source
) -> PushedSegment:
    """`push_segment_async` for the source's company, run by the source (works in a
    notebook): the contact list `name` then holds exactly the frame's contacts, ready for
    a campaign. Returns the list id and how many members were added, removed and kept."""
    return source.run(push_segment_async, _ids(frame), name, company_id=source.company_id)
