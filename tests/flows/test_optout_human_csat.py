"""Opt-out/opt-in keywords, a human on request, and the satisfaction rating."""

from __future__ import annotations

from typing import Any

import pytest

from flows.builtin.csat import answers_question
from flows.context import BotConfig
from flows.events import Handoff, OptIn, OptOut, RateTicket, SlotSet
from flows.texts import DEFAULT_TEXTS
from tests.helpers.chat import (
    FINANCE,
    MENU,
    SALES,
    SUPPORT,
    Chat,
    actions,
)

PT = DEFAULT_TEXTS["pt-BR"]


def company(**overrides: Any) -> BotConfig:
    settings: dict[str, Any] = {"queues": (SUPPORT, FINANCE, SALES), "csat_enabled": True}
    settings.update(overrides)
    return BotConfig(**settings)


# Opt-out -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["SAIR", "stop", " Parar! ", "sáir"])
@pytest.mark.parametrize("status", ["bot", "pending", "open", "closed"])
async def test_optout_keywords_opt_out_at_any_time(text: str, status: str) -> None:
    chat = Chat(company(), ticket_status=status)
    result = await chat.send(text)
    assert result.messages == [PT["optout"]]
    assert actions(result) == [OptOut()]


async def test_optout_keeps_the_triage_where_it_was() -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send("sair")
    assert actions(result) == [OptOut()]
    assert chat.state["step"] == "Triage:menu"
    result = await chat.send("1")
    assert actions(result) == [Handoff(1)]


async def test_a_sentence_with_an_optout_word_is_not_an_optout() -> None:
    chat = Chat(company())
    result = await chat.send("não vou parar de pagar")
    assert OptOut() not in result.events


async def test_voltar_opts_back_in_only_a_contact_who_opted_out() -> None:
    chat = Chat(company())
    await chat.send("oi")
    await chat.send("STOP")
    assert chat.conversation.opted_out
    result = await chat.send("Voltar")
    assert result.messages == [PT["optin"]]
    assert actions(result) == [OptIn()]
    result = await chat.send("voltar")  # no longer opted out: an ordinary answer
    assert OptIn() not in result.events
    assert result.messages == [MENU]


async def test_optout_keywords_are_configurable() -> None:
    chat = Chat(company(optout_keywords=("descadastrar",), optin_keywords=("reativar",)))
    assert actions(await chat.send("sair")) == []
    assert actions(await chat.send("Descadastrar")) == [OptOut()]
    assert actions(await chat.send("reativar")) == [OptIn()]


# Human on request ----------------------------------------------------------------------------

HUMAN = (
    PT["human_handoff"].replace("{{first_name}}", "Maria").replace("{{protocol}}", "20260302-0001")
)


@pytest.mark.parametrize("text", ["atendente", "Quero falar com um ATENDENTE!", "humano", "agent"])
async def test_a_human_keyword_hands_over_at_once(text: str) -> None:
    chat = Chat(company(fallback_queue_id=3))
    result = await chat.send(text)
    assert result.messages == [HUMAN]
    assert actions(result) == [Handoff(3)]  # no queue chosen: the fallback queue, not limbo
    assert chat.state["step"] is None


async def test_a_human_keyword_without_a_fallback_queue_goes_to_the_default_queue() -> None:
    chat = Chat(company())
    await chat.send("oi")
    result = await chat.send("atendente")
    assert actions(result) == [Handoff(1)]  # the connection's first queue


async def test_a_human_keyword_inside_a_queue_menu_hands_over_to_that_queue() -> None:
    chat = Chat(company())
    await chat.send("oi")
    await chat.send("financeiro")
    result = await chat.send("humano por favor")
    assert result.messages == [HUMAN]
    assert actions(result) == [Handoff(2)]


async def test_human_keywords_are_words_and_configurable() -> None:
    chat = Chat(company(human_keywords=("falar com pessoa", "operador")))
    await chat.send("oi")
    result = await chat.send("atendente")
    assert actions(result) == []  # not a keyword of this company: a miss
    result = await chat.send("quero FALAR com péssoa")
    assert actions(result) == [Handoff(1)]
    chat = Chat(company(human_keywords=("operador",)))
    await chat.send("oi")
    assert actions(await chat.send("operadores")) == []


# CSAT ----------------------------------------------------------------------------------------


def rating_chat(**conversation: Any) -> Chat:
    chat = Chat(
        company(),
        ticket_status="closed",
        awaiting_rating=True,
        agent_name="João",
        queue_id=1,
        **conversation,
    )
    chat.state = {"awaiting_rating": True}
    return chat


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        (" 1 ", 1),
        ("4/5", 4),
        ("nota 3", 3),
        ("nota 4", 4),
        ("Nota: 4", 4),
        ("nota 4?", 4),
        ("2 estrelas", 2),
        ("⭐⭐⭐⭐", 4),
    ],
)
async def test_a_rating_is_stored_and_thanked(text: str, rating: int) -> None:
    chat = rating_chat()
    result = await chat.send(text)
    assert result.messages == ["Obrigado pela sua avaliação, Maria!"]
    assert actions(result) == [RateTicket(rating)]
    assert chat.state["awaiting_rating"] is False


async def test_an_invalid_rating_is_asked_again_once_then_the_question_ends() -> None:
    chat = rating_chat()
    result = await chat.send("6")
    assert result.messages == [PT["csat_invalid"]]
    assert result.events == [SlotSet("csat_tries", 1)]
    result = await chat.send("foi ótimo")
    assert result.messages == []
    assert actions(result) == []
    assert chat.state == {"awaiting_rating": False, "csat_tries": 0}


@pytest.mark.parametrize("text", ["7", "valeu, obrigado!", "nota 7"])
def test_a_first_invalid_answer_belongs_to_the_question_a_second_does_not(text: str) -> None:
    asked = {"awaiting_rating": True, "csat_tries": 0}
    assert answers_question(asked, text)  # asked again once, on the closed ticket
    asked_again = {"awaiting_rating": True, "csat_tries": 1}
    assert not answers_question(asked_again, text)  # the question lapses: a new conversation
    assert answers_question(asked_again, "nota 4")  # a rating always answers it


async def test_while_awaiting_a_rating_no_triage_or_handoff_happens_but_optout_works() -> None:
    chat = rating_chat()
    result = await chat.send("atendente")
    assert actions(result) == []
    assert result.messages == [PT["csat_invalid"]]
    result = await chat.send("sair")
    assert actions(result) == [OptOut()]
    result = await chat.send("5")
    assert actions(result) == [RateTicket(5)]


async def test_the_csat_question_text_names_the_agent() -> None:
    from flows.texts import render, text_for

    chat = rating_chat()
    question = render(
        text_for("csat_question", config=chat.config),
        config=chat.config,
        conversation=chat.conversation,
    )
    assert "João" in question
    assert "1 a 5" in question
