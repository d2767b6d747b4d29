"""`atende serve | migrate | createadmin | demo | connect | notebook | backup | restore`."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from service.bootstrap import FirstAdmin, NotAdmin, ensure_first_admin, seed_demo, set_admin
from service.companies.models import Company
from service.db import close_db, init_db, migrate_db
from service.demo_history import DEFAULT_SEED, HistoryExists, HistorySummary, generate_history
from service.logs import configure_logging
from service.queues.models import Queue
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


# Listening on every interface: the browser on this machine reaches it as localhost.
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]", "*"}


def base_url(host: str, port: int) -> str:
    """Where a browser reaches a server listening on `host`:`port`."""
    host = host.strip()
    if host in _ANY_ADDRESS:
        host = "localhost"
    elif ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _login_hint(settings: Settings, admin: FirstAdmin, port: int) -> str:
    base = base_url(settings.host, port)
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

    from service.server import GuardedProtocol
    from service.watchdog import start_watchdog

    if workers > 1 and not settings.redis_url:
        sys.exit(
            "Several workers need REDIS_URL: the in-process broker cannot reach other workers."
        )
    asyncio.run(migrate_db(settings))
    admin = _with_db(settings, partial(ensure_first_admin, settings))
    print(_login_hint(settings, admin, port), flush=True)
    loader = AppLoader(factory=partial(_worker_app, settings))
    app = loader.load()
    app.register_listener(start_watchdog, "main_process_ready")
    app.prepare(
        host=settings.host,
        port=port,
        workers=workers,
        motd=False,
        access_log=False,
        protocol=GuardedProtocol,
    )
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


def _demo(settings: Settings, history_days: int, seed: int) -> None:
    async def work() -> tuple[FirstAdmin, Company, list[str], HistorySummary | None]:
        first, company = await seed_demo(settings)
        queues = await Queue.filter(company_id=company.id).order_by("position", "id")
        names = [queue.name for queue in queues]
        if history_days <= 0:
            return first, company, names, None
        summary = await generate_history(company_id=company.id, days=history_days, seed=seed)
        return first, company, names, summary

    try:
        first, company, queue_names, summary = _with_db(settings, work)
    except HistoryExists as error:
        sys.exit(f"Nothing generated: {error}")
    print(f"Demo company '{company.name}' is ready (queues {', '.join(queue_names)}; a sandbox).")
    if summary is not None:
        print(summary.line())
        print(
            f"Agents {', '.join(summary.agent_emails)} and supervisor"
            f" {summary.supervisor_email} log in with password {summary.password}."
        )
    print(_login_hint(settings, first, settings.port))


def notebooks_dir() -> Path | None:
    """The repository's notebooks/: beside the `analytics` package (an editable install or
    a checkout), else under or at the current directory."""
    spec = importlib.util.find_spec("analytics")
    places = []
    if spec is not None and spec.origin:
        places.append(Path(spec.origin).resolve().parent.parent / "notebooks")
    cwd = Path.cwd()
    places += [cwd / "notebooks", cwd]
    for place in places:
        if place.name == "notebooks" and place.is_dir():
            return place
    return None


def notebook_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the notebooks' kernels: the same database as this command's, by an
    absolute path (the kernels run in notebooks/, not here)."""
    env = dict(os.environ if base is None else base)
    env["DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url:
        env["DATABASE_URL"] = settings.effective_database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def _notebook(settings: Settings, port: int, no_browser: bool) -> None:
    if importlib.util.find_spec("jupyterlab") is None:
        sys.exit("JupyterLab is not installed: pip install -e '.[notebooks]'")
    where = notebooks_dir()
    if where is None:
        sys.exit(
            "notebooks/ not found beside the analytics package or in the current directory:"
            " run `atende notebook` from the repository's directory."
        )
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={where}"]
    command += ["--port", str(port)]
    if no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI often run as root, which Jupyter refuses without this flag.
        command.append("--allow-root")
    database = settings.effective_database_url
    if "@" in database:  # no password on the screen
        database = database.split("://", 1)[0] + "://…@" + database.rsplit("@", 1)[1]
    print(f"JupyterLab in {where} on the database {database}", flush=True)
    env = notebook_environment(settings)  # before the chdir: DATA_DIR may be relative to here
    os.chdir(where)
    # Jupyter replaces this process: Ctrl+C and signals reach it (and it stops its kernels).
    os.execve(sys.executable, command, env)


def _backup(settings: Settings, output: Path, every: float | None, keep: int) -> None:
    from service.backup import BackupError, make_backup

    if every is not None and (every <= 0 or not output.is_dir() or keep < 1):
        sys.exit("--every needs a positive number of hours, --output a folder and --keep ≥ 1.")
    while True:
        try:
            path, counts = make_backup(settings, output)
        except BackupError as error:
            if every is None:
                sys.exit(f"Backup failed: {error}")
            print(f"Backup failed (next try in {every} h): {error}", flush=True)
        else:
            figures = ", ".join(f"{n} {what}" for what, n in counts.as_dict().items())
            print(f"Backup written to {path} ({figures}).", flush=True)
        if every is None:
            return
        archives = sorted(output.glob("atende-backup-*.tar.gz"))
        for old in archives[: max(0, len(archives) - keep)]:
            old.unlink()
        time.sleep(every * 3600)


def _restore(settings: Settings, archive: Path, force: bool) -> None:
    from service.backup import BackupError, count_rows, restore_backup

    try:
        manifest = restore_backup(settings, archive, force=force)
    except BackupError as error:
        sys.exit(f"Restore failed: {error}")
    asyncio.run(migrate_db(settings))  # an archive of an older version is brought up to date
    expected = {k: v for k, v in manifest["counts"].items() if k != "media_files"}
    found = count_rows(settings)
    if found != expected:
        sys.exit(f"Restore incomplete: the backup counted {expected}, the database has {found}.")
    figures = ", ".join(f"{n} {what}" for what, n in manifest["counts"].items())
    print(f"Restored the backup of {manifest['created_at']} ({figures}).")


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
    admin.add_argument(
        "--promote",
        action="store_true",
        help="make an existing user with that e-mail (an agent, an admin) a super-admin",
    )
    demo = commands.add_parser("demo", help="migrate and seed the demo company")
    demo.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="DAYS",
        help="also generate this many days of history (tickets, messages, a campaign)",
    )
    demo.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="the random seed of the history"
    )
    notebook = commands.add_parser(
        "notebook", help="start JupyterLab in notebooks/ on the configured database"
    )
    notebook.add_argument("--port", type=int, default=8888)
    notebook.add_argument("--no-browser", action="store_true", help="do not open a browser")
    connect = commands.add_parser(
        "connect", help="log a WhatsApp connection in: shows its QR code (or pairing code)"
    )
    connect.add_argument("connection", help="the connection's id or name")
    connect.add_argument(
        "--phone", help="log in by pairing code for this number (+55…) instead of a QR code"
    )
    backup = commands.add_parser(
        "backup", help="write the database, DATA_DIR and the media into one archive"
    )
    backup.add_argument(
        "--output", type=Path, default=Path(), help="a file, or a folder (default: here)"
    )
    backup.add_argument("--every", type=float, metavar="HOURS", help="again every HOURS hours")
    backup.add_argument(
        "--keep", type=int, default=7, help="with --every: archives kept in the folder"
    )
    restore = commands.add_parser(
        "restore", help="restore an archive of `atende backup` (stop the server first)"
    )
    restore.add_argument("archive", type=Path)
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already has data"
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
        work = partial(set_admin, email=args.email, password=args.password, promote=args.promote)
        try:
            result = _with_db(settings, work)
        except NotAdmin as error:
            sys.exit(str(error))
        print(result.line())
    elif args.command == "demo":
        if args.history < 0:
            sys.exit("--history takes a number of days (0 or more).")
        asyncio.run(migrate_db(settings))
        _demo(settings, args.history, args.seed)
    elif args.command == "notebook":
        _notebook(settings, args.port, args.no_browser)
    elif args.command == "connect":
        asyncio.run(migrate_db(settings))
        _connect(settings, args.connection, args.phone)
    elif args.command == "backup":
        _backup(settings, args.output, args.every, args.keep)
    elif args.command == "restore":
        _restore(settings, args.archive, args.force)


if __name__ == "__main__":
    main()
