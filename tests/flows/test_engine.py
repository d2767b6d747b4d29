"""The engine: slots in and out, texts collected, events returned, no I/O; and `render`."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from flows.context import BotConfig, Conversation, QueueInfo
from flows.engine import FlowResult, apply_slots, run_flow
from flows.events import (
    CloseTicket,
    Event,
    Handoff,
    OptIn,
    OptOut,
    RateTicket,
    SetQueue,
    SlotSet,
    is_event,
)
from flows.router import Router
from flows.spec import BusinessHours
from flows.texts import DEFAULT_TEXTS, TEXT_KEYS, render, text_for
from tests.helpers.chat import MONDAY_10, Chat


def test_events_are_rasa_style_dicts() -> None:
    assert Handoff(3) == {"event": "atende.handoff", "queue_id": 3, "timestamp": None}
    assert Handoff(None)["queue_id"] is None
    assert SetQueue(2) == {"event": "atende.set_queue", "queue_id": 2, "timestamp": None}
    assert CloseTicket("out_of_hours")["reason"] == "out_of_hours"
    assert OptOut()["event"] == "atende.opt_out"
    assert OptIn()["event"] == "atende.opt_in"
    assert RateTicket(5) == {"event": "atende.rate_ticket", "rating": 5, "timestamp": None}
    assert SlotSet("step", "x") == {
        "event": "slot",
        "name": "step",
        "value": "x",
        "timestamp": None,
    }
    with pytest.raises(ValueError, match="1 and 5"):
        RateTicket(6)
    assert is_event(Handoff(1), "handoff")
    assert is_event(Handoff(1), "atende.handoff")
    assert is_event(SlotSet("a", 1), "slot")
    assert not is_event(Handoff(1), "close_ticket")


def test_apply_slots_copies_and_handles_resets() -> None:
    state = {"a": [1], "b": 2}
    new = apply_slots(state, [SlotSet("a", [1, 2]), Handoff(1)])
    assert new == {"a": [1, 2], "b": 2}
    assert state == {"a": [1], "b": 2}
    assert apply_slots(state, [{"event": "reset_slots", "timestamp": None}, SlotSet("c", 1)]) == {
        "c": 1
    }


async def test_a_custom_router_gets_a_tracker_and_dispatcher_and_returns_the_result() -> None:
    router = Router()
    seen: dict[str, Any] = {}

    @router.message()
    def echo(tracker: Tracker, dispatcher: CollectingDispatcher, state: str | None) -> list[Event]:
        seen.update(text=tracker.latest_message["text"], count=tracker.get_slot("count"))
        seen["state"] = state
        dispatcher.utter_message(text=f"echo: {tracker.latest_message['text']}")
        return [SlotSet("count", (tracker.get_slot("count") or 0) + 1)]

    state = {"count": 1, "step": "somewhere"}
    before = copy.deepcopy(state)
    conversation = Conversation(contact_name="Ana", protocol="p1", now=MONDAY_10)
    result = await run_flow(
        text="hi", state=state, config=BotConfig(), conversation=conversation, router=router
    )
    assert result.messages == ["echo: hi"]
    assert result.events == [SlotSet("count", 2)]
    assert result.state == {"count": 2, "step": "somewhere"}
    assert state == before  # the input is never mutated
    assert seen == {"text": "hi", "count": 1, "state": "somewhere"}


async def test_an_unhandled_message_gives_an_empty_result() -> None:
    conversation = Conversation(contact_name="Ana", protocol="p1", now=MONDAY_10)
    result = await run_flow(
        text="hi", state={"x": 1}, config=BotConfig(), conversation=conversation, router=Router()
    )
    assert result == FlowResult(messages=[], events=[], state={"x": 1})


async def test_the_default_flows_are_deterministic() -> None:
    config = BotConfig(queues=(QueueInfo(id=1, name="Suporte"), QueueInfo(id=2, name="Vendas")))
    first = await Chat(config).send("oi")
    second = await Chat(config).send("oi")
    assert first == second


# Texts ---------------------------------------------------------------------------------------

SAO_PAULO = BusinessHours(timezone="America/Sao_Paulo")


def conversation_at(hour_utc: int, **extra: Any) -> Conversation:
    return Conversation(
        contact_name="  Maria  da Silva ",
        protocol="P-42",
        now=datetime(2026, 3, 2, hour_utc, 30, tzinfo=UTC),
        **extra,
    )


def test_render_fills_every_variable() -> None:
    config = BotConfig(business_hours=SAO_PAULO)
    text = render(
        "{{greeting}} {{name}}/{{first_name}} {{ queue }} {{agent}} {{protocol}} {{unknown}}",
        config=config,
        conversation=conversation_at(13, agent_name="João"),
        queue_name="Suporte",
    )
    assert text == "Bom dia Maria  da Silva/Maria Suporte João P-42 {{unknown}}"


@pytest.mark.parametrize(
    ("hour_utc", "language", "expected"),
    [
        (11, "pt-BR", "Bom dia"),  # 08:30 in Sao Paulo
        (16, "pt-BR", "Boa tarde"),  # 13:30
        (23, "pt-BR", "Boa noite"),  # 20:30
        (4, "pt-BR", "Boa noite"),  # 01:30
        (11, "en", "Good morning"),
        (16, "es", "Buenas tardes"),
    ],
)
def test_greeting_follows_the_company_clock(hour_utc: int, language: Any, expected: str) -> None:
    config = BotConfig(business_hours=SAO_PAULO, language=language)
    assert render("{{greeting}}", config=config, conversation=conversation_at(hour_utc)) == expected


def test_greeting_without_business_hours_uses_the_company_zone() -> None:
    # 11:30 UTC is 08:30 in the default company zone (America/Sao_Paulo).
    assert render("{{greeting}}", config=BotConfig(), conversation=conversation_at(11)) == "Bom dia"


def test_every_language_has_every_text_and_company_overrides_win() -> None:
    for language, texts in DEFAULT_TEXTS.items():
        assert tuple(texts) == TEXT_KEYS, language
    assert "não entendi" in text_for("not_understood", config=BotConfig())
    assert "didn't" in text_for("not_understood", config=BotConfig(language="en"))
    assert "no entendí" in text_for("not_understood", config=BotConfig(language="es"))
    custom = BotConfig(language="en", texts={"not_understood": "Hã?"})
    assert text_for("not_understood", config=custom) == "Hã?"
    assert text_for("fallback", config=custom) == DEFAULT_TEXTS["en"]["fallback"]


async def test_texts_come_out_in_the_company_language() -> None:
    config = BotConfig(
        language="en",
        timezone="UTC",  # the greeting's clock is not what this test is about
        queues=(QueueInfo(id=1, name="Support"), QueueInfo(id=2, name="Sales")),
    )
    result = await Chat(config).send("hi")
    assert result.messages == [
        "Good afternoon, Maria! Welcome.",
        f"{DEFAULT_TEXTS['en']['menu_header']}\n1 - Support\n2 - Sales",
    ]
