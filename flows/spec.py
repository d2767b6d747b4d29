"""A company's menu and business hours as validated data (compiled into routers elsewhere).

Pure: pydantic and the standard library only. Every error names its path in the tree,
e.g. ``options.1.children.0.key``, so that the API can answer a 422 the editor can point at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_DEPTH",
    "MAX_OPTIONS",
    "MAX_OPTIONS_PER_LEVEL",
    "RESERVED_KEYS",
    "WEEKDAYS",
    "BusinessHours",
    "MenuAction",
    "MenuOption",
    "SpecError",
    "WeekHours",
    "forwarded_queue_ids",
    "is_open",
    "options_tree_problems",
    "storable_text",
    "validate_options_tree",
    "walk_options",
]

MAX_DEPTH = 5
MAX_OPTIONS_PER_LEVEL = 50
MAX_OPTIONS = 500
# "0" goes back one level and "#" to the main menu, in every menu the bot shows.
RESERVED_KEYS = frozenset({"0", "#"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MenuAction = Literal["submenu", "queue", "end", "human"]


class SpecError(ValueError):
    """An invalid spec: `fields` maps each bad path (``options.1.key``) to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in fields.items()))
        self.fields = fields


def _safe_text(value: str) -> str:
    # NUL and lone surrogates cannot be stored (Postgres text and jsonb refuse them).
    if "\x00" in value:
        raise PydanticCustomError("text", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text", "must be valid Unicode text") from None
    return value


storable_text = AfterValidator(_safe_text)
"""Refuses what no database can store: `Annotated[str, Field(max_length=...), storable_text]`."""

QueueRef = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MenuOption(BaseModel):
    """One entry of a menu: the customer types `key` and the bot does `action`."""

    # A docstring under a field is its description in the API's /docs.
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, use_attribute_docstrings=True
    )

    key: Annotated[str, Field(min_length=1, max_length=20), storable_text]
    """What the customer types to choose the option (e.g. "1"), unique in its menu ignoring
    case; "0" and "#" are reserved for back and main menu."""
    title: Annotated[str, Field(min_length=1, max_length=100), storable_text]
    """The option's text in the menu; typing it (or something close) also chooses it."""
    message: Annotated[str, Field(max_length=2000), storable_text] = ""
    """Sent when the option is chosen, before its action (for "end": the farewell instead of
    the default one); empty: none."""
    action: MenuAction
    """submenu: show `children`; queue: move the ticket to `queue_id`; human: hand the
    ticket to the agents of this queue; end: close the ticket."""
    queue_id: QueueRef | None = Field(default=None, validate_default=True)
    """The queue to move to: required with action "queue", null otherwise."""
    children: list[MenuOption] = Field(
        default_factory=list, max_length=MAX_OPTIONS_PER_LEVEL, validate_default=True
    )
    """The submenu's options (at least one) with action "submenu", empty otherwise; menus
    nest at most 5 levels deep."""

    @field_validator("key")
    @classmethod
    def _key_not_reserved(cls, key: str) -> str:
        if key in RESERVED_KEYS:
            raise PydanticCustomError(
                "reserved_key", "'0' and '#' are reserved for back and main menu"
            )
        return key

    @field_validator("queue_id")
    @classmethod
    def _queue_id_with_queue_action(cls, queue_id: int | None, info: ValidationInfo) -> int | None:
        action = info.data.get("action")
        if action is None:  # the action itself is invalid and already reported
            return queue_id
        if action == "queue" and queue_id is None:
            raise PydanticCustomError("queue_id", "is required when action is 'queue'")
        if action != "queue" and queue_id is not None:
            raise PydanticCustomError("queue_id", "is only allowed when action is 'queue'")
        return queue_id

    @field_validator("children")
    @classmethod
    def _children_with_submenu(
        cls, children: list[MenuOption], info: ValidationInfo
    ) -> list[MenuOption]:
        action = info.data.get("action")
        if action is None:
            return children
        if action == "submenu" and not children:
            raise PydanticCustomError("children", "a submenu needs at least one option")
        if action != "submenu" and children:
            raise PydanticCustomError("children", "are only allowed when action is 'submenu'")
        return children


