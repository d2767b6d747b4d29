"""Triage as a customer sees it (DESIGN.md), end to end through the HTTP API and the sandbox:
a customer writes, the bot answers, agents see and work the ticket; and outbound statuses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.channel import Receipt
from flows.spec import WEEKDAYS
from flows.texts import DEFAULT_TEXTS
from service.contacts.phones import normalize_number
from service.tickets.models import Message, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant, make_tenant, unique
from tests.helpers.sandbox import agent_says, open_accepted_ticket, outbound_statuses, until_status

NUMBER = "+5511988887777"
PT = DEFAULT_TEXTS["pt-BR"]
EN = DEFAULT_TEXTS["en"]


# Helpers -------------------------------------------------------------------------------------


async def _queue(client: httpx.AsyncClient, tenant: Tenant, name: str, **body: Any) -> int:
    response = await client.post("/api/queues", json={"name": name, **body}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _connection(
    client: httpx.AsyncClient, tenant: Tenant, queue_ids: list[int], greeting: str = ""
) -> int:
    response = await client.post(
        "/api/connections",
        json={
            "name": unique("sandbox"),
            "channel": "sandbox",
            "greeting": greeting,
            "queue_ids": queue_ids,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _setup(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """Suporte and Financeiro (keyword "boleto") on a connection that greets by first name."""
    suporte = await _queue(client, tenant, "Suporte", greeting="Você está no Suporte.")
    financeiro = await _queue(
        client, tenant, "Financeiro", greeting="Financeiro aqui.", keywords=["boleto"]
    )
    connection_id = await _connection(
        client, tenant, [suporte, financeiro], greeting="Olá {{first_name}}!"
    )
    return {"connection_id": connection_id, "suporte": suporte, "financeiro": financeiro}


async def _settings(client: httpx.AsyncClient, tenant: Tenant, **changes: Any) -> None:
    response = await client.patch("/api/settings", json=changes, headers=tenant.headers)
    assert response.status_code == 200, response.text


async def _write(
    client: httpx.AsyncClient,
    tenant: Tenant,
    connection_id: int,
    text: str,
    *,
    sender: str = "+55 11 98888-7777",
) -> list[str]:
    """The customer writes `text`; returns what the business sent in answer to it."""
    number = normalize_number(sender, "BR")
    before = len(await _received(client, tenant, connection_id, to=number))
    body = {"from": sender, "name": "Maria Silva", "text": text}
    response = await client.post(
        f"/api/sandbox/{connection_id}/inbound", json=body, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return (await _received(client, tenant, connection_id, to=number))[before:]


async def _received(
    client: httpx.AsyncClient, tenant: Tenant, connection_id: int, *, to: str = NUMBER
) -> list[str]:
    response = await client.get(
        f"/api/sandbox/{connection_id}/outbound", params={"to": to}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json()["items"]]


async def _ticket(connection_id: int) -> Ticket:
    """The customer's latest ticket on the connection."""
    ticket = await Ticket.filter(connection_id=connection_id).order_by("-id").first()
    assert ticket is not None
    return ticket


def _menu(*names: str, texts: Any = PT) -> str:
    lines = [f"{index} - {name}" for index, name in enumerate(names, start=1)]
    return "\n".join([texts["menu_header"], *lines])


async def _agent_of(client: httpx.AsyncClient, tenant: Tenant, queue_id: int) -> Any:
    agent = await tenant.member(Role.agent)
    joined = await client.patch(
        f"/api/users/{agent.user.id}", json={"queue_ids": [queue_id]}, headers=tenant.headers
    )
    assert joined.status_code == 200, joined.text
    return agent


