"""Triage, as a customer sees it (DESIGN.md), as engine-level conversations."""

from __future__ import annotations

from typing import Any

import pytest

from flows.builtin.triage import MENU_END
from flows.context import BotConfig, QueueInfo
from flows.events import CloseTicket, Handoff, SetQueue, SlotSet
from tests.helpers.chat import (
    FINANCE,
    FINANCE_MENU,
    FINANCE_OPTIONS,
    MENU,
    NEGOTIATE_MENU,
    PT,
    SALES,
    SUPPORT,
    Chat,
    actions,
)


def company(**overrides: Any) -> BotConfig:
    settings: dict[str, Any] = {
        "queues": (SUPPORT, FINANCE, SALES),
        "connection_greeting": "{{greeting}}, {{first_name}}! Bem-vindo à ACME.",
        "triage_max_misses": 3,
        "fallback_queue_id": 1,
    }
    settings.update(overrides)
    return BotConfig(**settings)


async def test_first_message_gets_the_greeting_and_the_numbered_queue_menu() -> None:
    chat = Chat(company())
    result = await chat.send("oi")
    assert result.messages == ["Bom dia, Maria! Bem-vindo à ACME.", MENU]
    assert actions(result) == []
    assert result.state["step"] == "Triage:menu"


async def test_without_a_connection_greeting_the_default_welcome_is_used() -> None:
    result = await Chat(company(connection_greeting="")).send("oi")
    assert result.messages == ["Bom dia, Maria! Seja bem-vindo(a).", MENU]


async def test_with_one_queue_the_customer_goes_straight_to_it() -> None:
    chat = Chat(company(queues=(SUPPORT,)))
    result = await chat.send("oi")
    assert result.messages == ["Bom dia, Maria! Bem-vindo à ACME.", "Oi Maria, aqui é o Suporte."]
    assert actions(result) == [Handoff(1)]


async def test_with_no_queue_the_ticket_waits_without_one() -> None:
    result = await Chat(company(queues=(), fallback_queue_id=None)).send("oi")
    assert result.messages[0] == "Bom dia, Maria! Bem-vindo à ACME."
    assert "protocolo: 20260302-0001" in result.messages[1].casefold()
    assert actions(result) == [Handoff(None)]


@pytest.mark.parametrize(
    ("answer", "queue_id"),
    [
        ("1", 1),
        (" 3 ", 3),
        ("Suporte", 1),
        ("VENDAS", 3),
        ("financeiro", 2),
        ("finaceiro", 2),  # a typo
        ("quero falar do boleto", 2),  # a keyword in a sentence
        ("minha internet caiu", 1),
        ("o pagamento não foi", 2),
        ("suporte técnico por favor", 1),
    ],
)
async def test_the_answer_may_be_the_number_the_name_a_keyword_or_close_text(
    answer: str, queue_id: int
) -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send(answer)
    assert chat.conversation.queue_id == queue_id
    assert any(event["queue_id"] == queue_id for event in actions(result))


async def test_a_miss_gets_didnt_understand_and_the_menu_again_then_the_fallback_queue() -> None:
    chat = Chat(company())
    await chat.send("oi")
    for misses, answer in enumerate(["abacaxi", "9"], start=1):
        result = await chat.send(answer)
        assert result.messages == [PT["not_understood"], MENU]
        assert actions(result) == []
        assert chat.state["misses"] == misses
    result = await chat.send("hein?")
    assert result.messages == [PT["fallback"]]
    assert actions(result) == [Handoff(1)]
    assert chat.conversation.ticket_status == "pending"


async def test_without_a_fallback_queue_the_connections_default_queue_gets_the_ticket() -> None:
    chat = Chat(company(fallback_queue_id=None, triage_max_misses=1, queues=(FINANCE, SUPPORT)))
    await chat.send("oi")
    result = await chat.send("nada a ver")
    assert actions(result) == [Handoff(FINANCE.id)]  # the connection's first queue


