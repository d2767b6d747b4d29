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

__all__ = ["FirstAdmin", "ensure_first_admin", "seed_demo", "set_admin"]

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


async def set_admin(*, email: str, password: str) -> User:
    """Create a super-admin of the first company, or reset that user's password and powers."""
    email = email.strip().lower()
    async with in_transaction():
        user = await User.get_or_none(email=email)
        if user is None:
            company = await Company.filter().order_by("id").first()
            if company is None:
                company = await Company.create(name="Atende")
            return await User.create(
                company=company,
                name="Admin",
                email=email,
                password_hash=hash_password(password),
                role=Role.admin,
                is_super=True,
            )
        user.password_hash = hash_password(password)
        user.role = Role.admin
        user.is_super = True
        user.is_active = True
        await user.save()
        return user


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