async def _contact(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    found = await client.get("/api/contacts", params={"q": NUMBER}, headers=tenant.headers)
    [contact] = found.json()["items"]
    response = await client.get(f"/api/contacts/{contact['id']}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _hours_closed_now(clock: FakeClock) -> dict[str, Any]:
    """Business hours open all day tomorrow only (UTC): closed whatever time it is now."""
    tomorrow = WEEKDAYS[(clock() + timedelta(days=1)).weekday()]
    return {"timezone": "UTC", "days": {tomorrow: [["00:00", "24:00"]]}}


# First message -------------------------------------------------------------------------------


async def test_several_queues_greeting_then_numbered_menu(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    answer = await _write(client, tenant, setup["connection_id"], "oi")
    assert answer == ["Olá Maria!", _menu("Suporte", "Financeiro")]
    ticket = await _ticket(setup["connection_id"])
    assert ticket.status is TicketStatus.bot
    assert ticket.queue_id is None  # type: ignore[attr-defined]


async def test_one_queue_goes_straight_to_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    vendas = await _queue(client, tenant, "Vendas", greeting="Bem-vindo às Vendas.")
    connection_id = await _connection(client, tenant, [vendas], greeting="Olá {{first_name}}!")
    answer = await _write(client, tenant, connection_id, "oi")
    assert answer == ["Olá Maria!", "Bem-vindo às Vendas."]
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == vendas  # type: ignore[attr-defined]


async def test_no_queue_the_ticket_waits_without_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    connection_id = await _connection(client, tenant, [], greeting="Olá {{first_name}}!")
    answer = await _write(client, tenant, connection_id, "oi")
    ticket = await _ticket(connection_id)
    assert answer == ["Olá Maria!", PT["waiting"].replace("{{protocol}}", str(ticket.id))]
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id is None  # type: ignore[attr-defined]
    assert await _write(client, tenant, connection_id, "alguém aí?") == []  # the bot is silent


# The answer to the menu ----------------------------------------------------------------------


async def test_the_answer_as_number_name_or_keyword(client: httpx.AsyncClient) -> None:
    for text, queue, greeting in (
        ("2", "financeiro", "Financeiro aqui."),
        ("Suporte", "suporte", "Você está no Suporte."),
        ("suporte!", "suporte", "Você está no Suporte."),
        ("quero falar do boleto", "financeiro", "Financeiro aqui."),
        ("finaceiro", "financeiro", "Financeiro aqui."),  # a typo is close enough
    ):
        company = await make_tenant(client)  # a fresh customer and menu each time
        setup = await _setup(client, company)
        await _write(client, company, setup["connection_id"], "oi")
        answer = await _write(client, company, setup["connection_id"], text)
        assert answer == [greeting], text
        ticket = await _ticket(setup["connection_id"])
        assert ticket.status is TicketStatus.pending, text
        assert ticket.queue_id == setup[queue], text  # type: ignore[attr-defined]


async def test_a_miss_repeats_the_menu_then_the_fallback_queue(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    await _settings(client, tenant, triage_max_misses=2, fallback_queue_id=setup["financeiro"])
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    menu = _menu("Suporte", "Financeiro")
    assert await _write(client, tenant, connection_id, "xyz") == [PT["not_understood"], menu]
    assert (await _ticket(connection_id)).status is TicketStatus.bot
    assert await _write(client, tenant, connection_id, "9") == [PT["fallback"]]
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == setup["financeiro"]  # type: ignore[attr-defined]
    assert await _write(client, tenant, connection_id, "xyz") == []  # no loop: people now


# Nested options ------------------------------------------------------------------------------


async def _with_options(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    setup = await _setup(client, tenant)
    options = [
        {
            "key": "1",
            "title": "Internet",
            "message": "Sobre a sua internet:",
            "action": "submenu",
            "children": [
                {"key": "1", "title": "Sem sinal", "message": "Reinicie o modem.", "action": "end"},
                {"key": "2", "title": "Lenta", "action": "human"},
            ],
        },
        {"key": "2", "title": "Segunda via", "action": "queue", "queue_id": setup["financeiro"]},
        {"key": "3", "title": "Encerrar", "message": "Até logo!", "action": "end"},
    ]
    response = await client.patch(
        f"/api/queues/{setup['suporte']}", json={"options": options}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return setup


TOP = "\n".join(
    [
        PT["submenu_header"],
        "1 - Internet",
        "2 - Segunda via",
        "3 - Encerrar",
        PT["back_hint"],
        PT["main_menu_hint"],
    ]
)
INTERNET = "\n".join(
    [PT["submenu_header"], "1 - Sem sinal", "2 - Lenta", PT["back_hint"], PT["main_menu_hint"]]
)


async def test_options_walk_back_main_menu_and_forward_to_another_queue(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _with_options(client, tenant)
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    assert await _write(client, tenant, connection_id, "1") == ["Você está no Suporte.", TOP]
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.bot
    assert ticket.queue_id == setup["suporte"]  # type: ignore[attr-defined]
    assert await _write(client, tenant, connection_id, "1") == ["Sobre a sua internet:", INTERNET]
    assert await _write(client, tenant, connection_id, "0") == [TOP]  # back one level
    assert await _write(client, tenant, connection_id, "internet") == [
        "Sobre a sua internet:",
        INTERNET,
    ]
    menu = _menu("Suporte", "Financeiro")
    assert await _write(client, tenant, connection_id, "#") == [menu]  # the main menu
    assert (await _ticket(connection_id)).queue_id is None  # type: ignore[attr-defined]
    assert await _write(client, tenant, connection_id, "1") == ["Você está no Suporte.", TOP]
    assert await _write(client, tenant, connection_id, "0") == [menu]  # back from the top
    await _write(client, tenant, connection_id, "1")
    assert await _write(client, tenant, connection_id, "2") == ["Financeiro aqui."]
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == setup["financeiro"]  # type: ignore[attr-defined]


async def test_an_end_option_closes_the_ticket_with_its_message_as_the_farewell(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _with_options(client, tenant)
    await _settings(client, tenant, csat_enabled=True)
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    await _write(client, tenant, connection_id, "suporte")
    assert await _write(client, tenant, connection_id, "3") == ["Até logo!"]  # no rating asked
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.closed
    assert ticket.closed_at is not None
    assert ticket.queue_id == setup["suporte"]  # type: ignore[attr-defined]
    assert not ticket.flow_state.get("awaiting_rating")
    history = await client.get(f"/api/tickets/{ticket.id}/history", headers=tenant.headers)
    assert history.status_code == 200, history.text
    [closed] = [line for line in history.json()["items"] if line["kind"] == "closed"]
    assert closed["reason"] == "menu_end"
    assert closed["actor"]["kind"] == "bot"
    # The conversation is over: the next message is a new one, greeted anew.
    assert await _write(client, tenant, connection_id, "oi") == [
        "Olá Maria!",
        _menu("Suporte", "Financeiro"),
    ]
    assert (await _ticket(connection_id)).id != ticket.id


async def test_a_nested_end_option_and_a_miss_in_a_submenu(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _with_options(client, tenant)
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    await _write(client, tenant, connection_id, "1")
    await _write(client, tenant, connection_id, "1")
    assert await _write(client, tenant, connection_id, "xyz") == [PT["not_understood"], INTERNET]
    assert await _write(client, tenant, connection_id, "1") == ["Reinicie o modem."]
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.closed
    assert ticket.queue_id == setup["suporte"]  # type: ignore[attr-defined]


# Business hours ------------------------------------------------------------------------------


async def test_out_of_hours_message_once_and_the_ticket_waits(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(client, tenant)
    closed = await client.patch(
        f"/api/queues/{setup['financeiro']}",
        json={"business_hours": _hours_closed_now(clock), "out_of_hours_message": "Fechados!"},
        headers=tenant.headers,
    )
    assert closed.status_code == 200, closed.text
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    assert await _write(client, tenant, connection_id, "2") == ["Fechados!"]
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == setup["financeiro"]  # type: ignore[attr-defined]
    assert await _write(client, tenant, connection_id, "olá?") == []
    assert await _write(client, tenant, connection_id, "alguém?") == []


async def test_company_hours_apply_to_queues_without_their_own(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    setup = await _setup(client, tenant)
    await _settings(client, tenant, business_hours=_hours_closed_now(clock))
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    answer = await _write(client, tenant, connection_id, "1")
    ticket = await _ticket(connection_id)
    expected = PT["out_of_hours"].replace("{{first_name}}", "Maria")
    assert answer == [expected.replace("{{protocol}}", str(ticket.id))]
    assert ticket.status is TicketStatus.pending
    # Once the company is open, a new ticket's customer is not told it is closed.
    today = WEEKDAYS[clock().weekday()]
    await _settings(
        client, tenant, business_hours={"timezone": "UTC", "days": {today: [["00:00", "24:00"]]}}
    )
    closed = await client.post(f"/api/tickets/{ticket.id}/close", headers=tenant.headers)
    assert closed.status_code == 200, closed.text
    await _write(client, tenant, connection_id, "oi")
    assert await _write(client, tenant, connection_id, "1") == ["Você está no Suporte."]


async def test_out_of_hours_with_closed_action_closes_the_ticket(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    vendas = await _queue(
        client,
        tenant,
        "Vendas",
        greeting="Vendas aqui.",
        business_hours=_hours_closed_now(clock),
        out_of_hours_message="Fechados!",
    )
    await _settings(client, tenant, out_of_hours_action="closed")
    connection_id = await _connection(client, tenant, [vendas])
    answer = await _write(client, tenant, connection_id, "oi")
    assert answer[-1] == "Fechados!"
    assert "Vendas aqui." not in answer
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.closed
    assert ticket.queue_id == vendas  # type: ignore[attr-defined]
    assert ticket.closed_at is not None
    # Each message after that is a new ticket, closed at once: told once, not every time.
    again = await _write(client, tenant, connection_id, "oi?")
    assert "Fechados!" not in again
    latest = await _ticket(connection_id)
    assert latest.id != ticket.id
    assert latest.status is TicketStatus.closed


# A human on request --------------------------------------------------------------------------


async def test_human_keyword_at_the_menu_and_inside_a_queue(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _with_options(client, tenant)
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    answer = await _write(client, tenant, connection_id, "quero um atendente")
    ticket = await _ticket(connection_id)
    notice = PT["human_handoff"].replace("{{first_name}}", "Maria")
    assert answer == [notice.replace("{{protocol}}", str(ticket.id))]
    assert ticket.status is TicketStatus.pending
    # No queue chosen and no fallback queue: the connection's default (first) queue.
    assert ticket.queue_id == setup["suporte"]  # type: ignore[attr-defined]

    company = await make_tenant(client)
    other = await _with_options(client, company)
    connection_id = other["connection_id"]
    await _write(client, company, connection_id, "oi")
    await _write(client, company, connection_id, "1")
    await _write(client, company, connection_id, "1")
    answer = await _write(client, company, connection_id, "HUMANO")
    ticket = await _ticket(connection_id)
    assert answer == [notice.replace("{{protocol}}", str(ticket.id))]
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == other["suporte"]  # type: ignore[attr-defined]


async def test_atendente_at_the_main_menu_goes_to_the_fallback_queue_its_agents_see(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    await _settings(client, tenant, fallback_queue_id=setup["financeiro"])
    agent = await _agent_of(client, tenant, setup["financeiro"])
    await _write(client, tenant, setup["connection_id"], "oi")
    await _write(client, tenant, setup["connection_id"], "atendente")
    ticket = await _ticket(setup["connection_id"])
    assert ticket.status is TicketStatus.pending
    assert ticket.queue_id == setup["financeiro"]  # type: ignore[attr-defined]
    seen = await client.get("/api/tickets", params={"status": "pending"}, headers=agent.headers)
    assert [t["id"] for t in seen.json()["items"]] == [ticket.id]


# Agents see it -------------------------------------------------------------------------------


async def test_pending_in_the_chosen_queue_seen_by_its_agents_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    financeiro_agent = await _agent_of(client, tenant, setup["financeiro"])
    suporte_agent = await _agent_of(client, tenant, setup["suporte"])
    await _write(client, tenant, setup["connection_id"], "oi")
    await _write(client, tenant, setup["connection_id"], "boleto")
    ticket = await _ticket(setup["connection_id"])
    seen = await client.get(
        "/api/tickets", params={"status": "pending"}, headers=financeiro_agent.headers
    )
    assert seen.status_code == 200, seen.text
    assert [t["id"] for t in seen.json()["items"]] == [ticket.id]
    assert seen.json()["items"][0]["contact"]["number"] == NUMBER
    unseen = await client.get(
        "/api/tickets", params={"status": "pending"}, headers=suporte_agent.headers
    )
    assert ticket.id not in [t["id"] for t in unseen.json()["items"]]
    forbidden = await client.get(f"/api/tickets/{ticket.id}", headers=suporte_agent.headers)
    assert forbidden.status_code == 404


# The rating ----------------------------------------------------------------------------------


async def _closed_by_agent(
    client: httpx.AsyncClient, tenant: Tenant
) -> tuple[dict[str, Any], int, Any]:
    setup = await _setup(client, tenant)
    agent = await _agent_of(client, tenant, setup["suporte"])
    await _write(client, tenant, setup["connection_id"], "oi")
    await _write(client, tenant, setup["connection_id"], "1")
    ticket = await _ticket(setup["connection_id"])
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=agent.headers)
    assert accepted.status_code == 200, accepted.text
    before = len(await _received(client, tenant, setup["connection_id"]))
    closed = await client.post(f"/api/tickets/{ticket.id}/close", headers=agent.headers)
    assert closed.status_code == 200, closed.text
    question = (await _received(client, tenant, setup["connection_id"]))[before:]
    assert question == [PT["csat_question"].replace("{{agent}}", agent.user.name)]
    return setup, ticket.id, agent


async def test_after_closing_the_rating_is_stored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup, ticket_id, agent = await _closed_by_agent(client, tenant)
    answer = await _write(client, tenant, setup["connection_id"], "4")
    assert answer == [PT["csat_thanks"].replace("{{first_name}}", "Maria")]
    shown = await client.get(f"/api/tickets/{ticket_id}", headers=agent.headers)
    assert shown.json()["status"] == "closed"
    rated = await Ticket.get(id=ticket_id)
    assert rated.rating == 4
    assert await Ticket.filter(connection_id=setup["connection_id"]).count() == 1
    # The question is over: a later "5" is a new conversation, not a second rating.
    answer = await _write(client, tenant, setup["connection_id"], "5")
    assert answer[0] == "Olá Maria!"
    assert (await Ticket.get(id=ticket_id)).rating == 4
    assert await Ticket.filter(connection_id=setup["connection_id"]).count() == 2


@pytest.mark.parametrize("invalid", ["7", "valeu, obrigado!"])
async def test_an_invalid_rating_is_asked_again_once_then_nota_4_counts(
    client: httpx.AsyncClient, tenant: Tenant, invalid: str
) -> None:
    setup, ticket_id, _ = await _closed_by_agent(client, tenant)
    # Not a brand-new ticket with the greeting: the question again, on the closed ticket.
    assert await _write(client, tenant, setup["connection_id"], invalid) == [PT["csat_invalid"]]
    assert await Ticket.filter(connection_id=setup["connection_id"]).count() == 1
    answer = await _write(client, tenant, setup["connection_id"], "nota 4")
    assert answer == [PT["csat_thanks"].replace("{{first_name}}", "Maria")]
    rated = await Ticket.get(id=ticket_id)
    assert rated.rating == 4
    assert rated.status is TicketStatus.closed
    assert await Ticket.filter(connection_id=setup["connection_id"]).count() == 1


async def test_a_second_non_rating_answer_lets_the_question_go_and_starts_a_new_ticket(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup, ticket_id, _ = await _closed_by_agent(client, tenant)
    first = await _write(client, tenant, setup["connection_id"], "obrigado")
    assert first == [PT["csat_invalid"]]
    text = "tenho outra dúvida"
    answer = await _write(client, tenant, setup["connection_id"], text)
    assert answer == ["Olá Maria!", _menu("Suporte", "Financeiro")]
    old = await Ticket.get(id=ticket_id)
    assert old.rating is None
    assert old.flow_state.get("awaiting_rating") is False
    new = await _ticket(setup["connection_id"])
    assert new.id != ticket_id
    assert new.status is TicketStatus.bot
    assert new.last_message == text
    # A rating now belongs to no question: it is an answer to the new menu.
    assert await _write(client, tenant, setup["connection_id"], "2") == ["Financeiro aqui."]
    assert (await Ticket.get(id=ticket_id)).rating is None


async def test_a_reopened_ticket_is_no_longer_asking_for_a_rating(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup, ticket_id, agent = await _closed_by_agent(client, tenant)
    reopened = await client.post(f"/api/tickets/{ticket_id}/reopen", headers=agent.headers)
    assert reopened.status_code == 200, reopened.text
    # The customer talks to the agent again: the bot neither insists nor takes "5" as a rating.
    assert await _write(client, tenant, setup["connection_id"], "ok, obrigado") == []
    assert await _write(client, tenant, setup["connection_id"], "5") == []
    ticket = await Ticket.get(id=ticket_id)
    assert ticket.rating is None
    assert ticket.status is TicketStatus.open
    assert await Ticket.filter(connection_id=setup["connection_id"]).count() == 1


# Opt-out -------------------------------------------------------------------------------------


async def test_sair_opts_out_and_voltar_opts_back_in(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    assert await _write(client, tenant, connection_id, "SAIR") == [PT["optout"]]
    contact = await _contact(client, tenant)
    assert contact["opted_out"] is True
    assert await _write(client, tenant, connection_id, "VOLTAR") == [PT["optin"]]
    assert (await _contact(client, tenant))["opted_out"] is False
    # The triage goes on where it was.
    assert await _write(client, tenant, connection_id, "1") == ["Você está no Suporte."]


async def test_sair_works_while_the_ticket_waits_or_is_with_an_agent(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    connection_id = setup["connection_id"]
    await _write(client, tenant, connection_id, "oi")
    await _write(client, tenant, connection_id, "1")
    ticket = await _ticket(connection_id)
    assert ticket.status is TicketStatus.pending
    assert await _write(client, tenant, connection_id, "SAIR") == [PT["optout"]]
    assert (await _contact(client, tenant))["opted_out"] is True
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    assert await _write(client, tenant, connection_id, "VOLTAR") == [PT["optin"]]
    assert (await _contact(client, tenant))["opted_out"] is False
    assert await _write(client, tenant, connection_id, "1") == []  # the bot stays out of it
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status is TicketStatus.open


async def test_voltar_without_an_opt_out_is_just_text(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    await _write(client, tenant, setup["connection_id"], "oi")
    answer = await _write(client, tenant, setup["connection_id"], "VOLTAR")
    assert PT["optin"] not in answer
    assert (await _contact(client, tenant))["opted_out"] is False


# Texts per company ---------------------------------------------------------------------------


async def test_bot_texts_override_the_defaults_with_variables(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await _settings(
        client,
        tenant,
        bot_texts={
            "queue_chosen": "{{first_name}}, você está em {{queue}}. Protocolo {{protocol}}.",
            "not_understood": "Hein, {{name}}?",
        },
    )
    suporte = await _queue(client, tenant, "Suporte")  # no greeting of its own
    financeiro = await _queue(client, tenant, "Financeiro")
    connection_id = await _connection(client, tenant, [suporte, financeiro])
    await _write(client, tenant, connection_id, "oi")
    assert (await _write(client, tenant, connection_id, "xyz"))[0] == "Hein, Maria Silva?"
    answer = await _write(client, tenant, connection_id, "1")
    ticket = await _ticket(connection_id)
    assert answer == [f"Maria, você está em Suporte. Protocolo {ticket.id}."]


async def test_english_defaults(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await _settings(client, tenant, language="en")
    suporte = await _queue(client, tenant, "Support")
    financeiro = await _queue(client, tenant, "Billing")
    connection_id = await _connection(client, tenant, [suporte, financeiro])
    # A French number: not a language of the bot, so the company's.
    french = "+33 6 12 34 56 78"
    [welcome, menu] = await _write(client, tenant, connection_id, "hi", sender=french)
    greeting, rest = welcome.split(", ", 1)
    assert greeting in ("Good morning", "Good afternoon", "Good evening")
    assert rest == "Maria! Welcome."
    assert menu == _menu("Support", "Billing", texts=EN)
    not_understood = await _write(client, tenant, connection_id, "xyz", sender=french)
    assert not_understood == [EN["not_understood"], menu]
    answer = await _write(client, tenant, connection_id, "1", sender=french)
    assert answer == ["Alright, I'll forward you to Support."]


# Texts per language --------------------------------------------------------------------------


async def test_each_contact_is_answered_in_their_language(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    english = {"welcome": "Hello {{first_name}}, welcome to ACME.", "menu_header": "Pick one:"}
    await _settings(client, tenant, bot_texts_by_language={"en": english})
    suporte = await _queue(client, tenant, "Suporte")
    financeiro = await _queue(client, tenant, "Financeiro")
    connection_id = await _connection(client, tenant, [suporte, financeiro])

    # Brazil's number: the company's Portuguese.
    [welcome, menu] = await _write(client, tenant, connection_id, "oi")
    assert welcome.split(", ", 1)[0] in ("Bom dia", "Boa tarde", "Boa noite")
    assert menu == _menu("Suporte", "Financeiro")
    # A US number: English, the company's English texts where it has them.
    us = "+1 415 555 0100"
    answer = await _write(client, tenant, connection_id, "hi", sender=us)
    assert answer == ["Hello Maria, welcome to ACME.", "Pick one:\n1 - Suporte\n2 - Financeiro"]
    # A Spanish number: the Spanish defaults, greeting included.
    spain = "+34 612 34 56 78"
    [welcome, menu] = await _write(client, tenant, connection_id, "hola", sender=spain)
    assert welcome.split(", ", 1)[0] in ("Buenos días", "Buenas tardes", "Buenas noches")
    assert menu == _menu("Suporte", "Financeiro", texts=DEFAULT_TEXTS["es"])

    # The contact's language is theirs to see and for an admin to change.
    found = await client.get("/api/contacts", params={"q": "+14155550100"}, headers=tenant.headers)
    [contact] = found.json()["items"]
    assert contact["language"] == "en"
    changed = await client.patch(
        f"/api/contacts/{contact['id']}", json={"language": "es"}, headers=tenant.headers
    )
    assert changed.status_code == 200, changed.text
    answer = await _write(client, tenant, connection_id, "xyz", sender=us)
    assert answer[0] == DEFAULT_TEXTS["es"]["not_understood"]
    # Back to the company's language when the admin clears it.
    cleared = await client.patch(
        f"/api/contacts/{contact['id']}", json={"language": None}, headers=tenant.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert (await _write(client, tenant, connection_id, "xyz", sender=us))[0] == PT[
        "not_understood"
    ]


async def test_the_rating_and_farewell_follow_the_contacts_language(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await _settings(client, tenant, csat_enabled=True)
    suporte = await _queue(client, tenant, "Suporte")
    connection_id = await _connection(client, tenant, [suporte])
    us = "+1 415 555 0100"
    await _write(client, tenant, connection_id, "hi", sender=us)
    ticket = await _ticket(connection_id)
    accepted = await client.post(f"/api/tickets/{ticket.id}/accept", headers=tenant.headers)
    assert accepted.status_code == 200, accepted.text
    closed = await client.post(f"/api/tickets/{ticket.id}/close", headers=tenant.headers)
    assert closed.status_code == 200, closed.text
    question = await Message.filter(ticket_id=ticket.id, from_bot=True).order_by("-id").first()
    assert question is not None
    assert question.body.endswith("From 1 to 5, how would you rate our service?")
    assert await _write(client, tenant, connection_id, "9", sender=us) == [EN["csat_invalid"]]


# Outbound message statuses -------------------------------------------------------------------


async def test_an_agent_message_goes_pending_sent_delivered_read(
    app: Any, client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    created = await agent_says(client, tenant, ticket_id, "Olá, em que posso ajudar?")
    assert created["status"] == "pending"  # stored before the channel sends it
    delivered = await until_status(
        client, tenant, ticket_id, "Olá, em que posso ajudar?", "delivered"
    )
    assert delivered["error"] is None
    assert channel.sent[NUMBER][-1].text == "Olá, em que posso ajudar?"
    assert channel.sent[NUMBER][-1].message_id == created["id"]
    # The customer opens the chat: read; a late "delivered" never takes it back.
    stored = await Message.get(id=created["id"])
    assert stored.channel_message_id is not None
    await channel.read(stored.channel_message_id)
    await until_status(client, tenant, ticket_id, "Olá, em que posso ajudar?", "read")
    await app.ctx.channels.on_receipt(
        Receipt(channel.connection_id, stored.channel_message_id, "delivered", clock())
    )
    assert (await outbound_statuses(client, tenant, ticket_id))["Olá, em que posso ajudar?"][
        "status"
    ] == ("read")


async def test_a_send_failure_marks_the_message_failed_with_the_reason(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    sent_before = len(channel.sent[NUMBER])
    channel.fail_next(1, "number not on WhatsApp")
    await agent_says(client, tenant, ticket_id, "vai falhar")
    failed = (await outbound_statuses(client, tenant, ticket_id))["vai falhar"]
    assert failed["status"] == "failed"
    assert failed["error"] == "number not on WhatsApp"
    assert len(channel.sent[NUMBER]) == sent_before
    await agent_says(client, tenant, ticket_id, "agora vai")  # only the next send failed
    await until_status(client, tenant, ticket_id, "agora vai", "delivered")
    assert (await outbound_statuses(client, tenant, ticket_id))["vai falhar"]["status"] == "failed"


async def test_while_disconnected_messages_wait_then_go_in_order(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    await channel.disconnect()
    try:
        texts = [f"mensagem {index}" for index in range(3)]
        for text in texts:
            await agent_says(client, tenant, ticket_id, text)
        statuses = await outbound_statuses(client, tenant, ticket_id)
        assert [statuses[text]["status"] for text in texts] == ["pending"] * 3
        assert not any(m.text in texts for m in channel.sent[NUMBER])
    finally:
        await channel.reconnect()
    assert [m.text for m in channel.sent[NUMBER]][-3:] == texts
    for text in texts:
        await until_status(client, tenant, ticket_id, text, "delivered")


async def test_concurrent_senders_send_each_message_once_in_order(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ticket_id, channel = await open_accepted_ticket(app, client, tenant)
    sender = app.ctx.channels.sender
    await channel.disconnect()
    texts = [f"mensagem {index}" for index in range(5)]
    for text in texts:
        await agent_says(client, tenant, ticket_id, text)
    # The reconnect's retry, and an agent's action on the ticket, at the same time.
    await asyncio.gather(
        channel.reconnect(),
        sender.send_pending_of(ticket_id),
        sender.retry_pending(channel.connection_id),
    )
    assert [m.text for m in channel.sent[NUMBER] if m.text in texts] == texts
    for text in texts:
        await until_status(client, tenant, ticket_id, text, "delivered")


async def test_bot_replies_while_disconnected_wait_for_the_reconnect(
    app: Any, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    setup = await _setup(client, tenant)
    channel = await app.ctx.channels.sandbox(setup["connection_id"])
    await channel.disconnect()
    try:
        answer = await _write(client, tenant, setup["connection_id"], "oi")  # stored, not sent
        assert answer == ["Olá Maria!", _menu("Suporte", "Financeiro")]
        assert channel.sent[NUMBER] == []
        ticket = await _ticket(setup["connection_id"])
        statuses = await outbound_statuses(client, tenant, ticket.id)
        assert {m["status"] for m in statuses.values()} == {"pending"}
    finally:
        await channel.reconnect()
    assert [m.text for m in channel.sent[NUMBER]] == answer
    for text in answer:
        await until_status(client, tenant, ticket.id, text, "delivered")
