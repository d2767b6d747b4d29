"""Login, access tokens, refresh rotation with reuse detection, logout, rate limits, API tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from redis.asyncio import Redis

from service.auth import actions
from service.auth.devices import DEVICE_TTL
from service.auth.ratelimit import FallbackCounter, MemoryCounter, RedisCounter
from service.errors import RateLimited, Unauthorized
from service.settings import Settings
from service.users.models import Role
from tests.factories import PASSWORD, FakeClock, Tenant, log_in, make_member
from tests.processes import free_port


async def test_login_returns_tokens_and_user(
    client: httpx.AsyncClient, tenant: Tenant, test_settings: Settings, clock: FakeClock
) -> None:
    response = await log_in(client, tenant.admin.email)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == tenant.admin.email
    assert body["user"]["role"] == "admin"
    assert body["expires_in"] == 900
    # Issued at the app's clock, not the machine's: PyJWT's own expiry check would compare
    # with the machine's, so the test checks the times itself.
    claims = jwt.decode(
        body["access_token"],
        test_settings.signing_key(),
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iat"] == int(clock().timestamp())
    assert claims["exp"] - claims["iat"] == 900
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == tenant.admin.user.id


async def test_wrong_password_and_unknown_email_are_the_same_401(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    wrong = await log_in(client, tenant.admin.email, "not the password")
    unknown = await log_in(client, "nobody-here@example.com", "whatever-it-is")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_missing_malformed_and_forged_tokens_are_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/me")).status_code == 401
    bad = await client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"
    forged = jwt.encode(
        {"sub": "1", "cid": 1, "typ": "access", "exp": 2**40},
        "a-different-key-that-is-long-enough-0123456789",
        algorithm="HS256",
    )
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_access_token_expires_after_15_minutes(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    clock.advance(timedelta(minutes=14))
    assert (await client.get("/api/auth/me", headers=tenant.headers)).status_code == 200
    clock.advance(timedelta(minutes=2))
    response = await client.get("/api/auth/me", headers=tenant.headers)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = tenant.admin.refresh_token
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    # The spent token comes back (stolen and replayed): refused, and the family is revoked.
    replay = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401
    assert "reused" in replay.json()["error"]["message"]
    after = await client.post("/api/auth/refresh", json={"refresh_token": second})
    assert after.status_code == 401


async def test_logout_ends_the_refresh_token(client: httpx.AsyncClient, tenant: Tenant) -> None:
    token = tenant.admin.refresh_token
    assert (await client.post("/api/auth/logout", json={"refresh_token": token})).status_code == 204
    response = await client.post("/api/auth/refresh", json={"refresh_token": token})
    assert response.status_code == 401


async def test_deactivated_user_loses_access_at_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await tenant.member(Role.agent)
    agent.user.is_active = False
    await agent.user.save()
    assert (await client.get("/api/auth/me", headers=agent.headers)).status_code == 401


async def test_failed_logins_are_limited_per_email(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = tenant.admin.email
    for _ in range(5):  # login_max_failures in the test settings
        assert (await log_in(client, email, "wrong password")).status_code == 401
    limited = await log_in(client, email, PASSWORD)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "rate_limited"


async def test_a_known_device_is_not_locked_out_by_failures_elsewhere(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = tenant.admin.email
    first = await log_in(client, email)
    device = first.json()["device_token"]
    assert device.startswith("dv1.")
    for _ in range(5):  # a stranger spends the email's limit
        assert (await log_in(client, email, "wrong password")).status_code == 401
    assert (await log_in(client, email)).status_code == 429  # unknown clients wait
    again = await log_in(client, email, device=device)  # the owner's browser does not
    assert again.status_code == 200, again.text
    assert again.json()["device_token"] != device  # renewed at every login


async def test_a_device_token_counts_its_own_failures_only_for_its_email(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    email = tenant.admin.email
    device = (await log_in(client, email)).json()["device_token"]
    other = await make_member(client, tenant.company)
    for _ in range(5):  # another e-mail's token, a forged one: unknown clients
        await log_in(client, other.email, "wrong password", device=device)
    assert (await log_in(client, other.email, device=device)).status_code == 429
    forged = device[:-4] + ("0000" if not device.endswith("0000") else "1111")
    for _ in range(5):
        await log_in(client, email, "wrong password", device=forged)
    assert (await log_in(client, email)).status_code == 429
    # Typos on the known device count in the device's bucket, which has the same limit.
    for _ in range(5):
        assert (await log_in(client, email, "typo", device=device)).status_code == 401
    assert (await log_in(client, email, device=device)).status_code == 429


async def test_an_expired_device_token_is_an_unknown_client(
    client: httpx.AsyncClient, tenant: Tenant, clock: FakeClock
) -> None:
    email = tenant.admin.email
    device = (await log_in(client, email)).json()["device_token"]
    clock.advance(DEVICE_TTL + timedelta(days=1))
    for _ in range(5):
        await log_in(client, email, "wrong password")
    assert (await log_in(client, email, device=device)).status_code == 429


async def test_login_counts_in_process_while_redis_is_down(
    tenant: Tenant, test_settings: Settings
) -> None:
    from service.clock import utcnow

    # A real client for a port nobody listens on: every call is refused at once.
    dead = Redis(port=free_port(), socket_connect_timeout=0.5)
    counter = FallbackCounter(RedisCounter(dead), retry_seconds=60)
    common = {
        "ip": "203.0.113.7",
        "counter": counter,
        "max_failures": 2,
        "key": test_settings.signing_key(),
    }
    issued = await actions.login(
        email=tenant.admin.email, password=PASSWORD, now=utcnow(), **common
    )
    assert issued.user.id == tenant.admin.user.id
    assert counter.degraded
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await actions.login(email=tenant.admin.email, password="x", now=utcnow(), **common)
    with pytest.raises(RateLimited):  # still limited, by this process's counter
        await actions.login(email=tenant.admin.email, password=PASSWORD, now=utcnow(), **common)
    await dead.aclose()


async def test_failed_logins_are_limited_per_ip(tenant: Tenant, test_settings: Settings) -> None:
    counter = MemoryCounter()
    common = {
        "ip": "203.0.113.9",
        "counter": counter,
        "max_failures": 2,
        "key": test_settings.signing_key(),
    }
    from service.clock import utcnow

    for attempt in range(10):  # 5 x max_failures, spread over emails so no email is limited
        with pytest.raises(Unauthorized):
            await actions.login(
                email=f"spray{attempt}@example.com", password="x", now=utcnow(), **common
            )
    with pytest.raises(RateLimited):
        await actions.login(email=tenant.admin.email, password=PASSWORD, now=utcnow(), **common)


async def test_api_token_acts_for_its_company(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post("/api/api-tokens", json={"name": "crm"}, headers=tenant.headers)
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("atk_")
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200
    assert me.json()["company_id"] == tenant.company.id
    listed = await client.get("/api/api-tokens", headers=tenant.headers)
    assert [t["token"] for t in listed.json()["items"]] == [None]
    token_id = created.json()["id"]
    revoked = await client.delete(f"/api/api-tokens/{token_id}", headers=tenant.headers)
    assert revoked.status_code == 204
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 401


async def test_a_deactivated_company_loses_access(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post("/api/api-tokens", json={"name": "erp"}, headers=tenant.headers)
    api_headers = {"Authorization": f"Bearer {created.json()['token']}"}
    tenant.company.is_active = False
    await tenant.company.save()
    assert (await client.get("/api/auth/me", headers=tenant.headers)).status_code == 401
    assert (await client.get("/api/auth/me", headers=api_headers)).status_code == 401
    assert (await log_in(client, tenant.admin.email)).status_code == 401
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": tenant.admin.refresh_token}
    )
    assert refreshed.status_code == 401
