"""The inbox's figures: a large company generated with COPY, then the ticket list and one
ticket's history timed through HTTP; floor: the very SQL those requests ran (recorded at the
database client), replayed with plain asyncpg; and EXPLAIN of each of those queries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.perf.environment import LABEL_HEADER, CompanySetup
from tests.perf.results import Figure, Results, Target
from tests.perf.statements import Statement, StatementLog
from tests.perf.stats import summarize

__all__ = ["Generated", "InboxSizes", "generate", "measure_inbox"]

_CHUNK = 50_000
_LIST = "GET /api/tickets?status=pending&queue_id="
_HISTORY = "GET /api/tickets/{id}/messages (agent)"
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_CONTACT_COLUMNS = (
    "id",
    "company_id",
    "number",
    "name",
    "custom_fields",
    "opted_out",
    "opted_out_reason",
    "is_group",
    "created_at",
    "updated_at",
)
_TICKET_COLUMNS = (
    "id",
    "company_id",
    "contact_id",
    "connection_id",
    "queue_id",
    "user_id",
    "status",
    "flow_state",
    "unread_count",
    "last_message",
    "last_message_at",
    "created_at",
    "updated_at",
    "handed_off_at",
    "closed_at",
)
_MESSAGE_COLUMNS = (
    "id",
    "company_id",
    "ticket_id",
    "connection_id",
    "direction",
    "body",
    "channel_message_id",
    "status",
    "from_bot",
    "is_note",
    "processed_at",
    "created_at",
)


@dataclass(frozen=True)
class InboxSizes:
    tickets: int = 100_000
    messages: int = 1_000_000
    requests: int = 500
    warmup_requests: int = 30


@dataclass(frozen=True)
class Generated:
    contacts: int
    tickets: int
    messages: int
    pending_in_queue: int  # what the measured list filters down to
    pending_in_small_queue: int
    history_ticket_id: int
    history_messages: int
    seconds: float

    def as_detail(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "tickets": self.tickets,
            "messages": self.messages,
            "pending_in_queue": self.pending_in_queue,
            "pending_in_small_queue": self.pending_in_small_queue,
            "history_ticket_messages": self.history_messages,
            "generation_seconds": round(self.seconds, 1),
        }


def _second_status(contact: int) -> str:
    """Each contact has a closed ticket and a second one: 40% pending, 10% open, 5% with the
    bot, 45% closed (so 20% of all tickets wait in a queue)."""
    r = (contact * 7919) % 100
    if r < 40:
        return "pending"
    if r < 50:
        return "open"
    if r < 55:
        return "bot"
    return "closed"


def _contact_row(setup: CompanySetup, contact_id: int, n: int, now: datetime) -> tuple[Any, ...]:
    number, name = f"+552198{n:07d}", f"Cliente {n}"
    return (contact_id, setup.company_id, number, name, "{}", False, "", False, now, now)


def _queue_index(contact: int, contacts: int) -> int:
    """Most queued tickets are in the busy first queue; the small second one holds a few
    old ones, a backlog (the case where an index that does not match ORDER BY hurts most)."""
    return 1 if contact % 12 == 1 and contact < contacts // 2 else 0


def _ticket_rows(
    setup: CompanySetup, *, first_id: int, first_contact: int, count: int
) -> Iterator[tuple[Any, ...]]:
    for t in range(count):
        contact = t // 2
        status = "closed" if t % 2 == 0 else _second_status(contact)
        queue = None if status == "bot" else setup.queue_ids[_queue_index(contact, count // 2)]
        user = setup.agent_id if status in ("open", "closed") and contact % 3 == 0 else None
        last = _EPOCH + timedelta(seconds=30 * t)
        yield (
            first_id + t,
            setup.company_id,
            first_contact + contact,
            setup.connection_id,
            queue,
            user,
            status,
            "{}",
            (t % 4) if status == "pending" else 0,
            f"Mensagem do cliente {contact}",
            last,
            last - timedelta(hours=1),
            last,
            None if status == "bot" else last - timedelta(minutes=50),
            last if status == "closed" else None,
        )


def _message_rows(
    setup: CompanySetup,
    *,
    first_id: int,
    first_ticket: int,
    tickets: int,
    count: int,
    history_ticket: int,
    history_count: int,
) -> Iterator[tuple[Any, ...]]:
    """Messages in time order, round-robin over the tickets (so one ticket's messages lie
    far apart in the table, as months of traffic leave them), every `stride`-th one for the
    history ticket."""
    stride = max(1, count // max(1, history_count))
    others = 0
    for m in range(count):
        if m % stride == 0 and m // stride < history_count:
            ticket = history_ticket
        else:
            ticket = first_ticket + others % tickets
            others += 1
        inbound = m % 2 == 0
        at = _EPOCH + timedelta(seconds=3 * m)
        yield (
            first_id + m,
            setup.company_id,
            ticket,
            setup.connection_id,
            "in" if inbound else "out",
            f"Mensagem número {m} da conversa, com algum texto",
            f"gen-{first_id + m}",
            "delivered" if inbound else "read",
            not inbound and m % 4 == 1,
            False,
            at,
            at,
        )


async def _copy(
    connection: asyncpg.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple[Any, ...]],
) -> None:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            await connection.copy_records_to_table(table, records=chunk, columns=columns)
            chunk = []
    if chunk:
        await connection.copy_records_to_table(table, records=chunk, columns=columns)


async def _next_id(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))


async def generate(
    connection: asyncpg.Connection, setup: CompanySetup, *, tickets: int, messages: int
) -> Generated:
    """`tickets` tickets (two per contact) and `messages` messages in the company, by COPY;
    the newest pending ticket of its first queue gets 1% of the messages."""
    started = time.perf_counter()
    contacts = max(1, (tickets + 1) // 2)
    first_contact = await _next_id(connection, "contacts")
    first_ticket = await _next_id(connection, "tickets")
    first_message = await _next_id(connection, "messages")
    now = datetime.now(UTC)
    await _copy(
        connection,
        "contacts",
        _CONTACT_COLUMNS,
        (_contact_row(setup, first_contact + c, c, now) for c in range(contacts)),
    )
    rows = list(
        _ticket_rows(setup, first_id=first_ticket, first_contact=first_contact, count=tickets)
    )
    await _copy(connection, "tickets", _TICKET_COLUMNS, iter(rows))
    busy, small = setup.queue_ids
    in_queue = [r[0] for r in rows if r[6] == "pending" and r[4] == busy]
    in_small_queue = sum(1 for r in rows if r[6] == "pending" and r[4] == small)
    history_ticket = in_queue[-1] if in_queue else rows[-1][0]
    history_count = max(1, messages // 100)
    await _copy(
        connection,
        "messages",
        _MESSAGE_COLUMNS,
        _message_rows(
            setup,
            first_id=first_message,
            first_ticket=first_ticket,
            tickets=tickets,
            count=messages,
            history_ticket=history_ticket,
            history_count=history_count,
        ),
    )
    for table in ("contacts", "tickets", "messages"):
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
        await connection.execute(f"ANALYZE {table}")
    return Generated(
        contacts=contacts,
        tickets=tickets,
        messages=messages,
        pending_in_queue=len(in_queue),
        pending_in_small_queue=in_small_queue,
        history_ticket_id=history_ticket,
        history_messages=history_count,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class _Request:
    key: str
    label: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    table: str  # the table whose access path the figure's note describes


async def _timed(http: httpx.AsyncClient, request: _Request, count: int) -> list[float]:
    """Seconds each of `count` requests took, one after the other."""
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        response = await http.get(request.path, params=request.params, headers=request.headers)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {request.path}: {response.status_code} {response.text}")
        seconds.append(elapsed)
    return seconds


async def _recorded(
    http: httpx.AsyncClient, log: StatementLog, request: _Request
) -> list[Statement]:
    """The SQL one such request runs, as the app sent it (pool resets apart)."""
    label = f"inbox/{request.key}"
    headers = {**request.headers, LABEL_HEADER: label}
    response = await http.get(request.path, params=request.params, headers=headers)
    response.raise_for_status()
    return [s for s in log.take(label) if s.kind != "pool-reset"]


async def _replayed(pool: asyncpg.Pool, statements: list[Statement], count: int) -> list[float]:
    """Seconds the same statements take with plain asyncpg, on one pooled connection."""
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        async with pool.acquire() as connection:
            for s in statements:
                await getattr(connection, s.method)(s.query, *s.args)
        seconds.append(time.perf_counter() - started)
    return seconds


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _node_text(node: dict[str, Any], tables: dict[str, str]) -> str:
    """`Index Scan Backward using tickets_pkey on tickets`, `Sort (id DESC, top-N heapsort)`."""
    text = str(node["Node Type"])
    if node.get("Scan Direction") == "Backward":
        text += " Backward"
    index = node.get("Index Name")
    if index:
        text += f" using {index}"
    relation = node.get("Relation Name") or tables.get(index or "")
    if relation:
        text += f" on {relation}"
    if node["Node Type"] == "Sort":
        text += f" ({', '.join(node.get('Sort Key', []))}; {node.get('Sort Method', '?')})"
    return text


async def _index_tables(connection: asyncpg.Connection) -> dict[str, str]:
    rows = await connection.fetch(
        "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'"
    )
    return {row["indexname"]: row["tablename"] for row in rows}


async def _explained(
    connection: asyncpg.Connection, statement: Statement, tables: dict[str, str]
) -> dict[str, Any]:
    """EXPLAIN ANALYZE of one statement, summed up: its plan, scans, what they filtered out."""
    raw = await connection.fetchval(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.query, *statement.args
    )
    [plan] = json.loads(raw)
    nodes = list(_plan_nodes(plan["Plan"]))
    return {
        "sql": statement.short(400),
        "plan": [_node_text(n, tables) for n in nodes],
        "seq_scans": [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"],
        "indexes": sorted({n["Index Name"] for n in nodes if "Index Name" in n}),
        "rows_removed_by_filter": sum(int(n.get("Rows Removed by Filter", 0)) for n in nodes),
        "shared_buffers_hit": plan["Plan"].get("Shared Hit Blocks", 0),
        "shared_buffers_read": plan["Plan"].get("Shared Read Blocks", 0),
        "execution_ms": plan["Execution Time"],
    }


def _access_note(plans: list[dict[str, Any]], table: str) -> str:
    """How the request's main query reached `table`: the first statement that reads it
    with a LIMIT (the page), else the first that reads it at all."""
    reading = [p for p in plans if any(n.endswith(f" on {table}") for n in p["plan"])]
    paged = [p for p in reading if p["plan"][0] == "Limit"]
    if not reading:
        return f"{table}: not read"
    plan = (paged or reading)[0]
    steps = [n for n in plan["plan"] if n.endswith(f" on {table}") or n.startswith("Sort (")]
    removed = plan["rows_removed_by_filter"]
    return (
        " > ".join(steps)
        + (f"; {removed:,} rows removed by filter" if removed else "")
        + (f"; SEQ SCAN on {table}" if table in plan["seq_scans"] else "")
        + f"; {plan['execution_ms']:.2f} ms in Postgres"
    )


async def _request_figures(
    results: Results,
    *,
    http: httpx.AsyncClient,
    recording: httpx.AsyncClient,
    pool: asyncpg.Pool,
    log: StatementLog,
    request: _Request,
    sizes: InboxSizes,
    generated: Generated,
) -> None:
    await _timed(http, request, sizes.warmup_requests)
    statements = await _recorded(recording, log, request)
    await _replayed(pool, statements, sizes.warmup_requests)
    mine = summarize(await _timed(http, request, sizes.requests))
    base = summarize(await _replayed(pool, statements, sizes.requests))
    async with pool.acquire() as connection:
        tables = await _index_tables(connection)
        selects = [s for s in statements if s.kind == "SELECT"]
        plans = [await _explained(connection, s, tables) for s in selects]
    detail = {
        "http": mine.as_dict(),
        "floor": base.as_dict(),
        "statements": len(statements),
        "explain": plans,
        "data": generated.as_detail(),
    }
    for name, target in (("p50", None), ("p99", Target("<", 25.0))):
        results.add(
            Figure(
                key=f"inbox.{request.key}.{name}",
                label=f"{request.label} {name}",
                unit="ms",
                value=getattr(mine, name),
                floor=getattr(base, name),
                target=target,
                note=_access_note(plans, request.table) if name == "p99" else "",
                detail=detail if name == "p99" else {},
            )
        )


async def measure_inbox(
    *,
    results: Results,
    http: httpx.AsyncClient,
    recording: httpx.AsyncClient,
    pool: asyncpg.Pool,
    log: StatementLog,
    setup: CompanySetup,
    sizes: InboxSizes,
) -> Generated:
    """Generate the company's history, then time its inbox list and one ticket's messages
    through `http` (a server process of its own); `recording` is the in-process server whose
    SQL is recorded (the same code on the same database) for the floor and EXPLAIN."""
    async with pool.acquire() as connection:
        generated = await generate(
            connection, setup, tickets=sizes.tickets, messages=sizes.messages
        )
    busy = {"status": "pending", "queue_id": str(setup.queue_ids[0])}
    small = {"status": "pending", "queue_id": str(setup.queue_ids[1])}
    history = f"/api/tickets/{generated.history_ticket_id}/messages"
    agent, admin = setup.agent_headers, setup.admin_headers
    requests = [
        _Request("tickets.agent", f"{_LIST} (agent)", "/api/tickets", busy, agent, "tickets"),
        _Request("tickets.admin", f"{_LIST} (admin)", "/api/tickets", busy, admin, "tickets"),
        _Request(
            "tickets.small_queue",
            f"{_LIST}, small queue (admin)",
            "/api/tickets",
            small,
            admin,
            "tickets",
        ),
        _Request("history", _HISTORY, history, {}, agent, "messages"),
    ]
    for request in requests:
        await _request_figures(
            results,
            http=http,
            recording=recording,
            pool=pool,
            log=log,
            request=request,
            sizes=sizes,
            generated=generated,
        )
    return generated
