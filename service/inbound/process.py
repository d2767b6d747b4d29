"""Process: a ticket's stored messages through the bot, in order, one ticket at a time.

Two ways, with the same outcome:

- **Unlocked** (the common case on Postgres, where `persist` read the ticket and its row
  version with the message): the turn runs on what was read, and the result is saved in one
  statement that claims the message only if the ticket's row is still that version and no
  older message of it waits. No transaction is opened and no lock held across the bot's
  turn. If the ticket changed meanwhile, or the turn needs a write of its own, nothing is
  written and the message is processed the locked way.
- **Locked**: in a unit of work, the ticket is locked and its unprocessed messages claimed
  (they are marked processed by the transaction that processes them: a rollback leaves them
  for `recover`), each taken through the bot, and the result saved.

Events are published after the save's commit; replies are sent after that."""

from __future__ import annotations

from service.clock import Clock
from service.contacts.models import Contact
from service.inbound.arrival import TicketLocks
from service.inbound.effects import Effects, changed_fields, processed_values
from service.inbound.flow import Turn, Unit, is_fresh
from service.inbound.store import InboundStore, Stored
from service.outbound import OutboundSender
from service.realtime.broker import Broker
from service.realtime.events import EventBatch, transaction_with_events
from service.tickets.audience import ticket_audience
from service.tickets.models import Message

__all__ = ["Process"]


class Process:
    def __init__(self, *, broker: Broker, sender: OutboundSender, clock: Clock) -> None:
        self._broker = broker
        self._sender = sender
        self._clock = clock
        self._locks = TicketLocks()
        self._turn = Turn(sender=sender)
        self._effects = Effects(sender=sender, turn=self._turn)

    async def __call__(self, store: InboundStore, ticket_id: int, stored: Stored | None) -> None:
        """Every unprocessed message of the ticket; `stored`: the one just stored, if any."""
        async with self._locks(ticket_id):
            # Before the replies are saved, so that the sender can tell whether anybody
            # else could have sent them meanwhile.
            mark = self._sender.mark()
            replies: list[Message] = []
            try:
                number = await self._unlocked(store, stored, replies)
                if number is None:
                    async with transaction_with_events(self._broker) as batch:
                        number = await self._locked(store, ticket_id, stored, batch, replies)
            except BaseException:
                self._sender.release(replies)  # held for a send that will not come
                raise
            await self._effects.send(replies, number=number, mark=mark)

    async def _unlocked(
        self, store: InboundStore, stored: Stored | None, replies: list[Message]
    ) -> str | None:
        """The customer's number once saved; None when it must be done locked instead."""
        if stored is None or stored.version is None:
            return None
        ticket, message = stored.ticket, stored.message
        if ticket is None or message is None or (is_fresh(ticket) and stored.campaign_recent):
            return None
        now = self._clock()
        message.processed_at = now  # as the claim will store it
        unit = Unit(
            ticket=ticket,
            contact=stored.contact,
            batch=EventBatch(),
            now=now,
            connection=stored.connection,
            campaign_recent=stored.campaign_recent,
            unlocked=True,
        )
        before, was = processed_values(ticket), ticket_audience(ticket)
        if not await self._turn(store, unit, message):
            return None
        changed = changed_fields(ticket, before)
        saved = await self._effects.save_unlocked(store, stored, unit, changed)
        if saved is None:
            return None
        replies.extend(saved.replies)
        await self._effects.announce(store, unit, changed, saved.lines, was)
        await unit.batch.publish(self._broker)
        return stored.contact.number

    async def _locked(
        self,
        store: InboundStore,
        ticket_id: int,
        stored: Stored | None,
        batch: EventBatch,
        replies: list[Message],
    ) -> str:
        """The ticket's unprocessed messages through the bot, in the caller's transaction;
        the customer's number. The replies stored go to `replies`, held for sending after
        the commit."""
        now = self._clock()
        ticket, inbound = await store.lock_and_claim(ticket_id, now)
        if ticket is None or not inbound:
            return ""
        before, was = processed_values(ticket), ticket_audience(ticket)
        contact_id: int = ticket.contact_id  # type: ignore[attr-defined]
        if stored is not None and stored.contact.id == contact_id:
            # Read just now by persist, and only processing (under this ticket's lock)
            # changes what the bot reads of it.
            contact = stored.contact
        else:
            contact = await Contact.get(id=contact_id)
        unit = Unit(
            ticket=ticket,
            contact=contact,
            batch=batch,
            now=now,
            connection=stored.connection if stored is not None else None,
            campaign_recent=stored.campaign_recent if stored is not None else True,
        )
        for message in inbound:
            await self._turn(store, unit, message)
        changed = changed_fields(ticket, before)
        saved = await self._effects.save(store, unit, changed)
        replies.extend(saved.replies)
        await self._effects.announce(store, unit, changed, saved.lines, was)
        return contact.number
