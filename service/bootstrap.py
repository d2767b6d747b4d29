"""The first company and admin, and the demo data that `make run` shows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from service.auth.passwords import hash_password
from service.companies.models import Company
from service.connections.models import Channel, Connection
from service.queues.models import Queue
from service.settings import Settings
from service.users.models import Role, User

__all__ = ["AdminResult", "FirstAdmin", "NotAdmin", "ensure_first_admin", "seed_demo", "set_admin"]

DEFAULT_ADMIN_EMAIL = "admin@atende.local"


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    password: str | None  # None when the password came from the environment or existed before
    created: bool


async def ensure_first_admin(settings: Settings, *, company_name: str = "Atende") -> FirstAdmin:
    """On an empty installation, create the first company and its super-admin."""
    async with in_transaction():
        existing = await User.filter(is_super=True).order_by("id").first()
        if existing is not None:
            return FirstAdmin(email=existing.email, password=None, created=False)
        email = (settings.atende_admin_email or DEFAULT_ADMIN_EMAIL).strip().lower()
        password = settings.atende_admin_password or secrets.token_urlsafe(12)
        company = await Company.filter().order_by("id").first()
        if company is None:
            company = await Company.create(name=company_name)
        await User.create(
            company=company,
            name="Admin",
            email=email,
            password_hash=hash_password(password),
            role=Role.admin,
            is_super=True,
        )
    shown = None if settings.atende_admin_password else password
    return FirstAdmin(email=email, password=shown, created=True)


class NotAdmin(Exception):
    """`createadmin` met a user who is not a super-admin: promoting them needs `--promote`."""


@dataclass(frozen=True)
class AdminResult:
    user: User
    action: str  # "created", "reset" (a super-admin's password) or "promoted"
    was: str = ""  # before a promotion: the user's role, and their company's name

    def line(self) -> str:
        """What `atende createadmin` says it did."""
        if self.action == "created":
            return f"Super-admin {self.user.email} created."
        if self.action == "reset":
            return f"Super-admin {self.user.email}: password reset."
        return f"{self.user.email} ({self.was}) promoted to admin and super-admin; password reset."


async def set_admin(*, email: str, password: str, promote: bool = False) -> AdminResult:
    """Create a super-admin of the first company, or reset a super-admin's password. Another
    user with that e-mail (an agent, a company's admin) is made super-admin only with
    `promote`: a typo must not hand someone every company (NotAdmin otherwise)."""
    email = email.strip().lower()
    async with in_transaction():
        user = await User.filter(email=email).select_related("company").first()
        if user is None:
            company = await Company.filter().order_by("id").first()
            if company is None:
                company = await Company.create(name="Atende")
            created = await User.create(
                company=company,
                name="Admin",
                email=email,
                password_hash=hash_password(password),
                role=Role.admin,
                is_super=True,
            )
            return AdminResult(created, "created")
        was = f"{user.role.value} of {user.company.name}"
        if not user.is_active:
            was = f"deactivated {was}"
        if not user.is_super and not promote:
            raise NotAdmin(
                f"{email} is already a user ({was}), not a super-admin: nothing changed."
                " Run again with --promote to make them admin and super-admin (and reset"
                " their password), or choose another e-mail."
            )
        action = "reset" if user.is_super else "promoted"
        user.password_hash = hash_password(password)
        user.role = Role.admin
        user.is_super = True
        user.is_active = True
        await user.save()
        return AdminResult(user, action, was)


async def seed_demo(settings: Settings) -> tuple[FirstAdmin, Company]:
    """The first company with queues Suporte and Financeiro and a sandbox (idempotent)."""
    admin = await ensure_first_admin(settings, company_name="Demo")
    company = await Company.filter().order_by("id").first()
    assert company is not None  # ensure_first_admin created it
    async with in_transaction():
        suporte, _ = await Queue.get_or_create(
            company=company,
            name="Suporte",
            defaults={"color": "#2e7d32", "position": 1, "greeting": "Você está no Suporte."},
        )
        financeiro, _ = await Queue.get_or_create(
            company=company,
            name="Financeiro",
            defaults={
                "color": "#1565c0",
                "position": 2,
                "greeting": "Você está no Financeiro.",
                "keywords": ["boleto", "pagamento", "fatura"],
            },
        )
        connection, created = await Connection.get_or_create(
            company=company,
            name="Sandbox",
            defaults={
                "channel": Channel.sandbox,
                "is_default": True,
                "greeting": "Olá, {{first_name}}! Bem-vindo ao atendimento.",
            },
        )
        if created:
            await connection.queues.add(suporte, financeiro)
    return admin, company