async def test_with_no_queue_on_the_connection_the_fallback_queue_gets_the_ticket() -> None:
    result = await Chat(company(queues=(), fallback_queue_id=7)).send("oi")
    assert actions(result) == [Handoff(7)]


def test_a_handoff_with_no_queue_chosen_goes_to_the_fallback_then_the_default_queue() -> None:
    assert company(fallback_queue_id=2).handoff_queue_id(None) == 2
    assert company(fallback_queue_id=2).handoff_queue_id(3) == 3
    assert company(fallback_queue_id=None).handoff_queue_id(None) == SUPPORT.id
    assert company(fallback_queue_id=None, queues=()).handoff_queue_id(None) is None


async def test_hash_and_zero_on_the_main_menu_show_it_again_without_a_miss() -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send("#")
    assert result.messages == [MENU]
    assert chat.state["misses"] == 0


async def test_choosing_a_queue_without_options_sends_its_greeting_and_hands_off() -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send("1")
    assert result.messages == ["Oi Maria, aqui é o Suporte."]
    assert actions(result) == [Handoff(1)]
    assert chat.state["step"] is None


async def test_a_queue_without_a_greeting_gets_the_default_notice() -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send("3")
    assert result.messages == ["Certo, vou encaminhar você para Vendas."]
    assert actions(result) == [Handoff(3)]


async def test_a_queue_with_options_shows_its_greeting_then_its_menu() -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send("boleto")
    assert result.messages == ["Financeiro, protocolo 20260302-0001.", FINANCE_MENU]
    assert actions(result) == [SetQueue(2)]
    assert chat.state["step"] == "Triage:options"
    assert chat.state["menu_queue_id"] == 2
    assert chat.conversation.ticket_status == "bot"


async def finance_chat(**overrides: Any) -> Chat:
    chat = Chat(company(**overrides))
    await chat.send("oi")
    await chat.send("2")
    return chat


async def test_submenu_shows_its_message_and_children_and_zero_goes_back() -> None:
    chat = await finance_chat()
    result = await chat.send("2")
    assert result.messages == ["Vamos negociar.", NEGOTIATE_MENU]
    assert chat.state["menu_path"] == ["2"]
    result = await chat.send("3")
    assert result.messages == ["Escolha uma opção:\n1 - Fim\n0 - Voltar\n# - Menu principal"]
    assert chat.state["menu_path"] == ["2", "3"]
    result = await chat.send("0")
    assert result.messages == [NEGOTIATE_MENU]
    result = await chat.send("Voltar")  # the hint's word works like "0"
    assert result.messages == [FINANCE_MENU]
    assert chat.state["menu_path"] == []
    assert actions(result) == []
    await chat.send("2")
    result = await chat.send("menu")  # and "menu" like "#"
    assert result.messages == [MENU]


async def test_zero_at_the_top_of_a_queue_menu_and_hash_anywhere_go_to_the_main_menu() -> None:
    chat = await finance_chat()
    result = await chat.send("0")
    assert result.messages == [MENU]
    assert actions(result) == [SetQueue(None)]
    assert chat.state["step"] == "Triage:menu"
    await chat.send("financeiro")
    await chat.send("2")
    result = await chat.send("#")
    assert result.messages == [MENU]
    result = await chat.send("1")
    assert actions(result) == [Handoff(1)]


async def test_end_option_sends_its_message_as_the_farewell_and_closes_the_ticket() -> None:
    chat = await finance_chat()
    result = await chat.send("1")
    assert result.messages == ["Gerando a segunda via."]
    assert actions(result) == [CloseTicket(MENU_END)]
    assert chat.conversation.ticket_status == "closed"
    assert chat.state["step"] is None
    assert not chat.state.get("awaiting_rating")  # nobody handled it: no rating question


async def test_an_end_option_without_a_message_says_the_default_farewell() -> None:
    chat = await finance_chat()
    await chat.send("2")
    await chat.send("3")
    result = await chat.send("1")
    assert result.messages == [PT["menu_end"].replace("{{protocol}}", "20260302-0001")]
    assert actions(result) == [CloseTicket("menu_end")]


