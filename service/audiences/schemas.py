"""Request and response shapes of /api/contact-lists and /api/segments, and a segment's
filters (what the filter compiler in service/audiences/filters.py understands)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from service.contacts.schemas import MAX_FIELD_KEY, MAX_FIELD_TEXT, ContactOut, SearchText
from service.http import DbId, PageQuery, StrictModel

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
    all_of: IdList = Field(default_factory=list)
    none_of: IdList = Field(default_factory=list)


class FieldCondition(StrictModel):
    """One custom field: equals / contains a text (ignoring ASCII case), is set (present,
    neither null nor empty) or is not set."""

    key: str = Field(min_length=1, max_length=MAX_FIELD_KEY)
    op: Literal["equals", "contains", "is_set", "not_set"]
    value: str | None = Field(default=None, max_length=MAX_FIELD_TEXT)

    @model_validator(mode="after")
    def _value_when_compared(self) -> FieldCondition:
        if self.op in ("equals", "contains") and self.value is None:
            raise ValueError(f"'{self.op}' needs a value")
        return self


class LastInbound(StrictModel):
    """The contact's last message to us: within N days, more than N days ago, or never."""

    op: Literal["within", "before", "never"]
    days: Days | None = None

    @model_validator(mode="after")
    def _days_unless_never(self) -> LastInbound:
        if self.op != "never" and self.days is None:
            raise ValueError(f"'{self.op}' needs days")
        return self


class RatingFilter(StrictModel):
    """The contact's ratings (1-5): the last one given, or their average."""

    of: Literal["last", "average"] = "last"
    min: float | None = Field(default=None, ge=1, le=5)
    max: float | None = Field(default=None, ge=1, le=5)


class SegmentFilters(StrictModel):
    """Every condition set must hold (AND). Opted-out contacts and groups never match: that
    is not a choice, the compiler adds it to every query."""

    tags: TagFilter | None = None
    custom_fields: Annotated[list[FieldCondition], Field(max_length=20)] = Field(
        default_factory=list
    )
    last_inbound: LastInbound | None = None
    tickets_min: int | None = Field(default=None, ge=0, le=1_000_000)
    tickets_max: int | None = Field(default=None, ge=0, le=1_000_000)
    queue_ids: IdList = Field(default_factory=list)  # had a ticket in any of these queues
    rating: RatingFilter | None = None
    created_from: date | None = None  # UTC days, both ends included
    created_to: date | None = None

    def tag_ids(self) -> list[int]:
        if self.tags is None:
            return []
        return [*self.tags.any_of, *self.tags.all_of, *self.tags.none_of]


class SegmentOut(BaseModel):
    id: int
    name: str
    filters: SegmentFilters
    created_at: datetime
    updated_at: datetime


class SegmentCreate(StrictModel):
    name: AudienceName
    filters: SegmentFilters = Field(default_factory=SegmentFilters)


class SegmentUpdate(StrictModel):
    name: AudienceName | None = None
    filters: SegmentFilters | None = None


class SegmentPreview(BaseModel):
    count: int
    sample: list[ContactOut]


class ContactListOut(BaseModel):
    id: int
    name: str
    members_count: int
    created_at: datetime
    updated_at: datetime


class ContactListCreate(StrictModel):
    name: AudienceName


class ContactListUpdate(StrictModel):
    name: AudienceName


class ContactIdsBody(StrictModel):
    contact_ids: Annotated[list[DbId], Field(min_length=1, max_length=1000)]


class FromSegmentBody(StrictModel):
    """Either a saved segment or unsaved filters."""

    segment_id: DbId | None = None
    filters: SegmentFilters | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FromSegmentBody:
        if (self.segment_id is None) == (self.filters is None):
            raise ValueError("give either segment_id or filters")
        return self


class MembersChanged(BaseModel):
    changed: int
    members_count: int


class ListMemberOut(BaseModel):
    id: int
    added_at: datetime
    contact: ContactOut


class MembersQuery(PageQuery):
    q: SearchText | None = None
