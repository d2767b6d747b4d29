"""`atende serve | migrate | createadmin | demo | connect`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from service.bootstrap import FirstAdmin, ensure_first_admin, seed_demo, set_admin
from service.db import close_db, init_db, migrate_db
from service.logs import configure_logging
from service.settings import Settings

__all__ = ["main"]


def _with_db(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        await init_db(settings)
        try:
            return await work()
        finally:
            await close_db()

    return asyncio.run(run())


def _login_hint(settings: Settings, admin: FirstAdmin, port: int) -> str:
    base = f"http://localhost:{port}"
    lines = [
        f"Atende: {base}  (admin: {base}/admin · phone simulator: {base}/simulator"
        f" · API docs: {base}/docs)"
    ]
    if admin.password:
        lines.append(f"Log in as {admin.email} with password {admin.password}")
        lines.append("This password is shown once; change it with `atende createadmin`.")
    elif admin.created:
        lines.append(f"Log in as {admin.email} with ATENDE_ADMIN_PASSWORD.")
    else:
        lines.append(f"Log in as {admin.email} (password reset: atende createadmin).")
    return "\n".join(lines)


def _worker_app(settings: Settings) -> Any:
    """The application of one worker process (a fresh interpreter: its logging set up too)."""
    from service.app import create_app

    configure_logging(settings)
    return create_app(settings)


def _serve(settings: Settings, port: int, workers: int) -> None:
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    if workers > 1 and not settings.redis_url:
        sys.exit(
            "Several workers need REDIS_URL: the in-process broker cannot reach other workers."
        )
    asyncio.run(migrate_db(settings))
    admin = _with_db(settings, partial(ensure_first_admin, settings))
    print(_login_hint(settings, admin, port), flush=True)
    loader = AppLoader(factory=partial(_worker_app, settings))
    app = loader.load()
    app.prepare(host=settings.host, port=port, workers=workers, motd=False, access_log=False)
    Sanic.serve(primary=app, app_loader=loader)


def _connect(settings: Settings, target: str, phone: str | None) -> None:
    from service.connections.login import LoginError, connect_in_terminal

    work = partial(connect_in_terminal, settings, target=target, phone=phone, out=sys.stdout)
    try:
        status = _with_db(settings, work)
    except LoginError as error:
        sys.exit(str(error))
    except KeyboardInterrupt:
        # asyncio.run cancelled the login, which stopped its channel and gave its lease back.
        print("\nStopped; the connection is not logged in.")
        sys.exit(130)
    sys.exit(status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="atende", description="Atende customer service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations and serve HTTP")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=None)
    commands.add_parser("migrate", help="apply database migrations")
    admin = commands.add_parser(
        "createadmin", help="migrate, then create a super-admin or reset its password"
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    commands.add_parser("demo", help="migrate and seed the demo company")
    connect = commands.add_parser(
        "connect", help="log a WhatsApp connection in: shows its QR code (or pairing code)"
    )
    connect.add_argument("connection", help="the connection's id or name")
    connect.add_argument(
        "--phone", help="log in by pairing code for this number (+55…) instead of a QR code"
    )
    args = parser.parse_args(argv)

    settings = Settings()
    configure_logging(settings)
    if args.command == "serve":
        _serve(settings, args.port or settings.port, args.workers or settings.workers)
    elif args.command == "migrate":
        asyncio.run(migrate_db(settings))
        print("Migrations applied.")
    elif args.command == "createadmin":
        if len(args.password) < 8:
            sys.exit("The password needs at least 8 characters.")
        asyncio.run(migrate_db(settings))
        user = _with_db(settings, partial(set_admin, email=args.email, password=args.password))
        print(f"Super-admin {user.email} is ready.")
    elif args.command == "demo":
        asyncio.run(migrate_db(settings))
        first, company = _with_db(settings, partial(seed_demo, settings))
        print(f"Demo company '{company.name}' is ready (queues Suporte, Financeiro; a sandbox).")
        print(_login_hint(settings, first, settings.port))
    elif args.command == "connect":
        asyncio.run(migrate_db(settings))
        _connect(settings, args.connection, args.phone)


if __name__ == "__main__":
    main()
