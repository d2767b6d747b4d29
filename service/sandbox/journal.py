"""TEST ONLY: a sandbox channel that also writes every send to a journal file.

With ATENDE_SANDBOX_JOURNAL=path (set by the fault tests, which kill server processes), each
message a sandbox channel sends is appended to that file as one JSON line, written through
at once, so that what left survives a kill -9 and the test can count every message that was
sent twice. Lines are short single writes to a file opened for appending: the workers'
lines never interleave."""

from __future__ import annotations

import json
import os

from bot.channel import OutboundMessage
from bot.sandbox import SandboxChannel
from service.clock import Clock

__all__ = ["JournaledSandbox"]


class JournaledSandbox(SandboxChannel):
    def __init__(self, connection_id: int, *, clock: Clock, journal: str) -> None:
        super().__init__(connection_id, clock=clock)
        self._journal = journal

    async def send(self, message: OutboundMessage) -> str:
        channel_id = await super().send(message)
        line = {"message_id": message.message_id, "to": message.to, "channel_id": channel_id}
        descriptor = os.open(self._journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (json.dumps(line) + "\n").encode())
        finally:
            os.close(descriptor)
        return channel_id
