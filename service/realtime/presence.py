"""Which agents are online: one entry per open socket, kept alive by the socket's heartbeat.

An entry expires on its own when a worker dies without saying goodbye, so a crash leaves
nobody "online" for longer than the heartbeat's time to live."""

from __future__ import annotations

import time
from typing import Protocol

from pydantic import BaseModel
from redis.asyncio import Redis

__all__ = ["PRESENCE_UPDATED", "MemoryPresence", "Presence", "PresenceOut", "RedisPresence"]

PRESENCE_UPDATED = "presence.updated"


class PresenceOut(BaseModel):
    """The data of `presence.updated`: a user came online or went offline."""

    user_id: int | None
    online: bool


TTL_SECONDS = 60.0


def _member(user_id: int, socket_id: str) -> str:
    return f"{user_id}:{socket_id}"


def _users(members: list[str]) -> set[int]:
    return {int(member.partition(":")[0]) for member in members}


class Presence(Protocol):
    async def join(self, company_id: int, user_id: int, socket_id: str) -> bool:
        """Count this socket in; True if its user was offline until now."""

    async def beat(self, company_id: int, user_id: int, socket_id: str) -> None: ...

    async def leave(self, company_id: int, user_id: int, socket_id: str) -> bool:
        """Count this socket out; True if its user has no socket left."""

    async def online(self, company_id: int) -> set[int]: ...


class MemoryPresence:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self._ttl = ttl
        self._expiry: dict[int, dict[str, float]] = {}

    def _live(self, company_id: int) -> dict[str, float]:
        entries = self._expiry.setdefault(company_id, {})
        now = time.monotonic()
        for member in [m for m, expiry in entries.items() if expiry <= now]:
            del entries[member]
        return entries

    async def join(self, company_id: int, user_id: int, socket_id: str) -> bool:
        entries = self._live(company_id)
        was_online = user_id in _users(list(entries))
        entries[_member(user_id, socket_id)] = time.monotonic() + self._ttl
        return not was_online

    async def beat(self, company_id: int, user_id: int, socket_id: str) -> None:
        self._live(company_id)[_member(user_id, socket_id)] = time.monotonic() + self._ttl

    async def leave(self, company_id: int, user_id: int, socket_id: str) -> bool:
        entries = self._live(company_id)
        entries.pop(_member(user_id, socket_id), None)
        return user_id not in _users(list(entries))

    async def online(self, company_id: int) -> set[int]:
        return _users(list(self._live(company_id)))


class RedisPresence:
    """A sorted set per company: members `user:socket`, scored by when they expire."""

    def __init__(self, redis: Redis, ttl: float = TTL_SECONDS) -> None:
        self._redis = redis
        self._ttl = ttl

    @staticmethod
    def _key(company_id: int) -> str:
        return f"atende:presence:{company_id}"

    async def _members(self, company_id: int) -> list[str]:
        now = time.time()
        key = self._key(company_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrangebyscore(key, now, "+inf")
            _, members = await pipe.execute()
        return [str(m) for m in members]

    async def join(self, company_id: int, user_id: int, socket_id: str) -> bool:
        was_online = user_id in _users(await self._members(company_id))
        await self.beat(company_id, user_id, socket_id)
        return not was_online

    async def beat(self, company_id: int, user_id: int, socket_id: str) -> None:
        key = self._key(company_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {_member(user_id, socket_id): time.time() + self._ttl})
            pipe.expire(key, int(self._ttl * 2))
            await pipe.execute()

    async def leave(self, company_id: int, user_id: int, socket_id: str) -> bool:
        await self._redis.zrem(self._key(company_id), _member(user_id, socket_id))
        return user_id not in _users(await self._members(company_id))

    async def online(self, company_id: int) -> set[int]:
        return _users(await self._members(company_id))
