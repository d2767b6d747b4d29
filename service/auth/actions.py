"""Every write of authentication: log in, rotate refresh tokens, log out, API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from service.auth.devices import device_id, issue_device_token
from service.auth.models import ApiToken, RefreshToken
from service.auth.passwords import hash_password, needs_rehash, verify_password
from service.auth.ratelimit import WindowCounter
from service.auth.tokens import (
    ACCESS_TTL,
    API_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    REFRESH_TTL,
    hash_token,
    issue_access_token,
    new_opaque_token,
)
from service.errors import RateLimited, Unauthorized
from service.users.models import Role, User

__all__ = [
    "LOGIN_WINDOW_SECONDS",
    "IssuedTokens",
    "create_api_token",
    "login",
    "logout",
    "refresh",
    "revoke_user_sessions",
]

LOGIN_WINDOW_SECONDS = 15 * 60


class IssuedTokens:
    def __init__(
        self,
        user: User,
        access_token: str,
        refresh_token: str,
        *,
        device_token: str | None = None,
    ) -> None:
        self.user = user
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.device_token = device_token
        self.expires_in = int(ACCESS_TTL.total_seconds())


async def _issue(user: User, *, family: str, key: str, now: datetime) -> IssuedTokens:
    raw_refresh = new_opaque_token(REFRESH_TOKEN_PREFIX)
    await RefreshToken.create(
        user=user, token_hash=hash_token(raw_refresh), family=family, expires_at=now + REFRESH_TTL
    )
    access = issue_access_token(
        user_id=user.id,
        company_id=user.company_id,
        role=Role(user.role),
        is_super=user.is_super,
        key=key,
        now=now,
    )
    return IssuedTokens(user, access, raw_refresh)


async def login(
    *,
    email: str,
    password: str,
    ip: str,
    counter: WindowCounter,
    max_failures: int,
    key: str,
    now: datetime,
    max_failures_per_ip: int | None = None,
    device_token: str | None = None,
) -> IssuedTokens:
    """Tokens for a right email and password, and a device token for the browser to keep.

    An unknown client's failures are counted per email and per IP (five times the per-email
    limit unless told otherwise). A browser presenting a device token issued to this email
    is counted alone, in its device's bucket, so that strangers spending the email's limit
    never lock its owner out of the browser they already use (service.auth.devices)."""
    email = email.strip().lower()
    device = device_id(device_token, email=email, key=key, now=now)
    buckets: tuple[tuple[str, int], ...]
    if device is not None:
        buckets = ((f"login:device:{device}", max_failures),)
    else:
        ip_limit = max_failures_per_ip or max_failures * 5
        buckets = ((f"login:email:{email}", max_failures), (f"login:ip:{ip}", ip_limit))
    for bucket, limit in buckets:
        hits, retry_after = await counter.count(bucket)
        if hits >= limit:
            raise RateLimited(
                "Too many failed logins; try again later", retry_after=max(retry_after, 1)
            )
    user = await User.get_or_none(email=email, is_active=True, company__is_active=True)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        for bucket, _ in buckets:
            await counter.hit(bucket, LOGIN_WINDOW_SECONDS)
        raise Unauthorized("Wrong email or password")
    await counter.clear(buckets[0][0])
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        await user.save(update_fields=["password_hash"])
    issued = await _issue(user, family=secrets.token_hex(16), key=key, now=now)
    issued.device_token = issue_device_token(email=email, key=key, now=now)
    return issued


async def refresh(*, raw_token: str, key: str, now: datetime) -> IssuedTokens:
    """A new pair for an unspent refresh token; presenting a spent one revokes its whole family."""
    token = await RefreshToken.get_or_none(token_hash=hash_token(raw_token))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("Invalid refresh token")
    # Spending is one conditional update, so two concurrent refreshes cannot both succeed;
    # no transaction around it, since the revocation on reuse must persist despite the 401.
    spent = await RefreshToken.filter(id=token.id, spent_at=None).update(spent_at=now)
    if not spent:
        await RefreshToken.filter(family=token.family, revoked_at=None).update(revoked_at=now)
        raise Unauthorized("Refresh token reused; all sessions of this login were revoked")
    if token.expires_at <= now:
        raise Unauthorized("Refresh token expired")
    user = await User.get_or_none(
        id=token.user_id,
        is_active=True,
        company__is_active=True,
    )
    if user is None:
        raise Unauthorized("User no longer active")
    return await _issue(user, family=token.family, key=key, now=now)


async def logout(*, raw_token: str, now: datetime) -> None:
    """Revoke the refresh token's family; an unknown token is simply nothing to revoke."""
    token = await RefreshToken.get_or_none(token_hash=hash_token(raw_token))
    if token is not None:
        await RefreshToken.filter(family=token.family, revoked_at=None).update(revoked_at=now)


async def revoke_user_sessions(*, user_id: int, now: datetime) -> None:
    """End every refresh token of a user (password change, deactivation, deletion)."""
    await RefreshToken.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)


async def create_api_token(
    *, company_id: int, name: str, created_by_id: int | None
) -> tuple[ApiToken, str]:
    """A new API token and its raw value, which is never stored."""
    raw = new_opaque_token(API_TOKEN_PREFIX)
    token = await ApiToken.create(
        company_id=company_id,
        name=name,
        token_hash=hash_token(raw),
        prefix=raw[: len(API_TOKEN_PREFIX) + 4],
        created_by_id=created_by_id,
    )
    return token, raw
