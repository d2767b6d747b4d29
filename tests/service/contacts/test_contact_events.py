"""`contact.updated`: every change of a contact reaches the sockets of its company's users
(whatever their role and queues) once committed, and never another company's."""

from __future__ import annotations

from typing import Any

import httpx
from sanic import Sanic

from service.realtime.broker import Broker
from service.users.models import Role
from tests.factories import Tenant, agent_in, make_queue
from tests.helpers.contacts import make_contact, make_tag
from tests.helpers.realtime import Feed, feed

URL = "/api/contacts"


def _contact_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "contact.updated"]


async def test_a_contact_change_reaches_its_company_and_never_another(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    broker: Broker = app.ctx.broker
    queue = await make_queue(tenant)
    agent = await agent_in(tenant, queue)
    queueless = await tenant.member(Role.agent)  # an agent in no queue still hears it
    supervisor = await tenant.member(Role.supervisor)
    outsider_agent = await other_tenant.member(Role.agent)
    tag = await make_tag(tenant, "VIP")
    contact = await make_contact(tenant, name="Maria")
    # Another company's contact with the same id space: its changes stay there too.
    theirs = await make_contact(other_tenant, name="Outra")

    async with (
        feed(app, tenant.admin.token) as admin,
        feed(app, supervisor.token) as sup,
        feed(app, agent.token) as mine,
        feed(app, queueless.token) as idle,
        feed(app, other_tenant.admin.token) as their_admin,
        feed(app, outsider_agent.token) as their_agent,
    ):
        # An agent may edit (contacts are every role's); each change is one event.
        renamed = await client.patch(
            f"{URL}/{contact['id']}",
            json={"name": "Maria <b>Silva</b>", "custom_fields": {"plano": "ouro"}},
            headers=agent.headers,
        )
        assert renamed.status_code == 200, renamed.text
        tagged = await client.post(
            f"{URL}/{contact['id']}/tags", json={"tag_ids": [tag["id"]]}, headers=agent.headers
        )
        assert tagged.status_code == 200, tagged.text
        opted = await client.patch(
            f"{URL}/{contact['id']}", json={"opted_out": True}, headers=tenant.headers
        )
        assert opted.status_code == 200, opted.text
        # Refused changes are not news.
        refused = await client.patch(
            f"{URL}/{contact['id']}", json={"email": "not an email"}, headers=tenant.headers
        )
        assert refused.status_code == 422, refused.text
        # Another company's change, for the leak check the other way round.
        other = await client.patch(
            f"{URL}/{theirs['id']}", json={"name": "Outra Nome"}, headers=other_tenant.headers
        )
        assert other.status_code == 200, other.text

        sockets: dict[str, Feed] = {"admin": admin, "sup": sup, "mine": mine, "idle": idle}
        received = {
            name: _contact_events(await socket.drain(broker, tenant.company.id))
            for name, socket in sockets.items()
        }
        leaked = {
            name: _contact_events(await socket.drain(broker, other_tenant.company.id))
            for name, socket in (("admin", their_admin), ("agent", their_agent))
        }

    for name, events in received.items():
        assert [e["data"]["id"] for e in events] == [contact["id"]] * 3, name
        first, second, third = (e["data"] for e in events)
        assert first["name"] == "Maria <b>Silva</b>"
        assert first["custom_fields"] == {"plano": "ouro"}
        assert first["tags"] == []
        assert [t["name"] for t in second["tags"]] == ["VIP"]
        assert third["opted_out"] is True
        assert third["opted_out_at"] == opted.json()["opted_out_at"]
        # The event carries what the API answered, and no audience.
        assert third == opted.json()
        assert all("audience" not in e for e in events)
    for name, events in leaked.items():
        assert [e["data"]["id"] for e in events] == [theirs["id"]], name
        assert all(e["data"]["name"] == "Outra Nome" for e in events)


async def test_a_change_of_another_companys_contact_is_a_404_and_tells_nobody(
    app: Sanic[Any, Any], client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    broker: Broker = app.ctx.broker
    theirs = await make_contact(other_tenant, name="Deles")
    async with (
        feed(app, tenant.admin.token) as ours,
        feed(app, other_tenant.admin.token) as their_admin,
    ):
        for method, path, body in (
            ("PATCH", f"{URL}/{theirs['id']}", {"name": "Hacked"}),
            ("POST", f"{URL}/{theirs['id']}/tags", {"tag_ids": []}),
        ):
            response = await client.request(method, path, json=body, headers=tenant.headers)
            assert response.status_code == 404, response.text
        assert _contact_events(await ours.drain(broker, tenant.company.id)) == []
        assert _contact_events(await their_admin.drain(broker, other_tenant.company.id)) == []
    unchanged = await client.get(f"{URL}/{theirs['id']}", headers=other_tenant.headers)
    assert unchanged.json()["name"] == "Deles"
