"""A ChannelEvents that keeps what a channel reported."""

from __future__ import annotations

from bot.channel import GroupRenamed, InboundMessage, Receipt, StateChange


class Recorder:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.receipts: list[Receipt] = []
        self.states: list[StateChange] = []
        self.renames: list[GroupRenamed] = []

    async def on_message(self, message: InboundMessage) -> None:
        self.messages.append(message)

    async def on_receipt(self, receipt: Receipt) -> None:
        self.receipts.append(receipt)

    async def on_state(self, change: StateChange) -> None:
        self.states.append(change)

    async def on_group_renamed(self, change: GroupRenamed) -> None:
        self.renames.append(change)
