"""Every write of queues (admins): name, texts, business hours and the menu options tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from flows.spec import MenuOption, forwarded_queue_ids, options_tree_problems
from service.audit.actions import record_change, snapshot
from service.auth.tokens import Principal
from service.connections.models import Connection
from service.errors import Conflict, InvalidFields
from service.plan_limits import check_plan_limit
from service.queues.models import Queue
from service.queues.schemas import QueueCreate, QueueUpdate
from service.queues.service import get_queue, queues_forwarding_to
from service.tenancy import ensure_name_free, lock_company, scoped
from service.users.models import User
from service.variables import check_bot_variables, templates_in

__all__ = ["create_queue", "delete_queue", "update_queue"]

_NAME_TAKEN = "A queue with this name already exists"


async def _check_options(
    company_id: int, options: Sequence[MenuOption], *, queue_id: int | None = None
) -> None:
    """The tree as a whole is valid and every "queue" option forwards to another own queue."""
    problems = options_tree_problems(options)
    if problems:
        raise InvalidFields(problems)
    forwards = forwarded_queue_ids(options)
    if not forwards:
        return
    wanted = set(forwards.values())
    known = {queue.id for queue in await scoped(Queue, company_id).filter(id__in=wanted)}
    for path, target in forwards.items():
        if target == queue_id:
            problems[path] = "a queue cannot forward to itself"
        elif target not in known:
            problems[path] = f"unknown queue {target}"
    if problems:
        raise InvalidFields(problems)


async def _audit_snapshot(queue: Queue) -> dict[str, Any]:
    user_ids = sorted(user.id for user in await User.filter(queues__id=queue.id))
    connection_ids = sorted(c.id for c in await Connection.filter(queues__id=queue.id))
    return snapshot(queue, user_ids=user_ids, connection_ids=connection_ids)


# What the bot says of a queue, with the conversation's `{{variables}}`.
_SAID = ("greeting", "out_of_hours_message", "options")


async def create_queue(*, actor: Principal, data: QueueCreate) -> Queue:
    """A new queue of the actor's company (422 on a bad tree, 409 on a used name, 403 when full)."""
    given = data.model_dump(mode="json")
    await check_bot_variables(actor=actor, templates=templates_in(given, _SAID))
    async with in_transaction():
        await lock_company(actor.company_id)
        await _check_options(actor.company_id, data.options)
        await ensure_name_free(Queue, actor.company_id, data.name, message=_NAME_TAKEN)
        await check_plan_limit(company_id=actor.company_id, model=Queue)
        fields = data.model_dump(mode="json")
        try:
            queue = await Queue.create(company_id=actor.company_id, **fields)
        except IntegrityError as exc:
            raise Conflict(_NAME_TAKEN, fields={"name": "already in use"}) from exc
        await record_change(
            actor=actor,
            action="create",
            object_type="queue",
            object_id=queue.id,
            after=await _audit_snapshot(queue),
        )
    return queue


async def update_queue(*, actor: Principal, queue_id: int, data: QueueUpdate) -> Queue:
    """Change the fields the body sets; `business_hours: null` means always open."""
    changes = data.changes()
    given = data.model_dump(mode="json", include=set(changes))
    await check_bot_variables(actor=actor, templates=templates_in(given, _SAID))
    async with in_transaction():
        await lock_company(actor.company_id)
        queue = await get_queue(company_id=actor.company_id, queue_id=queue_id, lock=True)
        before = await _audit_snapshot(queue)
        if data.options is not None:
            await _check_options(actor.company_id, data.options, queue_id=queue.id)
        if "name" in changes and changes["name"] != queue.name:
            await ensure_name_free(
                Queue, actor.company_id, changes["name"], excluding=queue.id, message=_NAME_TAKEN
            )
        queue.update_from_dict(data.model_dump(mode="json", include=set(changes)))
        try:
            await queue.save()
        except IntegrityError as exc:
            raise Conflict(_NAME_TAKEN, fields={"name": "already in use"}) from exc
        await record_change(
            actor=actor,
            action="update",
            object_type="queue",
            object_id=queue.id,
            before=before,
            after=await _audit_snapshot(queue),
        )
    return queue


async def delete_queue(*, actor: Principal, queue_id: int) -> None:
    """Delete a queue (409 naming the queues whose menus still forward to it).

    Its tickets stay, without a queue; its users and connections simply lose it.
    """
    async with in_transaction():
        await lock_company(actor.company_id)
        queue = await get_queue(company_id=actor.company_id, queue_id=queue_id, lock=True)
        forwarding = await queues_forwarding_to(company_id=actor.company_id, queue_id=queue.id)
        if forwarding:
            names = ", ".join(f"'{q.name}' (id {q.id})" for q in forwarding)
            raise Conflict(
                f"The menus of these queues forward to this queue: {names}; change them first",
                fields={"forwarded_by": ", ".join(str(q.id) for q in forwarding)},
            )
        before = await _audit_snapshot(queue)
        await queue.delete()
        await record_change(
            actor=actor,
            action="delete",
            object_type="queue",
            object_id=queue_id,
            before=before,
        )
