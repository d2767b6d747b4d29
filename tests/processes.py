"""Real `atende` server processes for the tests that need one outside the test loop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

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
