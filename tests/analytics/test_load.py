"""analytics.load and the Source: the frames' types (the same on both backends), tenant
isolation, filters, and raw queries."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
import pytest_asyncio

import analytics
from analytics import load
from analytics.source import Source
from service.settings import Settings
from tests.factories import Tenant, make_tenant
from tests.helpers.seeded_history import SeededHistory, at, open_source, seed_history
from tests.processes import settings_env

UTC_NS = "datetime64[ns, UTC]"
PERIOD = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))

DTYPES = {
    "tickets": {
        "id": "int64",
        "contact_id": "int64",
        "connection_id": "int64",
        "queue_id": "Int64",
        "queue": "category",
        "user_id": "Int64",
        "agent": "category",
        "status": "category",
        "campaign_id": "Int64",
        "rating": "Int64",
        "created_at": UTC_NS,
        "handed_off_at": UTC_NS,
        "accepted_at": UTC_NS,
        "first_agent_reply_at": UTC_NS,
        "closed_at": UTC_NS,
        "first_response_at": UTC_NS,
        "first_responder_id": "Int64",
    },
    "ticket_history": {
        "id": "Int64",
        "ticket_id": "int64",
        "kind": "category",
        "actor_kind": "category",
        "actor_user_id": "Int64",
        "from_queue_id": "Int64",
        "from_queue": "category",
        "to_queue_id": "Int64",
        "to_queue": "category",
        "from_user_id": "Int64",
        "to_user_id": "Int64",
        "note": "string",
        "reason": "string",
        "at": UTC_NS,
        "recorded": "bool",
    },
    "messages": {
        "id": "int64",
        "ticket_id": "int64",
        "contact_id": "int64",
        "connection_id": "int64",
        "direction": "category",
        "from_bot": "bool",
        "is_note": "bool",
        "sender_user_id": "Int64",
        "status": "category",
        "media_type": "category",
        "body": "string",
        "created_at": UTC_NS,
    },
    "contacts": {
        "id": "int64",
        "number": "string",
        "name": "string",
        "email": "string",
        "language": "string",
        "is_group": "bool",
        "opted_out": "bool",
        "opted_out_at": UTC_NS,
        "opted_out_reason": "string",
        "created_at": UTC_NS,
        "updated_at": UTC_NS,
        "tags": "object",
        "custom_fields": "object",
    },
    "ratings": {
        "ticket_id": "int64",
        "contact_id": "int64",
        "queue_id": "Int64",
        "queue": "category",
        "user_id": "Int64",
        "agent": "category",
        "rating": "Int64",
        "rated_at": UTC_NS,
    },
    "campaigns": {
        "id": "int64",
        "name": "string",
        "status": "category",
        "connection_id": "int64",
        "contact_list_id": "Int64",
        "segment_id": "Int64",
        "scheduled_at": UTC_NS,
        "started_at": UTC_NS,
        "finished_at": UTC_NS,
        "created_at": UTC_NS,
        "recipients": "int64",
        "sent": "int64",
        "delivered": "int64",
        "read": "int64",
        "failed": "int64",
        "skipped": "int64",
    },
    "recipients": {
        "campaign_id": "int64",
        "campaign": "category",
        "contact_id": "int64",
        "status": "category",
        "variant": "Int64",
        "reason": "string",
        "sent_at": UTC_NS,
        "delivered_at": UTC_NS,
        "read_at": UTC_NS,
        "confirmed_at": UTC_NS,
        "created_at": UTC_NS,
    },
    "queues": {
        "id": "int64",
        "name": "string",
        "color": "string",
        "position": "int64",
        "business_hours": "object",
    },
    "users": {
        "id": "int64",
        "name": "string",
        "email": "string",
        "role": "category",
        "is_active": "bool",
    },
}


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {str(name): str(dtype) for name, dtype in frame.dtypes.items()}


def frames_of(src: Source) -> dict[str, pd.DataFrame]:
    return {
        "tickets": load.tickets(src),
        "ticket_history": load.ticket_history(src),
        "messages": load.messages(src),
        "contacts": load.contacts(src),
        "ratings": load.ratings(src),
        "campaigns": load.campaigns(src),
        "recipients": load.recipients(src),
        "queues": load.queues(src),
        "users": load.users(src),
    }


@pytest_asyncio.fixture(scope="module")
async def other_history(client: httpx.AsyncClient) -> SeededHistory:
    """The same history in a second company, which the first must never see."""
    return await seed_history(await make_tenant(client))


@pytest.fixture(scope="module")
def other_source(other_history: SeededHistory, test_settings: Settings) -> Iterator[Source]:
    with open_source(test_settings, other_history.company_id) as source:
        yield source


def test_the_source_knows_its_company(
    history_source: Source, seeded_history: SeededHistory, backend: str, test_settings: Settings
) -> None:
    src = history_source
    assert src.company_id == seeded_history.company_id
    assert src.timezone == "America/New_York"  # the company's setting
    assert src.dialect == ("postgres" if backend == "postgres+redis" else "sqlite")
    assert repr(src).startswith(f"<Source {src.dialect} company {src.company_id} ")
    assert src.company_settings.business_hours is not None
    with open_source(test_settings, src.company_name) as by_name:
        assert by_name.company_id == src.company_id
    with open_source(test_settings, None) as default:
        first = src.query("SELECT MIN(id) AS id FROM companies")
        assert default.company_id == int(first["id"].iloc[0])
    with pytest.raises(LookupError):
        open_source(test_settings, 2_000_000_000)


def test_an_unknown_url_is_refused() -> None:
    with pytest.raises(ValueError, match="URL"):
        analytics.connect("mysql://nowhere/db", env_file=None)
    with pytest.raises(FileNotFoundError):
        analytics.connect("sqlite:///nonexistent/atende.sqlite3", env_file=None)


def test_every_frame_has_its_types(history_source: Source) -> None:
    for name, frame in frames_of(history_source).items():
        assert dtypes(frame) == DTYPES[name], name
        assert frame.attrs["timezone"] == "America/New_York"
        assert len(frame) > 0, name


async def test_an_empty_company_gives_the_same_types(
    client: httpx.AsyncClient, test_settings: Settings
) -> None:
    tenant: Tenant = await make_tenant(client)
    with open_source(test_settings, tenant.company.id) as src:
        assert src.timezone == "America/Sao_Paulo"  # the default setting
        for name, frame in frames_of(src).items():
            if name != "users":
                assert frame.empty, name
            assert dtypes(frame) == DTYPES[name], name


def test_categories_hold_every_value(history_source: Source) -> None:
    tickets = load.tickets(history_source)
    assert list(tickets["status"].cat.categories) == ["bot", "pending", "open", "closed"]
    assert list(tickets["queue"].cat.categories) == ["Vendas", "Suporte"]
    assert {"Ana", "Bruno"} <= set(tickets["agent"].cat.categories)
    messages = load.messages(history_source)
    assert list(messages["direction"].cat.categories) == ["in", "out"]
    assert "image" in messages["media_type"].cat.categories
    assert messages["media_type"].value_counts()["image"] == 1
    recipients = load.recipients(history_source)
    assert list(recipients["status"].cat.categories) == [
        "queued",
        "confirming",
        "sent",
        "delivered",
        "read",
        "failed",
        "skipped",
    ]
    assert list(load.users(history_source)["role"].cat.categories) == [
        "admin",
        "supervisor",
        "agent",
    ]


def test_tickets_carry_their_first_response(
    history_source: Source, seeded_history: SeededHistory
) -> None:
    tickets = load.tickets(history_source).set_index("id")
    ids, agents = seeded_history.tickets, seeded_history.agents
    answered = tickets.loc[ids["answered_90s"]]
    # Not the bot's message at 14:02:10, not Ana's note at 14:03:10.
    assert answered["first_response_at"] == pd.Timestamp(at(2, 14, 3, 30))
    assert answered["first_responder_id"] == agents["Ana"]
    assert answered["queue"] == "Vendas"
    assert answered["agent"] == "Ana"
    assert answered["rating"] == 5
    bot = tickets.loc[ids["bot_contained"]]
    assert pd.isna(bot["first_response_at"])
    assert pd.isna(bot["first_responder_id"])
    assert pd.isna(bot["queue"])
    assert pd.isna(bot["queue_id"])
    with_bot = tickets.loc[ids["with_bot"]]
    assert with_bot["campaign_id"] == seeded_history.campaign_id
    assert with_bot["status"] == "bot"


def test_tenant_isolation(
    history_source: Source,
    other_source: Source,
    seeded_history: SeededHistory,
    other_history: SeededHistory,
) -> None:
    ours, theirs = frames_of(history_source), frames_of(other_source)
    assert set(ours["tickets"]["id"]) == set(seeded_history.tickets.values())
    assert set(theirs["tickets"]["id"]) == set(other_history.tickets.values())
    keys = {
        "tickets": "id",
        "ticket_history": "ticket_id",
        "messages": "id",
        "contacts": "id",
        "ratings": "ticket_id",
        "campaigns": "id",
        "recipients": "contact_id",
        "queues": "id",
        "users": "id",
    }
    for name, key in keys.items():
        assert not set(ours[name][key]) & set(theirs[name][key]), name
        assert len(ours[name]) == len(theirs[name]), name
    assert set(ours["contacts"]["id"]) == set(seeded_history.contacts)
    assert set(ours["messages"]["ticket_id"]) <= set(seeded_history.tickets.values())
    # The same history gives the same figures in each company.
    for name in ("tickets", "ticket_history", "messages", "ratings"):
        left = ours[name].drop(columns=[c for c in ours[name] if c.endswith("id")])
        right = theirs[name].drop(columns=[c for c in theirs[name] if c.endswith("id")])
        left = left.drop(columns=[c for c in ("agent",) if c in left])
        right = right.drop(columns=[c for c in ("agent",) if c in right])
        pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True))


def test_loaders_filter_on_their_own_moment(
    history_source: Source, seeded_history: SeededHistory
) -> None:
    src, ids = history_source, seeded_history.tickets
    names = {ticket_id: name for name, ticket_id in ids.items()}

    def ticket_names(frame: pd.DataFrame) -> set[str]:
        return {names[int(ticket_id)] for ticket_id in frame["id"]}

    # Local days, both included; the DST Sunday ends at 04:00 UTC.
    assert ticket_names(load.tickets(src, *PERIOD)) == set(ids) - {"after_period", "before_period"}
    assert ticket_names(load.tickets(src, "2026-03-09", None)) == {"after_period"}
    assert ticket_names(load.tickets(src, None, dt.date(2026, 3, 1))) == {"before_period"}
    # Aware moments are exact, the end excluded; naive ones are local time.
    assert ticket_names(load.tickets(src, at(2, 14), at(2, 15))) == {"answered_90s"}
    nine, ten = dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 2, 10)  # noqa: DTZ001
    naive = load.tickets(src, nine, ten)
    assert ticket_names(naive) == {"answered_90s"}
    assert ticket_names(load.tickets(src, "2026-03-02T09:00", "2026-03-02T10:00:01")) == {
        "answered_90s",
        "bot_contained",
    }
    # touching: every ticket with an event in the period or open across it.
    assert ticket_names(load.tickets(src, *PERIOD, touching=True)) == set(ids) - {"after_period"}
    assert ticket_names(load.tickets(src, "2026-03-10", "2026-03-10", touching=True)) == {
        "transferred",
        "waiting",
        "with_bot",
    }

    messages = load.messages(src, *PERIOD)
    assert len(messages) == 33
    assert (messages["direction"] == "in").sum() == 15
    assert messages["created_at"].min() == pd.Timestamp(at(2, 14))
    assert messages["created_at"].max() == pd.Timestamp(at(8, 12))

    ratings = load.ratings(src, *PERIOD)
    assert sorted(ratings["rating"].tolist()) == [2, 4, 5]  # by closed_at: not after_period's 1
    assert set(ratings["rated_at"]) == {
        pd.Timestamp(at(2, 14, 20)),
        pd.Timestamp(at(4, 16)),
        pd.Timestamp(at(4, 15, 15)),
    }


def test_the_ticket_history(history_source: Source, seeded_history: SeededHistory) -> None:
    src, ids, queues = history_source, seeded_history.tickets, seeded_history.queues
    names = {ticket_id: name for name, ticket_id in ids.items()}
    history = load.ticket_history(src)
    assert list(history["kind"].cat.categories) == [
        "created",
        "handed_off",
        "accepted",
        "transferred",
        "closed",
        "reopened",
        "rating_expired",
        "rated",
        "fallback",
    ]
    assert list(history["to_queue"].cat.categories) == ["Vendas", "Suporte"]
    assert history["at"].is_monotonic_increasing
    transferred = history[history["ticket_id"] == ids["transferred"]]
    assert transferred["kind"].tolist() == ["handed_off", "transferred"]
    [move] = transferred[transferred["kind"] == "transferred"].to_dict("records")
    assert (move["from_queue"], move["to_queue"]) == ("Suporte", "Vendas")
    assert (move["from_queue_id"], move["to_queue_id"]) == (queues["Suporte"], queues["Vendas"])
    assert move["to_user_id"] == seeded_history.agents["Ana"]
    assert move["actor_kind"] == "user"
    assert move["recorded"]
    reopened = history[history["ticket_id"] == ids["reopened"]]["kind"].tolist()
    assert reopened == ["handed_off", "accepted", "closed", "reopened", "closed", "rated"]
    # before_period has no lines of its own: those its columns imply, without id or actor.
    implied = history[~history["recorded"]]
    assert {names[int(t)] for t in implied["ticket_id"]} == {"before_period"}
    assert implied["kind"].tolist() == ["handed_off", "closed"]
    assert implied["at"].tolist() == [pd.Timestamp(at(1, 20, 10)), pd.Timestamp(at(2, 15))]
    assert implied["to_queue"].tolist()[0] == "Vendas"
    assert implied["from_queue"].tolist()[1] == "Vendas"
    assert implied["id"].isna().all()
    assert implied["actor_kind"].isna().all()
    # with_bot has nothing to tell yet.
    assert ids["with_bot"] not in set(history["ticket_id"])

    # By `at`, or every line of the tickets with one in the period.
    monday = load.ticket_history(src, "2026-03-02", "2026-03-02")
    assert {names[int(t)] for t in monday["ticket_id"]} == {
        "answered_90s",
        "bot_contained",
        "before_period",
    }
    assert monday["kind"][monday["ticket_id"] == ids["before_period"]].tolist() == ["closed"]
    touching = load.ticket_history(src, "2026-03-02", "2026-03-02", touching=True)
    assert touching["kind"][touching["ticket_id"] == ids["before_period"]].tolist() == [
        "handed_off",
        "closed",
    ]
    assert len(load.ticket_history(src, *PERIOD, touching=True)) == len(history) - 4


def test_contacts_campaigns_queues_and_users(
    history_source: Source, seeded_history: SeededHistory
) -> None:
    contacts = load.contacts(history_source).set_index("id")
    first = contacts.loc[seeded_history.contacts[0]]
    assert first["tags"] == ["b2b", "vip"]
    assert first["custom_fields"] == {"plan": "gold", "city": "Recife"}
    assert contacts.loc[seeded_history.contacts[1], "tags"] == []
    assert contacts.loc[seeded_history.contacts[1], "custom_fields"] == {}
    assert not contacts["opted_out"].any()

    [campaign] = load.campaigns(history_source).to_dict("records")
    assert campaign["id"] == seeded_history.campaign_id
    assert campaign["name"] == "Promo março"
    assert campaign["status"] == "finished"
    counts = {key: campaign[key] for key in ("recipients", "sent", "delivered", "read")}
    assert counts == {"recipients": 4, "sent": 2, "delivered": 2, "read": 1}
    assert (campaign["failed"], campaign["skipped"]) == (1, 1)
    assert campaign["started_at"] == pd.Timestamp(at(5, 13))
    assert pd.isna(campaign["scheduled_at"])

    recipients = load.recipients(history_source, campaign_id=seeded_history.campaign_id)
    assert sorted(recipients["status"].astype(str)) == ["delivered", "failed", "read", "skipped"]
    assert set(recipients["campaign"]) == {"Promo março"}
    assert load.recipients(history_source, campaign_id=2_000_000_000).empty

    queues = load.queues(history_source)
    assert queues["name"].tolist() == ["Vendas", "Suporte"]
    assert queues["business_hours"].iloc[0] is None
    assert queues["business_hours"].iloc[1]["timezone"] == "America/Sao_Paulo"
    schedules = load.schedules(history_source)
    assert set(schedules.queues) == {seeded_history.queues["Suporte"]}
    assert schedules.company is not None
    assert schedules.company.timezone == "America/New_York"

    users = load.users(history_source).set_index("id")
    assert users.loc[seeded_history.agents["Ana"], "role"] == "agent"
    assert users["is_active"].all()


def test_raw_queries(history_source: Source, seeded_history: SeededHistory) -> None:
    src = history_source
    ids = sorted(seeded_history.tickets.values())[:3]
    frame = src.query(
        "SELECT id, created_at, closed_at, rating FROM tickets"
        " WHERE company_id = :company AND id IN (:ids) AND created_at >= :since ORDER BY id",
        ids=ids,
        since=at(1, 0),
    )
    assert frame["id"].tolist() == ids
    assert str(frame["created_at"].dtype) == UTC_NS
    assert str(frame["closed_at"].dtype) == UTC_NS
    assert src.query("SELECT id FROM tickets WHERE id IN (:ids)", ids=[]).empty
    # A colon inside a literal is not a parameter.
    assert src.query("SELECT '10:30' AS t").iloc[0, 0] == "10:30"
    average = src.query(
        "SELECT AVG(rating) AS r FROM tickets WHERE company_id = :company AND rating IS NOT NULL"
    )
    assert average["r"].iloc[0] == pytest.approx(3.0)  # 5, 4, 2, 1
    with pytest.raises(KeyError, match=":missing"):
        src.query("SELECT :missing")
    naive = dt.datetime(2026, 3, 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        src.query("SELECT id FROM tickets WHERE created_at >= :t", t=naive)


# A notebook cell: the main thread's event loop is already running (as in Jupyter) when the
# analyst connects, loads a frame and runs the service's async code through the source.
NOTEBOOK = """
import asyncio, sys
import analytics
from analytics import load
from service.tickets.models import Ticket

async def count(company_id):
    return await Ticket.filter(company_id=company_id).count()

async def cell():
    src = analytics.connect(company=int(sys.argv[1]), env_file=None)
    frame = load.tickets(src)
    counted = src.run(count, src.company_id)
    again = src.run(count, src.company_id)
    src.close()
    print(src.dialect, len(frame), counted, again)

asyncio.run(cell())
"""


async def test_it_works_inside_a_running_event_loop(
    seeded_history: SeededHistory, test_settings: Settings, backend: str
) -> None:
    """In a process of its own: `run` initialises Tortoise, which this test process has
    already initialised in its own loop."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-W", "error", "-c", NOTEBOOK, str(seeded_history.company_id)],
        env=settings_env(test_settings),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    dialect = "postgres" if backend == "postgres+redis" else "sqlite"
    assert done.stdout.split() == [dialect, "10", "10", "10"]
