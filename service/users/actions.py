"""Every write of users: admins manage their company's people, anyone edits their own account."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service.audit.actions import record_change, snapshot
from service.auth.actions import revoke_user_sessions
from service.auth.passwords import hash_password, verify_password
from service.auth.tokens import Principal
from service.errors import Conflict, Forbidden, InvalidFields
from service.plan_limits import check_plan_limit
from service.queues.models import Queue
from service.tenancy import get_owned, lock_company, owned_ids
from service.users.models import Role, User
from service.users.schemas import UserCreate, UserMeUpdate, UserUpdate
from service.users.service import active_admin_count

__all__ = ["create_user", "delete_user", "update_own_account", "update_user"]

_EMAIL_TAKEN = "A user with this email already exists"


async def _email_taken(email: str, *, excluding: int | None = None) -> bool:
    query = User.filter(email=email)
    if excluding is not None:
        query = query.exclude(id=excluding)
    return await query.exists()


async def _audit_snapshot(user: User, **extra: Any) -> dict[str, Any]:
    queue_ids = sorted(await user.queues.all().values_list("id", flat=True))
    return snapshot(user, queue_ids=queue_ids, **extra)


def _check_super_powers(actor: Principal, user: User | None, wants_super: bool | None) -> None:
    """Only a super-admin may grant or take super powers, or touch a super-admin's account."""
    if actor.is_super:
        return
    if user is not None and user.is_super:
        raise Forbidden("Only a super-admin may change a super-admin's account")
    current = user.is_super if user is not None else False
    if wants_super is not None and wants_super != current:
        raise Forbidden("Only a super-admin may set is_super")


async def create_user(*, actor: Principal, data: UserCreate) -> User:
    """A new user of the actor's company (409 on a used email, 403 when the plan is full)."""
    _check_super_powers(actor, None, data.is_super)
    # Hashing takes tens of milliseconds of CPU: in a thread, and before the transaction, so
    # that neither the event loop nor the company's lock waits for it.
    password_hash = await asyncio.to_thread(hash_password, data.password)
    async with in_transaction():
        if await _email_taken(data.email):
            raise Conflict(_EMAIL_TAKEN, fields={"email": "already in use"})
        await check_plan_limit(company_id=actor.company_id, model=User)
        queues = await owned_ids(Queue, actor.company_id, data.queue_ids, field="queue_ids")
        try:
            user = await User.create(
                company_id=actor.company_id,
                name=data.name,
                email=data.email,
                password_hash=password_hash,
                role=data.role,
                language=data.language,
                is_super=bool(data.is_super),
            )
        except IntegrityError as exc:
            raise Conflict(_EMAIL_TAKEN, fields={"email": "already in use"}) from exc
        if queues:
            await user.queues.add(*queues)
        await record_change(
            actor=actor,
            action="create",
            object_type="user",
            object_id=user.id,
            after=await _audit_snapshot(user),
        )
    return user


async def update_user(*, actor: Principal, user_id: int, data: UserUpdate, now: datetime) -> User:
    """Change a user; the company always keeps an active admin; sessions end on risky changes."""
    async with in_transaction():
        await lock_company(actor.company_id)
        user = await get_owned(User, actor.company_id, user_id, lock=True)
        _check_super_powers(actor, user, data.is_super)
        before = await _audit_snapshot(user)
        was_active_admin = user.is_active and user.role == Role.admin
        if data.is_active is False and user.id == actor.user_id:
            raise Conflict("You may not deactivate yourself", fields={"is_active": "is you"})
        if data.email is not None and data.email != user.email:
            if await _email_taken(data.email, excluding=user.id):
                raise Conflict(_EMAIL_TAKEN, fields={"email": "already in use"})
            user.email = data.email
        if data.name is not None:
            user.name = data.name
        if data.language is not None:
            user.language = data.language
        role_changed = data.role is not None and data.role != user.role
        if data.role is not None:
            user.role = data.role
        deactivated = data.is_active is False and user.is_active
        if data.is_active is not None:
            user.is_active = data.is_active
        if data.is_super is not None:
            user.is_super = data.is_super
        if data.password is not None:
            user.password_hash = hash_password(data.password)
        still_active_admin = user.is_active and user.role == Role.admin
        if (
            was_active_admin
            and not still_active_admin
            and not await active_admin_count(company_id=actor.company_id, excluding=user.id)
        ):
            field = "role" if role_changed else "is_active"
            raise Conflict(
                "The company must keep at least one active admin",
                fields={field: "this is the last active admin"},
            )
        if data.queue_ids is not None:
            queues = await owned_ids(Queue, actor.company_id, data.queue_ids, field="queue_ids")
            await user.queues.clear()
            if queues:
                await user.queues.add(*queues)
        try:
            await user.save()
        except IntegrityError as exc:
            raise Conflict(_EMAIL_TAKEN, fields={"email": "already in use"}) from exc
        if data.password is not None or role_changed or deactivated:
            await revoke_user_sessions(user_id=user.id, now=now)
        extra = {"password_changed": True} if data.password is not None else {}
        await record_change(
            actor=actor,
            action="update",
            object_type="user",
            object_id=user.id,
            before=before,
            after=await _audit_snapshot(user, **extra),
        )
    return user


async def delete_user(*, actor: Principal, user_id: int, now: datetime) -> None:
    """Remove a user, never oneself nor the last active admin; their tickets become unassigned."""
    async with in_transaction():
        await lock_company(actor.company_id)
        user = await get_owned(User, actor.company_id, user_id, lock=True)
        _check_super_powers(actor, user, None)
        if user.id == actor.user_id:
            raise Conflict("You may not delete yourself")
        if (
            user.is_active
            and user.role == Role.admin
            and not await active_admin_count(company_id=actor.company_id, excluding=user.id)
        ):
            raise Conflict("The company must keep at least one active admin")
        before = await _audit_snapshot(user)
        await revoke_user_sessions(user_id=user.id, now=now)
        await user.delete()
        await record_change(
            actor=actor, action="delete", object_type="user", object_id=user_id, before=before
        )


async def update_own_account(*, actor: Principal, data: UserMeUpdate, now: datetime) -> User:
    """The caller changes their own name, language or password (the current one is required)."""
    if actor.user_id is None:
        raise Forbidden("An API token has no account of its own")
    async with in_transaction():
        user = await get_owned(User, actor.company_id, actor.user_id, lock=True)
        before = await _audit_snapshot(user)
        if data.password is not None:
            if data.current_password is None:
                raise InvalidFields({"current_password": "is required to change the password"})
            if not verify_password(user.password_hash, data.current_password):
                raise InvalidFields({"current_password": "is not your current password"})
            user.password_hash = hash_password(data.password)
        if data.name is not None:
            user.name = data.name
        if data.language is not None:
            user.language = data.language
        await user.save()
        if data.password is not None:
            await revoke_user_sessions(user_id=user.id, now=now)
        extra = {"password_changed": True} if data.password is not None else {}
        await record_change(
            actor=actor,
            action="update",
            object_type="user",
            object_id=user.id,
            before=before,
            after=await _audit_snapshot(user, **extra),
        )
    return user
