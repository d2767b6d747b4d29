"""Request and response shapes of /api/contact-lists and /api/segments, and a segment's
filters (what the filter compiler in service/audiences/filters.py understands)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from service.contacts.schemas import MAX_FIELD_KEY, MAX_FIELD_TEXT, ContactOut, SearchText
from service.http import DbId, PageQuery, ResponseModel, StrictModel

__all__ = [
    "AudienceName",
    "ContactIdsBody",
    "ContactListCreate",
    "ContactListOut",
    "ContactListUpdate",
    "FieldCondition",
    "FromSegmentBody",
    "LastInbound",
    "ListMemberOut",
    "MembersChanged",
    "MembersQuery",
    "RatingFilter",
    "SegmentCreate",
    "SegmentFilters",
    "SegmentOut",
    "SegmentPreview",
    "SegmentUpdate",
    "TagFilter",
]

AudienceName = Annotated[str, Field(min_length=1, max_length=120)]
IdList = Annotated[list[DbId], Field(max_length=100)]
# A year of days per filter is plenty; ten years still fits an interval in either backend.
Days = Annotated[int, Field(ge=1, le=3650)]


class TagFilter(StrictModel):
    """Contacts with any of these tags, with all of those, and with none of the others."""

    any_of: IdList = Field(default_factory=list)
    """Tag ids: the contact has at least one of them (empty: no condition)."""
    all_of: IdList = Field(default_factory=list)
    """Tag ids: the contact has every one of them."""
    none_of: IdList = Field(default_factory=list)
    """Tag ids: the contact has none of them."""


class FieldCondition(StrictModel):
    """One custom field: equals / contains a text (ignoring ASCII case), is set (present,
    neither null nor empty) or is not set."""

    key: str = Field(min_length=1, max_length=MAX_FIELD_KEY)
    """The custom field's key, as in the contacts' `custom_fields`."""
    op: Literal["equals", "contains", "is_set", "not_set"]
    """How the field is compared: equals / contains `value`, or is (not) set."""
    value: str | None = Field(default=None, max_length=MAX_FIELD_TEXT)
    """The text to compare with; required by equals and contains, ignored otherwise."""

    @model_validator(mode="after")
    def _value_when_compared(self) -> FieldCondition:
        if self.op in ("equals", "contains") and self.value is None:
            raise ValueError(f"'{self.op}' needs a value")
        return self


class LastInbound(StrictModel):
    """The contact's last message to us: within N days, more than N days ago, or never."""

    op: Literal["within", "before", "never"]
    """within: wrote in the last `days` days; before: last wrote more than `days` days ago;
    never: never wrote."""
    days: Days | None = None
    """How many days (1-3650); required unless `op` is never."""

    @model_validator(mode="after")
    def _days_unless_never(self) -> LastInbound:
        if self.op != "never" and self.days is None:
            raise ValueError(f"'{self.op}' needs days")
        return self


class RatingFilter(StrictModel):
    """The contact's ratings (1-5): the last one given, or their average."""

    of: Literal["last", "average"] = "last"
    """Compare the last rating the contact gave, or the average of all their ratings."""
    min: float | None = Field(default=None, ge=1, le=5)
    """The lowest rating that matches (inclusive); null: no lower bound."""
    max: float | None = Field(default=None, ge=1, le=5)
    """The highest rating that matches (inclusive); null: no upper bound."""


class SegmentFilters(StrictModel):
    """Every condition set must hold (AND). Opted-out contacts and groups never match: that
    is not a choice, the compiler adds it to every query."""

    tags: TagFilter | None = None
    """Conditions on the contact's tags; null: none."""
    custom_fields: Annotated[list[FieldCondition], Field(max_length=20)] = Field(
        default_factory=list
    )
    """Conditions on custom fields, all of which must hold (up to 20)."""
    last_inbound: LastInbound | None = None
    """A condition on when the contact last wrote to the company; null: none."""
    tickets_min: int | None = Field(default=None, ge=0, le=1_000_000)
    """At least this many tickets; null: no lower bound."""
    tickets_max: int | None = Field(default=None, ge=0, le=1_000_000)
    """At most this many tickets; null: no upper bound."""
    queue_ids: IdList = Field(default_factory=list)
    """Queue ids: the contact had a ticket in any of them (empty: no condition)."""
    rating: RatingFilter | None = None
    """A condition on the contact's ratings (with a bound, contacts who never rated do not
    match); null: none."""
    created_from: date | None = None  # UTC days, both ends included
    """Contacts created on or after this day (YYYY-MM-DD, UTC); null: no lower bound."""
    created_to: date | None = None
    """Contacts created on or before this day (YYYY-MM-DD, UTC); null: no upper bound."""

    def tag_ids(self) -> list[int]:
        if self.tags is None:
            return []
        return [*self.tags.any_of, *self.tags.all_of, *self.tags.none_of]


class SegmentOut(ResponseModel):
    id: int
    """The segment's id (what a campaign's `segment_id` names)."""
    name: str
    """The segment's name."""
    filters: SegmentFilters
    """Who the segment matches; evaluated anew each time it is used."""
    created_at: datetime
    """When the segment was created (UTC)."""
    updated_at: datetime
    """When the segment last changed (UTC)."""


class SegmentCreate(StrictModel):
    name: AudienceName
    """The segment's name (1-120 characters)."""
    filters: SegmentFilters = Field(default_factory=SegmentFilters)
    """Who the segment matches; no conditions: every opted-in contact (never groups)."""


class SegmentUpdate(StrictModel):
    name: AudienceName | None = None
    """A new name; left out keeps the current one."""
    filters: SegmentFilters | None = None
    """New filters, replacing the current ones; left out keeps them."""


class SegmentPreview(ResponseModel):
    count: int
    """How many contacts the filters match now."""
    sample: list[ContactOut]
    """The first 10 matching contacts (by id), to check the filters by."""


class ContactListOut(ResponseModel):
    id: int
    """The list's id (what a campaign's `contact_list_id` names)."""
    name: str
    """The list's name."""
    members_count: int
    """How many contacts are in the list."""
    created_at: datetime
    """When the list was created (UTC)."""
    updated_at: datetime
    """When the list last changed (UTC)."""


class ContactListCreate(StrictModel):
    name: AudienceName
    """The list's name (1-120 characters); it starts empty."""


class ContactListUpdate(StrictModel):
    name: AudienceName
    """The list's new name (1-120 characters)."""


class ContactIdsBody(StrictModel):
    contact_ids: Annotated[list[DbId], Field(min_length=1, max_length=1000)]
    """Ids of the company's contacts (1-1000)."""


class FromSegmentBody(StrictModel):
    """Either a saved segment or unsaved filters."""

    segment_id: DbId | None = None
    """A saved segment whose current matches to add; null when `filters` are given."""
    filters: SegmentFilters | None = None
    """Unsaved filters whose current matches to add; null when `segment_id` is given."""

    @model_validator(mode="after")
    def _one_source(self) -> FromSegmentBody:
        if (self.segment_id is None) == (self.filters is None):
            raise ValueError("give either segment_id or filters")
        return self


class MembersChanged(ResponseModel):
    changed: int
    """How many contacts were added (those already in are not counted) or removed."""
    members_count: int
    """How many contacts the list has now."""


class ListMemberOut(ResponseModel):
    id: int
    """The membership's id (pages go by it, in the order contacts were added)."""
    added_at: datetime
    """When the contact was added to the list (UTC)."""
    contact: ContactOut
    """The member."""


class MembersQuery(PageQuery):
    q: SearchText | None = None
    """Only the members whose name or email contains this (ignoring case), or whose number
    contains its digits."""