async def test_an_option_may_be_chosen_by_its_title() -> None:
    chat = await finance_chat()
    result = await chat.send("segunda via")
    assert actions(result) == [CloseTicket(MENU_END)]


async def test_human_option_hands_off_now() -> None:
    chat = await finance_chat()
    await chat.send("2")
    result = await chat.send("1")
    assert result.messages == [
        PT["human_handoff"]
        .replace("{{first_name}}", "Maria")
        .replace("{{protocol}}", "20260302-0001")
    ]
    assert actions(result) == [Handoff(2)]


async def test_queue_option_forwards_to_that_queue_with_its_greeting() -> None:
    chat = await finance_chat()
    await chat.send("2")
    result = await chat.send("2")
    assert result.messages == ["Certo, vou encaminhar você para Vendas."]
    assert actions(result) == [Handoff(3)]


async def test_queue_option_to_a_queue_of_another_connection_hands_off_to_it() -> None:
    chat = await finance_chat()
    result = await chat.send("3")
    assert actions(result) == [Handoff(99)]


async def test_forwarding_to_a_queue_with_options_shows_its_menu() -> None:
    sales = QueueInfo(id=3, name="Vendas", options=tuple(FINANCE_OPTIONS[:1]))
    chat = await finance_chat(queues=(SUPPORT, FINANCE, sales))
    await chat.send("2")
    result = await chat.send("2")
    assert actions(result) == [SetQueue(3)]
    assert chat.state["menu_queue_id"] == 3
    assert result.messages[-1].startswith("Escolha uma opção:\n1 - Segunda via")


async def test_unknown_input_in_a_submenu_reprompts_and_counts_as_a_miss() -> None:
    chat = await finance_chat(triage_max_misses=2)
    await chat.send("2")
    result = await chat.send("7")
    assert result.messages == [PT["not_understood"], NEGOTIATE_MENU]
    assert chat.state["misses"] == 1
    result = await chat.send("xyz")
    assert result.messages == [PT["fallback"]]
    assert actions(result) == [Handoff(2)]  # stays in the queue it chose


async def test_single_queue_menu_has_no_main_menu_hints() -> None:
    chat = Chat(company(queues=(FINANCE,)))
    result = await chat.send("oi")
    assert result.messages[-1] == FINANCE_MENU.replace("\n0 - Voltar\n# - Menu principal", "")
    result = await chat.send("#")
    assert result.messages == [FINANCE_MENU.replace("\n0 - Voltar\n# - Menu principal", "")]
    assert actions(result) == []


async def test_a_queue_preset_by_the_service_skips_the_main_menu() -> None:
    chat = Chat(company(), queue_id=2)
    result = await chat.send("oi")
    assert result.messages[0] == "Financeiro, protocolo 20260302-0001."
    assert chat.state["step"] == "Triage:options"


async def test_a_menu_that_changed_under_the_customer_starts_over() -> None:
    chat = await finance_chat()
    await chat.send("2")
    chat.config = company(queues=(SUPPORT, SALES, QueueInfo(id=2, name="Financeiro")))
    result = await chat.send("1")
    assert result.messages[0] == "Certo, vou encaminhar você para Financeiro."
    assert actions(result) == [Handoff(2)]


async def test_the_bot_is_silent_once_people_have_the_ticket() -> None:
    chat = Chat(company(), ticket_status="open")
    result = await chat.send("oi")
    assert result.messages == []
    assert result.events == []


async def test_triage_state_slots_are_what_the_service_stores() -> None:
    chat = await finance_chat()
    assert chat.state == {
        "step": "Triage:options",
        "menu_queue_id": 2,
        "menu_path": [],
        "misses": 0,
    }
    result = await chat.send("1")
    assert SlotSet("step", None) in result.events
    assert chat.state["menu_queue_id"] is None
