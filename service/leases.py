"""Leases: which worker runs what (each WhatsApp connection is run by exactly one worker).

With Redis, a lease is a key holding the worker's id with an expiry: taken with SET NX PX,
renewed and released only by its holder (compare-and-renew, compare-and-delete in Lua), so a
worker that dies loses its leases within their time to live and another takes over.

Without Redis (embedded mode) there is one server process and every lease is its own; a lock
file in DATA_DIR still tells another process (`atende connect` in a second terminal) that the
server runs the connection."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis

__all__ = [
    "Leases",
    "LocalLeases",
    "RedisLeases",
    "connection_lease",
    "installation_mark",
    "new_worker_id",
]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: a lease is then only this process's
    fcntl = None  # type: ignore[assignment]

_PREFIX = "atende:lease:"

# Both scripts act only when the key still holds our id: a lease that expired and was taken
# by another worker is never renewed nor deleted by its former holder.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def new_worker_id() -> str:
    """This worker's id, `hostname:pid:random` (the random part tells a restarted pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def installation_mark(database_url: str) -> str:
    """What tells this installation's workers from another's on a shared Redis server: its
    database's name (host and credentials left out, which workers may spell differently)."""
    return hashlib.sha256(urlsplit(database_url).path.encode()).hexdigest()[:12]


def connection_lease(connection_id: int) -> str:
    """The name of the lease on running a connection."""
    return f"connection:{connection_id}"


class Leases(Protocol):
    """Exclusive, expiring claims on names, held by `worker_id`."""

    worker_id: str
    ttl_seconds: float

    async def acquire(self, name: str) -> bool:
        """Take the lease if nobody holds it (True also when we already hold it)."""

    async def renew(self, name: str) -> bool:
        """Extend our lease; False when it is no longer ours (expired, taken by another)."""

    async def release(self, name: str) -> None:
        """Give the lease up, if it is still ours."""

    async def holder(self, name: str) -> str | None:
        """Who holds the lease now (None: nobody)."""


class RedisLeases:
    """Leases shared by every worker that uses this Redis database; `namespace` (see
    installation_mark) keeps installations that share it apart."""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: float,
        namespace: str = "",
        worker_id: str | None = None,
    ) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.ttl_seconds = ttl_seconds
        self.prefix = f"{_PREFIX}{namespace}:" if namespace else _PREFIX
        self._redis = redis
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl_seconds * 1000))

    async def acquire(self, name: str) -> bool:
        key = self.prefix + name
        if await self._redis.set(key, self.worker_id, nx=True, px=self._ttl_ms):
            return True
        # Already ours (say, taken again after a restart of the loop): renew, do not fail.
        return await self.renew(name)

    async def renew(self, name: str) -> bool:
        renewed = await self._renew(keys=[self.prefix + name], args=[self.worker_id, self._ttl_ms])
        return bool(renewed)

    async def release(self, name: str) -> None:
        await self._release(keys=[self.prefix + name], args=[self.worker_id])

    async def holder(self, name: str) -> str | None:
        value = await self._redis.get(self.prefix + name)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)


class LocalLeases:
    """Embedded mode: every lease is this process's; with a `directory`, a lock file per lease
    keeps a second process on the same DATA_DIR from running the same connection."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        ttl_seconds: float = 30.0,
        worker_id: str | None = None,
    ) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.ttl_seconds = ttl_seconds
        self._directory = directory
        self._held: dict[str, IO[bytes] | None] = {}

    async def acquire(self, name: str) -> bool:
        if name in self._held:
            return True
        taken, handle = self._lock(name)
        if not taken:
            return False
        self._held[name] = handle
        return True

    async def renew(self, name: str) -> bool:
        return name in self._held

    async def release(self, name: str) -> None:
        handle = self._held.pop(name, None)
        if handle is not None:
            handle.close()  # closing the file drops its lock

    async def holder(self, name: str) -> str | None:
        if name in self._held:
            return self.worker_id
        taken, handle = self._lock(name)
        if not taken:
            return "another process"
        if handle is not None:
            handle.close()
        return None

    def _lock(self, name: str) -> tuple[bool, IO[bytes] | None]:
        """(True, the open locked file) or (False, None) when another process holds it;
        (True, None) when there is no directory to lock in."""
        if self._directory is None or fcntl is None:
            return True, None
        self._directory.mkdir(parents=True, exist_ok=True)
        handle = (self._directory / f"{name.replace(':', '-')}.lock").open("ab")
        try:
            # flock belongs to the open file: a process that dies releases it by itself.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False, None
        return True, handle
