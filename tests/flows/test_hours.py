"""Business hours: the out-of-hours message once per closed window, then wait or close."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.builtin.hours import closed_since
from flows.context import BotConfig, QueueInfo
from flows.events import CloseTicket, Handoff, SetQueue
from flows.spec import BusinessHours
from flows.texts import DEFAULT_TEXTS
from tests.helpers.chat import (
    FINANCE,
    SALES,
    SUPPORT,
    Chat,
    actions,
)

OFFICE = BusinessHours.model_validate(
    {
        "timezone": "America/Sao_Paulo",
        "days": {day: [["08:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed")},
        "holidays": ["12-25", "2026-03-04"],
    }
)
NIGHT_SHIFT = BusinessHours.model_validate(
    {"timezone": "America/Sao_Paulo", "days": {"mon": [["18:00", "24:00"]]}}
)


def sao_paulo(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 (the 2nd is a Monday) at a Sao Paulo wall-clock time (UTC-3)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) + timedelta(hours=3)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (sao_paulo(2, 10), None),
        (sao_paulo(2, 12, 30), "2026-03-02T12:00:00-03:00"),  # lunch break
        (sao_paulo(2, 20), "2026-03-02T18:00:00-03:00"),
        (sao_paulo(3, 7), "2026-03-02T18:00:00-03:00"),  # overnight: the same window
        (sao_paulo(4, 10), "2026-03-03T18:00:00-03:00"),  # a holiday
        (sao_paulo(6, 10), "2026-03-03T18:00:00-03:00"),  # Friday: closed since Tuesday
        (sao_paulo(9, 7, 59), "2026-03-03T18:00:00-03:00"),
        (sao_paulo(9, 8), None),
    ],
)
def test_closed_since_names_the_start_of_the_closed_window(
    now: datetime, expected: str | None
) -> None:
    assert closed_since(OFFICE, now) == expected


def test_closed_since_handles_midnight_and_never_open() -> None:
    assert closed_since(NIGHT_SHIFT, sao_paulo(2, 23)) is None
    assert closed_since(NIGHT_SHIFT, sao_paulo(3, 1)) == "2026-03-03T00:00:00-03:00"
    assert closed_since(BusinessHours(timezone="UTC"), sao_paulo(3, 1)) == "always"


def company(**overrides: Any) -> BotConfig:
    settings: dict[str, Any] = {"queues": (SUPPORT, FINANCE, SALES), "business_hours": OFFICE}
    settings.update(overrides)
    return BotConfig(**settings)


OUT_OF_HOURS = (
    DEFAULT_TEXTS["pt-BR"]["out_of_hours"]
    .replace("{{first_name}}", "Maria")
    .replace("{{protocol}}", "20260302-0001")
)


async def test_choosing_a_queue_out_of_hours_gets_the_message_and_the_ticket_waits() -> None:
    chat = Chat(company(), now=sao_paulo(2, 20))
    await chat.send("oi")  # the menu is shown whatever the hour
    result = await chat.send("1")
    assert result.messages == [OUT_OF_HOURS]
    assert actions(result) == [Handoff(1)]
    assert chat.state["out_of_hours_window"] == "2026-03-02T18:00:00-03:00"


async def test_out_of_hours_action_closed_closes_the_ticket() -> None:
    chat = Chat(company(out_of_hours_action="closed"), now=sao_paulo(2, 20))
    await chat.send("oi")
    result = await chat.send("2")
    assert result.messages == [OUT_OF_HOURS]
    assert actions(result) == [SetQueue(2), CloseTicket("out_of_hours")]


async def test_the_out_of_hours_message_is_sent_once_per_closed_window() -> None:
    chat = Chat(company(), now=sao_paulo(2, 20))
    await chat.send("oi")
    await chat.send("1")
    # The ticket comes back to the bot (e.g. an agent returned it) in the same window.
    chat.conversation = replace(chat.conversation, ticket_status="bot", now=sao_paulo(3, 7))
    result = await chat.send("oi de novo")
    assert result.messages == []
    assert actions(result) == [Handoff(1)]
    # The next closed window gets it again.
    chat.conversation = replace(chat.conversation, ticket_status="bot", now=sao_paulo(3, 19))
    result = await chat.send("oi")
    assert result.messages == [OUT_OF_HOURS]
    assert chat.state["out_of_hours_window"] == "2026-03-03T18:00:00-03:00"


async def test_the_queue_hours_and_message_win_over_the_company_ones() -> None:
    always = BusinessHours.model_validate(
        {"timezone": "UTC", "days": {d: [["00:00", "24:00"]] for d in ("mon", "tue")}}
    )
    night_support = QueueInfo(
        id=1,
        name="Suporte",
        business_hours=NIGHT_SHIFT,
        out_of_hours_message="{{queue}} abre às 18h, {{first_name}}.",
    )
    config = company(queues=(night_support, FINANCE), business_hours=always)
    chat = Chat(config, now=sao_paulo(2, 10))
    await chat.send("oi")
    result = await chat.send("suporte")
    assert result.messages == ["Suporte abre às 18h, Maria."]
    assert actions(result) == [Handoff(1)]
    chat = Chat(config, now=sao_paulo(2, 10))
    await chat.send("oi")
    result = await chat.send("financeiro")  # company hours: open
    assert actions(result) == [SetQueue(2)]


async def test_a_queue_that_closes_while_the_customer_walks_its_menu() -> None:
    chat = Chat(company(), now=sao_paulo(2, 17, 59))
    await chat.send("oi")
    await chat.send("financeiro")
    chat.conversation = replace(chat.conversation, now=sao_paulo(2, 18, 1))
    result = await chat.send("1")
    assert result.messages == [OUT_OF_HOURS]
    assert actions(result) == [Handoff(2)]


async def test_asking_for_a_human_out_of_hours_gets_the_out_of_hours_message() -> None:
    chat = Chat(company(), now=sao_paulo(4, 10))
    result = await chat.send("quero um atendente")
    assert result.messages == [OUT_OF_HOURS]
    assert actions(result) == [Handoff(1)]  # no queue chosen: the connection's default one


async def test_without_queues_out_of_hours_the_ticket_still_waits() -> None:
    chat = Chat(company(queues=()), now=sao_paulo(2, 20))
    result = await chat.send("oi")
    assert result.messages[-1] == OUT_OF_HOURS
    assert actions(result) == [Handoff(None)]
