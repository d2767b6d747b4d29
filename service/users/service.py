"""Reads of users."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from service.tenancy import get_owned, scoped
from service.users.models import Role, User
from service.users.schemas import UserOut

__all__ = ["active_admin_count", "company_users", "get_user", "user_out", "users_out"]


def company_users(
    *, company_id: int, q: str | None = None, role: Role | None = None
) -> QuerySet[User]:
    """The company's users, optionally matching `q` in name or email and having `role`."""
    query = scoped(User, company_id)
    if q:
        query = query.filter(Q(name__icontains=q) | Q(email__icontains=q))
    if role is not None:
        query = query.filter(role=role)
    return query


async def get_user(*, company_id: int, user_id: int) -> User:
    """The company's user with this id (404 otherwise)."""
    return await get_owned(User, company_id, user_id)


async def active_admin_count(*, company_id: int, excluding: int | None = None) -> int:
    """How many active admins the company has, leaving out user `excluding`."""
    query = scoped(User, company_id).filter(role=Role.admin, is_active=True)
    if excluding is not None:
        query = query.exclude(id=excluding)
    return await query.count()


async def users_out(users: Sequence[User]) -> list[UserOut]:
    """Users as the API shows them, their queues fetched in one query."""
    if not users:
        return []
    await User.fetch_for_list(list(users), "queues")
    return [
        UserOut(
            id=u.id,
            name=u.name,
            email=u.email,
            role=u.role,
            is_super=u.is_super,
            is_active=u.is_active,
            language=u.language,
            queue_ids=sorted(q.id for q in u.queues),
            created_at=u.created_at,
        )
        for u in users
    ]


async def user_out(user: User) -> UserOut:
    """One user as the API shows it."""
    return (await users_out([user]))[0]