_OPTIONS = TypeAdapter(list[MenuOption])


def walk_options(
    options: Sequence[MenuOption], *, path: str = "options", depth: int = 1
) -> Iterator[tuple[str, int, MenuOption]]:
    """Every option of the tree, depth first, with its path and depth (top level is 1)."""
    for index, option in enumerate(options):
        here = f"{path}.{index}"
        yield here, depth, option
        yield from walk_options(option.children, path=f"{here}.children", depth=depth + 1)


def options_tree_problems(
    options: Sequence[MenuOption], *, path: str = "options"
) -> dict[str, str]:
    """What a tree of individually valid options breaks as a whole, by path (empty if nothing).

    Keys unique per level (case-insensitive), at most MAX_DEPTH levels, MAX_OPTIONS_PER_LEVEL
    per level and MAX_OPTIONS in total.
    """
    problems: dict[str, str] = {}
    if len(options) > MAX_OPTIONS_PER_LEVEL:
        problems[path] = f"at most {MAX_OPTIONS_PER_LEVEL} options per level"
    levels: list[tuple[str, Sequence[MenuOption]]] = [(path, options)]
    total = 0
    for here, depth, option in walk_options(options, path=path):
        total += 1
        if option.children:
            levels.append((f"{here}.children", option.children))
            if depth >= MAX_DEPTH:
                problems.setdefault(
                    f"{here}.children", f"menus may be at most {MAX_DEPTH} levels deep"
                )
    if total > MAX_OPTIONS:
        problems[path] = f"at most {MAX_OPTIONS} options in the whole menu (got {total})"
    for level_path, level in levels:
        seen: set[str] = set()
        for index, option in enumerate(level):
            folded = option.key.casefold()
            if folded in seen:
                problems.setdefault(
                    f"{level_path}.{index}.key", f"the key '{option.key}' is already used here"
                )
            seen.add(folded)
    return problems


def validate_options_tree(options: Any, *, path: str = "options") -> list[MenuOption]:
    """Raw JSON (a list of option objects) as a valid menu tree, or SpecError naming each path."""
    try:
        parsed = _OPTIONS.validate_python(options)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for item in exc.errors(include_url=False):
            where = ".".join([path, *(str(part) for part in item["loc"])])
            fields.setdefault(where, item["msg"])
        raise SpecError(fields) from exc
    problems = options_tree_problems(parsed, path=path)
    if problems:
        raise SpecError(problems)
    return parsed


def forwarded_queue_ids(options: Sequence[MenuOption], *, path: str = "options") -> dict[str, int]:
    """The queue each "queue" option forwards to, by the path of its `queue_id`."""
    return {
        f"{here}.queue_id": option.queue_id
        for here, _, option in walk_options(options, path=path)
        if option.action == "queue" and option.queue_id is not None
    }


# Business hours ------------------------------------------------------------------------------

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEARLY_DATE = re.compile(r"^\d{2}-\d{2}$")


def _hhmm(value: str) -> str:
    if not _HHMM.fullmatch(value):
        raise PydanticCustomError("time", "must be a time as HH:MM (00:00 to 24:00)")
    return value


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _interval(value: list[str]) -> list[str]:
    start, end = value
    if _minutes(start) >= _minutes(end):
        raise PydanticCustomError("interval", "the start must be before the end")
    return value


HHMM = Annotated[
    str,
    Field(min_length=5, max_length=5, json_schema_extra={"pattern": _HHMM.pattern}),
    AfterValidator(_hhmm),
]
Interval = Annotated[list[HHMM], Field(min_length=2, max_length=2), AfterValidator(_interval)]
DayHours = Annotated[list[Interval], Field(max_length=12)]


