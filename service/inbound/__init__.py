"""The inbound path: a message a channel reports, to the bot's replies sent.

    channel (bot/: chats named by number or group JID, one lane per chat)
       │ InboundMessage
       ▼
    arrival   the chat's number, the row to store, redelivery, per-ticket order
       ▼
    persist   stored on its chat's ticket, opening contact and ticket if new  ──► InboundStore
       │ Stored (the message, its contact, and on Postgres its ticket and row version)
       ▼
    process   unlocked: the turn on what persist read, saved if the ticket is unchanged
              locked:   lock the ticket, claim its waiting messages, a turn for each
       │   └─ flow: one message through flows/ and the ticket's lifecycle (a Unit)
       ▼
    effects   the ticket, its history lines and the replies stored in one statement;
              events published after the commit; replies sent

Persisting first makes a crash lose nothing: what was stored and not processed is processed
by `Pipeline.recover()` at start-up. Besides a customer's message, a channel reports
messages sent from the business's own phone, edits and revokes (service.inbound.changes),
and, when the connection enables groups, group messages (a ticket per group, never the bot).

The statements are the store's (service.inbound.store): Postgres and SQLite each speak
their own SQL on the driver's connection, the hot path never through the ORM's query
machinery. On Postgres a conversation going on costs two statements per customer message
that the bot does not answer (store-and-read, save) and one more per reply sent."""

from service.inbound.pipeline import Pipeline

__all__ = ["Pipeline"]
