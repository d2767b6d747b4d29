"""`make bench` at tiny sizes, so that the benchmark never rots: it runs end to end and
produces every figure with its floor. How fast is not asserted; that is the benchmark's job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    # It makes a database, migrates it and starts two servers: minutes on a busy machine.
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
        reason="the benchmark runs on Postgres + Redis (DATABASE_URL, REDIS_URL)",
    ),
]

MEASURED = {
    "inbound.statements.first",
    "inbound.statements.menu_choice",
    "inbound.statements.steady",
    "inbound.closed.c3.throughput",
    "inbound.closed.c6.throughput",
    "inbound.cpu.c3.per_message",
    "inbound.cpu.c6.per_message",
    "inbound.closed_http.c3.throughput",
    "inbound.closed_http.c6.throughput",
    "inbound.open.latency.p50",
    "inbound.open.latency.p99",
    "inbound.open_half.latency.p50",
    "inbound.open_half.latency.p99",
    "inbox.tickets.agent.p50",
    "inbox.tickets.agent.p99",
    "inbox.tickets.admin.p50",
    "inbox.tickets.admin.p99",
    "inbox.tickets.small_queue.p50",
    "inbox.tickets.small_queue.p99",
    "inbox.history.p50",
    "inbox.history.p99",
}
# At smoke size the fanout runs on one server of 2 workers (full size: 1 and 2 workers).
FANOUT = {"realtime.fanout.w2.p50", "realtime.fanout.w2.p99"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One smoke run of the harness in a process of its own (it starts its own app, which
    must not replace the test session's database connections): its JSON and its table."""
    output = tmp_path_factory.mktemp("bench") / "bench-results.json"
    with warnings.catch_warnings():
        # Starting a process reaps the `uname -a` pipes that importing neonize left open
        # (tests/conftest.py); their ResourceWarning is not this test's.
        warnings.simplefilter("ignore", ResourceWarning)
        completed = subprocess.run(
            [sys.executable, "-m", "tests.perf", "--smoke", "--output", str(output)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=280,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(output.read_text()), completed.stdout


def test_every_figure_is_measured_next_to_its_floor(bench: tuple[dict[str, Any], str]) -> None:
    figures = bench[0]["figures"]
    assert set(figures) == MEASURED | FANOUT
    for key in MEASURED | FANOUT:
        figure = figures[key]
        assert figure["value"] > 0, key
        assert figure["floor"] > 0, key
        assert figure["ratio"] == pytest.approx(figure["value"] / figure["floor"], rel=1e-2), key
        assert (figure["met"] is None) == (figure["target"] is None), key


def test_the_loads_ran_without_errors(bench: tuple[dict[str, Any], str]) -> None:
    figures = bench[0]["figures"]
    for size in ("c3", "c6"):
        closed = figures[f"inbound.closed.{size}.throughput"]["detail"]
        through_http = figures[f"inbound.closed_http.{size}.throughput"]["detail"]
        for run in (closed["app"], closed["floor"], through_http["app"]):
            assert run["errors"] == 0, run["first_error"]
            assert run["messages"] == run["conversations"] * 4
            assert len(run["throughputs"]) == 2  # the smoke's samples
        assert closed["samples"] == 2
        low, high = closed["ratio_spread"]
        assert low <= closed["ratio_median"] <= high
    open_loop = figures["inbound.open.latency.p99"]["detail"]
    for side in ("app", "floor"):
        assert open_loop[side]["errors"] == 0, open_loop[side]["first_error"]
        assert open_loop[side]["messages_handled"] == 30


def test_statements_are_counted_at_the_client(bench: tuple[dict[str, Any], str]) -> None:
    figures = bench[0]["figures"]
    first = figures["inbound.statements.first"]["detail"]
    statements = first["app"]["statements"]
    # The contact, ticket, message and replies: plain INSERTs, or INSERTs inside a WITH.
    assert any("INSERT INTO" in s for s in statements)
    assert first["app"]["redis_publishes"] > 0
    assert 0 < first["app"]["redis_publish_calls"] <= first["app"]["redis_publishes"]
    # The replies' delivered receipts: applied by their own task, or written by the sender
    # with the send when the channel acknowledged at once (the sandbox does).
    applied = [s for s in statements if s.startswith("UPDATE messages SET status")]
    assert first["app"]["receipt_statements"] + len(applied) > 0
    assert figures["inbound.statements.first"]["floor"] == 8  # BEGIN, 6 statements, COMMIT
    assert figures["inbound.statements.steady"]["floor"] == 7


def test_the_inbox_queries_are_explained(bench: tuple[dict[str, Any], str]) -> None:
    figures = bench[0]["figures"]
    for key in [k for k in MEASURED if k.startswith("inbox.") and k.endswith(".p99")]:
        detail = figures[key]["detail"]
        assert detail["data"]["tickets"] == 400
        assert detail["data"]["messages"] == 4_000
        assert detail["explain"], key
        assert all(plan["plan"] for plan in detail["explain"])
        assert figures[key]["note"]


def test_the_fanout_reaches_every_socket_across_workers(
    bench: tuple[dict[str, Any], str],
) -> None:
    results, table = bench
    figure = results["figures"]["realtime.fanout.w2.p99"]
    detail = figure["detail"]
    assert detail["workers"] == 2
    for side in ("app", "floor"):
        assert detail[side]["frames_received"] == detail[side]["frames_expected"] > 0
        assert detail[side]["last_socket"]["count"] == detail["events"]
    assert figure["target"] == "< 150 ms"
    assert f"{detail['sockets']} sockets, 2 workers" in table


def test_the_hot_path_keeps_its_statement_ceilings(bench: tuple[dict[str, Any], str]) -> None:
    """Counted, not timed, so held in the suite: a statement added to the inbound path
    (a history line or a send's intent of its own) fails here, not only in `make bench`."""
    figures = bench[0]["figures"]
    for key in ("first", "menu_choice", "steady"):
        assert figures[f"inbound.statements.{key}"]["met"], figures[f"inbound.statements.{key}"]
