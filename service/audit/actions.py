"""Writing the audit log: called by every admin action, inside its transaction."""

from __future__ import annotations

import json
from typing import Any

from tortoise.models import Model

from service.audit.models import AuditLog
from service.auth.tokens import Principal

__all__ = ["record_change", "snapshot"]

_NEVER_LOGGED = {"password_hash", "token_hash"}


def snapshot(instance: Model, **extra: Any) -> dict[str, Any]:
    """The row's fields as JSON-safe values, secrets left out; `extra` adds relations."""
    data: dict[str, Any] = {}
    for name in instance._meta.db_fields:
        if name in _NEVER_LOGGED:
            continue
        data[name] = getattr(instance, instance._meta.fields_db_projection_reverse.get(name, name))
    data.update(extra)
    safe: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return safe


async def record_change(
    *,
    actor: Principal,
    action: str,
    object_type: str,
    object_id: int | str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit entry: who (user or API token), what, and the object before and after."""
    if before is not None and after is not None:
        changed = {k for k in after if before.get(k) != after.get(k)} - {"updated_at"}
        if not changed:
            return
    await AuditLog.create(
        company_id=actor.company_id,
        user_id=actor.user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
    )