def _holiday(value: str) -> str:
    try:
        if _FULL_DATE.fullmatch(value):
            date.fromisoformat(value)
        elif _YEARLY_DATE.fullmatch(value):
            date.fromisoformat(f"2000-{value}")  # a leap year, so that 02-29 is valid
        else:
            raise ValueError(value)
    except ValueError:
        raise PydanticCustomError(
            "holiday", "must be a date as YYYY-MM-DD (once) or MM-DD (every year)"
        ) from None
    return value


Holiday = Annotated[
    str,
    Field(min_length=5, max_length=10, json_schema_extra={"pattern": r"^(\d{4}-)?\d{2}-\d{2}$"}),
    AfterValidator(_holiday),
]


class WeekHours(BaseModel):
    """Opening intervals `[start, end)` of each weekday; a day without any is closed."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    mon: DayHours = Field(default_factory=list)
    """Monday's opening intervals as ["HH:MM", "HH:MM"] pairs (start included, end excluded;
    "24:00" ends at midnight), sorted and not overlapping; empty: closed."""
    tue: DayHours = Field(default_factory=list)
    """Tuesday's opening intervals, as for `mon`."""
    wed: DayHours = Field(default_factory=list)
    """Wednesday's opening intervals, as for `mon`."""
    thu: DayHours = Field(default_factory=list)
    """Thursday's opening intervals, as for `mon`."""
    fri: DayHours = Field(default_factory=list)
    """Friday's opening intervals, as for `mon`."""
    sat: DayHours = Field(default_factory=list)
    """Saturday's opening intervals, as for `mon`."""
    sun: DayHours = Field(default_factory=list)
    """Sunday's opening intervals, as for `mon`."""

    @field_validator(*WEEKDAYS)
    @classmethod
    def _sorted_without_overlaps(cls, intervals: list[list[str]]) -> list[list[str]]:
        for index in range(1, len(intervals)):
            if _minutes(intervals[index][0]) < _minutes(intervals[index - 1][1]):
                raise PydanticCustomError(
                    "intervals",
                    "intervals must be sorted and must not overlap "
                    "(interval {index} starts before interval {previous} ends)",
                    {"index": index, "previous": index - 1},
                )
        return intervals

    def of(self, weekday: int) -> list[list[str]]:
        """The intervals of a weekday as `datetime.weekday()` numbers it (Monday is 0)."""
        intervals: list[list[str]] = getattr(self, WEEKDAYS[weekday])
        return intervals


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise PydanticCustomError(
            "timezone", "must be an IANA time zone such as America/Sao_Paulo"
        ) from None
    return value


class BusinessHours(BaseModel):
    """When a queue is attended: weekly intervals in a time zone, minus holidays."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, use_attribute_docstrings=True
    )

    timezone: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
    """The IANA time zone the hours are in (e.g. America/Sao_Paulo)."""
    days: WeekHours = Field(default_factory=WeekHours)
    """The opening intervals of each weekday; a day left out is closed."""
    holidays: list[Holiday] = Field(default_factory=list, max_length=400)
    """Closed days: YYYY-MM-DD (that day only) or MM-DD (every year); up to 400."""

    @model_validator(mode="after")
    def _unique_holidays(self) -> BusinessHours:
        self.holidays = list(dict.fromkeys(self.holidays))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether `at` (an aware datetime) falls in an opening interval, holidays excluded.

    Intervals include their start and exclude their end: with 08:00-12:00, 08:00 is open
    and 12:00 is closed. "24:00" as an end means until midnight.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("is_open needs an aware datetime")
    local = at.astimezone(hours.zone)
    today = local.date()
    if today.isoformat() in hours.holidays or today.strftime("%m-%d") in hours.holidays:
        return False
    now = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(
        _minutes(start) <= now < _minutes(end) for start, end in hours.days.of(local.weekday())
    )
