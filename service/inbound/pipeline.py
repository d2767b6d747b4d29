"""The inbound path's entry points (see service.inbound for the whole path)."""

from __future__ import annotations

from bot.channel import InboundMessage
from service.clock import Clock
from service.inbound.opening import Opening
from service.inbound.persist import Persist
from service.inbound.postgres import PostgresStore
from service.inbound.process import Process
from service.inbound.sqlite import SqliteStore
from service.inbound.store import InboundStore
from service.outbound import OutboundSender
from service.realtime.broker import Broker
from service.sql import is_postgres

__all__ = ["Pipeline"]


class Pipeline:
    def __init__(
        self, *, broker: Broker, sender: OutboundSender, clock: Clock, default_country: str
    ) -> None:
        self.clock = clock
        opening = Opening(broker=broker, clock=clock)
        self._persist = Persist(
            broker=broker, clock=clock, default_country=default_country, opening=opening
        )
        self._process = Process(broker=broker, sender=sender, clock=clock)
        self._postgres = PostgresStore()
        self._sqlite = SqliteStore()

    def _store(self) -> InboundStore:
        # The database is known once the ORM is up, not when the pipeline is made.
        return self._postgres if is_postgres() else self._sqlite

    async def receive(self, inbound: InboundMessage) -> int | None:
        """Persist and process one inbound message; its id, or None when nothing was left to
        process (a redelivery, a dropped message, an edit, a revoke, one sent from our phone)."""
        store = self._store()
        stored = await self._persist(store, inbound)
        if stored is None:
            return None
        await self._process(store, stored.ticket_id, stored)
        return stored.message_id

    async def persist(self, inbound: InboundMessage) -> tuple[int, int] | None:
        """Persisting alone: the ids of the message and ticket to process, or None (see
        `receive`)."""
        stored = await self._persist(self._store(), inbound)
        return None if stored is None else (stored.message_id, stored.ticket_id)

    async def process_ticket(self, ticket_id: int) -> None:
        """Run every unprocessed inbound message of the ticket, oldest first."""
        await self._process(self._store(), ticket_id, None)

    async def recover(self) -> int:
        """Process what was stored but not processed (a crash or a restart in between)."""
        store = self._store()
        ticket_ids = await store.waiting_tickets()
        for ticket_id in ticket_ids:
            await self._process(store, ticket_id, None)
        return len(ticket_ids)
