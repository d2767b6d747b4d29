"""Real `atende` server processes for the tests that need one outside the test loop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from service.settings import Settings

_GIVEN_PORTS: set[int] = set()


def stop_session(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """End a process started with `start_new_session=True`: terminate it, kill it after
    `timeout` seconds, then kill what it left behind in its session (workers, kernels)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def free_port() -> int:
    """A port nobody listens on, never the same one twice in this process: two servers
    starting side by side would otherwise both be given a port neither has bound yet."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


def server_workers(main_pid: int) -> dict[str, int]:
    """The Sanic server workers among the children of `atende serve`: name → pid (Sanic
    starts each with SANIC_WORKER_NAME in its environment)."""
    found: dict[str, int] = {}
    for child in Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split():
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        for entry in environ:
            if entry.startswith(b"SANIC_WORKER_NAME=Sanic-Server"):
                found[entry.split(b"=", 1)[1].decode()] = int(child)
    return found


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process see the same settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    if settings.secret_key:
        env["SECRET_KEY"] = settings.secret_key
    env["LOG_LEVEL"] = "WARNING"
    return env


@contextmanager
def atende_server(
    env: dict[str, str], *, port: int, workers: int = 1, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`atende serve` in a child process, ready to answer when this yields."""
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        # A session of its own: Sanic's manager SIGKILLs its workers' whole process group when
        # a shutdown drags, which would otherwise be the test run's group too.
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"server exited: {log.read_text()}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {log.read_text()}")
                time.sleep(0.2)
            yield process
        finally:
            # Sanic's workers outlive a manager that exits first: end the whole session.
            stop_session(process, timeout=20)


class PrivatePostgres:
    """A PostgreSQL server of a test's own (initdb + pg_ctl in a temp dir, run as the
    postgres user), for tests that stop it: never the machine's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self._data = root / "data"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *command], check=True, capture_output=True)

    def init(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self._data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "postgres.log")
        self._run(_pg_bin("pg_ctl"), "-D", str(self._data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self._data), "-m", "fast", "-w", "stop")


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
    )
    if found is None:
        raise AssertionError(f"{name} not found: PostgreSQL's server binaries are needed")
    return found


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="atende-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PrivatePostgres(root)
    server.init()
    server.start()
    try:
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


class PrivateRedis:
    """A Redis server of a test's own, for tests that stop it: never the machine's."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            if time.monotonic() > deadline:
                raise AssertionError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def fresh_database(database_url: str, prefix: str = "atende_fresh") -> AsyncIterator[str]:
    """The URL of a new, empty database on the server of `database_url`, dropped after."""
    import asyncpg  # only the Postgres runs need it

    parts = urlsplit(database_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()
