"""Who handles a customer's message in the inbound benchmark: the real pipeline (through the
sandbox channel, as POST /api/sandbox/{id}/inbound does, minus HTTP), the same through HTTP
to a server of its own, or the floor (the same writes with plain asyncpg, one transaction
per message)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import httpx

from bot.channel import OutboundMessage, Receipt
from bot.sandbox import SandboxChannel
from service.channels import ChannelHub
from tests.perf.environment import CompanySetup
from tests.perf.loads import Handle
from tests.perf.statements import LABEL

__all__ = [
    "Driver",
    "FloorDriver",
    "HttpDriver",
    "Numbers",
    "PipelineDriver",
    "handle_for",
    "text_for",
]

MENU_CHOICE_INDEX = 1
_SETTLE_SECONDS = 60.0


def text_for(conversation: int, index: int) -> str:
    """What customer `conversation` writes as message `index`: a greeting (the bot answers
    with the menu), a menu choice (the queue's greeting; the ticket waits in the queue),
    then ordinary messages for the agents (no keyword of the bot's)."""
    if index == 0:
        return "Olá, boa tarde"
    if index == MENU_CHOICE_INDEX:
        return str(1 + conversation % 2)
    return f"Sobre o pedido {1000 + conversation}: mensagem {index}"


class Numbers:
    """Customers' numbers: each load gets a block no earlier load used, so it starts with
    first messages (up to 10,000 conversations a block)."""

    def __init__(self) -> None:
        self._blocks = itertools.count(1)

    def block(self) -> int:
        return next(self._blocks)

    @staticmethod
    def number(block: int, conversation: int) -> str:
        return f"+551198{block:03d}{conversation:04d}"


class Driver(Protocol):
    name: str
    replies: int  # sent (the pipeline) or stored (the floor) so far

    async def write(self, number: str, text: str) -> float:
        """Handle one message; when it was done (time.perf_counter())."""
        ...

    async def settle(self) -> None:
        """Wait for the work a message leaves behind (the channel's receipts)."""
        ...


def handle_for(driver: Driver, numbers: Numbers) -> Handle:
    """A load's handle: fresh customers of a new block writing the script of text_for."""
    block = numbers.block()

    async def handle(conversation: int, index: int) -> float:
        return await driver.write(
            Numbers.number(block, conversation), text_for(conversation, index)
        )

    return handle


class PipelineDriver:
    """The real pipeline: the sandbox channel delivers, the hub's pipeline persists, runs the
    flow, stores and sends the replies and publishes to Redis.

    It watches the channel's sends (a message's latency ends when its last reply is sent)
    and the receipts the channel acknowledges them with (recorded under their own label,
    `<label>/receipt`), and counts the broker's events and publish calls per label."""

    name = "pipeline"

    def __init__(self, hub: ChannelHub, channel: SandboxChannel) -> None:
        self._channel = channel
        self._last_sent: dict[str, float] = {}
        self._receipts_pending = 0
        self._settled = asyncio.Event()
        self._settled.set()
        self.replies = 0
        self.publishes: Counter[str] = Counter()  # events
        self.publish_calls: Counter[str] = Counter()  # publish_many calls
        self._watch(hub, channel)

    @classmethod
    async def start(cls, hub: ChannelHub, connection_id: int) -> PipelineDriver:
        return cls(hub, await hub.sandbox(connection_id))

    def _watch(self, hub: ChannelHub, channel: SandboxChannel) -> None:
        # `publish` and event batches both come through `publish_many`.
        send, on_receipt, publish = channel.send, hub.on_receipt, hub.broker.publish_many

        async def watched_send(message: OutboundMessage) -> str:
            channel_id = await send(message)
            self._last_sent[message.to] = time.perf_counter()
            self.replies += 1
            # The channel has just created the task that acknowledges this send.
            self._receipts_pending += 1
            self._settled.clear()
            return channel_id

        async def watched_receipt(receipt: Receipt) -> None:
            label = LABEL.get()
            if label is not None:  # this task's own context: the label does not leak
                LABEL.set(f"{label}/receipt")
            try:
                await on_receipt(receipt)
            finally:
                self._receipts_pending -= 1
                if self._receipts_pending <= 0:
                    self._settled.set()

        async def watched_publish(events: Sequence[dict[str, Any]]) -> None:
            label = LABEL.get()
            if label is not None:
                self.publishes[label] += len(events)
                self.publish_calls[label] += 1
            await publish(events)

        # Instance attributes: the hub's pipeline and sender hold these very objects.
        channel.send = watched_send  # type: ignore[method-assign]
        hub.on_receipt = watched_receipt  # type: ignore[method-assign]
        hub.broker.publish_many = watched_publish  # type: ignore[method-assign]

    async def write(self, number: str, text: str) -> float:
        started = time.perf_counter()
        await self._channel.deliver(sender=number, text=text, push_name="Cliente Bench")
        done = time.perf_counter()
        sent = self._last_sent.get(number)
        return sent if sent is not None and sent >= started else done

    async def settle(self) -> None:
        # A receipt that never comes would otherwise hang the run.
        async with asyncio.timeout(_SETTLE_SECONDS):
            await self._settled.wait()


class HttpDriver:
    """The pipeline as a client meets it: POST /api/sandbox/{id}/inbound to `atende serve`
    in a process of its own, which answers once the bot's replies are sent."""

    name = "http"

    def __init__(self, http: httpx.AsyncClient, connection_id: int, headers: dict[str, str]):
        self._http = http
        self._path = f"/api/sandbox/{connection_id}/inbound"
        self._headers = headers
        self.replies = 0  # messages answered: the response does not count the replies

    async def write(self, number: str, text: str) -> float:
        body = {"from": number, "name": "Cliente Bench", "text": text}
        response = await self._http.post(self._path, json=body, headers=self._headers)
        response.raise_for_status()
        self.replies += 1
        return time.perf_counter()

    async def settle(self) -> None:
        return None


_UPSERT_CONTACT = """
INSERT INTO contacts (company_id, number, name, custom_fields, opted_out, opted_out_reason,
                      is_group, created_at, updated_at)
VALUES ($1, $2, $3, '{}'::jsonb, false, '', false, $4, $4)
ON CONFLICT (company_id, number) DO UPDATE SET name = EXCLUDED.name
RETURNING id"""
_ACTIVE_TICKET = """
SELECT id, status, queue_id, flow_state FROM tickets
WHERE contact_id = $1 AND connection_id = $2 AND status IN ('bot', 'pending', 'open')
FOR UPDATE"""
_NEW_TICKET = """
INSERT INTO tickets (company_id, contact_id, connection_id, status, flow_state, unread_count,
                     last_message, created_at, updated_at)
VALUES ($1, $2, $3, 'bot', '{}'::jsonb, 0, '', $4, $4)
RETURNING id, status, queue_id, flow_state"""
_MESSAGE_IN = """
INSERT INTO messages (company_id, ticket_id, connection_id, direction, body,
                      channel_message_id, status, from_bot, is_note, processed_at, created_at)
VALUES ($1, $2, $3, 'in', $4, $5, 'delivered', false, false, $6, $6)"""
_FLOW_STATE = """
UPDATE tickets SET flow_state = $2::jsonb, status = $3, queue_id = $4,
                   unread_count = unread_count + 1, last_message = $5, last_message_at = $6,
                   updated_at = $6
WHERE id = $1"""
_MESSAGE_OUT = """
INSERT INTO messages (company_id, ticket_id, connection_id, direction, body, status,
                      from_bot, is_note, processed_at, created_at)
VALUES ($1, $2, $3, 'out', $4, 'sent', true, false, $5, $5)"""


class FloorDriver:
    """The floor of the issue: per message, in one transaction, the contact upserted, the
    active ticket found (or created) and locked, the message stored, the flow state saved
    and a reply stored; the flow itself is a trivial stand-in (menu, then the queue)."""

    name = "floor"

    def __init__(self, pool: asyncpg.Pool, setup: CompanySetup) -> None:
        self._pool = pool
        self._setup = setup
        self.replies = 0

    async def write(self, number: str, text: str) -> float:
        try:
            await self._write(number, text)
        except asyncpg.UniqueViolationError:
            # Another message of this customer created the ticket first: as the pipeline does.
            await self._write(number, text)
        self.replies += 1
        return time.perf_counter()

    async def settle(self) -> None:
        return None

    async def _write(self, number: str, text: str) -> None:
        setup = self._setup
        now = datetime.now(UTC)
        async with self._pool.acquire() as connection, connection.transaction():
            contact_id = await connection.fetchval(
                _UPSERT_CONTACT, setup.company_id, number, "Cliente Bench", now
            )
            ticket = await connection.fetchrow(_ACTIVE_TICKET, contact_id, setup.connection_id)
            if ticket is None:
                ticket = await connection.fetchrow(
                    _NEW_TICKET, setup.company_id, contact_id, setup.connection_id, now
                )
            await connection.execute(
                _MESSAGE_IN,
                setup.company_id,
                ticket["id"],
                setup.connection_id,
                text,
                f"floor-{uuid.uuid4().hex}",
                now,
            )
            state, status, queue_id, reply = self._flow(ticket, text)
            await connection.execute(
                _FLOW_STATE, ticket["id"], json.dumps(state), status, queue_id, text[:500], now
            )
            await connection.execute(
                _MESSAGE_OUT, setup.company_id, ticket["id"], setup.connection_id, reply, now
            )

    def _flow(self, ticket: asyncpg.Record, text: str) -> tuple[Any, str, int | None, str]:
        """The next state, status, queue and reply: a new ticket gets the menu, a choice
        hands over to the queue, anything else leaves the ticket as it is."""
        state = json.loads(ticket["flow_state"])
        if not state:
            return {"step": "menu"}, "bot", None, "Olá! 1 - Suporte, 2 - Financeiro"
        if ticket["status"] == "bot" and text.strip() in ("1", "2"):
            queue_id = self._setup.queue_ids[int(text.strip()) - 1]
            return {"step": "queued"}, "pending", queue_id, "Você está na fila."
        return state, ticket["status"], ticket["queue_id"], "(recebido)"
