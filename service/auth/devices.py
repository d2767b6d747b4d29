"""Device tokens: proof that this browser logged in to this e-mail before.

Why: a per-e-mail failure limit lets anyone who knows an address lock its owner out by
typing ten wrong passwords. With a device token the limit applies to unknown clients only;
a browser that once logged in successfully presents its token and is counted in a bucket of
its own, so an attacker elsewhere cannot spend the real user's attempts. The token is
stateless (an HMAC with the installation's signing key over the e-mail, the issue time and a
nonce): nothing to store, and it is worthless for another e-mail or without the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

__all__ = ["DEVICE_HEADER", "DEVICE_TTL", "device_id", "issue_device_token"]

DEVICE_HEADER = "X-Atende-Device"
DEVICE_TTL = timedelta(days=180)
_VERSION = "dv1"


def _signature(email: str, issued: int, nonce: str, key: str) -> str:
    message = f"{_VERSION}:{email}:{issued}:{nonce}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def issue_device_token(*, email: str, key: str, now: datetime) -> str:
    """A new token for a browser that has just logged in to `email` (normalised)."""
    issued, nonce = int(now.timestamp()), secrets.token_hex(8)
    return f"{_VERSION}.{issued}.{nonce}.{_signature(email, issued, nonce, key)}"


def device_id(token: str | None, *, email: str, key: str, now: datetime) -> str | None:
    """The device's id if `token` was issued to `email` by this installation and has not
    expired; None for anything else (absent, malformed, forged, another e-mail, too old)."""
    if not token or len(token) > 100:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
        return None
    issued, nonce, signature = int(parts[1]), parts[2], parts[3]
    if not hmac.compare_digest(signature, _signature(email, issued, nonce, key)):
        return None
    age = now.timestamp() - issued
    if age < -300 or age > DEVICE_TTL.total_seconds():  # a little clock skew is allowed
        return None
    return nonce
