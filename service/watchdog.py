"""Workers that die are replaced, and say so.

Sanic's manager notices a worker process that exits on its own (kill -9, the OOM killer, a
crash in a C extension) and marks it FAILED, but starts no other: the survivors carry
everything until someone restarts the server, and nothing is logged. The watchdog, a thread
in the main process, logs the death and asks the manager to restart that worker, through
the manager's own monitor pipe so the restart runs on the manager's thread like any other.

`worker_report` is what /health says of the workers, read from the state Sanic shares
between its processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sanic import Sanic
from sanic.worker.constants import ProcessState

__all__ = ["start_watchdog", "worker_report"]

log = logging.getLogger("atende.workers")

# How often the main process looks at its workers: a dead one is replaced within this time.
CHECK_SECONDS = 1.0
# Not replaced: being started, restarted or stopped by the manager itself.
_LEFT_ALONE = {ProcessState.NONE, ProcessState.RESTARTING, ProcessState.TERMINATED}


def start_watchdog(app: Sanic[Any, Any], _loop: Any = None) -> None:
    """A `main_process_ready` listener: watch the manager's server workers."""
    manager = app.manager
    # Until every worker has acknowledged its start, the manager is in its start-up wait,
    # which echoes restart requests back to itself without end (and shuts the server down by
    # itself when a worker dies that early): nothing is asked of it before that wait is over,
    # which is known by wrapping it.
    started = threading.Event()
    wait_for_ack: Callable[[], None] = manager.wait_for_ack

    def wait_then_watch() -> None:
        wait_for_ack()
        started.set()

    manager.wait_for_ack = wait_then_watch  # type: ignore[method-assign]

    def watch() -> None:
        started.wait()
        while True:
            time.sleep(CHECK_SECONDS)
            if manager._shutting_down:
                return
            try:
                replace_dead(manager)
            except Exception:  # the watchdog itself must not die
                log.exception("the worker watchdog failed; it goes on")

    threading.Thread(target=watch, name="atende-watchdog", daemon=True).start()


def replace_dead(manager: Any) -> None:
    """Ask the manager to restart each server worker that died by itself."""
    for process in manager.transient_processes:
        if process.state in _LEFT_ALONE or process.is_alive():
            continue
        log.error(
            "worker %s (pid %s) died with exit code %s; starting another",
            process.name,
            process.pid,
            process.exitcode,
        )
        # The manager acts on its pipe's "name:" messages: it restarts that worker.
        process.set_state(ProcessState.RESTARTING, force=True)
        manager.monitor_publisher.send(f"{process.name}:")


def worker_report(app: Sanic[Any, Any]) -> dict[str, Any] | None:
    """How many server workers run, of how many, and how often they were restarted; None in
    a process Sanic's manager did not start (the tests' in-process server)."""
    multiplexer = getattr(app, "multiplexer", None)
    if multiplexer is None:
        return None
    servers = [state for state in multiplexer.workers.values() if state.get("server")]
    running = [s for s in servers if s.get("state") == "ACKED"]  # started, and serving
    return {
        "running": len(running),
        "of": len(servers),
        "restarts": sum(max(0, int(s.get("starts", 1)) - 1) for s in servers),
    }
