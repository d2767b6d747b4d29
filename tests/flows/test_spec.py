"""The menu spec and business hours: pure validation, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from flows.spec import (
    MAX_DEPTH,
    BusinessHours,
    MenuOption,
    SpecError,
    forwarded_queue_ids,
    is_open,
    validate_options_tree,
    walk_options,
)


def option(key: str, action: str = "end", **extra: Any) -> dict[str, Any]:
    return {"key": key, "title": f"Option {key}", "action": action, **extra}


def submenu(key: str, *children: dict[str, Any]) -> dict[str, Any]:
    return option(key, "submenu", children=list(children))


def spec_errors(options: Any) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        validate_options_tree(options)
    return caught.value.fields


# Menu options ---------------------------------------------------------------------------------


def test_a_valid_tree_is_parsed_and_normalised() -> None:
    tree = validate_options_tree(
        [
            option(" 1 ", "queue", queue_id=7, title="  Sales  ", message="Wait a moment"),
            submenu("2", option("1", "human"), option("2", "end")),
        ]
    )
    assert [o.key for o in tree] == ["1", "2"]
    assert tree[0].title == "Sales"
    assert tree[0].queue_id == 7
    assert tree[1].children[0].action == "human"
    assert tree[1].message == ""
    assert [path for path, _, _ in walk_options(tree)] == [
        "options.0",
        "options.1",
        "options.1.children.0",
        "options.1.children.1",
    ]


def test_an_empty_menu_is_valid() -> None:
    assert validate_options_tree([]) == []


def test_the_input_must_be_a_list() -> None:
    assert spec_errors({"key": "1"}) == {"options": "Input should be a valid list"}


@pytest.mark.parametrize("key", ["0", "#", " 0 "])
def test_reserved_keys_are_refused(key: str) -> None:
    errors = spec_errors([option("1"), submenu("2", option(key))])
    assert list(errors) == ["options.1.children.0.key"]
    assert "reserved" in errors["options.1.children.0.key"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("key", ""), ("key", "   "), ("key", "x" * 21), ("title", ""), ("title", "t" * 101)],
)
def test_key_and_title_lengths(field: str, value: str) -> None:
    errors = spec_errors([{**option("1"), field: value}])
    assert list(errors) == [f"options.0.{field}"]


def test_message_length_and_unstorable_text() -> None:
    assert validate_options_tree([option("1", message="m" * 2000)])[0].message == "m" * 2000
    assert list(spec_errors([option("1", message="m" * 2001)])) == ["options.0.message"]
    errors = spec_errors([option("1", title="bad\x00title"), option("2", message="\ud800")])
    assert errors["options.0.title"] == "must not contain NUL characters"
    assert list(errors) == ["options.0.title", "options.1.message"]


def test_queue_id_is_required_with_queue_and_only_with_queue() -> None:
    errors = spec_errors([option("1", "queue"), option("2", "end", queue_id=3)])
    assert errors == {
        "options.0.queue_id": "is required when action is 'queue'",
        "options.1.queue_id": "is only allowed when action is 'queue'",
    }
    assert list(spec_errors([option("1", "queue", queue_id=0)])) == ["options.0.queue_id"]


def test_children_are_required_by_submenu_and_only_allowed_there() -> None:
    errors = spec_errors(
        [submenu("1"), option("2", "human", children=[option("1")]), option("3", "bogus")]
    )
    assert errors["options.0.children"] == "a submenu needs at least one option"
    assert errors["options.1.children"] == "are only allowed when action is 'submenu'"
    assert "options.2.action" in errors


def test_unknown_fields_are_refused() -> None:
    errors = spec_errors([option("1", colour="red")])
    assert list(errors) == ["options.0.colour"]


def test_keys_are_unique_per_level_case_insensitively() -> None:
    errors = spec_errors(
        [
            option("a"),
            submenu("b", option("x"), option("y"), option("X")),
            option("A"),
        ]
    )
    assert set(errors) == {"options.2.key", "options.1.children.2.key"}
    assert "already used" in errors["options.2.key"]
    # The same key on different levels is fine.
    assert validate_options_tree([submenu("1", submenu("1", option("1")))])


def nested(depth: int) -> dict[str, Any]:
    node = option("1")
    for _ in range(depth - 1):
        node = submenu("1", node)
    return node


def test_menus_are_at_most_five_levels_deep() -> None:
    tree = validate_options_tree([nested(MAX_DEPTH)])
    assert max(depth for _, depth, _ in walk_options(tree)) == MAX_DEPTH
    errors = spec_errors([option("9"), nested(MAX_DEPTH + 1)])
    assert list(errors) == ["options.1" + ".children.0" * (MAX_DEPTH - 1) + ".children"]


def test_a_very_deep_tree_is_an_error_not_a_crash() -> None:
    assert spec_errors([nested(300)])


def test_at_most_50_options_per_level() -> None:
    assert len(validate_options_tree([option(str(i)) for i in range(1, 51)])) == 50
    assert list(spec_errors([option(str(i)) for i in range(1, 52)])) == ["options"]
    deep = [submenu("1", *[option(str(i)) for i in range(1, 52)])]
    assert list(spec_errors(deep)) == ["options.0.children"]


def test_at_most_500_options_in_total() -> None:
    def menu(children_of_last: int) -> list[dict[str, Any]]:
        tops = [submenu(str(t), *[option(str(i)) for i in range(1, 50)]) for t in range(1, 10)]
        tops.append(submenu("10", *[option(str(i)) for i in range(1, children_of_last + 1)]))
        return tops

    assert len(list(walk_options(validate_options_tree(menu(49))))) == 500
    errors = spec_errors(menu(50))
    assert list(errors) == ["options"]
    assert "500" in errors["options"]


def test_forwarded_queue_ids_by_path() -> None:
    tree = validate_options_tree(
        [option("1", "queue", queue_id=4), submenu("2", option("1", "queue", queue_id=9))]
    )
    assert forwarded_queue_ids(tree) == {
        "options.0.queue_id": 4,
        "options.1.children.0.queue_id": 9,
    }


def test_menu_option_round_trips_through_json() -> None:
    tree = validate_options_tree([submenu("1", option("1", "queue", queue_id=2))])
    dumped = [o.model_dump(mode="json") for o in tree]
    assert validate_options_tree(dumped) == tree
    assert MenuOption.model_validate(dumped[0]) == tree[0]


# Business hours ------------------------------------------------------------------------------


def hours(**extra: Any) -> BusinessHours:
    data: dict[str, Any] = {
        "timezone": "America/Sao_Paulo",
        "days": {
            "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
            "tue": [["08:00", "18:00"]],
            "sat": [["09:00", "24:00"]],
        },
    }
    data.update(extra)
    return BusinessHours.model_validate(data)


def hours_errors(data: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        BusinessHours.model_validate(data)
    return {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


SP = ZoneInfo("America/Sao_Paulo")


def test_valid_business_hours() -> None:
    parsed = hours(holidays=["2025-01-01", "12-25", "12-25"])
    assert parsed.days.mon == [["08:00", "12:00"], ["13:00", "18:00"]]
    assert parsed.days.sun == []
    assert parsed.holidays == ["2025-01-01", "12-25"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "../etc/passwd", "", "UTC\x00"])
def test_the_timezone_must_be_iana(zone: str) -> None:
    assert hours_errors({"timezone": zone}) == {"timezone"}


@pytest.mark.parametrize(
    ("interval", "path"),
    [
        (["8:00", "12:00"], "days.mon.0.0"),
        (["08:00", "25:00"], "days.mon.0.1"),
        (["08:60", "12:00"], "days.mon.0.0"),
        (["24:00", "24:00"], "days.mon.0"),
        (["12:00", "12:00"], "days.mon.0"),
        (["13:00", "12:00"], "days.mon.0"),
        (["08:00"], "days.mon.0"),
    ],
)
def test_intervals_are_valid_times_with_start_before_end(interval: list[str], path: str) -> None:
    assert hours_errors({"timezone": "UTC", "days": {"mon": [interval]}}) == {path}


def test_intervals_are_sorted_and_do_not_overlap() -> None:
    overlapping = {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}
    unsorted = {"tue": [["13:00", "14:00"], ["08:00", "12:00"]]}
    assert hours_errors({"timezone": "UTC", "days": overlapping}) == {"days.mon"}
    assert hours_errors({"timezone": "UTC", "days": unsorted}) == {"days.tue"}
    touching = BusinessHours.model_validate(
        {"timezone": "UTC", "days": {"mon": [["08:00", "12:00"], ["12:00", "13:00"]]}}
    )
    assert is_open(touching, datetime(2025, 1, 6, 12, 0, tzinfo=UTC))


def test_unknown_days_and_bad_holidays_are_refused() -> None:
    errors = hours_errors(
        {
            "timezone": "UTC",
            "days": {"monday": []},
            "holidays": ["2025-02-30", "13-01", "2025/01/01", "02-29"],
        }
    )
    assert errors == {"days.monday", "holidays.0", "holidays.1", "holidays.2"}


def test_interval_edges() -> None:
    monday = hours()  # 2025-01-06 is a Monday
    at = datetime(2025, 1, 6, 8, 0, tzinfo=SP)
    assert is_open(monday, at)
    assert not is_open(monday, at - timedelta(microseconds=1))
    assert is_open(monday, datetime(2025, 1, 6, 11, 59, 59, tzinfo=SP))
    assert not is_open(monday, datetime(2025, 1, 6, 12, 0, tzinfo=SP))
    assert not is_open(monday, datetime(2025, 1, 6, 12, 30, tzinfo=SP))
    assert is_open(monday, datetime(2025, 1, 6, 13, 0, tzinfo=SP))
    assert not is_open(monday, datetime(2025, 1, 6, 18, 0, tzinfo=SP))
    # "24:00" means until midnight; a day without intervals is closed.
    assert is_open(monday, datetime(2025, 1, 11, 23, 59, 59, tzinfo=SP))
    assert not is_open(monday, datetime(2025, 1, 12, 0, 0, tzinfo=SP))
    assert not is_open(monday, datetime(2025, 1, 8, 10, 0, tzinfo=SP))


def test_the_time_is_read_in_the_queues_timezone() -> None:
    monday = hours()
    # 10:30 UTC is 07:30 in São Paulo (UTC-3): closed; 11:30 UTC is 08:30: open.
    assert not is_open(monday, datetime(2025, 1, 6, 10, 30, tzinfo=UTC))
    assert is_open(monday, datetime(2025, 1, 6, 11, 30, tzinfo=UTC))
    # The same instant seen from another offset gives the same answer.
    tokyo = datetime(2025, 1, 6, 20, 30, tzinfo=timezone(timedelta(hours=9)))
    assert is_open(monday, tokyo)
    # Tuesday 01:00 UTC is still Monday 22:00 in São Paulo: closed (Monday ends at 18:00).
    assert not is_open(monday, datetime(2025, 1, 7, 1, 0, tzinfo=UTC))
    # And Sunday 02:00 UTC is Saturday 23:00 there: open until 24:00.
    assert is_open(monday, datetime(2025, 1, 12, 2, 0, tzinfo=UTC))


def test_daylight_saving_time_is_followed() -> None:
    new_york = BusinessHours.model_validate(
        {"timezone": "America/New_York", "days": {"mon": [["09:00", "17:00"]]}}
    )
    # 13:30 UTC is 08:30 EST in January (closed) and 09:30 EDT in July (open).
    assert not is_open(new_york, datetime(2025, 1, 6, 13, 30, tzinfo=UTC))
    assert is_open(new_york, datetime(2025, 7, 7, 13, 30, tzinfo=UTC))


def test_holidays_once_and_every_year_in_local_date() -> None:
    tuesday_hours = hours(holidays=["2024-12-31", "01-07"])
    assert not is_open(tuesday_hours, datetime(2024, 12, 31, 10, 0, tzinfo=SP))
    assert is_open(tuesday_hours, datetime(2025, 12, 30, 10, 0, tzinfo=SP))
    # 01-07 is a holiday every year: Tuesday 2025-01-07 and Tuesday 2020-01-07.
    assert not is_open(tuesday_hours, datetime(2025, 1, 7, 10, 0, tzinfo=SP))
    assert not is_open(tuesday_hours, datetime(2020, 1, 7, 10, 0, tzinfo=SP))
    assert is_open(tuesday_hours, datetime(2025, 1, 14, 10, 0, tzinfo=SP))
    # Monday 2025-01-06 17:00 in São Paulo is already 01-06 20:00 UTC; 2025-01-07 01:00 UTC
    # is still Monday there, so the Tuesday holiday does not apply yet (but Monday's hours do).
    monday_evening = hours(
        days={"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]]}, holidays=["01-07"]
    )
    assert is_open(monday_evening, datetime(2025, 1, 7, 1, 0, tzinfo=UTC))
    assert not is_open(monday_evening, datetime(2025, 1, 7, 3, 0, tzinfo=UTC))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(hours(), datetime(2025, 1, 6, 10, 0))  # noqa: DTZ001
