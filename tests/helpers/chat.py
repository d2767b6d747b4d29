"""A customer talking to the flow engine (no service, no database), and the queues of the
triage menu the flow tests share."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flows.context import BotConfig, Conversation, QueueInfo
from flows.engine import FlowResult, run_flow
from flows.events import Event, is_event
from flows.spec import validate_options_tree
from flows.texts import DEFAULT_TEXTS

MONDAY_10 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 10:00 in Sao Paulo, a Monday


class Chat:
    """A customer talking to the engine; applies the events as the service would."""

    def __init__(self, config: BotConfig, **conversation: Any) -> None:
        self.config = config
        self.state: dict[str, Any] = {}
        fields: dict[str, Any] = {
            "contact_name": "Maria Silva",
            "protocol": "20260302-0001",
            "now": MONDAY_10,
        }
        fields.update(conversation)
        self.conversation = Conversation(**fields)

    async def send(self, text: str) -> FlowResult:
        result = await run_flow(
            text=text, state=self.state, config=self.config, conversation=self.conversation
        )
        json.dumps(result.state)  # the flow state is stored as JSON
        self.state = result.state
        for event in result.events:
            if is_event(event, "set_queue"):
                self.conversation = replace(self.conversation, queue_id=event["queue_id"])
            elif is_event(event, "handoff"):
                self.conversation = replace(
                    self.conversation, queue_id=event["queue_id"], ticket_status="pending"
                )
            elif is_event(event, "close_ticket"):
                self.conversation = replace(self.conversation, ticket_status="closed")
            elif is_event(event, "opt_out"):
                self.conversation = replace(self.conversation, opted_out=True)
            elif is_event(event, "opt_in"):
                self.conversation = replace(self.conversation, opted_out=False)
        return result


def actions(result: FlowResult) -> list[Event]:
    """The events other than slots."""
    return [event for event in result.events if not is_event(event, "slot")]


# The triage menu's queues ------------------------------------------------------------------

PT = DEFAULT_TEXTS["pt-BR"]
MENU = f"{PT['menu_header']}\n1 - Suporte\n2 - Financeiro\n3 - Vendas"

FINANCE_OPTIONS = validate_options_tree(
    [
        {"key": "1", "title": "Segunda via", "action": "end", "message": "Gerando a segunda via."},
        {
            "key": "2",
            "title": "Negociar",
            "action": "submenu",
            "message": "Vamos negociar.",
            "children": [
                {"key": "1", "title": "Parcelar", "action": "human"},
                {"key": "2", "title": "Falar com vendas", "action": "queue", "queue_id": 3},
                {
                    "key": "3",
                    "title": "Mais",
                    "action": "submenu",
                    "children": [{"key": "1", "title": "Fim", "action": "end"}],
                },
            ],
        },
        {"key": "3", "title": "Ouvidoria", "action": "queue", "queue_id": 99},
    ]
)
FINANCE_MENU = (
    "Escolha uma opção:\n1 - Segunda via\n2 - Negociar\n3 - Ouvidoria\n0 - Voltar\n"
    "# - Menu principal"
)
NEGOTIATE_MENU = (
    "Escolha uma opção:\n1 - Parcelar\n2 - Falar com vendas\n3 - Mais\n0 - Voltar\n"
    "# - Menu principal"
)

SUPPORT = QueueInfo(
    id=1, name="Suporte", greeting="Oi {{first_name}}, aqui é o {{queue}}.", keywords=("internet",)
)
FINANCE = QueueInfo(
    id=2,
    name="Financeiro",
    greeting="Financeiro, protocolo {{protocol}}.",
    keywords=("boleto", "pagamento"),
    options=tuple(FINANCE_OPTIONS),
)
SALES = QueueInfo(id=3, name="Vendas")
