"""The one variable renderer: time-dependent variables on the company's clock, and the
save-time check of unknown variables."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.context import BotConfig, Conversation, QueueInfo
from flows.spec import BusinessHours
from flows.texts import (
    CONTACT_VARIABLES,
    VARIABLES,
    fill,
    render,
    unknown_variable_message,
    unknown_variables,
)

# 13:16 UTC on a Monday: 10:16 in São Paulo, 22:16 in Tokyo.
MORNING_IN_SAO_PAULO = datetime(2026, 3, 2, 13, 16, tzinfo=UTC)


def _conversation(**extra: object) -> Conversation:
    return Conversation(
        contact_name="Maria",
        protocol="7",
        now=MORNING_IN_SAO_PAULO,
        **extra,  # type: ignore[arg-type]
    )


def test_greeting_uses_the_company_zone_when_no_hours_are_set() -> None:
    config = BotConfig(timezone="America/Sao_Paulo")
    assert render("{{greeting}}", config=config, conversation=_conversation()) == "Bom dia"
    tokyo = BotConfig(timezone="Asia/Tokyo", language="en")
    assert render("{{greeting}}", config=tokyo, conversation=_conversation()) == "Good evening"


def test_greeting_uses_the_queue_zone_when_its_hours_have_one() -> None:
    queue = QueueInfo(id=3, name="Japão", business_hours=BusinessHours(timezone="Asia/Tokyo"))
    config = BotConfig(timezone="America/Sao_Paulo", queues=(queue,))
    text = render("{{greeting}}", config=config, conversation=_conversation(queue_id=3))
    assert text == "Boa noite"
    # A ticket in no queue keeps the company's clock.
    assert render("{{greeting}}", config=config, conversation=_conversation()) == "Bom dia"


def test_fill_keeps_or_blanks_what_it_does_not_know() -> None:
    values = {"first_name": "Ana", "custom.cidade": "Recife"}
    assert fill("Oi {{ first_name }} de {{custom.cidade}}{{x}}", values) == "Oi Ana de Recife{{x}}"
    assert fill("Oi {{first_name}}{{x}}", values, missing="blank") == "Oi Ana"


def test_unknown_variables_are_named_in_the_users_language() -> None:
    assert unknown_variables("{{first_name}} {{primeiro_nome}} {{queue}}", VARIABLES) == [
        "primeiro_nome"
    ]
    assert unknown_variables("{{custom.plano}} {{queue}}", CONTACT_VARIABLES, custom=True) == [
        "queue"
    ]
    message = unknown_variable_message("primeiro_nome", VARIABLES, language="pt-BR")
    assert message.startswith("Variável desconhecida: {{primeiro_nome}}.")
    assert "{{first_name}}" in message
    assert unknown_variable_message("x", VARIABLES, language="es").startswith(
        "Variable desconocida: {{x}}"
    )
