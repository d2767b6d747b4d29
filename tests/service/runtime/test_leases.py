"""Leases: exclusive, expiring, renewed and released only by their holder (Redis), and the
embedded mode's lock files that tell a second process the server runs a connection."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from service.leases import (
    LocalLeases,
    RedisLeases,
    connection_lease,
    installation_mark,
    new_worker_id,
)
from service.settings import Settings


@pytest_asyncio.fixture
async def redis(test_settings: Settings) -> AsyncIterator[Redis]:
    if not test_settings.redis_url:
        pytest.skip("needs REDIS_URL")
    client = Redis.from_url(test_settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


def _name() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_worker_ids_name_host_and_process_and_differ() -> None:
    first, second = new_worker_id(), new_worker_id()
    assert first != second
    host, pid, _ = first.split(":")
    assert host
    assert int(pid) == os.getpid()
    assert connection_lease(7) == "connection:7"


async def test_redis_lease_is_exclusive_renewed_and_released(redis: Redis) -> None:
    one = RedisLeases(redis, ttl_seconds=30)
    two = RedisLeases(redis, ttl_seconds=30)
    name = _name()
    assert await one.holder(name) is None
    assert await one.acquire(name)
    assert await one.acquire(name)  # already ours
    assert not await two.acquire(name)
    assert await one.holder(name) == one.worker_id
    assert await redis.get(f"atende:lease:{name}") == one.worker_id
    assert 0 < await redis.pttl(f"atende:lease:{name}") <= 30_000

    await redis.pexpire(f"atende:lease:{name}", 5_000)
    assert await one.renew(name)
    assert await redis.pttl(f"atende:lease:{name}") > 5_000  # renewed to the full ttl
    assert not await two.renew(name)

    await two.release(name)  # not its lease: nothing happens
    assert await one.holder(name) == one.worker_id
    await one.release(name)
    assert await one.holder(name) is None
    assert await two.acquire(name)
    await two.release(name)


async def test_installations_sharing_a_redis_have_leases_of_their_own(redis: Redis) -> None:
    ours = installation_mark("postgres://a:b@db-1:5432/atende")
    assert ours == installation_mark("postgres://other@db-1.internal/atende?sslmode=require")
    theirs = installation_mark("postgres://a:b@db-1:5432/atende_staging")
    assert ours != theirs
    one = RedisLeases(redis, ttl_seconds=30, namespace=ours)
    two = RedisLeases(redis, ttl_seconds=30, namespace=theirs)
    name = _name()
    assert await one.acquire(name)
    assert await two.acquire(name)  # the same connection id, another installation
    assert await redis.get(f"atende:lease:{ours}:{name}") == one.worker_id
    await one.release(name)
    await two.release(name)


async def test_an_expired_redis_lease_is_lost_to_another_worker(redis: Redis) -> None:
    one = RedisLeases(redis, ttl_seconds=0.05)
    two = RedisLeases(redis, ttl_seconds=30)
    name = _name()
    assert await one.acquire(name)
    assert not await two.acquire(name)
    await asyncio.sleep(0.15)  # the holder died: its lease expires
    assert await two.acquire(name)
    assert not await one.renew(name)  # the former holder learns that it lost it
    await one.release(name)  # and cannot take it from the new holder
    assert await two.holder(name) == two.worker_id
    await two.release(name)


async def test_local_leases_are_this_process_and_locked_against_others(tmp_path: Path) -> None:
    server = LocalLeases(tmp_path / "leases")
    other = LocalLeases(tmp_path / "leases")  # what `atende connect` in a terminal sees
    name = connection_lease(3)
    assert await server.holder(name) is None
    assert await server.acquire(name)
    assert await server.acquire(name)
    assert await server.renew(name)
    assert await server.holder(name) == server.worker_id
    assert await other.holder(name) == "another process"
    assert not await other.acquire(name)
    assert not await other.renew(name)
    await server.release(name)
    assert not await server.renew(name)
    assert await other.holder(name) is None
    assert await other.acquire(name)
    assert not await server.acquire(name)
    await other.release(name)


async def test_local_leases_without_a_directory_always_succeed() -> None:
    one, two = LocalLeases(), LocalLeases()
    assert await one.acquire("x")
    assert await two.acquire("x")
    assert await one.holder("x") == one.worker_id
    assert await two.holder("y") is None
    await one.release("x")
    assert not await one.renew("x")
