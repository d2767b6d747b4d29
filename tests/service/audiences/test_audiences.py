"""Audiences: each segment filter on hand-built contacts (expected ids written out),
opted-out contacts and other companies never matched, materialisation, contact lists and
their members, roles and tenant isolation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from service.audiences.actions import materialise_segment
from service.audiences.models import ContactListMember
from service.connections.models import Connection
from service.contacts.models import Contact
from service.queues.models import Queue
from service.tags.models import Tag
from service.tickets.models import Direction, Message, MessageStatus, Ticket, TicketStatus
from service.users.models import Role
from tests.factories import FakeClock, Tenant, unique

_numbers = iter(range(10_000_000, 99_999_999))


async def _contact(
    tenant: Tenant,
    name: str,
    *,
    tags: list[Tag] = (),  # type: ignore[assignment]
    fields: dict[str, Any] | None = None,
    opted_out: bool = False,
    created_at: datetime | None = None,
) -> Contact:
    values: dict[str, Any] = {
        "company": tenant.company,
        "number": f"+55119{next(_numbers)}",
        "name": name,
        "custom_fields": fields or {},
        "opted_out": opted_out,
    }
    if created_at is not None:
        values["created_at"] = created_at
    contact = await Contact.create(**values)
    if tags:
        await contact.tags.add(*tags)
    return contact


async def _tag(tenant: Tenant) -> Tag:
    return await Tag.create(company=tenant.company, name=unique("tag"))


async def _match(tenant: Tenant, filters: dict[str, Any]) -> set[int]:
    """The ids the unsaved filters match (every test builds fewer than ten)."""
    response = await tenant.client.post(
        "/api/segments/preview", json=filters, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    ids = {c["id"] for c in body["sample"]}
    assert body["count"] == len(ids)
    return ids


async def _connection(tenant: Tenant) -> Connection:
    return await Connection.create(company=tenant.company, name=unique("conn"))


async def _ticket(
    tenant: Tenant,
    contact: Contact,
    connection: Connection,
    *,
    queue: Queue | None = None,
    rating: int | None = None,
) -> Ticket:
    return await Ticket.create(
        company=tenant.company,
        contact=contact,
        connection=connection,
        queue=queue,
        status=TicketStatus.closed,
        rating=rating,
    )


async def _message(ticket: Ticket, direction: Direction, at: datetime) -> None:
    await Message.create(
        company_id=ticket.company_id,  # type: ignore[attr-defined]
        ticket=ticket,
        connection_id=ticket.connection_id,  # type: ignore[attr-defined]
        direction=direction,
        body="oi",
        status=MessageStatus.sent,
        created_at=at,
    )


async def test_tag_filters(tenant: Tenant) -> None:
    t1, t2 = await _tag(tenant), await _tag(tenant)
    a = await _contact(tenant, "a", tags=[t1])
    b = await _contact(tenant, "b", tags=[t1, t2])
    c = await _contact(tenant, "c", tags=[t2])
    d = await _contact(tenant, "d")
    await _contact(tenant, "e opted out", tags=[t1, t2], opted_out=True)

    assert await _match(tenant, {}) == {a.id, b.id, c.id, d.id}
    assert await _match(tenant, {"tags": {"any_of": [t1.id]}}) == {a.id, b.id}
    assert await _match(tenant, {"tags": {"any_of": [t1.id, t2.id]}}) == {a.id, b.id, c.id}
    assert await _match(tenant, {"tags": {"all_of": [t1.id, t2.id]}}) == {b.id}
    assert await _match(tenant, {"tags": {"none_of": [t1.id]}}) == {c.id, d.id}
    assert await _match(tenant, {"tags": {"any_of": [t2.id], "none_of": [t1.id]}}) == {c.id}


async def test_custom_field_filters(tenant: Tenant) -> None:
    odd_key = 'it\'s "odd" $.key'
    a = await _contact(tenant, "a", fields={"plan": "Gold", odd_key: "yes"})
    b = await _contact(tenant, "b", fields={"plan": "gold plus 50%"})
    c = await _contact(tenant, "c", fields={"plan": ""})
    d = await _contact(tenant, "d")
    e = await _contact(tenant, "e", fields={"vip": True, "plan": None, "score": 7})
    await _contact(tenant, "opted out", fields={"plan": "Gold"}, opted_out=True)

    def cond(op: str, key: str = "plan", value: str | None = None) -> dict[str, Any]:
        return {"custom_fields": [{"key": key, "op": op, "value": value}]}

    assert await _match(tenant, cond("equals", value="gold")) == {a.id}
    assert await _match(tenant, cond("contains", value="GOLD")) == {a.id, b.id}
    assert await _match(tenant, cond("contains", value="50%")) == {b.id}
    assert await _match(tenant, cond("contains", value="d_p")) == set()  # `_` is no wildcard
    assert await _match(tenant, cond("is_set")) == {a.id, b.id}
    assert await _match(tenant, cond("not_set")) == {c.id, d.id, e.id}
    assert await _match(tenant, cond("equals", key="vip", value="true")) == {e.id}
    assert await _match(tenant, cond("equals", key="score", value="7")) == {e.id}
    assert await _match(tenant, cond("equals", key=odd_key, value="YES")) == {a.id}
    both = {
        "custom_fields": [
            {"key": "plan", "op": "contains", "value": "gold"},
            {"key": odd_key, "op": "not_set"},
        ]
    }
    assert await _match(tenant, both) == {b.id}


async def test_last_inbound_filters(tenant: Tenant, clock: FakeClock) -> None:
    now = clock()
    connection = await _connection(tenant)
    recent = await _contact(tenant, "recent")
    old = await _contact(tenant, "old")
    never = await _contact(tenant, "never")
    only_us = await _contact(tenant, "we wrote, they did not")
    quiet = await _contact(tenant, "opted out", opted_out=True)
    await _message(await _ticket(tenant, recent, connection), Direction.inbound, now - timedelta(2))
    old_ticket = await _ticket(tenant, old, connection)
    await _message(old_ticket, Direction.inbound, now - timedelta(days=40))
    await _message(old_ticket, Direction.outbound, now - timedelta(days=1))
    await _message(
        await _ticket(tenant, only_us, connection), Direction.outbound, now - timedelta(1)
    )
    await _message(await _ticket(tenant, quiet, connection), Direction.inbound, now)

    assert await _match(tenant, {"last_inbound": {"op": "within", "days": 30}}) == {recent.id}
    assert await _match(tenant, {"last_inbound": {"op": "within", "days": 41}}) == {
        recent.id,
        old.id,
    }
    assert await _match(tenant, {"last_inbound": {"op": "before", "days": 30}}) == {old.id}
    assert await _match(tenant, {"last_inbound": {"op": "never"}}) == {never.id, only_us.id}


async def test_ticket_queue_and_rating_filters(tenant: Tenant) -> None:
    connection = await _connection(tenant)
    q1 = await Queue.create(company=tenant.company, name=unique("q"))
    q2 = await Queue.create(company=tenant.company, name=unique("q"))
    a = await _contact(tenant, "a: 3 tickets in q1, rated 2 then 5 (avg 3.5)")
    b = await _contact(tenant, "b: 1 ticket in q2, rated 1")
    c = await _contact(tenant, "c: no ticket")
    await _ticket(tenant, a, connection, queue=q1, rating=2)
    await _ticket(tenant, a, connection, queue=q1, rating=5)
    await _ticket(tenant, a, connection, queue=q1)
    await _ticket(tenant, b, connection, queue=q2, rating=1)

    assert await _match(tenant, {"tickets_min": 2}) == {a.id}
    assert await _match(tenant, {"tickets_max": 1}) == {b.id, c.id}
    assert await _match(tenant, {"tickets_min": 1, "tickets_max": 1}) == {b.id}
    assert await _match(tenant, {"queue_ids": [q1.id]}) == {a.id}
    assert await _match(tenant, {"queue_ids": [q1.id, q2.id]}) == {a.id, b.id}
    assert await _match(tenant, {"rating": {"of": "last", "min": 4}}) == {a.id}
    assert await _match(tenant, {"rating": {"of": "last", "max": 2}}) == {b.id}
    assert await _match(tenant, {"rating": {"of": "average", "min": 3, "max": 3.6}}) == {a.id}
    assert await _match(tenant, {"rating": {"of": "average", "max": 3.4}}) == {b.id}


async def test_created_between(tenant: Tenant) -> None:
    def day(d: int) -> datetime:
        return datetime(2025, 3, d, 12, tzinfo=UTC)

    a = await _contact(tenant, "a", created_at=day(1))
    b = await _contact(tenant, "b", created_at=day(10))
    c = await _contact(tenant, "c", created_at=datetime(2025, 3, 20, 23, 59, tzinfo=UTC))
    assert await _match(tenant, {"created_from": "2025-03-02"}) == {b.id, c.id}
    only = {"created_from": "2025-03-02", "created_to": "2025-03-20"}
    assert await _match(tenant, only) == {b.id, c.id}
    assert await _match(tenant, {"created_to": "2025-03-09"}) == {a.id}


async def test_other_companies_and_opted_out_never_match(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await _contact(tenant, "mine", fields={"plan": "gold"})
    await _contact(tenant, "mine, opted out", fields={"plan": "gold"}, opted_out=True)
    await _contact(other_tenant, "theirs", fields={"plan": "gold"})
    gold = {"custom_fields": [{"key": "plan", "op": "equals", "value": "gold"}]}
    assert await _match(tenant, gold) == {mine.id}
    their_tag = await _tag(other_tenant)
    refused = await tenant.client.post(
        "/api/segments/preview",
        json={"tags": {"any_of": [their_tag.id]}},
        headers=tenant.headers,
    )
    assert refused.status_code == 422, refused.text
    assert "filters.tags" in refused.json()["error"]["fields"]


async def test_invalid_filters_are_422(tenant: Tenant) -> None:
    for filters in (
        {"custom_fields": [{"key": "plan", "op": "equals"}]},
        {"last_inbound": {"op": "within"}},
        {"rating": {"min": 9}},
        {"opted_out": True},
        {"tickets_min": -1},
    ):
        response = await tenant.client.post(
            "/api/segments/preview", json=filters, headers=tenant.headers
        )
        assert response.status_code == 422, (filters, response.text)


async def test_segment_crud_preview_and_materialise(tenant: Tenant) -> None:
    client, headers = tenant.client, tenant.headers
    vip = await _tag(tenant)
    a = await _contact(tenant, "a", tags=[vip])
    b = await _contact(tenant, "b", tags=[vip])
    await _contact(tenant, "c")
    await _contact(tenant, "gone", tags=[vip], opted_out=True)
    created = await client.post(
        "/api/segments",
        json={"name": "VIPs", "filters": {"tags": {"any_of": [vip.id]}}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["filters"]["tags"]["any_of"] == [vip.id]
    again = await client.post("/api/segments", json={"name": "vips"}, headers=headers)
    assert again.status_code == 409

    preview = await client.get(f"/api/segments/{segment['id']}/preview", headers=headers)
    assert preview.status_code == 200
    assert preview.json()["count"] == 2
    assert [c["id"] for c in preview.json()["sample"]] == [a.id, b.id]

    listed = await client.get("/api/segments", headers=headers)
    assert [s["id"] for s in listed.json()["items"]] == [segment["id"]]

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    made = await materialise_segment(
        company_id=tenant.company.id, segment_id=segment["id"], now=when
    )
    assert made.name == "VIPs @ 2026-01-02 03:04:05 UTC"
    members: list[Any] = await ContactListMember.filter(contact_list_id=made.id).values_list(
        "contact_id", flat=True
    )
    assert sorted(members) == [a.id, b.id]
    twin = await materialise_segment(
        company_id=tenant.company.id, segment_id=segment["id"], now=when
    )
    assert twin.name == "VIPs @ 2026-01-02 03:04:05 UTC (2)"
    named = await materialise_segment(
        company_id=tenant.company.id, segment_id=segment["id"], name="Campaign 7"
    )
    assert named.name == "Campaign 7"

    patched = await client.patch(
        f"/api/segments/{segment['id']}",
        json={"name": "Not VIPs", "filters": {"tags": {"none_of": [vip.id]}}},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Not VIPs"
    preview = await client.get(f"/api/segments/{segment['id']}/preview", headers=headers)
    assert preview.json()["count"] == 1

    deleted = await client.delete(f"/api/segments/{segment['id']}", headers=headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/segments/{segment['id']}", headers=headers)
    assert gone.status_code == 404


async def test_contact_lists_and_members(tenant: Tenant, other_tenant: Tenant) -> None:
    client, headers = tenant.client, tenant.headers
    vip = await _tag(tenant)
    a = await _contact(tenant, "Ana", tags=[vip])
    b = await _contact(tenant, "Bruno")
    c = await _contact(tenant, "Carla", tags=[vip])
    out = await _contact(tenant, "Opted", tags=[vip], opted_out=True)
    theirs = await _contact(other_tenant, "theirs")

    created = await client.post("/api/contact-lists", json={"name": "Friends"}, headers=headers)
    assert created.status_code == 201, created.text
    lst = created.json()
    assert lst["members_count"] == 0
    dup = await client.post("/api/contact-lists", json={"name": "FRIENDS"}, headers=headers)
    assert dup.status_code == 409
    members_url = f"/api/contact-lists/{lst['id']}/members"

    added = await client.post(members_url, json={"contact_ids": [a.id, b.id]}, headers=headers)
    assert added.status_code == 200, added.text
    assert added.json() == {"changed": 2, "members_count": 2}
    again = await client.post(members_url, json={"contact_ids": [a.id]}, headers=headers)
    assert again.json() == {"changed": 0, "members_count": 2}
    foreign = await client.post(
        members_url, json={"contact_ids": [c.id, theirs.id]}, headers=headers
    )
    assert foreign.status_code == 422
    assert str(theirs.id) in foreign.json()["error"]["fields"]["contact_ids"]

    from_filters = await client.post(
        f"{members_url}/from-segment",
        json={"filters": {"tags": {"any_of": [vip.id]}}},
        headers=headers,
    )
    assert from_filters.status_code == 200, from_filters.text
    assert from_filters.json() == {"changed": 1, "members_count": 3}  # c; a was in; out never

    page = await client.get(members_url, params={"limit": 2}, headers=headers)
    assert page.status_code == 200
    first = page.json()
    assert [m["contact"]["id"] for m in first["items"]] == [a.id, b.id]
    rest = await client.get(
        members_url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    assert [m["contact"]["id"] for m in rest.json()["items"]] == [c.id]
    searched = await client.get(members_url, params={"q": "brun"}, headers=headers)
    assert [m["contact"]["name"] for m in searched.json()["items"]] == ["Bruno"]

    removed = await client.request(
        "DELETE", members_url, json={"contact_ids": [b.id, out.id]}, headers=headers
    )
    assert removed.status_code == 200
    assert removed.json() == {"changed": 1, "members_count": 2}

    seg = await client.post(
        "/api/segments", json={"name": unique("seg"), "filters": {}}, headers=headers
    )
    everyone = await client.post(
        f"{members_url}/from-segment", json={"segment_id": seg.json()["id"]}, headers=headers
    )
    assert everyone.json() == {"changed": 1, "members_count": 3}  # b again, never `out`

    renamed = await client.patch(
        f"/api/contact-lists/{lst['id']}", json={"name": "Best friends"}, headers=headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Best friends"
    assert renamed.json()["members_count"] == 3
    listed = await client.get("/api/contact-lists", headers=headers)
    assert [x["name"] for x in listed.json()["items"]] == ["Best friends"]

    deleted = await client.delete(f"/api/contact-lists/{lst['id']}", headers=headers)
    assert deleted.status_code == 204
    assert await Contact.filter(id__in=[a.id, b.id, c.id]).count() == 3


async def test_roles_and_other_companies(tenant: Tenant, other_tenant: Tenant) -> None:
    client = tenant.client
    lst = (
        await client.post("/api/contact-lists", json={"name": "L"}, headers=tenant.headers)
    ).json()
    seg = (await client.post("/api/segments", json={"name": "S"}, headers=tenant.headers)).json()
    agent = await tenant.member(Role.agent)
    supervisor = await tenant.member(Role.supervisor)
    assert (await client.get("/api/contact-lists", headers=agent.headers)).status_code == 403
    assert (await client.get("/api/segments", headers=agent.headers)).status_code == 403
    assert (await client.get("/api/segments", headers=supervisor.headers)).status_code == 200
    stranger = other_tenant.headers
    for method, url, body in (
        ("GET", f"/api/contact-lists/{lst['id']}", None),
        ("PATCH", f"/api/contact-lists/{lst['id']}", {"name": "mine"}),
        ("GET", f"/api/contact-lists/{lst['id']}/members", None),
        ("POST", f"/api/contact-lists/{lst['id']}/members", {"contact_ids": [1]}),
        ("POST", f"/api/contact-lists/{lst['id']}/members/from-segment", {"filters": {}}),
        ("DELETE", f"/api/contact-lists/{lst['id']}", None),
        ("GET", f"/api/segments/{seg['id']}", None),
        ("GET", f"/api/segments/{seg['id']}/preview", None),
        ("DELETE", f"/api/segments/{seg['id']}", None),
    ):
        response = await client.request(method, url, json=body, headers=stranger)
        assert response.status_code == 404, (method, url, response.text)
    # Their list, my segment: the segment is not theirs to read either.
    their_list = (
        await client.post("/api/contact-lists", json={"name": "T"}, headers=stranger)
    ).json()
    response = await client.post(
        f"/api/contact-lists/{their_list['id']}/members/from-segment",
        json={"segment_id": seg["id"]},
        headers=stranger,
    )
    assert response.status_code == 404
    assert re.search("Segment", response.json()["error"]["message"])


async def test_big_segment_into_a_list_in_one_statement(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    vip = await _tag(tenant)
    await Contact.bulk_create(
        [
            Contact(company=tenant.company, number=f"+551190000{i:04d}", opted_out=i % 10 == 0)
            for i in range(300)
        ]
    )
    ids = await Contact.filter(company=tenant.company).values_list("id", flat=True)
    await vip.contacts.add(*await Contact.filter(id__in=ids))  # type: ignore[attr-defined]
    lst = (
        await client.post("/api/contact-lists", json={"name": "All"}, headers=tenant.headers)
    ).json()
    response = await client.post(
        f"/api/contact-lists/{lst['id']}/members/from-segment",
        json={"filters": {"tags": {"all_of": [vip.id]}}},
        headers=tenant.headers,
    )
    assert response.json() == {"changed": 270, "members_count": 270}
